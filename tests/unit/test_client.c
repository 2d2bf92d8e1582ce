/* SPDX-License-Identifier: MIT */
/* The client over a scripted connector: token reuse, connection reuse, retries, the
 * regenerateKeys ambiguity rule and CAE challenges, with no network. */
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
#include "bk_entra.h"
#include "bk_test_support.h"

#define SUB "12345678-1234-1234-1234-123456789012"
#define TOKEN_OK                                                                                   \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 84\r\n\r\n"              \
    "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":"     \
    "\"tkn\"}"
#define KEYS_BODY "{\"accountName\":\"myacct\",\"primary\":\"AAAA==\",\"secondary\":\"BBBB==\"}"
#define KEYS_OK   "HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n" KEYS_BODY
#define NEW_KEYS_OK                                                                                \
    "HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n"                                                \
    "{\"accountName\":\"myacct\",\"primary\":\"AAAA==\",\"secondary\":\"CCCC==\"}"
#define ACCOUNT_OK                                                                                 \
    "HTTP/1.1 200 OK\r\nContent-Length: 142\r\n\r\n"                                               \
    "{\"name\":\"myacct\",\"location\":\"westeurope\",\"properties\":{\"accountEndpoint\":"        \
    "\"myacct.westeurope.batch.azure.com\",\"provisioningState\":\"Succeeded\"}}"

/* One scripted answer: for the next request sent to `peer`. */
typedef struct answer {
    bk_peer peer;
    bk_result open_result; /* when the connection must be opened for this request */
    const char *response;  /* NULL: the connection closes with no answer */
} answer;

typedef struct fake {
    answer answers[16];
    size_t count;
    size_t next;
    unsigned opens[BK_PEER_COUNT];
    unsigned closes[BK_PEER_COUNT];
    char requests[16][4096]; /* every request as sent */
    size_t request_count;
    bool open[BK_PEER_COUNT];
    size_t replay_pos[BK_PEER_COUNT];
    const answer *current[BK_PEER_COUNT];
    bool need_answer[BK_PEER_COUNT];  /* the next send starts a new request */
    uint64_t deadline[BK_PEER_COUNT]; /* the deadline the last open or reuse was given */
    /* Per answer, set after script(): how long the server takes before its first byte (a
     * stall longer than the deadline ends in BK_ERR_TIMEOUT at the deadline, as a real stream
     * does), and a send failure after the request's first bytes left. */
    uint32_t takes_ms[16];
    bk_result send_fails[16];
    bool started[16]; /* the answer's first byte was asked for */
} fake;

static fake F;
static bk_client client;
static bk_entra_app app;

typedef struct peer_ctx {
    bk_peer peer;
} peer_ctx;
static peer_ctx peer_ctxs[BK_PEER_COUNT] = {{BK_PEER_AUTHORITY}, {BK_PEER_ARM}, {BK_PEER_BATCH}};

static int32_t fake_send(void *ctx, const uint8_t *data, size_t len) {
    bk_peer peer = ((peer_ctx *)ctx)->peer;
    if (F.need_answer[peer]) {
        /* The first bytes of a new request: take the next answer. */
        F.need_answer[peer] = false;
        assert_true(F.next < F.count);
        assert_int_equal(F.answers[F.next].peer, peer);
        F.current[peer] = &F.answers[F.next++];
        F.replay_pos[peer] = 0;
        F.request_count++;
        bk_result fails = F.send_fails[F.current[peer] - F.answers];
        if (fails != BK_OK && len > 16) {
            len = 16; /* some bytes leave; the next send fails */
        }
    } else if (F.send_fails[F.current[peer] - F.answers] != BK_OK) {
        return F.send_fails[F.current[peer] - F.answers];
    }
    char *req = F.requests[F.request_count - 1];
    size_t have = strlen(req);
    assert_true(have + len < sizeof F.requests[0]);
    memcpy(req + have, data, len);
    return (int32_t)len;
}

static int32_t fake_recv(void *ctx, uint8_t *data, size_t len) {
    bk_peer peer = ((peer_ctx *)ctx)->peer;
    const answer *a = F.current[peer];
    assert_non_null(a);
    size_t index = (size_t)(a - F.answers);
    if (!F.started[index]) {
        F.started[index] = true;
        bk_test_now_ms += F.takes_ms[index];
    }
    if (F.deadline[peer] != 0 && bk_test_now_ms >= F.deadline[peer]) {
        bk_test_now_ms = bk_test_now_ms > F.deadline[peer] ? F.deadline[peer] : bk_test_now_ms;
        return BK_ERR_TIMEOUT;
    }
    if (a->response == NULL) {
        F.need_answer[peer] = true;
        return BK_ERR_STREAM_CLOSED;
    }
    size_t left = strlen(a->response) - F.replay_pos[peer];
    if (left == 0) {
        return BK_ERR_STREAM_CLOSED;
    }
    size_t n = left < len ? left : len;
    memcpy(data, a->response + F.replay_pos[peer], n);
    F.replay_pos[peer] += n;
    if (F.replay_pos[peer] == strlen(a->response)) {
        F.need_answer[peer] = true;
    }
    return (int32_t)n;
}

