/* SPDX-License-Identifier: MIT */
/* The store's pieces that every board shares (core/bk_store.c): record names, CRC-32, and the
 * two-slot flash store on a simulated NOR flash (tests/support/bk_test_flash.c). The centre is
 * the power cut: a save cut after every single byte it programs or erases must leave the old
 * record or, only once all of the new one is in, the new one, never anything else. No POSIX
 * here: these tests run on the board too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bk_store.h"
#include "bk_test_flash.h"

#define SLOT     256u
#define ROOM     (SLOT - BK_FLASH_SLOT_HEADER)
#define REC_NAME "rotation"

/* Large: static, not on the (board's) stack. */
static bk_test_flash sim;
static bk_test_flash reference;
static bk_flash_store records;

static bk_store fresh_store(uint32_t slot_size) {
    bk_test_flash_init(&sim, slot_size);
    return bk_flash_store_init(&records, bk_test_flash_ops(&sim));
}

/* A record of len bytes told apart by seed, in one of 8 static buffers used in turn. */
static const uint8_t *record(unsigned seed, size_t len) {
    static uint8_t out[8][SLOT];
    static unsigned next;
    uint8_t *p = out[next++ % 8];
    assert_true(len <= SLOT);
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seed * 61u + i * 7u + (i >> 3) + 1u);
    }
    return p;
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* Writes a valid slot by hand, as the format in bk_store.h says. */
static void make_slot(unsigned slot, uint32_t seq, const uint8_t *data, size_t len) {
    uint8_t *mem = bk_test_flash_slot(&sim, REC_NAME, slot);
    assert_non_null(mem);
    memset(mem, 0xFF, sim.slot_size);
    memcpy(mem, "BKS1", 4);
    put32(mem + 4, seq);
    put32(mem + 8, (uint32_t)len);
    put32(mem + 12, bk_crc32(bk_crc32(0, mem + 4, 8), data, len));
    memcpy(mem + 16, data, len);
}

static void assert_loads(bk_store store, const uint8_t *want, size_t want_len) {
    uint8_t buf[SLOT];
    size_t len = 12345;
    assert_int_equal(store.load(store.ctx, REC_NAME, buf, sizeof buf, &len), BK_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, want_len);
}

static void assert_not_found(bk_store store) {
    uint8_t buf[SLOT];
    size_t len = 12345;
    assert_int_equal(store.load(store.ctx, REC_NAME, buf, sizeof buf, &len),
                     BK_ERR_STORE_NOT_FOUND);
    assert_int_equal(len, 0);
}

/* --- CRC-32 --- */

static void test_crc32_known_answers(void **state) {
    (void)state;
    static const struct {
        const char *text;
        uint32_t crc;
    } known[] = {
        {"", 0x00000000u},
        {"a", 0xE8B7BE43u},
        {"abc", 0x352441C2u},
        {"123456789", 0xCBF43926u},
        {"The quick brown fox jumps over the lazy dog", 0x414FA339u},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        const uint8_t *p = (const uint8_t *)known[i].text;
        size_t len = strlen(known[i].text);
        assert_int_equal(bk_crc32(0, p, len), known[i].crc);
        /* Continued from any split, as zlib's crc32() is. */
        for (size_t at = 0; at <= len; at++) {
            assert_int_equal(bk_crc32(bk_crc32(0, p, at), p + at, len - at), known[i].crc);
        }
    }
    uint8_t bytes[256];
    for (size_t i = 0; i < sizeof bytes; i++) {
        bytes[i] = (uint8_t)i;
    }
    assert_int_equal(bk_crc32(0, bytes, sizeof bytes), 0x29058C73u);
    assert_int_equal(bk_crc32(0, NULL, 0), 0);
}

/* --- names --- */

static void test_name_ok(void **state) {
    (void)state;
    static const char *const good[] = {
        "a",  "0",    "rotation", "key.v1", "a-b_c.d",
        "a.", "a..b", "-",        "_x",     "abcdefghijklmnopqrstuvwxyz012345", /* 32 */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!bk_store_name_ok(good[i])) {
            fail_msg("refused \"%s\"", good[i]);
        }
    }
    static const char *const bad[] = {
        "",         ".",           "..", ".hidden", "abcdefghijklmnopqrstuvwxyz0123456", /* 33 */
        "Rotation", "a/b",         "/a", "a b",     "a\n",
        "a\\b",     "caf\xc3\xa9", "a*", "a:b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bk_store_name_ok(bad[i])) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    assert_false(bk_store_name_ok(NULL));
    /* Every byte, alone and after a letter. */
    for (int c = 1; c < 256; c++) {
        bool allowed =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        char alone[2] = {(char)c, '\0'};
        char second[3] = {'x', (char)c, '\0'};
        assert_int_equal(bk_store_name_ok(alone), allowed && c != '.');
        assert_int_equal(bk_store_name_ok(second), allowed);
    }
}

