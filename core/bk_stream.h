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

#include <stddef.h>
#include <stdint.h>

#include "bk_result.h"

typedef struct bk_stream {
    int32_t (*send)(void *ctx, const uint8_t *data, size_t len);
    int32_t (*recv)(void *ctx, uint8_t *data, size_t len);
    void *ctx; /* owned by whoever built the stream */
} bk_stream;

/* Sends all len bytes or fails; gives up after BK_STREAM_IDLE_LIMIT calls in a row that move
 * nothing. *moved (may be NULL) counts the bytes the stream took, also on failure: a request of
 * which some bytes left may have reached the peer. */
BK_MUST_CHECK bk_result bk_stream_send_all(const bk_stream *stream, const uint8_t *data, size_t len,
                                           size_t *moved);

#endif
