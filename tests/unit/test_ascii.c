/* SPDX-License-Identifier: MIT */
/* The text helpers of core/bk_ascii.c at their boundaries: every byte value against a reference
 * written independently here, decimal limits, and cutting text at character boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bk_ascii.h"

static const char digits[] = "0123456789";
static const char lower_letters[] = "abcdefghijklmnopqrstuvwxyz";
static const char upper_letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* Position of byte c in the NUL-terminated set, or -1 (the NUL itself is never a member). */
static int index_in(const char *set, char c) {
    if (c == '\0') {
        return -1;
    }
    const char *p = strchr(set, c);
    return p == NULL ? -1 : (int)(p - set);
}

static bool is_continuation(char c) {
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* --- classes, case and hex: all 256 byte values --- */

static void test_classes_every_byte(void **state) {
    (void)state;
    for (int b = 0; b < 256; b++) {
        char c = (char)(unsigned char)b;
        bool digit = index_in(digits, c) >= 0;
        bool alpha = index_in(lower_letters, c) >= 0 || index_in(upper_letters, c) >= 0;
        bool hex = digit || index_in("abcdefABCDEF", c) >= 0;
        if (bk_ascii_is_digit(c) != digit || bk_ascii_is_alpha(c) != alpha ||
            bk_ascii_is_alnum(c) != (digit || alpha) || bk_ascii_is_hex(c) != hex) {
            fail_msg("byte 0x%02x: digit %d alpha %d alnum %d hex %d", (unsigned)b,
                     bk_ascii_is_digit(c), bk_ascii_is_alpha(c), bk_ascii_is_alnum(c),
                     bk_ascii_is_hex(c));
        }
    }
}

static void test_lower_every_byte(void **state) {
    (void)state;
    for (int b = 0; b < 256; b++) {
        char c = (char)(unsigned char)b;
        int upper = index_in(upper_letters, c);
        /* Only A-Z change: bytes above 0x7f are not Latin-1 letters to this library. */
        char want = upper >= 0 ? lower_letters[upper] : c;
        if (bk_ascii_lower(c) != want) {
            fail_msg("lower(0x%02x) = 0x%02x", (unsigned)b,
                     (unsigned)(unsigned char)bk_ascii_lower(c));
        }
    }
}

static void test_hex_value_every_byte(void **state) {
    (void)state;
    for (int b = 0; b < 256; b++) {
        char c = (char)(unsigned char)b;
        int want = index_in("0123456789abcdef", c);
        if (want < 0) {
            want = index_in("0123456789ABCDEF", c);
        }
        if (bk_ascii_hex_value(c) != want) {
            fail_msg("hex_value(0x%02x) = %d, want %d", (unsigned)b, bk_ascii_hex_value(c), want);
        }
    }
}

/* --- case-insensitive compares --- */

static void test_ieq(void **state) {
    (void)state;
    assert_true(bk_ascii_ieq("Content-Length", 14, "content-length"));
    assert_true(bk_ascii_ieq("CHUNKED", 7, "chunked"));
    assert_true(bk_ascii_ieq("", 0, ""));
    /* Only len bytes of text count. */
    assert_true(bk_ascii_ieq("closed", 5, "close"));
    assert_false(bk_ascii_ieq("close", 4, "close"));
    assert_false(bk_ascii_ieq("close", 5, "closed"));
    assert_false(bk_ascii_ieq("", 0, "a"));
    assert_false(bk_ascii_ieq("a", 1, ""));
    /* An embedded NUL is a byte of text, and the word has none. */
    assert_false(bk_ascii_ieq("ab\0", 3, "ab"));
    assert_false(bk_ascii_ieq("a\0c", 3, "abc"));
    assert_false(bk_ascii_ieq("\0", 1, ""));
    /* Case folds letters only: '@'/'`', '['/'{' and Latin-1 letters differ by 0x20 too. */
    assert_false(bk_ascii_ieq("@", 1, "`"));
    assert_false(bk_ascii_ieq("[", 1, "{"));
    assert_false(bk_ascii_ieq("\xc9", 1, "\xe9"));
    assert_false(bk_ascii_ieq("keep-alivf", 10, "keep-alive"));
    /* Every letter against its other case. */
    for (size_t i = 0; i < 26; i++) {
        assert_true(bk_ascii_ieq(&upper_letters[i], 1, (char[]){lower_letters[i], '\0'}));
        assert_true(bk_ascii_ieq(&lower_letters[i], 1, (char[]){upper_letters[i], '\0'}));
        if (i > 0) {
            assert_false(bk_ascii_ieq(&upper_letters[i], 1, (char[]){lower_letters[i - 1], '\0'}));
        }
    }
}

static void test_prefix_ieq(void **state) {
    (void)state;
    assert_true(bk_ascii_prefix_ieq("Bearer abc", "bearer "));
    assert_true(bk_ascii_prefix_ieq("bearer", "BEARER"));
    assert_true(bk_ascii_prefix_ieq("anything", ""));
    assert_true(bk_ascii_prefix_ieq("", ""));
    /* Text shorter than the prefix: its NUL ends the match. */
    assert_false(bk_ascii_prefix_ieq("Bear", "bearer"));
    assert_false(bk_ascii_prefix_ieq("", "b"));
    assert_false(bk_ascii_prefix_ieq("Basic x", "bearer"));
    assert_false(bk_ascii_prefix_ieq("@x", "`"));
}

/* --- decimal --- */

typedef struct decimal_case {
    const char *text;
    uint64_t max;
    bk_decimal want;
    uint64_t value; /* for OK and TOO_LARGE */
} decimal_case;

static void test_decimal_table(void **state) {
    (void)state;
    static const decimal_case cases[] = {
        {"", 100, BK_DECIMAL_INVALID, 0},
        {"x", 100, BK_DECIMAL_INVALID, 0},
        {"-1", 100, BK_DECIMAL_INVALID, 0},
        {"+1", 100, BK_DECIMAL_INVALID, 0},
        {" 1", 100, BK_DECIMAL_INVALID, 0},
        {"1 ", 100, BK_DECIMAL_INVALID, 0},
        {"1.0", 100, BK_DECIMAL_INVALID, 0},
        {"1e2", 100, BK_DECIMAL_INVALID, 0},
        {"0x1", 100, BK_DECIMAL_INVALID, 0},
        {"0", 100, BK_DECIMAL_OK, 0},
        {"007", 100, BK_DECIMAL_OK, 7},
        {"0000000000000000000000000000000000000100", 100, BK_DECIMAL_OK, 100},
        {"100", 100, BK_DECIMAL_OK, 100},
        {"101", 100, BK_DECIMAL_TOO_LARGE, 100},
        {"1000", 100, BK_DECIMAL_TOO_LARGE, 100},
        /* Too large, then a byte that is not a digit: still not a number. */
        {"101x", 100, BK_DECIMAL_INVALID, 0},
        {"99999999999999999999999999 ", 100, BK_DECIMAL_INVALID, 0},
        {"86400", 86400, BK_DECIMAL_OK, 86400},
        {"86401", 86400, BK_DECIMAL_TOO_LARGE, 86400},
        {"18446744073709551615", UINT64_MAX, BK_DECIMAL_OK, UINT64_MAX},
        {"18446744073709551616", UINT64_MAX, BK_DECIMAL_TOO_LARGE, UINT64_MAX},
        {"18446744073709551620", UINT64_MAX, BK_DECIMAL_TOO_LARGE, UINT64_MAX},
        {"99999999999999999999", UINT64_MAX, BK_DECIMAL_TOO_LARGE, UINT64_MAX},
        {"184467440737095516150", UINT64_MAX, BK_DECIMAL_TOO_LARGE, UINT64_MAX},
        {"9223372036854775807", INT64_MAX, BK_DECIMAL_OK, INT64_MAX},
        {"9223372036854775808", INT64_MAX, BK_DECIMAL_TOO_LARGE, INT64_MAX},
        {"4294967295", UINT32_MAX, BK_DECIMAL_OK, UINT32_MAX},
        {"4294967296", UINT32_MAX, BK_DECIMAL_TOO_LARGE, UINT32_MAX},
        /* max below 10: one digit may already be too large */
        {"0", 0, BK_DECIMAL_OK, 0},
        {"000", 0, BK_DECIMAL_OK, 0},
        {"1", 0, BK_DECIMAL_TOO_LARGE, 0},
        {"10", 0, BK_DECIMAL_TOO_LARGE, 0},
        {"5", 5, BK_DECIMAL_OK, 5},
        {"05", 5, BK_DECIMAL_OK, 5},
        {"6", 5, BK_DECIMAL_TOO_LARGE, 5},
        {"10", 5, BK_DECIMAL_TOO_LARGE, 5},
        {"9", 9, BK_DECIMAL_OK, 9},
        {"10", 9, BK_DECIMAL_TOO_LARGE, 9},
        {"6x", 5, BK_DECIMAL_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const decimal_case *c = &cases[i];
        uint64_t out = 12345;
        bk_decimal got = bk_ascii_decimal(c->text, strlen(c->text), c->max, &out);
        if (got != c->want) {
            fail_msg("\"%s\" max %llu: %d, want %d", c->text, (unsigned long long)c->max, (int)got,
                     (int)c->want);
        }
        if (got != BK_DECIMAL_INVALID && out != c->value) {
            fail_msg("\"%s\" max %llu: *out %llu, want %llu", c->text, (unsigned long long)c->max,
                     (unsigned long long)out, (unsigned long long)c->value);
        }
    }
    /* Only len bytes are read. */
    uint64_t out = 0;
    assert_int_equal(bk_ascii_decimal("123abc", 3, 1000, &out), BK_DECIMAL_OK);
    assert_int_equal(out, 123);
    assert_int_equal(bk_ascii_decimal("5\0", 2, 1000, &out), BK_DECIMAL_INVALID);
}

/* Every value around a range of bounds, against min(value, max). */
static void test_decimal_against_reference(void **state) {
    (void)state;
    static const uint64_t maxes[] = {0, 1, 7, 9, 10, 11, 99, 100, 255, 1000, 65535};
    for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
        for (uint64_t v = 0; v <= 70000; v += v < 1200 ? 1 : 97) {
            char text[32];
            int n = snprintf(text, sizeof text, "%llu", (unsigned long long)v);
            uint64_t out = 0;
            bk_decimal got = bk_ascii_decimal(text, (size_t)n, maxes[m], &out);
            bk_decimal want = v <= maxes[m] ? BK_DECIMAL_OK : BK_DECIMAL_TOO_LARGE;
            uint64_t want_out = v <= maxes[m] ? v : maxes[m];
            if (got != want || out != want_out) {
                fail_msg("%s max %llu: %d/%llu", text, (unsigned long long)maxes[m], (int)got,
                         (unsigned long long)out);
            }
        }
    }
}

/* --- UTF-8 prefixes --- */

/* The characters of the tests, one of each length. */
static const char *const chars[] = {"z", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};

static void test_utf8_prefix_ascii(void **state) {
    (void)state;
    const char *text = "abcdef";
    for (size_t max = 0; max <= 8; max++) {
        size_t want = max < 6 ? max : 6;
        assert_int_equal(bk_utf8_prefix(text, 6, max), want);
    }
    assert_int_equal(bk_utf8_prefix("", 0, 0), 0);
}

/* "ab" + one character of 1-4 bytes + "cd", cut at every max: the prefix ends before the
 * character or after it, never inside. */
static void test_utf8_prefix_every_split(void **state) {
    (void)state;
    for (size_t k = 0; k < sizeof chars / sizeof chars[0]; k++) {
        char text[16];
        size_t width = strlen(chars[k]);
        int len = snprintf(text, sizeof text, "ab%scd", chars[k]);
        for (size_t max = 0; max <= (size_t)len + 2; max++) {
            size_t want;
            if (max >= (size_t)len) {
                want = (size_t)len;
            } else if (max > 2 && max < 2 + width) {
                want = 2; /* inside the character: drop it whole */
            } else {
                want = max;
            }
            size_t got = bk_utf8_prefix(text, (size_t)len, max);
            if (got != want) {
                fail_msg("%zu-byte character, max %zu: %zu, want %zu", width, max, got, want);
            }
        }
    }
}

/* Stray continuation bytes (not UTF-8): whatever comes back is no longer than max and, unless
 * empty, is never followed by a continuation byte, and it is the longest such prefix. */
static void test_utf8_prefix_stray_continuations(void **state) {
    (void)state;
    static const char *const texts[] = {
        "\x80\x80\x80"
        "abc",
        "a\x80\x80"
        "b",
        "ab\xbf",
        "\x80",
        "abc\x80\x80\x80\x80\x80"
        "def",
        "\xc3\xa9\xa9\xa9x",
        "\xf0\x9f\x98\x80\x80\x80y",
    };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        const char *text = texts[t];
        size_t len = strlen(text);
        for (size_t max = 0; max <= len; max++) {
            size_t got = bk_utf8_prefix(text, len, max);
            assert_true(got <= max);
            if (got > 0 && got < len && is_continuation(text[got])) {
                fail_msg("text %zu max %zu: %zu ends before a continuation byte", t, max, got);
            }
            for (size_t longer = got + 1; longer <= max && longer < len; longer++) {
                if (!is_continuation(text[longer])) {
                    fail_msg("text %zu max %zu: %zu, but %zu is a boundary", t, max, got, longer);
                }
            }
        }
    }
}

