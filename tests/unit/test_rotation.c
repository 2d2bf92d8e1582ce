/* SPDX-License-Identifier: MIT */
/* The rotation's own pieces: the state record (format, checksum, every corruption refused), the
 * account check, the SharedKey proof request of the Batch data plane (its string to sign against
 * a value computed independently from the documented rules), and HTTP dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bk_config.h"
#include "bk_dataplane.h"
#include "bk_http.h"
#include "bk_rotate.h"
#include "bk_store.h"
#include "bk_test_support.h"

/* Bytes 0..63, base64: an account key of the service's shape (64 bytes, 88 characters). */
#define KEY_0_63                                                                                   \
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="

static bk_rotation_state sample_state(void) {
    bk_rotation_state s;
    memset(&s, 0, sizeof s);
    s.sequence = 41;
    s.updated_s = 1796220284;
    strcpy(s.subscription_id, "2b9e4f17-83c6-4d0a-b5e1-7a4c9d2f6e83");
    strcpy(s.resource_group, "batchkey-rg");
    strcpy(s.account_name, "batchkeyacct");
    strcpy(s.account_endpoint, "batchkeyacct.westeurope.batch.azure.com");
    s.active = BK_KEY_SECONDARY;
    s.step = BK_STEP_PENDING;
    s.rotations = 7;
    s.last_rotation_s = 1793628284;
    s.since_s[BK_KEY_PRIMARY] = 1796220000;
    s.since_s[BK_KEY_SECONDARY] = 1793628284;
    strcpy(s.keys[BK_KEY_PRIMARY], KEY_0_63);
    strcpy(s.keys[BK_KEY_SECONDARY], "c2Vjb25kYXJ5IGtleSB2YWx1ZQ==");
    return s;
}

static void test_record_round_trip(void **unused) {
    (void)unused;
    for (int step = 0; step < BK_STEP_COUNT; step++) {
        bk_rotation_state s = sample_state();
        s.step = (bk_rotation_step)step;
        uint8_t buf[BK_STATE_RECORD_MAX];
        size_t len = 0;
        assert_int_equal(bk_rotation_serialize(&s, buf, sizeof buf, &len), BK_OK);
        bk_rotation_state back;
        assert_int_equal(bk_rotation_parse(buf, len, &back), BK_OK);
        assert_memory_equal(&s, &back, sizeof s);
    }
}

static void test_record_reads_as_text(void **unused) {
    (void)unused;
    bk_rotation_state s = sample_state();
    char buf[BK_STATE_RECORD_MAX + 1];
    size_t len = 0;
    assert_int_equal(bk_rotation_serialize(&s, (uint8_t *)buf, sizeof buf - 1, &len), BK_OK);
    buf[len] = '\0';
    assert_true(strncmp(buf, "batchkey-rotation 1\nsequence 41\n", 32) == 0);
    assert_non_null(strstr(buf, "\nactive secondary\nstep pending\n"));
    assert_non_null(strstr(buf, "\nprimary-key " KEY_0_63 "\n"));
    const char *crc = strstr(buf, "\ncrc32 ");
    assert_non_null(crc);
    assert_int_equal(strlen(crc), 16); /* "\ncrc32 " and 8 hex digits and "\n", last */
}

/* Any one byte changed, to any value, and any cut: never read as a valid record. */
static void test_record_every_corruption_refused(void **unused) {
    (void)unused;
    bk_rotation_state s = sample_state();
    uint8_t buf[BK_STATE_RECORD_MAX];
    size_t len = 0;
    assert_int_equal(bk_rotation_serialize(&s, buf, sizeof buf, &len), BK_OK);
    bk_rotation_state out;
    static const uint8_t flips[] = {0x01, 0x20, 0x80, 0xff};
    for (size_t i = 0; i < len; i++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            uint8_t copy[BK_STATE_RECORD_MAX];
            memcpy(copy, buf, len);
            copy[i] ^= flips[f];
            bk_result r = bk_rotation_parse(copy, len, &out);
            if (r == BK_OK) {
                fail_msg("byte %zu ^ 0x%02x read as valid", i, flips[f]);
            }
            assert_true(r == BK_ERR_STATE_CORRUPT || r == BK_ERR_STATE_VERSION);
        }
    }
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(bk_rotation_parse(buf, cut, &out), BK_ERR_STATE_CORRUPT);
    }
}

