/* SPDX-License-Identifier: MIT */
/* The retry rule (core/bk_retry.c) as tables a reader can check against the design: every answer
 * status with every kind of retry hint, for an idempotent request (GET, listKeys, the token) and
 * for regenerateKeys, then every way an attempt can fail before a whole answer came. Some answers
 * are built by hand, some read from real header text, so that parsing and the rule meet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bk_http.h"
#include "bk_retry.h"
#include "bk_test_support.h"

#define DONE      BK_ATTEMPT_DONE
#define RETRY     BK_ATTEMPT_RETRY
#define AMBIGUOUS BK_ATTEMPT_AMBIGUOUS
#define FAILED    BK_ATTEMPT_FAILED

static const char *verdict_name(bk_attempt_verdict v) {
    switch (v) {
    case BK_ATTEMPT_DONE:
        return "DONE";
    case BK_ATTEMPT_RETRY:
        return "RETRY";
    case BK_ATTEMPT_AMBIGUOUS:
        return "AMBIGUOUS";
    case BK_ATTEMPT_FAILED:
        return "FAILED";
    }
    return "?";
}

/* --- whole answers --- */

/* What each status means for the request that got it. A retry hint changes none of these: an
 * idempotent request is sent again (after the hinted wait) only on the statuses marked RETRY,
 * and regenerateKeys only on 429, the one answer that says the service did not act. */
typedef struct status_rule {
    int status;
    bk_attempt_verdict idempotent;
    bk_attempt_verdict regenerate;
    const char *why;
} status_rule;

static const status_rule status_rules[] = {
    /* status, GET/listKeys/token, regenerateKeys */
    {200, DONE, DONE, "the answer"},
    {201, DONE, AMBIGUOUS, "a success regenerateKeys never gives"},
    {202, DONE, AMBIGUOUS, "accepted: the change may be under way"},
    {204, DONE, AMBIGUOUS, "a success without the keys"},
    {301, DONE, AMBIGUOUS, "redirects are not followed"},
    {302, DONE, AMBIGUOUS, "redirects are not followed"},
    {304, DONE, AMBIGUOUS, "not a POST's answer"},
    {400, DONE, DONE, "a refusal: the service did not act"},
    {401, DONE, DONE, "a refusal (a claims challenge is the client's business)"},
    {403, DONE, DONE, "a refusal, Azure Policy's too"},
    {404, DONE, DONE, "a refusal"},
    {408, RETRY, AMBIGUOUS, "a timeout: the request may have been acted on"},
    {409, DONE, DONE, "a refusal"},
    {418, DONE, DONE, "any other 4xx is a refusal"},
    {429, RETRY, RETRY, "throttled: the one answer that says it did not act"},
    {499, DONE, DONE, "any other 4xx is a refusal"},
    {500, RETRY, AMBIGUOUS, "a server error may come after the change"},
    {501, DONE, AMBIGUOUS, "not transient, and may come after the change"},
    {502, RETRY, AMBIGUOUS, "a gateway's error: the service may have acted"},
    {503, RETRY, AMBIGUOUS, "busy, maybe after acting"},
    {504, RETRY, AMBIGUOUS, "a gateway's timeout: the service may have acted"},
    {505, DONE, AMBIGUOUS, "not transient, and may come after the change"},
    {599, DONE, AMBIGUOUS, "any other 5xx"},
};

/* The retry hints an answer may carry; each is tried on every status. */
typedef enum hint {
    HINT_NONE,
    HINT_RETRY_AFTER_SECONDS,
    HINT_RETRY_AFTER_DATE,
    HINT_RETRY_AFTER_MS,
    HINT_X_MS_RETRY_AFTER_MS,
    HINT_ALL,
    HINT_COUNT
} hint;

static const char *const hint_names[HINT_COUNT] = {
    "no hint",        "Retry-After seconds", "Retry-After date",
    "retry-after-ms", "x-ms-retry-after-ms", "every hint"};

static void answer_by_hand(bk_http_response *resp, int status, hint h) {
    bk_http_response_reset(resp);
    resp->status = status;
    resp->body = "";
    resp->date_s = 1445412450;
    if (h == HINT_RETRY_AFTER_SECONDS || h == HINT_ALL) {
        resp->retry_after_s = 30;
    }
    if (h == HINT_RETRY_AFTER_DATE || h == HINT_ALL) {
        resp->retry_after_date_s = 1445412480;
    }
    if (h == HINT_RETRY_AFTER_MS || h == HINT_ALL) {
        resp->retry_after_ms = 1500;
    }
    if (h == HINT_X_MS_RETRY_AFTER_MS || h == HINT_ALL) {
        resp->x_ms_retry_after_ms = 2500;
    }
}

