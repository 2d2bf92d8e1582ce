/* SPDX-License-Identifier: MIT */
/* The mps2-an386 board (Cortex-M4, QEMU's model of Arm's AN386 FPGA image): its start, exit and
 * stack watch, and the hooks of its platform (bk_board_platform.c).
 *
 *     int main(void) {
 *         bk_board_start();                  // SysTick; says where clock and entropy come from
 *         ... batchkey ...
 *         bk_board_stack_report();           // "stack: deepest N of M bytes" on stderr
 *         return status;                     // qemu-system-arm exits with it
 *     }
 *
 * The reset handler copies .data, zeroes .bss, paints the stack, calls main() and ends the
 * emulation with main's return value (bk_board_exit). */
#ifndef BK_BOARD_H
#define BK_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* Exit status after a HardFault: 128 + SIGABRT, as a shell reports an aborted program. */
#define BK_BOARD_EXIT_FAULT 134

/* The CPU clock of QEMU's mps2 machines (SYSCLK_FRQ in hw/arm/mps2.c), which drives SysTick. */
#define BK_BOARD_CPU_HZ 25000000u

/* Starts the 1 ms SysTick clock and writes the test-only notice on stderr. Call first in main;
 * the clock also starts at its first read. */
void bk_board_start(void);

/* Ends the emulation with status (0..255): qemu-system-arm exits with it. */
__attribute__((noreturn)) void bk_board_exit(int status);

/* The most stack main and everything under it have used since reset, in bytes (the painted
 * words found overwritten), and the stack's size. */
size_t bk_board_stack_deepest(void);
size_t bk_board_stack_size(void);
/* Writes "stack: deepest N of M bytes" (and a warning when it overflowed) on stderr. */
void bk_board_stack_report(void);

/* The firmware's C library (bk_board_libc.c): makes stdout and stderr usable. Call first. */
void bk_board_stdio_start(void);

/* What bk_sleep_ms does while it waits: NULL (the default) waits for the next SysTick
 * interrupt; the network layer may poll its interface instead. */
typedef void (*bk_board_idle_fn)(void *ctx);
void bk_board_set_idle(bk_board_idle_fn idle, void *ctx);

#endif
