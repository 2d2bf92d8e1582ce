/* SPDX-License-Identifier: MIT */
/* The HTTP proxy: its URL, NO_PROXY's rules, and the CONNECT exchange over a scripted stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bk_proxy.h"
#include "bk_test_support.h"

static void test_parse_forms(void **state) {
    (void)state;
    bk_proxy p;
    assert_int_equal(bk_proxy_parse(&p, "http://proxy.example:3128"), BK_OK);
    assert_string_equal(p.host, "proxy.example");
    assert_int_equal(p.port, 3128);
    assert_string_equal(p.authorization, "");

    assert_int_equal(bk_proxy_parse(&p, "proxy.example"), BK_OK); /* no scheme: http */
    assert_int_equal(p.port, BK_PROXY_DEFAULT_PORT);
    assert_int_equal(bk_proxy_parse(&p, "HTTP://10.0.0.1:8080/"), BK_OK);
    assert_string_equal(p.host, "10.0.0.1");
    assert_int_equal(p.port, 8080);
    assert_int_equal(bk_proxy_parse(&p, "http://[::1]:3128"), BK_OK);
    assert_string_equal(p.host, "[::1]");
    assert_int_equal(p.port, 3128);
    assert_int_equal(bk_proxy_parse(&p, "http://[::1]"), BK_OK);
    assert_int_equal(p.port, BK_PROXY_DEFAULT_PORT);
}

static void test_parse_credentials(void **state) {
    (void)state;
    bk_proxy p;
    /* base64("alice:s3cret") */
    assert_int_equal(bk_proxy_parse(&p, "http://alice:s3cret@proxy:3128"), BK_OK);
    assert_string_equal(p.authorization, "Basic YWxpY2U6czNjcmV0");
    assert_string_equal(p.host, "proxy");
    /* Percent-encoded, with '@' and ':' in the password: the last '@' ends the userinfo. */
    assert_int_equal(bk_proxy_parse(&p, "http://alice:p%40ss:w@rd@proxy:3128"), BK_OK);
    assert_string_equal(p.authorization, "Basic YWxpY2U6cEBzczp3QHJk"); /* alice:p@ss:w@rd */
    /* A user alone: "user:", as curl sends it. */
    assert_int_equal(bk_proxy_parse(&p, "http://bob@proxy"), BK_OK);
    assert_string_equal(p.authorization, "Basic Ym9iOg==");
    bk_proxy_wipe(&p);
    for (size_t i = 0; i < sizeof p; i++) {
        assert_int_equal(((const uint8_t *)&p)[i], 0);
    }
}

static void test_parse_refusals(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "https://proxy:3128",     /* TLS to the proxy is not spoken */
        "socks5://proxy:1080",    /* nor SOCKS */
        "http://",                /* no host */
        "http://proxy:99999",     /* port out of range */
        "http://proxy:0",         /* port 0 */
        "http://proxy:80/path",   /* a path */
        "http://proxy:80?x=1",    /* a query */
        "http://pro xy:80",       /* a space in the host */
        "http://:pass@proxy",     /* a password without a user */
        "http://a%zzb:c@proxy",   /* a bad escape */
        "http://a:b%0d%0aX@proxy" /* CR LF decoded into the header */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bk_proxy p;
        memset(&p, 0x55, sizeof p);
        bk_result r = bk_proxy_parse(&p, bad[i]);
        if (r != BK_ERR_INVALID_PROXY) {
            fail_msg("\"%s\": %d", bad[i], r);
        }
        assert_string_equal(p.authorization, ""); /* nothing of a refused URL stays */
    }
    char longest[BK_PROXY_CREDENTIALS_MAX + 32];
    memset(longest, 'u', sizeof longest);
    memcpy(longest, "http://", 7);
    /* user "u...u" of BK_PROXY_CREDENTIALS_MAX bytes: with its ':' one more than fits */
    snprintf(longest + 7 + BK_PROXY_CREDENTIALS_MAX, 16, "@proxy");
    bk_proxy p;
    assert_int_equal(bk_proxy_parse(&p, longest), BK_ERR_PROXY_CREDENTIALS_TOO_LONG);
    snprintf(longest + 7 + BK_PROXY_CREDENTIALS_MAX - 1, 16, "@proxy");
    assert_int_equal(bk_proxy_parse(&p, longest), BK_OK); /* exactly the maximum */
    assert_int_equal(bk_proxy_parse(NULL, "proxy"), BK_ERR_ARGUMENT);
}

