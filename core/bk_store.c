/* SPDX-License-Identifier: MIT */
/* Record names, CRC-32, and the two-slot flash store of bk_store.h.
 *
 * A slot: "BKS1", sequence number, record length, CRC-32 over those two and the record (16 bytes,
 * little-endian), then the record. The newest valid slot holds the record; "newer" compares
 * sequence numbers modulo 2^32, so the count may wrap. A save writes the other slot, header last,
 * and reads it back before answering BK_OK. Records may be larger than any stack buffer: they are
 * checked through a small fixed one. */
#include "bk_store.h"

#include <string.h>

#include "bk_crypto.h"

#define BK_STORE_NAME_MAX 32u
/* Bytes of a record read at a time while its CRC is checked. */
#define BK_STORE_CHUNK 64u

static const uint8_t bk_store_magic[4] = {'B', 'K', 'S', '1'};

bool bk_store_name_ok(const char *name) {
    if (name == NULL || name[0] == '\0' || name[0] == '.') {
        return false;
    }
    size_t i = 0;
    for (; name[i] != '\0'; i++) {
        char c = name[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok || i >= BK_STORE_NAME_MAX) {
            return false;
        }
    }
    return true;
}

/* The reflected polynomial 0xEDB88320 applied to each 4-bit value: 64 bytes of table instead of
 * the usual 1 KiB, at two lookups per byte. */
static const uint32_t bk_crc32_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t bk_crc32(uint32_t crc, const uint8_t *data, size_t len) {
    uint32_t c = ~crc;
    for (size_t i = 0; i < len; i++) {
        c ^= data[i];
        c = (c >> 4) ^ bk_crc32_nibble[c & 0x0Fu];
        c = (c >> 4) ^ bk_crc32_nibble[c & 0x0Fu];
    }
    return ~c;
}

static void bk_store_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t bk_store_get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* True when sequence number a comes after b: (int32_t)(a - b) > 0 without the
 * implementation-defined conversion. */
static bool bk_store_seq_after(uint32_t a, uint32_t b) {
    uint32_t d = a - b;
    return d != 0 && d < 0x80000000u;
}

/* True when a slot has room for a record of len bytes after its header. */
static bool bk_store_fits(const bk_flash *flash, size_t len) {
    return flash->slot_size >= BK_FLASH_SLOT_HEADER &&
           len <= flash->slot_size - BK_FLASH_SLOT_HEADER;
}

typedef struct bk_store_slot {
    bool valid;
    uint32_t seq;
    uint32_t len;
    uint32_t crc;
} bk_store_slot;

/* Reads one slot's header and checks its record against the CRC, BK_STORE_CHUNK bytes at a time.
 * BK_OK with out->valid telling the verdict; BK_ERR_STORE_IO when the flash could not be read. */
static bk_result bk_store_check_slot(const bk_flash *flash, const char *name, unsigned slot,
                                     bk_store_slot *out) {
    uint8_t chunk[BK_STORE_CHUNK];
    out->valid = false;
    if (flash->read(flash->ctx, name, slot, 0, chunk, BK_FLASH_SLOT_HEADER) != BK_OK) {
        return BK_ERR_STORE_IO;
    }
    if (memcmp(chunk, bk_store_magic, sizeof bk_store_magic) != 0) {
        return BK_OK;
    }
    out->seq = bk_store_get32(chunk + 4);
    out->len = bk_store_get32(chunk + 8);
    out->crc = bk_store_get32(chunk + 12);
    if (!bk_store_fits(flash, out->len)) {
        return BK_OK;
    }
    uint32_t crc = bk_crc32(0, chunk + 4, 8);
    uint32_t done = 0;
    while (done < out->len) {
        uint32_t n = out->len - done < BK_STORE_CHUNK ? out->len - done : BK_STORE_CHUNK;
        if (flash->read(flash->ctx, name, slot, BK_FLASH_SLOT_HEADER + done, chunk, n) != BK_OK) {
            bk_wipe(chunk, sizeof chunk);
            return BK_ERR_STORE_IO;
        }
        crc = bk_crc32(crc, chunk, n);
        done += n;
    }
    bk_wipe(chunk, sizeof chunk); /* records hold keys */
    out->valid = crc == out->crc;
    return BK_OK;
}

/* Checks both slots; *newest is the slot holding the newest valid record, or -1 for none. */
static bk_result bk_store_scan(const bk_flash *flash, const char *name, bk_store_slot slots[2],
                               int *newest) {
    for (unsigned i = 0; i < 2; i++) {
        bk_result r = bk_store_check_slot(flash, name, i, &slots[i]);
        if (r != BK_OK) {
            return r;
        }
    }
    if (slots[0].valid && slots[1].valid) {
        *newest = bk_store_seq_after(slots[1].seq, slots[0].seq) ? 1 : 0;
    } else if (slots[0].valid || slots[1].valid) {
        *newest = slots[0].valid ? 0 : 1;
    } else {
        *newest = -1;
    }
    return BK_OK;
}

