/* SPDX-License-Identifier: MIT */
/* The response reader, fed through scripted streams: every case is read whole, one byte at a
 * time, with "no progress" returns between bytes, and split in two at every byte position, and
 * must give the same result each way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bk_ascii.h"
#include "bk_http.h"
#include "bk_test_support.h"

static bk_script script;
static char io[BK_IO_BUFFER_SIZE];

/* Reads raw with the given delivery; returns the result and fills *resp. */
static bk_result read_with(const char *raw, size_t len, size_t cap, size_t chunk, int zeros,
                           const size_t *split, bk_http_response *resp) {
    bk_script_init(&script, raw, len);
    script.chunk = chunk;
    script.zero_every = zeros;
    if (split) {
        script.splits = split;
        script.split_count = 1;
    }
    bk_stream s = bk_script_stream(&script);
    return bk_http_read_response(&s, io, cap, resp);
}

static void assert_same_response(const bk_http_response *a, const char *a_body,
                                 const bk_http_response *b) {
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->body_len, b->body_len);
    assert_memory_equal(a_body, b->body, a->body_len);
    assert_int_equal(a->keep_alive, b->keep_alive);
    assert_string_equal(a->request_id, b->request_id);
    assert_string_equal(a->correlation_id, b->correlation_id);
    assert_string_equal(a->www_authenticate, b->www_authenticate);
    assert_true(a->retry_after_s == b->retry_after_s);
    assert_true(a->retry_after_date_s == b->retry_after_date_s);
    assert_true(a->retry_after_ms == b->retry_after_ms);
    assert_true(a->x_ms_retry_after_ms == b->x_ms_retry_after_ms);
    assert_true(a->ratelimit_remaining_writes == b->ratelimit_remaining_writes);
    assert_true(a->date_s == b->date_s);
}

/* Reads raw every way; all must give want. On success *first gets the response and body_copy
 * its body. */
static void read_every_way(const char *raw, size_t cap, bk_result want, bk_http_response *first,
                           char *body_copy) {
    size_t len = strlen(raw);
    bk_http_response base;
    assert_int_equal(read_with(raw, len, cap, 0, 0, NULL, &base), want);
    static char base_body[BK_IO_BUFFER_SIZE];
    if (want == BK_OK) {
        memcpy(base_body, base.body, base.body_len);
    }
    bk_http_response other;
    assert_int_equal(read_with(raw, len, cap, 1, 0, NULL, &other), want);
    if (want == BK_OK) {
        assert_same_response(&base, base_body, &other);
    }
    assert_int_equal(read_with(raw, len, cap, 1, 1, NULL, &other), want);
    if (want == BK_OK) {
        assert_same_response(&base, base_body, &other);
    }
    for (size_t k = 1; k < len; k++) {
        bk_result got = read_with(raw, len, cap, 0, 0, &k, &other);
        if (got != want) {
            fail_msg("split at %zu: got %d, want %d", k, got, want);
        }
        if (want == BK_OK) {
            assert_same_response(&base, base_body, &other);
        }
    }
    if (first) {
        *first = base;
        if (body_copy) {
            memcpy(body_copy, base_body, base.body_len);
            body_copy[base.body_len] = '\0';
        }
    }
}

static const char recorded_body[] =
    "{\"accountName\":\"clibatchtest1\",\"primary\":\"f1cIF0mITofpjWvwjmIOPGLA2vC9aFUCZ7S71d2n5/"
    "6Ns9rohl21gTJIK9eZlZi3Rw5HRG9VmTEIHfVteivpCQ==\",\"secondary\":"
    "\"VMJrbLg3qy4ICy7MdEpTdQLP/CikzW13Atv32rFIl5becKF7r/AZWF5qG8mcnc6BlwpYq7nr6YFG+u5Rg+4qzw==\"}";

static void test_recorded_chunked_regenerate(void **state) {
    (void)state;
    /* The recorded exchange's headers, its 235-byte body sent as two chunks. */
    char raw[2048];
    snprintf(raw, sizeof raw,
             "HTTP/1.1 200 OK\r\n"
             "Cache-Control: no-cache\r\n"
             "Pragma: no-cache\r\n"
             "Transfer-Encoding: chunked\r\n"
             "Content-Type: application/json; charset=utf-8\r\n"
             "Expires: -1\r\n"
             "Vary: Accept-Encoding\r\n"
             "x-ms-ratelimit-remaining-subscription-writes: 1199\r\n"
             "x-ms-request-id: 5a0e0c9e-9d25-4d64-a4e6-1f3b0d8c2b11\r\n"
             "x-ms-correlation-request-id: 0d1f6f1e-2c3a-4b5c-8d9e-0f1a2b3c4d5e\r\n"
             "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n"
             "Server: Microsoft-HTTPAPI/2.0\r\n"
             "X-Content-Type-Options: nosniff\r\n"
             "Date: Thu, 13 Jun 2019 23:47:44 GMT\r\n"
             "\r\n"
             "64\r\n%.100s\r\n"
             "87\r\n%s\r\n"
             "0\r\n\r\n",
             recorded_body, recorded_body + 100);
    assert_int_equal(strlen(recorded_body), 235);
    bk_http_response resp;
    static char body[BK_IO_BUFFER_SIZE];
    read_every_way(raw, sizeof io, BK_OK, &resp, body);
    assert_int_equal(resp.status, 200);
    assert_string_equal(body, recorded_body);
    assert_true(resp.keep_alive);
    assert_true(resp.ratelimit_remaining_writes == 1199);
    assert_string_equal(resp.request_id, "5a0e0c9e-9d25-4d64-a4e6-1f3b0d8c2b11");
    assert_string_equal(resp.correlation_id, "0d1f6f1e-2c3a-4b5c-8d9e-0f1a2b3c4d5e");
    assert_true(resp.date_s == 1560469664);
    assert_true(resp.retry_after_s == -1 && resp.retry_after_ms == -1);
}

static void test_content_length_and_case_insensitive_names(void **state) {
    (void)state;
    const char *raw = "HTTP/1.1 429 Too Many Requests\r\n"
                      "CONTENT-LENGTH: 11\r\n"
                      "X-Ms-Request-Id:   abc-123  \r\n"
                      "RETRY-AFTER: 7\r\n"
                      "Retry-After-Ms: 1500\r\n"
                      "x-ms-retry-after-ms: 2500\r\n"
                      "\r\n"
                      "hello world";
    bk_http_response resp;
    static char body[64];
    read_every_way(raw, sizeof io, BK_OK, &resp, body);
    assert_int_equal(resp.status, 429);
    assert_string_equal(body, "hello world");
    assert_string_equal(resp.request_id, "abc-123");
    assert_true(resp.retry_after_s == 7);
    assert_true(resp.retry_after_ms == 1500);
    assert_true(resp.x_ms_retry_after_ms == 2500);
    assert_true(bk_http_retry_after_ms(&resp, 0) == 1500);
    assert_true(resp.keep_alive);
}

