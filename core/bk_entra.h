/* SPDX-License-Identifier: MIT */
/* Microsoft Entra ID v2.0 token requests.
 *
 *     bk_token_request tr = {&authority, tenant, client_id, secret, NULL, NULL,
 *                            BK_ARM_SCOPE, request_id};
 *     r = bk_entra_write_token_request(&tr, buf, sizeof buf, &len);
 *
 * The request holds the client secret: wipe buf (bk_wipe, bk_crypto.h) once it has been sent. */
#ifndef BK_ENTRA_H
#define BK_ENTRA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_client.h"
#include "bk_crypto.h"
#include "bk_endpoint.h"
#include "bk_result.h"
#include "bk_writer.h"

#define BK_ARM_SCOPE "https://management.azure.com/.default"

typedef struct bk_token_request {
    const bk_endpoint *authority; /* login.microsoftonline.com or AZURE_AUTHORITY_HOST */
    const char *tenant_id;        /* a GUID or a domain name */
    const char *client_id;        /* the application (client) ID, a GUID */
    /* Exactly one of the two: a client secret, or a signed JWT client assertion (certificate and
     * workload identity credentials). */
    const char *client_secret;
    const char *client_assertion;
    const char *claims;            /* a CAE claims challenge; NULL or "" for none */
    const char *scope;             /* e.g. BK_ARM_SCOPE */
    const char *client_request_id; /* a UUID, from bk_uuid4() */
} bk_token_request;

BK_MUST_CHECK bk_result bk_validate_tenant_id(const char *value);

/* POST /{tenant}/oauth2/v2.0/token, form-urlencoded client_credentials grant. */
BK_MUST_CHECK bk_result bk_entra_write_token_request(const bk_token_request *req, char *buf,
                                                     size_t cap, size_t *out_len);

/* POST /{tenant}/oauth2/v2.0/{endpoint} ("token", "devicecode") with the form write_body writes
 * (called twice: once to count, once to write). The request may hold a secret: wipe buf once
 * sent. */
BK_MUST_CHECK bk_result bk_entra_write_form_post(const bk_endpoint *authority,
                                                 const char *tenant_id, const char *endpoint,
                                                 const char *client_request_id,
                                                 void (*write_body)(bk_writer *w, const void *ctx),
                                                 const void *ctx, char *buf, size_t cap,
                                                 size_t *out_len);

/* A Microsoft Entra ID application as a credential (bk_client.h): with a client secret, or with
 * a client assertion made afresh for every token request (a certificate's, bk_certificate
 * below, or a workload identity's federated token).
 *
 *     bk_entra_app app = {.authority = &client.authority, .tenant_id = tenant,
 *                         .client_id = client_id, .client_secret = secret};
 *     client.credential = bk_entra_credential(&app);
 */
typedef struct bk_entra_app {
    const bk_endpoint *authority;
    const char *tenant_id;
    const char *client_id;
    const char *client_secret; /* the caller's, wiped by the caller; NULL with an assertion */
    /* Writes a fresh client assertion for the token endpoint at audience into buf. */
    bk_result (*assertion)(void *ctx, const char *audience, int64_t now_s, char *buf, size_t cap,
                           size_t *len);
    void *assertion_ctx;
    char *assertion_buf; /* the caller's, wiped after each request */
    size_t assertion_cap;
    const char *name; /* "client secret" unless set: "certificate", "workload identity" */
    /* Internal: the claims the token request carries (cp1, and a CAE challenge's). */
    char claims[BK_WWW_AUTHENTICATE_MAX + 64];
} bk_entra_app;

/* The claims parameter of a token request: the client capability "cp1" (batchkey answers CAE
 * challenges), merged into a challenge's own claims when there is one (NULL or ""). A challenge
 * with no access_token object, or one that names xms_cc already, is passed as it is.
 * BK_ERR_REQUEST_OVERFLOW when out is too small. */
BK_MUST_CHECK bk_result bk_entra_claims(const char *challenge, char *out, size_t cap);

bk_credential bk_entra_credential(bk_entra_app *app);

/* A certificate credential's assertion maker (bk_entra_app.assertion, ctx a bk_certificate):
 * a JWT signed with the certificate's key (bk_jwt.h), its chain in x5c when send_chain. */
typedef struct bk_certificate {
    bk_signer signer;
    bk_sign_alg alg; /* PS256 (RSA) by default, RS256 on request, ES256 for EC keys */
    const char *client_id;
    const uint8_t *const *chain_der; /* leaf first */
    const size_t *chain_len;
    size_t chain_count;
    bool send_chain;
} bk_certificate;

BK_MUST_CHECK bk_result bk_certificate_assertion(void *ctx, const char *audience, int64_t now_s,
                                                 char *buf, size_t cap, size_t *len);

#endif
