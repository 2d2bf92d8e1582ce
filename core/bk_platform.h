/* SPDX-License-Identifier: MIT */
/* The OS contract. It lives with the core that calls it; each platform (platform/posix/,
 * platform/lwip/, a board's own) implements it and one is linked in. platform/null/ answers
 * BK_ERR_UNSUPPORTED everywhere, so a missing port shows at link time or at the first call,
 * never as silent misbehaviour.
 *
 *     bk_socket s;
 *     r = bk_tcp_connect(&s, "management.azure.com", 443, 10000);
 *     n = bk_tcp_send(&s, data, len, 10000);
 *     bk_tcp_close(&s);
 */
#ifndef BK_PLATFORM_H
#define BK_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_result.h"

typedef struct bk_socket {
    int handle; /* a descriptor on POSIX and lwIP; -1 when closed */
} bk_socket;

/* Resolves host (IPv4 and IPv6) and connects within timeout_ms. */
BK_MUST_CHECK bk_result bk_tcp_connect(bk_socket *sock, const char *host, uint16_t port,
                                       uint32_t timeout_ms);
/* Bytes sent (> 0) or a negative bk_result; BK_ERR_TIMEOUT when nothing moved in time. */
int32_t bk_tcp_send(bk_socket *sock, const uint8_t *data, size_t len, uint32_t timeout_ms);
/* Bytes received (> 0), BK_ERR_STREAM_CLOSED on orderly close, or a negative bk_result.
 * Both: a timeout_ms of 0 checks once without waiting. A polled stack (lwIP's raw API, no OS)
 * may also answer 0 before timeout_ms is up: "nothing yet, I polled the interface"; the caller
 * calls again until its own time is up (core/bk_tcp_stream.c does). */
int32_t bk_tcp_recv(bk_socket *sock, uint8_t *data, size_t len, uint32_t timeout_ms);
void bk_tcp_close(bk_socket *sock);

/* Milliseconds from an arbitrary start; never goes back. */
uint64_t bk_monotonic_ms(void);
/* Seconds since 1970-01-01 UTC, or -1 when the clock is not set. */
int64_t bk_wall_clock_s(void);
/* Fills buf with len bytes from a cryptographically secure source. */
BK_MUST_CHECK bk_result bk_entropy(uint8_t *buf, size_t len);
void bk_sleep_ms(uint32_t ms);

typedef enum bk_log_level { BK_LOG_ERROR, BK_LOG_WARN, BK_LOG_INFO, BK_LOG_DEBUG } bk_log_level;
/* The store: small named records (the rotation state, the published key, later a refresh token
 * or TLS sessions), each saved whole or not at all. A seam rather than a linked-in function,
 * because one device may keep records in more than one place (a directory on Linux, two flash
 * slots per record on a microcontroller: bk_store.h) and tests substitute their own.
 *
 *     r = bk_posix_store_open(&dir_store, "/var/lib/batchkey", &store);  // Linux
 *     r = store.save(store.ctx, "rotation", record, len);
 *     r = store.load(store.ctx, "rotation", buf, sizeof buf, &len);  // BK_ERR_STORE_NOT_FOUND */
typedef struct bk_store {
    /* Replaces the record atomically: once save returns, load finds the new record; if the
     * device stops during save, load finds the old record or the new one, never a mix. On
     * failure (BK_ERR_STORE_IO, BK_ERR_STORE_FULL, BK_ERR_STORE_TOO_LARGE) the old record is
     * left as it was. name: 1-32 of [a-z0-9._-], not starting with '.'. */
    bk_result (*save)(void *ctx, const char *name, const uint8_t *data, size_t len);
    /* The record into buf; BK_ERR_STORE_NOT_FOUND when none was saved, BK_ERR_STORE_TOO_LARGE
     * when it exceeds cap. */
    bk_result (*load)(void *ctx, const char *name, uint8_t *buf, size_t cap, size_t *len);
    void *ctx;
} bk_store;

/* A store whose save and load answer BK_ERR_UNSUPPORTED (platform/null/bk_store_null.c). */
bk_store bk_null_store(void);

/* True when name is a record name every store accepts: 1-32 of [a-z0-9._-], no leading '.'. */
bool bk_store_name_ok(const char *name);

/* Writes one line of diagnostics. Callers never pass secrets. */
void bk_log(bk_log_level level, const char *message);
/* Lines of a level above max_level are dropped; the default is BK_LOG_WARN. */
void bk_log_set_level(bk_log_level max_level);

#endif
