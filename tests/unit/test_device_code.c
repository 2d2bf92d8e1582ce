/* SPDX-License-Identifier: MIT */
/* A person's sign-in without a network: the device code flow's requests, its waits (the
 * interval, 5 s more after slow_down), its end, and the refresh token kept in a store (here the
 * two-slot flash of the boards) and replaced by every use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bk_device_code.h"
#include "bk_http.h"
#include "bk_store.h"
#include "bk_test_flash.h"
#include "bk_test_support.h"

#define TENANT     "5f3c8a21-7d4e-4b9a-a6c2-91e0d4b7f3a8"
#define CLIENT     "c1a7e9d2-4b3f-4e58-9a06-2d8b5f1c7e40"
#define REQUEST_ID "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
#define SCOPE      "https://management.azure.com/user_impersonation"

static bk_test_flash flash;
static bk_flash_store records;
static bk_store store;
static bk_endpoint authority;
static bk_user_sign_in sign_in;
static bk_token token;
static bk_entra_error error;
static bk_json_token json[64];
static char request[8192];
static char shown[512];

static void show(void *ctx, const char *message) {
    (void)ctx;
    snprintf(shown, sizeof shown, "%s", message);
}

static int setup(void **unused) {
    (void)unused;
    bk_test_flash_init(&flash, BK_TEST_FLASH_SLOT_MAX);
    store = bk_flash_store_init(&records, bk_test_flash_ops(&flash));
    assert_int_equal(bk_endpoint_parse(&authority, "https://login.microsoftonline.com"), BK_OK);
    bk_user_sign_in_init(&sign_in, &authority, TENANT, CLIENT, SCOPE, store);
    sign_in.prompt = show;
    shown[0] = '\0';
    bk_test_slept_ms = 0;
    return 0;
}

static const char *write(bk_credential c) {
    bk_token_ask ask = {SCOPE, NULL, REQUEST_ID, 1796221084, 0};
    size_t len = 0;
    assert_int_equal(c.write_request(c.ctx, &ask, request, sizeof request - 1, &len), BK_OK);
    request[len] = '\0';
    return strstr(request, "\r\n\r\n") + 4; /* the form */
}

static bk_result read(bk_credential c, int status, const char *body) {
    bk_http_response resp;
    bk_http_response_reset(&resp);
    resp.status = status;
    resp.body = body;
    resp.body_len = strlen(body);
    return c.read_answer(c.ctx, &resp, json, 64, &token, &error);
}

#define TOKENS(refresh)                                                                            \
    "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"eyJ0\","                    \
    "\"refresh_token\":\"" refresh "\"}"
#define PENDING(code) "{\"error\":\"" code "\",\"error_description\":\"AADSTS70016: pending\"}"

static void test_device_code_flow(void **unused) {
    (void)unused;
    bk_credential c = bk_device_code_credential(&sign_in);
    assert_string_equal(write(c), "client_id=" CLIENT "&scope=https%3A%2F%2Fmanagement.azure.com"
                                  "%2Fuser_impersonation%20offline_access");
    assert_non_null(strstr(request, "POST /" TENANT "/oauth2/v2.0/devicecode HTTP/1.1\r\n"));
    assert_int_equal(read(c, 200,
                          "{\"device_code\":\"DAQABAAEAAAA\",\"user_code\":\"F7RKXLKJZ\","
                          "\"verification_uri\":\"https://microsoft.com/devicelogin\","
                          "\"expires_in\":\"900\",\"interval\":\"2\",\"message\":\"To sign in, "
                          "enter the code F7RKXLKJZ.\"}"),
                     BK_ERR_AUTH_PENDING);
    assert_string_equal(shown, "To sign in, enter the code F7RKXLKJZ.");
    /* Polls: each after the interval, 5 s more once slow_down was said. */
    assert_string_equal(write(c), "client_id=" CLIENT "&grant_type=urn%3Aietf%3Aparams%3Aoauth"
                                  "%3Agrant-type%3Adevice_code&device_code=DAQABAAEAAAA");
    assert_non_null(strstr(request, "POST /" TENANT "/oauth2/v2.0/token HTTP/1.1\r\n"));
    assert_int_equal(bk_test_slept_ms, 2000);
    assert_int_equal(read(c, 400, PENDING("authorization_pending")), BK_ERR_AUTH_PENDING);
    (void)write(c);
    assert_int_equal(bk_test_slept_ms, 4000);
    assert_int_equal(read(c, 400, PENDING("slow_down")), BK_ERR_AUTH_PENDING);
    (void)write(c);
    assert_int_equal(bk_test_slept_ms, 4000 + 7000);
    assert_int_equal(read(c, 200, TOKENS("0.rt-first")), BK_OK);
    assert_string_equal(token.access_token, "eyJ0");
    /* Kept: a later run loads it. */
    static bk_user_sign_in later;
    bk_user_sign_in_init(&later, &authority, TENANT, CLIENT, SCOPE, store);
    assert_int_equal(bk_user_sign_in_load(&later), BK_OK);
    assert_string_equal(later.refresh_token, "0.rt-first");
}

