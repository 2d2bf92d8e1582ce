/* SPDX-License-Identifier: MIT */
/* A deterministic platform for unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_platform.h"
#include "bk_test_support.h"

uint64_t bk_test_now_ms = 1000;
int64_t bk_test_wall_s = 1700000000;
uint64_t bk_test_slept_ms;

static uint8_t entropy_next;
static int entropy_fails;

void bk_test_entropy_reset(void) {
    entropy_next = 0;
}

void bk_test_entropy_fail(int fail) {
    entropy_fails = fail;
}

bk_result bk_entropy(uint8_t *buf, size_t len) {
    if (entropy_fails) {
        return BK_ERR_ENTROPY;
    }
    for (size_t i = 0; i < len; i++) {
        buf[i] = entropy_next++;
    }
    return BK_OK;
}

uint64_t bk_monotonic_ms(void) {
    return bk_test_now_ms;
}

int64_t bk_wall_clock_s(void) {
    return bk_test_wall_s;
}

void bk_sleep_ms(uint32_t ms) {
    bk_test_now_ms += ms;
    bk_test_slept_ms += ms;
}

void bk_log(bk_log_level level, const char *message) {
    (void)level;
    (void)message;
}

const char *bk_test_read_file(const char *path, size_t *len) {
    static char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int too_big = !feof(f);
    fclose(f);
    if (too_big) {
        return NULL;
    }
    buf[n] = '\0';
    if (len) {
        *len = n;
    }
    return buf;
}

void bk_log_set_level(bk_log_level max_level) {
    (void)max_level;
}
