/* SPDX-License-Identifier: MIT */
/* Managed identity credentials without a network: endpoint URLs with scheme and path, the
 * requests each flavour writes, their answers (numbers as strings, expires_on alone), errors in
 * both shapes, and Azure Arc's challenge: the path checks and the one answer it gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bk_entra.h"
#include "bk_http.h"
#include "bk_managed_identity.h"
#include "bk_test_support.h"

#define REQUEST_ID "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"

static void test_url_parse(void **unused) {
    (void)unused;
    bk_endpoint ep;
    char path[BK_URL_PATH_MAX];
    assert_int_equal(bk_url_parse(&ep, path, sizeof path, "http://127.0.0.1:41234/msi/token", true),
                     BK_OK);
    assert_string_equal(ep.host, "127.0.0.1");
    assert_int_equal(ep.port, 41234);
    assert_true(ep.plain_http);
    assert_string_equal(path, "/msi/token");
    assert_int_equal(bk_url_parse(&ep, path, sizeof path, "http://169.254.169.254", true), BK_OK);
    assert_int_equal(ep.port, 80);
    assert_string_equal(path, "/");
    assert_int_equal(bk_url_parse(&ep, path, sizeof path, "https://[::1]/a/b", true), BK_OK);
    assert_false(ep.plain_http);
    assert_int_equal(ep.port, 443);
    /* Plain HTTP only where the caller allows it; never a query, a fragment or a space. */
    static const char *const refused[] = {"http://127.0.0.1/x", "ftp://h/",        "http://h/a?b=1",
                                          "http://h/a#f",       "http://h/a b",    "http://h/a\r\n",
                                          "http://h:0/",        "http://h:65536/", "http:///x"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        bool allow = i > 0;
        assert_int_equal(bk_url_parse(&ep, path, sizeof path, refused[i], allow),
                         BK_ERR_INVALID_URL);
    }
    char small[4];
    assert_int_equal(bk_url_parse(&ep, small, sizeof small, "http://h/long", true),
                     BK_ERR_INVALID_URL);
    /* bk_endpoint_parse stays an https origin. */
    assert_int_equal(bk_endpoint_parse(&ep, "http://example.com"), BK_ERR_INVALID_URL);
    assert_int_equal(bk_endpoint_parse(&ep, "https://example.com/path"), BK_ERR_INVALID_URL);
    assert_int_equal(bk_endpoint_parse(&ep, "https://example.com/"), BK_OK);
}

static char request[4096];

static const char *write_request(bk_managed_identity *mi) {
    bk_credential c = bk_managed_identity_credential(mi);
    bk_token_ask ask = {BK_ARM_SCOPE, NULL, REQUEST_ID, 1796221084, 0};
    size_t len = 0;
    assert_int_equal(c.write_request(c.ctx, &ask, request, sizeof request - 1, &len), BK_OK);
    request[len] = '\0';
    return request;
}

static void test_requests(void **unused) {
    (void)unused;
    static bk_managed_identity mi;
    assert_int_equal(
        bk_managed_identity_init(&mi, BK_MI_APP_SERVICE, "http://127.0.0.1:8081/msi/token", NULL),
        BK_OK);
    mi.identity_header = "platform-secret";
    assert_string_equal(write_request(&mi),
                        "GET /msi/token?api-version=2019-08-01&resource=https%3A%2F%2F"
                        "management.azure.com%2F HTTP/1.1\r\n"
                        "Host: 127.0.0.1:8081\r\n"
                        "X-IDENTITY-HEADER: platform-secret\r\n"
                        "Accept: application/json\r\nUser-Agent: " BK_USER_AGENT "\r\n"
                        "x-ms-client-request-id: " REQUEST_ID "\r\n\r\n");
    assert_int_equal(bk_managed_identity_init(&mi, BK_MI_IMDS, "http://169.254.169.254",
                                              "e4b2a9c7-16d3-4e8f-a05b-9c7d1f3e2a64"),
                     BK_OK);
    assert_string_equal(write_request(&mi),
                        "GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource="
                        "https%3A%2F%2Fmanagement.azure.com%2F"
                        "&client_id=e4b2a9c7-16d3-4e8f-a05b-9c7d1f3e2a64 HTTP/1.1\r\n"
                        "Host: 169.254.169.254\r\n"
                        "Metadata: true\r\n"
                        "Accept: application/json\r\nUser-Agent: " BK_USER_AGENT "\r\n"
                        "x-ms-client-request-id: " REQUEST_ID "\r\n\r\n");
    assert_int_equal(bk_managed_identity_init(&mi, BK_MI_IMDS, "http://h", "not-a-guid"),
                     BK_ERR_INVALID_CLIENT_ID);
    assert_int_equal(bk_managed_identity_init(&mi, BK_MI_IMDS, "file:///etc/passwd", NULL),
                     BK_ERR_INVALID_URL);
}

