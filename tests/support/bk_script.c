/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "bk_test_support.h"

void bk_script_init(bk_script *s, const void *data, size_t len) {
    memset(s, 0, sizeof *s);
    s->data = data;
    s->len = len;
    s->end_result = BK_ERR_STREAM_CLOSED;
}

static int32_t script_send(void *ctx, const uint8_t *data, size_t len) {
    bk_script *s = ctx;
    if (s->send_result != 0 && s->sent_len >= s->send_fail_after) {
        return s->send_result;
    }
    if (s->send_result != 0 && len > s->send_fail_after - s->sent_len) {
        len = s->send_fail_after - s->sent_len;
    }
    if (s->send_chunk != 0 && len > s->send_chunk) {
        len = s->send_chunk;
    }
    if (len > sizeof s->sent - s->sent_len) {
        len = sizeof s->sent - s->sent_len;
    }
    memcpy(s->sent + s->sent_len, data, len);
    s->sent_len += len;
    return (int32_t)len;
}

static int32_t script_recv(void *ctx, uint8_t *data, size_t len) {
    bk_script *s = ctx;
    s->recv_calls++;
    if (s->zero_every && !s->zero_pending) {
        s->zero_pending = 1;
        return 0;
    }
    s->zero_pending = 0;
    if (s->fail_result && s->pos >= s->fail_after) {
        return s->fail_result;
    }
    if (s->pos >= s->len) {
        return s->end_result;
    }
    size_t n = s->len - s->pos;
    while (s->split_next < s->split_count && s->splits[s->split_next] <= s->pos) {
        s->split_next++;
    }
    if (s->split_next < s->split_count && s->splits[s->split_next] - s->pos < n) {
        n = s->splits[s->split_next] - s->pos;
    }
    if (s->chunk && n > s->chunk) {
        n = s->chunk;
    }
    if (s->fail_result && s->pos + n > s->fail_after) {
        n = s->fail_after - s->pos;
    }
    if (n > len) {
        n = len;
    }
    memcpy(data, s->data + s->pos, n);
    s->pos += n;
    return (int32_t)n;
}

bk_stream bk_script_stream(bk_script *s) {
    bk_stream st = {script_send, script_recv, s};
    return st;
}
