/* SPDX-License-Identifier: MIT */
/* The null platform: every function of bk_platform.h, none of them working.
 *
 * Why it exists (the idea of the Azure SDK for C's az_noplatform.c):
 *  - A new board can link the library before its port is written: a board that links no platform
 *    at all fails at link time, naming each missing function; this file is the deliberate,
 *    visible alternative. Each call then answers BK_ERR_UNSUPPORTED (or a neutral value), so the
 *    gap shows at the first call instead of as silent misbehaviour.
 *  - Tests may link it and replace just the functions they need (-Wl,--wrap=bk_tcp_send, ...).
 *
 * It must never pretend: no fake entropy, no fake clock. Its TCP half is bk_tcp_null.c, so that a
 * board with real clocks but no network yet (and the unit tests, which script their streams) can
 * link just that. */
#include "bk_platform.h"

/* Neutral: a clock that never moves; deadlines computed from it are the caller's concern. */
uint64_t bk_monotonic_ms(void) {
    return 0;
}

/* "Not set", so nothing trusts a time this platform does not have. */
int64_t bk_wall_clock_s(void) {
    return -1;
}

bk_result bk_entropy(uint8_t *buf, size_t len) {
    (void)buf;
    (void)len;
    return BK_ERR_UNSUPPORTED;
}

void bk_sleep_ms(uint32_t ms) {
    (void)ms;
}

void bk_log(bk_log_level level, const char *message) {
    (void)level;
    (void)message;
}

void bk_log_set_level(bk_log_level max_level) {
    (void)max_level;
}