static bk_result fake_open(void *ctx, bk_peer peer, const bk_endpoint *ep, uint64_t deadline_ms,
                           bk_stream *out) {
    (void)ctx;
    (void)ep;
    F.deadline[peer] = deadline_ms;
    assert_false(F.open[peer]);
    F.opens[peer]++;
    assert_true(F.next < F.count);
    if (F.answers[F.next].open_result != BK_OK) {
        return F.answers[F.next++].open_result;
    }
    F.open[peer] = true;
    F.need_answer[peer] = true;
    bk_stream s = {fake_send, fake_recv, &peer_ctxs[peer]};
    *out = s;
    return BK_OK;
}

static void fake_close(void *ctx, bk_peer peer) {
    (void)ctx;
    assert_true(F.open[peer]);
    F.open[peer] = false;
    F.closes[peer]++;
}

static void script(const answer *answers, size_t count) {
    memcpy(F.answers, answers, count * sizeof *answers);
    F.count = count;
}

static int setup(void **state) {
    (void)state;
    memset(&F, 0, sizeof F);
    bk_test_entropy_reset();
    bk_test_slept_ms = 0;
    bk_connector conn = {fake_open, fake_close, NULL, NULL};
    bk_client_init(&client, conn);
    assert_int_equal(bk_endpoint_parse(&client.arm, "https://management.azure.com"), BK_OK);
    assert_int_equal(bk_endpoint_parse(&client.authority, "https://login.microsoftonline.com"),
                     BK_OK);
    app = (bk_entra_app){.authority = &client.authority,
                         .tenant_id = "contoso.onmicrosoft.com",
                         .client_id = "00000000-0000-0000-0000-00000000000a",
                         .client_secret = "s3cret"};
    client.credential = bk_entra_credential(&app);
    client.account.subscription_id = SUB;
    client.account.resource_group = "my-rg";
    client.account.account_name = "myacct";
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bk_client_close(&client);
    assert_false(F.open[BK_PEER_ARM]);
    assert_false(F.open[BK_PEER_AUTHORITY]);
    return 0;
}

/* Builds an error answer with a CloudError body into a static slot. */
static const char *error_answer(int slot, const char *head, const char *code) {
    static char out[4][512];
    char body[200];
    snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s happened\"}}", code,
             code);
    snprintf(out[slot], sizeof out[slot],
             "%s\r\nx-ms-request-id: req-%s\r\nContent-Length: %zu\r\n\r\n%s", head, code,
             strlen(body), body);
    return out[slot];
}

static bool starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static unsigned count_requests(const char *prefix) {
    unsigned n = 0;
    for (size_t i = 0; i < F.request_count; i++) {
        n += starts_with(F.requests[i], prefix);
    }
    return n;
}

#define REGENERATE_LINE                                                                            \
    "POST /subscriptions/" SUB "/resourceGroups/my-rg/providers/Microsoft.Batch/batchAccounts/"    \
    "myacct/regenerateKeys"
#define LIST_LINE                                                                                  \
    "POST /subscriptions/" SUB "/resourceGroups/my-rg/providers/Microsoft.Batch/batchAccounts/"    \
    "myacct/listKeys"
#define GET_LINE                                                                                   \
    "GET /subscriptions/" SUB "/resourceGroups/my-rg/providers/Microsoft.Batch/batchAccounts/"     \
    "myacct?"

