/* SPDX-License-Identifier: MIT */
/* The JSON layer: the jsmn tokenizer seam (grammar, limits) and the readers in core/bk_json.c. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include <cmocka.h>

#include "bk_ascii.h"
#include "bk_json.h"

#define TOKENS_MAX 64

static bk_json_token g_tokens[TOKENS_MAX];

static bk_result tokenize(const char *text, size_t *count) {
    return bk_json_tokenize(text, strlen(text), g_tokens, TOKENS_MAX, count);
}

/* Tokenizes text (which must be valid) into the shared token array. */
static bk_json_doc doc_of(const char *text) {
    size_t count = 0;
    bk_result r = tokenize(text, &count);
    if (r != BK_OK) {
        fail_msg("tokenize(%s) = %d", text, (int)r);
    }
    bk_json_doc doc = {text, g_tokens, (int)count, false};
    return doc;
}

static void assert_syntax_error(const char *text) {
    size_t count = 99;
    bk_result r = tokenize(text, &count);
    if (r != BK_ERR_JSON_SYNTAX) {
        fail_msg("tokenize(%s) = %d, want BK_ERR_JSON_SYNTAX", text, (int)r);
    }
    assert_int_equal(count, 0);
}

static void assert_all_zero(const char *buf, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\0') {
            fail_msg("byte %zu is 0x%02x after a failure", i, (unsigned)(unsigned char)buf[i]);
        }
    }
}

/* --- tokenizer --- */

static void test_tokenize_object_with_parent_links(void **state) {
    (void)state;
    size_t count = 0;
    assert_int_equal(tokenize(" {\"a\": [1, \"x\"], \"b\": {\"c\": null}} \n", &count), BK_OK);
    assert_int_equal(count, 9);
    assert_int_equal(g_tokens[0].type, BK_JSON_OBJECT);
    assert_int_equal(g_tokens[0].parent, -1);
    assert_int_equal(g_tokens[0].size, 2);
    assert_int_equal(g_tokens[1].type, BK_JSON_STRING); /* "a" */
    assert_int_equal(g_tokens[1].parent, 0);
    assert_int_equal(g_tokens[1].start, 3);
    assert_int_equal(g_tokens[1].end, 4);
    assert_int_equal(g_tokens[2].type, BK_JSON_ARRAY);
    assert_int_equal(g_tokens[2].parent, 1);
    assert_int_equal(g_tokens[2].size, 2);
    assert_int_equal(g_tokens[3].type, BK_JSON_PRIMITIVE); /* 1 */
    assert_int_equal(g_tokens[3].parent, 2);
    assert_int_equal(g_tokens[4].type, BK_JSON_STRING); /* "x" */
    assert_int_equal(g_tokens[4].parent, 2);
    assert_int_equal(g_tokens[5].parent, 0); /* "b" */
    assert_int_equal(g_tokens[6].type, BK_JSON_OBJECT);
    assert_int_equal(g_tokens[8].type, BK_JSON_PRIMITIVE); /* null */
    assert_int_equal(g_tokens[8].parent, 7);
}

static void test_tokenize_accepts_valid_shapes(void **state) {
    (void)state;
    static const char *const valid[] = {
        "{}",
        "[]",
        "\"text\"",
        " \t\r\n{ } \t\r\n",
        "{\"a\":{}}",
        "{\"a\":[]}",
        "[[],{},[[]]]",
        "[1,2,3]",
        "[ 1 , 2 ]",
        "{\"a\" : 1 , \"b\" : [ { \"c\" : true } ] }",
        "{\"a\":[[1],[2,[3]]],\"b\":2}",
        "[\"a\",\"b\"]",
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        size_t count = 0;
        bk_result r = tokenize(valid[i], &count);
        if (r != BK_OK || count == 0) {
            fail_msg("tokenize(%s) = %d", valid[i], (int)r);
        }
    }
}

static void test_tokenize_rejects_empty(void **state) {
    (void)state;
    assert_syntax_error("");
    assert_syntax_error(" \r\n\t ");
}

static void test_tokenize_rejects_trailing_garbage(void **state) {
    (void)state;
    assert_syntax_error("{} x");
    assert_syntax_error("{}}");
    assert_syntax_error("{}]");
    assert_syntax_error("[1]]");
    assert_syntax_error("{\"a\":1}}");
    assert_syntax_error("{},");
    assert_syntax_error("{}:");
    /* A NUL byte ends jsmn's scan; the document must still end where the text ends. */
    size_t count = 99;
    static const char with_nul[] = "{\"a\":1}\0";
    assert_int_equal(bk_json_tokenize(with_nul, sizeof with_nul - 1, g_tokens, TOKENS_MAX, &count),
                     BK_ERR_JSON_SYNTAX);
    static const char nul_inside[] = "{\"a\":\"x\0y\"}";
    assert_int_equal(
        bk_json_tokenize(nul_inside, sizeof nul_inside - 1, g_tokens, TOKENS_MAX, &count),
        BK_ERR_JSON_SYNTAX);
    /* Only len bytes are read: the same text cut before its garbage is fine. */
    assert_int_equal(bk_json_tokenize("{\"a\":1}xyz", 7, g_tokens, TOKENS_MAX, &count), BK_OK);
    assert_int_equal(count, 3);
}

static void test_tokenize_rejects_second_top_level_value(void **state) {
    (void)state;
    assert_syntax_error("{} {}");
    assert_syntax_error("{}{}");
    assert_syntax_error("[] []");
    assert_syntax_error("\"a\" \"b\"");
    assert_syntax_error("\"a\":\"b\"");
    assert_syntax_error("[1] 2");
    assert_syntax_error("{},{}");
}

static void test_tokenize_rejects_what_jsmn_lets_through(void **state) {
    (void)state;
    /* jsmn's strict mode accepts each of these. */
    assert_syntax_error("[1 2]");
    assert_syntax_error("[\"a\" \"b\"]");
    assert_syntax_error("{\"a\" \"b\"}");
    assert_syntax_error("{\"a\":1 \"b\":2}");
    assert_syntax_error("{\"a\"}");
    assert_syntax_error("{\"a\":}");
    assert_syntax_error("{\"a\":1,\"b\"}");
    assert_syntax_error("[1,]");
    assert_syntax_error("[,1]");
    assert_syntax_error("[,]");
    assert_syntax_error("{,}");
    assert_syntax_error("{\"a\":1,}");
    assert_syntax_error("{,\"a\":1}");
    assert_syntax_error("{\"a\":1,,\"b\":2}");
    assert_syntax_error("{\"a\"::1}");
    assert_syntax_error("[\"a\":1]");
    assert_syntax_error("[[1],,[2]]");
    assert_syntax_error("[[1],]");
    assert_syntax_error("{\"a\":[1],}");
    assert_syntax_error("{\"a\":[1] \"b\":2}");
    assert_syntax_error("[[1] [2]]");
    assert_syntax_error("[[1]:[2]]");
    assert_syntax_error("[\"a\":\"b\"]");
    assert_syntax_error("{\"a\",\"b\":1}");
}

