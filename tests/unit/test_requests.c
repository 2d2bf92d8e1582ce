/* SPDX-License-Identifier: MIT */
/* Request writers: byte-exact ARM and Entra requests, refusal before writing, overflow at every
 * buffer size, the bounded writer itself and UUIDs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bk_arm.h"
#include "bk_config.h"
#include "bk_entra.h"
#include "bk_endpoint.h"
#include "bk_http.h"
#include "bk_writer.h"
#include "bk_test_support.h"

#define SUB       "12345678-1234-1234-1234-123456789012"
#define TOKEN     "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2ln"
#define REQ_ID    "00010203-0405-4607-8809-0a0b0c0d0e0f"
#define CLIENT_ID "87654321-4321-4321-4321-210987654321"
#define ACCOUNT_PATH                                                                               \
    "/subscriptions/" SUB "/resourceGroups/my-rg/providers/Microsoft.Batch/batchAccounts/myacct"
#define COMMON_HEADERS                                                                             \
    "Accept: application/json\r\n"                                                                 \
    "User-Agent: " BK_USER_AGENT "\r\n"                                                            \
    "x-ms-client-request-id: " REQ_ID "\r\n"
#define ARM_HEADERS                                                                                \
    "Host: management.azure.com\r\n"                                                               \
    "Authorization: Bearer " TOKEN "\r\n" COMMON_HEADERS

#define SECRET         "a+b/c=d~e.f_g-h i&j"
#define SECRET_ENCODED "a%2Bb%2Fc%3Dd~e.f_g-h%20i%26j"
#define SCOPE_ENCODED  "https%3A%2F%2Fmanagement.azure.com%2F.default"
#define ASSERTION      "eyJhbGciOiJQUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln-_"
#define CLAIMS         "{\"access_token\":{\"nbf\":{\"essential\":true,\"value\":\"1700000000\"}}}"
#define CLAIMS_ENCODED                                                                             \
    "%7B%22access_token%22%3A%7B%22nbf%22%3A%7B%22essential%22%3Atrue%2C%22value%22%3A%"           \
    "221700000000%22%7D%7D%7D"
#define TOKEN_HEAD                                                                                 \
    "POST /contoso.onmicrosoft.com/oauth2/v2.0/token HTTP/1.1\r\n"                                 \
    "Host: login.microsoftonline.com\r\n" COMMON_HEADERS                                           \
    "Content-Type: application/x-www-form-urlencoded\r\n"

enum { SENTINEL = 0xa5 };

static char buf[BK_IO_BUFFER_SIZE];

static bk_endpoint arm_endpoint(void) {
    bk_endpoint ep;
    assert_int_equal(bk_endpoint_parse(&ep, "https://management.azure.com"), BK_OK);
    return ep;
}

static bk_endpoint authority_endpoint(void) {
    bk_endpoint ep;
    assert_int_equal(bk_endpoint_parse(&ep, "https://login.microsoftonline.com/"), BK_OK);
    return ep;
}

static const bk_account_ref default_account = {SUB, "my-rg", "myacct"};

static bk_arm_request arm_request(bk_arm_operation op, bk_key_name key, const bk_endpoint *ep,
                                  const bk_account_ref *account) {
    bk_arm_request req = {op, key, ep, account, TOKEN, strlen(TOKEN), REQ_ID};
    return req;
}

static bk_token_request token_request(const bk_endpoint *authority) {
    bk_token_request req = {
        authority, "contoso.onmicrosoft.com", CLIENT_ID, SECRET, NULL, NULL, BK_ARM_SCOPE, REQ_ID};
    return req;
}

/* Compares the written request with expected as strings, so a failure prints both. */
static void assert_request(bk_result r, size_t len, const char *expected) {
    assert_int_equal(r, BK_OK);
    assert_true(len < sizeof buf);
    buf[len] = '\0';
    assert_string_equal(buf, expected);
    assert_int_equal(len, strlen(expected));
}

static void assert_buffer_untouched(void) {
    for (size_t i = 0; i < sizeof buf; i++) {
        if ((unsigned char)buf[i] != SENTINEL) {
            fail_msg("byte %zu was written", i);
        }
    }
}

static void expect_arm_refused(const bk_arm_request *req, bk_result expected) {
    memset(buf, SENTINEL, sizeof buf);
    size_t len = 12345;
    assert_int_equal(bk_arm_write_request(req, buf, sizeof buf, &len), expected);
    assert_int_equal(len, 0);
    assert_buffer_untouched();
}

