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

#include <stddef.h>

#include "bk_endpoint.h"
#include "bk_result.h"

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

#endif
