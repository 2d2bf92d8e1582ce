/* SPDX-License-Identifier: MIT */
#include "bk_tcp_stream.h"

static uint32_t bk_tcp_stream_clamp_ms(uint64_t ms) {
    return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

void bk_tcp_stream_init(bk_tcp_stream *ts) {
    if (ts != NULL) {
        ts->socket.handle = -1;
        ts->timeout_ms = 0;
        ts->deadline_ms = 0;
        ts->wait = true;
    }
}

bk_result bk_tcp_stream_connect(bk_tcp_stream *ts, const char *host, uint16_t port,
                                uint32_t timeout_ms, uint64_t deadline_ms) {
    if (ts == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_tcp_stream_init(ts);
    ts->timeout_ms = timeout_ms;
    ts->deadline_ms = deadline_ms;
    uint32_t budget = timeout_ms;
    if (deadline_ms != 0) {
        uint64_t now = bk_monotonic_ms();
        if (now >= deadline_ms) {
            return BK_ERR_TIMEOUT; /* not even a lookup: it could not finish in time */
        }
        if (deadline_ms - now < budget) {
            budget = (uint32_t)(deadline_ms - now);
        }
    }
    bk_result r = bk_tcp_connect(&ts->socket, host, port, budget);
    if (r != BK_OK) {
        ts->socket.handle = -1;
    }
    return r;
}

/* One send (data) or recv (buf) with the stream's limits; see the header. */
static int32_t bk_tcp_stream_io(bk_tcp_stream *ts, const uint8_t *data, uint8_t *buf, size_t len) {
    if (ts == NULL) {
        return BK_ERR_ARGUMENT;
    }
    if (len == 0) {
        return 0;
    }
    uint64_t now = bk_monotonic_ms();
    uint64_t end = now + ts->timeout_ms;
    if (ts->wait && ts->deadline_ms != 0) {
        if (now >= ts->deadline_ms) {
            return BK_ERR_TIMEOUT;
        }
        if (ts->deadline_ms < end) {
            end = ts->deadline_ms;
        }
    }
    for (;;) {
        uint32_t wait_ms = ts->wait && end > now ? bk_tcp_stream_clamp_ms(end - now) : 0;
        int32_t n = data != NULL ? bk_tcp_send(&ts->socket, data, len, wait_ms)
                                 : bk_tcp_recv(&ts->socket, buf, len, wait_ms);
        if (n > 0 && (size_t)n > len) {
            return data != NULL ? BK_ERR_STREAM_SEND : BK_ERR_STREAM_RECV;
        }
        if (!ts->wait) {
            return n == BK_ERR_TIMEOUT ? 0 : n;
        }
        if (n != 0) {
            return n;
        }
        /* A polled stack's "nothing yet": ask again while the wait lasts. */
        now = bk_monotonic_ms();
        if (now >= end) {
            return BK_ERR_TIMEOUT;
        }
    }
}

static int32_t bk_tcp_stream_send(void *ctx, const uint8_t *data, size_t len) {
    if (data == NULL) {
        return len > 0 ? BK_ERR_ARGUMENT : 0;
    }
    return bk_tcp_stream_io(ctx, data, NULL, len);
}

static int32_t bk_tcp_stream_recv(void *ctx, uint8_t *data, size_t len) {
    if (data == NULL) {
        return len > 0 ? BK_ERR_ARGUMENT : 0;
    }
    return bk_tcp_stream_io(ctx, NULL, data, len);
}

bk_stream bk_tcp_stream_of(bk_tcp_stream *ts) {
    bk_stream s;
    s.send = bk_tcp_stream_send;
    s.recv = bk_tcp_stream_recv;
    s.ctx = ts;
    return s;
}

void bk_tcp_stream_set_timeout(bk_tcp_stream *ts, uint32_t timeout_ms) {
    if (ts != NULL) {
        ts->timeout_ms = timeout_ms;
    }
}

void bk_tcp_stream_set_deadline(void *ctx, uint64_t deadline_ms, bool wait) {
    bk_tcp_stream *ts = ctx;
    if (ts != NULL) {
        ts->deadline_ms = deadline_ms;
        ts->wait = wait;
    }
}

void bk_tcp_stream_close(bk_tcp_stream *ts) {
    if (ts != NULL) {
        bk_tcp_close(&ts->socket); /* leaves handle at -1 */
        ts->socket.handle = -1;
    }
}
