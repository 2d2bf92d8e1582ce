/* SPDX-License-Identifier: MIT */
/* libFuzzer: every JSON model on the same input: BatchAccountKeys, BatchAccount, CloudError (old
 * layout and ErrorResponse), the Batch data plane's error, the Entra token and error answers,
 * the managed identity endpoints' token and error answers (App Service, Arc, IMDS), the device
 * code answer and a refresh token. Each must succeed or fail cleanly; a failure of a needed-field
 * model must leave its output zeroed, and what a success gives must hold the model's promises
 * (NUL-terminated text, counts within their arrays, lifetimes within their bound). Each model is
 * read once with the full token array and once with a small one, as a body with more tokens than
 * the caller's array is read. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_json.h"
#include "bk_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void all_zero(const void *p, size_t len) {
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        check(b[i] == 0);
    }
}

/* A text field ends within its array. */
#define TERMINATED(field) check(memchr((field), '\0', sizeof(field)) != NULL)

static bk_json_token tokens[BK_JSON_TOKENS_MAX];
static bk_account_keys keys;
static bk_batch_account account;
static bk_cloud_error cloud_error;
static bk_token token;
static bk_entra_error entra_error;
static bk_device_code_answer device_code;
static char refresh[BK_TOKEN_MAX + 1];

static void cloud_error_sane(void) {
    TERMINATED(cloud_error.code);
    TERMINATED(cloud_error.message);
    TERMINATED(cloud_error.target);
    check(cloud_error.detail_count <= BK_ERROR_DETAILS_MAX);
    check(cloud_error.detail_count <= cloud_error.detail_total);
    check(cloud_error.additional_info_count <= BK_ERROR_DETAILS_MAX);
    check(cloud_error.additional_info_count <= cloud_error.additional_info_total);
    for (size_t i = 0; i < cloud_error.detail_count; i++) {
        check(cloud_error.details[i].depth >= 1);
        TERMINATED(cloud_error.details[i].code);
        TERMINATED(cloud_error.details[i].message);
        TERMINATED(cloud_error.details[i].target);
    }
}

static void entra_error_sane(void) {
    TERMINATED(entra_error.error);
    TERMINATED(entra_error.error_description);
    TERMINATED(entra_error.trace_id);
    TERMINATED(entra_error.correlation_id);
    check(entra_error.error_code_count <= 8);
    check(entra_error.error_code_count <= entra_error.error_code_total);
}

static void token_sane(void) {
    check(token.access_token_len > 0 && token.access_token_len <= BK_TOKEN_MAX);
    check(token.access_token[token.access_token_len] == '\0');
    TERMINATED(token.token_type);
    check(token.expires_in_s <= BK_TOKEN_LIFETIME_MAX_S);
}

static void run_models(const char *text, size_t size, size_t max) {
    if (bk_parse_account_keys(text, size, tokens, max, &keys) == BK_OK) {
        TERMINATED(keys.account_name);
        TERMINATED(keys.primary);
        TERMINATED(keys.secondary);
    } else {
        all_zero(&keys, sizeof keys);
    }
    if (bk_parse_batch_account(text, size, tokens, max, &account) == BK_OK) {
        TERMINATED(account.name);
        TERMINATED(account.location);
        TERMINATED(account.account_endpoint);
        TERMINATED(account.provisioning_state);
        check((account.auth_modes & ~0xfu) == 0);
    } else {
        all_zero(&account, sizeof account);
    }
    if (bk_parse_cloud_error(text, size, tokens, max, &cloud_error) == BK_OK) {
        cloud_error_sane();
    }
    if (bk_parse_batch_error(text, size, tokens, max, &cloud_error) == BK_OK) {
        cloud_error_sane();
    }
    if (bk_parse_token(text, size, tokens, max, &token) == BK_OK) {
        token_sane();
    } else {
        all_zero(&token, sizeof token);
    }
    /* now_s before, at and long after an App Service expires_on. */
    static const int64_t nows[3] = {0, 1700000000, INT64_MAX / 2};
    for (size_t i = 0; i < 3; i++) {
        if (bk_parse_mi_token(text, size, tokens, max, nows[i], &token) == BK_OK) {
            token_sane();
        }
    }
    if (bk_parse_mi_error(text, size, tokens, max, &entra_error) == BK_OK) {
        entra_error_sane();
    }
    if (bk_parse_entra_error(text, size, tokens, max, &entra_error) == BK_OK) {
        entra_error_sane();
    }
    if (bk_parse_device_code(text, size, tokens, max, &device_code) == BK_OK) {
        TERMINATED(device_code.device_code);
        TERMINATED(device_code.message);
        check(device_code.device_code[0] != '\0');
    }
    size_t refresh_len = 0;
    if (bk_parse_refresh_token(text, size, tokens, max, refresh, sizeof refresh, &refresh_len) ==
        BK_OK) {
        check(refresh_len < sizeof refresh && refresh[refresh_len] == '\0');
    }
    /* A buffer too small for most refresh tokens: an error, never a cut one. */
    char small[16];
    if (bk_parse_refresh_token(text, size, tokens, max, small, sizeof small, &refresh_len) ==
        BK_OK) {
        check(refresh_len < sizeof small && small[refresh_len] == '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    run_models(text, size, BK_JSON_TOKENS_MAX);
    run_models(text, size, 12);
    return 0;
}