static void test_no_proxy_rules(void **state) {
    (void)state;
    static const struct {
        const char *list;
        const char *host;
        uint16_t port;
        bool bypassed;
    } cases[] = {
        {NULL, "example.com", 443, false},
        {"", "example.com", 443, false},
        {"*", "anything.example", 443, true},
        {"example.com", "example.com", 443, true},
        {"example.com", "www.example.com", 443, true},
        {"example.com", "notexample.com", 443, false},
        {"example.com", "example.com.evil", 443, false},
        {".example.com", "example.com", 443, true},
        {".example.com", "a.b.example.com", 8443, true},
        {"EXAMPLE.com", "www.Example.COM", 443, true},
        {"example.com.", "www.example.com", 443, true},
        {"example.com", "www.example.com.", 443, true},
        {"a.test, example.com ,b.test", "example.com", 443, true},
        {"a.test,,b.test", "example.com", 443, false},
        {"example.com:443", "example.com", 443, true},
        {"example.com:443", "example.com", 8443, false},
        {"*.example.com", "www.example.com", 443, false}, /* only "*" alone is a wildcard */
        {"10.1.2.3", "10.1.2.3", 443, true},
        {"1.2.3", "10.1.2.3", 443, false}, /* no suffix match inside an address */
        {"10.0.0.0/8", "10.200.3.4", 443, true},
        {"10.0.0.0/8", "11.0.0.1", 443, false},
        {"192.168.1.0/24", "192.168.1.77", 443, true},
        {"192.168.1.0/24", "192.168.2.77", 443, false},
        {"0.0.0.0/0", "8.8.8.8", 443, true},
        {"10.0.0.0/8", "ten.example", 443, false},
        {"10.0.0.0/33", "10.0.0.1", 443, false}, /* no such network */
        {"::1", "[::1]", 443, true},
        {"[::1]", "[::1]", 443, true},
        {"[::1]:8443", "[::1]", 8443, true},
        {"[::1]:8443", "[::1]", 443, false},
        {"::1", "[::2]", 443, false},
        {"localhost", "127.0.0.1", 443, false}, /* names are not resolved */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = bk_proxy_bypassed(cases[i].list, cases[i].host, cases[i].port);
        if (got != cases[i].bypassed) {
            fail_msg("NO_PROXY=\"%s\" for %s:%u: %d", cases[i].list ? cases[i].list : "(null)",
                     cases[i].host, cases[i].port, got);
        }
    }
}

/* The tunnel's request and its answer read through a scripted stream. */
static bk_result tunnel(bk_script *s, const char *answer, size_t chunk, int *status) {
    bk_proxy p;
    assert_int_equal(bk_proxy_parse(&p, "http://alice:s3cret@proxy:3128"), BK_OK);
    bk_script_init(s, answer, strlen(answer));
    s->chunk = chunk;
    bk_stream stream = bk_script_stream(s);
    return bk_proxy_tunnel(&stream, &p, "management.azure.com", 443, status);
}

static void test_tunnel_request(void **state) {
    (void)state;
    static bk_script s;
    int status = -1;
    assert_int_equal(tunnel(&s, "HTTP/1.1 200 Connection established\r\n\r\n", 0, &status), BK_OK);
    assert_int_equal(status, 200);
    static const char want[] = "CONNECT management.azure.com:443 HTTP/1.1\r\n"
                               "Host: management.azure.com:443\r\n"
                               "Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n";
    assert_int_equal(s.sent_len, strlen(want));
    assert_memory_equal(s.sent, want, strlen(want));

    /* Without credentials, no Proxy-Authorization at all. */
    bk_proxy open_proxy;
    assert_int_equal(bk_proxy_parse(&open_proxy, "proxy:3128"), BK_OK);
    static const char answer[] = "HTTP/1.0 200 OK\r\n\r\n";
    bk_script_init(&s, answer, strlen(answer));
    bk_stream stream = bk_script_stream(&s);
    assert_int_equal(bk_proxy_tunnel(&stream, &open_proxy, "[::1]", 8443, &status), BK_OK);
    static const char plain[] = "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n";
    assert_int_equal(s.sent_len, strlen(plain));
    assert_memory_equal(s.sent, plain, strlen(plain));
}

