/* SPDX-License-Identifier: MIT */
/* Text helpers shared by the parsers and writers: ASCII classes and case, hex and decimal
 * numbers, and cutting diagnostic text to fit a field.
 *
 *     if (bk_ascii_ieq(name, name_len, "Content-Length")) ...
 *     uint64_t n;
 *     if (bk_ascii_decimal(text, len, INT64_MAX, &n) != BK_DECIMAL_OK) ...
 *     bool cut = bk_cut_copy(field, sizeof field, text, len);
 */
#ifndef BK_ASCII_H
#define BK_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool bk_ascii_is_digit(char c);
bool bk_ascii_is_alpha(char c);
bool bk_ascii_is_alnum(char c);
bool bk_ascii_is_hex(char c);
char bk_ascii_lower(char c);
/* 0-15 for a hex digit of either case, -1 otherwise. */
int bk_ascii_hex_value(char c);

/* True when the len bytes at text equal the NUL-terminated word, ignoring ASCII case. */
bool bk_ascii_ieq(const char *text, size_t len, const char *word);
/* True when the NUL-terminated text starts with prefix, ignoring ASCII case. */
bool bk_ascii_prefix_ieq(const char *text, const char *prefix);

typedef enum bk_decimal {
    BK_DECIMAL_OK,
    BK_DECIMAL_INVALID,  /* empty, or a byte that is not a digit (sign, space, fraction) */
    BK_DECIMAL_TOO_LARGE /* above max; *out holds max */
} bk_decimal;

/* Reads the len decimal digits at s into *out. */
bk_decimal bk_ascii_decimal(const char *s, size_t len, uint64_t max, uint64_t *out);

/* What ends a diagnostic text that was cut to fit its field. */
#define BK_CUT_MARK     "[...]"
#define BK_CUT_MARK_LEN 5

/* The longest prefix of the len bytes at text, no longer than max, that does not end inside a
 * UTF-8 sequence (text beyond max, when there is some, tells where the next character starts). */
size_t bk_utf8_prefix(const char *text, size_t len, size_t max);
/* Copies len bytes at src into dst (cap bytes, NUL-terminated, cap > BK_CUT_MARK_LEN). Text that
 * does not fit is cut at a character boundary and ends in BK_CUT_MARK; true when it was cut. */
bool bk_cut_copy(char *dst, size_t cap, const char *src, size_t len);

#endif