static bool bk_flash_usable(const bk_flash *flash) {
    return flash->read != NULL && flash->erase != NULL && flash->program != NULL;
}

static bk_result bk_flash_save(void *ctx, const char *name, const uint8_t *data, size_t len) {
    bk_flash_store *store = ctx;
    if (store == NULL || !bk_flash_usable(&store->flash) || !bk_store_name_ok(name) ||
        (data == NULL && len > 0)) {
        return BK_ERR_ARGUMENT;
    }
    const bk_flash *flash = &store->flash;
    /* Before anything is erased. */
    if (!bk_store_fits(flash, len)) {
        return BK_ERR_STORE_TOO_LARGE;
    }
    bk_store_slot slots[2];
    int newest;
    bk_result r = bk_store_scan(flash, name, slots, &newest);
    if (r != BK_OK) {
        return r;
    }
    unsigned target = newest == 0 ? 1u : 0u;
    uint32_t seq = newest < 0 ? 1u : slots[newest].seq + 1u;

    uint8_t header[BK_FLASH_SLOT_HEADER];
    memcpy(header, bk_store_magic, sizeof bk_store_magic);
    bk_store_put32(header + 4, seq);
    bk_store_put32(header + 8, (uint32_t)len);
    uint32_t crc = bk_crc32(0, header + 4, 8);
    if (len > 0) {
        crc = bk_crc32(crc, data, len);
    }
    bk_store_put32(header + 12, crc);

    if (flash->erase(flash->ctx, name, target) != BK_OK) {
        return BK_ERR_STORE_IO;
    }
    if (len > 0 &&
        flash->program(flash->ctx, name, target, BK_FLASH_SLOT_HEADER, data, len) != BK_OK) {
        return BK_ERR_STORE_IO;
    }
    /* The header last: until its last byte is in, the slot fails its check. */
    if (flash->program(flash->ctx, name, target, 0, header, sizeof header) != BK_OK) {
        return BK_ERR_STORE_IO;
    }
    /* Read back, so that BK_OK means load finds this record. */
    bk_store_slot written;
    r = bk_store_check_slot(flash, name, target, &written);
    if (r != BK_OK) {
        return r;
    }
    if (!written.valid || written.seq != seq || written.crc != crc) {
        return BK_ERR_STORE_IO;
    }
    return BK_OK;
}

static bk_result bk_flash_load(void *ctx, const char *name, uint8_t *buf, size_t cap, size_t *len) {
    bk_flash_store *store = ctx;
    if (len != NULL) {
        *len = 0;
    }
    if (store == NULL || !bk_flash_usable(&store->flash) || !bk_store_name_ok(name) ||
        len == NULL || (buf == NULL && cap > 0)) {
        return BK_ERR_ARGUMENT;
    }
    const bk_flash *flash = &store->flash;
    if (!bk_store_fits(flash, 0)) {
        return BK_ERR_STORE_NOT_FOUND; /* slots smaller than a header: none was ever saved */
    }
    bk_store_slot slots[2];
    int newest;
    bk_result r = bk_store_scan(flash, name, slots, &newest);
    if (r != BK_OK) {
        return r;
    }
    if (newest < 0) {
        return BK_ERR_STORE_NOT_FOUND;
    }
    const bk_store_slot *slot = &slots[newest];
    if (slot->len > cap) {
        *len = slot->len; /* what it would take */
        return BK_ERR_STORE_TOO_LARGE;
    }
    if (slot->len > 0 && flash->read(flash->ctx, name, (unsigned)newest, BK_FLASH_SLOT_HEADER, buf,
                                     slot->len) != BK_OK) {
        return BK_ERR_STORE_IO;
    }
    /* Checked again as read into buf: the flash must not answer differently the second time. */
    uint8_t numbers[8];
    bk_store_put32(numbers, slot->seq);
    bk_store_put32(numbers + 4, slot->len);
    uint32_t crc = bk_crc32(0, numbers, sizeof numbers);
    if (slot->len > 0) {
        crc = bk_crc32(crc, buf, slot->len);
    }
    if (crc != slot->crc) {
        return BK_ERR_STORE_IO;
    }
    *len = slot->len;
    return BK_OK;
}

bk_store bk_flash_store_init(bk_flash_store *store, bk_flash flash) {
    bk_store s;
    store->flash = flash;
    s.save = bk_flash_save;
    s.load = bk_flash_load;
    s.ctx = store;
    return s;
}
