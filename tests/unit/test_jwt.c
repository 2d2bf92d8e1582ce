/* SPDX-License-Identifier: MIT */
/* Client assertions (core/bk_jwt.c) over a recording signer: the three base64url parts, the
 * header and claims as Entra reads them, what is signed, the x5c chain, and every failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bk_crypto.h"
#include "bk_jwt.h"
#include "bk_test_support.h"

#define CLIENT_ID "c1a7e9d2-4b3f-4e58-9a06-2d8b5f1c7e40"
#define JTI       "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
#define AUDIENCE  "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"

/* The signer: remembers what it was given, answers sig_len bytes of 0xA5. */
typedef struct recorder {
    bk_sign_alg alg;
    uint8_t digest[BK_SHA256_SIZE];
    size_t sig_len;
    bk_result result;
    int calls;
} recorder;

static bk_result record_sign(void *ctx, bk_sign_alg alg, const uint8_t digest[BK_SHA256_SIZE],
                             uint8_t *sig, size_t cap, size_t *sig_len) {
    recorder *rec = ctx;
    rec->calls++;
    rec->alg = alg;
    memcpy(rec->digest, digest, BK_SHA256_SIZE);
    if (rec->result != BK_OK) {
        return rec->result;
    }
    assert_true(rec->sig_len <= cap);
    memset(sig, 0xA5, rec->sig_len);
    *sig_len = rec->sig_len;
    return BK_OK;
}

static const uint8_t leaf[] = {0x30, 0x82, 0x01, 0x0a, 0x02, 0x01, 0x01, 0xde, 0xad, 0xbe, 0xef};
static const uint8_t intermediate[] = {0x30, 0x03, 0x02, 0x01, 0x02};

/* base64url (no padding) of text[0, len) into out; returns the decoded length. */
static size_t b64url_decode(const char *text, size_t len, uint8_t *out, size_t cap) {
    char std[4096];
    assert_true(len + 4 < sizeof std);
    for (size_t i = 0; i < len; i++) {
        assert_true(text[i] != '=' && text[i] != '+' && text[i] != '/');
        std[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i];
    }
    size_t n = len;
    while (n % 4 != 0) {
        std[n++] = '=';
    }
    size_t out_len = 0;
    assert_int_equal(bk_base64_decode(std, n, out, cap, &out_len), BK_OK);
    return out_len;
}

typedef struct parts {
    char header[2048];
    char claims[1024];
    uint8_t sig[600];
    size_t sig_len;
    size_t signed_len; /* header "." claims */
} parts;

static void split(const char *jwt, parts *p) {
    const char *dot1 = strchr(jwt, '.');
    assert_non_null(dot1);
    const char *dot2 = strchr(dot1 + 1, '.');
    assert_non_null(dot2);
    assert_null(strchr(dot2 + 1, '.'));
    size_t n = b64url_decode(jwt, (size_t)(dot1 - jwt), (uint8_t *)p->header, sizeof p->header - 1);
    p->header[n] = '\0';
    n = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), (uint8_t *)p->claims,
                      sizeof p->claims - 1);
    p->claims[n] = '\0';
    p->sig_len = b64url_decode(dot2 + 1, strlen(dot2 + 1), p->sig, sizeof p->sig);
    p->signed_len = (size_t)(dot2 - jwt);
}

static bk_jwt_assertion assertion(bk_sign_alg alg, recorder *rec) {
    bk_jwt_assertion a = {alg, leaf,       sizeof leaf,       NULL, NULL, 0, CLIENT_ID, AUDIENCE,
                          JTI, 1796221084, {record_sign, rec}};
    return a;
}