static void test_tokenize_rejects_jsmn_errors(void **state) {
    (void)state;
    assert_syntax_error("{");                  /* JSMN_ERROR_PART */
    assert_syntax_error("{\"a\":1");           /* JSMN_ERROR_PART */
    assert_syntax_error("{\"a\":\"unclosed}"); /* JSMN_ERROR_PART */
    assert_syntax_error("[1");
    assert_syntax_error("123");             /* strict: a primitive must be followed by , ] or } */
    assert_syntax_error("{\"a\":1]");       /* JSMN_ERROR_INVAL */
    assert_syntax_error("{'a':1}");         /* JSMN_ERROR_INVAL */
    assert_syntax_error("{\"a\":\"\\q\"}"); /* bad escape */
    assert_syntax_error("{\"a\":\"\\u12g4\"}");
    assert_syntax_error("{\"a\":+1}");
    assert_syntax_error("{\"a\":.5}");
    assert_syntax_error("{1:2}");
    assert_syntax_error("{{}}");
    assert_syntax_error("{\"a\":x}");
    assert_syntax_error("{\"a\":\x80}");
}

static void test_tokenize_too_many_tokens(void **state) {
    (void)state;
    static const char text[] = "{\"a\":1,\"b\":[2,3]}"; /* 7 tokens */
    size_t count = 99;
    assert_int_equal(bk_json_tokenize(text, strlen(text), g_tokens, 6, &count),
                     BK_ERR_JSON_TOO_MANY_TOKENS);
    /* The start of the document, for readers of diagnostics: the containers it leaves open say
     * so with end -1. */
    assert_int_equal(count, 6);
    assert_int_equal(g_tokens[0].end, -1);
    assert_int_equal(g_tokens[4].type, BK_JSON_ARRAY);
    assert_int_equal(g_tokens[4].end, -1);
    assert_int_equal(g_tokens[4].size, 1);
    assert_int_equal(g_tokens[5].start, 12);
    /* A start that is not JSON is no prefix: a missing colon, a trailing comma, two values. */
    static const char *const bad_starts[] = {"{\"a\" 1,\"b\":[2,3,4,5,6,7]}",
                                             "{\"a\":[1,],\"b\":[2,3,4,5,6,7]}",
                                             "{\"a\":1 \"b\":[2,3,4,5,6,7]}"};
    for (size_t i = 0; i < sizeof bad_starts / sizeof bad_starts[0]; i++) {
        count = 99;
        bk_result r = bk_json_tokenize(bad_starts[i], strlen(bad_starts[i]), g_tokens, 6, &count);
        if (r != BK_ERR_JSON_TOO_MANY_TOKENS && r != BK_ERR_JSON_SYNTAX) {
            fail_msg("%s: %d", bad_starts[i], (int)r);
        }
        assert_int_equal(count, 0);
    }
    assert_int_equal(bk_json_tokenize(text, strlen(text), g_tokens, 7, &count), BK_OK);
    assert_int_equal(count, 7);
    assert_int_equal(bk_json_tokenize(text, strlen(text), g_tokens, 0, &count),
                     BK_ERR_JSON_TOO_MANY_TOKENS);
}

static void test_tokenize_arguments(void **state) {
    (void)state;
    size_t count = 99;
    assert_int_equal(bk_json_tokenize(NULL, 2, g_tokens, TOKENS_MAX, &count), BK_ERR_ARGUMENT);
    assert_int_equal(count, 0);
    assert_int_equal(bk_json_tokenize("{}", 2, NULL, TOKENS_MAX, &count), BK_ERR_ARGUMENT);
    assert_int_equal(bk_json_tokenize("{}", 2, g_tokens, TOKENS_MAX, NULL), BK_ERR_ARGUMENT);
    /* Offsets are int: longer texts are refused before a byte is read. */
    assert_int_equal(bk_json_tokenize("{}", (size_t)INT_MAX + 1u, g_tokens, TOKENS_MAX, &count),
                     BK_ERR_ARGUMENT);
}

/* --- find and skip --- */

static void test_find_matches_direct_members_only(void **state) {
    (void)state;
    bk_json_doc doc = doc_of("{\"x\":{\"a\":1},\"list\":[{\"a\":2},[\"a\"]],\"a\":\"top\"}");
    int a = bk_json_find(&doc, 0, "a");
    assert_true(a > 0);
    assert_int_equal(g_tokens[a].type, BK_JSON_STRING);
    assert_int_equal(g_tokens[a].end - g_tokens[a].start, 3);
    assert_memory_equal(doc.text + g_tokens[a].start, "top", 3);

    int x = bk_json_find(&doc, 0, "x");
    assert_int_equal(x, 1 + 1);
    int inner = bk_json_find(&doc, x, "a");
    assert_true(inner > x);
    assert_memory_equal(doc.text + g_tokens[inner].start, "1", 1);

    assert_int_equal(bk_json_find(&doc, 0, "missing"), -1);
    assert_int_equal(bk_json_find(&doc, 0, ""), -1);
    assert_int_equal(bk_json_find(&doc, 0, "lis"), -1); /* a prefix is not a match */
    assert_int_equal(bk_json_find(&doc, 0, "lists"), -1);
    int list = bk_json_find(&doc, 0, "list");
    assert_int_equal(g_tokens[list].type, BK_JSON_ARRAY);
    assert_int_equal(bk_json_find(&doc, list, "a"), -1); /* not an object */
    assert_int_equal(bk_json_find(&doc, a, "a"), -1);    /* a string */
    assert_int_equal(bk_json_find(&doc, -1, "a"), -1);
    assert_int_equal(bk_json_find(&doc, doc.count, "a"), -1);
    assert_int_equal(bk_json_find(NULL, 0, "a"), -1);
    assert_int_equal(bk_json_find(&doc, 0, NULL), -1);
}

static void test_find_compares_raw_key_bytes(void **state) {
    (void)state;
    bk_json_doc doc = doc_of("{\"\\u0061\":1,\"b\":2,\"b\":3}");
    assert_int_equal(bk_json_find(&doc, 0, "a"), -1);
    int b = bk_json_find(&doc, 0, "b");
    assert_int_equal(b, 4); /* the first of duplicate keys */
    assert_memory_equal(doc.text + g_tokens[b].start, "2", 1);
}