static bk_token token;
static bk_entra_error error;
static bk_json_token json[64];

static bk_result read_answer(bk_managed_identity *mi, int status, const char *body,
                             const char *www_authenticate) {
    bk_credential c = bk_managed_identity_credential(mi);
    bk_http_response resp;
    bk_http_response_reset(&resp);
    resp.status = status;
    resp.body = body;
    resp.body_len = strlen(body);
    snprintf(resp.www_authenticate, sizeof resp.www_authenticate, "%s", www_authenticate);
    return c.read_answer(c.ctx, &resp, json, 64, &token, &error);
}

static void test_answers(void **unused) {
    (void)unused;
    static bk_managed_identity mi;
    assert_int_equal(bk_managed_identity_init(&mi, BK_MI_IMDS, "http://h", NULL), BK_OK);
    assert_int_equal(read_answer(&mi, 200,
                                 "{\"access_token\":\"eyJ0\",\"expires_in\":\"3599\","
                                 "\"token_type\":\"Bearer\",\"resource\":\"x\"}",
                                 ""),
                     BK_OK);
    assert_string_equal(token.access_token, "eyJ0");
    assert_int_equal(token.expires_in_s, 3599);
    /* App Service: expires_on alone, a string of Unix seconds, measured against now. */
    bk_test_wall_s = 1796221084;
    assert_int_equal(read_answer(&mi, 200,
                                 "{\"access_token\":\"eyJ0\",\"expires_on\":\"1796224684\","
                                 "\"token_type\":\"Bearer\"}",
                                 ""),
                     BK_OK);
    assert_int_equal(token.expires_in_s, 3600);
    assert_int_equal(
        read_answer(&mi, 200, "{\"access_token\":\"eyJ0\",\"token_type\":\"Bearer\"}", ""),
        BK_ERR_JSON_MISSING_FIELD);
    assert_int_equal(token.access_token[0], '\0'); /* wiped */
    assert_int_equal(read_answer(&mi, 200,
                                 "{\"access_token\":\"a\",\"expires_in\":1,\"expires_in\":2,"
                                 "\"token_type\":\"Bearer\"}",
                                 ""),
                     BK_ERR_JSON_DUPLICATE_KEY);
    /* Errors in both shapes. */
    assert_int_equal(read_answer(&mi, 400,
                                 "{\"error\":\"invalid_request\",\"error_description\":"
                                 "\"Identity not found\"}",
                                 ""),
                     BK_ERR_AUTH_REFUSED);
    assert_string_equal(error.error, "invalid_request");
    assert_string_equal(error.error_description, "Identity not found");
    assert_int_equal(read_answer(&mi, 401,
                                 "{\"statusCode\":401,\"message\":\"bad header\","
                                 "\"correlationId\":\"c0\"}",
                                 ""),
                     BK_ERR_AUTH_REFUSED);
    assert_string_equal(error.error, "managed_identity_error");
    assert_string_equal(error.error_description, "bad header");
    assert_int_equal(read_answer(&mi, 500, "<html>", ""), BK_ERR_UNEXPECTED_STATUS);
    assert_true(bk_managed_identity_credential(&mi).retry_not_found);
}