static void test_one_token_one_connection_per_peer(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, ACCOUNT_OK},
                        {BK_PEER_ARM, BK_OK, KEYS_OK},
                        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK}};
    script(a, 4);
    bk_batch_account account;
    bk_account_keys keys;
    assert_int_equal(bk_client_get_account(&client, &account), BK_OK);
    assert_string_equal(account.account_endpoint, "myacct.westeurope.batch.azure.com");
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_OK);
    assert_string_equal(keys.primary, "AAAA==");
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys), BK_OK);
    assert_string_equal(keys.secondary, "CCCC==");
    assert_int_equal(client.call.attempts, 1);
    assert_int_equal(F.request_count, 4);
    assert_true(starts_with(F.requests[0], "POST /contoso.onmicrosoft.com/oauth2/v2.0/token "));
    assert_non_null(strstr(F.requests[1], "Authorization: Bearer tkn\r\n"));
    assert_true(starts_with(F.requests[1], GET_LINE));
    assert_true(starts_with(F.requests[2], LIST_LINE));
    assert_true(starts_with(F.requests[3], REGENERATE_LINE));
    assert_non_null(strstr(F.requests[3], "{\"keyName\":\"Secondary\"}"));
    assert_int_equal(F.opens[BK_PEER_AUTHORITY], 1);
    /* GET and listKeys share one connection; regenerateKeys always gets a new one. */
    assert_int_equal(F.opens[BK_PEER_ARM], 2);
    assert_int_equal(F.closes[BK_PEER_ARM], 1);
    /* The keys are not left in the I/O buffer. */
    assert_null(memmem(client.io, sizeof client.io, "CCCC==", 6));
    assert_null(memmem(client.io, sizeof client.io, "s3cret", 6));
}

static void test_get_retries_transient_statuses(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, error_answer(0, "HTTP/1.1 503 Busy", "ServerBusy")},
                        {BK_PEER_ARM, BK_OK,
                         "HTTP/1.1 429 Slow down\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n"},
                        {BK_PEER_ARM, BK_OK, ACCOUNT_OK}};
    script(a, 4);
    bk_batch_account account;
    assert_int_equal(bk_client_get_account(&client, &account), BK_OK);
    assert_int_equal(client.call.attempts, 3);
    assert_int_equal(count_requests(GET_LINE), 3);
    /* A jittered first delay of at most 1 s, then exactly the 3 s the service asked for. */
    assert_true(bk_test_slept_ms >= 3000 && bk_test_slept_ms <= 4000);
}

static void test_get_gives_up_after_four_attempts(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, error_answer(0, "HTTP/1.1 503 Busy", "ServerBusy")},
                        {BK_PEER_ARM, BK_OK, error_answer(1, "HTTP/1.1 502 Bad", "BadGateway")},
                        {BK_PEER_ARM, BK_OK, error_answer(2, "HTTP/1.1 500 Oops", "Internal")},
                        {BK_PEER_ARM, BK_OK, error_answer(3, "HTTP/1.1 504 Late", "Timeout")}};
    script(a, 5);
    bk_batch_account account;
    /* Busy to the end: try again later, not a refusal to fix. */
    assert_int_equal(bk_client_get_account(&client, &account), BK_ERR_SERVICE_BUSY);
    assert_int_equal(client.call.attempts, 4);
    assert_int_equal(client.response.status, 504);
    assert_string_equal(client.cloud_error.code, "Timeout");
    assert_string_equal(client.response.request_id, "req-Timeout");
}

static void test_retry_after_beyond_cap_ends_retries(void **state) {
    (void)state;
    const answer a[] = {
        {BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
        {BK_PEER_ARM, BK_OK,
         "HTTP/1.1 429 Slow down\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n"}};
    script(a, 2);
    bk_account_keys keys;
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_ERR_SERVICE_BUSY);
    assert_int_equal(client.call.attempts, 1);
    assert_int_equal(bk_test_slept_ms, 0);
}

static void test_regenerate_resent_only_after_429(void **state) {
    (void)state;
    const answer a[] = {
        {BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
        {BK_PEER_ARM, BK_OK,
         "HTTP/1.1 429 Slow down\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"},
        {BK_PEER_ARM, BK_OK,
         "HTTP/1.1 429 Slow down\r\nretry-after-ms: 250\r\nContent-Length: 0\r\n\r\n"},
        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK}};
    script(a, 4);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys), BK_OK);
    assert_int_equal(count_requests(REGENERATE_LINE), 3);
    assert_int_equal(client.regenerate.attempts, 3);
    assert_int_equal(bk_test_slept_ms, 1250);
    assert_string_equal(keys.secondary, "CCCC==");
    /* Each POST on a connection of its own. */
    assert_int_equal(F.opens[BK_PEER_ARM], 3);
}

