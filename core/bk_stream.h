/* The stream seam: how core moves bytes, whatever carries them (TLS, a test script).
 *
 *     bk_stream s = {my_send, my_recv, &my_conn};
 *     r = bk_stream_send_all(&s, buf, len);
 *
 * send and recv return the bytes moved (> 0), 0 for "no progress yet", or a negative bk_result;
 * recv returns BK_ERR_STREAM_CLOSED when the peer has closed the connection in order. Deadlines
 * belong to the stream: one that cannot move a byte in time returns BK_ERR_TIMEOUT. */
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
 * nothing. */
BK_MUST_CHECK bk_result bk_stream_send_all(const bk_stream *stream, const uint8_t *data,
                                           size_t len);

#endif
