/* SPDX-License-Identifier: MIT */
/* The tokenizer seam on jsmn: the one translation unit that includes <jsmn.h>.
 *
 * jsmn's strict mode still lets through documents that are not JSON (`[1 2]`, `{"a" "b"}`,
 * `[1,]`, `{"a":1,}`, `["a":1]`, two top-level values), so after jsmn succeeds this file checks
 * the grammar between tokens: the bytes between two tokens may only be whitespace, closing
 * brackets, one comma or one colon, each where JSON puts it. Primitives (`tru`, `01`) are checked
 * by core when it reads them (bk_json_check). */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* static: jsmn's functions stay private to this file, so an application that links its own jsmn
 * does not clash with ours. */
#define JSMN_STATIC
#include <jsmn.h>

#include "bk_json.h"

#if !defined(JSMN_STRICT) || !defined(JSMN_PARENT_LINKS)
#error "port/jsmn needs -DJSMN_STRICT -DJSMN_PARENT_LINKS"
#endif

/* bk_json_token is jsmntok_t under another name: jsmn writes the caller's bk_json_token array
 * through a jsmntok_t pointer. The cast is sound because the two structs have the same members of
 * the same types at the same offsets (checked below, fails to compile otherwise), and this file
 * touches the array only as jsmntok_t while the rest of the library only reads it as bk_json_token,
 * so no function mixes the two types on the same storage. */