static void test_regenerate_not_resent_after_500(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, error_answer(0, "HTTP/1.1 500 Oops", "InternalError")},
                        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK}};
    script(a, 3);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys),
                     BK_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(client.reconcile_result, BK_OK);
    assert_string_equal(keys.secondary, "CCCC==");
    assert_int_equal(count_requests(REGENERATE_LINE), 1);
    assert_int_equal(count_requests(LIST_LINE), 1);
    /* The regenerate's own record, apart from the listKeys that read the keys. */
    assert_int_equal(client.regenerate.status, 500);
    assert_int_equal(client.regenerate.attempts, 1);
    assert_string_equal(client.regenerate.request_id, "req-InternalError");
    assert_string_equal(client.regenerate.error_code, "InternalError");
    assert_string_equal(client.cloud_error.code, "InternalError");
    assert_int_equal(client.call.status, 200);
    assert_string_not_equal(client.call.client_request_id, client.regenerate.client_request_id);
}

static void test_regenerate_dropped_connection_is_ambiguous(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, NULL},
                        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK}};
    script(a, 3);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys),
                     BK_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(count_requests(REGENERATE_LINE), 1);
    assert_int_equal(count_requests(LIST_LINE), 1);
    assert_int_equal(client.reconcile_result, BK_OK);
    assert_int_equal(client.regenerate.status, 0);
    assert_int_equal(client.regenerate.failure, BK_ERR_STREAM_CLOSED);
    assert_int_equal(F.opens[BK_PEER_ARM], 2); /* listKeys on a new connection */
}

static void test_regenerate_truncated_answer_is_ambiguous(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, "HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n{\"acc"},
                        {BK_PEER_ARM, BK_OK, error_answer(0, "HTTP/1.1 503 Busy", "Busy")},
                        {BK_PEER_ARM, BK_OK, error_answer(1, "HTTP/1.1 503 Busy", "Busy")},
                        {BK_PEER_ARM, BK_OK, error_answer(2, "HTTP/1.1 503 Busy", "Busy")},
                        {BK_PEER_ARM, BK_OK, error_answer(3, "HTTP/1.1 503 Busy", "Busy")}};
    script(a, 6);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys),
                     BK_ERR_OUTCOME_UNKNOWN);
    /* listKeys could not tell either: the outcome stays unknown, and says why. */
    assert_int_equal(client.reconcile_result, BK_ERR_SERVICE_BUSY);
    assert_int_equal(client.regenerate.status, 200);
    assert_int_equal(client.regenerate.failure, BK_ERR_HTTP_TRUNCATED);
    assert_int_equal(count_requests(REGENERATE_LINE), 1);
    assert_int_equal(count_requests(LIST_LINE), 4);
}

static void test_regenerate_refused(void **state) {
    (void)state;
    const answer a[] = {
        {BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
        {BK_PEER_ARM, BK_OK, error_answer(0, "HTTP/1.1 400 Bad Request", "AccountKeysDisabled")}};
    script(a, 2);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys), BK_ERR_ARM_REFUSED);
    assert_string_equal(client.cloud_error.code, "AccountKeysDisabled");
    assert_string_equal(client.response.request_id, "req-AccountKeysDisabled");
    assert_int_equal(client.response.status, 400);
    assert_int_equal(count_requests(REGENERATE_LINE), 1);
}

static void test_connect_failure_before_send_is_retried(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_ERR_CONNECT, NULL},
                        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK}};
    script(a, 3);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys), BK_OK);
    assert_int_equal(count_requests(REGENERATE_LINE), 1);
    assert_int_equal(F.opens[BK_PEER_ARM], 2);
}

static void test_tls_verification_failure_is_final(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_ERR_TLS_VERIFY, NULL}};
    script(a, 1);
    bk_account_keys keys;
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_ERR_TLS_VERIFY);
    assert_int_equal(F.opens[BK_PEER_AUTHORITY], 1);
    assert_int_equal(F.request_count, 0);
}

static void test_wrong_secret(void **state) {
    (void)state;
    static const char body[] =
        "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client "
        "secret provided.\",\"error_codes\":[7000215],\"trace_id\":\"t\",\"correlation_id\":\"c\"}";
    static char answer_text[512];
    snprintf(answer_text, sizeof answer_text,
             "HTTP/1.1 401 Unauthorized\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, answer_text}};
    script(a, 1);
    bk_account_keys keys;
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_ERR_AUTH_REFUSED);
    assert_string_equal(client.entra_error.error, "invalid_client");
    assert_int_equal(client.entra_error.error_codes[0], 7000215);
    assert_int_equal(F.opens[BK_PEER_ARM], 0);
}

