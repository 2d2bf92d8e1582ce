/* SPDX-License-Identifier: MIT */
/* The entry of every unit-test image for the mps2-an386 board. The test's own main() is compiled
 * as bk_unit_main (-Dmain=bk_unit_main); this main sets up newlib's semihosting I/O (rdimon),
 * takes NAME=VALUE words of the command line as the environment (SPEC_DIR=...: the host's
 * environment does not reach the guest), runs the test, reports the deepest stack use and exits
 * with the test's status, which qemu-system-arm passes on. Also newlib's two hooks that depend
 * on the board: _exit (semihosting's extended exit, so that every status reaches the host) and
 * _sbrk (the heap the linker script leaves after .bss). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_board.h"
#include "bk_semihost.h"

int bk_unit_main(void);
void initialise_monitor_handles(void);
/* What an image needs before its test runs: images with mbedTLS set up its pool here
 * (bk_target_mbedtls.c). */
void bk_target_setup(void) __attribute__((weak));
void bk_target_setup(void) {}
extern char **environ;

#define ENV_MAX 16

int main(void) {
    static char line[1024];
    static char *words[32];
    static char *env[ENV_MAX + 1];
    initialise_monitor_handles();
    int argc = bk_semihost_args(line, sizeof line, words, 32);
    if (argc < 0) {
        fputs("bk_target: command line too long\n", stderr);
        return 2;
    }
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        if (strchr(words[i], '=') != NULL && n < ENV_MAX) {
            env[n++] = words[i];
        }
    }
    env[n] = NULL;
    environ = env;
    bk_target_setup();
    int status = bk_unit_main();
    fflush(stdout);
    bk_board_stack_report();
    exit(status);
}

void _exit(int status) {
    bk_board_exit(status);
}

void *_sbrk(ptrdiff_t increment) {
    extern char __heap_start[], __heap_end[];
    static char *top = __heap_start;
    if (increment > __heap_end - top || increment < __heap_start - top) {
        return (void *)-1;
    }
    char *old = top;
    top += increment;
    return old;
}