/* --- the two-slot store --- */

static void test_format_on_flash(void **state) {
    (void)state;
    bk_store store = fresh_store(SLOT);
    assert_int_equal(store.save(store.ctx, REC_NAME, (const uint8_t *)"hello", 5), BK_OK);
    const uint8_t *slot0 = bk_test_flash_slot(&sim, REC_NAME, 0);
    const uint8_t *slot1 = bk_test_flash_slot(&sim, REC_NAME, 1);
    /* "BKS1", sequence 1, length 5, CRC-32 of 01 00 00 00 05 00 00 00 "hello" (zlib's). */
    static const uint8_t want[] = {'B', 'K',  'S',  '1',  1,    0,   0,   0,   5,   0,  0,
                                   0,   0xD3, 0x8B, 0x47, 0x68, 'h', 'e', 'l', 'l', 'o'};
    assert_memory_equal(slot0, want, sizeof want);
    for (size_t i = sizeof want; i < SLOT; i++) {
        assert_int_equal(slot0[i], 0xFF);
    }
    for (size_t i = 0; i < SLOT; i++) {
        assert_int_equal(slot1[i], 0xFF);
    }
    assert_int_equal(sim.erases, 1);
    assert_int_equal(sim.unerased_programs, 0);
    assert_int_equal(sim.out_of_range, 0);

    /* The record goes in first, the header last: cut just after the record, slot 1 has it and
     * a blank header. */
    bk_test_flash_cut_after(&sim, 5);
    assert_int_equal(store.save(store.ctx, REC_NAME, (const uint8_t *)"world", 5), BK_ERR_STORE_IO);
    bk_test_flash_power_on(&sim);
    for (size_t i = 0; i < BK_FLASH_SLOT_HEADER; i++) {
        assert_int_equal(slot1[i], 0xFF);
    }
    assert_memory_equal(slot1 + BK_FLASH_SLOT_HEADER, "world", 5);
    assert_loads(store, (const uint8_t *)"hello", 5);
}

static void test_round_trip(void **state) {
    (void)state;
    static const size_t lengths[] = {0, 1, 15, 16, 63, 64, 65, 128, 200, ROOM - 1, ROOM};
    bk_store store = fresh_store(SLOT);
    assert_not_found(store);
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        const uint8_t *rec = record((unsigned)i, lengths[i]);
        assert_int_equal(store.save(store.ctx, REC_NAME, rec, lengths[i]), BK_OK);
        assert_loads(store, rec, lengths[i]);
        assert_loads(store, rec, lengths[i]); /* load changes nothing */
    }
    /* A buffer of exactly the record's size. */
    const uint8_t *rec = record(99, 100);
    assert_int_equal(store.save(store.ctx, REC_NAME, rec, 100), BK_OK);
    uint8_t buf[100];
    size_t len = 0;
    assert_int_equal(store.load(store.ctx, REC_NAME, buf, sizeof buf, &len), BK_OK);
    assert_int_equal(len, 100);
    assert_memory_equal(buf, rec, 100);
    assert_int_equal(sim.unerased_programs, 0);
    assert_int_equal(sim.out_of_range, 0);
}

static void test_alternating_slots(void **state) {
    (void)state;
    bk_store store = fresh_store(SLOT);
    for (uint32_t n = 1; n <= 6; n++) {
        const uint8_t *rec = record(n, 70);
        assert_int_equal(store.save(store.ctx, REC_NAME, rec, 70), BK_OK);
        assert_int_equal(sim.erases, n);
        /* The first save goes to slot 0, then they take turns. */
        unsigned written = (n - 1) % 2;
        const uint8_t *mem = bk_test_flash_slot(&sim, REC_NAME, written);
        assert_memory_equal(mem, "BKS1", 4);
        assert_int_equal(get32(mem + 4), n);
        assert_int_equal(get32(mem + 8), 70);
        assert_memory_equal(mem + 16, rec, 70);
        /* The other slot keeps the previous record. */
        if (n > 1) {
            const uint8_t *other = bk_test_flash_slot(&sim, REC_NAME, 1 - written);
            assert_int_equal(get32(other + 4), n - 1);
            assert_memory_equal(other + 16, record(n - 1, 70), 70);
        }
        assert_loads(store, rec, 70);
    }
    assert_int_equal(sim.unerased_programs, 0);
}

