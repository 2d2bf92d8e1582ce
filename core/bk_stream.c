/* SPDX-License-Identifier: MIT */
#include "bk_stream.h"

#include "bk_config.h"

bk_result bk_stream_send_all(const bk_stream *stream, const uint8_t *data, size_t len,
                             size_t *moved) {
    size_t done = 0;
    if (moved != NULL) {
        *moved = 0;
    }
    if (stream == NULL || stream->send == NULL || (data == NULL && len > 0)) {
        return BK_ERR_ARGUMENT;
    }
    unsigned idle = 0;
    bk_result r = BK_OK;
    while (done < len) {
        int32_t n = stream->send(stream->ctx, data + done, len - done);
        if (n < 0) {
            r = (bk_result)n;
            break;
        }
        if (n == 0) {
            if (++idle >= BK_STREAM_IDLE_LIMIT) {
                r = BK_ERR_STREAM_STALLED;
                break;
            }
            continue;
        }
        if ((size_t)n > len - done) {
            r = BK_ERR_STREAM_SEND;
            break;
        }
        idle = 0;
        done += (size_t)n;
    }
    if (moved != NULL) {
        *moved = done;
    }
    return r;
}