static void test_status_table_answers_built_by_hand(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof status_rules / sizeof status_rules[0]; i++) {
        const status_rule *rule = &status_rules[i];
        for (int h = 0; h < HINT_COUNT; h++) {
            bk_http_response resp;
            answer_by_hand(&resp, rule->status, (hint)h);
            bk_attempt_verdict idem = bk_retry_classify(true, true, BK_OK, &resp);
            bk_attempt_verdict regen = bk_retry_classify(false, true, BK_OK, &resp);
            if (idem != rule->idempotent || regen != rule->regenerate) {
                fail_msg("%d (%s) with %s: idempotent %s (want %s), regenerate %s (want %s)",
                         rule->status, rule->why, hint_names[h], verdict_name(idem),
                         verdict_name(rule->idempotent), verdict_name(regen),
                         verdict_name(rule->regenerate));
            }
        }
    }
}

/* The same table through the response reader: the status line and hint headers as a server
 * sends them. */
static bk_script script;
static char io[BK_IO_BUFFER_SIZE];

static const char *const hint_headers[HINT_COUNT] = {
    "",
    "Retry-After: 30\r\n",
    "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n",
    "retry-after-ms: 1500\r\n",
    "x-ms-retry-after-ms: 2500\r\n",
    "Retry-After: 30\r\nretry-after-ms: 1500\r\nx-ms-retry-after-ms: 2500\r\n",
};

/* The delay each hint asks for, against the answer's own Date. */
static const int64_t hint_delay_ms[HINT_COUNT] = {-1, 30000, 30000, 1500, 2500, 1500};

static bk_result read_answer(const char *raw, bk_http_response *resp) {
    bk_script_init(&script, raw, strlen(raw));
    bk_stream s = bk_script_stream(&script);
    return bk_http_read_response(&s, io, sizeof io, resp);
}

static void test_status_table_answers_read_from_text(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof status_rules / sizeof status_rules[0]; i++) {
        const status_rule *rule = &status_rules[i];
        for (int h = 0; h < HINT_COUNT; h++) {
            char raw[512];
            snprintf(raw, sizeof raw,
                     "HTTP/1.1 %d Reason\r\nDate: Wed, 21 Oct 2015 07:27:30 GMT\r\n%s"
                     "Content-Length: 2\r\n\r\n{}",
                     rule->status, hint_headers[h]);
            bk_http_response resp;
            assert_int_equal(read_answer(raw, &resp), BK_OK);
            assert_int_equal(resp.status, rule->status);
            int64_t delay = bk_http_retry_after_ms(&resp, 0);
            if (delay != hint_delay_ms[h]) {
                fail_msg("%d with %s: delay %lld, want %lld", rule->status, hint_names[h],
                         (long long)delay, (long long)hint_delay_ms[h]);
            }
            bk_attempt_verdict idem = bk_retry_classify(true, true, BK_OK, &resp);
            bk_attempt_verdict regen = bk_retry_classify(false, true, BK_OK, &resp);
            if (idem != rule->idempotent || regen != rule->regenerate) {
                fail_msg("%d (%s) with %s: idempotent %s (want %s), regenerate %s (want %s)",
                         rule->status, rule->why, hint_names[h], verdict_name(idem),
                         verdict_name(rule->idempotent), verdict_name(regen),
                         verdict_name(rule->regenerate));
            }
        }
    }
}

