/* SPDX-License-Identifier: MIT */
/* libFuzzer: the records batchkey reads back from its store: the rotation state record
 * (bk_rotate.h), the two-slot flash store's load over a flash image the input fills
 * (bk_store.h), and the TLS session record (bk_session.h). Byte 0 picks the reader (modulo 3)
 * and, with 0x80, lets the harness put the right CRC-32 in, so that the fuzzer gets past the
 * checksum to the parser behind it. Oracles: what reads must write back and read again the same
 * (rotation, session), and whatever the flash held, a save followed by a load gives the record
 * saved. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_rotate.h"
#include "bk_session.h"
#include "bk_store.h"
#include "bk_test_flash.h"
#include "bk_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[BK_TLS_SESSION_RECORD_MAX + 64];
static uint8_t out[BK_TLS_SESSION_RECORD_MAX + 64];
static bk_rotation_state state;
static bk_rotation_state again;

static bool same_state(const bk_rotation_state *a, const bk_rotation_state *b) {
    return a->sequence == b->sequence && a->updated_s == b->updated_s &&
           strcmp(a->subscription_id, b->subscription_id) == 0 &&
           strcmp(a->resource_group, b->resource_group) == 0 &&
           strcmp(a->account_name, b->account_name) == 0 &&
           strcmp(a->account_endpoint, b->account_endpoint) == 0 && a->active == b->active &&
           a->step == b->step && a->rotations == b->rotations &&
           a->last_rotation_s == b->last_rotation_s && a->since_s[0] == b->since_s[0] &&
           a->since_s[1] == b->since_s[1] && strcmp(a->keys[0], b->keys[0]) == 0 &&
           strcmp(a->keys[1], b->keys[1]) == 0;
}

/* A record read: written back, it reads again as the same state. */
static void rotation_round_trip(void) {
    size_t len = 0;
    check(bk_rotation_serialize(&state, out, sizeof out, &len) == BK_OK);
    check(bk_rotation_parse(out, len, &again) == BK_OK);
    check(same_state(&state, &again));
    static const bk_account_ref account = {"12345678-1234-1234-1234-123456789012", "my-rg",
                                           "myacct"};
    (void)bk_rotation_check_account(&state, &account);
}

static void fuzz_rotation(const uint8_t *data, size_t size, bool fix_crc) {
    if (size + 16 > sizeof buf) {
        return;
    }
    memcpy(buf, data, size);
    size_t len = size;
    if (fix_crc) {
        /* The input is the record without its last line; the harness appends it. */
        static const char hex[] = "0123456789abcdef";
        uint32_t crc = bk_crc32(0, buf, len);
        memcpy(buf + len, "crc32 ", 6);
        for (int i = 0; i < 8; i++) {
            buf[len + 6 + (size_t)i] = (uint8_t)hex[(crc >> (28 - 4 * i)) & 0xfu];
        }
        buf[len + 14] = '\n';
        len += 15;
    }
    if (bk_rotation_parse(buf, len, &state) == BK_OK) {
        rotation_round_trip();
    }
}

