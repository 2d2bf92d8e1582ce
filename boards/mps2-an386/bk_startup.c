/* SPDX-License-Identifier: MIT */
/* Reset and exceptions of the mps2-an386 board: the vector table, the reset handler that sets up
 * C's memory and paints the stack, and a HardFault handler that says where it happened and ends
 * the emulation with BK_BOARD_EXIT_FAULT. Addresses come from mps2_an386.ld. */
#include <stdint.h>
#include <string.h>

#include "bk_board.h"
#include "bk_semihost.h"

extern uint32_t __stack_limit[], __stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];

int main(void);

/* Stack words not yet used hold this; its bytes differ so that the compiler cannot turn the
 * painting loop into a memset call running on the very stack it paints. */
#define STACK_PAINT 0x5a17c0deu

#define SCB_CFSR  (*(volatile uint32_t *)0xe000ed28u)
#define SCB_HFSR  (*(volatile uint32_t *)0xe000ed2cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xe000ed34u)
#define SCB_BFAR  (*(volatile uint32_t *)0xe000ed38u)

void bk_reset_isr(void);
void bk_hardfault_isr(void);
/* Exceptions nothing here expects are reported as faults rather than left to hang. */
void bk_default_isr(void) __attribute__((alias("bk_hardfault_isr")));
/* The platform's clock (bk_board_platform.c) overrides it; images without it never start
 * SysTick. */
void bk_board_systick_isr(void) __attribute__((weak, alias("bk_hardfault_isr")));

typedef void (*bk_vector)(void);

/* ARMv7-M: the initial stack pointer, 15 system exceptions, then the AN386's 32 interrupts
 * (QEMU's mps2 gives its NVIC 32). */
__attribute__((section(".vectors"), used)) static const bk_vector vectors[16 + 32] = {
    [0] = (bk_vector)__stack_top, /* the initial stack pointer */
    [1] = bk_reset_isr,           /* Reset */
    [2] = bk_default_isr,         /* NMI */
    [3] = bk_hardfault_isr,       /* HardFault, and the faults escalated to it */
    [4] = bk_hardfault_isr,       /* MemManage */
    [5] = bk_hardfault_isr,       /* BusFault */
    [6] = bk_hardfault_isr,       /* UsageFault */
    [11] = bk_default_isr,        /* SVCall */
    [12] = bk_default_isr,        /* DebugMonitor */
    [14] = bk_default_isr,        /* PendSV */
    [15] = bk_board_systick_isr,  /* SysTick */
    [16 ... 47] = bk_default_isr, /* the FPGA's interrupts: none enabled */
};

void bk_reset_isr(void) {
    memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
    memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));

    /* Paint from the bottom of the stack up to a little below this frame. */
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *w = __stack_limit; (uintptr_t)w < sp - 64u; w++) {
        *w = STACK_PAINT;
    }
    bk_board_exit(main());
}

void bk_board_exit(int status) {
    bk_semihost_exit(status);
}

size_t bk_board_stack_size(void) {
    return (size_t)((char *)__stack_top - (char *)__stack_limit);
}

size_t bk_board_stack_deepest(void) {
    const volatile uint32_t *w = __stack_limit;
    while (w < __stack_top && *w == STACK_PAINT) {
        w++;
    }
    return (size_t)((const char *)__stack_top - (const volatile char *)w);
}

void bk_board_stack_report(void) {
    char deepest[12], size[12];
    size_t used = bk_board_stack_deepest();
    bk_semihost_write_str(BK_SEMIHOST_STDERR, "stack: deepest ");
    bk_semihost_write_str(BK_SEMIHOST_STDERR, bk_semihost_format_u32(deepest, (uint32_t)used, 0));
    bk_semihost_write_str(BK_SEMIHOST_STDERR, " of ");
    bk_semihost_write_str(BK_SEMIHOST_STDERR,
                          bk_semihost_format_u32(size, (uint32_t)bk_board_stack_size(), 0));
    bk_semihost_write_str(BK_SEMIHOST_STDERR, " bytes\n");
    if (used >= bk_board_stack_size()) {
        /* Its lowest word was written: the stack ran past its region, into the reserved hole
         * below RAM (not into .data or .bss); the numbers above are a floor. */
        bk_semihost_write_str(BK_SEMIHOST_STDERR, "stack: OVERFLOWED its region\n");
    }
}

static void put_field(const char *name, uint32_t value) {
    char text[12];
    bk_semihost_write_str(BK_SEMIHOST_STDERR, name);
    bk_semihost_write_str(BK_SEMIHOST_STDERR, bk_semihost_format_u32(text, value, 1));
}

/* frame: what the core pushed on entry (r0-r3, r12, lr, pc, xpsr). */
__attribute__((used, noreturn)) static void fault_report(const uint32_t *frame) {
    static const char *const names[] = {"",          "",         "NMI",       "HardFault",
                                        "MemManage", "BusFault", "UsageFault"};
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1ffu;
    char number[12];
    bk_semihost_write_str(BK_SEMIHOST_STDERR, "bk_board: exception ");
    bk_semihost_write_str(BK_SEMIHOST_STDERR, bk_semihost_format_u32(number, ipsr, 0));
    bk_semihost_write_str(BK_SEMIHOST_STDERR, " (");
    bk_semihost_write_str(BK_SEMIHOST_STDERR, ipsr < 7 && ipsr >= 2 ? names[ipsr] : "unexpected");
    bk_semihost_write_str(BK_SEMIHOST_STDERR, ")");
    put_field(" pc ", frame[6]);
    put_field(" lr ", frame[5]);
    put_field(" cfsr ", SCB_CFSR);
    put_field(" hfsr ", SCB_HFSR);
    put_field(" mmfar ", SCB_MMFAR);
    put_field(" bfar ", SCB_BFAR);
    bk_semihost_write_str(BK_SEMIHOST_STDERR, "\n");
    bk_board_stack_report();
    bk_semihost_exit(BK_BOARD_EXIT_FAULT);
}

/* The frame is on the stack the interrupted code used: bit 2 of EXC_RETURN says which. */
__attribute__((naked)) void bk_hardfault_isr(void) {
    __asm__ volatile("tst lr, #4\n"
                     "ite eq\n"
                     "mrseq r0, msp\n"
                     "mrsne r0, psp\n"
                     "b fault_report\n");
}
