/* SPDX-License-Identifier: MIT */
/* Test support: a scripted stream and a deterministic platform for unit tests. */
#ifndef BK_TEST_SUPPORT_H
#define BK_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "bk_stream.h"

/* A scripted stream: recv hands out `data` in pieces of at most `chunk` bytes (0: all at once),
 * returning 0 ("no progress") before every piece when `zero_every` is set, and after the script
 * ends returns `end_result` (BK_ERR_STREAM_CLOSED by default). When `fail_result` is set, recv
 * returns it once `fail_after` bytes have been handed out. send appends to `sent`, in pieces of
 * at most `send_chunk` bytes, and fails with `send_result` once `send_fail_after` bytes are in. */
typedef struct bk_script {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t chunk;
    /* Split points: when split_count > 0, pieces end at these offsets (ascending), then the rest.
     */
    const size_t *splits;
    size_t split_count;
    size_t split_next;
    int zero_every;
    int zero_pending;
    size_t fail_after;
    int32_t fail_result;
    int32_t end_result;
    uint8_t sent[65536];
    size_t sent_len;
    int32_t send_result;    /* when non-zero, send returns this instead of accepting bytes */
    size_t send_fail_after; /* ... once this many bytes have been accepted (0: from the start) */
    size_t send_chunk;      /* when non-zero, send accepts at most this many bytes a call */
    unsigned recv_calls;
} bk_script;

/* Prepares s to replay len bytes of data, all at once, ending with BK_ERR_STREAM_CLOSED. */
void bk_script_init(bk_script *s, const void *data, size_t len);
bk_stream bk_script_stream(bk_script *s);

/* The test platform: bk_entropy returns bytes 0x00, 0x01, 0x02, ... continuing across calls
 * until bk_test_entropy_reset(); bk_entropy fails with BK_ERR_ENTROPY after
 * bk_test_entropy_fail(1). The clocks read bk_test_now_ms / bk_test_wall_s; bk_sleep_ms advances
 * bk_test_now_ms and adds to bk_test_slept_ms. */
void bk_test_entropy_reset(void);
void bk_test_entropy_fail(int fail);
extern uint64_t bk_test_now_ms;
extern int64_t bk_test_wall_s;
extern uint64_t bk_test_slept_ms;

/* Reads a whole file into a static buffer (NUL-terminated); returns NULL on failure. */
const char *bk_test_read_file(const char *path, size_t *len);

#endif
