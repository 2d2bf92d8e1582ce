/* SPDX-License-Identifier: MIT */
/* The client's memory after bk_client_close: a token request and regenerateKeys over a scripted
 * connector, with a client secret or a client assertion, on success and on failure paths; then
 * every secret buffer of the bk_client (the token, the I/O buffer) and the credential's assertion
 * buffer is all zero, and no piece of any secret is left anywhere in the client or credential. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bk_client.h"
#include "bk_crypto.h"
#include "bk_entra.h"
#include "bk_test_support.h"

/* Distinctive values, so that any copy of them (or of a piece of them) can be found. */
#define CLIENT_SECRET "Zq8~client-secret-only-the-app-knows"
#define ASSERTION     "eyJhbGciOiJQUzI1NiJ9.eyJhc3NlcnRpb24tYm9keSI6MX0.assertion-signature-part"
#define ACCESS_TOKEN  "eyJ0eXAiOiJKV1QifQ.eyJhY2Nlc3MtdG9rZW4tYm9keSI6Mn0.access-token-signature"
#define PRIMARY       "cHJpbWFyeS1rZXktb2YtdGhlLWFjY291bnQtZm9yLXdpcGU="
#define SECONDARY     "c2Vjb25kYXJ5LWtleS1vZi10aGUtYWNjb3VudC13aXBl"
#define NEW_SECONDARY "bmV3LXNlY29uZGFyeS1rZXktYWZ0ZXItcmVnZW5lcmF0ZQ=="

static const char *const secrets[] = {CLIENT_SECRET, ASSERTION, ACCESS_TOKEN,
                                      PRIMARY,       SECONDARY, NEW_SECONDARY};

/* Answers, each built once with its Content-Length. */
static char token_ok[512];
static char keys_ok[512];
static char new_keys_ok[512];
static char token_refused[512];
static char server_error[512];
static char keys_truncated[512];

