/* SPDX-License-Identifier: MIT */
/* Arm semihosting (v2) for the mps2-an386 board under QEMU: the guest asks the host, through
 * `bkpt 0xab`, for its console, its files, its clock, the command line and the exit status.
 * Test and emulator use only: a real board has no host to ask.
 *
 *     bk_semihost_write_str(BK_SEMIHOST_STDERR, "hello\n");
 *     int32_t fd = bk_semihost_open("/dev/urandom", BK_SEMIHOST_MODE_RB);
 *     bk_semihost_exit(3);    // qemu-system-arm exits 3
 *
 * QEMU 7.2 needs `-semihosting-config enable=on,target=native`. */
#ifndef BK_SEMIHOST_H
#define BK_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

/* SYS_OPEN modes, fopen()'s in the order the semihosting specification numbers them. */
#define BK_SEMIHOST_MODE_R  0
#define BK_SEMIHOST_MODE_RB 1
#define BK_SEMIHOST_MODE_W  4
#define BK_SEMIHOST_MODE_A  8

/* The host's stdout and stderr, opened on first use (":tt" in mode w and a). */
#define BK_SEMIHOST_STDOUT (-2)
#define BK_SEMIHOST_STDERR (-3)

/* A host handle (> 0), or -1. */
int32_t bk_semihost_open(const char *path, int mode);
void bk_semihost_close(int32_t fd);
/* The file's length in bytes, or -1. */
int32_t bk_semihost_flen(int32_t fd);
/* Bytes read (0 at the end of the file), or -1. */
int32_t bk_semihost_read(int32_t fd, void *buf, size_t len);
/* 0 when every byte was written, -1 otherwise. fd may be BK_SEMIHOST_STDOUT or _STDERR. */
int bk_semihost_write(int32_t fd, const void *buf, size_t len);
int bk_semihost_write_str(int32_t fd, const char *text);

/* Reads the whole host file at path into buf (cap bytes, NUL-terminated): its length, or -1
 * when it cannot be read or does not fit. */
int32_t bk_semihost_read_file(const char *path, char *buf, size_t cap);

/* The command line qemu was given (-semihosting-config arg=...), its arguments joined by
 * single spaces, NUL-terminated in buf: its length, or -1 when it does not fit. */
int32_t bk_semihost_cmdline(char *buf, size_t cap);

/* The command line split at spaces into argv (max pointers, the last after the arguments a NULL),
 * in buf: argc, or -1 when it does not fit. Quoting is not undone: QEMU joins its arguments with
 * spaces. */
int bk_semihost_args(char *buf, size_t cap, char **argv, int max);

/* The host's wall clock: seconds since 1970-01-01 UTC. */
uint32_t bk_semihost_time(void);
/* Milliseconds of the host's monotonic clock since the emulation started (SYS_ELAPSED over
 * SYS_TICKFREQ): a reference for the board's own clock. (SYS_CLOCK would not do: QEMU answers
 * it with its own CPU time, which stands still while the guest sleeps.) */
uint64_t bk_semihost_elapsed_ms(void);

/* Ends the emulation; code (0..255) becomes qemu-system-arm's exit status. */
__attribute__((noreturn)) void bk_semihost_exit(int code);

/* Writes value as decimal or 0x-prefixed hex into buf (at least 12 bytes); returns buf. */
char *bk_semihost_format_u32(char *buf, uint32_t value, int hex);

#endif
