/* SPDX-License-Identifier: MIT */
/* A person's sign-in for onboarding: `batchkey login` runs the device code flow once, and the
 * refresh token it yields is kept in the store; later runs trade it for an access token and keep
 * the new refresh token Entra ID sends with it.
 *
 *     static bk_user_sign_in u;
 *     bk_user_sign_in_init(&u, &client.authority, tenant, client_id, scope, store);
 *     u.prompt = show_message;                  // "To sign in, use a web browser to open..."
 *     client.credential = bk_device_code_credential(&u);    // batchkey login
 *     r = bk_client_token(&client, NULL);                   // polls until approved, saves
 *     ...
 *     r = bk_user_sign_in_load(&u);                         // a later run
 *     client.credential = bk_refresh_token_credential(&u);
 *
 * The record (BK_REFRESH_TOKEN_RECORD) holds the tenant, the client id and the refresh token,
 * with a CRC-32 line last; one of another tenant or client is not used. */
#ifndef BK_DEVICE_CODE_H
#define BK_DEVICE_CODE_H

#include <stdbool.h>
#include <stdint.h>

#include "bk_client.h"
#include "bk_config.h"
#include "bk_json.h"
#include "bk_platform.h"

#define BK_REFRESH_TOKEN_RECORD "refresh-token"

typedef struct bk_user_sign_in {
    const bk_endpoint *authority;
    const char *tenant_id;
    const char *client_id; /* a public client application */
    const char *scope;     /* e.g. "https://management.azure.com/user_impersonation" */
    bk_store store;
    /* Shows the device code flow's message to the person (stderr, a display). */
    void (*prompt)(void *ctx, const char *message);
    void *prompt_ctx;

    /* Internal. */
    bool polling;                 /* the device code was issued: the token endpoint is polled */
    bk_device_code_answer answer; /* the device code answer, while it is read */
    char device_code[BK_DEVICE_CODE_MAX + 1];
    uint32_t interval_s;
    char refresh_token[BK_REFRESH_TOKEN_MAX + 1];
    size_t refresh_token_len;
    uint8_t record[BK_REFRESH_TOKEN_MAX + 512];
} bk_user_sign_in;

void bk_user_sign_in_init(bk_user_sign_in *u, const bk_endpoint *authority, const char *tenant_id,
                          const char *client_id, const char *scope, bk_store store);
/* Reads the saved refresh token: BK_ERR_STORE_NOT_FOUND when there is none (log in first),
 * BK_ERR_STATE_CORRUPT or _FOREIGN (another tenant or client) when it cannot be used. */
BK_MUST_CHECK bk_result bk_user_sign_in_load(bk_user_sign_in *u);
/* Wipes the device code and the refresh token held. */
void bk_user_sign_in_wipe(bk_user_sign_in *u);

/* The device code flow: the first request asks for a code and shows its message; then the
 * token endpoint is polled every interval (5 s more after slow_down) until the person approves
 * (the refresh token is saved), declines or lets the code expire (BK_ERR_AUTH_REFUSED). */
bk_credential bk_device_code_credential(bk_user_sign_in *u);
/* The saved refresh token for an access token; the new refresh token replaces it in the store.
 * invalid_grant (revoked, expired) is BK_ERR_AUTH_REFUSED: log in again. */
bk_credential bk_refresh_token_credential(bk_user_sign_in *u);

#endif
