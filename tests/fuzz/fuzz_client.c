/* SPDX-License-Identifier: MIT */
/* libFuzzer: whole calls of the client (bk_client.h) over a scripted connector, with the service's
 * answers from the input: retries, Retry-After, keep-alive, CloudError, and the CAE challenge
 * (`WWW-Authenticate: Bearer ... claims="<base64>"`, decoded in core/bk_client.c and merged into
 * a fresh token request). Byte 0: the call (low 2 bits: GET account, listKeys, regenerateKeys,
 * the data plane proof), bits 2-5 the size of the pieces answers arrive in (0: as much as asked).
 * The rest: the answers of ARM (the data plane's for the proof), one for each request in turn,
 * separated by four NUL bytes, the last one repeated; the token endpoint always grants a token.
 * Oracles: a call ends (the test clock bounds its waits), every connection it opened is closed,
 * and regenerateKeys goes out more than once only after a 429 (or a 408 with Retry-After). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_client.h"
#include "bk_entra.h"
#include "bk_test_support.h"
#include "bk_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ANSWERS_MAX 6
#define SUB         "12345678-1234-1234-1234-123456789012"

static const char token_ok[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 84\r\n"
    "\r\n{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":"
    "\"tkn\"}";

typedef struct piece {
    const uint8_t *data;
    size_t len;
} piece;

typedef struct peer_state {
    bool open;
    bool answered; /* recv was called since the last request began */
    const uint8_t *answer;
    size_t len;
    size_t pos;
    unsigned requests;
} peer_state;

static struct {
    piece answers[ANSWERS_MAX];
    size_t answer_count;
    size_t chunk;
    peer_state peers[BK_PEER_COUNT];
    unsigned opens;
    unsigned closes;
    unsigned regenerates;
} F;

static bk_peer peer_ids[BK_PEER_COUNT] = {BK_PEER_AUTHORITY, BK_PEER_ARM, BK_PEER_BATCH};
static bk_client client;
static bk_entra_app app;