static void http_answer(char *out, size_t cap, const char *status, const char *body) {
    int n =
        snprintf(out, cap, "%s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                 status, strlen(body), body);
    assert_true(n > 0 && (size_t)n < cap);
}

static void build_answers(void) {
    http_answer(token_ok, sizeof token_ok, "HTTP/1.1 200 OK",
                "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"" ACCESS_TOKEN
                "\"}");
    http_answer(keys_ok, sizeof keys_ok, "HTTP/1.1 200 OK",
                "{\"accountName\":\"myacct\",\"primary\":\"" PRIMARY "\",\"secondary\":\"" SECONDARY
                "\"}");
    http_answer(new_keys_ok, sizeof new_keys_ok, "HTTP/1.1 200 OK",
                "{\"accountName\":\"myacct\",\"primary\":\"" PRIMARY
                "\",\"secondary\":\"" NEW_SECONDARY "\"}");
    http_answer(token_refused, sizeof token_refused, "HTTP/1.1 401 Unauthorized",
                "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid "
                "client secret provided.\",\"error_codes\":[7000215]}");
    http_answer(server_error, sizeof server_error, "HTTP/1.1 500 Internal Server Error",
                "{\"error\":{\"code\":\"InternalError\",\"message\":\"try later\"}}");
    /* Cut inside the new key: the part that came sits in the I/O buffer. */
    http_answer(keys_truncated, sizeof keys_truncated, "HTTP/1.1 200 OK",
                "{\"accountName\":\"myacct\",\"primary\":\"" PRIMARY
                "\",\"secondary\":\"" NEW_SECONDARY "\"}");
    keys_truncated[strlen(keys_truncated) - 12] = '\0';
}

/* A scripted connector: the answers in order, whatever the peer; NULL drops the connection. */
static const char *answers[8];
static size_t answer_count, answer_next;
static const char *current;
static size_t current_pos;
static bool need_answer; /* the next send starts a new request */
static bool peer_open[BK_PEER_COUNT];
static char sent[4 * BK_IO_BUFFER_SIZE]; /* every request as sent, to see the secrets did go */
static size_t sent_len;

static int32_t fake_send(void *ctx, const uint8_t *data, size_t len) {
    (void)ctx;
    if (need_answer) {
        assert_true(answer_next < answer_count); /* a request the script did not expect */
        current = answers[answer_next++];
        current_pos = 0;
        need_answer = false;
    }
    assert_true(sent_len + len <= sizeof sent);
    memcpy(sent + sent_len, data, len);
    sent_len += len;
    return (int32_t)len;
}

static int32_t fake_recv(void *ctx, uint8_t *data, size_t len) {
    (void)ctx;
    if (current == NULL || current_pos == strlen(current)) {
        need_answer = true;
        return BK_ERR_STREAM_CLOSED;
    }
    size_t n = strlen(current) - current_pos;
    n = n < len ? n : len;
    memcpy(data, current + current_pos, n);
    current_pos += n;
    need_answer = current_pos == strlen(current);
    return (int32_t)n;
}

static bk_result fake_open(void *ctx, bk_peer peer, const bk_endpoint *ep, uint64_t deadline_ms,
                           bk_stream *out) {
    (void)ctx;
    (void)ep;
    (void)deadline_ms;
    peer_open[peer] = true;
    need_answer = true;
    *out = (bk_stream){fake_send, fake_recv, NULL};
    return BK_OK;
}

static void fake_close(void *ctx, bk_peer peer) {
    (void)ctx;
    peer_open[peer] = false;
}

static void script(const char *const *list, size_t count) {
    memcpy(answers, list, count * sizeof *list);
    answer_count = count;
    answer_next = 0;
}

static bk_client client;
static bk_entra_app app;
static char assertion_buf[BK_ASSERTION_MAX + 1];
static bk_account_keys keys;

static bk_result fixed_assertion(void *ctx, const char *audience, int64_t now_s, char *buf,
                                 size_t cap, size_t *len) {
    (void)ctx;
    (void)audience;
    (void)now_s;
    assert_true(sizeof ASSERTION <= cap);
    memcpy(buf, ASSERTION, sizeof ASSERTION);
    *len = sizeof ASSERTION - 1;
    return BK_OK;
}

static void start(bool with_assertion) {
    build_answers();
    current = NULL;
    sent_len = 0;
    memset(sent, 0, sizeof sent);
    memset(peer_open, 0, sizeof peer_open);
    bk_test_entropy_reset();
    bk_client_init(&client, (bk_connector){fake_open, fake_close, NULL, NULL});
    assert_int_equal(bk_endpoint_parse(&client.arm, "https://management.azure.com"), BK_OK);
    assert_int_equal(bk_endpoint_parse(&client.authority, "https://login.microsoftonline.com"),
                     BK_OK);
    app = (bk_entra_app){.authority = &client.authority,
                         .tenant_id = "contoso.onmicrosoft.com",
                         .client_id = "00000000-0000-0000-0000-00000000000a"};
    if (with_assertion) {
        app.assertion = fixed_assertion;
        app.assertion_buf = assertion_buf;
        app.assertion_cap = sizeof assertion_buf;
    } else {
        app.client_secret = CLIENT_SECRET;
    }
    /* Field by field: a struct copy leaves its padding undefined, which valgrind would report
     * when the scan below reads the whole client. */
    bk_credential cred = bk_entra_credential(&app);
    client.credential.name = cred.name;
    client.credential.peer = cred.peer;
    client.credential.endpoint = cred.endpoint;
    client.credential.write_request = cred.write_request;
    client.credential.read_answer = cred.read_answer;
    client.credential.ctx = cred.ctx;
    client.credential.retry_not_found = cred.retry_not_found;
    client.account = (bk_account_ref){"12345678-1234-1234-1234-123456789012", "my-rg", "myacct"};
}

static void assert_zero(const void *p, size_t len, const char *what) {
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++) {
        if (b[i] != 0) {
            fail_msg("%s: byte %zu of %zu is 0x%02x after close", what, i, len, b[i]);
        }
    }
}

/* Every 8-byte piece of every secret: a copy cut short is found too. */
static void assert_no_secret_in(const void *p, size_t len, const char *what) {
    for (size_t s = 0; s < sizeof secrets / sizeof *secrets; s++) {
        size_t n = strlen(secrets[s]);
        for (size_t i = 0; i + 8 <= n; i++) {
            if (memmem(p, len, secrets[s] + i, 8) != NULL) {
                fail_msg("%s still holds part of \"%s\" after close", what, secrets[s]);
            }
        }
    }
}