/* Answers as the services send them, read and classified together. */
static void test_recorded_style_answers(void **state) {
    (void)state;
    static const struct {
        const char *raw;
        int64_t delay_ms; /* what the hint asks for, -1 for none */
        bk_attempt_verdict idempotent;
        bk_attempt_verdict regenerate;
    } answers[] = {
        /* ARM's throttling: the one answer after which regenerateKeys goes again. */
        {"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 17\r\n"
         "x-ms-ratelimit-remaining-subscription-writes: 0\r\n"
         "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
         17000, RETRY, RETRY},
        /* A busy service that asks for a wait may still have acted. */
        {"HTTP/1.1 503 Service Unavailable\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
         "Date: Wed, 21 Oct 2015 07:27:55 GMT\r\nContent-Length: 0\r\n\r\n",
         5000, RETRY, AMBIGUOUS},
        {"HTTP/1.1 408 Request Timeout\r\nRetry-After: 5\r\nConnection: close\r\n"
         "Content-Length: 0\r\n\r\n",
         5000, RETRY, AMBIGUOUS},
        {"HTTP/1.1 202 Accepted\r\nLocation: https://management.azure.com/op/1\r\n"
         "Retry-After: 10\r\nContent-Length: 0\r\n\r\n",
         10000, DONE, AMBIGUOUS},
        {"HTTP/1.1 500 Internal Server Error\r\nretry-after-ms: 100\r\n"
         "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
         100, RETRY, AMBIGUOUS},
        {"HTTP/1.1 504 Gateway Timeout\r\nx-ms-retry-after-ms: 250\r\n\r\nclosed", 250, RETRY,
         AMBIGUOUS},
        /* A Retry-After that does not parse is no hint, and changes nothing either. */
        {"HTTP/1.1 429 Too Many Requests\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n", -1,
         RETRY, RETRY},
        {"HTTP/1.1 409 Conflict\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n", 3000, DONE, DONE},
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", -1, DONE,
         DONE},
    };
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        bk_http_response resp;
        assert_int_equal(read_answer(answers[i].raw, &resp), BK_OK);
        if (bk_http_retry_after_ms(&resp, 0) != answers[i].delay_ms) {
            fail_msg("answer %zu: delay %lld", i, (long long)bk_http_retry_after_ms(&resp, 0));
        }
        bk_attempt_verdict idem = bk_retry_classify(true, true, BK_OK, &resp);
        bk_attempt_verdict regen = bk_retry_classify(false, true, BK_OK, &resp);
        if (idem != answers[i].idempotent || regen != answers[i].regenerate) {
            fail_msg("answer %zu: idempotent %s, regenerate %s", i, verdict_name(idem),
                     verdict_name(regen));
        }
    }
}

/* --- attempts that ended without a whole answer --- */

/* sent: some byte of the request left. A request of which nothing left may always go again
 * when the network was at fault; one that left can go again only when it is idempotent. */
typedef struct failure_rule {
    bk_result result;
    const char *name;
    bool network; /* bk_retry_network_failure */
    bk_attempt_verdict idempotent_unsent;
    bk_attempt_verdict regenerate_unsent;
    bk_attempt_verdict idempotent_sent;
    bk_attempt_verdict regenerate_sent;
} failure_rule;

#define F(r) r, #r
static const failure_rule failure_rules[] = {
    /* result, network?, then not sent: idempotent, regenerate; sent: idempotent, regenerate */
    {F(BK_ERR_DNS), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    {F(BK_ERR_CONNECT), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    {F(BK_ERR_TIMEOUT), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    {F(BK_ERR_STREAM_SEND), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    {F(BK_ERR_STREAM_RECV), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    {F(BK_ERR_STREAM_CLOSED), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    {F(BK_ERR_STREAM_UNCLEAN_CLOSE), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    {F(BK_ERR_STREAM_STALLED), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    {F(BK_ERR_TLS_IO), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    {F(BK_ERR_HTTP_TRUNCATED), true, RETRY, RETRY, RETRY, AMBIGUOUS},
    /* Trust and framing: another attempt meets the same server. */
    {F(BK_ERR_TLS_VERIFY), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_TLS_HANDSHAKE), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_TLS_CA), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_HTTP_STATUS_LINE), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_HTTP_BARE_LF), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_HTTP_LENGTH_AND_CHUNKED), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_HTTP_HEADERS_TOO_LARGE), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_HTTP_BODY_TOO_LARGE), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    /* A 200 whose body could not be read: for regenerateKeys, the keys may have changed. */
    {F(BK_ERR_JSON_SYNTAX), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_JSON_TOO_MANY_TOKENS), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_JSON_MISSING_FIELD), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_REQUEST_OVERFLOW), false, FAILED, FAILED, FAILED, AMBIGUOUS},
    {F(BK_ERR_ENTROPY), false, FAILED, FAILED, FAILED, AMBIGUOUS},
};
#undef F

