/* SPDX-License-Identifier: MIT */
/* The simulated NOR flash of bk_test_flash.h. */
#include "bk_test_flash.h"

#include <string.h>

void bk_test_flash_init(bk_test_flash *flash, uint32_t slot_size) {
    memset(flash, 0, sizeof *flash);
    memset(flash->mem, 0xFF, sizeof flash->mem);
    flash->slot_size = slot_size <= BK_TEST_FLASH_SLOT_MAX ? slot_size : BK_TEST_FLASH_SLOT_MAX;
}

void bk_test_flash_cut_after(bk_test_flash *flash, size_t bytes) {
    flash->cut_armed = true;
    flash->cut = false;
    flash->budget = bytes;
}

void bk_test_flash_power_on(bk_test_flash *flash) {
    flash->cut_armed = false;
    flash->cut = false;
    flash->budget = 0;
}

uint8_t *bk_test_flash_slot(bk_test_flash *flash, const char *name, unsigned slot) {
    if (name == NULL || slot > 1 || strlen(name) >= sizeof flash->names[0]) {
        return NULL;
    }
    int free_entry = -1;
    for (int i = 0; i < BK_TEST_FLASH_NAMES; i++) {
        if (strcmp(flash->names[i], name) == 0 && name[0] != '\0') {
            return flash->mem[i][slot];
        }
        if (flash->names[i][0] == '\0' && free_entry < 0) {
            free_entry = i;
        }
    }
    if (free_entry < 0 || name[0] == '\0') {
        return NULL;
    }
    strcpy(flash->names[free_entry], name);
    return flash->mem[free_entry][slot];
}

/* The slot's bytes when [offset, offset + len) lies inside it, else NULL (and counted). */
static uint8_t *bk_test_flash_area(bk_test_flash *flash, const char *name, unsigned slot,
                                   uint32_t offset, size_t len) {
    uint8_t *mem = bk_test_flash_slot(flash, name, slot);
    if (mem == NULL || offset > flash->slot_size || len > flash->slot_size - offset) {
        flash->out_of_range++;
        return NULL;
    }
    return mem;
}

/* How many of len bytes may still change; marks the cut when that is fewer than len. */
static size_t bk_test_flash_spend(bk_test_flash *flash, size_t len) {
    if (flash->cut) {
        return 0;
    }
    if (!flash->cut_armed) {
        return len;
    }
    if (len <= flash->budget) {
        flash->budget -= len;
        return len;
    }
    size_t n = flash->budget;
    flash->budget = 0;
    flash->cut = true;
    return n;
}

static bk_result bk_test_flash_read(void *ctx, const char *name, unsigned slot, uint32_t offset,
                                    uint8_t *buf, size_t len) {
    bk_test_flash *flash = ctx;
    flash->reads++;
    if (flash->read_result != BK_OK) {
        return flash->read_result;
    }
    uint8_t *mem = bk_test_flash_area(flash, name, slot, offset, len);
    if (mem == NULL) {
        return BK_ERR_ARGUMENT;
    }
    memcpy(buf, mem + offset, len);
    return BK_OK;
}

static bk_result bk_test_flash_erase(void *ctx, const char *name, unsigned slot) {
    bk_test_flash *flash = ctx;
    flash->erases++;
    if (flash->erase_result != BK_OK) {
        return flash->erase_result;
    }
    uint8_t *mem = bk_test_flash_area(flash, name, slot, 0, 0);
    if (mem == NULL) {
        return BK_ERR_ARGUMENT;
    }
    size_t size = flash->slot_size;
    size_t n;
    if (flash->erase_counts) {
        n = bk_test_flash_spend(flash, size);
    } else {
        n = flash->cut ? 0 : size;
    }
    memset(flash->erase_from_end ? mem + size - n : mem, 0xFF, n);
    return n == size ? BK_OK : BK_ERR_STORE_IO;
}

static bk_result bk_test_flash_program(void *ctx, const char *name, unsigned slot, uint32_t offset,
                                       const uint8_t *data, size_t len) {
    bk_test_flash *flash = ctx;
    flash->programs++;
    if (flash->program_result != BK_OK) {
        return flash->program_result;
    }
    uint8_t *mem = bk_test_flash_area(flash, name, slot, offset, len);
    if (mem == NULL) {
        return BK_ERR_ARGUMENT;
    }
    size_t n = bk_test_flash_spend(flash, len);
    for (size_t i = 0; i < n; i++) {
        if (mem[offset + i] != 0xFF) {
            flash->unerased_programs++;
        }
        mem[offset + i] &= data[i];
    }
    flash->programmed_bytes += n;
    return n == len ? BK_OK : BK_ERR_STORE_IO;
}

bk_flash bk_test_flash_ops(bk_test_flash *flash) {
    bk_flash ops;
    ops.read = bk_test_flash_read;
    ops.erase = bk_test_flash_erase;
    ops.program = bk_test_flash_program;
    ops.slot_size = flash->slot_size;
    ops.ctx = flash;
    return ops;
}