static void test_claims_challenge_gets_fresh_token_once(void **state) {
    (void)state;
    const char *challenge =
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"\", "
        "error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6"
        "dHJ1ZSwidmFsdWUiOiIxIn19fQ==\"\r\n"
        "Content-Length: 0\r\n\r\n";
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, challenge},
                        {BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, challenge}};
    script(a, 4);
    bk_account_keys keys;
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_ERR_ARM_UNAUTHORIZED);
    assert_int_equal(F.request_count, 4);
    /* Every token request declares cp1; the fresh one merges it into the challenge's claims. */
    assert_non_null(strstr(F.requests[0], "&claims=%7B%22access_token%22%3A%7B%22xms_cc%22%3A%7B"
                                          "%22values%22%3A%5B%22cp1%22%5D%7D%7D%7D"));
    assert_non_null(strstr(F.requests[2],
                           "&claims=%7B%22access_token%22%3A%7B%22xms_cc%22%3A%7B"
                           "%22values%22%3A%5B%22cp1%22%5D%7D%2C%22nbf%22%3A%7B"
                           "%22essential%22%3Atrue%2C%22value%22%3A%221%22%7D%7D%7D"));
}

static void test_stale_keep_alive_connection(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, KEYS_OK},
                        {BK_PEER_ARM, BK_OK, NULL}, /* the server had closed it */
                        {BK_PEER_ARM, BK_OK, KEYS_OK},
                        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK}};
    script(a, 5);
    bk_account_keys keys;
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_OK);
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_OK);
    assert_int_equal(F.opens[BK_PEER_ARM], 2);
    assert_int_equal(bk_test_slept_ms, 0);
    /* A regenerate never rides the kept-alive connection, which might be just as stale. */
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys), BK_OK);
    assert_int_equal(F.opens[BK_PEER_ARM], 3);
    assert_int_equal(F.closes[BK_PEER_ARM], 2);
    assert_int_equal(count_requests(REGENERATE_LINE), 1);
}

static bool never_reusable(void *ctx, bk_peer peer, uint64_t deadline_ms) {
    (void)ctx;
    (void)peer;
    (void)deadline_ms;
    return false;
}

static void test_connection_known_closed_is_replaced(void **state) {
    (void)state;
    client.connector.reuse = never_reusable;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, KEYS_OK},
                        {BK_PEER_ARM, BK_OK, KEYS_OK}};
    script(a, 3);
    bk_account_keys keys;
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_OK);
    /* Known closed before sending: the next request goes on a new connection. */
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_OK);
    assert_int_equal(F.opens[BK_PEER_ARM], 2);
    assert_int_equal(F.closes[BK_PEER_ARM], 1);
    assert_int_equal(count_requests(LIST_LINE), 2);
}

static void test_invalid_account_sends_nothing(void **state) {
    (void)state;
    client.account.account_name = "no";
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys),
                     BK_ERR_INVALID_ACCOUNT);
    client.account.account_name = "myacct";
    client.account.subscription_id = "not-a-guid";
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_ERR_INVALID_SUBSCRIPTION);
    assert_int_equal(F.opens[BK_PEER_AUTHORITY] + F.opens[BK_PEER_ARM], 0);
}

/* Every wait of a command draws from one deadline: the connector gets it with each open. */
static void test_deadline_reaches_every_connection(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, ACCOUNT_OK},
                        {BK_PEER_ARM, BK_OK, NULL},
                        {BK_PEER_ARM, BK_OK, KEYS_OK}};
    script(a, 4);
    uint64_t start = bk_test_now_ms;
    bk_client_set_deadline(&client, 60000);
    bk_batch_account account;
    assert_int_equal(bk_client_get_account(&client, &account), BK_OK);
    assert_true(F.deadline[BK_PEER_AUTHORITY] == start + 60000);
    assert_true(F.deadline[BK_PEER_ARM] == start + 60000);
    /* A regenerate keeps a third of the time left for the listKeys that reconciles it. */
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys),
                     BK_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(F.opens[BK_PEER_ARM], 3);
    assert_true(F.deadline[BK_PEER_ARM] == start + 60000);
    assert_int_equal(client.reconcile_result, BK_OK);
}

static void test_regenerate_own_deadline(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK}, {BK_PEER_ARM, BK_OK, NEW_KEYS_OK}};
    script(a, 2);
    uint64_t start = bk_test_now_ms;
    bk_client_set_deadline(&client, 60000);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys), BK_OK);
    assert_true(F.deadline[BK_PEER_ARM] == start + 40000);
    assert_true(F.deadline[BK_PEER_AUTHORITY] == start + 40000);
}

