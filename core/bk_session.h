/* SPDX-License-Identifier: MIT */
/* A TLS session kept for resumption, bound to the host name and port it was verified for, and
 * its record in the store (DESIGN: the store keeps TLS sessions; core writes and checks them).
 *
 *     static bk_tls_session arm;                 // the TLS port fills it after a handshake
 *     r = bk_tls_session_encode(&arm, buf, sizeof buf, &len);
 *     r = store.save(store.ctx, "tls-arm", buf, len);
 *     ...next run...
 *     r = bk_tls_session_decode(&arm, buf, len); // BK_ERR_STATE_CORRUPT for a damaged record
 *     if (bk_tls_session_usable(&arm, "management.azure.com", 443, bk_wall_clock_s())) ...
 *
 * data is the TLS library's own serialisation (mbedtls_ssl_session_save): the session's secrets
 * are in it, so records are written like keys (0600) and buffers wiped after use. The record:
 * "BKT1", then big-endian: host length (1 byte), the host, port (2), expiry (8, seconds of the
 * wall clock), data length (2), the data, and a CRC-32 of everything before it. */
#ifndef BK_SESSION_H
#define BK_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_config.h"
#include "bk_result.h"

/* A serialised session: mbedTLS keeps the server's certificate in it (2.28's and Debian's 3.6
 * configuration, MBEDTLS_SSL_KEEP_PEER_CERTIFICATE), about 1 to 3 KiB for Azure's. */
#ifndef BK_TLS_SESSION_MAX
#define BK_TLS_SESSION_MAX 4096
#endif
/* A session whose server named no lifetime (a TLS 1.2 session id) is offered this long. */
#ifndef BK_TLS_SESSION_LIFETIME_S
#define BK_TLS_SESSION_LIFETIME_S 3600
#endif
/* Never longer than TLS 1.3's limit on a ticket's lifetime (RFC 8446: 7 days). */
#define BK_TLS_SESSION_LIFETIME_MAX_S 604800

#define BK_TLS_SESSION_RECORD_MAX (4 + 1 + BK_HOST_MAX + 2 + 8 + 2 + BK_TLS_SESSION_MAX + 4)

typedef struct bk_tls_session {
    char host[BK_HOST_MAX + 1]; /* as the certificate was verified for it (no brackets) */
    uint16_t port;
    int64_t expires_s; /* wall clock: from then on it is not offered */
    size_t len;        /* bytes of data; 0: no session */
    bool fresh;        /* a new session since the last encode or decode: worth saving */
    uint8_t data[BK_TLS_SESSION_MAX];
} bk_tls_session;

/* True when s holds a session for host:port (host compared as TLS verified it, ignoring ASCII
 * case) that has not expired at now_s. */
bool bk_tls_session_usable(const bk_tls_session *s, const char *host, uint16_t port, int64_t now_s);
/* The expiry of a session made at now_s whose server gave lifetime_s (0: none given). */
int64_t bk_tls_session_expiry(int64_t now_s, uint32_t lifetime_s);

/* The record of s into buf: BK_ERR_STORE_TOO_LARGE when it does not fit, BK_ERR_ARGUMENT when s
 * holds no session. Clears s->fresh. */
BK_MUST_CHECK bk_result bk_tls_session_encode(bk_tls_session *s, uint8_t *buf, size_t cap,
                                              size_t *len);
/* Reads a record into s: BK_ERR_STATE_CORRUPT (bad magic, length, host or CRC),
 * BK_ERR_STATE_VERSION (another format), BK_ERR_STORE_TOO_LARGE (more data than
 * BK_TLS_SESSION_MAX). On failure s holds no session. */
BK_MUST_CHECK bk_result bk_tls_session_decode(bk_tls_session *s, const uint8_t *buf, size_t len);
/* Zeroes s, its secrets included. */
void bk_tls_session_wipe(bk_tls_session *s);

#endif