static void test_sequence_wraparound(void **state) {
    (void)state;
    bk_store store = fresh_store(SLOT);
    const uint8_t *old = record(1, 30);
    make_slot(0, 0xFFFFFFFFu, old, 30);
    assert_loads(store, old, 30);

    const uint8_t *next = record(2, 40);
    assert_int_equal(store.save(store.ctx, REC_NAME, next, 40), BK_OK);
    assert_int_equal(get32(bk_test_flash_slot(&sim, REC_NAME, 1) + 4), 0);
    assert_loads(store, next, 40); /* 0 comes after 0xFFFFFFFF */

    const uint8_t *third = record(3, 50);
    assert_int_equal(store.save(store.ctx, REC_NAME, third, 50), BK_OK);
    assert_int_equal(get32(bk_test_flash_slot(&sim, REC_NAME, 0) + 4), 1);
    assert_loads(store, third, 50);

    /* Both slots valid across the wrap, either way round. */
    const uint8_t *a = record(4, 20);
    const uint8_t *b = record(5, 20);
    static const uint32_t pairs[][2] = {
        {0xFFFFFFFFu, 0}, {0x7FFFFFFFu, 0x80000000u}, {41, 42}, {0xFFFFFFFEu, 0xFFFFFFFFu}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        make_slot(0, pairs[i][0], a, 20);
        make_slot(1, pairs[i][1], b, 20);
        assert_loads(store, b, 20);
        make_slot(0, pairs[i][1], a, 20);
        make_slot(1, pairs[i][0], b, 20);
        assert_loads(store, a, 20);
        /* A save follows the newest: slot 0 holds it, so slot 1 is written, one number on. */
        assert_int_equal(store.save(store.ctx, REC_NAME, next, 40), BK_OK);
        assert_int_equal(get32(bk_test_flash_slot(&sim, REC_NAME, 1) + 4), pairs[i][1] + 1u);
        assert_loads(store, next, 40);
    }
}

static void test_too_large(void **state) {
    (void)state;
    bk_store store = fresh_store(SLOT);
    const uint8_t *rec = record(1, 100);
    assert_int_equal(store.save(store.ctx, REC_NAME, rec, 100), BK_OK);
    unsigned erases = sim.erases;
    unsigned programs = sim.programs;

    /* Checked before anything is erased: the old record stays. */
    const uint8_t *big = record(2, ROOM + 1);
    assert_int_equal(store.save(store.ctx, REC_NAME, big, ROOM + 1), BK_ERR_STORE_TOO_LARGE);
    assert_int_equal(store.save(store.ctx, REC_NAME, big, SIZE_MAX), BK_ERR_STORE_TOO_LARGE);
    assert_int_equal(sim.erases, erases);
    assert_int_equal(sim.programs, programs);
    assert_loads(store, rec, 100);

    /* A buffer too small for the record: the size needed comes back in len. */
    uint8_t buf[99];
    size_t len = 0;
    assert_int_equal(store.load(store.ctx, REC_NAME, buf, sizeof buf, &len),
                     BK_ERR_STORE_TOO_LARGE);
    assert_int_equal(len, 100);
    assert_int_equal(store.load(store.ctx, REC_NAME, NULL, 0, &len), BK_ERR_STORE_TOO_LARGE);

    /* Exactly a slot's room fits. */
    assert_int_equal(store.save(store.ctx, REC_NAME, big, ROOM), BK_OK);
    assert_loads(store, big, ROOM);

    /* A slot with no room beyond its header holds only empty records; a smaller one none. */
    store = fresh_store(BK_FLASH_SLOT_HEADER);
    assert_int_equal(store.save(store.ctx, REC_NAME, rec, 1), BK_ERR_STORE_TOO_LARGE);
    assert_int_equal(store.save(store.ctx, REC_NAME, rec, 0), BK_OK);
    assert_loads(store, rec, 0);
    store = fresh_store(BK_FLASH_SLOT_HEADER - 1);
    assert_int_equal(store.save(store.ctx, REC_NAME, rec, 0), BK_ERR_STORE_TOO_LARGE);
    assert_not_found(store);
}

