/* SPDX-License-Identifier: MIT */
/* A simulated NOR flash for the two-slot store (bk_store.h): two slots per record name, in
 * memory, with what real NOR does and a power cut at any byte.
 *
 *     static bk_test_flash sim;
 *     static bk_flash_store records;
 *     bk_test_flash_init(&sim, 256);
 *     bk_store store = bk_flash_store_init(&records, bk_test_flash_ops(&sim));
 *     bk_test_flash_cut_after(&sim, 40);          // the power fails 40 bytes from now
 *     r = store.save(store.ctx, "rotation", record, len);   // BK_ERR_STORE_IO
 *     bk_test_flash_power_on(&sim);               // back up: the flash as the cut left it
 *
 * NOR rules: erase sets a whole slot to 0xFF; program can only clear bits (the slot's byte
 * becomes byte AND data), and programming a byte that is not 0xFF is counted in
 * unerased_programs (the store must never do it). Plain C without POSIX: it is linked into the
 * unit-test images of the board too. */
#ifndef BK_TEST_FLASH_H
#define BK_TEST_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_store.h"

/* Record names one simulated flash holds; each is given its slots at its first use. */
#define BK_TEST_FLASH_NAMES 4
/* The largest slot_size. */
#define BK_TEST_FLASH_SLOT_MAX 1024

typedef struct bk_test_flash {
    uint32_t slot_size;
    char names[BK_TEST_FLASH_NAMES][33]; /* "" when free */
    uint8_t mem[BK_TEST_FLASH_NAMES][2][BK_TEST_FLASH_SLOT_MAX];

    /* The power cut, armed by bk_test_flash_cut_after: budget bytes may still change; the
     * operation that needs more changes only the bytes left and fails, and every later erase and
     * program changes nothing and fails (reads still work: the device is off, this is only
     * bookkeeping until bk_test_flash_power_on). */
    bool cut_armed;
    bool cut; /* the power has failed */
    size_t budget;
    /* When set, an erase spends one byte of budget per byte of the slot, so a cut can tear it;
     * otherwise erases are atomic and free. A torn erase has erased the slot's first bytes, or
     * its last ones when erase_from_end is set; the rest keeps its old content. */
    bool erase_counts;
    bool erase_from_end;

    /* Injected failures: when non-zero, every call of that kind returns it and changes nothing.
     */
    bk_result read_result;
    bk_result erase_result;
    bk_result program_result;

    /* Counters (bk_test_flash_init zeroes them). */
    unsigned reads;
    unsigned erases;
    unsigned programs;
    size_t programmed_bytes;  /* bytes that landed */
    size_t unerased_programs; /* bytes programmed over a byte that was not 0xFF */
    size_t out_of_range;      /* calls outside the slot, an unknown slot or too many names */
} bk_test_flash;

/* An empty flash (every byte 0xFF) of slots of slot_size bytes (at most
 * BK_TEST_FLASH_SLOT_MAX), no power cut, no injected failure. */
void bk_test_flash_init(bk_test_flash *flash, uint32_t slot_size);
/* The bk_flash operations over flash (ctx is flash). */
bk_flash bk_test_flash_ops(bk_test_flash *flash);

/* The power fails once bytes more bytes have been programmed (or erased, with erase_counts). */
void bk_test_flash_cut_after(bk_test_flash *flash, size_t bytes);
/* Power restored: no cut pending, the flash as it was left. */
void bk_test_flash_power_on(bk_test_flash *flash);

/* The slot_size bytes of a slot of name, to read or to change behind the store's back (a bit
 * flip, a hand-made header); NULL for a slot other than 0 and 1 or when the names are all taken.
 * A new name is given its slots, erased. */
uint8_t *bk_test_flash_slot(bk_test_flash *flash, const char *name, unsigned slot);

#endif
