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

/* An https origin: scheme is always https; port 443 unless given. */
typedef struct bk_endpoint {
    char host[BK_HOST_MAX + 1];
    uint16_t port;
} bk_endpoint;

/* Accepts "https://host[:port]" with an optional trailing "/". The host is a DNS name, an IPv4
 * literal or a bracketed IPv6 literal (kept with its brackets, as the Host header wants it). */
BK_MUST_CHECK bk_result bk_endpoint_parse(bk_endpoint *out, const char *url);
/* True when ep holds what bk_endpoint_parse could produce; request writers check it. */
bool bk_endpoint_ok(const bk_endpoint *ep);

/* A fresh UUID v4 (lowercase, 36 characters and a NUL) from the platform's entropy. */
BK_MUST_CHECK bk_result bk_uuid4(char out[37]);
/* The same, from 16 given random bytes (tests and deterministic callers). */
void bk_uuid4_from_bytes(const uint8_t random[16], char out[37]);
/* True when text is a GUID: 8-4-4-4-12 hex digits of any case, then the NUL. */
bool bk_guid_ok(const char *text);

#endif