static void test_default_budget_per_call(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, KEYS_OK},
                        {BK_PEER_ARM, BK_OK, KEYS_OK}};
    script(a, 3);
    bk_account_keys keys;
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_OK);
    assert_true(F.deadline[BK_PEER_ARM] == bk_test_now_ms + BK_CALL_BUDGET_MS);
    bk_test_now_ms += 5000;
    client.connector.reuse = NULL;
    F.open[BK_PEER_ARM] = true; /* still open: reused as it is, no new deadline without reuse */
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_OK);
    assert_int_equal(F.opens[BK_PEER_ARM], 1);
}

/* A server that accepts the request and never answers: the read ends at the deadline, and no
 * retry is started after it. */
static void test_stall_ends_at_the_deadline(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK}, {BK_PEER_ARM, BK_OK, ACCOUNT_OK}};
    script(a, 2);
    F.takes_ms[1] = 3600000;
    uint64_t start = bk_test_now_ms;
    bk_client_set_deadline(&client, 20000);
    bk_batch_account account;
    assert_int_equal(bk_client_get_account(&client, &account), BK_ERR_TIMEOUT);
    assert_true(bk_test_now_ms == start + 20000);
    assert_int_equal(bk_test_slept_ms, 0);
    assert_int_equal(client.call.attempts, 1);
    assert_int_equal(client.call.failure, BK_ERR_TIMEOUT);
    assert_int_equal(client.call.status, 0);
}

/* A wait the deadline cannot hold is not begun: the service's own Retry-After included. */
static void test_retry_that_cannot_finish_is_not_started(void **state) {
    (void)state;
    const answer a[] = {
        {BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
        {BK_PEER_ARM, BK_OK,
         "HTTP/1.1 503 Busy\r\nRetry-After: 30\r\nx-ms-request-id: r1\r\nContent-Length: "
         "0\r\n\r\n"},
        {BK_PEER_ARM, BK_OK,
         "HTTP/1.1 503 Busy\r\nRetry-After: 8\r\nx-ms-request-id: r2\r\nContent-Length: 0\r\n\r\n"},
        {BK_PEER_ARM, BK_OK, ACCOUNT_OK}};
    script(a, 4);
    bk_client_set_deadline(&client, 10000);
    bk_batch_account account;
    assert_int_equal(bk_client_get_account(&client, &account), BK_ERR_SERVICE_BUSY);
    assert_int_equal(bk_test_slept_ms, 0);
    assert_int_equal(client.call.attempts, 1);
    assert_string_equal(client.call.request_id, "r1");
    /* 8 s of the 10 left still leave the 1 s an attempt needs: that wait is taken. */
    F.next = 0;
    F.request_count = 0;
    memset(F.requests, 0, sizeof F.requests);
    script(a + 2, 2);
    bk_client_set_deadline(&client, 10000);
    assert_int_equal(bk_client_get_account(&client, &account), BK_OK);
    assert_int_equal(bk_test_slept_ms, 8000);
}

/* Every answer that is not a 200, a 429 or a definite 4xx refusal may mean the key changed:
 * one POST, then listKeys, whatever the answer asks for. */
static void test_regenerate_ambiguous_answers(void **state) {
    (void)state;
    static const char *const heads[] = {
        "HTTP/1.1 202 Accepted\r\nRetry-After: 1\r\nLocation: https://management.azure.com/x",
        "HTTP/1.1 201 Created",
        "HTTP/1.1 204 No Content",
        "HTTP/1.1 301 Moved\r\nLocation: https://management.azure.com/y",
        "HTTP/1.1 408 Request Timeout\r\nRetry-After: 1",
        "HTTP/1.1 408 Request Timeout",
        "HTTP/1.1 500 Internal Server Error\r\nRetry-After: 1",
        "HTTP/1.1 502 Bad Gateway",
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1",
        "HTTP/1.1 503 Service Unavailable\r\nretry-after-ms: 10",
        "HTTP/1.1 504 Gateway Timeout\r\nx-ms-retry-after-ms: 10",
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        teardown(NULL);
        setup(NULL);
        static char text[512];
        snprintf(text, sizeof text, "%s\r\nx-ms-request-id: regen-%zu\r\nContent-Length: 0\r\n\r\n",
                 heads[i], i);
        const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                            {BK_PEER_ARM, BK_OK, text},
                            {BK_PEER_ARM, BK_OK, NEW_KEYS_OK}};
        script(a, 3);
        bk_account_keys keys;
        bk_result r = bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys);
        if (r != BK_ERR_OUTCOME_UNKNOWN || count_requests(REGENERATE_LINE) != 1 ||
            count_requests(LIST_LINE) != 1) {
            fail_msg("%s: result %d, %u POSTs, %u listKeys", heads[i], (int)r,
                     count_requests(REGENERATE_LINE), count_requests(LIST_LINE));
        }
        assert_int_equal(bk_test_slept_ms, 0);
        assert_int_equal(client.reconcile_result, BK_OK);
        assert_string_equal(keys.secondary, "CCCC==");
        char want_id[32];
        snprintf(want_id, sizeof want_id, "regen-%zu", i);
        assert_string_equal(client.regenerate.request_id, want_id);
        assert_int_equal(client.regenerate.status, atoi(heads[i] + 9));
        assert_int_equal(client.regenerate.attempts, 1);
    }
}