/* A flash whose program answers BK_OK without changing anything for the header (offset 0). */
static bk_result lying_program(void *ctx, const char *name, unsigned slot, uint32_t offset,
                               const uint8_t *data, size_t len) {
    if (offset == 0) {
        return BK_OK;
    }
    return bk_test_flash_ops(ctx).program(ctx, name, slot, offset, data, len);
}

static void test_flash_errors(void **state) {
    (void)state;
    bk_store store = fresh_store(SLOT);
    const uint8_t *rec = record(1, 90);
    const uint8_t *other = record(2, 90);
    uint8_t buf[SLOT];
    size_t len;
    assert_int_equal(store.save(store.ctx, REC_NAME, rec, 90), BK_OK);

    /* Reads fail: nothing is erased, and load says so rather than "not found". */
    sim.read_result = BK_ERR_UNSUPPORTED;
    unsigned erases = sim.erases;
    assert_int_equal(store.save(store.ctx, REC_NAME, other, 90), BK_ERR_STORE_IO);
    assert_int_equal(sim.erases, erases);
    assert_int_equal(store.load(store.ctx, REC_NAME, buf, sizeof buf, &len), BK_ERR_STORE_IO);
    sim.read_result = BK_OK;
    assert_loads(store, rec, 90);

    sim.erase_result = BK_ERR_TIMEOUT;
    assert_int_equal(store.save(store.ctx, REC_NAME, other, 90), BK_ERR_STORE_IO);
    sim.erase_result = BK_OK;
    assert_loads(store, rec, 90);

    sim.program_result = BK_ERR_STORE_FULL;
    assert_int_equal(store.save(store.ctx, REC_NAME, other, 90), BK_ERR_STORE_IO);
    sim.program_result = BK_OK;
    assert_loads(store, rec, 90);

    /* A header that never landed, though the flash said it did: the read-back catches it. */
    bk_flash lying = bk_test_flash_ops(&sim);
    lying.program = lying_program;
    bk_flash_store lying_records;
    bk_store liar = bk_flash_store_init(&lying_records, lying);
    assert_int_equal(liar.save(liar.ctx, REC_NAME, other, 90), BK_ERR_STORE_IO);
    assert_loads(store, rec, 90);

    /* After all that, a clean save works. */
    assert_int_equal(store.save(store.ctx, REC_NAME, other, 90), BK_OK);
    assert_loads(store, other, 90);
    assert_int_equal(sim.unerased_programs, 0);
}

static void test_arguments(void **state) {
    (void)state;
    bk_store store = fresh_store(SLOT);
    uint8_t buf[8];
    size_t len;
    const uint8_t *rec = record(1, 8);
    assert_int_equal(store.save(store.ctx, NULL, rec, 8), BK_ERR_ARGUMENT);
    assert_int_equal(store.save(store.ctx, ".rotation", rec, 8), BK_ERR_ARGUMENT);
    assert_int_equal(store.save(store.ctx, "a/b", rec, 8), BK_ERR_ARGUMENT);
    assert_int_equal(store.save(store.ctx, REC_NAME, NULL, 8), BK_ERR_ARGUMENT);
    assert_int_equal(store.save(NULL, REC_NAME, rec, 8), BK_ERR_ARGUMENT);
    assert_int_equal(store.load(store.ctx, "", buf, sizeof buf, &len), BK_ERR_ARGUMENT);
    assert_int_equal(store.load(store.ctx, REC_NAME, buf, sizeof buf, NULL), BK_ERR_ARGUMENT);
    assert_int_equal(store.load(store.ctx, REC_NAME, NULL, 8, &len), BK_ERR_ARGUMENT);
    assert_int_equal(store.load(NULL, REC_NAME, buf, sizeof buf, &len), BK_ERR_ARGUMENT);
    assert_int_equal(sim.erases + sim.programs, 0);
    /* An empty record needs no data pointer. */
    assert_int_equal(store.save(store.ctx, REC_NAME, NULL, 0), BK_OK);
    assert_int_equal(store.load(store.ctx, REC_NAME, NULL, 0, &len), BK_OK);
    assert_int_equal(len, 0);

    bk_flash_store broken;
    bk_flash ops = bk_test_flash_ops(&sim);
    ops.erase = NULL;
    bk_store no_erase = bk_flash_store_init(&broken, ops);
    assert_int_equal(no_erase.save(no_erase.ctx, REC_NAME, rec, 8), BK_ERR_ARGUMENT);
}

