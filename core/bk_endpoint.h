/* SPDX-License-Identifier: MIT */
/* Endpoints, GUIDs and UUIDs.
 *
 *     bk_endpoint arm;
 *     r = bk_endpoint_parse(&arm, "https://management.azure.com");
 *     char id[37];
 *     r = bk_uuid4(id);
 */
#ifndef BK_ENDPOINT_H
#define BK_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "bk_config.h"
#include "bk_result.h"

/* An origin: https (port 443 unless given), or plain http (port 80) for the local managed
 * identity endpoints alone, where no token or secret is sent. */
typedef struct bk_endpoint {
    char host[BK_HOST_MAX + 1];
    uint16_t port;
    bool plain_http; /* only ever set by bk_url_parse with allow_http */
} bk_endpoint;

/* The longest path of an endpoint URL (IDENTITY_ENDPOINT's /msi/token and the like). */
#define BK_URL_PATH_MAX 128

/* Accepts "https://host[:port]" with an optional trailing "/". The host is a DNS name, an IPv4
 * literal or a bracketed IPv6 literal (kept with its brackets, as the Host header wants it). */
BK_MUST_CHECK bk_result bk_endpoint_parse(bk_endpoint *out, const char *url);
/* A full URL, scheme://host[:port][/path] with no query or fragment: https, or http too when
 * allow_http (then port 80 unless given). path gets the path ("/" when none), of RFC 3986's
 * path characters; a longer one than path_cap is BK_ERR_INVALID_URL. */
BK_MUST_CHECK bk_result bk_url_parse(bk_endpoint *out, char *path, size_t path_cap, const char *url,
                                     bool allow_http);
/* True when ep holds what bk_endpoint_parse could produce; request writers check it. */
bool bk_endpoint_ok(const bk_endpoint *ep);

/* A fresh UUID v4 (lowercase, 36 characters and a NUL) from the platform's entropy. */
BK_MUST_CHECK bk_result bk_uuid4(char out[37]);
/* The same, from 16 given random bytes (tests and deterministic callers). */
void bk_uuid4_from_bytes(const uint8_t random[16], char out[37]);
/* True when text is a GUID: 8-4-4-4-12 hex digits of any case, then the NUL. */
bool bk_guid_ok(const char *text);

#endif
