/* SPDX-License-Identifier: MIT */
/* The mps2-an386 board's bring-up test, a firmware image with no C library I/O: the board's
 * platform (clocks, entropy, log), the semihosting it rests on, and a token request and a
 * regenerateKeys over canned answers, so that the core runs on the board's platform.
 * tests/target/test_board.sh drives it:
 *
 *     selftest [check]      the checks; "selftest: N passed, N failed", exit 0 when all pass
 *     selftest exit N       exits N: qemu-system-arm must exit N too
 *     selftest fault        an undefined instruction: the HardFault report, exit 134
 *     selftest echo ARGS    prints ARGS: the command line came through
 *     selftest cat FILE     prints a host file read through semihosting
 *     selftest stack BYTES  uses about BYTES of stack, then reports the deepest use */
#include <stdbool.h>
#include <string.h>

#include "bk_arm.h"
#include "bk_board.h"
#include "bk_entra.h"
#include "bk_http.h"
#include "bk_json.h"
#include "bk_platform.h"
#include "bk_semihost.h"

#define OUT BK_SEMIHOST_STDOUT

static unsigned passed, failed;

static void put(const char *text) {
    (void)bk_semihost_write_str(OUT, text);
}

static void put_u32(uint32_t value) {
    char text[12];
    put(bk_semihost_format_u32(text, value, 0));
}

static void check(bool ok, const char *what) {
    put(ok ? "ok   " : "FAIL ");
    put(what);
    put("\n");
    if (ok) {
        passed++;
    } else {
        failed++;
    }
}

static uint32_t parse_u32(const char *s) {
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10u + (uint32_t)(*s++ - '0');
    }
    return v;
}

/* --- the clocks --- */

static void check_clocks(void) {
    uint64_t t0 = bk_monotonic_ms();
    uint64_t host0 = bk_semihost_elapsed_ms();
    bk_sleep_ms(500);
    uint64_t t1 = bk_monotonic_ms();
    uint64_t host1 = bk_semihost_elapsed_ms();
    check(t1 - t0 >= 500 && t1 - t0 < 600, "bk_sleep_ms(500) waits 500 SysTick ms");
    /* SysTick counts the CPU clock QEMU models: were BK_BOARD_CPU_HZ wrong, 500 board ms would
     * not take about 500 of the host's (a loaded host can only stretch them). */
    uint32_t host_ms = (uint32_t)(host1 - host0);
    put("  host ms over the sleep: ");
    put_u32(host_ms);
    put("\n");
    check(host_ms >= 490 && host_ms <= 1500, "SysTick keeps the host's time");

    int64_t wall = bk_wall_clock_s();
    put("wall clock: ");
    put_u32((uint32_t)wall);
    put("\n");
    check(wall > 1700000000 && wall < 4102444800, "bk_wall_clock_s is a date after 2023");
}

/* --- entropy --- */

static void check_entropy(void) {
    uint8_t a[32], b[32], zero[32] = {0};
    bool ok = bk_entropy(a, sizeof a) == BK_OK && bk_entropy(b, sizeof b) == BK_OK;
    check(ok && memcmp(a, b, sizeof a) != 0 && memcmp(a, zero, sizeof a) != 0,
          "bk_entropy gives fresh bytes");
}

/* --- one token and one regenerateKeys, over canned answers --- */

/* The exchange bk_client runs, by hand: bk_client needs the crypto seam, and the bring-up test
 * stays free of mbedTLS (test_client runs the client itself on the board). */

#define TOKEN_OK                                                                                   \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 84\r\n\r\n"              \
    "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":"     \
    "\"tkn\"}"
#define NEW_KEYS_OK                                                                                \
    "HTTP/1.1 200 OK\r\nx-ms-request-id: 0c8c5a1e-0000-4000-8000-000000000001\r\n"                 \
    "Transfer-Encoding: chunked\r\n\r\n40\r\n"                                                     \
    "{\"accountName\":\"myacct\",\"primary\":\"AAAA==\",\"secondary\":\"CCCC==\"}\r\n0\r\n\r\n"

/* A peer that answers one canned response, a few bytes at a time, and keeps what was sent. */
typedef struct canned {
    const char *answer;
    size_t pos;
    char request[2048]; /* cut to fit */
    size_t request_len;
} canned;

static int32_t canned_send(void *ctx, const uint8_t *data, size_t len) {
    canned *c = ctx;
    size_t room = sizeof c->request - 1 - c->request_len;
    size_t n = len < room ? len : room;
    memcpy(&c->request[c->request_len], data, n);
    c->request_len += n;
    c->request[c->request_len] = '\0';
    return (int32_t)len;
}

static int32_t canned_recv(void *ctx, uint8_t *data, size_t len) {
    canned *c = ctx;
    size_t left = strlen(c->answer) - c->pos;
    if (left == 0) {
        return BK_ERR_STREAM_CLOSED;
    }
    size_t n = left < len ? left : len;
    n = n < 7 ? n : 7;
    memcpy(data, c->answer + c->pos, n);
    c->pos += n;
    return (int32_t)n;
}

/* Sends what buf holds to a fresh canned peer and reads its answer back into buf. */
static bk_result exchange(canned *peer, const char *answer, char *buf, size_t cap, size_t len,
                          bk_http_response *resp) {
    peer->answer = answer;
    bk_stream stream = {canned_send, canned_recv, peer};
    size_t sent = 0;
    bk_result r = bk_stream_send_all(&stream, (const uint8_t *)buf, len, &sent);
    return r != BK_OK ? r : bk_http_read_response(&stream, buf, cap, resp);
}