static void test_skip_whole_subtrees(void **state) {
    (void)state;
    bk_json_doc doc = doc_of("{\"a\":{\"b\":[1,{\"c\":2}]},\"d\":3}");
    /* 0 {  1 "a"  2 {  3 "b"  4 [  5 1  6 {  7 "c"  8 2  9 "d"  10 3 */
    assert_int_equal(doc.count, 11);
    assert_int_equal(bk_json_skip(&doc, 0), 11);
    assert_int_equal(bk_json_skip(&doc, 1), 9); /* a key and its value */
    assert_int_equal(bk_json_skip(&doc, 2), 9);
    assert_int_equal(bk_json_skip(&doc, 4), 9);
    assert_int_equal(bk_json_skip(&doc, 5), 6);
    assert_int_equal(bk_json_skip(&doc, 6), 9);
    assert_int_equal(bk_json_skip(&doc, 10), 11);
    assert_int_equal(bk_json_skip(&doc, -1), 11);
    assert_int_equal(bk_json_skip(&doc, 11), 11);
}

/* find and skip stay inside the token array even when the tokens do not describe a document
 * (another tokenizer's bug, a caller's hand-made array). */
static void test_find_and_skip_with_inconsistent_tokens(void **state) {
    (void)state;
    static const char text[] = "{\"a\":1,\"b\":2}";
    bk_json_token tokens[5] = {
        {BK_JSON_OBJECT, 0, 13, 2, -1},    {BK_JSON_STRING, 2, 3, 1, 0},
        {BK_JSON_PRIMITIVE, 5, 6, 0, 1},   {BK_JSON_STRING, 8, 9, 1, 0},
        {BK_JSON_PRIMITIVE, 11, 12, 0, 3},
    };
    bk_json_doc doc = {text, tokens, 5, false};
    assert_int_equal(bk_json_find(&doc, 0, "b"), 4);
    /* "b" claims another parent: it is not a member of the object, and find does not guess. */
    tokens[3].parent = 2;
    assert_int_equal(bk_json_find(&doc, 0, "b"), -1);
    tokens[3].parent = 0;
    /* Sizes announcing more tokens than there are. */
    tokens[0].size = 7;
    assert_int_equal(bk_json_find(&doc, 0, "c"), -1);
    tokens[4].size = 3;
    assert_int_equal(bk_json_skip(&doc, 3), 5);
    tokens[1].size = INT_MAX;
    assert_int_equal(bk_json_skip(&doc, 0), 5);
    assert_int_equal(bk_json_skip(&doc, 1), 5);
    tokens[1].size = -4;
    assert_int_equal(bk_json_skip(&doc, 1), 2);
    doc.count = 0;
    assert_int_equal(bk_json_skip(&doc, 0), 0);
    assert_int_equal(bk_json_find(&doc, 0, "a"), -1);
}

/* --- check (primitives) --- */

static bk_result check_value(const char *array_of_one, bk_json_kind *kind) {
    bk_json_doc doc = doc_of(array_of_one);
    return bk_json_check(&doc, 1, kind);
}

static void test_check_literals_and_containers(void **state) {
    (void)state;
    bk_json_kind kind;
    assert_int_equal(check_value("[true]", &kind), BK_OK);
    assert_int_equal(kind, BK_JSON_KIND_TRUE);
    assert_int_equal(check_value("[false]", &kind), BK_OK);
    assert_int_equal(kind, BK_JSON_KIND_FALSE);
    assert_int_equal(check_value("[null]", &kind), BK_OK);
    assert_int_equal(kind, BK_JSON_KIND_NULL);
    assert_int_equal(check_value("[\"s\"]", &kind), BK_OK);
    assert_int_equal(kind, BK_JSON_KIND_STRING);
    assert_int_equal(check_value("[{}]", &kind), BK_OK);
    assert_int_equal(kind, BK_JSON_KIND_OBJECT);
    assert_int_equal(check_value("[[]]", &kind), BK_OK);
    assert_int_equal(kind, BK_JSON_KIND_ARRAY);

    static const char *const misspelt[] = {"[tru]",   "[truee]", "[t]",      "[nul]",
                                           "[nulll]", "[fals]",  "[falsey]", "[nan]"};
    for (size_t i = 0; i < sizeof misspelt / sizeof misspelt[0]; i++) {
        bk_result r = check_value(misspelt[i], &kind);
        if (r != BK_ERR_JSON_SYNTAX) {
            fail_msg("%s: %d, want BK_ERR_JSON_SYNTAX", misspelt[i], (int)r);
        }
    }
    bk_json_doc doc = doc_of("[1]");
    assert_int_equal(bk_json_check(&doc, 2, &kind), BK_ERR_ARGUMENT);
    assert_int_equal(bk_json_check(&doc, 1, NULL), BK_ERR_ARGUMENT);
}

static void test_check_number_grammar(void **state) {
    (void)state;
    static const char *const good[] = {
        "[0]",   "[-0]",   "[7]",     "[1234567890]", "[-1.5]",   "[0.25]",
        "[1e5]", "[1E+5]", "[2e-05]", "[1.0e3]",      "[-0.0E0]", "[99999999999999999999999]"};
    static const char *const bad[] = {"[1.2.3]", "[-]", "[01]", "[-01]", "[00]", "[1e]", "[1e+]",
                                      "[1.]", "[1.e5]", "[--1]", "[0x10]", "[1-2]", "[1e5.0]",
                                      "[-a]", "[1ee5]", "[0.]", "[1E-]", "[9a]",
                                      /* jsmn's strict mode ends a primitive only at , ] } or
                                       * whitespace, so these are one primitive each */
                                      "[1:2]", "[1\"x\"]", "[0[]"};
    bk_json_kind kind;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        bk_result r = check_value(good[i], &kind);
        if (r != BK_OK || kind != BK_JSON_KIND_NUMBER) {
            fail_msg("%s: %d, want a number", good[i], (int)r);
        }
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bk_result r = check_value(bad[i], &kind);
        if (r != BK_ERR_JSON_NUMBER) {
            fail_msg("%s: %d, want BK_ERR_JSON_NUMBER", bad[i], (int)r);
        }
    }
}

/* --- string --- */

/* Unescapes the one string in `[...]` into out. */
static bk_result string_of(const char *array_of_one, char *out, size_t cap, size_t *out_len) {
    bk_json_doc doc = doc_of(array_of_one);
    return bk_json_string(&doc, 1, out, cap, out_len);
}

static void test_string_plain_and_simple_escapes(void **state) {
    (void)state;
    char out[64];
    size_t len = 99;
    assert_int_equal(string_of("[\"sampleacct\"]", out, sizeof out, &len), BK_OK);
    assert_string_equal(out, "sampleacct");
    assert_int_equal(len, 10);

    assert_int_equal(string_of("[\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t.\"]", out, sizeof out, &len),
                     BK_OK);
    assert_string_equal(out, "q\" b\\ s/ \b\f\n\r\t.");
    assert_int_equal(len, 15);

    assert_int_equal(
        string_of("[\"https:\\/\\/login.microsoftonline.com\\/\"]", out, sizeof out, NULL), BK_OK);
    assert_string_equal(out, "https://login.microsoftonline.com/");

    assert_int_equal(string_of("[\"\"]", out, sizeof out, &len), BK_OK);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);

    /* UTF-8 in the text passes through untouched. */
    assert_int_equal(string_of("[\"caf\xc3\xa9\"]", out, sizeof out, &len), BK_OK);
    assert_string_equal(out, "caf\xc3\xa9");
    assert_int_equal(len, 5);
}