static void test_poll_waits_within_the_deadline(void **unused) {
    (void)unused;
    bk_credential c = bk_device_code_credential(&sign_in);
    (void)write(c);
    assert_int_equal(read(c, 200, "{\"device_code\":\"D\",\"interval\":5}"), BK_ERR_AUTH_PENDING);
    bk_token_ask ask = {SCOPE, NULL, REQUEST_ID, 1796221084, bk_test_now_ms + 4000};
    size_t len = 0;
    assert_int_equal(c.write_request(c.ctx, &ask, request, sizeof request, &len), BK_ERR_TIMEOUT);
    assert_int_equal(bk_test_slept_ms, 0);
}

static void test_flow_ends(void **unused) {
    (void)unused;
    static const char *const ends[] = {"authorization_declined", "expired_token",
                                       "bad_verification_code"};
    for (size_t i = 0; i < 3; i++) {
        setup(NULL);
        bk_credential c = bk_device_code_credential(&sign_in);
        (void)write(c);
        assert_int_equal(read(c, 200, "{\"device_code\":\"D\"}"), BK_ERR_AUTH_PENDING);
        assert_int_equal(sign_in.interval_s, 5); /* RFC 8628's default */
        (void)write(c);
        char body[128];
        snprintf(body, sizeof body, "{\"error\":\"%s\"}", ends[i]);
        assert_int_equal(read(c, 400, body), BK_ERR_AUTH_REFUSED);
        assert_string_equal(error.error, ends[i]);
        assert_false(sign_in.polling);
        assert_int_equal(sign_in.device_code[0], '\0');
        size_t len = 0;
        uint8_t buf[64];
        assert_int_equal(store.load(store.ctx, BK_REFRESH_TOKEN_RECORD, buf, sizeof buf, &len),
                         BK_ERR_STORE_NOT_FOUND);
    }
}

static void test_refresh_token_replaced_by_each_use(void **unused) {
    (void)unused;
    sign_in.refresh_token_len =
        (size_t)snprintf(sign_in.refresh_token, sizeof sign_in.refresh_token, "0.rt-one");
    bk_credential c = bk_refresh_token_credential(&sign_in);
    assert_string_equal(write(c), "client_id=" CLIENT "&grant_type=refresh_token&refresh_token="
                                  "0.rt-one&scope=https%3A%2F%2Fmanagement.azure.com%2F"
                                  "user_impersonation%20offline_access");
    assert_int_equal(read(c, 200, TOKENS("0.rt-two")), BK_OK);
    assert_int_equal(bk_user_sign_in_load(&sign_in), BK_OK);
    assert_string_equal(sign_in.refresh_token, "0.rt-two");
    /* A refusal keeps the old one; an answer without a refresh token is not a success. */
    assert_int_equal(read(c, 400, "{\"error\":\"invalid_grant\"}"), BK_ERR_AUTH_REFUSED);
    assert_int_equal(read(c, 200,
                          "{\"token_type\":\"Bearer\",\"expires_in\":1,"
                          "\"access_token\":\"a\"}"),
                     BK_ERR_JSON_MISSING_FIELD);
    assert_int_equal(token.access_token[0], '\0');
    assert_int_equal(bk_user_sign_in_load(&sign_in), BK_OK);
    assert_string_equal(sign_in.refresh_token, "0.rt-two");
}

static void test_kept_record_checked(void **unused) {
    (void)unused;
    sign_in.refresh_token_len =
        (size_t)snprintf(sign_in.refresh_token, sizeof sign_in.refresh_token, "0.rt");
    bk_credential c = bk_refresh_token_credential(&sign_in);
    (void)write(c);
    assert_int_equal(read(c, 200, TOKENS("0.rt-kept")), BK_OK);
    static bk_user_sign_in other;
    bk_user_sign_in_init(&other, &authority, "contoso.onmicrosoft.com", CLIENT, SCOPE, store);
    assert_int_equal(bk_user_sign_in_load(&other), BK_ERR_STATE_FOREIGN);
    bk_user_sign_in_init(&other, &authority, TENANT, "00000000-0000-4000-8000-000000000001", SCOPE,
                         store);
    assert_int_equal(bk_user_sign_in_load(&other), BK_ERR_STATE_FOREIGN);
    static const char *const broken[] = {
        "batchkey-refresh-token 1\ntenant " TENANT "\nclient " CLIENT "\ntoken x\n",
        "batchkey-refresh-token 2\ntenant " TENANT "\nclient " CLIENT "\ntoken x\ncrc32 "
        "00000000\n",
        "garbage"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(store.save(store.ctx, BK_REFRESH_TOKEN_RECORD, (const uint8_t *)broken[i],
                                    strlen(broken[i])),
                         BK_OK);
        assert_int_equal(bk_user_sign_in_load(&other), BK_ERR_STATE_CORRUPT);
    }
    assert_int_equal(other.refresh_token[0], '\0');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_device_code_flow, setup),
        cmocka_unit_test_setup(test_poll_waits_within_the_deadline, setup),
        cmocka_unit_test_setup(test_flow_ends, setup),
        cmocka_unit_test_setup(test_refresh_token_replaced_by_each_use, setup),
        cmocka_unit_test_setup(test_kept_record_checked, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
