/* SPDX-License-Identifier: MIT */
/* Reading values out of a tokenized JSON document: find, skip, check, unescape, numbers. */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_json.h"

static bool bk_json_in_range(const bk_json_doc *doc, int i) {
    return doc != NULL && doc->text != NULL && doc->tokens != NULL && i >= 0 && i < doc->count;
}

int bk_json_skip(const bk_json_doc *doc, int i) {
    if (!bk_json_in_range(doc, i)) {
        return doc != NULL && doc->count > 0 ? doc->count : 0;
    }
    /* Tokens come in document order and each one's size counts its direct children (a key's
     * child is its value), so the subtree ends when every announced child has been passed. */
    int pending = 1; /* tokens of the subtree not yet passed; never more than remain */
    while (pending > 0) {
        int size = doc->tokens[i].size > 0 ? doc->tokens[i].size : 0;
        int remaining = doc->count - (i + 1);
        if (size > remaining - (pending - 1)) {
            return doc->count; /* announces more tokens than the document has */
        }
        pending += size - 1;
        i++;
    }
    return i;
}

int bk_json_find(const bk_json_doc *doc, int obj, const char *key) {
    if (!bk_json_in_range(doc, obj) || key == NULL || doc->tokens[obj].type != BK_JSON_OBJECT) {
        return -1;
    }
    size_t key_len = strlen(key);
    int members = doc->tokens[obj].size;
    int k = obj + 1;
    for (int m = 0; m < members && k + 1 < doc->count; m++) {
        const bk_json_token *tok = &doc->tokens[k];
        if (tok->parent != obj) {
            return -1; /* not a well-formed object: do not guess */
        }
        /* end >= start holds for every token jsmn fills; compare bytes as they stand. */
        if (tok->type == BK_JSON_STRING && (size_t)(tok->end - tok->start) == key_len &&
            memcmp(doc->text + tok->start, key, key_len) == 0) {
            return k + 1;
        }
        k = bk_json_skip(doc, k); /* past the key and its value */
    }
    return -1;
}

/* Whether the key token k names key once unescaped. Keys batchkey looks for are short; a longer
 * unescaped name cannot match. */
static bool bk_json_key_names(const bk_json_doc *doc, int k, const char *key, size_t key_len) {
    const bk_json_token *tok = &doc->tokens[k];
    if (tok->type != BK_JSON_STRING) {
        return false;
    }
    const char *raw = doc->text + tok->start;
    size_t raw_len = (size_t)(tok->end - tok->start);
    if (memchr(raw, '\\', raw_len) == NULL) {
        return raw_len == key_len && memcmp(raw, key, key_len) == 0;
    }
    char name[64];
    size_t name_len = 0;
    return key_len < sizeof name && bk_json_string(doc, k, name, sizeof name, &name_len) == BK_OK &&
           name_len == key_len && memcmp(name, key, key_len) == 0;
}