static void test_names_are_separate(void **state) {
    (void)state;
    bk_store store = fresh_store(SLOT);
    const uint8_t *a = record(1, 40);
    const uint8_t *b = record(2, 50);
    uint8_t buf[SLOT];
    size_t len;
    assert_int_equal(store.save(store.ctx, "a", a, 40), BK_OK);
    assert_int_equal(store.load(store.ctx, "b", buf, sizeof buf, &len), BK_ERR_STORE_NOT_FOUND);
    assert_int_equal(store.save(store.ctx, "b", b, 50), BK_OK);
    assert_int_equal(store.save(store.ctx, "a", b, 50), BK_OK);
    assert_int_equal(store.load(store.ctx, "b", buf, sizeof buf, &len), BK_OK);
    assert_int_equal(len, 50);
    assert_memory_equal(buf, b, 50);
    assert_int_equal(store.load(store.ctx, "a", buf, sizeof buf, &len), BK_OK);
    assert_int_equal(len, 50);
    assert_memory_equal(buf, b, 50);
}

/* --- power cuts --- */

typedef struct cut_mode {
    bool erase_counts;
    bool erase_from_end;
    const char *what;
} cut_mode;

static const cut_mode cut_modes[] = {
    {false, false, "program cuts, atomic erase"},
    {true, false, "erase torn from the start"},
    {true, true, "erase torn from the end"},
};

/* Saves `history` records, then B with the power failing after every possible byte count
 * (programmed bytes, and erased ones when the mode counts them). After each cut, load must find
 * the newest earlier record, or B exactly when every byte of B's slot (header included) is what a
 * complete save leaves; then the store must take a clean save, and another. */
static void power_cut_every_byte(unsigned history, size_t b_len, const cut_mode *mode) {
    uint8_t b[SLOT];
    memcpy(b, record(100, b_len), b_len);
    unsigned target = history % 2; /* the slot B goes to */
    size_t total = b_len + BK_FLASH_SLOT_HEADER + (mode->erase_counts ? SLOT : 0);
    size_t landed_count = 0;
    for (size_t k = 0; k <= total + 1; k++) {
        bk_store store = fresh_store(SLOT);
        sim.erase_counts = mode->erase_counts;
        sim.erase_from_end = mode->erase_from_end;
        for (unsigned h = 1; h <= history; h++) {
            assert_int_equal(store.save(store.ctx, REC_NAME, record(h, 20 + 37 * h), 20 + 37 * h),
                             BK_OK);
        }
        /* What a complete save of B leaves. */
        reference = sim;
        bk_flash_store ref_records;
        bk_store ref = bk_flash_store_init(&ref_records, bk_test_flash_ops(&reference));
        assert_int_equal(ref.save(ref.ctx, REC_NAME, b, b_len), BK_OK);

        bk_test_flash_cut_after(&sim, k);
        bk_result saved = store.save(store.ctx, REC_NAME, b, b_len);
        bk_test_flash_power_on(&sim);
        if (k >= total) {
            assert_int_equal(saved, BK_OK);
        } else if (saved != BK_ERR_STORE_IO) {
            fail_msg("%s, %u earlier, cut after %zu of %zu: save answered %d", mode->what, history,
                     k, total, saved);
        }

        bool landed = memcmp(bk_test_flash_slot(&sim, REC_NAME, target),
                             bk_test_flash_slot(&reference, REC_NAME, target),
                             BK_FLASH_SLOT_HEADER + b_len) == 0;
        landed_count += landed;
        uint8_t buf[SLOT];
        size_t len = 0;
        bk_result r = store.load(store.ctx, REC_NAME, buf, sizeof buf, &len);
        if (landed) {
            if (r != BK_OK || len != b_len || memcmp(buf, b, b_len) != 0) {
                fail_msg("%s, %u earlier, cut after %zu of %zu: B is in, load did not give it",
                         mode->what, history, k, total);
            }
        } else if (history == 0) {
            if (r != BK_ERR_STORE_NOT_FOUND) {
                fail_msg("%s, first save cut after %zu of %zu: load answered %d", mode->what, k,
                         total, r);
            }
        } else {
            size_t a_len = 20 + 37 * history;
            if (r != BK_OK || len != a_len || memcmp(buf, record(history, a_len), a_len) != 0) {
                fail_msg("%s, %u earlier, cut after %zu of %zu: load did not give the old record "
                         "(%d, %zu bytes)",
                         mode->what, history, k, total, r, len);
            }
        }

        /* The store recovers: a clean save, and the next one in turn. */
        const uint8_t *c = record(200, 60);
        const uint8_t *d = record(201, 61);
        assert_int_equal(store.save(store.ctx, REC_NAME, c, 60), BK_OK);
        assert_loads(store, c, 60);
        assert_int_equal(store.save(store.ctx, REC_NAME, d, 61), BK_OK);
        assert_loads(store, d, 61);
        assert_int_equal(sim.unerased_programs, 0);
        assert_int_equal(sim.out_of_range, 0);
    }
    /* B lands only at the very end (give or take header bytes that are 0xFF anyway). */
    assert_true(landed_count >= 2);
    assert_true(landed_count <= 2 + 4);
}