static void test_ps256_assertion(void **unused) {
    (void)unused;
    recorder rec = {.sig_len = 256};
    bk_jwt_assertion a = assertion(BK_SIGN_PS256, &rec);
    char jwt[4096];
    size_t len = 0;
    assert_int_equal(bk_jwt_write_assertion(&a, jwt, sizeof jwt, &len), BK_OK);
    assert_int_equal(len, strlen(jwt));
    parts p;
    split(jwt, &p);
    /* x5t#S256: the SHA-256 of the DER, base64url. */
    uint8_t thumb[BK_SHA256_SIZE];
    assert_int_equal(bk_sha256(leaf, sizeof leaf, thumb), BK_OK);
    char thumb_text[64];
    size_t thumb_len = 0;
    assert_int_equal(
        bk_base64_encode(thumb, sizeof thumb, thumb_text, sizeof thumb_text, &thumb_len), BK_OK);
    for (size_t i = 0; i < thumb_len; i++) {
        thumb_text[i] = thumb_text[i] == '+' ? '-' : thumb_text[i] == '/' ? '_' : thumb_text[i];
    }
    while (thumb_len > 0 && thumb_text[thumb_len - 1] == '=') {
        thumb_text[--thumb_len] = '\0';
    }
    char want[256];
    snprintf(want, sizeof want, "{\"alg\":\"PS256\",\"typ\":\"JWT\",\"x5t#S256\":\"%s\"}",
             thumb_text);
    assert_string_equal(p.header, want);
    assert_string_equal(p.claims,
                        "{\"aud\":\"" AUDIENCE "\",\"iss\":\"" CLIENT_ID "\",\"sub\":\"" CLIENT_ID
                        "\",\"jti\":\"" JTI "\",\"nbf\":1796221084,\"iat\":1796221084,"
                        "\"exp\":1796221684}");
    /* What was signed: the SHA-256 of header "." claims, as they stand in the JWT. */
    uint8_t digest[BK_SHA256_SIZE];
    assert_int_equal(bk_sha256((const uint8_t *)jwt, p.signed_len, digest), BK_OK);
    assert_memory_equal(rec.digest, digest, sizeof digest);
    assert_int_equal(rec.alg, BK_SIGN_PS256);
    assert_int_equal(p.sig_len, 256);
    for (size_t i = 0; i < p.sig_len; i++) {
        assert_int_equal(p.sig[i], 0xA5);
    }
}

static void test_rs256_uses_sha1_thumbprint(void **unused) {
    (void)unused;
    recorder rec = {.sig_len = 384};
    bk_jwt_assertion a = assertion(BK_SIGN_RS256, &rec);
    char jwt[4096];
    size_t len = 0;
    uint8_t thumb[BK_SHA1_SIZE];
    if (bk_sha1(leaf, sizeof leaf, thumb) != BK_OK) {
        /* A board whose mbedTLS profile leaves SHA-1 out: RS256 is refused, cleanly. */
        assert_int_equal(bk_jwt_write_assertion(&a, jwt, sizeof jwt, &len), BK_ERR_CRYPTO);
        assert_int_equal(rec.calls, 0);
        return;
    }
    assert_int_equal(bk_jwt_write_assertion(&a, jwt, sizeof jwt, &len), BK_OK);
    parts p;
    split(jwt, &p);
    assert_non_null(strstr(p.header, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\""));
    assert_null(strstr(p.header, "x5t#S256"));
    const char *value = strstr(p.header, "\"x5t\":\"") + 7;
    uint8_t decoded[32];
    size_t n = b64url_decode(value, (size_t)(strchr(value, '"') - value), decoded, sizeof decoded);
    assert_int_equal(n, BK_SHA1_SIZE);
    assert_memory_equal(decoded, thumb, BK_SHA1_SIZE);
    assert_int_equal(p.sig_len, 384);
}