/* Throttled to the end: nothing was regenerated, and the caller is told to try later. */
static void test_regenerate_throttled_to_the_end_is_busy(void **state) {
    (void)state;
    const char *throttled =
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n";
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, throttled},
                        {BK_PEER_ARM, BK_OK, throttled},
                        {BK_PEER_ARM, BK_OK, throttled},
                        {BK_PEER_ARM, BK_OK, throttled}};
    script(a, 5);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys), BK_ERR_SERVICE_BUSY);
    assert_int_equal(count_requests(REGENERATE_LINE), 4);
    assert_int_equal(count_requests(LIST_LINE), 0);
    assert_int_equal(client.regenerate.status, 429);
}

/* The token endpoint busy to the end is busy too, not a refused credential. */
static void test_token_endpoint_busy(void **state) {
    (void)state;
    const char *busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, busy},
                        {BK_PEER_AUTHORITY, BK_OK, busy},
                        {BK_PEER_AUTHORITY, BK_OK, busy},
                        {BK_PEER_AUTHORITY, BK_OK, busy}};
    script(a, 4);
    assert_int_equal(bk_client_token(&client, NULL), BK_ERR_SERVICE_BUSY);
    assert_int_equal(client.call.attempts, 4);
    assert_string_equal(client.call.operation, "token request");
    assert_ptr_equal(client.call.endpoint, &client.authority);
}

/* Answering a CAE challenge would mean a second POST: a regenerate takes the 401 as a refusal. */
static void test_regenerate_claims_challenge_not_resent(void **state) {
    (void)state;
    const char *challenge =
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"\", "
        "error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6"
        "dHJ1ZSwidmFsdWUiOiIxIn19fQ==\"\r\n"
        "Content-Length: 0\r\n\r\n";
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK}, {BK_PEER_ARM, BK_OK, challenge}};
    script(a, 2);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys),
                     BK_ERR_ARM_UNAUTHORIZED);
    assert_int_equal(count_requests(REGENERATE_LINE), 1);
    assert_int_equal(F.request_count, 2);
}

/* Some bytes of a regenerate left before the send failed: the service may have it all. */
static void test_partial_send(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK},
                        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK},
                        {BK_PEER_ARM, BK_OK, KEYS_OK},
                        {BK_PEER_ARM, BK_OK, KEYS_OK}};
    script(a, 5);
    F.send_fails[1] = BK_ERR_STREAM_SEND;
    F.send_fails[3] = BK_ERR_STREAM_SEND;
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_PRIMARY, &keys),
                     BK_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(client.regenerate.failure, BK_ERR_STREAM_SEND);
    assert_int_equal(client.regenerate.attempts, 1);
    assert_int_equal(strncmp(F.requests[1], REGENERATE_LINE, 16), 0); /* its first 16 bytes */
    assert_int_equal(count_requests(REGENERATE_LINE), 0);             /* and no second POST */
    assert_int_equal(count_requests(LIST_LINE), 1);
    assert_int_equal(client.reconcile_result, BK_OK);
    /* The same failure under listKeys is simply retried. */
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_OK);
    assert_int_equal(client.call.attempts, 2);
}

/* A stalled regenerate is cut early enough for listKeys to read what the service holds. */
static void test_regenerate_stall_leaves_time_to_reconcile(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK},
                        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK},
                        {BK_PEER_ARM, BK_OK, NEW_KEYS_OK}};
    script(a, 3);
    F.takes_ms[1] = 3600000;
    uint64_t start = bk_test_now_ms;
    bk_client_set_deadline(&client, 60000);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys),
                     BK_ERR_OUTCOME_UNKNOWN);
    assert_int_equal(client.regenerate.failure, BK_ERR_TIMEOUT);
    assert_int_equal(client.reconcile_result, BK_OK);
    assert_string_equal(keys.secondary, "CCCC==");
    assert_true(bk_test_now_ms == start + 40000);
}

