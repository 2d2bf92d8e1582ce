/* SPDX-License-Identifier: MIT */
/* The mps2-an386 board's part of the OS contract (core/bk_platform.h), all but TCP: SysTick is
 * the 1 ms monotonic clock; the wall clock, the entropy and the log come from the host through
 * semihosting. That is for tests under QEMU only: a product needs a TRNG and a trusted time
 * source, and says so at start (bk_board_start). */
#include <string.h>

#include "bk_board.h"
#include "bk_platform.h"
#include "bk_semihost.h"

#define SYST_CSR           (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR           (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR           (*(volatile uint32_t *)0xe000e018u)
#define SYST_CSR_ENABLE    0x1u
#define SYST_CSR_TICKINT   0x2u
#define SYST_CSR_CLKSOURCE 0x4u /* the CPU clock, not the 1 MHz reference */

#ifndef BK_BOARD_LOG_LINE_MAX
#define BK_BOARD_LOG_LINE_MAX 256
#endif

static volatile uint64_t ticks_ms;
static int clock_started;
static bk_board_idle_fn idle_fn;
static void *idle_ctx;
static bk_log_level log_max_level = BK_LOG_WARN;

void bk_board_systick_isr(void) {
    ticks_ms++;
}

static void start_clock(void) {
    SYST_RVR = BK_BOARD_CPU_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    clock_started = 1;
}

void bk_board_start(void) {
    bk_semihost_write_str(BK_SEMIHOST_STDERR,
                          "bk_board: TEST USE ONLY: clock and entropy come from the host through "
                          "semihosting; a real board needs a TRNG and trusted time\n");
    if (!clock_started) {
        start_clock();
    }
}

void bk_board_set_idle(bk_board_idle_fn idle, void *ctx) {
    idle_fn = idle;
    idle_ctx = ctx;
}

uint64_t bk_monotonic_ms(void) {
    if (!clock_started) {
        start_clock();
    }
    /* 64 bits take two loads: keep the tick from landing between them. */
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    uint64_t now = ticks_ms;
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return now;
}

void bk_sleep_ms(uint32_t ms) {
    uint64_t start = bk_monotonic_ms();
    while (bk_monotonic_ms() - start < ms) {
        if (idle_fn != NULL) {
            idle_fn(idle_ctx);
        } else {
            __asm__ volatile("wfi"); /* until the next tick; QEMU idles the host meanwhile */
        }
    }
}

int64_t bk_wall_clock_s(void) {
    uint32_t now = bk_semihost_time();
    return now == 0 || now == UINT32_MAX ? -1 : (int64_t)now;
}

bk_result bk_entropy(uint8_t *buf, size_t len) {
    static int32_t urandom = -1;
    if (urandom < 0) {
        urandom = bk_semihost_open("/dev/urandom", BK_SEMIHOST_MODE_RB);
        if (urandom < 0) {
            return BK_ERR_ENTROPY;
        }
    }
    while (len > 0) {
        int32_t got = bk_semihost_read(urandom, buf, len);
        if (got <= 0) {
            return BK_ERR_ENTROPY;
        }
        buf += got;
        len -= (size_t)got;
    }
    return BK_OK;
}

static const char *level_name(bk_log_level level) {
    switch (level) {
    case BK_LOG_ERROR:
        return "error";
    case BK_LOG_WARN:
        return "warn";
    case BK_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

void bk_log(bk_log_level level, const char *message) {
    if (level > log_max_level) {
        return;
    }
    char line[BK_BOARD_LOG_LINE_MAX];
    size_t pos = 0;
    const char *parts[] = {"batchkey: ", level_name(level), ": "};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t n = strlen(parts[i]);
        memcpy(&line[pos], parts[i], n);
        pos += n;
    }
    const char *p = message != NULL ? message : "(null)";
    /* Control bytes become '?': a message can never forge a second line. */
    for (; *p != '\0' && pos < sizeof line - 1; p++) {
        unsigned char c = (unsigned char)*p;
        line[pos++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (*p != '\0') {
        memcpy(&line[pos - 3], "...", 3);
    }
    line[pos++] = '\n';
    (void)bk_semihost_write(BK_SEMIHOST_STDERR, line, pos);
}

void bk_log_set_level(bk_log_level max_level) {
    log_max_level = max_level;
}
