/* SPDX-License-Identifier: MIT */
/* The Batch data plane's SharedKey scheme: one signed read that proves a key works.
 *
 *     bk_dataplane_request req = {&batch, "myacct", key, BK_BATCH_API_VERSION, now_s, request_id};
 *     r = bk_dataplane_write_request(&req, buf, sizeof buf, &len);
 *
 * The request is GET /applications?api-version=...&maxresults=1 with an ocp-date header and
 * `Authorization: SharedKey account:signature`, the signature being the base64 HMAC-SHA256,
 * under the base64-decoded account key, of the string to sign the Batch service documents
 * ("Authenticate requests to Azure Batch"): the verb, eleven standard header values (all empty
 * for this GET: ocp-date stands in for Date), the ocp- headers, and the canonicalized resource
 * (/account/path, then each query parameter as "\nname:value", names lowercased and sorted). */
#ifndef BK_DATAPLANE_H
#define BK_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_endpoint.h"
#include "bk_result.h"

typedef struct bk_dataplane_request {
    const bk_endpoint *endpoint;   /* the account endpoint (https://{accountEndpoint}) */
    const char *account_name;      /* as in the Authorization header: the account's name */
    const char *key;               /* the shared key to prove, base64 as listKeys gives it */
    const char *api_version;       /* BK_BATCH_API_VERSION unless told otherwise */
    int64_t now_s;                 /* the request's time (Unix seconds), sent as ocp-date */
    const char *client_request_id; /* a UUID, sent as client-request-id */
} bk_dataplane_request;

/* True when text may be a data-plane api-version: YYYY-MM-DD.N.N. */
bool bk_dataplane_api_version_ok(const char *text);

/* The string to sign for req with the given ocp-date value, into buf (NUL-terminated). */
BK_MUST_CHECK bk_result bk_dataplane_string_to_sign(const bk_dataplane_request *req,
                                                    const char *date, char *buf, size_t cap,
                                                    size_t *out_len);

/* Writes the whole signed request into buf; *out_len its length. BK_ERR_BASE64 for a key that
 * is not base64; BK_ERR_ARGUMENT for a clock before 1970. The decoded key is wiped. */
BK_MUST_CHECK bk_result bk_dataplane_write_request(const bk_dataplane_request *req, char *buf,
                                                   size_t cap, size_t *out_len);

#endif