/* Diagnostics never fail an answer: a 200 with overlong ids is a 200. */
static void test_long_request_ids_on_success(void **state) {
    (void)state;
    static char text[1024];
    char id[301];
    memset(id, 'a', 300);
    id[300] = '\0';
    snprintf(text, sizeof text,
             "HTTP/1.1 200 OK\r\nx-ms-request-id: %s\r\nx-ms-correlation-request-id: %s\r\n"
             "Content-Length: 64\r\n\r\n{\"accountName\":\"myacct\",\"primary\":\"AAAA==\","
             "\"secondary\":\"CCCC==\"}",
             id, id);
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, TOKEN_OK}, {BK_PEER_ARM, BK_OK, text}};
    script(a, 2);
    bk_account_keys keys;
    assert_int_equal(bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys), BK_OK);
    assert_string_equal(keys.secondary, "CCCC==");
    assert_int_equal(strlen(client.regenerate.request_id), BK_HTTP_ID_MAX);
    assert_memory_equal(client.regenerate.request_id, id, BK_HTTP_ID_MAX - 5);
    assert_string_equal(client.regenerate.request_id + BK_HTTP_ID_MAX - 5, "[...]");
}

/* A call that failed at its token request reports that request. */
static void test_token_failure_record(void **state) {
    (void)state;
    static const char body[] =
        "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: "
        "bad secret\",\"error_codes\":[7000215]}";
    static char text[512];
    snprintf(
        text, sizeof text,
        "HTTP/1.1 401 Unauthorized\r\nx-ms-request-id: entra-1\r\nContent-Length: %zu\r\n\r\n%s",
        strlen(body), body);
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK, text}};
    script(a, 1);
    bk_account_keys keys;
    assert_int_equal(bk_client_list_keys(&client, &keys), BK_ERR_AUTH_REFUSED);
    assert_int_equal(client.call.status, 401);
    assert_int_equal(client.call.attempts, 1);
    assert_string_equal(client.call.request_id, "entra-1");
    assert_string_equal(client.call.error_code, "invalid_client");
    assert_non_null(strstr(F.requests[0], client.call.client_request_id));
}

/* An absurd expires_in cannot overflow the expiry arithmetic. */
static void test_expires_in_clamped(void **state) {
    (void)state;
    const answer a[] = {{BK_PEER_AUTHORITY, BK_OK,
                         "HTTP/1.1 200 OK\r\nContent-Length: 79\r\n\r\n{\"token_type\":\"Bearer\","
                         "\"expires_in\":99999999999999999999999,\"access_token\":\"t\"}"}};
    script(a, 1);
    assert_int_equal(bk_client_token(&client, NULL), BK_OK);
    assert_true(client.token.expires_in_s == BK_TOKEN_LIFETIME_MAX_S);
    assert_true(client.token_expires_ms == bk_test_now_ms + BK_TOKEN_LIFETIME_MAX_S * 1000u);
}

static void test_backoff_bounds(void **state) {
    (void)state;
    bk_retry_policy p = {4, 1000, 60000, 1000};
    assert_int_equal(bk_retry_backoff_ms(&p, 1, UINT32_MAX), UINT32_MAX % 1001);
    assert_int_equal(bk_retry_backoff_ms(&p, 1, 1000), 1000);
    assert_int_equal(bk_retry_backoff_ms(&p, 2, 2000), 2000);
    assert_int_equal(bk_retry_backoff_ms(&p, 3, 4000), 4000);
    assert_int_equal(bk_retry_backoff_ms(&p, 3, 4001), 0);
    assert_int_equal(bk_retry_backoff_ms(&p, 30, 60000), 60000);
    assert_int_equal(bk_retry_backoff_ms(&p, 30, 60001), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_token_one_connection_per_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_retries_transient_statuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_gives_up_after_four_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_beyond_cap_ends_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_resent_only_after_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_not_resent_after_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_dropped_connection_is_ambiguous, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_truncated_answer_is_ambiguous, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_failure_before_send_is_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tls_verification_failure_is_final, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims_challenge_gets_fresh_token_once, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stale_keep_alive_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_known_closed_is_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_account_sends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_reaches_every_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_own_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_budget_per_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stall_ends_at_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_that_cannot_finish_is_not_started, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_ambiguous_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_claims_challenge_not_resent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_throttled_to_the_end_is_busy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_endpoint_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regenerate_stall_leaves_time_to_reconcile, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_long_request_ids_on_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_failure_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expires_in_clamped, setup, teardown),
        cmocka_unit_test(test_backoff_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