static void test_string_unicode_escapes(void **state) {
    (void)state;
    char out[64];
    size_t len = 0;
    assert_int_equal(string_of("[\"caf\\u00e9\"]", out, sizeof out, &len), BK_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "caf\xC3\xA9", 6);

    assert_int_equal(string_of("[\"\\u0041\\u007A\\u007f\"]", out, sizeof out, &len), BK_OK);
    assert_memory_equal(out, "Az\x7f", 4);

    assert_int_equal(string_of("[\"\\u0080\\u07FF\"]", out, sizeof out, &len), BK_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "\xC2\x80\xDF\xBF", 5);

    assert_int_equal(string_of("[\"\\u20ac\\uFFFF\"]", out, sizeof out, &len), BK_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(out, "\xE2\x82\xAC\xEF\xBF\xBF", 7);

    assert_int_equal(string_of("[\"\\ud83d\\ude00\"]", out, sizeof out, &len), BK_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "\xF0\x9F\x98\x80", 5);

    assert_int_equal(string_of("[\"<\\uD800\\uDC00\\uDBFF\\uDFFF>\"]", out, sizeof out, &len),
                     BK_OK);
    assert_int_equal(len, 10);
    assert_memory_equal(out, "<\xF0\x90\x80\x80\xF4\x8F\xBF\xBF>", 11);

    /* An escaped control character is legal JSON. */
    assert_int_equal(string_of("[\"\\u001f\"]", out, sizeof out, &len), BK_OK);
    assert_memory_equal(out, "\x1f", 2);
}

static void test_string_bad_escapes(void **state) {
    (void)state;
    static const char *const bad[] = {
        "[\"\\ud83d\"]",        /* lone high surrogate */
        "[\"\\ud83dx\"]",       /* high surrogate, then a plain character */
        "[\"\\ud83d\\n\"]",     /* high surrogate, then another escape */
        "[\"\\ud83d\\u0041\"]", /* high surrogate, then not a low one */
        "[\"\\ud83d\\ud83d\"]", /* two high surrogates */
        "[\"\\ude00\"]",        /* lone low surrogate */
        "[\"\\ude00\\ud83d\"]", /* the pair reversed */
        "[\"\\u0000\"]",        /* would cut the C string short */
        "[\"a\\u0000b\"]",
        "[\"a\x01"
        "b\"]", /* raw control characters */
        "[\"tab\there\"]",
        "[\"new\nline\"]",
        "[\"\x1f\"]",
    };
    char out[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(out, 'x', sizeof out);
        size_t len = 99;
        bk_result r = string_of(bad[i], out, sizeof out, &len);
        if (r != BK_ERR_JSON_ESCAPE) {
            fail_msg("case %zu: %d, want BK_ERR_JSON_ESCAPE", i, (int)r);
        }
        assert_int_equal(len, 0);
        assert_int_equal(out[0], '\0');
    }
}

/* jsmn refuses these at tokenizing time; core must refuse them as well in case another tokenizer
 * (or a later jsmn) lets them through. The tokens are made by hand. */
static void test_string_bad_escapes_behind_the_tokenizer(void **state) {
    (void)state;
    static const char *const bad[] = {
        "\"\\u12g4\"",      "\"\\u12\"",          "\"\\u\"", "\"\\q\"", "\"abc\\\"",
        "\"\\ud83d\\u12\"", "\"\\ud83d\\uZZZZ\"",
    };
    char out[32];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bk_json_token tok = {BK_JSON_STRING, 1, (int)strlen(bad[i]) - 1, 0, -1};
        bk_json_doc doc = {bad[i], &tok, 1, false};
        bk_result r = bk_json_string(&doc, 0, out, sizeof out, NULL);
        if (r != BK_ERR_JSON_ESCAPE) {
            fail_msg("%s: %d, want BK_ERR_JSON_ESCAPE", bad[i], (int)r);
        }
        assert_int_equal(out[0], '\0');
    }
}

static void test_string_exact_fit_and_overflow_by_one(void **state) {
    (void)state;
    char out[8];
    size_t len = 0;
    /* 7 bytes and the NUL fill 8 exactly. */
    assert_int_equal(string_of("[\"1234567\"]", out, sizeof out, &len), BK_OK);
    assert_string_equal(out, "1234567");
    assert_int_equal(len, 7);
    memset(out, 'x', sizeof out);
    len = 99;
    assert_int_equal(string_of("[\"12345678\"]", out, sizeof out, &len),
                     BK_ERR_JSON_FIELD_OVERFLOW);
    assert_int_equal(len, 0);
    assert_all_zero(out, 7); /* nothing half-written: no truncated value */

    /* The same at the edge of a multi-byte character. */
    char pair[5];
    assert_int_equal(string_of("[\"\\ud83d\\ude00\"]", pair, sizeof pair, &len), BK_OK);
    assert_int_equal(len, 4);
    assert_int_equal(string_of("[\"\\ud83d\\ude00\"]", pair, 4, &len), BK_ERR_JSON_FIELD_OVERFLOW);
    assert_int_equal(pair[0], '\0');
    assert_int_equal(string_of("[\"a\\u00e9\"]", pair, 4, &len), BK_OK);
    assert_int_equal(string_of("[\"ab\\u00e9\"]", pair, 4, &len), BK_ERR_JSON_FIELD_OVERFLOW);
    assert_int_equal(string_of("[\"ab\\n\"]", pair, 4, &len), BK_OK);
    assert_int_equal(string_of("[\"abc\\n\"]", pair, 4, &len), BK_ERR_JSON_FIELD_OVERFLOW);

    /* Room for the NUL only. */
    assert_int_equal(string_of("[\"\"]", out, 1, &len), BK_OK);
    assert_int_equal(string_of("[\"a\"]", out, 1, &len), BK_ERR_JSON_FIELD_OVERFLOW);
}