static void test_failure_table(void **state) {
    (void)state;
    /* Failures are classified on the result alone: the answer passed along, even a 200 or a 429
     * that asks for a retry, is not consulted. */
    bk_http_response answers[2];
    answer_by_hand(&answers[0], 200, HINT_NONE);
    answer_by_hand(&answers[1], 429, HINT_ALL);
    for (size_t i = 0; i < sizeof failure_rules / sizeof failure_rules[0]; i++) {
        const failure_rule *rule = &failure_rules[i];
        if (bk_retry_network_failure(rule->result) != rule->network) {
            fail_msg("%s: network failure %d", rule->name, bk_retry_network_failure(rule->result));
        }
        for (size_t a = 0; a < 2; a++) {
            const bk_http_response *resp = &answers[a];
            bk_attempt_verdict got[4] = {
                bk_retry_classify(true, false, rule->result, resp),
                bk_retry_classify(false, false, rule->result, resp),
                bk_retry_classify(true, true, rule->result, resp),
                bk_retry_classify(false, true, rule->result, resp),
            };
            bk_attempt_verdict want[4] = {rule->idempotent_unsent, rule->regenerate_unsent,
                                          rule->idempotent_sent, rule->regenerate_sent};
            static const char *const cells[4] = {"idempotent, not sent", "regenerate, not sent",
                                                 "idempotent, sent", "regenerate, sent"};
            for (size_t c = 0; c < 4; c++) {
                if (got[c] != want[c]) {
                    fail_msg("%s (%s, answer %d): %s, want %s", rule->name, cells[c], resp->status,
                             verdict_name(got[c]), verdict_name(want[c]));
                }
            }
        }
    }
    assert_false(bk_retry_network_failure(BK_OK));
}

/* Failures that come out of the reader itself, on text a server could send. */
static void test_failures_read_from_text(void **state) {
    (void)state;
    static const struct {
        const char *raw;
        int32_t end; /* how the script ends */
        bk_result want;
        bk_attempt_verdict idempotent_sent;
        bk_attempt_verdict regenerate_sent;
    } cases[] = {
        /* Dropped before a byte of answer: a stale connection, or a service that died. */
        {"", BK_ERR_STREAM_CLOSED, BK_ERR_STREAM_CLOSED, RETRY, AMBIGUOUS},
        {"HTTP/1.1 200 OK\r\nContent-Length: 235\r\n\r\n{\"accountName\":", BK_ERR_STREAM_CLOSED,
         BK_ERR_HTTP_TRUNCATED, RETRY, AMBIGUOUS},
        /* A body framed by the close, cut without close_notify. */
        {"HTTP/1.1 200 OK\r\n\r\n{\"accountName\":\"a\"}", BK_ERR_STREAM_UNCLEAN_CLOSE,
         BK_ERR_HTTP_TRUNCATED, RETRY, AMBIGUOUS},
        {"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 9\r\n\r\n{}",
         BK_ERR_STREAM_CLOSED, BK_ERR_HTTP_TRUNCATED, RETRY, AMBIGUOUS},
        {"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", BK_ERR_STREAM_CLOSED, BK_ERR_HTTP_BARE_LF,
         FAILED, AMBIGUOUS},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", BK_ERR_STREAM_CLOSED,
         BK_ERR_HTTP_BODY_TOO_LARGE, FAILED, AMBIGUOUS},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", BK_ERR_TIMEOUT, BK_ERR_TIMEOUT, RETRY,
         AMBIGUOUS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bk_script_init(&script, cases[i].raw, strlen(cases[i].raw));
        script.end_result = cases[i].end;
        bk_stream s = bk_script_stream(&script);
        bk_http_response resp;
        bk_result r = bk_http_read_response(&s, io, sizeof io, &resp);
        if (r != cases[i].want) {
            fail_msg("case %zu: read %d, want %d", i, (int)r, (int)cases[i].want);
        }
        bk_attempt_verdict idem = bk_retry_classify(true, true, r, &resp);
        bk_attempt_verdict regen = bk_retry_classify(false, true, r, &resp);
        if (idem != cases[i].idempotent_sent || regen != cases[i].regenerate_sent) {
            fail_msg("case %zu: idempotent %s, regenerate %s", i, verdict_name(idem),
                     verdict_name(regen));
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_table_answers_built_by_hand),
        cmocka_unit_test(test_status_table_answers_read_from_text),
        cmocka_unit_test(test_recorded_style_answers),
        cmocka_unit_test(test_failure_table),
        cmocka_unit_test(test_failures_read_from_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
