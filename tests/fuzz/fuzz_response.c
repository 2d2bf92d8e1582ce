/* SPDX-License-Identifier: MIT */
/* libFuzzer: the response reader fed through a scripted stream. The first byte picks how the
 * rest is delivered (piece size, "no progress" returns), as a network would vary it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_http.h"
#include "bk_test_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bk_script script;
    static char io[2048]; /* small, so that the limits are reached too */
    if (size == 0) {
        return 0;
    }
    bk_script_init(&script, data + 1, size - 1);
    script.chunk = data[0] & 0x0f;
    script.zero_every = (data[0] & 0x10) != 0;
    bk_stream stream = bk_script_stream(&script);
    bk_http_response resp;
    bk_result r = bk_http_read_response(&stream, io, sizeof io, &resp);
    if (r == BK_OK && (resp.body_len > sizeof io || resp.body != io)) {
        __builtin_trap();
    }
    return 0;
}