static void test_string_wrong_type_and_arguments(void **state) {
    (void)state;
    char out[16] = "previous";
    size_t len = 99;
    bk_json_doc doc = doc_of("[1,null,{},[],true,\"ok\"]");
    for (int i = 1; i <= 5; i++) {
        strcpy(out, "previous");
        assert_int_equal(bk_json_string(&doc, i, out, sizeof out, &len), BK_ERR_JSON_TYPE);
        assert_string_equal(out, "");
        assert_int_equal(len, 0);
    }
    assert_int_equal(bk_json_string(&doc, 6, out, sizeof out, &len), BK_OK);
    assert_int_equal(bk_json_string(&doc, 6, out, 0, &len), BK_ERR_ARGUMENT);
    assert_int_equal(bk_json_string(&doc, 6, NULL, 4, &len), BK_ERR_ARGUMENT);
    assert_int_equal(bk_json_string(&doc, 7, out, sizeof out, &len), BK_ERR_ARGUMENT);
    assert_int_equal(bk_json_string(&doc, -1, out, sizeof out, &len), BK_ERR_ARGUMENT);
    assert_int_equal(bk_json_string(NULL, 0, out, sizeof out, &len), BK_ERR_ARGUMENT);
}

/* --- uint --- */

static bk_result uint_of(const char *array_of_one, bool allow_string, uint64_t *out) {
    bk_json_doc doc = doc_of(array_of_one);
    return bk_json_uint(&doc, 1, allow_string, UINT64_MAX, out);
}

static bk_result uint_below(const char *array_of_one, uint64_t max, uint64_t *out) {
    bk_json_doc doc = doc_of(array_of_one);
    return bk_json_uint(&doc, 1, true, max, out);
}

static void test_uint_numbers(void **state) {
    (void)state;
    uint64_t v = 1;
    assert_int_equal(uint_of("[0]", false, &v), BK_OK);
    assert_int_equal(v, 0);
    assert_int_equal(uint_of("[3599]", false, &v), BK_OK);
    assert_int_equal(v, 3599);
    assert_int_equal(uint_of("[18446744073709551615]", false, &v), BK_OK);
    assert_true(v == UINT64_MAX);

    static const char *const not_uint[] = {
        "[-1]", "[-0]", "[1.5]", "[1.0]", "[1e3]", "[1E0]", "[01]", "[1.2.3]", "[-]", "[1e]",
    };
    for (size_t i = 0; i < sizeof not_uint / sizeof not_uint[0]; i++) {
        v = 7;
        bk_result r = uint_of(not_uint[i], true, &v);
        if (r != BK_ERR_JSON_NUMBER) {
            fail_msg("%s: %d, want BK_ERR_JSON_NUMBER", not_uint[i], (int)r);
        }
        assert_int_equal(v, 0);
    }
    assert_int_equal(uint_of("[tru]", false, &v), BK_ERR_JSON_SYNTAX);
    assert_int_equal(uint_of("[true]", false, &v), BK_ERR_JSON_TYPE);
    assert_int_equal(uint_of("[null]", true, &v), BK_ERR_JSON_TYPE);
    assert_int_equal(uint_of("[{}]", true, &v), BK_ERR_JSON_TYPE);
    assert_int_equal(uint_of("[[1]]", true, &v), BK_ERR_JSON_TYPE);
    bk_json_doc doc = doc_of("[1]");
    assert_int_equal(bk_json_uint(&doc, 1, false, UINT64_MAX, NULL), BK_ERR_ARGUMENT);
    assert_int_equal(bk_json_uint(&doc, 2, false, UINT64_MAX, &v), BK_ERR_ARGUMENT);
}

/* Values above the caller's bound read as the bound, however many digits they have. */
static void test_uint_clamped(void **state) {
    (void)state;
    uint64_t v = 0;
    static const char *const huge[] = {"[18446744073709551616]", "[99999999999999999999]",
                                       "[184467440737095516150]", "[\"18446744073709551616\"]"};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        assert_int_equal(uint_of(huge[i], true, &v), BK_OK);
        assert_true(v == UINT64_MAX);
    }
    assert_int_equal(uint_below("[3599]", 3599, &v), BK_OK);
    assert_int_equal(v, 3599);
    assert_int_equal(uint_below("[3600]", 3599, &v), BK_OK);
    assert_int_equal(v, 3599);
    assert_int_equal(uint_below("[\"99999999999999999999999\"]", 86400, &v), BK_OK);
    assert_int_equal(v, 86400);
    assert_int_equal(uint_below("[\"1x\"]", 86400, &v), BK_ERR_JSON_NUMBER);
}

