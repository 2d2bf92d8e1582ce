/* SPDX-License-Identifier: MIT */
/* A record store over raw flash: each record name owns two slots, written in turn, so a power
 * cut during a save leaves the previous record readable. The board gives the flash operations;
 * this gives the bk_store seam (bk_platform.h) on top of them.
 *
 *     static bk_flash_store records;
 *     bk_store store = bk_flash_store_init(&records, board_flash);  // read, erase, program
 *     r = store.save(store.ctx, "rotation", record, len);
 *
 * A slot holds a 16-byte header, then the record: the magic "BKS1", a sequence number, the
 * record's length and a CRC-32 over the sequence number, the length and the record (all
 * little-endian). A save erases the slot that does not hold the newest valid record, programs
 * the record, then the header last: until the header's last byte is in, the slot fails its
 * check and load keeps reading the other one. */
#ifndef BK_STORE_H
#define BK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "bk_platform.h"
#include "bk_result.h"

#define BK_FLASH_SLOT_HEADER 16u

/* The board's flash, per record name: two slots of slot_size bytes each. */
typedef struct bk_flash {
    bk_result (*read)(void *ctx, const char *name, unsigned slot, uint32_t offset, uint8_t *buf,
                      size_t len);
    /* Sets every byte of the slot to 0xFF. */
    bk_result (*erase)(void *ctx, const char *name, unsigned slot);
    /* Programs len bytes at offset of an erased area. */
    bk_result (*program)(void *ctx, const char *name, unsigned slot, uint32_t offset,
                         const uint8_t *data, size_t len);
    uint32_t slot_size; /* header included */
    void *ctx;
} bk_flash;

typedef struct bk_flash_store {
    bk_flash flash;
} bk_flash_store;

bk_store bk_flash_store_init(bk_flash_store *store, bk_flash flash);

/* CRC-32 (IEEE 802.3, reflected, as zlib computes it), continued from crc (0 to start). */
uint32_t bk_crc32(uint32_t crc, const uint8_t *data, size_t len);

#endif