/* The test's own check that a secret was where it looks: else a clean result proves nothing. */
static bool holds(const void *p, size_t len, const char *secret) {
    return memmem(p, len, secret, strlen(secret)) != NULL;
}

static void close_and_check(void) {
    bk_client_close(&client);
    for (int p = 0; p < BK_PEER_COUNT; p++) {
        assert_false(peer_open[p]);
        assert_false(client.peer_open[p]);
    }
    assert_zero(&client.token, sizeof client.token, "the token");
    assert_zero(client.io, sizeof client.io, "the I/O buffer");
    assert_int_equal(client.token_expires_ms, 0);
    assert_zero(assertion_buf, sizeof assertion_buf, "the assertion buffer");
    assert_no_secret_in(&client, sizeof client, "the client");
    assert_no_secret_in(&app, sizeof app, "the credential");
    /* The keys the call returned are the caller's, to wipe as the CLI does. */
    bk_wipe(&keys, sizeof keys);
}

static void test_secret_token_and_regenerate(void **state) {
    (void)state;
    start(false);
    const char *const list[] = {token_ok, new_keys_ok};
    script(list, 2);
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys), BK_OK);
    assert_string_equal(keys.secondary, NEW_SECONDARY);
    assert_true(holds(sent, sent_len, CLIENT_SECRET));
    assert_true(holds(sent, sent_len, "Bearer " ACCESS_TOKEN));
    assert_true(holds(client.token.access_token, sizeof client.token.access_token, ACCESS_TOKEN));
    assert_string_equal(keys.primary, PRIMARY);
    close_and_check();
}

static void test_assertion_token_and_regenerate(void **state) {
    (void)state;
    start(true);
    const char *const list[] = {token_ok, keys_ok, new_keys_ok};
    script(list, 3);
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_OK);
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys), BK_OK);
    assert_true(holds(sent, sent_len, ASSERTION));
    assert_false(holds(sent, sent_len, CLIENT_SECRET));
    /* bk_entra wipes the assertion once the request is written, before close. */
    assert_zero(assertion_buf, sizeof assertion_buf, "the assertion buffer");
    close_and_check();
}

static void test_regenerate_500_then_reconciled(void **state) {
    (void)state;
    start(false);
    const char *const list[] = {token_ok, server_error, new_keys_ok};
    script(list, 3);
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys),
                     BK_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(client.reconcile_result, BK_OK);
    assert_string_equal(keys.secondary, NEW_SECONDARY);
    close_and_check();
}

static void test_regenerate_answer_cut_in_the_key(void **state) {
    (void)state;
    start(true);
    const char *const list[] = {token_ok, keys_truncated, new_keys_ok};
    script(list, 3);
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys),
                     BK_ERR_OUTCOME_UNKNOWN);
    close_and_check();
}

static void test_refused_token(void **state) {
    (void)state;
    start(false);
    const char *const list[] = {token_refused};
    script(list, 1);
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys),
                     BK_ERR_AUTH_REFUSED);
    assert_true(holds(sent, sent_len, CLIENT_SECRET));
    assert_string_equal(client.entra_error.error, "invalid_client");
    close_and_check();
}

static void test_dropped_token_answer(void **state) {
    (void)state;
    start(true);
    /* Every attempt's connection drops before an answer: the requests did carry the assertion. */
    const char *const list[] = {NULL, NULL, NULL, NULL};
    script(list, 4);
    assert_int_not_equal(bk_client_token(&client, NULL), BK_OK);
    assert_true(holds(sent, sent_len, ASSERTION));
    close_and_check();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_token_and_regenerate),
        cmocka_unit_test(test_assertion_token_and_regenerate),
        cmocka_unit_test(test_regenerate_500_then_reconciled),
        cmocka_unit_test(test_regenerate_answer_cut_in_the_key),
        cmocka_unit_test(test_refused_token),
        cmocka_unit_test(test_dropped_token_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