static void test_close_delimited_bodies(void **state) {
    (void)state;
    bk_http_response resp;
    static char body[64];
    read_every_way("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", sizeof io,
                   BK_OK, &resp, body);
    assert_string_equal(body, "until the end");
    assert_false(resp.keep_alive);
    read_every_way("HTTP/1.0 200 OK\r\n\r\nold", sizeof io, BK_OK, &resp, body);
    assert_string_equal(body, "old");
    assert_false(resp.keep_alive);
    read_every_way("HTTP/1.1 500 Oops\r\n\r\n", sizeof io, BK_OK, &resp, body);
    assert_int_equal(resp.status, 500);
    assert_int_equal(resp.body_len, 0);
}

static void test_keep_alive_rules(void **state) {
    (void)state;
    bk_http_response resp;
    read_every_way("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", sizeof io,
                   BK_OK, &resp, NULL);
    assert_false(resp.keep_alive);
    read_every_way("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", sizeof io, BK_OK, &resp, NULL);
    assert_false(resp.keep_alive);
    read_every_way("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
                   sizeof io, BK_OK, &resp, NULL);
    assert_true(resp.keep_alive);
    read_every_way("HTTP/1.1 200 OK\r\nConnection: upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n",
                   sizeof io, BK_OK, &resp, NULL);
    assert_false(resp.keep_alive);
    /* Bytes seen after the end of the response make the connection unusable. (Only bytes that
     * arrive with the response can be seen, so this one is read whole.) */
    const char *junk = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxJUNK";
    assert_int_equal(read_with(junk, strlen(junk), sizeof io, 0, 0, NULL, &resp), BK_OK);
    assert_false(resp.keep_alive);
    assert_int_equal(resp.body_len, 1);
}

static void test_interim_answers_skipped(void **state) {
    (void)state;
    bk_http_response resp;
    static char body[64];
    read_every_way("HTTP/1.1 100 Continue\r\n\r\n"
                   "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n"
                   "x-ms-request-id: interim\r\n\r\n"
                   "HTTP/1.1 201 Created\r\nx-ms-request-id: final\r\nContent-Length: 2\r\n\r\nok",
                   sizeof io, BK_OK, &resp, body);
    assert_int_equal(resp.status, 201);
    assert_string_equal(resp.request_id, "final");
    assert_string_equal(body, "ok");
}

static void test_no_body_statuses(void **state) {
    (void)state;
    bk_http_response resp;
    read_every_way("HTTP/1.1 204 No Content\r\nx-ms-request-id: r1\r\n\r\n", sizeof io, BK_OK,
                   &resp, NULL);
    assert_int_equal(resp.status, 204);
    assert_int_equal(resp.body_len, 0);
    assert_true(resp.keep_alive);
    read_every_way("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", sizeof io, BK_OK,
                   &resp, NULL);
    assert_int_equal(resp.status, 304);
    assert_int_equal(resp.body_len, 0);
}

static void test_chunk_extensions_and_trailers(void **state) {
    (void)state;
    bk_http_response resp;
    static char body[64];
    read_every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
                   "5;name=value;flag\r\nhello\r\n"
                   "1 ; x=\"q\"\r\n \r\n"
                   "000A\r\n0123456789\r\n"
                   "0;last\r\nX-Trailer: t\r\nOther: u\r\n\r\n",
                   sizeof io, BK_OK, &resp, body);
    assert_string_equal(body, "hello 0123456789");
    assert_true(resp.keep_alive);
}

static void test_kept_headers(void **state) {
    (void)state;
    bk_http_response resp;
    read_every_way("HTTP/1.1 401 Unauthorized\r\n"
                   "WWW-Authenticate: Bearer authorization_uri=\"https://login.example/t\", "
                   "error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnt9fQ==\"\r\n"
                   "WWW-Authenticate: Basic realm=\"x\"\r\n"
                   "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"
                   "Date: Wed, 21 Oct 2015 07:27:30 GMT\r\n"
                   "x-ms-ratelimit-remaining-subscription-writes: nope\r\n"
                   "Content-Length: 0\r\n\r\n",
                   sizeof io, BK_OK, &resp, NULL);
    assert_string_equal(resp.www_authenticate,
                        "Bearer authorization_uri=\"https://login.example/t\", "
                        "error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnt9fQ==\", "
                        "Basic realm=\"x\"");
    assert_true(resp.retry_after_s == -1);
    assert_true(resp.retry_after_date_s == 1445412480);
    assert_true(resp.date_s == 1445412450);
    assert_true(resp.ratelimit_remaining_writes == -1);
    /* Measured against the server's own Date: 30 s, whatever the local clock says. */
    assert_true(bk_http_retry_after_ms(&resp, 0) == 30000);
    resp.date_s = -1;
    assert_true(bk_http_retry_after_ms(&resp, 1445412470) == 10000);
    assert_true(bk_http_retry_after_ms(&resp, 1445412490) == 0);
}