static void expect_token_refused(const bk_token_request *req, bk_result expected) {
    memset(buf, SENTINEL, sizeof buf);
    size_t len = 12345;
    assert_int_equal(bk_entra_write_token_request(req, buf, sizeof buf, &len), expected);
    assert_int_equal(len, 0);
    assert_buffer_untouched();
}

/* --- ARM --- */

static void test_arm_regenerate_primary(void **state) {
    (void)state;
    bk_endpoint ep = arm_endpoint();
    bk_arm_request req = arm_request(BK_ARM_REGENERATE_KEY, BK_KEY_PRIMARY, &ep, &default_account);
    size_t len;
    bk_result r = bk_arm_write_request(&req, buf, sizeof buf, &len);
    assert_request(r, len,
                   "POST " ACCOUNT_PATH
                   "/regenerateKeys?api-version=2024-07-01 HTTP/1.1\r\n" ARM_HEADERS
                   "Content-Type: application/json\r\n"
                   "Content-Length: 21\r\n"
                   "\r\n"
                   "{\"keyName\":\"Primary\"}");
}

static void test_arm_regenerate_secondary(void **state) {
    (void)state;
    bk_endpoint ep = arm_endpoint();
    bk_arm_request req =
        arm_request(BK_ARM_REGENERATE_KEY, BK_KEY_SECONDARY, &ep, &default_account);
    size_t len;
    bk_result r = bk_arm_write_request(&req, buf, sizeof buf, &len);
    assert_request(r, len,
                   "POST " ACCOUNT_PATH
                   "/regenerateKeys?api-version=2024-07-01 HTTP/1.1\r\n" ARM_HEADERS
                   "Content-Type: application/json\r\n"
                   "Content-Length: 23\r\n"
                   "\r\n"
                   "{\"keyName\":\"Secondary\"}");
}

static void test_arm_list_keys(void **state) {
    (void)state;
    bk_endpoint ep = arm_endpoint();
    /* The key field is ignored outside regenerateKeys, even when out of range. */
    bk_arm_request req = arm_request(BK_ARM_LIST_KEYS, (bk_key_name)7, &ep, &default_account);
    size_t len;
    bk_result r = bk_arm_write_request(&req, buf, sizeof buf, &len);
    assert_request(r, len,
                   "POST " ACCOUNT_PATH "/listKeys?api-version=2024-07-01 HTTP/1.1\r\n" ARM_HEADERS
                   "Content-Length: 0\r\n"
                   "\r\n");
}

static void test_arm_get_account(void **state) {
    (void)state;
    bk_endpoint ep = arm_endpoint();
    bk_arm_request req = arm_request(BK_ARM_GET_ACCOUNT, BK_KEY_PRIMARY, &ep, &default_account);
    size_t len;
    bk_result r = bk_arm_write_request(&req, buf, sizeof buf, &len);
    assert_request(r, len,
                   "GET " ACCOUNT_PATH "?api-version=2024-07-01 HTTP/1.1\r\n" ARM_HEADERS "\r\n");
}

static void test_arm_host_with_port(void **state) {
    (void)state;
    bk_endpoint ep;
    assert_int_equal(bk_endpoint_parse(&ep, "https://localhost:8443"), BK_OK);
    bk_arm_request req = arm_request(BK_ARM_GET_ACCOUNT, BK_KEY_PRIMARY, &ep, &default_account);
    size_t len;
    bk_result r = bk_arm_write_request(&req, buf, sizeof buf, &len);
    assert_request(r, len,
                   "GET " ACCOUNT_PATH "?api-version=2024-07-01 HTTP/1.1\r\n"
                   "Host: localhost:8443\r\n"
                   "Authorization: Bearer " TOKEN "\r\n" COMMON_HEADERS "\r\n");
}