/* A record whose checksum is right but whose content is not: a text editor's work, or a bug. */
static void check_reserialized(const char *from, const char *to, bk_result want) {
    bk_rotation_state s = sample_state();
    char text[BK_STATE_RECORD_MAX];
    size_t len = 0;
    assert_int_equal(bk_rotation_serialize(&s, (uint8_t *)text, sizeof text, &len), BK_OK);
    text[len - 15] = '\0'; /* drop the crc line, edit, add a correct one */
    char edited[BK_STATE_RECORD_MAX + 64];
    const char *at = strstr(text, from);
    assert_non_null(at);
    int n =
        snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    assert_true(n > 0);
    size_t body = (size_t)n;
    snprintf(edited + body, sizeof edited - body, "crc32 %08x\n",
             (unsigned)bk_crc32(0, (const uint8_t *)edited, body));
    bk_rotation_state out;
    assert_int_equal(bk_rotation_parse((const uint8_t *)edited, strlen(edited), &out), want);
}

static void test_record_content_checked(void **unused) {
    (void)unused;
    check_reserialized("batchkey-rotation 1\n", "batchkey-rotation 2\n", BK_ERR_STATE_VERSION);
    check_reserialized("active secondary", "active tertiary", BK_ERR_STATE_CORRUPT);
    check_reserialized("step pending", "step waiting", BK_ERR_STATE_CORRUPT);
    check_reserialized("account batchkeyacct", "account batch-key", BK_ERR_STATE_CORRUPT);
    check_reserialized("subscription 2b9e", "subscription Xb9e", BK_ERR_STATE_CORRUPT);
    check_reserialized("sequence 41", "sequence 99999999999", BK_ERR_STATE_CORRUPT);
    check_reserialized("primary-key AAEC", "primary-key AA C", BK_ERR_STATE_CORRUPT);
    check_reserialized("rotations 7\n", "rotations 7\nextra 1\n", BK_ERR_STATE_CORRUPT);
    check_reserialized("primary-key ", "primary-key\t", BK_ERR_STATE_CORRUPT);
    check_reserialized("rotations 7\n", "rotations 7\n", BK_OK); /* the editing itself is sound */
}

static void test_record_overflow_is_an_error(void **unused) {
    (void)unused;
    bk_rotation_state s = sample_state();
    uint8_t buf[200];
    memset(buf, 0x55, sizeof buf);
    size_t len = 0;
    assert_int_equal(bk_rotation_serialize(&s, buf, sizeof buf, &len), BK_ERR_STORE_TOO_LARGE);
    for (size_t i = 0; i < sizeof buf; i++) {
        assert_int_equal(buf[i], 0); /* a cut record held a key: wiped */
    }
}

static void test_account_check(void **unused) {
    (void)unused;
    bk_rotation_state s = sample_state();
    bk_account_ref same = {"2B9E4F17-83C6-4D0A-B5E1-7A4C9D2F6E83", "BatchKey-RG", "BATCHKEYACCT"};
    bk_account_ref other_sub = {"3b9e4f17-83c6-4d0a-b5e1-7a4c9d2f6e83", "batchkey-rg",
                                "batchkeyacct"};
    bk_account_ref other_rg = {"2b9e4f17-83c6-4d0a-b5e1-7a4c9d2f6e83", "other-rg", "batchkeyacct"};
    bk_account_ref other_name = {"2b9e4f17-83c6-4d0a-b5e1-7a4c9d2f6e83", "batchkey-rg",
                                 "otheracct"};
    assert_int_equal(bk_rotation_check_account(&s, &same), BK_OK);
    assert_int_equal(bk_rotation_check_account(&s, &other_sub), BK_ERR_STATE_FOREIGN);
    assert_int_equal(bk_rotation_check_account(&s, &other_rg), BK_ERR_STATE_FOREIGN);
    assert_int_equal(bk_rotation_check_account(&s, &other_name), BK_ERR_STATE_FOREIGN);
}