static bk_test_flash sim;
static bk_flash_store records;

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Input: byte 0 = slot size / 8 (16 bytes at least, up to the simulator's largest), then the
 * two slots of "rotation" in turn; bytes not given stay erased (0xFF). */
static void fuzz_store(const uint8_t *data, size_t size, bool fix_crc) {
    if (size < 1) {
        return;
    }
    uint32_t slot_size = (uint32_t)data[0] * 8u;
    if (slot_size > BK_TEST_FLASH_SLOT_MAX) {
        slot_size = BK_TEST_FLASH_SLOT_MAX;
    }
    data++;
    size--;
    bk_test_flash_init(&sim, slot_size);
    bk_store store = bk_flash_store_init(&records, bk_test_flash_ops(&sim));
    for (unsigned slot = 0; slot < 2; slot++) {
        uint8_t *mem = bk_test_flash_slot(&sim, BK_ROTATION_RECORD, slot);
        check(mem != NULL);
        size_t n = size < slot_size ? size : slot_size;
        memcpy(mem, data, n);
        data += n;
        size -= n;
        if (fix_crc && slot_size >= BK_FLASH_SLOT_HEADER) {
            /* A header that says how long its record is gets the CRC that makes it valid. */
            uint32_t len = get32(mem + 8);
            if (len <= slot_size - BK_FLASH_SLOT_HEADER) {
                uint32_t crc = bk_crc32(0, mem + 4, 8);
                crc = bk_crc32(crc, mem + BK_FLASH_SLOT_HEADER, len);
                put32(mem + 12, crc);
            }
        }
    }

    static uint8_t record[BK_TEST_FLASH_SLOT_MAX];
    size_t len = 0;
    bk_result r = store.load(store.ctx, BK_ROTATION_RECORD, record, sizeof record, &len);
    check(r == BK_OK || r == BK_ERR_STORE_NOT_FOUND || r == BK_ERR_STORE_TOO_LARGE);
    check(r != BK_OK || len + BK_FLASH_SLOT_HEADER <= slot_size);
    if (r == BK_OK && bk_rotation_parse(record, len, &state) == BK_OK) {
        rotation_round_trip();
    }
    /* The same load as the rotation does it, into its own record buffer. */
    static uint8_t rotation_buf[BK_STATE_RECORD_MAX];
    (void)bk_rotation_load(store, NULL, rotation_buf, sizeof rotation_buf, &state);

    /* Whatever the flash held, a save that answers BK_OK is what the next load finds, and no
     * byte was programmed over one that was not erased. */
    static const uint8_t fresh[] = "a record saved over whatever the flash held\n";
    size_t fresh_len = sizeof fresh - 1;
    if (slot_size >= 8 + BK_FLASH_SLOT_HEADER) {
        fresh_len = fresh_len < slot_size - BK_FLASH_SLOT_HEADER ? fresh_len
                                                                 : slot_size - BK_FLASH_SLOT_HEADER;
    }
    r = store.save(store.ctx, BK_ROTATION_RECORD, fresh, fresh_len);
    check(sim.unerased_programs == 0 && sim.out_of_range == 0);
    if (r == BK_OK) {
        r = store.load(store.ctx, BK_ROTATION_RECORD, record, sizeof record, &len);
        check(r == BK_OK && len == fresh_len && memcmp(record, fresh, len) == 0);
    } else {
        check(r == BK_ERR_STORE_TOO_LARGE && fresh_len + BK_FLASH_SLOT_HEADER > slot_size);
    }
}

static bk_tls_session session;
static bk_tls_session session_again;

static void fuzz_session(const uint8_t *data, size_t size, bool fix_crc) {
    if (size + 4 > sizeof buf) {
        return;
    }
    memcpy(buf, data, size);
    size_t len = size;
    if (fix_crc) {
        /* The input is the record without its CRC; the harness appends it (big-endian). */
        uint32_t crc = bk_crc32(0, buf, len);
        for (int i = 0; i < 4; i++) {
            buf[len + (size_t)i] = (uint8_t)(crc >> (24 - 8 * i));
        }
        len += 4;
    }
    if (bk_tls_session_decode(&session, buf, len) != BK_OK) {
        check(session.len == 0);
        return;
    }
    check(session.len > 0 && session.len <= BK_TLS_SESSION_MAX);
    check(session.host[0] != '\0' && strlen(session.host) <= BK_HOST_MAX);
    (void)bk_tls_session_usable(&session, session.host, session.port, 1700000000);
    /* Written back, it is the same record, and reads again as the same session. */
    size_t out_len = 0;
    check(bk_tls_session_encode(&session, out, sizeof out, &out_len) == BK_OK);
    check(out_len == len && memcmp(out, buf, len) == 0);
    check(bk_tls_session_decode(&session_again, out, out_len) == BK_OK);
    check(strcmp(session.host, session_again.host) == 0 && session.port == session_again.port &&
          session.expires_s == session_again.expires_s && session.len == session_again.len &&
          memcmp(session.data, session_again.data, session.len) == 0);
    bk_tls_session_wipe(&session);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) {
        return 0;
    }
    bool fix_crc = (data[0] & 0x80u) != 0;
    switch ((data[0] & 0x7fu) % 3u) {
    case 0:
        fuzz_rotation(data + 1, size - 1, fix_crc);
        break;
    case 1:
        fuzz_store(data + 1, size - 1, fix_crc);
        break;
    default:
        fuzz_session(data + 1, size - 1, fix_crc);
        break;
    }
    return 0;
}