static void test_arc_challenge_path(void **unused) {
    (void)unused;
    const char *dir = "/var/opt/azcmagent/tokens";
    char path[256];
    assert_int_equal(bk_arc_challenge_path("Basic realm=/var/opt/azcmagent/tokens/a1b2.key", dir,
                                           path, sizeof path),
                     BK_OK);
    assert_string_equal(path, "/var/opt/azcmagent/tokens/a1b2.key");
    assert_int_equal(bk_arc_challenge_path("Basic realm=\"/var/opt/azcmagent/tokens/q.key\"",
                                           "/var/opt/azcmagent/tokens/", path, sizeof path),
                     BK_OK);
    static const char *const refused[] = {
        "Basic realm=/etc/shadow",
        "Basic realm=/var/opt/azcmagent/tokens/a.txt",
        "Basic realm=/var/opt/azcmagent/tokens/sub/a.key",
        "Basic realm=/var/opt/azcmagent/tokens/../../../etc/x.key",
        "Basic realm=/var/opt/azcmagent/tokens/.key",
        "Basic realm=/var/opt/azcmagent/tokensX/a.key",
        "Basic realm=var/opt/azcmagent/tokens/a.key",
        "Bearer realm=/var/opt/azcmagent/tokens/a.key",
        "Basic realm=",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(bk_arc_challenge_path(refused[i], dir, path, sizeof path),
                         BK_ERR_ARC_CHALLENGE);
    }
    char tiny[8];
    assert_int_equal(bk_arc_challenge_path("Basic realm=/var/opt/azcmagent/tokens/a.key", dir, tiny,
                                           sizeof tiny),
                     BK_ERR_ARC_CHALLENGE);
}

/* The board's file reader, for Arc: answers a fixed secret, or refuses. */
static int reads;
static bk_result fake_read(void *ctx, const char *path, char *buf, size_t cap, size_t *len) {
    (void)cap;
    reads++;
    if (ctx != NULL) {
        return BK_ERR_ARC_CHALLENGE; /* "a symbolic link", say */
    }
    assert_string_equal(path, "/tokens/s.key");
    strcpy(buf, "c2VjcmV0");
    *len = 8;
    return BK_OK;
}

static void test_arc_challenge_answered_once(void **unused) {
    (void)unused;
    static bk_managed_identity mi;
    assert_int_equal(bk_managed_identity_init(&mi, BK_MI_ARC,
                                              "http://127.0.0.1:40342/metadata/identity/oauth2/"
                                              "token",
                                              NULL),
                     BK_OK);
    mi.arc_token_dir = "/tokens";
    mi.read_arc_secret = fake_read;
    reads = 0;
    assert_null(strstr(write_request(&mi), "Authorization"));
    assert_int_equal(read_answer(&mi, 401, "", "Basic realm=/tokens/s.key"), BK_ERR_AUTH_CHALLENGE);
    assert_non_null(strstr(write_request(&mi), "\r\nAuthorization: Basic c2VjcmV0\r\n"));
    assert_null(strstr(write_request(&mi), "Authorization")); /* one use */
    assert_int_equal(reads, 1);
    /* Two challenges with no request between them: the second is not answered (the client,
     * for its part, answers one challenge per token request). */
    assert_int_equal(read_answer(&mi, 401, "", "Basic realm=/tokens/s.key"), BK_ERR_AUTH_CHALLENGE);
    assert_int_equal(read_answer(&mi, 401, "", "Basic realm=/tokens/s.key"), BK_ERR_ARC_CHALLENGE);
    assert_int_equal(reads, 2);
    /* A file the board refuses, or a realm outside the directory: nothing kept to send. */
    assert_int_equal(bk_managed_identity_init(&mi, BK_MI_ARC, "http://127.0.0.1:40342/t", NULL),
                     BK_OK);
    mi.arc_token_dir = "/tokens";
    mi.read_arc_secret = fake_read;
    mi.read_ctx = &mi;
    assert_int_equal(read_answer(&mi, 401, "", "Basic realm=/tokens/s.key"), BK_ERR_ARC_CHALLENGE);
    assert_null(strstr(write_request(&mi), "Authorization"));
    mi.read_ctx = NULL;
    reads = 0;
    assert_int_equal(read_answer(&mi, 401, "", "Basic realm=/etc/s.key"), BK_ERR_ARC_CHALLENGE);
    assert_int_equal(reads, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_arc_challenge_path),
        cmocka_unit_test(test_arc_challenge_answered_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