/* --- cutting --- */

/* Whether the n bytes at s are well-formed UTF-8. */
static bool utf8_valid(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t width = 0;
        if (c < 0x80) {
            width = 1;
        } else if ((c & 0xE0) == 0xC0) {
            width = 2;
        } else if ((c & 0xF0) == 0xE0) {
            width = 3;
        } else if ((c & 0xF8) == 0xF0) {
            width = 4;
        }
        if (width == 0 || i + width > n) {
            return false;
        }
        for (size_t j = 1; j < width; j++) {
            if (!is_continuation(s[i + j])) {
                return false;
            }
        }
        i += width;
    }
    return true;
}

/* dst is cap bytes of a larger buffer; the bytes after it must stay as they were. */
static char g_dst[256];

static bool cut_copy(size_t cap, const char *src, size_t len) {
    assert_true(cap < sizeof g_dst);
    memset(g_dst, 0x55, sizeof g_dst);
    bool cut = bk_cut_copy(g_dst, cap, src, len);
    for (size_t i = cap; i < sizeof g_dst; i++) {
        if ((unsigned char)g_dst[i] != 0x55) {
            fail_msg("cap %zu, len %zu: byte %zu past the field was written", cap, len, i);
        }
    }
    return cut;
}

static void test_cut_copy_boundary(void **state) {
    (void)state;
    char src[200];
    for (size_t i = 0; i < sizeof src; i++) {
        src[i] = (char)('a' + i % 26);
    }
    const size_t caps[] = {BK_CUT_MARK_LEN + 1, BK_CUT_MARK_LEN + 2, 16, 64, 65};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        size_t cap = caps[c];
        /* cap - 1 bytes fit whole, and so does anything shorter. */
        for (size_t len = 0; len < cap; len++) {
            assert_false(cut_copy(cap, src, len));
            assert_int_equal(strlen(g_dst), len);
            assert_memory_equal(g_dst, src, len);
        }
        /* cap bytes and more are cut: exactly cap - 1 bytes, ending in the mark. */
        const size_t lens[] = {cap, cap + 1, 2 * cap, sizeof src};
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            assert_true(cut_copy(cap, src, lens[l]));
            assert_int_equal(strlen(g_dst), cap - 1);
            assert_memory_equal(g_dst, src, cap - 1 - BK_CUT_MARK_LEN);
            assert_string_equal(g_dst + cap - 1 - BK_CUT_MARK_LEN, BK_CUT_MARK);
        }
    }
    /* The smallest field holds the mark alone. */
    assert_true(cut_copy(BK_CUT_MARK_LEN + 1, "abcdef", 6));
    assert_string_equal(g_dst, BK_CUT_MARK);
    assert_int_equal(strlen(BK_CUT_MARK), BK_CUT_MARK_LEN);
}