/* Large: kept off the stack. */
static canned authority_peer, arm_peer;
static char io[BK_IO_BUFFER_SIZE];
static bk_json_token tokens[BK_JSON_TOKENS_MAX];
static bk_http_response response;
static bk_token token;

/* An x-ms-client-request-id in a request: a UUID v4, drawn from bk_entropy. */
static bool sent_uuid_v4(const char *request) {
    const char *id = strstr(request, "x-ms-client-request-id: ");
    if (id == NULL) {
        return false;
    }
    id += strlen("x-ms-client-request-id: ");
    return strlen(id) >= 36 && id[8] == '-' && id[14] == '4' && id[36] == '\r';
}

static void check_exchange(void) {
    bk_endpoint authority, arm;
    char request_id[37];
    size_t len = 0;
    bool ok = bk_endpoint_parse(&authority, "https://login.microsoftonline.com") == BK_OK &&
              bk_endpoint_parse(&arm, "https://management.azure.com") == BK_OK &&
              bk_uuid4(request_id) == BK_OK;
    bk_token_request tr = {&authority,
                           "contoso.onmicrosoft.com",
                           "00000000-0000-0000-0000-00000000000a",
                           "s3cret",
                           NULL,
                           NULL,
                           BK_ARM_SCOPE,
                           request_id};
    ok = ok && bk_entra_write_token_request(&tr, io, sizeof io, &len) == BK_OK &&
         exchange(&authority_peer, TOKEN_OK, io, sizeof io, len, &response) == BK_OK &&
         response.status == 200 &&
         bk_parse_token(response.body, response.body_len, tokens, BK_JSON_TOKENS_MAX, &token) ==
             BK_OK;
    check(ok && strcmp(token.access_token, "tkn") == 0 && sent_uuid_v4(authority_peer.request),
          "token request written, answer read and parsed");

    bk_account_ref account = {"12345678-1234-1234-1234-123456789012", "my-rg", "myacct"};
    bk_arm_request req = {BK_ARM_REGENERATE_KEY, BK_KEY_SECONDARY,       &arm,      &account,
                          token.access_token,    token.access_token_len, request_id};
    bk_account_keys keys;
    ok = bk_uuid4(request_id) == BK_OK &&
         bk_arm_write_request(&req, io, sizeof io, &len) == BK_OK &&
         exchange(&arm_peer, NEW_KEYS_OK, io, sizeof io, len, &response) == BK_OK &&
         response.status == 200 &&
         bk_parse_account_keys(response.body, response.body_len, tokens, BK_JSON_TOKENS_MAX,
                               &keys) == BK_OK;
    check(ok && strcmp(keys.secondary, "CCCC==") == 0 &&
              strcmp(response.request_id, "0c8c5a1e-0000-4000-8000-000000000001") == 0 &&
              strstr(arm_peer.request, "{\"keyName\":\"Secondary\"}") != NULL &&
              sent_uuid_v4(arm_peer.request),
          "regenerateKeys written, chunked answer read and parsed");
}

/* --- commands --- */

static int run_checks(void) {
    check_clocks();
    check_entropy();
    check_exchange();
    bk_log(BK_LOG_WARN, "selftest log line\n(a control byte)");
    bk_log(BK_LOG_DEBUG, "selftest debug line: dropped at the default level");
    put("selftest: ");
    put_u32(passed);
    put(" passed, ");
    put_u32(failed);
    put(" failed\n");
    return failed == 0 ? 0 : 1;
}

/* Uses about `bytes` of stack, one 256-byte frame at a time. */
__attribute__((noinline)) static uint32_t use_stack(uint32_t bytes) {
    volatile uint8_t frame[256];
    frame[0] = (uint8_t)bytes;
    frame[255] = 0;
    if (bytes <= sizeof frame) {
        return frame[0];
    }
    return use_stack(bytes - (uint32_t)sizeof frame) + frame[255];
}

int main(void) {
    static char line[512];
    char *argv[16];
    bk_board_start();
    int argc = bk_semihost_args(line, sizeof line, argv, 16);
    const char *cmd = argc > 1 ? argv[1] : "check";
    int status = 0;
    if (strcmp(cmd, "check") == 0) {
        status = run_checks();
    } else if (strcmp(cmd, "exit") == 0 && argc == 3) {
        bk_board_exit((int)parse_u32(argv[2]));
    } else if (strcmp(cmd, "fault") == 0) {
        __asm__ volatile("udf #0");
    } else if (strcmp(cmd, "echo") == 0) {
        for (int i = 2; i < argc; i++) {
            put(argv[i]);
            put(i + 1 < argc ? " " : "\n");
        }
    } else if (strcmp(cmd, "cat") == 0 && argc == 3) {
        static char text[4096];
        int32_t len = bk_semihost_read_file(argv[2], text, sizeof text);
        if (len < 0) {
            put("cannot read the file\n");
            status = 1;
        } else {
            (void)bk_semihost_write(OUT, text, (size_t)len);
        }
    } else if (strcmp(cmd, "stack") == 0 && argc == 3) {
        (void)use_stack(parse_u32(argv[2]));
    } else {
        put("usage: selftest [check | exit N | fault | echo ARGS | cat FILE | stack BYTES]\n");
        status = 2;
    }
    bk_board_stack_report();
    return status;
}