#define BK_JSMN_ASSERT(name, cond) typedef char bk_jsmn_assert_##name[(cond) ? 1 : -1]
#define BK_JSMN_SAME_FIELD(field)                                                                  \
    BK_JSMN_ASSERT(offset_##field, offsetof(bk_json_token, field) == offsetof(jsmntok_t, field));  \
    BK_JSMN_ASSERT(size_##field,                                                                   \
                   sizeof(((bk_json_token *)0)->field) == sizeof(((jsmntok_t *)0)->field))

BK_JSMN_ASSERT(token_size, sizeof(bk_json_token) == sizeof(jsmntok_t));
BK_JSMN_SAME_FIELD(type);
BK_JSMN_SAME_FIELD(start);
BK_JSMN_SAME_FIELD(end);
BK_JSMN_SAME_FIELD(size);
BK_JSMN_SAME_FIELD(parent);
BK_JSMN_ASSERT(type_size, sizeof(bk_json_type) == sizeof(jsmntype_t));
BK_JSMN_ASSERT(undefined, (int)BK_JSON_UNDEFINED == (int)JSMN_UNDEFINED);
BK_JSMN_ASSERT(object, (int)BK_JSON_OBJECT == (int)JSMN_OBJECT);
BK_JSMN_ASSERT(array, (int)BK_JSON_ARRAY == (int)JSMN_ARRAY);
BK_JSMN_ASSERT(string, (int)BK_JSON_STRING == (int)JSMN_STRING);
BK_JSMN_ASSERT(primitive, (int)BK_JSON_PRIMITIVE == (int)JSMN_PRIMITIVE);

static bool bk_jsmn_is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* jsmn's string tokens exclude the quotes; the grammar checks need the whole value. */
static int bk_jsmn_outer_start(const jsmntok_t *tok) {
    return tok->type == JSMN_STRING ? tok->start - 1 : tok->start;
}

static int bk_jsmn_outer_end(const jsmntok_t *tok) {
    return tok->type == JSMN_STRING ? tok->end + 1 : tok->end;
}

static int bk_jsmn_skip_space(const char *text, int pos, int end) {
    while (pos < end && bk_jsmn_is_space(text[pos])) {
        pos++;
    }
    return pos;
}

/* The bytes [pos, end) hold only whitespace, then `sep` and whitespace again when sep is not 0. */
static bool bk_jsmn_gap_is(const char *text, int pos, int end, char sep) {
    pos = bk_jsmn_skip_space(text, pos, end);
    if (sep != '\0') {
        if (pos >= end || text[pos] != sep) {
            return false;
        }
        pos = bk_jsmn_skip_space(text, pos + 1, end);
    }
    return pos == end;
}

/* The bytes [pos, end) close zero or more containers and then, when `comma`, start the next
 * member: whitespace, closing brackets, whitespace, and one comma. jsmn has already matched each
 * bracket with the container it closes. */
static bool bk_jsmn_gap_closes(const char *text, int pos, int end, bool comma) {
    pos = bk_jsmn_skip_space(text, pos, end);
    while (pos < end && (text[pos] == '}' || text[pos] == ']')) {
        pos = bk_jsmn_skip_space(text, pos + 1, end);
    }
    if (comma) {
        if (pos >= end || text[pos] != ',') {
            return false;
        }
        pos = bk_jsmn_skip_space(text, pos + 1, end);
    }
    return pos == end;
}

/* Where each token may sit: members of objects are keys with exactly one value, array entries and
 * values are not keys, and nothing but a key has a value of its own. The last token of a prefix
 * may be a key whose value did not fit. */
static bool bk_jsmn_shape_ok(const jsmntok_t *tokens, int i, bool last_of_prefix) {
    const jsmntok_t *tok = &tokens[i];
    int parent = tok->parent;
    bool is_key = parent >= 0 && tokens[parent].type == JSMN_OBJECT;

    if (i > 0 && parent < 0) {
        return false; /* a second top-level value */
    }
    if (parent >= 0 && tokens[parent].type == JSMN_STRING &&
        (tokens[parent].parent < 0 || tokens[tokens[parent].parent].type != JSMN_OBJECT)) {
        return false; /* a value after a string that is not a key */
    }
    if (parent >= 0 && tokens[parent].type == JSMN_PRIMITIVE) {
        return false;
    }
    if (is_key) {
        return tok->type == JSMN_STRING && (tok->size == 1 || (last_of_prefix && tok->size == 0));
    }
    if (tok->type == JSMN_STRING || tok->type == JSMN_PRIMITIVE) {
        return tok->size == 0;
    }
    return tok->type == JSMN_OBJECT || tok->type == JSMN_ARRAY;
}

/* Checks the bytes between consecutive tokens (in document order) against the JSON grammar. For a
 * prefix (the tokens did not cover the text) only the bytes up to the last token are checked, and
 * containers still open (end -1) are not checked for emptiness. */
static bool bk_jsmn_grammar_ok(const char *text, int len, const jsmntok_t *tokens, int count,
                               bool prefix) {
    if (!bk_jsmn_gap_is(text, 0, bk_jsmn_outer_start(&tokens[0]), '\0')) {
        return false;
    }
    for (int i = 0; i < count; i++) {
        const jsmntok_t *tok = &tokens[i];
        if (!bk_jsmn_shape_ok(tokens, i, prefix && i == count - 1)) {
            return false;
        }
        if ((tok->type == JSMN_OBJECT || tok->type == JSMN_ARRAY) && tok->size == 0 &&
            tok->end >= 0 && !bk_jsmn_gap_is(text, tok->start + 1, tok->end - 1, '\0')) {
            return false; /* `[,]`, `{:}` */
        }
        if (i == 0) {
            continue;
        }
        const jsmntok_t *prev = &tokens[i - 1];
        int start = bk_jsmn_outer_start(tok);
        bool ok;
        if (tok->parent == i - 1 && prev->type == JSMN_STRING) {
            ok = bk_jsmn_gap_is(text, bk_jsmn_outer_end(prev), start, ':');
        } else if (tok->parent == i - 1) {
            ok = bk_jsmn_gap_is(text, prev->start + 1, start, '\0'); /* first member */
        } else {
            ok = bk_jsmn_gap_closes(text, bk_jsmn_outer_end(prev), start, true);
        }
        if (!ok) {
            return false;
        }
    }
    if (prefix) {
        return true;
    }
    /* After the last token: the brackets still open, then only whitespace to the end. */
    if (!bk_jsmn_gap_closes(text, bk_jsmn_outer_end(&tokens[count - 1]), len, false)) {
        return false;
    }
    return bk_jsmn_outer_end(&tokens[0]) <= len &&
           bk_jsmn_gap_is(text, bk_jsmn_outer_end(&tokens[0]), len, '\0');
}

bk_result bk_json_tokenize(const char *text, size_t len, bk_json_token *tokens, size_t max,
                           size_t *count) {
    if (count != NULL) {
        *count = 0;
    }
    if (text == NULL || tokens == NULL || count == NULL) {
        return BK_ERR_ARGUMENT;
    }
    /* jsmn's offsets are int: a longer text could not be described. */
    if (len > (size_t)INT_MAX) {
        return BK_ERR_ARGUMENT;
    }
    if (max == 0) {
        return BK_ERR_JSON_TOO_MANY_TOKENS;
    }
    /* Token indices are int too; a text of len bytes never has more than len tokens. */
    unsigned int usable = max > (size_t)INT_MAX ? (unsigned int)INT_MAX : (unsigned int)max;

    jsmntok_t *jtokens = (jsmntok_t *)(void *)tokens;
    jsmn_parser parser;
    jsmn_init(&parser);
    int r = jsmn_parse(&parser, text, len, jtokens, usable);
    if (r == JSMN_ERROR_NOMEM) {
        /* jsmn filled every token in document order: a reader of diagnostics may use the start
         * of the document, once the grammar up to there is checked. */
        if (bk_jsmn_grammar_ok(text, (int)len, jtokens, (int)usable, true)) {
            *count = usable;
        }
        return BK_ERR_JSON_TOO_MANY_TOKENS;
    }
    if (r < 0) {
        return BK_ERR_JSON_SYNTAX; /* JSMN_ERROR_INVAL, JSMN_ERROR_PART */
    }
    if (r == 0) {
        return BK_ERR_JSON_SYNTAX; /* empty or only whitespace */
    }
    /* jsmn stops at a NUL byte; the root must still span the whole text. */
    if (!bk_jsmn_grammar_ok(text, (int)len, jtokens, r, false)) {
        return BK_ERR_JSON_SYNTAX;
    }
    *count = (size_t)r;
    return BK_OK;
}