static void test_uint_strings(void **state) {
    (void)state;
    uint64_t v = 0;
    assert_int_equal(uint_of("[\"3599\"]", true, &v), BK_OK);
    assert_int_equal(v, 3599);
    assert_int_equal(uint_of("[\"18446744073709551615\"]", true, &v), BK_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(uint_of("[\"3599\"]", false, &v), BK_ERR_JSON_TYPE);
    assert_int_equal(v, 0);

    static const char *const not_digits[] = {
        "[\"\"]",    "[\"-1\"]",   "[\" 1\"]",  "[\"1 \"]", "[\"1.5\"]",
        "[\"1e3\"]", "[\"0x10\"]", "[\"35a\"]", "[\"+1\"]", "[\"\\u0031\"]",
    };
    for (size_t i = 0; i < sizeof not_digits / sizeof not_digits[0]; i++) {
        v = 7;
        bk_result r = uint_of(not_digits[i], true, &v);
        if (r != BK_ERR_JSON_NUMBER) {
            fail_msg("%s: %d, want BK_ERR_JSON_NUMBER", not_digits[i], (int)r);
        }
        assert_int_equal(v, 0);
    }
}

/* --- string_cut: diagnostic text cut and marked --- */

/* out is cap bytes of a larger buffer, whose bytes after cap must stay as they were. */
static char g_cut_out[128];

static bk_result string_cut_of(const char *array_of_one, size_t cap, bool *cut) {
    assert_true(cap <= sizeof g_cut_out);
    memset(g_cut_out, 0x55, sizeof g_cut_out);
    bk_json_doc doc = doc_of(array_of_one);
    bk_result r = bk_json_string_cut(&doc, 1, g_cut_out, cap, cut);
    for (size_t i = cap; i < sizeof g_cut_out; i++) {
        if ((unsigned char)g_cut_out[i] != 0x55) {
            fail_msg("%s, cap %zu: byte %zu past the field was written", array_of_one, cap, i);
        }
    }
    return r;
}

static void test_string_cut_boundary(void **state) {
    (void)state;
    bool cut = true;
    /* cap - 1 characters fit whole. */
    assert_int_equal(string_cut_of("[\"123456789012345\"]", 16, &cut), BK_OK);
    assert_false(cut);
    assert_string_equal(g_cut_out, "123456789012345");
    /* One more is cut to cap - 1 bytes, the last of them the mark. */
    assert_int_equal(string_cut_of("[\"1234567890123456\"]", 16, &cut), BK_OK);
    assert_true(cut);
    assert_string_equal(g_cut_out, "1234567890" BK_CUT_MARK);
    assert_int_equal(string_cut_of("[\"1234567890123456789012345678901234567890\"]", 16, &cut),
                     BK_OK);
    assert_true(cut);
    assert_string_equal(g_cut_out, "1234567890" BK_CUT_MARK);
    /* Counted after unescaping: 15 escapes of one character each fit. */
    assert_int_equal(string_cut_of("[\"\\n\\t\\/\\\\\\\"\\u0041\\u0042\\u0043\\u0044\\u0045\\u0046"
                                   "\\u0047\\u0048\\u0049\\u004a\"]",
                                   16, &cut),
                     BK_OK);
    assert_false(cut);
    assert_string_equal(g_cut_out, "\n\t/\\\"ABCDEFGHIJ");
    /* A NULL cut pointer is allowed. */
    assert_int_equal(string_cut_of("[\"1234567890123456\"]", 16, NULL), BK_OK);
    assert_string_equal(g_cut_out, "1234567890" BK_CUT_MARK);
    /* The smallest field holds the mark alone. */
    assert_int_equal(string_cut_of("[\"12345\"]", BK_CUT_MARK_LEN + 1, &cut), BK_OK);
    assert_false(cut);
    assert_string_equal(g_cut_out, "12345");
    assert_int_equal(string_cut_of("[\"123456\"]", BK_CUT_MARK_LEN + 1, &cut), BK_OK);
    assert_true(cut);
    assert_string_equal(g_cut_out, BK_CUT_MARK);
}

/* A character written as an escape (or as raw UTF-8) at every offset around the cut point:
 * kept whole or dropped whole, never split. */
static void test_string_cut_never_splits_a_character(void **state) {
    (void)state;
    static const struct {
        const char *json; /* as it stands in the text */
        const char *utf8; /* unescaped */
    } chars[] = {
        {"\\u00e9", "\xc3\xa9"},
        {"\\u20AC", "\xe2\x82\xac"},
        {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},
        {"\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf"},
        {"\xc3\xa9", "\xc3\xa9"},
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
    };
    const size_t cap = 16;
    const size_t room = cap - 1 - BK_CUT_MARK_LEN;
    for (size_t c = 0; c < sizeof chars / sizeof chars[0]; c++) {
        size_t width = strlen(chars[c].utf8);
        for (size_t at = 0; at + width <= cap + 2; at++) {
            for (size_t after = 0; after <= 6; after++) {
                char text[128];
                char want[64];
                int n =
                    snprintf(text, sizeof text, "[\"%.*s%s%.*s\"]", (int)at,
                             "aaaaaaaaaaaaaaaaaaaaaaaa", chars[c].json, (int)after, "zzzzzzzzzz");
                assert_true(n > 0 && (size_t)n < sizeof text);
                int full =
                    snprintf(want, sizeof want, "%.*s%s%.*s", (int)at, "aaaaaaaaaaaaaaaaaaaaaaaa",
                             chars[c].utf8, (int)after, "zzzzzzzzzz");
                bool cut = !((size_t)full < cap);
                if (cut) {
                    size_t kept = (at < room && at + width > room) ? at : room;
                    memcpy(want + kept, BK_CUT_MARK, BK_CUT_MARK_LEN + 1);
                }
                bool got_cut = !cut;
                bk_result r = string_cut_of(text, cap, &got_cut);
                if (r != BK_OK || got_cut != cut || strcmp(g_cut_out, want) != 0) {
                    fail_msg("%s: %d, cut %d, \"%s\", want \"%s\"", text, (int)r, got_cut,
                             g_cut_out, want);
                }
            }
        }
    }
}

static void test_string_cut_errors(void **state) {
    (void)state;
    bool cut = true;
    /* The field must have room for the mark and more. */
    for (size_t cap = 0; cap <= BK_CUT_MARK_LEN; cap++) {
        cut = true;
        bk_json_doc doc = doc_of("[\"a\"]");
        char out[8] = "xxxxxxx";
        assert_int_equal(bk_json_string_cut(&doc, 1, out, cap, &cut), BK_ERR_ARGUMENT);
        assert_false(cut);
    }
    bk_json_doc doc = doc_of("[\"a\"]");
    assert_int_equal(bk_json_string_cut(&doc, 1, NULL, 16, &cut), BK_ERR_ARGUMENT);
    assert_int_equal(bk_json_string_cut(&doc, 2, g_cut_out, 16, &cut), BK_ERR_ARGUMENT);
    /* An escape that is wrong before the text fills the field is an error, not a cut; so is one
     * that straddles the cut point. Nothing is left in out. */
    static const char *const bad[] = {
        "[\"abc\\ud800xyzxyzxyzxyzxyzxyz\"]",         "[\"aaaaaaaaa\\ud83dxzzzzzzzzzzzzzzzzzz\"]",
        "[\"aaaaaaaaaa\\ude00zzzzzzzzzzzzzzzzzz\"]",  "[\"aaaaaaaaaaaa\\u0000zzzzzzzzzzzzzzzzzz\"]",
        "[\"aaaaaaaaaaaaaa\x01zzzzzzzzzzzzzzzzzz\"]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cut = true;
        bk_result r = string_cut_of(bad[i], 16, &cut);
        if (r != BK_ERR_JSON_ESCAPE) {
            fail_msg("case %zu: %d, want BK_ERR_JSON_ESCAPE", i, (int)r);
        }
        assert_false(cut);
        /* Every byte written was wiped; the others still hold the test's 0x55. */
        for (size_t b = 0; b < 16; b++) {
            assert_true(g_cut_out[b] == '\0' || (unsigned char)g_cut_out[b] == 0x55);
        }
        assert_int_equal(g_cut_out[0], '\0');
    }
    assert_int_equal(string_cut_of("[17]", 16, &cut), BK_ERR_JSON_TYPE);
    assert_int_equal(string_cut_of("[null]", 16, &cut), BK_ERR_JSON_TYPE);
    assert_false(cut);
}

/* --- find_unique: fields the operation needs --- */

static void test_find_unique(void **state) {
    (void)state;
    bk_json_doc doc = doc_of("{\"a\":1,\"b\":{\"a\":2,\"c\":3},\"c\":[{\"a\":4}]}");
    int a = bk_json_find_unique(&doc, 0, "a");
    assert_int_equal(a, bk_json_find(&doc, 0, "a"));
    assert_memory_equal(doc.text + g_tokens[a].start, "1", 1);
    /* Same-named keys in nested objects are other objects' members. */
    assert_int_equal(bk_json_find_unique(&doc, 0, "c"), bk_json_find(&doc, 0, "c"));
    int b = bk_json_find_unique(&doc, 0, "b");
    assert_true(b > 0);
    assert_int_equal(bk_json_find_unique(&doc, b, "a"), bk_json_find(&doc, b, "a"));
    assert_int_equal(bk_json_find_unique(&doc, 0, "d"), -1);
    assert_int_equal(bk_json_find_unique(&doc, 0, ""), -1);
    assert_int_equal(bk_json_find_unique(&doc, bk_json_find(&doc, 0, "c"), "a"), -1);

    static const char *const twice[] = {
        "{\"primary\":\"x\",\"primary\":\"y\"}",
        "{\"primary\":\"x\",\"secondary\":\"s\",\"primary\":\"x\"}",
        "{\"primary\":\"x\",\"primary\":\"y\",\"primary\":\"z\"}",
        /* spelt with escapes, before or after the plain one */
        "{\"primary\":\"x\",\"prim\\u0061ry\":\"y\"}",
        "{\"prim\\u0061ry\":\"y\",\"primary\":\"x\"}",
        "{\"primary\":\"x\",\"\\u0070\\u0072\\u0069\\u006d\\u0061\\u0072\\u0079\":\"y\"}",
        "{\"primary\":\"x\",\"pri\\u006Dary\":{}}",
        "{\"primary\":\"x\",\"\\/\":1,\"prim\\u0061ry\":[1,2]}",
    };
    for (size_t i = 0; i < sizeof twice / sizeof twice[0]; i++) {
        doc = doc_of(twice[i]);
        if (bk_json_find_unique(&doc, 0, "primary") != -2) {
            fail_msg("%s: %d, want -2", twice[i], bk_json_find_unique(&doc, 0, "primary"));
        }
    }
    static const char *const once[] = {
        "{\"primary\":\"x\",\"prim\\u0062ry\":\"y\"}",
        "{\"primary\":\"x\",\"Primary\":\"y\",\"primary \":\"z\"}",
        "{\"primary\":\"x\",\"y\":{\"primary\":\"z\"},\"z\":[{\"primary\":1}]}",
        "{\"primary\":\"x\",\"prim\\u0061ry2\":\"y\",\"\\u0070rimar\":\"z\"}",
    };
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++) {
        doc = doc_of(once[i]);
        int v = bk_json_find_unique(&doc, 0, "primary");
        if (v < 0 || v != bk_json_find(&doc, 0, "primary")) {
            fail_msg("%s: %d", once[i], v);
        }
    }
    /* A key spelt only with escapes is not found by its plain name (find compares raw bytes). */
    doc = doc_of("{\"prim\\u0061ry\":\"y\"}");
    assert_int_equal(bk_json_find_unique(&doc, 0, "primary"), -1);
    assert_int_equal(bk_json_find_unique(NULL, 0, "primary"), -1);
    assert_int_equal(bk_json_find_unique(&doc, 1, "primary"), -1);
}