static void test_arm_resource_group_escaping(void **state) {
    (void)state;
    bk_endpoint ep = arm_endpoint();
    static const struct {
        const char *name;
        const char *in_path;
    } cases[] = {
        {"grupo-\xc3\xb1", "grupo-%C3%B1"},
        {"(my_rg.1)", "(my_rg.1)"}, /* sub-delims and unreserved stay as they are */
        {"\xf0\x9f\x98\x80x", "%F0%9F%98%80x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bk_account_ref account = {SUB, cases[i].name, "myacct"};
        bk_arm_request req = arm_request(BK_ARM_LIST_KEYS, BK_KEY_PRIMARY, &ep, &account);
        size_t len;
        assert_int_equal(bk_arm_write_request(&req, buf, sizeof buf, &len), BK_OK);
        buf[len] = '\0';
        char expected_line[256];
        snprintf(expected_line, sizeof expected_line,
                 "POST /subscriptions/" SUB "/resourceGroups/%s/providers/Microsoft.Batch/"
                 "batchAccounts/myacct/listKeys?api-version=2024-07-01 HTTP/1.1\r\n",
                 cases[i].in_path);
        assert_memory_equal(buf, expected_line, strlen(expected_line));
    }
}

static void test_arm_refuses_bad_input_before_writing(void **state) {
    (void)state;
    bk_endpoint ep = arm_endpoint();
    bk_arm_request req = arm_request(BK_ARM_REGENERATE_KEY, BK_KEY_PRIMARY, &ep, &default_account);

    static const char *const bad_tokens[] = {"abc\r\nX-Evil: 1", "abc\ndef", "abc\rdef", "abc\tdef",
                                             "abc\x7f"};
    for (size_t i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++) {
        bk_arm_request bad = req;
        bad.token = bad_tokens[i];
        bad.token_len = strlen(bad_tokens[i]);
        expect_arm_refused(&bad, BK_ERR_INVALID_HEADER_VALUE);
    }
    bk_arm_request bad = req;
    bad.token = "abc\0def"; /* a NUL inside the counted token */
    bad.token_len = 7;
    expect_arm_refused(&bad, BK_ERR_INVALID_HEADER_VALUE);
    bad.token_len = 0;
    expect_arm_refused(&bad, BK_ERR_INVALID_HEADER_VALUE);

    static const char *const bad_ids[] = {"00010203-0405-4607-8809-0a0b0c0d0e\r\n",
                                          "00010203-0405-4607-8809-0a0b0c0d0e0f\r\nX: y",
                                          "00010203-0405-4607-8809-0a0b0c0d0e0", ""};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        bad = req;
        bad.client_request_id = bad_ids[i];
        expect_arm_refused(&bad, BK_ERR_INVALID_HEADER_VALUE);
    }

    bad = req;
    bad.key = (bk_key_name)2;
    expect_arm_refused(&bad, BK_ERR_INVALID_KEY_NAME);
    bad = req;
    bad.operation = (bk_arm_operation)3;
    expect_arm_refused(&bad, BK_ERR_ARGUMENT);

    bk_account_ref account = {"12345678-1234-1234-1234-12345678901g", "my-rg", "myacct"};
    bad = req;
    bad.account = &account;
    expect_arm_refused(&bad, BK_ERR_INVALID_SUBSCRIPTION);
    account.subscription_id = SUB;
    account.resource_group = "my-rg\r\nX: y";
    expect_arm_refused(&bad, BK_ERR_INVALID_RESOURCE_GROUP);
    account.resource_group = "my-rg.";
    expect_arm_refused(&bad, BK_ERR_INVALID_RESOURCE_GROUP);
    account.resource_group = "my-rg";
    account.account_name = "my acct";
    expect_arm_refused(&bad, BK_ERR_INVALID_ACCOUNT);
    account.account_name = NULL;
    expect_arm_refused(&bad, BK_ERR_ARGUMENT);

    /* A hand-filled endpoint gets the same checks as a parsed one. */
    bk_endpoint evil = {"example.com\r\nX-Evil: 1", 443, false};
    bad = req;
    bad.arm = &evil;
    expect_arm_refused(&bad, BK_ERR_INVALID_URL);

    bad = req;
    bad.token = NULL;
    expect_arm_refused(&bad, BK_ERR_ARGUMENT);
    bad = req;
    bad.client_request_id = NULL;
    expect_arm_refused(&bad, BK_ERR_ARGUMENT);
    bad = req;
    bad.arm = NULL;
    expect_arm_refused(&bad, BK_ERR_ARGUMENT);
    bad = req;
    bad.account = NULL;
    expect_arm_refused(&bad, BK_ERR_ARGUMENT);
    expect_arm_refused(NULL, BK_ERR_ARGUMENT);

    size_t len;
    assert_int_equal(bk_arm_write_request(&req, NULL, 100, &len), BK_ERR_ARGUMENT);
    assert_int_equal(bk_arm_write_request(&req, buf, sizeof buf, NULL), BK_ERR_ARGUMENT);
}

