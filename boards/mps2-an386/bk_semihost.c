/* SPDX-License-Identifier: MIT */
/* Arm semihosting calls: operation in r0, the address of its parameter block in r1, the answer
 * in r0, trapped by `bkpt 0xab` on M-profile cores. */
#include "bk_semihost.h"

#include <string.h>

#define SYS_OPEN          0x01u
#define SYS_CLOSE         0x02u
#define SYS_WRITE         0x05u
#define SYS_READ          0x06u
#define SYS_FLEN          0x0cu
#define SYS_TIME          0x11u
#define SYS_GET_CMDLINE   0x15u
#define SYS_EXIT          0x18u
#define SYS_EXIT_EXTENDED 0x20u
#define SYS_ELAPSED       0x30u
#define SYS_TICKFREQ      0x31u

/* Reasons given to SYS_EXIT: a normal end, and an unspecified run-time error. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUN_TIME_ERROR   0x20023u
#define SH_EXT_EXIT_EXTENDED         0x01u

static int32_t semihost_call(uint32_t op, const void *block) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

int32_t bk_semihost_open(const char *path, int mode) {
    uint32_t block[3] = {(uint32_t)(uintptr_t)path, (uint32_t)mode, (uint32_t)strlen(path)};
    return semihost_call(SYS_OPEN, block);
}

void bk_semihost_close(int32_t fd) {
    uint32_t block[1] = {(uint32_t)fd};
    (void)semihost_call(SYS_CLOSE, block);
}

int32_t bk_semihost_flen(int32_t fd) {
    uint32_t block[1] = {(uint32_t)fd};
    return semihost_call(SYS_FLEN, block);
}

int32_t bk_semihost_read(int32_t fd, void *buf, size_t len) {
    uint32_t block[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    int32_t not_read = semihost_call(SYS_READ, block);
    /* The answer is the count NOT read; out of range means an error. */
    if (not_read < 0 || (uint32_t)not_read > (uint32_t)len) {
        return -1;
    }
    return (int32_t)((uint32_t)len - (uint32_t)not_read);
}

/* The console handles, opened once: the specification's ":tt" (QEMU: mode w is its stdout,
 * mode a its stderr). */
static int32_t console(int32_t which) {
    static int32_t out = -1;
    static int32_t err = -1;
    int32_t *fd = which == BK_SEMIHOST_STDOUT ? &out : &err;
    if (*fd < 0) {
        *fd = bk_semihost_open(":tt", which == BK_SEMIHOST_STDOUT ? BK_SEMIHOST_MODE_W
                                                                  : BK_SEMIHOST_MODE_A);
    }
    return *fd;
}

int bk_semihost_write(int32_t fd, const void *buf, size_t len) {
    if (fd == BK_SEMIHOST_STDOUT || fd == BK_SEMIHOST_STDERR) {
        fd = console(fd);
    }
    uint32_t block[3] = {(uint32_t)fd, (uint32_t)(uintptr_t)buf, (uint32_t)len};
    return semihost_call(SYS_WRITE, block) == 0 ? 0 : -1;
}

int bk_semihost_write_str(int32_t fd, const char *text) {
    return bk_semihost_write(fd, text, strlen(text));
}

int32_t bk_semihost_read_file(const char *path, char *buf, size_t cap) {
    int32_t fd = bk_semihost_open(path, BK_SEMIHOST_MODE_RB);
    if (fd < 0) {
        return -1;
    }
    int32_t len = bk_semihost_flen(fd);
    int32_t got = -1;
    if (len >= 0 && (size_t)len < cap) {
        got = bk_semihost_read(fd, buf, (size_t)len);
    }
    bk_semihost_close(fd);
    if (got != len) {
        return -1;
    }
    buf[len] = '\0';
    return len;
}

int32_t bk_semihost_cmdline(char *buf, size_t cap) {
    uint32_t block[2] = {(uint32_t)(uintptr_t)buf, (uint32_t)cap};
    if (cap == 0 || semihost_call(SYS_GET_CMDLINE, block) != 0 || block[1] >= cap) {
        return -1;
    }
    buf[block[1]] = '\0';
    return (int32_t)block[1];
}

int bk_semihost_args(char *buf, size_t cap, char **argv, int max) {
    if (max < 1 || bk_semihost_cmdline(buf, cap) < 0) {
        return -1;
    }
    int argc = 0;
    char *p = buf;
    for (;;) {
        while (*p == ' ') {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        if (argc == max - 1) {
            return -1;
        }
        argv[argc++] = p;
        while (*p != ' ' && *p != '\0') {
            p++;
        }
    }
    argv[argc] = NULL;
    return argc;
}

uint32_t bk_semihost_time(void) {
    return (uint32_t)semihost_call(SYS_TIME, NULL);
}

uint64_t bk_semihost_elapsed_ms(void) {
    uint32_t ticks[2] = {0, 0}; /* the 64-bit count, low word first */
    int32_t hz = semihost_call(SYS_TICKFREQ, NULL);
    /* Below 1 kHz, hz / 1000 would be a division by zero. */
    if (hz < 1000 || semihost_call(SYS_ELAPSED, ticks) != 0) {
        return 0;
    }
    return (((uint64_t)ticks[1] << 32) | ticks[0]) / ((uint64_t)hz / 1000u);
}

/* Whether the host takes SYS_EXIT_EXTENDED: the feature bits of the magic file
 * ":semihosting-features" ("SHFB" and one byte of flags). A host without it would stop at an
 * unknown call, so ask first. */
static int has_exit_extended(void) {
    uint8_t features[5];
    int32_t fd = bk_semihost_open(":semihosting-features", BK_SEMIHOST_MODE_RB);
    if (fd < 0) {
        return 0;
    }
    int32_t got = bk_semihost_read(fd, features, sizeof features);
    bk_semihost_close(fd);
    return got == 5 && memcmp(features, "SHFB", 4) == 0 && (features[4] & SH_EXT_EXIT_EXTENDED);
}

void bk_semihost_exit(int code) {
    /* On AArch32 plain SYS_EXIT carries a reason only (qemu exits 0 or 1); the extended call
     * takes the same parameter block as AArch64's SYS_EXIT, with the status as its subcode. */
    if (has_exit_extended()) {
        uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code & 0xffu};
        (void)semihost_call(SYS_EXIT_EXTENDED, block);
    }
    uintptr_t reason = code == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUN_TIME_ERROR;
    (void)semihost_call(SYS_EXIT, (const void *)reason);
    for (;;) {
        __asm__ volatile("wfi");
    }
}

char *bk_semihost_format_u32(char *buf, uint32_t value, int hex) {
    char digits[11];
    size_t n = 0;
    uint32_t base = hex ? 16u : 10u;
    do {
        digits[n++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0);
    size_t at = 0;
    if (hex) {
        buf[at++] = '0';
        buf[at++] = 'x';
    }
    while (n > 0) {
        buf[at++] = digits[--n];
    }
    buf[at] = '\0';
    return buf;
}