static void power_cut_all(unsigned history) {
    static const size_t lengths[] = {0, 1, 150, ROOM};
    for (size_t m = 0; m < sizeof cut_modes / sizeof cut_modes[0]; m++) {
        for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
            power_cut_every_byte(history, lengths[i], &cut_modes[m]);
        }
    }
}

static void test_power_cut_first_save(void **state) {
    (void)state;
    power_cut_all(0);
}

static void test_power_cut_after_one_record(void **state) {
    (void)state;
    power_cut_all(1);
}

static void test_power_cut_over_an_older_record(void **state) {
    (void)state;
    power_cut_all(2);
    power_cut_all(3);
}

/* --- bit flips --- */

static void test_bit_flip_falls_back(void **state) {
    (void)state;
    bk_store store = fresh_store(SLOT);
    const uint8_t *a = record(1, 100);
    const uint8_t *b = record(2, 130);
    assert_int_equal(store.save(store.ctx, REC_NAME, a, 100), BK_OK);

    /* The only record damaged: nothing to fall back to. */
    uint8_t *slot0 = bk_test_flash_slot(&sim, REC_NAME, 0);
    for (size_t i = 0; i < BK_FLASH_SLOT_HEADER + 100; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            slot0[i] ^= (uint8_t)(1u << bit);
            assert_not_found(store);
            slot0[i] ^= (uint8_t)(1u << bit);
        }
    }

    assert_int_equal(store.save(store.ctx, REC_NAME, b, 130), BK_OK);
    uint8_t *slot1 = bk_test_flash_slot(&sim, REC_NAME, 1);
    /* Any bit of the newest slot's header or record: the older record. */
    for (size_t i = 0; i < BK_FLASH_SLOT_HEADER + 130; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            slot1[i] ^= (uint8_t)(1u << bit);
            uint8_t buf[SLOT];
            size_t len = 0;
            bk_result r = store.load(store.ctx, REC_NAME, buf, sizeof buf, &len);
            if (r != BK_OK || len != 100 || memcmp(buf, a, 100) != 0) {
                fail_msg("bit %u of byte %zu flipped: load answered %d, %zu bytes", bit, i, r, len);
            }
            slot1[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Bits past the record, or in the older slot, change nothing. */
    for (size_t i = BK_FLASH_SLOT_HEADER + 130; i < SLOT; i++) {
        slot1[i] ^= 0x10;
        assert_loads(store, b, 130);
        slot1[i] ^= 0x10;
    }
    for (size_t i = 0; i < BK_FLASH_SLOT_HEADER + 100; i++) {
        slot0[i] ^= 0x01;
        assert_loads(store, b, 130);
        slot0[i] ^= 0x01;
    }

    /* A damaged newest record is the one the next save replaces; the older one stays. */
    slot1[BK_FLASH_SLOT_HEADER + 7] ^= 0x04;
    const uint8_t *c = record(3, 110);
    assert_int_equal(store.save(store.ctx, REC_NAME, c, 110), BK_OK);
    assert_int_equal(get32(slot1 + 4), 2); /* one after A's */
    assert_memory_equal(slot0 + BK_FLASH_SLOT_HEADER, a, 100);
    assert_loads(store, c, 110);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known_answers),
        cmocka_unit_test(test_name_ok),
        cmocka_unit_test(test_format_on_flash),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_alternating_slots),
        cmocka_unit_test(test_sequence_wraparound),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_flash_errors),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_names_are_separate),
        cmocka_unit_test(test_power_cut_first_save),
        cmocka_unit_test(test_power_cut_after_one_record),
        cmocka_unit_test(test_power_cut_over_an_older_record),
        cmocka_unit_test(test_bit_flip_falls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
