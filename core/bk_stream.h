/* SPDX-License-Identifier: MIT */
/* The stream seam: how core moves bytes, whatever carries them (TLS, a test script).
 *
 *     bk_stream s = {my_send, my_recv, &my_conn};
 *     r = bk_stream_send_all(&s, buf, len, &moved);
 *
 * send and recv return the bytes moved (> 0), 0 for "no progress yet", or a negative bk_result.
 * recv ends with BK_ERR_STREAM_CLOSED when the peer closed in order, as its carrier defines it
 * (TLS: close_notify; plain TCP: FIN), and with BK_ERR_STREAM_UNCLEAN_CLOSE when the carrier's own
 * end signal was missing (TLS: a FIN with no close_notify), which may have cut the data short.
 * Deadlines belong to the stream: one that cannot move a byte in time returns BK_ERR_TIMEOUT. */
#ifndef BK_STREAM_H
#define BK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_result.h"

typedef struct bk_stream {
    int32_t (*send)(void *ctx, const uint8_t *data, size_t len);
    int32_t (*recv)(void *ctx, uint8_t *data, size_t len);
    void *ctx; /* owned by whoever built the stream */
} bk_stream;

/* Optional companion of a stream whose calls may wait (a socket, a modem's UART): how a layer
 * built on it (TLS) passes its own deadline down, so that the waits below end when it must. From
 * the call on, every send and recv of the stream on ctx ends by deadline_ms, a bk_monotonic_ms()
 * instant (0: none; the stream's own per-wait limit still holds), and answers BK_ERR_TIMEOUT when
 * it could move nothing by then, without touching the carrier once deadline_ms has passed. With
 * wait false, deadline_ms does not count: each call checks once without waiting and answers 0
 * when nothing could move (a probe). */
typedef void (*bk_stream_deadline_fn)(void *ctx, uint64_t deadline_ms, bool wait);

/* Sends all len bytes or fails; gives up after BK_STREAM_IDLE_LIMIT calls in a row that move
 * nothing. *moved (may be NULL) counts the bytes the stream took, also on failure: a request of
 * which some bytes left may have reached the peer. */
BK_MUST_CHECK bk_result bk_stream_send_all(const bk_stream *stream, const uint8_t *data, size_t len,
                                           size_t *moved);

#endif
