/* SPDX-License-Identifier: MIT */
/* The crypto seam on mbedTLS: published vectors for SHA-256 (FIPS 180-2) and HMAC-SHA256
 * (RFC 4231), base64 (RFC 4648) including overflow and malformed input, and the Batch SharedKey
 * vector of spec/sharedkey-test-vector.txt (read through SPEC_DIR). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bk_crypto.h"
#include "bk_test_support.h"

/* Parses lowercase or uppercase hex into out; returns the byte count. */
static size_t hex_to_bytes(const char *hex, uint8_t *out, size_t cap) {
    size_t n = 0;
    for (; hex[0] != '\0' && hex[1] != '\0' && n < cap; hex += 2) {
        unsigned value = 0;
        assert_int_equal(sscanf(hex, "%2x", &value), 1);
        out[n++] = (uint8_t)value;
    }
    return n;
}

static void assert_digest(const uint8_t digest[BK_SHA256_SIZE], const char *expected_hex) {
    uint8_t expected[BK_SHA256_SIZE];
    assert_int_equal(hex_to_bytes(expected_hex, expected, sizeof expected), BK_SHA256_SIZE);
    assert_memory_equal(digest, expected, BK_SHA256_SIZE);
}

static void test_sha256_abc(void **state) {
    (void)state;
    uint8_t digest[BK_SHA256_SIZE];
    assert_int_equal(bk_sha256((const uint8_t *)"abc", 3, digest), BK_OK);
    assert_digest(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_empty(void **state) {
    (void)state;
    static const char empty_hex[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    uint8_t digest[BK_SHA256_SIZE];
    assert_int_equal(bk_sha256((const uint8_t *)"", 0, digest), BK_OK);
    assert_digest(digest, empty_hex);
    assert_int_equal(bk_sha256(NULL, 0, digest), BK_OK);
    assert_digest(digest, empty_hex);
}

static void test_sha256_arguments(void **state) {
    (void)state;
    uint8_t digest[BK_SHA256_SIZE];
    assert_int_equal(bk_sha256(NULL, 1, digest), BK_ERR_ARGUMENT);
    assert_int_equal(bk_sha256((const uint8_t *)"abc", 3, NULL), BK_ERR_ARGUMENT);
}

/* RFC 4231 test case 2: a key shorter than the block. */
static void test_hmac_rfc4231_case2(void **state) {
    (void)state;
    static const char data[] = "what do ya want for nothing?";
    uint8_t mac[BK_SHA256_SIZE];
    assert_int_equal(
        bk_hmac_sha256((const uint8_t *)"Jefe", 4, (const uint8_t *)data, strlen(data), mac),
        BK_OK);
    assert_digest(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* RFC 4231 test case 6: a key longer than the block is hashed first. */
static void test_hmac_rfc4231_case6(void **state) {
    (void)state;
    static const char data[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    uint8_t key[131];
    memset(key, 0xaa, sizeof key);
    uint8_t mac[BK_SHA256_SIZE];
    assert_int_equal(bk_hmac_sha256(key, sizeof key, (const uint8_t *)data, strlen(data), mac),
                     BK_OK);
    assert_digest(mac, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_hmac_arguments(void **state) {
    (void)state;
    uint8_t mac[BK_SHA256_SIZE];
    assert_int_equal(bk_hmac_sha256(NULL, 4, (const uint8_t *)"x", 1, mac), BK_ERR_ARGUMENT);
    assert_int_equal(bk_hmac_sha256((const uint8_t *)"k", 1, NULL, 1, mac), BK_ERR_ARGUMENT);
    assert_int_equal(bk_hmac_sha256((const uint8_t *)"k", 1, (const uint8_t *)"x", 1, NULL),
                     BK_ERR_ARGUMENT);
}

/* RFC 4648 section 10. */
static const struct {
    const char *plain;
    const char *encoded;
} rfc4648_vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void test_base64_rfc4648_round_trip(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof rfc4648_vectors / sizeof rfc4648_vectors[0]; i++) {
        const char *plain = rfc4648_vectors[i].plain;
        const char *encoded = rfc4648_vectors[i].encoded;
        char text[16];
        size_t text_len = 99;
        assert_int_equal(
            bk_base64_encode((const uint8_t *)plain, strlen(plain), text, sizeof text, &text_len),
            BK_OK);
        assert_string_equal(text, encoded);
        assert_int_equal(text_len, strlen(encoded));

        uint8_t bytes[16];
        size_t bytes_len = 99;
        assert_int_equal(
            bk_base64_decode(encoded, strlen(encoded), bytes, sizeof bytes, &bytes_len), BK_OK);
        assert_int_equal(bytes_len, strlen(plain));
        assert_memory_equal(bytes, plain, bytes_len);
    }
}

static void test_base64_all_bytes_round_trip(void **state) {
    (void)state;
    uint8_t bytes[256];
    for (size_t i = 0; i < sizeof bytes; i++) {
        bytes[i] = (uint8_t)i;
    }
    char text[345]; /* 4 * ceil(256 / 3) + NUL: exactly enough */
    size_t text_len = 0;
    assert_int_equal(bk_base64_encode(bytes, sizeof bytes, text, sizeof text, &text_len), BK_OK);
    assert_int_equal(text_len, 344);
    assert_int_equal(text[344], '\0');

    uint8_t back[256];
    size_t back_len = 0;
    assert_int_equal(bk_base64_decode(text, text_len, back, sizeof back, &back_len), BK_OK);
    assert_int_equal(back_len, sizeof bytes);
    assert_memory_equal(back, bytes, sizeof bytes);
}

static void test_base64_encode_overflow_by_one(void **state) {
    (void)state;
    char text[8];
    size_t text_len = 99;
    /* "foo" -> "Zm9v" needs 5 bytes with the NUL. */
    assert_int_equal(bk_base64_encode((const uint8_t *)"foo", 3, text, 4, &text_len),
                     BK_ERR_REQUEST_OVERFLOW);
    assert_int_equal(text_len, 0);
    assert_string_equal(text, "");
    assert_int_equal(bk_base64_encode((const uint8_t *)"foo", 3, text, 5, &text_len), BK_OK);
    assert_string_equal(text, "Zm9v");

    /* Empty input still needs room for its NUL. */
    assert_int_equal(bk_base64_encode(NULL, 0, text, 0, &text_len), BK_ERR_REQUEST_OVERFLOW);
    text[0] = 'x';
    assert_int_equal(bk_base64_encode(NULL, 0, text, 1, &text_len), BK_OK);
    assert_string_equal(text, "");
    assert_int_equal(text_len, 0);
}

static void test_base64_decode_overflow_by_one(void **state) {
    (void)state;
    uint8_t bytes[8];
    size_t bytes_len = 99;
    assert_int_equal(bk_base64_decode("Zm9vYg==", 8, bytes, 3, &bytes_len),
                     BK_ERR_REQUEST_OVERFLOW);
    assert_int_equal(bytes_len, 0);
    assert_int_equal(bk_base64_decode("Zm9vYg==", 8, bytes, 4, &bytes_len), BK_OK);
    assert_int_equal(bytes_len, 4);
    assert_memory_equal(bytes, "foob", 4);
}

static void test_base64_decode_invalid(void **state) {
    (void)state;
    static const char *const invalid[] = {
        "Zm9v!A==",                /* outside the alphabet */
        "Zm9",                     /* not whole quads */
        "Zm9vY",                   /* not whole quads */
        "Zm9vYg=",                 /* padding short of a quad */
        "Zm=v",                    /* padding in the middle */
        "Z===",                    /* three padding characters */
        "====",                    /* nothing but padding */
        "Zm9v\nYg==", "Zm9v Yg==", /* line breaks and spaces are not base64 */
        "Zm9v-_==",                /* the URL alphabet is not the standard one */
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        uint8_t bytes[16];
        size_t bytes_len = 99;
        assert_int_equal(
            bk_base64_decode(invalid[i], strlen(invalid[i]), bytes, sizeof bytes, &bytes_len),
            BK_ERR_BASE64);
        assert_int_equal(bytes_len, 0);
    }
}

static void test_base64_arguments(void **state) {
    (void)state;
    char text[8];
    uint8_t bytes[8];
    size_t len = 0;
    assert_int_equal(bk_base64_encode(NULL, 1, text, sizeof text, &len), BK_ERR_ARGUMENT);
    assert_int_equal(bk_base64_encode((const uint8_t *)"a", 1, NULL, 8, &len), BK_ERR_ARGUMENT);
    assert_int_equal(bk_base64_encode((const uint8_t *)"a", 1, text, sizeof text, NULL),
                     BK_ERR_ARGUMENT);
    assert_int_equal(bk_base64_decode(NULL, 4, bytes, sizeof bytes, &len), BK_ERR_ARGUMENT);
    assert_int_equal(bk_base64_decode("Zg==", 4, bytes, sizeof bytes, NULL), BK_ERR_ARGUMENT);
}

/* Copies the value of "name=" (at the start of a line of text) into out, NUL-terminated. */
static void spec_value(const char *text, const char *name, char *out, size_t cap) {
    size_t name_len = strlen(name);
    const char *line = text;
    while (line != NULL && strncmp(line, name, name_len) != 0) {
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    assert_non_null(line);
    line += name_len;
    size_t len = strcspn(line, "\r\n");
    assert_true(len < cap);
    memcpy(out, line, len);
    out[len] = '\0';
}

/* Undoes the Python repr the vector file uses for the string to sign: '...' with \n, \t, \r,
 * \\ and \' escapes. Returns the length. */
static size_t unrepr(const char *repr, char *out, size_t cap) {
    size_t len = strlen(repr);
    assert_true(len >= 2 && repr[0] == '\'' && repr[len - 1] == '\'');
    size_t n = 0;
    for (size_t i = 1; i + 1 < len; i++) {
        char c = repr[i];
        if (c == '\\') {
            char e = repr[++i];
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
            assert_true(e == 'n' || e == 't' || e == 'r' || e == '\\' || e == '\'');
        }
        assert_true(n < cap);
        out[n++] = c;
    }
    return n;
}

/* SharedKey: signature = base64(HMAC-SHA256(base64decode(account key), string to sign)). */
static void test_sharedkey_vector(void **state) {
    (void)state;
    const char *spec_dir = getenv("SPEC_DIR");
    assert_non_null(spec_dir);
    char path[1024];
    int path_len = snprintf(path, sizeof path, "%s/sharedkey-test-vector.txt", spec_dir);
    assert_true(path_len > 0 && (size_t)path_len < sizeof path);
    const char *text = bk_test_read_file(path, NULL);
    assert_non_null(text);

    char key_b64[256];
    char repr[1024];
    char expected[128];
    spec_value(text, "account_key_base64=", key_b64, sizeof key_b64);
    spec_value(text, "string_to_sign_repr=", repr, sizeof repr);
    spec_value(text, "signature=", expected, sizeof expected);

    uint8_t key[128];
    size_t key_len = 0;
    assert_int_equal(bk_base64_decode(key_b64, strlen(key_b64), key, sizeof key, &key_len), BK_OK);
    assert_int_equal(key_len, 64);

    char to_sign[1024];
    size_t to_sign_len = unrepr(repr, to_sign, sizeof to_sign);
    static const char head[] = "GET\n\n\n\n\n\n\n\n\n\n\n\nocp-date:";
    assert_true(to_sign_len > sizeof head - 1);
    assert_memory_equal(to_sign, head, sizeof head - 1);

    uint8_t mac[BK_SHA256_SIZE];
    assert_int_equal(bk_hmac_sha256(key, key_len, (const uint8_t *)to_sign, to_sign_len, mac),
                     BK_OK);
    char signature[64];
    size_t signature_len = 0;
    assert_int_equal(bk_base64_encode(mac, sizeof mac, signature, sizeof signature, &signature_len),
                     BK_OK);
    assert_string_equal(signature, expected);
    assert_int_equal(signature_len, 44);
    bk_wipe(key, sizeof key);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_abc),
        cmocka_unit_test(test_sha256_empty),
        cmocka_unit_test(test_sha256_arguments),
        cmocka_unit_test(test_hmac_rfc4231_case2),
        cmocka_unit_test(test_hmac_rfc4231_case6),
        cmocka_unit_test(test_hmac_arguments),
        cmocka_unit_test(test_base64_rfc4648_round_trip),
        cmocka_unit_test(test_base64_all_bytes_round_trip),
        cmocka_unit_test(test_base64_encode_overflow_by_one),
        cmocka_unit_test(test_base64_decode_overflow_by_one),
        cmocka_unit_test(test_base64_decode_invalid),
        cmocka_unit_test(test_base64_arguments),
        cmocka_unit_test(test_sharedkey_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
