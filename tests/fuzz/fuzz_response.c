/* SPDX-License-Identifier: MIT */
/* libFuzzer: the response reader fed through a scripted stream, with a differential oracle. The
 * same bytes are read twice, once handed over whole and once in the pieces the input chooses;
 * both reads must give the same result, status, headers and body (STYLE: every split gives the
 * same result). Input: byte 0 = flags (low 4 bits: how many split sizes follow, 0x10: a "no
 * progress" return before every piece of the split read, 0x20: the stream ends uncleanly,
 * 0x40: a 512-byte buffer instead of 2048), then that many bytes of piece sizes (used in turn,
 * 0 as 1), then the response. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_http.h"
#include "bk_test_support.h"
#include "bk_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 65536

typedef struct reading {
    bk_result result;
    size_t consumed; /* bytes the reader took from the stream */
    bk_http_response resp;
    char io[2048]; /* small, so that the limits are reached too */
} reading;

static bk_script script;
static size_t splits[MAX_INPUT];
static reading whole;
static reading split;

static void read_once(reading *rd, const uint8_t *text, size_t len, size_t cap, bool unclean,
                      const size_t *points, size_t count, bool zero_every) {
    bk_script_init(&script, text, len);
    script.splits = points;
    script.split_count = count;
    script.zero_every = zero_every;
    if (unclean) {
        script.end_result = BK_ERR_STREAM_UNCLEAN_CLOSE;
    }
    bk_stream stream = bk_script_stream(&script);
    memset(&rd->resp, 0, sizeof rd->resp);
    rd->result = bk_http_read_response(&stream, rd->io, cap, &rd->resp);
    rd->consumed = script.pos;
    if (rd->result == BK_OK) {
        /* The body lies in the caller's buffer, and the reader never read past the response. */
        check(rd->resp.body != NULL || rd->resp.body_len == 0);
        check(rd->resp.body_len <= cap);
        check(rd->resp.body_len == 0 ||
              (rd->resp.body >= rd->io && rd->resp.body + rd->resp.body_len <= rd->io + cap));
        check(rd->resp.status >= 100 && rd->resp.status <= 999);
    }
    check(rd->resp.request_id[BK_HTTP_ID_MAX] == '\0');
    check(rd->resp.correlation_id[BK_HTTP_ID_MAX] == '\0');
    check(rd->resp.www_authenticate[BK_WWW_AUTHENTICATE_MAX] == '\0');
}

static void same(const reading *a, const reading *b) {
    if (a->result != b->result || a->resp.status != b->resp.status ||
        a->resp.keep_alive != b->resp.keep_alive) {
        fprintf(stderr, "whole: result %d status %d keep-alive %d; split: %d %d %d\n",
                (int)a->result, a->resp.status, (int)a->resp.keep_alive, (int)b->result,
                b->resp.status, (int)b->resp.keep_alive);
    }
    check(a->result == b->result);
    check(a->resp.status == b->resp.status);
    /* Bytes after the response's end are seen only when they come with its last piece: then
     * the connection must not be reused. When they come later, the connector's probe before
     * reuse finds them (bk_tls_is_reusable): keep_alive may differ between the two reads only
     * there, and the read that took bytes past the end must say false. */
    if (a->consumed == b->consumed) {
        check(a->resp.keep_alive == b->resp.keep_alive);
    } else if (a->result == BK_OK) {
        check(!(a->consumed > b->consumed ? a : b)->resp.keep_alive);
    }
    check(strcmp(a->resp.request_id, b->resp.request_id) == 0);
    check(strcmp(a->resp.correlation_id, b->resp.correlation_id) == 0);
    check(strcmp(a->resp.www_authenticate, b->resp.www_authenticate) == 0);
    check(a->resp.www_authenticate_cut == b->resp.www_authenticate_cut);
    check(a->resp.date_s == b->resp.date_s);
    check(a->resp.retry_after_s == b->resp.retry_after_s);
    check(a->resp.retry_after_date_s == b->resp.retry_after_date_s);
    check(a->resp.retry_after_ms == b->resp.retry_after_ms);
    check(a->resp.x_ms_retry_after_ms == b->resp.x_ms_retry_after_ms);
    check(a->resp.ratelimit_remaining_writes == b->resp.ratelimit_remaining_writes);
    if (a->result == BK_OK) {
        check(a->resp.body_len == b->resp.body_len);
        check(a->resp.body_len == 0 || memcmp(a->resp.body, b->resp.body, a->resp.body_len) == 0);
        check(bk_http_retry_after_ms(&a->resp, 1700000000) ==
              bk_http_retry_after_ms(&b->resp, 1700000000));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > MAX_INPUT) {
        return 0;
    }
    uint8_t flags = data[0];
    size_t sizes = flags & 0x0fu;
    if (size < 1 + sizes) {
        return 0;
    }
    const uint8_t *piece = data + 1;
    const uint8_t *text = data + 1 + sizes;
    size_t len = size - 1 - sizes;
    bool zero_every = (flags & 0x10u) != 0;
    bool unclean = (flags & 0x20u) != 0;
    size_t cap = (flags & 0x40u) != 0 ? 512 : sizeof whole.io;

    /* Split points: the piece sizes in turn (one byte a piece when none are given). */
    size_t count = 0;
    size_t at = 0;
    for (size_t i = 0; at < len && count < MAX_INPUT; i++) {
        size_t step = sizes == 0 ? 1 : piece[i % sizes];
        at += step == 0 ? 1 : step;
        splits[count++] = at < len ? at : len;
    }

    read_once(&whole, text, len, cap, unclean, NULL, 0, false);
    read_once(&split, text, len, cap, unclean, splits, count, zero_every);
    same(&whole, &split);
    return 0;
}