/* Every size below the exact one overflows, leaves nothing of the request behind (bytes are
 * zeroed or untouched) and never writes past cap (the heap block is exactly cap bytes, so ASan
 * would catch it); the exact size gives the same bytes as a large buffer. */
typedef bk_result (*request_writer_fn)(const void *req, char *out, size_t cap, size_t *out_len);

static bk_result write_arm(const void *req, char *out, size_t cap, size_t *out_len) {
    return bk_arm_write_request(req, out, cap, out_len);
}

static bk_result write_token(const void *req, char *out, size_t cap, size_t *out_len) {
    return bk_entra_write_token_request(req, out, cap, out_len);
}

static void assert_overflow_at_every_size(request_writer_fn write_request, const void *req) {
    size_t exact;
    assert_int_equal(write_request(req, buf, sizeof buf, &exact), BK_OK);
    char *reference = malloc(exact);
    assert_non_null(reference);
    memcpy(reference, buf, exact);

    for (size_t cap = 0; cap < exact; cap++) {
        char *block = malloc(cap > 0 ? cap : 1);
        assert_non_null(block);
        memset(block, SENTINEL, cap > 0 ? cap : 1);
        size_t len = 12345;
        assert_int_equal(write_request(req, block, cap, &len), BK_ERR_REQUEST_OVERFLOW);
        assert_int_equal(len, 0);
        for (size_t i = 0; i < cap; i++) {
            if (block[i] != 0 && (unsigned char)block[i] != SENTINEL) {
                fail_msg("cap %zu: byte %zu left behind", cap, i);
            }
        }
        free(block);
    }

    char *block = malloc(exact);
    assert_non_null(block);
    size_t len = 0;
    assert_int_equal(write_request(req, block, exact, &len), BK_OK);
    assert_int_equal(len, exact);
    assert_memory_equal(block, reference, exact);
    free(block);
    free(reference);
}

static void test_arm_overflow_at_every_size(void **state) {
    (void)state;
    bk_endpoint ep = arm_endpoint();
    const bk_arm_request requests[] = {
        arm_request(BK_ARM_REGENERATE_KEY, BK_KEY_PRIMARY, &ep, &default_account),
        arm_request(BK_ARM_REGENERATE_KEY, BK_KEY_SECONDARY, &ep, &default_account),
        arm_request(BK_ARM_LIST_KEYS, BK_KEY_PRIMARY, &ep, &default_account),
        arm_request(BK_ARM_GET_ACCOUNT, BK_KEY_PRIMARY, &ep, &default_account),
    };
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        assert_overflow_at_every_size(write_arm, &requests[i]);
    }
}

/* --- Entra --- */

static void test_token_with_secret(void **state) {
    (void)state;
    bk_endpoint authority = authority_endpoint();
    bk_token_request req = token_request(&authority);
    size_t len;
    bk_result r = bk_entra_write_token_request(&req, buf, sizeof buf, &len);
    assert_request(r, len,
                   TOKEN_HEAD "Content-Length: 172\r\n"
                              "\r\n"
                              "grant_type=client_credentials&client_id=" CLIENT_ID
                              "&client_secret=" SECRET_ENCODED "&scope=" SCOPE_ENCODED);
}