static void test_x5c_chain_in_standard_base64(void **unused) {
    (void)unused;
    recorder rec = {.sig_len = 64};
    bk_jwt_assertion a = assertion(BK_SIGN_ES256, &rec);
    const uint8_t *chain[] = {leaf, intermediate};
    const size_t chain_len[] = {sizeof leaf, sizeof intermediate};
    a.x5c_der = chain;
    a.x5c_len = chain_len;
    a.x5c_count = 2;
    char jwt[4096];
    size_t len = 0;
    assert_int_equal(bk_jwt_write_assertion(&a, jwt, sizeof jwt, &len), BK_OK);
    parts p;
    split(jwt, &p);
    char leaf_b64[64], inter_b64[64];
    size_t n = 0;
    assert_int_equal(bk_base64_encode(leaf, sizeof leaf, leaf_b64, sizeof leaf_b64, &n), BK_OK);
    assert_int_equal(
        bk_base64_encode(intermediate, sizeof intermediate, inter_b64, sizeof inter_b64, &n),
        BK_OK);
    char want[256];
    snprintf(want, sizeof want, ",\"x5c\":[\"%s\",\"%s\"]}", leaf_b64, inter_b64);
    assert_non_null(strstr(p.header, "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"x5t#S256\":\""));
    assert_non_null(strstr(p.header, want));
    assert_int_equal(p.sig_len, 64);
}

/* Every output size from too small to just enough: an overflow is an error, never a cut JWT,
 * and the buffer keeps nothing of it. */
static void test_overflow_at_every_size(void **unused) {
    (void)unused;
    recorder rec = {.sig_len = 256};
    bk_jwt_assertion a = assertion(BK_SIGN_PS256, &rec);
    char full[4096];
    size_t full_len = 0;
    assert_int_equal(bk_jwt_write_assertion(&a, full, sizeof full, &full_len), BK_OK);
    for (size_t cap = 1; cap <= full_len + 1; cap++) {
        char buf[4096];
        memset(buf, 'x', sizeof buf);
        size_t len = 99;
        bk_result r = bk_jwt_write_assertion(&a, buf, cap, &len);
        if (cap == full_len + 1) {
            assert_int_equal(r, BK_OK);
            assert_int_equal(len, full_len);
        } else {
            assert_int_equal(r, BK_ERR_REQUEST_OVERFLOW);
            assert_int_equal(len, 0);
            assert_int_equal(buf[0], '\0');
        }
    }
}

static void test_refusals(void **unused) {
    (void)unused;
    recorder rec = {.sig_len = 256};
    char jwt[4096];
    size_t len = 0;
    bk_jwt_assertion a = assertion(BK_SIGN_PS256, &rec);
    a.client_id = "not-a-guid";
    assert_int_equal(bk_jwt_write_assertion(&a, jwt, sizeof jwt, &len),
                     BK_ERR_INVALID_HEADER_VALUE);
    a = assertion(BK_SIGN_PS256, &rec);
    a.audience = "https://x/\"injected";
    assert_int_equal(bk_jwt_write_assertion(&a, jwt, sizeof jwt, &len),
                     BK_ERR_INVALID_HEADER_VALUE);
    a = assertion(BK_SIGN_PS256, &rec);
    a.now_s = -1;
    assert_int_equal(bk_jwt_write_assertion(&a, jwt, sizeof jwt, &len), BK_ERR_ARGUMENT);
    a = assertion(BK_SIGN_PS256, &rec);
    a.leaf_len = 0;
    assert_int_equal(bk_jwt_write_assertion(&a, jwt, sizeof jwt, &len), BK_ERR_ARGUMENT);
    assert_int_equal(rec.calls, 0); /* nothing was signed for any of these */
    rec.result = BK_ERR_CRYPTO;
    a = assertion(BK_SIGN_PS256, &rec);
    assert_int_equal(bk_jwt_write_assertion(&a, jwt, sizeof jwt, &len), BK_ERR_CRYPTO);
    assert_int_equal(len, 0);
    assert_int_equal(jwt[0], '\0');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ps256_assertion),
        cmocka_unit_test(test_rs256_uses_sha1_thumbprint),
        cmocka_unit_test(test_x5c_chain_in_standard_base64),
        cmocka_unit_test(test_overflow_at_every_size),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