static void test_tunnel_answers(void **state) {
    (void)state;
    static const struct {
        const char *answer;
        bk_result result;
        int status;
    } cases[] = {
        {"HTTP/1.1 200 Connection established\r\nProxy-agent: test\r\n\r\n", BK_OK, 200},
        {"HTTP/1.0 200\r\n\r\n", BK_OK, 200},
        {"HTTP/1.1 204 No Content\r\n\r\n", BK_OK, 204},
        {"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!", BK_ERR_PROXY_REFUSED, 403},
        {"HTTP/1.1 407 Proxy Authentication Required\r\n", BK_ERR_PROXY_REFUSED, 407},
        {"HTTP/1.1 502 Bad Gateway\r\n\r\n", BK_ERR_PROXY_REFUSED, 502},
        {"HTTP/1.1 100 Continue\r\n\r\n", BK_ERR_PROXY_REFUSED, 100},
        /* Not HTTP, or not as HTTP/1.1 writes it. */
        {"SSH-2.0-OpenSSH\r\n\r\n", BK_ERR_PROXY_ANSWER, 0},
        {"HTTP/1.1 20 OK\r\n\r\n", BK_ERR_PROXY_ANSWER, 0},
        {"HTTP/1.1 200OK\r\n\r\n", BK_ERR_PROXY_ANSWER, 0},
        {"HTTP/2 200\r\n\r\n", BK_ERR_PROXY_ANSWER, 0},
        {"HTTP/1.1 200 OK\n\n", BK_ERR_PROXY_ANSWER, 0},                  /* bare LF */
        {"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", BK_ERR_PROXY_ANSWER, 200}, /* bare CR */
        /* Bytes after the answer, before the client's hello: not a tunnel to a TLS server (seen
         * when they come with the answer; later ones are the TLS handshake's to refuse). */
        {"HTTP/1.1 200 OK\r\n\r\nX", BK_ERR_PROXY_ANSWER, 200},
        /* Cut short. */
        {"HTTP/1.1 200 OK\r\n", BK_ERR_STREAM_CLOSED, 200},
        {"", BK_ERR_STREAM_CLOSED, 0},
    };
    for (size_t chunk = 0; chunk <= 3; chunk++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            static bk_script s;
            int status = -1;
            bk_result r = tunnel(&s, cases[i].answer, chunk, &status);
            bk_result want = cases[i].result;
            size_t x = strlen(cases[i].answer) - 1; /* the extra byte, when there is one */
            if (chunk > 0 && strstr(cases[i].answer, "\r\n\r\nX") != NULL &&
                (x - 1) / chunk != x / chunk) {
                want = BK_OK;
            }
            if (r != want || status != cases[i].status) {
                fail_msg("answer %zu in pieces of %zu: result %d status %d", i, chunk, r, status);
            }
        }
    }
}

static void test_tunnel_limits(void **state) {
    (void)state;
    static char answer[BK_HTTP_HEADER_BYTES_MAX + 64];
    static bk_script s;
    int status = 0;
    /* A status line longer than the reader keeps. */
    memset(answer, 0, sizeof answer);
    strcpy(answer, "HTTP/1.1 200 ");
    memset(answer + 13, 'x', 400);
    strcat(answer, "\r\n\r\n");
    assert_int_equal(tunnel(&s, answer, 0, &status), BK_ERR_PROXY_ANSWER);
    /* Headers without end. */
    memset(answer, 0, sizeof answer);
    strcpy(answer, "HTTP/1.1 200 OK\r\n");
    for (size_t len = strlen(answer); len + 8 < sizeof answer - 1; len += 8) {
        memcpy(answer + len, "A: bcd\r\n", 8);
    }
    assert_int_equal(tunnel(&s, answer, 0, &status), BK_ERR_PROXY_ANSWER);
    /* A proxy that never answers: the stream's idle limit, not a hang. */
    bk_proxy p;
    assert_int_equal(bk_proxy_parse(&p, "proxy:3128"), BK_OK);
    bk_script_init(&s, "", 0);
    s.end_result = 0;
    bk_stream stream = bk_script_stream(&s);
    assert_int_equal(bk_proxy_tunnel(&stream, &p, "host", 443, &status), BK_ERR_STREAM_STALLED);
    /* A host too long for the request never leaves. */
    char host[BK_HOST_MAX * 3];
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    bk_script_init(&s, "", 0);
    stream = bk_script_stream(&s);
    assert_int_equal(bk_proxy_tunnel(&stream, &p, host, 443, &status), BK_ERR_REQUEST_OVERFLOW);
    assert_int_equal(s.sent_len, 0);
    assert_int_equal(bk_proxy_tunnel(NULL, &p, "host", 443, &status), BK_ERR_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),    cmocka_unit_test(test_parse_credentials),
        cmocka_unit_test(test_parse_refusals), cmocka_unit_test(test_no_proxy_rules),
        cmocka_unit_test(test_tunnel_request), cmocka_unit_test(test_tunnel_answers),
        cmocka_unit_test(test_tunnel_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