static void test_token_with_assertion(void **state) {
    (void)state;
    bk_endpoint authority = authority_endpoint();
    bk_token_request req = token_request(&authority);
    req.client_secret = ""; /* empty counts as absent */
    req.client_assertion = ASSERTION;
    size_t len;
    bk_result r = bk_entra_write_token_request(&req, buf, sizeof buf, &len);
    assert_request(r, len,
                   TOKEN_HEAD "Content-Length: 276\r\n"
                              "\r\n"
                              "grant_type=client_credentials&client_id=" CLIENT_ID
                              "&client_assertion_type="
                              "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                              "&client_assertion=" ASSERTION "&scope=" SCOPE_ENCODED);
}

static void test_token_with_claims(void **state) {
    (void)state;
    bk_endpoint authority = authority_endpoint();
    bk_token_request req = token_request(&authority);
    req.claims = CLAIMS;
    size_t len;
    bk_result r = bk_entra_write_token_request(&req, buf, sizeof buf, &len);
    assert_request(r, len,
                   TOKEN_HEAD "Content-Length: 286\r\n"
                              "\r\n"
                              "grant_type=client_credentials&client_id=" CLIENT_ID
                              "&client_secret=" SECRET_ENCODED "&scope=" SCOPE_ENCODED
                              "&claims=" CLAIMS_ENCODED);
}

static void test_token_guid_tenant_and_port(void **state) {
    (void)state;
    bk_endpoint authority;
    assert_int_equal(bk_endpoint_parse(&authority, "https://127.0.0.1:8443"), BK_OK);
    bk_token_request req = token_request(&authority);
    req.tenant_id = "AABBCCDD-1234-1234-1234-123456789012";
    req.client_secret = "s";
    size_t len;
    assert_int_equal(bk_entra_write_token_request(&req, buf, sizeof buf, &len), BK_OK);
    buf[len] = '\0';
    const char *head = "POST /AABBCCDD-1234-1234-1234-123456789012/oauth2/v2.0/token HTTP/1.1\r\n"
                       "Host: 127.0.0.1:8443\r\n";
    assert_memory_equal(buf, head, strlen(head));
    /* Content-Length matches what follows the blank line. */
    const char *body = strstr(buf, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    const char *cl = strstr(buf, "Content-Length: ");
    assert_non_null(cl);
    assert_int_equal(strtoul(cl + 16, NULL, 10), strlen(body));
}

static void test_token_refuses_bad_input_before_writing(void **state) {
    (void)state;
    bk_endpoint authority = authority_endpoint();
    bk_token_request req = token_request(&authority);
    bk_token_request bad;

    bad = req;
    bad.client_assertion = ASSERTION; /* both */
    expect_token_refused(&bad, BK_ERR_INVALID_SECRET);
    bad.client_secret = NULL;
    bad.client_assertion = NULL; /* neither */
    expect_token_refused(&bad, BK_ERR_INVALID_SECRET);
    bad.client_secret = "";
    bad.client_assertion = "";
    expect_token_refused(&bad, BK_ERR_INVALID_SECRET);

    bad = req;
    bad.client_secret = "abc\r\nX-Evil: 1";
    expect_token_refused(&bad, BK_ERR_INVALID_HEADER_VALUE);
    bad.client_secret = "abc\x7f";
    expect_token_refused(&bad, BK_ERR_INVALID_HEADER_VALUE);
    bad = req;
    bad.client_secret = NULL;
    bad.client_assertion = "eyJ.\n.x";
    expect_token_refused(&bad, BK_ERR_INVALID_HEADER_VALUE);
    bad = req;
    bad.claims = "{\r\n}";
    expect_token_refused(&bad, BK_ERR_INVALID_HEADER_VALUE);
    bad = req;
    bad.client_request_id = "00010203-0405-4607-8809-0a0b0c0d0e\r\n";
    expect_token_refused(&bad, BK_ERR_INVALID_HEADER_VALUE);

    bad = req;
    bad.tenant_id = "contoso.com\r\nHost: evil.example";
    expect_token_refused(&bad, BK_ERR_INVALID_TENANT);
    bad.tenant_id = "contoso.com/../x";
    expect_token_refused(&bad, BK_ERR_INVALID_TENANT);
    bad.tenant_id = "";
    expect_token_refused(&bad, BK_ERR_INVALID_TENANT);

    bad = req;
    bad.client_id = "87654321-4321-4321-4321-21098765432";
    expect_token_refused(&bad, BK_ERR_INVALID_CLIENT_ID);
    bad.client_id = "87654321-4321-4321-4321-210987654321\r\n";
    expect_token_refused(&bad, BK_ERR_INVALID_CLIENT_ID);

    bk_endpoint evil = {"login.example\r\nX: y", 443, false};
    bad = req;
    bad.authority = &evil;
    expect_token_refused(&bad, BK_ERR_INVALID_URL);

    bad = req;
    bad.scope = NULL;
    expect_token_refused(&bad, BK_ERR_ARGUMENT);
    bad = req;
    bad.tenant_id = NULL;
    expect_token_refused(&bad, BK_ERR_ARGUMENT);
    bad = req;
    bad.client_id = NULL;
    expect_token_refused(&bad, BK_ERR_ARGUMENT);
    bad = req;
    bad.client_request_id = NULL;
    expect_token_refused(&bad, BK_ERR_ARGUMENT);
    bad = req;
    bad.authority = NULL;
    expect_token_refused(&bad, BK_ERR_ARGUMENT);
    expect_token_refused(NULL, BK_ERR_ARGUMENT);
}

static void test_token_overflow_at_every_size(void **state) {
    (void)state;
    bk_endpoint authority = authority_endpoint();
    bk_token_request with_secret = token_request(&authority);
    with_secret.claims = CLAIMS;
    assert_overflow_at_every_size(write_token, &with_secret);

    bk_token_request with_assertion = token_request(&authority);
    with_assertion.client_secret = NULL;
    with_assertion.client_assertion = ASSERTION;
    assert_overflow_at_every_size(write_token, &with_assertion);
}

/* --- the writer --- */

static void test_writer_numbers_and_escapes(void **state) {
    (void)state;
    char out[128];
    bk_writer w;
    bk_writer_init(&w, out, sizeof out);
    bk_write_uint(&w, 0);
    bk_write_str(&w, " ");
    bk_write_uint(&w, UINT64_MAX);
    bk_write_str(&w, " ");
    bk_write_pct(&w, SECRET, strlen(SECRET));
    bk_write_str(&w, " ");
    bk_write_pct(&w, "\x00\x7f\x80\xff", 4);
    size_t len;
    assert_int_equal(bk_writer_finish(&w, &len), BK_OK);
    const char *expected = "0 18446744073709551615 " SECRET_ENCODED " %00%7F%80%FF";
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(out, expected, len);
}

static void test_writer_overflow_is_sticky(void **state) {
    (void)state;
    char out[8];
    memset(out, SENTINEL, sizeof out);
    bk_writer w;
    bk_writer_init(&w, out, 6);
    bk_write_str(&w, "abc");
    bk_write_str(&w, "defg"); /* does not fit: filled up to cap */
    bk_write_str(&w, "h");    /* dropped: the output stays a prefix */
    assert_true(w.overflow);
    assert_int_equal(w.len, 6);
    assert_memory_equal(out, "abcdef", 6);
    assert_int_equal((unsigned char)out[6], SENTINEL); /* nothing past cap */
    assert_int_equal((unsigned char)out[7], SENTINEL);
    size_t len = 99;
    assert_int_equal(bk_writer_finish(&w, &len), BK_ERR_REQUEST_OVERFLOW);
    assert_int_equal(len, 0);

    bk_writer_init(&w, out, sizeof out);
    bk_write_str(&w, NULL); /* fails closed, and nothing after it lands */
    bk_write_str(&w, "abc");
    assert_int_equal(w.len, 0);
    assert_int_equal(bk_writer_finish(&w, &len), BK_ERR_REQUEST_OVERFLOW);

    bk_writer_init(&w, out, 3);
    bk_write_str(&w, "abc");
    assert_int_equal(bk_writer_finish(&w, &len), BK_OK);
    assert_int_equal(len, 3);
}

static void test_counting_writer(void **state) {
    (void)state;
    bk_writer w;
    bk_writer_init(&w, NULL, 0);
    bk_write_str(&w, "abc");
    bk_write_pct(&w, " ", 1);
    bk_write_uint(&w, 12345);
    size_t len;
    assert_int_equal(bk_writer_finish(&w, &len), BK_OK);
    assert_int_equal(len, 3 + 3 + 5);
}

static void test_host_header(void **state) {
    (void)state;
    static const struct {
        const char *url;
        const char *header;
    } cases[] = {
        {"https://management.azure.com", "Host: management.azure.com\r\n"},
        {"https://management.azure.com:443/", "Host: management.azure.com\r\n"},
        {"https://localhost:8443", "Host: localhost:8443\r\n"},
        {"https://[::1]:8443", "Host: [::1]:8443\r\n"},
        {"https://10.0.0.1:1", "Host: 10.0.0.1:1\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bk_endpoint ep;
        assert_int_equal(bk_endpoint_parse(&ep, cases[i].url), BK_OK);
        char out[64];
        bk_writer w;
        bk_writer_init(&w, out, sizeof out);
        bk_write_host_header(&w, &ep);
        size_t len;
        assert_int_equal(bk_writer_finish(&w, &len), BK_OK);
        out[len] = '\0';
        assert_string_equal(out, cases[i].header);
    }
}

/* --- UUIDs --- */

static void test_uuid_from_test_entropy(void **state) {
    (void)state;
    bk_test_entropy_reset();
    char id[37];
    assert_int_equal(bk_uuid4(id), BK_OK);
    assert_string_equal(id, "00010203-0405-4607-8809-0a0b0c0d0e0f");
    assert_int_equal(bk_uuid4(id), BK_OK); /* the next 16 bytes: 0x10..0x1f */
    assert_string_equal(id, "10111213-1415-4617-9819-1a1b1c1d1e1f");
    assert_true(bk_guid_ok(id));
}

static void test_uuid_entropy_failure(void **state) {
    (void)state;
    char id[37];
    memset(id, 'x', sizeof id);
    bk_test_entropy_fail(1);
    bk_result r = bk_uuid4(id);
    bk_test_entropy_fail(0);
    assert_int_equal(r, BK_ERR_ENTROPY);
    assert_int_equal(id[0], '\0');
    assert_int_equal(bk_uuid4(NULL), BK_ERR_ARGUMENT);
}

static void test_uuid_version_and_variant_bits(void **state) {
    (void)state;
    uint8_t ones[16];
    uint8_t zeros[16] = {0};
    memset(ones, 0xff, sizeof ones);
    char id[37];
    bk_uuid4_from_bytes(ones, id);
    assert_string_equal(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    bk_uuid4_from_bytes(zeros, id);
    assert_string_equal(id, "00000000-0000-4000-8000-000000000000");
}

/* cp1 in every token request's claims, merged into a CAE challenge's. */
static void test_claims_with_client_capability(void **state) {
    (void)state;
    char out[256];
    static const struct {
        const char *challenge;
        const char *claims;
    } cases[] = {
        {NULL, "{\"access_token\":{\"xms_cc\":{\"values\":[\"cp1\"]}}}"},
        {"", "{\"access_token\":{\"xms_cc\":{\"values\":[\"cp1\"]}}}"},
        {"{\"access_token\":{\"nbf\":{\"essential\":true,\"value\":\"1\"}}}",
         "{\"access_token\":{\"xms_cc\":{\"values\":[\"cp1\"]},\"nbf\":{\"essential\":true,"
         "\"value\":\"1\"}}}"},
        {"{ \"access_token\" : { } }",
         "{ \"access_token\" : {\"xms_cc\":{\"values\":[\"cp1\"]} } }"},
        {"{\"id_token\":{\"auth_time\":null}}", "{\"id_token\":{\"auth_time\":null}}"},
        {"{\"access_token\":{\"xms_cc\":{\"values\":[\"cp2\"]}}}",
         "{\"access_token\":{\"xms_cc\":{\"values\":[\"cp2\"]}}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(bk_entra_claims(cases[i].challenge, out, sizeof out), BK_OK);
        assert_string_equal(out, cases[i].claims);
    }
    char small[16];
    assert_int_equal(bk_entra_claims(NULL, small, sizeof small), BK_ERR_REQUEST_OVERFLOW);
    assert_int_equal(small[0], '\0');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claims_with_client_capability),
        cmocka_unit_test(test_arm_regenerate_primary),
        cmocka_unit_test(test_arm_regenerate_secondary),
        cmocka_unit_test(test_arm_list_keys),
        cmocka_unit_test(test_arm_get_account),
        cmocka_unit_test(test_arm_host_with_port),
        cmocka_unit_test(test_arm_resource_group_escaping),
        cmocka_unit_test(test_arm_refuses_bad_input_before_writing),
        cmocka_unit_test(test_arm_overflow_at_every_size),
        cmocka_unit_test(test_token_with_secret),
        cmocka_unit_test(test_token_with_assertion),
        cmocka_unit_test(test_token_with_claims),
        cmocka_unit_test(test_token_guid_tenant_and_port),
        cmocka_unit_test(test_token_refuses_bad_input_before_writing),
        cmocka_unit_test(test_token_overflow_at_every_size),
        cmocka_unit_test(test_writer_numbers_and_escapes),
        cmocka_unit_test(test_writer_overflow_is_sticky),
        cmocka_unit_test(test_counting_writer),
        cmocka_unit_test(test_host_header),
        cmocka_unit_test(test_uuid_from_test_entropy),
        cmocka_unit_test(test_uuid_entropy_failure),
        cmocka_unit_test(test_uuid_version_and_variant_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