/* --- prefix documents: the tokenizer ran out of tokens --- */

static const char prefix_text[] =
    "{\"error\":{\"code\":\"C\",\"message\":\"M\",\"details\":[{\"code\":\"D1\",\"target\":\"t\"},"
    "{\"code\":\"D2\",\"details\":[]}],\"additionalInfo\":[{\"type\":\"T\",\"info\":{\"a\":[1,"
    "2,{\"b\":null}],\"code\":\"x\",\"code\":\"y\"}}]},\"tail\":\"z\",\"code\":\"top\"}";

static const char *const prefix_keys[] = {
    "error", "code", "message", "details", "additionalInfo", "type",
    "info",  "a",    "b",       "target",  "tail",           "missing",
};

/* Every start of one document, each in a token array of exactly its size (so ASan sees any
 * read past the tokens): find, find_unique, skip, check and string_cut give what the whole
 * document gives wherever the tokens reach, and stay inside them where they do not. */
static void test_prefix_documents(void **state) {
    (void)state;
    size_t full_count = 0;
    assert_int_equal(tokenize(prefix_text, &full_count), BK_OK);
    static bk_json_token full_tokens[TOKENS_MAX];
    memcpy(full_tokens, g_tokens, sizeof full_tokens);
    bk_json_doc full = {prefix_text, full_tokens, (int)full_count, false};
    size_t len = strlen(prefix_text);

    for (size_t budget = 1; budget < full_count; budget++) {
        bk_json_token *tokens = malloc(budget * sizeof *tokens);
        assert_non_null(tokens);
        size_t count = 0;
        assert_int_equal(bk_json_tokenize(prefix_text, len, tokens, budget, &count),
                         BK_ERR_JSON_TOO_MANY_TOKENS);
        assert_int_equal(count, budget);
        bk_json_doc doc = {prefix_text, tokens, (int)count, true};
        int n = (int)count;
        /* The root's subtree is exactly the tokens there are. */
        assert_int_equal(bk_json_skip(&doc, 0), n);
        for (int i = 0; i < n; i++) {
            bk_json_kind kind, full_kind;
            assert_int_equal(bk_json_check(&doc, i, &kind), BK_OK);
            assert_int_equal(bk_json_check(&full, i, &full_kind), BK_OK);
            assert_int_equal(kind, full_kind);
            int full_skip = bk_json_skip(&full, i);
            assert_int_equal(bk_json_skip(&doc, i), full_skip < n ? full_skip : n);
            if (kind == BK_JSON_KIND_STRING) {
                char text[16], full_text[16];
                bool cut = true;
                assert_int_equal(bk_json_string_cut(&doc, i, text, sizeof text, &cut), BK_OK);
                assert_int_equal(bk_json_string(&full, i, full_text, sizeof full_text, NULL),
                                 BK_OK);
                assert_string_equal(text, full_text);
            }
            if (kind != BK_JSON_KIND_OBJECT) {
                continue;
            }
            bool whole = full_skip <= n;
            for (size_t k = 0; k < sizeof prefix_keys / sizeof prefix_keys[0]; k++) {
                int v = bk_json_find(&doc, i, prefix_keys[k]);
                int u = bk_json_find_unique(&doc, i, prefix_keys[k]);
                int full_v = bk_json_find(&full, i, prefix_keys[k]);
                int full_u = bk_json_find_unique(&full, i, prefix_keys[k]);
                int want_v = full_v >= 0 && full_v < n ? full_v : -1;
                if (v != want_v || (whole && u != full_u) || (u != -2 && u != want_v)) {
                    fail_msg("budget %zu, object %d, \"%s\": find %d/%d, unique %d/%d", budget, i,
                             prefix_keys[k], v, full_v, u, full_u);
                }
            }
        }
        /* Nothing at or past the end of the tokens is read. */
        bk_json_kind kind;
        assert_int_equal(bk_json_check(&doc, n, &kind), BK_ERR_ARGUMENT);
        assert_int_equal(bk_json_skip(&doc, n), n);
        assert_int_equal(bk_json_find(&doc, n, "code"), -1);
        assert_int_equal(bk_json_find_unique(&doc, n, "code"), -1);
        free(tokens);
    }
}

/* Documents no tokenizer makes: missing parts, keys that are not strings, parent links that
 * disagree, tokens of no type or with offsets out of order. The readers refuse, never guess. */
