#include "bk_stream.h"

#include "bk_config.h"

bk_result bk_stream_send_all(const bk_stream *stream, const uint8_t *data, size_t len) {
    if (stream == NULL || stream->send == NULL || (data == NULL && len > 0)) {
        return BK_ERR_ARGUMENT;
    }
    unsigned idle = 0;
    while (len > 0) {
        int32_t n = stream->send(stream->ctx, data, len);
        if (n < 0) {
            return (bk_result)n;
        }
        if (n == 0) {
            if (++idle >= BK_STREAM_IDLE_LIMIT) {
                return BK_ERR_STREAM_STALLED;
            }
            continue;
        }
        if ((size_t)n > len) {
            return BK_ERR_STREAM_SEND;
        }
        idle = 0;
        data += n;
        len -= (size_t)n;
    }
    return BK_OK;
}
