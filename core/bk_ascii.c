/* SPDX-License-Identifier: MIT */
#include "bk_ascii.h"

#include <string.h>

bool bk_ascii_is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool bk_ascii_is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool bk_ascii_is_alnum(char c) {
    return bk_ascii_is_alpha(c) || bk_ascii_is_digit(c);
}

bool bk_ascii_is_hex(char c) {
    return bk_ascii_hex_value(c) >= 0;
}

char bk_ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int bk_ascii_hex_value(char c) {
    if (bk_ascii_is_digit(c)) {
        return c - '0';
    }
    c = bk_ascii_lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

bool bk_ascii_ieq(const char *text, size_t len, const char *word) {
    size_t i = 0;
    for (; i < len && word[i] != '\0'; i++) {
        if (bk_ascii_lower(text[i]) != bk_ascii_lower(word[i])) {
            return false;
        }
    }
    return i == len && word[i] == '\0';
}

bool bk_ascii_prefix_ieq(const char *text, const char *prefix) {
    for (; *prefix != '\0'; text++, prefix++) {
        if (bk_ascii_lower(*text) != bk_ascii_lower(*prefix)) {
            return false; /* also at text's NUL */
        }
    }
    return true;
}

bk_decimal bk_ascii_decimal(const char *s, size_t len, uint64_t max, uint64_t *out) {
    *out = 0;
    if (len == 0) {
        return BK_DECIMAL_INVALID;
    }
    uint64_t v = 0;
    bool too_large = false;
    for (size_t i = 0; i < len; i++) {
        if (!bk_ascii_is_digit(s[i])) {
            return BK_DECIMAL_INVALID;
        }
        uint64_t d = (uint64_t)(s[i] - '0');
        if (too_large || max < d || v > (max - d) / 10) {
            too_large = true; /* keep checking that the rest are digits */
            continue;
        }
        v = v * 10 + d;
    }
    *out = too_large ? max : v;
    return too_large ? BK_DECIMAL_TOO_LARGE : BK_DECIMAL_OK;
}

size_t bk_utf8_prefix(const char *text, size_t len, size_t max) {
    if (len <= max) {
        return len;
    }
    /* text[max] exists: step back while it continues the character before it. */
    size_t n = max;
    while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) {
        n--;
    }
    return n;
}

bool bk_cut_copy(char *dst, size_t cap, const char *src, size_t len) {
    if (cap <= BK_CUT_MARK_LEN) {
        if (cap > 0) {
            dst[0] = '\0'; /* no room for text and mark: a caller's mistake, kept harmless */
        }
        return true;
    }
    if (len < cap) {
        memcpy(dst, src, len);
        dst[len] = '\0';
        return false;
    }
    size_t keep = bk_utf8_prefix(src, len, cap - 1 - BK_CUT_MARK_LEN);
    memcpy(dst, src, keep);
    memcpy(dst + keep, BK_CUT_MARK, BK_CUT_MARK_LEN + 1);
    return true;
}