static void test_http_dates(void **unused) {
    (void)unused;
    static const struct {
        int64_t at;
        const char *text;
    } cases[] = {{0, "Thu, 01 Jan 1970 00:00:00 GMT"},
                 {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
                 {1796220284, "Wed, 02 Dec 2026 14:04:44 GMT"},
                 {4102444800, "Fri, 01 Jan 2100 00:00:00 GMT"},
                 {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"}};
    char out[BK_HTTP_DATE_SIZE];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(bk_http_format_date(cases[i].at, out), BK_OK);
        assert_string_equal(out, cases[i].text);
    }
    /* Every day of four centuries, and back through the parser. */
    for (int64_t t = 0; t < 146097LL * 86400; t += 86400 + 3607) {
        assert_int_equal(bk_http_format_date(t, out), BK_OK);
        assert_int_equal(bk_http_parse_date(out, strlen(out)), t);
    }
    assert_int_equal(bk_http_format_date(-1, out), BK_ERR_ARGUMENT);
    assert_int_equal(bk_http_format_date(253402300800, out), BK_ERR_ARGUMENT);
}

static const bk_endpoint batch_endpoint = {"batchkeyacct.westeurope.batch.azure.com", 443, false};

static bk_dataplane_request proof_request(const char *key) {
    bk_dataplane_request req = {
        &batch_endpoint,      "batchkeyacct", key,
        BK_BATCH_API_VERSION, 1796221084,     "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"};
    return req;
}

/* The string to sign and its signature, computed apart from this code (Python's hmac, hashlib
 * and base64) from the rules of "Authenticate requests to Azure Batch". */
static void test_string_to_sign(void **unused) {
    (void)unused;
    bk_dataplane_request req = proof_request(KEY_0_63);
    char buf[256];
    size_t len = 0;
    assert_int_equal(
        bk_dataplane_string_to_sign(&req, "Wed, 02 Dec 2026 14:18:04 GMT", buf, sizeof buf, &len),
        BK_OK);
    assert_string_equal(buf, "GET\n\n\n\n\n\n\n\n\n\n\n\n"
                             "ocp-date:Wed, 02 Dec 2026 14:18:04 GMT\n"
                             "/batchkeyacct/applications\n"
                             "api-version:2024-07-01.20.0\n"
                             "maxresults:1");
    assert_int_equal(len, strlen(buf));
}

static void test_signed_request(void **unused) {
    (void)unused;
    bk_dataplane_request req = proof_request(KEY_0_63);
    char buf[1024];
    size_t len = 0;
    assert_int_equal(bk_dataplane_write_request(&req, buf, sizeof buf, &len), BK_OK);
    buf[len] = '\0';
    assert_string_equal(buf,
                        "GET /applications?api-version=2024-07-01.20.0&maxresults=1 HTTP/1.1\r\n"
                        "Host: batchkeyacct.westeurope.batch.azure.com\r\n"
                        "ocp-date: Wed, 02 Dec 2026 14:18:04 GMT\r\n"
                        "Authorization: SharedKey batchkeyacct:"
                        "am6e8x6whOhlWfbzPVHKM739lMQLXNjB1mxEafZ3V+A=\r\n"
                        "Accept: application/json\r\n"
                        "User-Agent: " BK_USER_AGENT "\r\n"
                        "client-request-id: 0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\r\n\r\n");
    /* One byte short of room is an overflow, not a cut request. */
    assert_int_equal(bk_dataplane_write_request(&req, buf, len - 1, &len), BK_ERR_REQUEST_OVERFLOW);
}

static void test_proof_request_checks(void **unused) {
    (void)unused;
    char buf[1024];
    size_t len = 0;
    bk_dataplane_request req = proof_request("not base64!");
    assert_int_equal(bk_dataplane_write_request(&req, buf, sizeof buf, &len), BK_ERR_BASE64);
    req = proof_request("");
    assert_int_equal(bk_dataplane_write_request(&req, buf, sizeof buf, &len), BK_ERR_BASE64);
    req = proof_request(KEY_0_63);
    req.account_name = "bad-name";
    assert_int_equal(bk_dataplane_write_request(&req, buf, sizeof buf, &len),
                     BK_ERR_INVALID_ACCOUNT);
    req = proof_request(KEY_0_63);
    req.api_version = "2024-07-01.20.0\r\nX: y";
    assert_int_equal(bk_dataplane_write_request(&req, buf, sizeof buf, &len),
                     BK_ERR_INVALID_HEADER_VALUE);
    req = proof_request(KEY_0_63);
    req.now_s = -1;
    assert_int_equal(bk_dataplane_write_request(&req, buf, sizeof buf, &len), BK_ERR_ARGUMENT);
    assert_true(bk_dataplane_api_version_ok("2024-07-01.20.0"));
    assert_true(bk_dataplane_api_version_ok("2030-01-31.1234.1"));
    assert_false(bk_dataplane_api_version_ok("2024-07-01"));
    assert_false(bk_dataplane_api_version_ok("2024-07-01.20"));
    assert_false(bk_dataplane_api_version_ok("2024-07-01.20.0.1"));
    assert_false(bk_dataplane_api_version_ok("2024-7-01.20.0"));
    assert_false(bk_dataplane_api_version_ok("2024-07-01.20.x"));
}

static void test_batch_error_body(void **unused) {
    (void)unused;
    static const char body[] =
        "{\"odata.metadata\":\"https://a.b.batch.azure.com/$metadata#Microsoft.Azure.Batch."
        "Protocol.Entities.Container.errors/@Element\",\"code\":\"AuthenticationFailed\","
        "\"message\":{\"lang\":\"en-US\",\"value\":\"Server failed to authenticate the request."
        "\\nRequestId:1\"},\"values\":[{\"key\":\"AuthenticationErrorDetail\",\"value\":\"x\"}]}";
    bk_json_token tokens[64];
    bk_cloud_error err;
    assert_int_equal(bk_parse_batch_error(body, strlen(body), tokens, 64, &err), BK_OK);
    assert_string_equal(err.code, "AuthenticationFailed");
    assert_string_equal(err.message, "Server failed to authenticate the request.\nRequestId:1");
    static const char plain[] = "{\"code\":\"ServerBusy\",\"message\":\"busy\"}";
    assert_int_equal(bk_parse_batch_error(plain, strlen(plain), tokens, 64, &err), BK_OK);
    assert_string_equal(err.message, "busy");
    static const char no_code[] = "{\"message\":\"x\"}";
    assert_int_equal(bk_parse_batch_error(no_code, strlen(no_code), tokens, 64, &err),
                     BK_ERR_JSON_MISSING_FIELD);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_round_trip),
        cmocka_unit_test(test_record_reads_as_text),
        cmocka_unit_test(test_record_every_corruption_refused),
        cmocka_unit_test(test_record_content_checked),
        cmocka_unit_test(test_record_overflow_is_an_error),
        cmocka_unit_test(test_account_check),
        cmocka_unit_test(test_http_dates),
        cmocka_unit_test(test_string_to_sign),
        cmocka_unit_test(test_signed_request),
        cmocka_unit_test(test_proof_request_checks),
        cmocka_unit_test(test_batch_error_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