static void test_http_dates(void **state) {
    (void)state;
    assert_true(bk_http_parse_date("Thu, 01 Jan 1970 00:00:00 GMT", 29) == 0);
    assert_true(bk_http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", 29) == 784111777);
    assert_true(bk_http_parse_date("Tue, 29 Feb 2000 12:00:00 GMT", 29) == 951825600);
    assert_true(bk_http_parse_date("Fri, 31 Dec 2100 23:59:59 GMT", 29) == 4133980799);
    assert_true(bk_http_parse_date("Sun, 06 Nov 1994 08:49:37 UTC", 29) == -1);
    assert_true(bk_http_parse_date("Sun, 30 Feb 2000 12:00:00 GMT", 29) == -1);
    assert_true(bk_http_parse_date("Mon, 29 Feb 2100 12:00:00 GMT", 29) == -1);
    assert_true(bk_http_parse_date("Sun, 31 Apr 1994 08:49:37 GMT", 29) == -1);
    assert_true(bk_http_parse_date("Sun, 06 Nov 1969 08:49:37 GMT", 29) == -1);
    assert_true(bk_http_parse_date("Sun, 06 Nov 1994 08:60:37 GMT", 29) == -1);
    assert_true(bk_http_parse_date("Sun, 06 Nov 1994 08-49:37 GMT", 29) == -1);
    assert_true(bk_http_parse_date("Sun, 06 Foo 1994 08:49:37 GMT", 29) == -1);
    assert_true(bk_http_parse_date("Sun, 06 Nov 1994 24:49:37 GMT", 29) == -1);
    assert_true(bk_http_parse_date("Xyz, 06 Nov 1994 08:49:37 GMT", 29) == -1);
    assert_true(bk_http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", 28) == -1);
}

static void test_obsolete_http_dates(void **state) {
    (void)state;
    /* RFC 9110 5.6.7: recipients accept the rfc850 and asctime forms too. */
    assert_true(bk_http_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", 30) == 784111777);
    assert_true(bk_http_parse_date("Wednesday, 09-Jun-21 10:18:14 GMT", 33) == 1623233894);
    assert_true(bk_http_parse_date("Thursday, 01-Jan-70 00:00:00 GMT", 32) == 0);
    assert_true(bk_http_parse_date("Sun Nov  6 08:49:37 1994", 24) == 784111777);
    assert_true(bk_http_parse_date("Fri Dec 31 23:59:59 2100", 24) == 4133980799);
    assert_true(bk_http_parse_date("Sunday, 06-Nov-94 08:49:37 UTC", 30) == -1);
    assert_true(bk_http_parse_date("Sunday, 06 Nov 94 08:49:37 GMT", 30) == -1);
    assert_true(bk_http_parse_date("Sundae, 06-Nov-94 08:49:37 GMT", 30) == -1);
    assert_true(bk_http_parse_date("Sunday, 06-Nov-1994 08:49:37 GMT", 32) == -1);
    assert_true(bk_http_parse_date("Sun Nov 6 08:49:37 1994", 23) == -1);
    assert_true(bk_http_parse_date("Sun Nov    08:49:37 1994", 24) == -1);
    assert_true(bk_http_parse_date("Sun Nov  6 08:49:37 1994 ", 25) == -1);
    assert_true(bk_http_parse_date("Sun Nov 31 08:49:37 1994", 24) == -1);

    bk_http_response resp;
    read_every_way("HTTP/1.1 429 Too Many Requests\r\n"
                   "Retry-After: Wednesday, 21-Oct-15 07:28:00 GMT\r\n"
                   "Date: Wed Oct 21 07:27:50 2015\r\n"
                   "Content-Length: 0\r\n\r\n",
                   sizeof io, BK_OK, &resp, NULL);
    assert_true(bk_http_retry_after_ms(&resp, 0) == 10000);
}

static void test_retry_after_preference(void **state) {
    (void)state;
    bk_http_response resp;
    read_every_way("HTTP/1.1 503 Busy\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n", sizeof io,
                   BK_OK, &resp, NULL);
    assert_true(bk_http_retry_after_ms(&resp, 0) == 2000);
    read_every_way("HTTP/1.1 503 Busy\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n", sizeof io,
                   BK_OK, &resp, NULL);
    assert_true(bk_http_retry_after_ms(&resp, 0) == -1);
    read_every_way("HTTP/1.1 503 Busy\r\nx-ms-retry-after-ms: 40\r\nRetry-After: 9\r\n"
                   "Content-Length: 0\r\n\r\n",
                   sizeof io, BK_OK, &resp, NULL);
    assert_true(bk_http_retry_after_ms(&resp, 0) == 40);
}

static void test_exact_fit_bodies(void **state) {
    (void)state;
    enum { CAP = 64 };
    char raw[512];
    char payload[CAP + 2];
    memset(payload, 'b', CAP);
    payload[CAP] = '\0';
    bk_http_response resp;
    /* Header lines are each shorter than CAP; the body fills the buffer exactly. */
    snprintf(raw, sizeof raw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", CAP, payload);
    read_every_way(raw, CAP, BK_OK, &resp, NULL);
    assert_int_equal(resp.body_len, CAP);
    snprintf(raw, sizeof raw,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n%s\r\n0\r\n\r\n", payload);
    read_every_way(raw, CAP, BK_OK, &resp, NULL);
    assert_int_equal(resp.body_len, CAP);
    snprintf(raw, sizeof raw, "HTTP/1.1 200 OK\r\n\r\n%s", payload);
    read_every_way(raw, CAP, BK_OK, &resp, NULL);
    assert_int_equal(resp.body_len, CAP);
    /* One byte more is an error each way. */
    payload[CAP] = 'b';
    payload[CAP + 1] = '\0';
    snprintf(raw, sizeof raw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", CAP + 1, payload);
    read_every_way(raw, CAP, BK_ERR_HTTP_BODY_TOO_LARGE, NULL, NULL);
    snprintf(raw, sizeof raw,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n%s\r\n0\r\n\r\n", payload);
    read_every_way(raw, CAP, BK_ERR_HTTP_BODY_TOO_LARGE, NULL, NULL);
    snprintf(raw, sizeof raw,
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
             "chunked\r\n\r\n20\r\n%.32s\r\n21\r\n%.33s\r\n0\r\n\r\n",
             payload, payload);
    read_every_way(raw, CAP, BK_ERR_HTTP_BODY_TOO_LARGE, NULL, NULL);
    snprintf(raw, sizeof raw, "HTTP/1.1 200 OK\r\n\r\n%s", payload);
    read_every_way(raw, CAP, BK_ERR_HTTP_BODY_TOO_LARGE, NULL, NULL);
}

typedef struct hostile_case {
    const char *name;
    const char *raw;
    bk_result want;
} hostile_case;

static const hostile_case hostile[] = {
    {"length with chunked",
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     BK_ERR_HTTP_LENGTH_AND_CHUNKED},
    {"chunked before length",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
     BK_ERR_HTTP_LENGTH_AND_CHUNKED},
    {"differing lengths", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
     BK_ERR_HTTP_LENGTH_CONFLICT},
    {"differing length list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello",
     BK_ERR_HTTP_LENGTH_CONFLICT},
    {"length not a number", "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello",
     BK_ERR_HTTP_LENGTH_INVALID},
    {"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
     BK_ERR_HTTP_LENGTH_INVALID},
    {"empty length", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", BK_ERR_HTTP_LENGTH_INVALID},
    {"huge length", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
     BK_ERR_HTTP_LENGTH_INVALID},
    {"length over buffer", "HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n",
     BK_ERR_HTTP_BODY_TOO_LARGE},
    {"chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     BK_ERR_HTTP_CHUNK_SIZE_INVALID},
    {"chunk size empty", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
     BK_ERR_HTTP_CHUNK_SIZE_INVALID},
    {"chunk size signed", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n",
     BK_ERR_HTTP_CHUNK_SIZE_INVALID},
    {"chunk size overflow",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
     BK_ERR_HTTP_CHUNK_SIZE_OVERFLOW},
    {"chunk size over buffer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n",
     BK_ERR_HTTP_BODY_TOO_LARGE},
    {"chunk data unterminated",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
     BK_ERR_HTTP_CHUNK_SYNTAX},
    {"chunk data bare LF",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\n0\r\n\r\n",
     BK_ERR_HTTP_BARE_LF},
    {"chunk size bare LF",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n",
     BK_ERR_HTTP_BARE_LF},
    {"chunk extension control",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a\x01\r\nab\r\n",
     BK_ERR_HTTP_CHUNK_SYNTAX},
    {"bare LF status", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", BK_ERR_HTTP_BARE_LF},
    {"bare LF header", "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", BK_ERR_HTTP_BARE_LF},
    {"bare LF end", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", BK_ERR_HTTP_BARE_LF},
    {"bare CR", "HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", BK_ERR_HTTP_BARE_CR},
    {"obs-fold", "HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n",
     BK_ERR_HTTP_OBS_FOLD},
    {"obs-fold tab", "HTTP/1.1 200 OK\r\nX-A: one\r\n\ttwo\r\nContent-Length: 0\r\n\r\n",
     BK_ERR_HTTP_OBS_FOLD},
    {"empty header name", "HTTP/1.1 200 OK\r\n: value\r\nContent-Length: 0\r\n\r\n",
     BK_ERR_HTTP_EMPTY_HEADER_NAME},
    {"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
     BK_ERR_HTTP_HEADER_SYNTAX},
    {"no colon", "HTTP/1.1 200 OK\r\nContent-Length\r\n\r\n", BK_ERR_HTTP_HEADER_SYNTAX},
    {"control in value", "HTTP/1.1 200 OK\r\nX-A: a\x7f\r\nContent-Length: 0\r\n\r\n",
     BK_ERR_HTTP_HEADER_SYNTAX},
    {"gzip transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
     BK_ERR_HTTP_TRANSFER_CODING},
    {"chunked twice",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     BK_ERR_HTTP_TRANSFER_CODING},
    {"identity transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n",
     BK_ERR_HTTP_TRANSFER_CODING},
    {"gzip content coding",
     "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n",
     BK_ERR_HTTP_CONTENT_CODING},
    {"coding list",
     "HTTP/1.1 200 OK\r\nContent-Encoding: identity, br\r\nContent-Length: 0\r\n\r\n",
     BK_ERR_HTTP_CONTENT_CODING},
    {"HTTP/2 status", "HTTP/2 200 OK\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"short status", "HTTP/1.1 20 OK\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"status 600", "HTTP/1.1 600 Odd\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"status 101", "HTTP/1.1 101 Switching Protocols\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"no space after code", "HTTP/1.1 200OK\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"lowercase version", "http/1.1 200 OK\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"truncated headers", "HTTP/1.1 200 OK\r\nContent-Len", BK_ERR_HTTP_TRUNCATED},
    {"truncated length body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
     BK_ERR_HTTP_TRUNCATED},
    {"truncated chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
     BK_ERR_HTTP_TRUNCATED},
    {"truncated before last chunk",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n", BK_ERR_HTTP_TRUNCATED},
    {"truncated after interim", "HTTP/1.1 100 Continue\r\n\r\n", BK_ERR_HTTP_TRUNCATED},
    /* Each test of the status line, the field lines and the chunk-size line failing alone. */
    {"status line too short", "HTTP/1.1 20\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"no space after version", "HTTP/1.1-200 OK\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"code below digits", "HTTP/1.1 2/0 OK\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"code above digits", "HTTP/1.1 2a0 OK\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"status 099", "HTTP/1.1 099 Odd\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"control in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"DEL in reason", "HTTP/1.1 200 O\x7fK\r\n\r\n", BK_ERR_HTTP_STATUS_LINE},
    {"control char in value", "HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n",
     BK_ERR_HTTP_HEADER_SYNTAX},
    {"chunk line too long",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;"
     "x=0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"
     "890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567"
     "89012345678901234567890123456789012345678901234567890123456789012345678901234567890\r\n"
     "a\r\n0\r\n\r\n",
     BK_ERR_HTTP_CHUNK_SYNTAX},
    {"chunk size bare CR", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\rab\r\n",
     BK_ERR_HTTP_BARE_CR},
    {"chunk extension DEL",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a\x7f\r\nab\r\n",
     BK_ERR_HTTP_CHUNK_SYNTAX},
    {"chunk extension without size",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;a\r\nab\r\n",
     BK_ERR_HTTP_CHUNK_SIZE_INVALID},
    {"space before chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 2\r\nab\r\n",
     BK_ERR_HTTP_CHUNK_SIZE_INVALID},
    {"digit after chunk size space",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 3\r\nab\r\n",
     BK_ERR_HTTP_CHUNK_SIZE_INVALID},
    {"chunk data bare CR",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\rx0\r\n\r\n",
     BK_ERR_HTTP_BARE_CR},
};

static void test_hostile_framing(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        printf("  %s\n", hostile[i].name);
        read_every_way(hostile[i].raw, sizeof io, hostile[i].want, NULL, NULL);
    }
}

/* What the reader accepts at the edges of each rule of the grammar. */
static void test_grammar_edges_accepted(void **state) {
    (void)state;
    bk_http_response resp;
    /* A token's every character class; a tab in a reason and in a value; no reason at all. */
    read_every_way("HTTP/1.1 200\r\nX_9~a|: one\ttwo\r\nContent-Length: 0\r\n\r\n", sizeof io,
                   BK_OK, &resp, NULL);
    assert_int_equal(resp.status, 200);
    read_every_way("HTTP/1.1 200 O\tK\r\nContent-Length: 0\r\n\r\n", sizeof io, BK_OK, NULL, NULL);
    /* Repeated equal lengths; OWS before a list's comma; an empty coding in a list. */
    read_every_way("HTTP/1.1 200 OK\r\nContent-Length: 2 , 2\r\nContent-Encoding: identity, ,"
                   "\r\nConnection: close ,\r\n\r\nab",
                   sizeof io, BK_OK, &resp, NULL);
    assert_int_equal(resp.body_len, 2);
    assert_false(resp.keep_alive);
    /* A tab in a chunk extension. */
    read_every_way("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a\tb\r\nab\r\n0\r\n\r\n",
                   sizeof io, BK_OK, &resp, NULL);
    assert_int_equal(resp.body_len, 2);
    /* The Batch data plane's request-id, alone, and after ARM's, which wins. */
    read_every_way("HTTP/1.1 200 OK\r\nRequest-Id: batch\r\nContent-Length: 0\r\n\r\n", sizeof io,
                   BK_OK, &resp, NULL);
    assert_string_equal(resp.request_id, "batch");
    read_every_way("HTTP/1.1 200 OK\r\nx-ms-request-id: arm\r\nRequest-Id: batch\r\n"
                   "Content-Length: 0\r\n\r\n",
                   sizeof io, BK_OK, &resp, NULL);
    assert_string_equal(resp.request_id, "arm");
    /* A NUL in a header's name. */
    static const char nul_name[] = "HTTP/1.1 200 OK\r\nX\0A: b\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(read_with(nul_name, sizeof nul_name - 1, sizeof io, 1, 0, NULL, &resp),
                     BK_ERR_HTTP_NUL);
}

/* Each field of each date form failing alone. */
static void test_date_fields_checked(void **state) {
    (void)state;
    static const char *const bad[] = {
        "Sun, /6 Nov 1994 08:49:37 GMT",  "Sun, 0/ Nov 1994 08:49:37 GMT",
        "Sun, 0a Nov 1994 08:49:37 GMT",  "Sun, 06 Nov x994 08:49:37 GMT",
        "Sun, 06 Nov 19x4 08:49:37 GMT",  "Sun, 06 Nov 1994 08:49-37 GMT",
        "Sun, 06 Nov 1994 x8:49:37 GMT",  "Sun, 06 Nov 1994 08:x9:37 GMT",
        "Sun, 06 Nov 1994 08:49:x7 GMT",  "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun  06 Nov 1994 08:49:37 GMT",  "Sun,x06 Nov 1994 08:49:37 GMT",
        "Sun, 06xNov 1994 08:49:37 GMT",  "Sun, 06 Novx1994 08:49:37 GMT",
        "Sun, 06 Nov 1994x08:49:37 GMT",  "Sun, 06 Nov 1994 08:49:37xGMT",
        "Sun,Nov  6 08:49:37 1994",       "Xyz Nov  6 08:49:37 1994",
        "Sun Novx 6 08:49:37 1994",       "Sun Nov  6x08:49:37 1994",
        "Sun Nov  6 08:49:37x1994",       "Sunday,x06-Nov-94 08:49:37 GMT",
        "Sunday, 06xNov-94 08:49:37 GMT", "Sunday, 06-Novx94 08:49:37 GMT",
        "Sunday, 06-Nov-94x08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37xGMT",
        "Sunday, 06-Nov-x4 08:49:37 GMT", "Sunday x06-Nov-94 08:49:37 GMT",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bk_http_parse_date(bad[i], strlen(bad[i])) != -1) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    /* The 1990s of a two-digit year, and the 2000s. */
    assert_true(bk_http_parse_date("Saturday, 01-Jan-00 00:00:00 GMT", 32) == 946684800);
}

/* Retry-After in seconds past what milliseconds can hold; a date with no clock to compare. */
static void test_retry_after_limits(void **state) {
    (void)state;
    bk_http_response resp;
    read_every_way("HTTP/1.1 429 Busy\r\nRetry-After: 99999999999999999999\r\n"
                   "Content-Length: 0\r\n\r\n",
                   sizeof io, BK_OK, &resp, NULL);
    assert_true(bk_http_retry_after_ms(&resp, 0) == INT64_MAX);
    read_every_way("HTTP/1.1 429 Busy\r\nRetry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                   "Content-Length: 0\r\n\r\n",
                   sizeof io, BK_OK, &resp, NULL);
    assert_true(bk_http_retry_after_ms(&resp, -1) == -1);
}

static int32_t overlong_recv(void *ctx, uint8_t *data, size_t len) {
    (void)ctx;
    (void)data;
    return (int32_t)len + 1;
}

/* A stream that claims more than it was given room for, and the arguments refused. */
static void test_reader_refusals(void **state) {
    (void)state;
    bk_http_response resp;
    bk_stream lying = {NULL, overlong_recv, NULL};
    assert_int_equal(bk_http_read_response(&lying, io, sizeof io, &resp), BK_ERR_STREAM_RECV);
    bk_stream no_recv = {NULL, NULL, NULL};
    assert_int_equal(bk_http_read_response(&no_recv, io, sizeof io, &resp), BK_ERR_ARGUMENT);
    assert_int_equal(bk_http_read_response(&lying, NULL, sizeof io, &resp), BK_ERR_ARGUMENT);
    assert_int_equal(bk_http_read_response(&lying, io, sizeof io, NULL), BK_ERR_ARGUMENT);
    assert_int_equal(bk_http_read_response(&lying, io, (size_t)INT32_MAX + 1, &resp),
                     BK_ERR_ARGUMENT);
}

static void test_nul_in_headers(void **state) {
    (void)state;
    /* strlen-free: the NUL is part of the data. */
    static const char raw[] = "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n";
    bk_http_response resp;
    for (size_t chunk = 0; chunk <= 1; chunk++) {
        assert_int_equal(read_with(raw, sizeof raw - 1, sizeof io, chunk, 0, NULL, &resp),
                         BK_ERR_HTTP_NUL);
    }
    static const char status[] = "HTTP/1.1 200 O\0K\r\n\r\n";
    assert_int_equal(read_with(status, sizeof status - 1, sizeof io, 1, 0, NULL, &resp),
                     BK_ERR_HTTP_NUL);
    /* In a body a NUL is just data. */
    static const char body[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b";
    assert_int_equal(read_with(body, sizeof body - 1, sizeof io, 1, 0, NULL, &resp), BK_OK);
    assert_int_equal(resp.body_len, 3);
    assert_memory_equal(resp.body, "a\0b", 3);
}

static void test_header_limits(void **state) {
    (void)state;
    /* A header section over BK_HTTP_HEADER_BYTES_MAX, in lines that each fit the buffer. */
    static char raw[BK_HTTP_HEADER_BYTES_MAX + 256];
    size_t n = (size_t)snprintf(raw, sizeof raw, "HTTP/1.1 200 OK\r\n");
    while (n < BK_HTTP_HEADER_BYTES_MAX) {
        n += (size_t)snprintf(raw + n, sizeof raw - n, "X-Filler: 0123456789abcdef\r\n");
    }
    snprintf(raw + n, sizeof raw - n, "Content-Length: 0\r\n\r\n");
    bk_http_response resp;
    assert_int_equal(read_with(raw, strlen(raw), sizeof io, 0, 0, NULL, &resp),
                     BK_ERR_HTTP_HEADERS_TOO_LARGE);
    assert_int_equal(read_with(raw, strlen(raw), sizeof io, 7, 0, NULL, &resp),
                     BK_ERR_HTTP_HEADERS_TOO_LARGE);
    /* One line longer than a small buffer. */
    read_every_way("HTTP/1.1 200 OK\r\nX-Long: 0123456789012345678901234567890123456789\r\n\r\n",
                   32, BK_ERR_HTTP_HEADERS_TOO_LARGE, NULL, NULL);
}

static void test_stream_failures(void **state) {
    (void)state;
    const char *raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    bk_http_response resp;
    /* Nothing at all: the peer had closed (a stale keep-alive connection). */
    assert_int_equal(read_with("", 0, sizeof io, 0, 0, NULL, &resp), BK_ERR_STREAM_CLOSED);
    /* An error mid-stream comes back as it is. */
    for (size_t at = 0; at < strlen(raw); at++) {
        bk_script_init(&script, raw, strlen(raw));
        script.chunk = 3;
        script.fail_after = at;
        script.fail_result = BK_ERR_TIMEOUT;
        bk_stream s = bk_script_stream(&script);
        assert_int_equal(bk_http_read_response(&s, io, sizeof io, &resp), BK_ERR_TIMEOUT);
        assert_null(resp.body);
    }
    /* A stream that never moves a byte gives up. */
    bk_script_init(&script, raw, strlen(raw));
    script.end_result = 0;
    script.len = 0;
    bk_stream s = bk_script_stream(&script);
    assert_int_equal(bk_http_read_response(&s, io, sizeof io, &resp), BK_ERR_STREAM_STALLED);
    assert_int_equal(script.recv_calls, BK_STREAM_IDLE_LIMIT);
    /* Bad arguments. */
    assert_int_equal(bk_http_read_response(NULL, io, sizeof io, &resp), BK_ERR_ARGUMENT);
    assert_int_equal(bk_http_read_response(&s, io, 0, &resp), BK_ERR_ARGUMENT);
}

static void test_send_all(void **state) {
    (void)state;
    const char *data = "GET / HTTP/1.1\r\n\r\n";
    bk_script_init(&script, "", 0);
    bk_stream s = bk_script_stream(&script);
    assert_int_equal(bk_stream_send_all(&s, (const uint8_t *)data, strlen(data), NULL), BK_OK);
    assert_int_equal(script.sent_len, strlen(data));
    assert_memory_equal(script.sent, data, strlen(data));
    script.send_result = BK_ERR_TIMEOUT;
    assert_int_equal(bk_stream_send_all(&s, (const uint8_t *)data, 1, NULL), BK_ERR_TIMEOUT);
    script.send_result = 0;
    /* send that never moves a byte: stalled, not an endless loop */
    bk_script_init(&script, "", 0);
    script.sent_len = sizeof script.sent;
    assert_int_equal(bk_stream_send_all(&s, (const uint8_t *)data, 1, NULL), BK_ERR_STREAM_STALLED);
}

/* --- diagnostic headers cut and marked --- */

/* A header value of n characters 'a', 'b', ... (so where a cut fell shows); the longest is a
 * WWW-Authenticate 900 bytes over its field. */
static char g_value[BK_WWW_AUTHENTICATE_MAX + 1024];

static const char *value_of(size_t n) {
    assert_true(n < sizeof g_value);
    for (size_t i = 0; i < n; i++) {
        g_value[i] = (char)('a' + i % 26);
    }
    g_value[n] = '\0';
    return g_value;
}

static char g_raw[BK_HTTP_HEADER_BYTES_MAX];

static void test_request_ids_cut_and_marked(void **state) {
    (void)state;
    static const char *const names[] = {"x-ms-request-id", "x-ms-correlation-request-id"};
    const size_t lens[] = {BK_HTTP_ID_MAX - 1, BK_HTTP_ID_MAX, BK_HTTP_ID_MAX + 1, 300};
    for (size_t h = 0; h < 2; h++) {
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            size_t len = lens[l];
            snprintf(g_raw, sizeof g_raw,
                     "HTTP/1.1 200 OK\r\n%s: %s\r\n%s: other\r\nContent-Length: 2\r\n\r\nok",
                     names[h], value_of(len), names[1 - h]);
            bk_http_response resp;
            static char body[64];
            read_every_way(g_raw, sizeof io, BK_OK, &resp, body);
            assert_int_equal(resp.status, 200);
            assert_string_equal(body, "ok");
            const char *id = h == 0 ? resp.request_id : resp.correlation_id;
            const char *other = h == 0 ? resp.correlation_id : resp.request_id;
            assert_string_equal(other, "other");
            if (len <= BK_HTTP_ID_MAX) {
                assert_string_equal(id, value_of(len));
                continue;
            }
            /* Cut to the field, the last bytes of it the mark. */
            assert_int_equal(strlen(id), BK_HTTP_ID_MAX);
            assert_memory_equal(id, value_of(len), BK_HTTP_ID_MAX - BK_CUT_MARK_LEN);
            assert_string_equal(id + BK_HTTP_ID_MAX - BK_CUT_MARK_LEN, BK_CUT_MARK);
        }
    }
}

/* A two-byte character (obs-text to HTTP) at every offset around the cut point of an id. */
static void test_request_id_cut_never_splits_a_character(void **state) {
    (void)state;
    const size_t room = BK_HTTP_ID_MAX - BK_CUT_MARK_LEN;
    for (size_t at = room - 4; at <= room + 2; at++) {
        char id[128];
        memset(id, 'x', sizeof id);
        memcpy(id + at, "\xc3\xa9", 2);
        id[BK_HTTP_ID_MAX + 8] = '\0';
        snprintf(g_raw, sizeof g_raw,
                 "HTTP/1.1 404 Not Found\r\nx-ms-request-id: %s\r\nContent-Length: 0\r\n\r\n", id);
        bk_http_response resp;
        read_every_way(g_raw, sizeof io, BK_OK, &resp, NULL);
        assert_int_equal(resp.status, 404);
        size_t kept = at < room && at + 2 > room ? at : room;
        assert_int_equal(strlen(resp.request_id), kept + BK_CUT_MARK_LEN);
        assert_memory_equal(resp.request_id, id, kept);
        assert_string_equal(resp.request_id + kept, BK_CUT_MARK);
    }
}

/* raw gets a 401 with the given WWW-Authenticate values (a Date first, so a write past the
 * field would show in date_s), and a body. */
static void challenges(const size_t *lens, size_t count) {
    size_t n =
        (size_t)snprintf(g_raw, sizeof g_raw,
                         "HTTP/1.1 401 Unauthorized\r\nDate: Wed, 21 Oct 2015 07:27:30 GMT\r\n");
    for (size_t i = 0; i < count; i++) {
        n += (size_t)snprintf(g_raw + n, sizeof g_raw - n, "WWW-Authenticate: %s\r\n",
                              value_of(lens[i]));
    }
    n += (size_t)snprintf(g_raw + n, sizeof g_raw - n, "Content-Length: 2\r\n\r\n{}");
    assert_true(n < sizeof g_raw);
}

/* Reads the 401 of challenges() whole and one byte at a time. */
static void read_challenges(bk_http_response *resp) {
    bk_http_response other;
    assert_int_equal(read_with(g_raw, strlen(g_raw), sizeof io, 0, 0, NULL, resp), BK_OK);
    assert_int_equal(read_with(g_raw, strlen(g_raw), sizeof io, 1, 0, NULL, &other), BK_OK);
    assert_string_equal(resp->www_authenticate, other.www_authenticate);
    assert_int_equal(resp->www_authenticate_cut, other.www_authenticate_cut);
    assert_int_equal(resp->status, 401);
    assert_int_equal(resp->body_len, 2);
    assert_true(resp->date_s == 1445412450);
}

static void test_www_authenticate_cut(void **state) {
    (void)state;
    bk_http_response resp;
    const size_t fits = BK_WWW_AUTHENTICATE_MAX, over = BK_WWW_AUTHENTICATE_MAX + 1,
                 far = BK_WWW_AUTHENTICATE_MAX + 900;
    challenges(&fits, 1);
    read_challenges(&resp);
    assert_false(resp.www_authenticate_cut);
    assert_string_equal(resp.www_authenticate, value_of(fits));
    for (int i = 0; i < 2; i++) {
        challenges(i == 0 ? &over : &far, 1);
        read_challenges(&resp);
        assert_true(resp.www_authenticate_cut);
        assert_int_equal(strlen(resp.www_authenticate), BK_WWW_AUTHENTICATE_MAX);
        assert_memory_equal(resp.www_authenticate, value_of(over),
                            BK_WWW_AUTHENTICATE_MAX - BK_CUT_MARK_LEN);
        assert_string_equal(resp.www_authenticate + BK_WWW_AUTHENTICATE_MAX - BK_CUT_MARK_LEN,
                            BK_CUT_MARK);
    }
}

static void test_www_authenticate_joined_and_cut(void **state) {
    (void)state;
    bk_http_response resp;
    char want[BK_WWW_AUTHENTICATE_MAX + 1];
    /* Lengths from the field's size, so every profile cuts at the same place in the join. */
    const size_t half = BK_WWW_AUTHENTICATE_MAX / 2, most = BK_WWW_AUTHENTICATE_MAX * 3 / 4;
    /* Two challenges joined with ", " exactly fill the field. */
    size_t exact[2] = {half, BK_WWW_AUTHENTICATE_MAX - half - 2};
    challenges(exact, 2);
    read_challenges(&resp);
    assert_false(resp.www_authenticate_cut);
    snprintf(want, sizeof want, "%s, ", value_of(exact[0]));
    strcat(want, value_of(exact[1]));
    assert_string_equal(resp.www_authenticate, want);
    /* One byte more, or far more, and a third ignored once the field is cut. */
    const size_t over[3][3] = {
        {half, BK_WWW_AUTHENTICATE_MAX - half - 1, 0}, {most, half, 0}, {most, half, 10}};
    for (size_t i = 0; i < 3; i++) {
        challenges(over[i], over[i][2] > 0 ? 3 : 2);
        read_challenges(&resp);
        assert_true(resp.www_authenticate_cut);
        assert_int_equal(strlen(resp.www_authenticate), BK_WWW_AUTHENTICATE_MAX);
        size_t room = BK_WWW_AUTHENTICATE_MAX - BK_CUT_MARK_LEN;
        snprintf(want, sizeof want, "%s, ", value_of(over[i][0]));
        strcat(want, value_of(room - over[i][0] - 2));
        strcat(want, BK_CUT_MARK);
        assert_string_equal(resp.www_authenticate, want);
    }
}

/* The first challenge leaves less room than the mark needs: the join must still be cut within
 * the field and marked, and nothing after the field touched. */
static void test_www_authenticate_joined_near_the_end(void **state) {
    (void)state;
    bk_http_response resp;
    for (size_t first = BK_WWW_AUTHENTICATE_MAX - 8; first <= BK_WWW_AUTHENTICATE_MAX; first++) {
        for (size_t second = 1; second <= 100; second += 99) {
            size_t lens[2] = {first, second};
            challenges(lens, 2);
            read_challenges(&resp);
            bool fits = first + 2 + second <= BK_WWW_AUTHENTICATE_MAX;
            assert_int_equal(resp.www_authenticate_cut, !fits);
            assert_non_null(memchr(resp.www_authenticate, '\0', sizeof resp.www_authenticate));
            if (!fits) {
                size_t len = strlen(resp.www_authenticate);
                assert_true(len >= BK_CUT_MARK_LEN && len <= BK_WWW_AUTHENTICATE_MAX);
                assert_string_equal(resp.www_authenticate + len - BK_CUT_MARK_LEN, BK_CUT_MARK);
                assert_memory_equal(resp.www_authenticate, value_of(first),
                                    len - BK_CUT_MARK_LEN < first ? len - BK_CUT_MARK_LEN : first);
            }
        }
    }
}

/* --- how a close ends a response --- */

/* Reads raw every way, the script ending in end: all must give want. */
static void read_every_way_ending(const char *raw, int32_t end, bk_result want, char *body_copy) {
    size_t len = strlen(raw);
    bk_http_response resp;
    for (size_t way = 0; way < len + 3; way++) {
        size_t split = way;
        bk_script_init(&script, raw, len);
        script.end_result = end;
        if (way == len + 1) {
            script.chunk = 1;
        } else if (way == len + 2) {
            script.chunk = 1;
            script.zero_every = 1;
        } else if (way > 0 && way < len) {
            script.splits = &split;
            script.split_count = 1;
        }
        bk_stream s = bk_script_stream(&script);
        bk_result got = bk_http_read_response(&s, io, sizeof io, &resp);
        if (got != want) {
            fail_msg("%s ending %d, way %zu: got %d, want %d", raw, (int)end, way, (int)got,
                     (int)want);
        }
        if (got == BK_OK && body_copy != NULL) {
            if (way == 0) {
                memcpy(body_copy, resp.body, resp.body_len);
                body_copy[resp.body_len] = '\0';
            }
            assert_int_equal(resp.body_len, strlen(body_copy));
            assert_memory_equal(resp.body, body_copy, resp.body_len);
        }
        if (got != BK_OK) {
            assert_null(resp.body);
        }
    }
}

static void test_close_ends_a_body_only_in_order(void **state) {
    (void)state;
    static char body[64];
    /* A body framed by the close: an orderly close ends it, an unclean one cuts it. */
    read_every_way_ending("HTTP/1.1 200 OK\r\n\r\n{\"a\":1}", BK_ERR_STREAM_CLOSED, BK_OK, body);
    assert_string_equal(body, "{\"a\":1}");
    read_every_way_ending("HTTP/1.1 200 OK\r\n\r\n{\"a\":1}", BK_ERR_STREAM_UNCLEAN_CLOSE,
                          BK_ERR_HTTP_TRUNCATED, NULL);
    read_every_way_ending("HTTP/1.1 500 Oops\r\n\r\n", BK_ERR_STREAM_CLOSED, BK_OK, body);
    assert_string_equal(body, "");
    read_every_way_ending("HTTP/1.1 500 Oops\r\n\r\n", BK_ERR_STREAM_UNCLEAN_CLOSE,
                          BK_ERR_HTTP_TRUNCATED, NULL);
    /* Nothing at all before either close: the stale-connection signal. */
    for (int end = 0; end < 2; end++) {
        bk_http_response resp;
        bk_script_init(&script, "", 0);
        script.end_result = end == 0 ? BK_ERR_STREAM_CLOSED : BK_ERR_STREAM_UNCLEAN_CLOSE;
        script.zero_every = 1;
        bk_stream s = bk_script_stream(&script);
        assert_int_equal(bk_http_read_response(&s, io, sizeof io, &resp), BK_ERR_STREAM_CLOSED);
    }
    /* Framed by length or chunks, or still in the headers: cut by either close. */
    static const char *const cut[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"a\":1}",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\"",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
        "HTTP/1.1 200 OK\r\nContent-Le",
        "H",
    };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        read_every_way_ending(cut[i], BK_ERR_STREAM_CLOSED, BK_ERR_HTTP_TRUNCATED, NULL);
        read_every_way_ending(cut[i], BK_ERR_STREAM_UNCLEAN_CLOSE, BK_ERR_HTTP_TRUNCATED, NULL);
    }
    /* A response that ended by its framing does not wait for the close. */
    static const char *const whole[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n",
        "HTTP/1.1 204 No Content\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        read_every_way_ending(whole[i], BK_ERR_STREAM_UNCLEAN_CLOSE, BK_OK, body);
    }
}

/* --- bk_stream_send_all's count of bytes moved --- */

static void test_send_all_counts_bytes_moved(void **state) {
    (void)state;
    static const char data[] = "POST /regenerateKeys HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
    const size_t len = sizeof data - 1;
    size_t moved = 99;
    /* All of it, in pieces. */
    for (size_t chunk = 1; chunk <= 7; chunk++) {
        bk_script_init(&script, "", 0);
        script.send_chunk = chunk;
        bk_stream s = bk_script_stream(&script);
        moved = 99;
        assert_int_equal(bk_stream_send_all(&s, (const uint8_t *)data, len, &moved), BK_OK);
        assert_int_equal(moved, len);
        assert_int_equal(script.sent_len, len);
        assert_memory_equal(script.sent, data, len);
    }
    /* A failure after some bytes left reports how many: the peer may have them. */
    for (size_t after = 0; after < len; after++) {
        bk_script_init(&script, "", 0);
        script.send_chunk = 5;
        script.send_fail_after = after;
        script.send_result = BK_ERR_STREAM_SEND;
        bk_stream s = bk_script_stream(&script);
        moved = 99;
        assert_int_equal(bk_stream_send_all(&s, (const uint8_t *)data, len, &moved),
                         BK_ERR_STREAM_SEND);
        assert_int_equal(moved, after);
        assert_int_equal(script.sent_len, after);
    }
    /* A stall after some bytes, too. */
    bk_script_init(&script, "", 0);
    script.sent_len = sizeof script.sent - 9;
    bk_stream s = bk_script_stream(&script);
    assert_int_equal(bk_stream_send_all(&s, (const uint8_t *)data, len, &moved),
                     BK_ERR_STREAM_STALLED);
    assert_int_equal(moved, 9);
    /* Nothing to send moves nothing; bad arguments move nothing. */
    assert_int_equal(bk_stream_send_all(&s, (const uint8_t *)data, 0, &moved), BK_OK);
    assert_int_equal(moved, 0);
    moved = 99;
    assert_int_equal(bk_stream_send_all(NULL, (const uint8_t *)data, len, &moved), BK_ERR_ARGUMENT);
    assert_int_equal(moved, 0);
    moved = 99;
    assert_int_equal(bk_stream_send_all(&s, NULL, len, &moved), BK_ERR_ARGUMENT);
    assert_int_equal(moved, 0);
}

/* A send that claims more bytes than it was given: an error, and only what came before counts. */
static unsigned g_lying_calls;

static int32_t lying_send(void *ctx, const uint8_t *data, size_t len) {
    (void)ctx;
    (void)data;
    return ++g_lying_calls == 1 ? 4 : (int32_t)len + 1;
}

static void test_send_all_refuses_a_send_that_claims_too_much(void **state) {
    (void)state;
    bk_stream s = {lying_send, NULL, NULL};
    size_t moved = 99;
    g_lying_calls = 0;
    assert_int_equal(bk_stream_send_all(&s, (const uint8_t *)"0123456789", 10, &moved),
                     BK_ERR_STREAM_SEND);
    assert_int_equal(moved, 4);
    assert_int_equal(g_lying_calls, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_chunked_regenerate),
        cmocka_unit_test(test_content_length_and_case_insensitive_names),
        cmocka_unit_test(test_close_delimited_bodies),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_interim_answers_skipped),
        cmocka_unit_test(test_no_body_statuses),
        cmocka_unit_test(test_chunk_extensions_and_trailers),
        cmocka_unit_test(test_kept_headers),
        cmocka_unit_test(test_http_dates),
        cmocka_unit_test(test_obsolete_http_dates),
        cmocka_unit_test(test_retry_after_preference),
        cmocka_unit_test(test_exact_fit_bodies),
        cmocka_unit_test(test_hostile_framing),
        cmocka_unit_test(test_nul_in_headers),
        cmocka_unit_test(test_header_limits),
        cmocka_unit_test(test_stream_failures),
        cmocka_unit_test(test_send_all),
        cmocka_unit_test(test_request_ids_cut_and_marked),
        cmocka_unit_test(test_request_id_cut_never_splits_a_character),
        cmocka_unit_test(test_www_authenticate_cut),
        cmocka_unit_test(test_www_authenticate_joined_and_cut),
        cmocka_unit_test(test_close_ends_a_body_only_in_order),
        cmocka_unit_test(test_send_all_counts_bytes_moved),
        cmocka_unit_test(test_send_all_refuses_a_send_that_claims_too_much),
        /* A join cut within a few bytes of the field's end (it once wrote past it). */
        cmocka_unit_test(test_www_authenticate_joined_near_the_end),
        cmocka_unit_test(test_grammar_edges_accepted),
        cmocka_unit_test(test_date_fields_checked),
        cmocka_unit_test(test_retry_after_limits),
        cmocka_unit_test(test_reader_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