int bk_json_find_unique(const bk_json_doc *doc, int obj, const char *key) {
    int found = bk_json_find(doc, obj, key);
    if (found < 0) {
        return -1;
    }
    size_t key_len = strlen(key);
    int members = doc->tokens[obj].size;
    int k = obj + 1;
    int named = 0;
    for (int m = 0; m < members && k + 1 < doc->count; m++) {
        if (doc->tokens[k].parent != obj) {
            return -1;
        }
        if (bk_json_key_names(doc, k, key, key_len) && ++named > 1) {
            return -2;
        }
        k = bk_json_skip(doc, k);
    }
    return found;
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool bk_json_number_ok(const unsigned char *p, const unsigned char *end) {
    if (p < end && *p == '-') {
        p++;
    }
    if (p >= end || !bk_ascii_is_digit((char)*p)) {
        return false;
    }
    if (*p == '0') {
        p++; /* no leading zeros: `01` is not a number */
    } else {
        while (p < end && bk_ascii_is_digit((char)*p)) {
            p++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !bk_ascii_is_digit((char)*p)) {
            return false;
        }
        while (p < end && bk_ascii_is_digit((char)*p)) {
            p++;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        if (p >= end || !bk_ascii_is_digit((char)*p)) {
            return false;
        }
        while (p < end && bk_ascii_is_digit((char)*p)) {
            p++;
        }
    }
    return p == end;
}

static bool bk_json_bytes_are(const unsigned char *p, size_t len, const char *word) {
    return len == strlen(word) && memcmp(p, word, len) == 0;
}

bk_result bk_json_check(const bk_json_doc *doc, int i, bk_json_kind *kind) {
    if (kind != NULL) {
        *kind = BK_JSON_KIND_NULL;
    }
    if (!bk_json_in_range(doc, i) || kind == NULL) {
        return BK_ERR_ARGUMENT;
    }
    const bk_json_token *tok = &doc->tokens[i];
    switch (tok->type) {
    case BK_JSON_OBJECT:
        *kind = BK_JSON_KIND_OBJECT;
        return BK_OK;
    case BK_JSON_ARRAY:
        *kind = BK_JSON_KIND_ARRAY;
        return BK_OK;
    case BK_JSON_STRING:
        *kind = BK_JSON_KIND_STRING;
        return BK_OK;
    case BK_JSON_PRIMITIVE:
        break;
    case BK_JSON_UNDEFINED:
    default:
        return BK_ERR_JSON_SYNTAX;
    }
    if (tok->start < 0 || tok->end <= tok->start) {
        return BK_ERR_JSON_SYNTAX;
    }
    const unsigned char *p = (const unsigned char *)doc->text + tok->start;
    size_t len = (size_t)(tok->end - tok->start);
    if (*p == '-' || bk_ascii_is_digit((char)*p)) {
        if (!bk_json_number_ok(p, p + len)) {
            return BK_ERR_JSON_NUMBER;
        }
        *kind = BK_JSON_KIND_NUMBER;
        return BK_OK;
    }
    if (bk_json_bytes_are(p, len, "true")) {
        *kind = BK_JSON_KIND_TRUE;
    } else if (bk_json_bytes_are(p, len, "false")) {
        *kind = BK_JSON_KIND_FALSE;
    } else if (bk_json_bytes_are(p, len, "null")) {
        *kind = BK_JSON_KIND_NULL;
    } else {
        return BK_ERR_JSON_SYNTAX;
    }
    return BK_OK;
}

/* Reads the four hex digits of a \uXXXX escape at p; false when they are not all there. */
static bool bk_json_hex4(const unsigned char *p, const unsigned char *end, uint32_t *out) {
    if (end - p < 4) {
        return false;
    }
    uint32_t v = 0;
    for (int n = 0; n < 4; n++) {
        int h = bk_ascii_hex_value((char)p[n]);
        if (h < 0) {
            return false;
        }
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return true;
}

/* Bounded output: overflow is an error, and room is always kept for the terminating NUL. */
typedef struct bk_json_out {
    char *buf;
    size_t cap;
    size_t len;
} bk_json_out;

static bool bk_json_put(bk_json_out *o, uint32_t byte) {
    if (o->cap - o->len < 2) {
        return false;
    }
    o->buf[o->len++] = (char)(unsigned char)byte;
    return true;
}

static bool bk_json_put_utf8(bk_json_out *o, uint32_t cp) {
    if (cp < 0x80) {
        return bk_json_put(o, cp);
    }
    if (cp < 0x800) {
        return bk_json_put(o, 0xC0 | (cp >> 6)) && bk_json_put(o, 0x80 | (cp & 0x3F));
    }
    if (cp < 0x10000) {
        return bk_json_put(o, 0xE0 | (cp >> 12)) && bk_json_put(o, 0x80 | ((cp >> 6) & 0x3F)) &&
               bk_json_put(o, 0x80 | (cp & 0x3F));
    }
    return bk_json_put(o, 0xF0 | (cp >> 18)) && bk_json_put(o, 0x80 | ((cp >> 12) & 0x3F)) &&
           bk_json_put(o, 0x80 | ((cp >> 6) & 0x3F)) && bk_json_put(o, 0x80 | (cp & 0x3F));
}

/* Decodes the escape after a backslash at *pp (which points past the backslash) into o. */
static bk_result bk_json_unescape_one(const unsigned char **pp, const unsigned char *end,
                                      bk_json_out *o) {
    const unsigned char *p = *pp;
    if (p >= end) {
        return BK_ERR_JSON_ESCAPE;
    }
    uint32_t byte;
    switch (*p) {
    case '"':
    case '\\':
    case '/':
        byte = *p;
        break;
    case 'b':
        byte = '\b';
        break;
    case 'f':
        byte = '\f';
        break;
    case 'n':
        byte = '\n';
        break;
    case 'r':
        byte = '\r';
        break;
    case 't':
        byte = '\t';
        break;
    case 'u': {
        uint32_t cp;
        if (!bk_json_hex4(p + 1, end, &cp)) {
            return BK_ERR_JSON_ESCAPE;
        }
        p += 5;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return BK_ERR_JSON_ESCAPE; /* a low surrogate with no high one before it */
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !bk_json_hex4(p + 2, end, &low) ||
                low < 0xDC00 || low > 0xDFFF) {
                return BK_ERR_JSON_ESCAPE; /* a high surrogate must be followed by a low one */
            }
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        /* The outputs are C strings: an embedded NUL would silently cut them short. */
        if (cp == 0) {
            return BK_ERR_JSON_ESCAPE;
        }
        *pp = p;
        return bk_json_put_utf8(o, cp) ? BK_OK : BK_ERR_JSON_FIELD_OVERFLOW;
    }
    default:
        return BK_ERR_JSON_ESCAPE;
    }
    *pp = p + 1;
    return bk_json_put(o, byte) ? BK_OK : BK_ERR_JSON_FIELD_OVERFLOW;
}

/* Unescapes the string at i into out. Text that does not fit is BK_ERR_JSON_FIELD_OVERFLOW, or,
 * when cut is not NULL, cut at a character boundary and marked. */
static bk_result bk_json_unescape(const bk_json_doc *doc, int i, char *out, size_t cap,
                                  size_t *out_len, bool *cut) {
    if (out_len != NULL) {
        *out_len = 0;
    }
    if (cut != NULL) {
        *cut = false;
    }
    if (out == NULL || cap == 0 || (cut != NULL && cap <= BK_CUT_MARK_LEN)) {
        return BK_ERR_ARGUMENT;
    }
    out[0] = '\0';
    if (!bk_json_in_range(doc, i)) {
        return BK_ERR_ARGUMENT;
    }
    const bk_json_token *tok = &doc->tokens[i];
    if (tok->type != BK_JSON_STRING) {
        return BK_ERR_JSON_TYPE;
    }
    if (tok->start < 0 || tok->end < tok->start) {
        return BK_ERR_JSON_SYNTAX;
    }
    const unsigned char *p = (const unsigned char *)doc->text + tok->start;
    const unsigned char *end = (const unsigned char *)doc->text + tok->end;
    bk_json_out o = {out, cap, 0};
    bk_result r = BK_OK;
    while (p < end && r == BK_OK) {
        if (*p < 0x20) {
            r = BK_ERR_JSON_ESCAPE; /* JSON requires control characters to be escaped */
        } else if (*p == '\\') {
            p++;
            r = bk_json_unescape_one(&p, end, &o);
        } else {
            r = bk_json_put(&o, *p) ? BK_OK : BK_ERR_JSON_FIELD_OVERFLOW;
            p++;
        }
    }
    if (r == BK_ERR_JSON_FIELD_OVERFLOW && cut != NULL) {
        /* out is full up to cap - 1 bytes, possibly ending inside a character. */
        o.len = bk_utf8_prefix(out, o.len, cap - 1 - BK_CUT_MARK_LEN);
        memcpy(out + o.len, BK_CUT_MARK, BK_CUT_MARK_LEN);
        o.len += BK_CUT_MARK_LEN;
        memset(out + o.len, 0, cap - o.len);
        *cut = true;
        r = BK_OK;
    }
    if (r != BK_OK) {
        /* Leave nothing a caller could mistake for the value. */
        memset(out, 0, o.len);
        return r;
    }
    out[o.len] = '\0';
    if (out_len != NULL) {
        *out_len = o.len;
    }
    return BK_OK;
}

bk_result bk_json_string(const bk_json_doc *doc, int i, char *out, size_t cap, size_t *out_len) {
    return bk_json_unescape(doc, i, out, cap, out_len, NULL);
}

bk_result bk_json_string_cut(const bk_json_doc *doc, int i, char *out, size_t cap, bool *cut) {
    bool was_cut = false;
    bk_result r = bk_json_unescape(doc, i, out, cap, NULL, &was_cut);
    if (cut != NULL) {
        *cut = was_cut;
    }
    return r;
}

bk_result bk_json_uint(const bk_json_doc *doc, int i, bool allow_string, uint64_t max,
                       uint64_t *out) {
    if (out != NULL) {
        *out = 0;
    }
    if (out == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_json_kind kind;
    bk_result r = bk_json_check(doc, i, &kind);
    if (r != BK_OK) {
        return r;
    }
    if (kind == BK_JSON_KIND_STRING && !allow_string) {
        return BK_ERR_JSON_TYPE;
    }
    if (kind != BK_JSON_KIND_NUMBER && kind != BK_JSON_KIND_STRING) {
        return BK_ERR_JSON_TYPE;
    }
    const bk_json_token *tok = &doc->tokens[i];
    if (tok->start < 0 || tok->end < tok->start) {
        return BK_ERR_JSON_SYNTAX;
    }
    /* A number that passed the grammar check is an integer when it is all digits; a string must
     * be all digits too (no escapes, sign, spaces or fraction). */
    const char *p = doc->text + tok->start;
    return bk_ascii_decimal(p, (size_t)(tok->end - tok->start), max, out) == BK_DECIMAL_INVALID
               ? BK_ERR_JSON_NUMBER
               : BK_OK;
}