static bool contains(const uint8_t *data, size_t len, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(data + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

static int32_t fake_send(void *ctx, const uint8_t *data, size_t len) {
    bk_peer peer = *(const bk_peer *)ctx;
    peer_state *p = &F.peers[peer];
    check(p->open);
    if (p->answered || p->answer == NULL) {
        /* The first bytes of a new request: its answer is the next one. */
        p->answered = false;
        p->pos = 0;
        if (peer == BK_PEER_AUTHORITY) {
            p->answer = (const uint8_t *)token_ok;
            p->len = sizeof token_ok - 1;
        } else {
            size_t i = p->requests < F.answer_count ? p->requests : F.answer_count - 1;
            p->answer = F.answers[i].data;
            p->len = F.answers[i].len;
        }
        p->requests++;
        size_t line = 0;
        while (line < len && data[line] != '\n') {
            line++;
        }
        F.regenerates += contains(data, line, "/regenerateKeys?");
    }
    return (int32_t)len;
}

static int32_t fake_recv(void *ctx, uint8_t *data, size_t len) {
    bk_peer peer = *(const bk_peer *)ctx;
    peer_state *p = &F.peers[peer];
    check(p->open && p->answer != NULL);
    p->answered = true;
    if (p->pos >= p->len) {
        return BK_ERR_STREAM_CLOSED;
    }
    size_t n = p->len - p->pos;
    if (F.chunk != 0 && n > F.chunk) {
        n = F.chunk;
    }
    if (n > len) {
        n = len;
    }
    memcpy(data, p->answer + p->pos, n);
    p->pos += n;
    bk_test_now_ms += 1;
    return (int32_t)n;
}

static bk_result fake_open(void *ctx, bk_peer peer, const bk_endpoint *ep, uint64_t deadline_ms,
                           bk_stream *out) {
    (void)ctx;
    (void)ep;
    (void)deadline_ms;
    check(peer < BK_PEER_COUNT && !F.peers[peer].open);
    F.peers[peer].open = true;
    F.peers[peer].answer = NULL;
    F.peers[peer].answered = false;
    F.opens++;
    bk_stream s = {fake_send, fake_recv, &peer_ids[peer]};
    *out = s;
    return BK_OK;
}

static void fake_close(void *ctx, bk_peer peer) {
    (void)ctx;
    check(peer < BK_PEER_COUNT && F.peers[peer].open);
    F.peers[peer].open = false;
    F.closes++;
}

/* The status an answer gives, read as the client reads it. */
static int answer_status(const piece *a, bool *retry_after) {
    static bk_script script;
    static char io[BK_IO_BUFFER_SIZE];
    bk_script_init(&script, a->data, a->len);
    bk_stream s = bk_script_stream(&script);
    bk_http_response resp;
    if (bk_http_read_response(&s, io, sizeof io, &resp) != BK_OK) {
        return 0;
    }
    *retry_after = bk_http_retry_after_ms(&resp, bk_test_wall_s) >= 0;
    return resp.status;
}

static void split_answers(const uint8_t *data, size_t size) {
    F.answer_count = 0;
    size_t start = 0;
    for (size_t i = 0; i + 4 <= size && F.answer_count + 1 < ANSWERS_MAX; i++) {
        if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 0 && data[i + 3] == 0) {
            F.answers[F.answer_count++] = (piece){data + start, i - start};
            i += 3;
            start = i + 1;
        }
    }
    F.answers[F.answer_count++] = (piece){data + start, size - start};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) {
        return 0;
    }
    memset(&F, 0, sizeof F);
    unsigned call = data[0] & 3u;
    F.chunk = (data[0] >> 2) & 0x0fu;
    split_answers(data + 1, size - 1);
    bk_test_entropy_reset();
    bk_test_now_ms = 1000;
    bk_test_wall_s = 1700000000;

    bk_connector conn = {fake_open, fake_close, NULL, NULL};
    bk_client_init(&client, conn);
    check(bk_endpoint_parse(&client.arm, "https://management.azure.com") == BK_OK);
    check(bk_endpoint_parse(&client.authority, "https://login.microsoftonline.com") == BK_OK);
    check(bk_endpoint_parse(&client.batch, "https://myacct.westeurope.batch.azure.com") == BK_OK);
    app = (bk_entra_app){.authority = &client.authority,
                         .tenant_id = "contoso.onmicrosoft.com",
                         .client_id = "00000000-0000-0000-0000-00000000000a",
                         .client_secret = "s3cret"};
    client.credential = bk_entra_credential(&app);
    client.account = (bk_account_ref){SUB, "my-rg", "myacct"};
    bk_client_set_deadline(&client, 120000);

    static bk_batch_account account;
    static bk_account_keys keys;
    bk_result r;
    switch (call) {
    case 0:
        r = bk_client_get_account(&client, &account);
        break;
    case 1:
        r = bk_client_list_keys(&client, &keys);
        break;
    case 2:
        r = bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys);
        break;
    default:
        r = bk_client_prove_key(
            &client, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=", BK_BATCH_API_VERSION);
        break;
    }
    if (r == BK_OK && (call == 1 || call == 2)) {
        check(keys.primary[0] != '\0' && keys.secondary[0] != '\0');
    }
    if (F.regenerates > 1) {
        /* Sent again only after an answer that said the service did not act. */
        for (size_t i = 0; i + 1 < F.regenerates; i++) {
            bool retry_after = false;
            size_t a = i < F.answer_count ? i : F.answer_count - 1;
            int status = answer_status(&F.answers[a], &retry_after);
            check(status == 429 || (status == 408 && retry_after));
        }
    }
    bk_client_close(&client);
    for (int p = 0; p < BK_PEER_COUNT; p++) {
        check(!F.peers[p].open);
    }
    check(F.opens == F.closes);
    return 0;
}