static void test_readers_refuse_malformed_tokens(void **state) {
    (void)state;
    static const char text[] = "{\"a\":1,\"b\":2}";
    bk_json_token tokens[5] = {
        {BK_JSON_OBJECT, 0, 13, 2, -1},    {BK_JSON_STRING, 2, 3, 1, 0},
        {BK_JSON_PRIMITIVE, 5, 6, 0, 1},   {BK_JSON_STRING, 8, 9, 1, 0},
        {BK_JSON_PRIMITIVE, 11, 12, 0, 3},
    };
    bk_json_doc doc = {text, tokens, 5, false};
    assert_int_equal(bk_json_skip(NULL, 0), 0);
    bk_json_doc no_text = {NULL, tokens, 5, false};
    assert_int_equal(bk_json_skip(&no_text, 0), 5);
    bk_json_doc no_tokens = {text, NULL, 5, false};
    assert_int_equal(bk_json_skip(&no_tokens, 0), 5);
    /* A key that is not a string is no match; a member claiming another parent ends the search. */
    tokens[1].type = BK_JSON_PRIMITIVE;
    assert_int_equal(bk_json_find(&doc, 0, "a"), -1);
    assert_int_equal(bk_json_find_unique(&doc, 0, "b"), 4);
    tokens[1].type = BK_JSON_STRING;
    tokens[3].parent = 2;
    tokens[1].start = 8; /* "a" now reads "b", found before the broken link */
    tokens[1].end = 9;
    assert_int_equal(bk_json_find_unique(&doc, 0, "b"), -1);
    tokens[1].start = 2;
    tokens[1].end = 3;
    tokens[3].parent = 0;
    bk_json_kind kind;
    tokens[2].type = BK_JSON_UNDEFINED;
    assert_int_equal(bk_json_check(&doc, 2, &kind), BK_ERR_JSON_SYNTAX);
    tokens[2].type = BK_JSON_PRIMITIVE;
    tokens[2].start = -1;
    assert_int_equal(bk_json_check(&doc, 2, &kind), BK_ERR_JSON_SYNTAX);
    uint64_t v;
    assert_int_equal(bk_json_uint(&doc, 2, true, 10, &v), BK_ERR_JSON_SYNTAX);
    tokens[2].start = 5;
    tokens[2].end = 5;
    assert_int_equal(bk_json_check(&doc, 2, &kind), BK_ERR_JSON_SYNTAX);
    tokens[2].end = 6;
    char out[8];
    size_t len;
    tokens[1].start = -1;
    assert_int_equal(bk_json_string(&doc, 1, out, sizeof out, &len), BK_ERR_JSON_SYNTAX);
    assert_int_equal(bk_json_uint(&doc, 1, true, 10, &v), BK_ERR_JSON_SYNTAX);
    tokens[1].start = 4;
    assert_int_equal(bk_json_string(&doc, 1, out, sizeof out, &len), BK_ERR_JSON_SYNTAX);
    assert_int_equal(bk_json_uint(&doc, 1, true, 10, &v), BK_ERR_JSON_SYNTAX);
    tokens[1].start = 2;
}

/* A key spelt with escapes compares once unescaped, unless it is too long to be one batchkey
 * asks for or its escapes are not valid. */
static void test_find_unique_escaped_key_limits(void **state) {
    (void)state;
    static char text[256];
    static const char key[] = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
    snprintf(text, sizeof text, "{\"%s\":1,\"\\u006b%s\":2}", key, key + 1);
    bk_json_doc doc = doc_of(text);
    assert_int_equal(bk_json_find_unique(&doc, 0, key), 2);
    doc = doc_of("{\"a\":1,\"\\ud800x\":2}");
    assert_int_equal(bk_json_find_unique(&doc, 0, "a"), 2);
    doc = doc_of("{\"a\":1,\"\\u0062\":2}");
    assert_int_equal(bk_json_find_unique(&doc, 0, "a"), 2);
}

/* Every byte of a two-, three- and four-byte character refused when the output ends there. */
static void test_string_escape_out_of_room(void **state) {
    (void)state;
    char out[8];
    size_t len = 0;
    static const char *const texts[] = {"[\"\\u00e9\"]", "[\"\\u20ac\"]", "[\"\\ud83d\\ude00\"]"};
    for (size_t t = 0; t < 3; t++) {
        for (size_t cap = 1; cap <= t + 2; cap++) {
            assert_int_equal(string_of(texts[t], out, cap, &len), BK_ERR_JSON_FIELD_OVERFLOW);
        }
    }
    /* A high surrogate followed by another escape, or by a \\u that is not a low surrogate. */
    assert_int_equal(string_of("[\"\\ud83d\\nabcde\"]", out, sizeof out, &len), BK_ERR_JSON_ESCAPE);
    assert_int_equal(string_of("[\"\\ud83d\\ue000\"]", out, sizeof out, &len), BK_ERR_JSON_ESCAPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenize_object_with_parent_links),
        cmocka_unit_test(test_readers_refuse_malformed_tokens),
        cmocka_unit_test(test_find_unique_escaped_key_limits),
        cmocka_unit_test(test_string_escape_out_of_room),
        cmocka_unit_test(test_tokenize_accepts_valid_shapes),
        cmocka_unit_test(test_tokenize_rejects_empty),
        cmocka_unit_test(test_tokenize_rejects_trailing_garbage),
        cmocka_unit_test(test_tokenize_rejects_second_top_level_value),
        cmocka_unit_test(test_tokenize_rejects_what_jsmn_lets_through),
        cmocka_unit_test(test_tokenize_rejects_jsmn_errors),
        cmocka_unit_test(test_tokenize_too_many_tokens),
        cmocka_unit_test(test_tokenize_arguments),
        cmocka_unit_test(test_find_matches_direct_members_only),
        cmocka_unit_test(test_find_compares_raw_key_bytes),
        cmocka_unit_test(test_skip_whole_subtrees),
        cmocka_unit_test(test_find_and_skip_with_inconsistent_tokens),
        cmocka_unit_test(test_check_literals_and_containers),
        cmocka_unit_test(test_check_number_grammar),
        cmocka_unit_test(test_string_plain_and_simple_escapes),
        cmocka_unit_test(test_string_unicode_escapes),
        cmocka_unit_test(test_string_bad_escapes),
        cmocka_unit_test(test_string_bad_escapes_behind_the_tokenizer),
        cmocka_unit_test(test_string_exact_fit_and_overflow_by_one),
        cmocka_unit_test(test_string_wrong_type_and_arguments),
        cmocka_unit_test(test_uint_numbers),
        cmocka_unit_test(test_uint_clamped),
        cmocka_unit_test(test_uint_strings),
        cmocka_unit_test(test_string_cut_boundary),
        cmocka_unit_test(test_string_cut_never_splits_a_character),
        cmocka_unit_test(test_string_cut_errors),
        cmocka_unit_test(test_find_unique),
        cmocka_unit_test(test_prefix_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