/* A character of 2-4 bytes at every offset around the cut point: kept whole or dropped whole. */
static void test_cut_copy_never_splits_a_character(void **state) {
    (void)state;
    const size_t cap = 16;
    const size_t room = cap - 1 - BK_CUT_MARK_LEN; /* bytes of text kept beside the mark */
    for (size_t k = 1; k < sizeof chars / sizeof chars[0]; k++) {
        size_t width = strlen(chars[k]);
        for (size_t at = 0; at + width <= 24; at++) {
            char src[40];
            memset(src, 'x', sizeof src);
            memcpy(src + at, chars[k], width);
            assert_true(cut_copy(cap, src, 30));
            size_t kept = strlen(g_dst) - BK_CUT_MARK_LEN;
            size_t want = (at < room && at + width > room) ? at : room;
            if (kept != want) {
                fail_msg("%zu-byte character at %zu: kept %zu, want %zu", width, at, kept, want);
            }
            assert_true(utf8_valid(g_dst, kept));
            assert_memory_equal(g_dst, src, kept);
            assert_string_equal(g_dst + kept, BK_CUT_MARK);
        }
    }
    /* A multibyte text of exactly cap - 1 bytes fits, not cut. */
    assert_false(cut_copy(7, "\xf0\x9f\x98\x80\xc3\xa9", 6));
    assert_string_equal(g_dst, "\xf0\x9f\x98\x80\xc3\xa9");
    /* A field just above the mark: a leading character wider than the room goes whole. */
    assert_true(cut_copy(BK_CUT_MARK_LEN + 2, "\xc3\xa9xxxxxx", 8));
    assert_string_equal(g_dst, BK_CUT_MARK);
    assert_true(cut_copy(BK_CUT_MARK_LEN + 3, "\xc3\xa9xxxxxx", 8));
    assert_string_equal(g_dst, "\xc3\xa9" BK_CUT_MARK);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes_every_byte),
        cmocka_unit_test(test_lower_every_byte),
        cmocka_unit_test(test_hex_value_every_byte),
        cmocka_unit_test(test_ieq),
        cmocka_unit_test(test_prefix_ieq),
        cmocka_unit_test(test_decimal_table),
        cmocka_unit_test(test_decimal_against_reference),
        cmocka_unit_test(test_utf8_prefix_ascii),
        cmocka_unit_test(test_utf8_prefix_every_split),
        cmocka_unit_test(test_utf8_prefix_stray_continuations),
        cmocka_unit_test(test_cut_copy_boundary),
        cmocka_unit_test(test_cut_copy_never_splits_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
