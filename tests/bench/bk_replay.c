/* SPDX-License-Identifier: MIT */
/* make bench: the core's own work for one `batchkey regenerate` (the token request, then
 * regenerateKeys) without TLS or network, for callgrind to count. The client runs over scripted
 * streams (tests/support) that replay answers captured from the emulator, ITERATIONS times; the
 * bench runs it at two counts and takes the difference, so that start-up cancels out.
 *
 * Usage: bk_replay ITERATIONS TOKEN-ANSWER REGENERATE-ANSWER   (raw HTTP/1.1 responses) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_client.h"
#include "bk_entra.h"
#include "bk_test_support.h"

typedef struct canned {
    char *data;
    size_t len;
} canned;

static canned answers[BK_PEER_COUNT];
static bk_script scripts[BK_PEER_COUNT];
static size_t sent_bytes[BK_PEER_COUNT];

static int load(const char *path, canned *out) {
    FILE *f = fopen(path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0) {
        return -1;
    }
    long size = ftell(f);
    if (size <= 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    out->len = (size_t)size;
    out->data = malloc(out->len);
    int ok = out->data != NULL && fread(out->data, 1, out->len, f) == out->len;
    fclose(f);
    return ok ? 0 : -1;
}

/* bk_script_init clears the script's 64 KiB send buffer: done once, not on every open, so that
 * the count is the client's work rather than the test stream's. */
static bk_result replay_open(void *ctx, bk_peer peer, const bk_endpoint *endpoint,
                             uint64_t deadline_ms, bk_stream *out) {
    (void)ctx;
    (void)endpoint;
    (void)deadline_ms;
    if (answers[peer].data == NULL) {
        return BK_ERR_CONNECT;
    }
    scripts[peer].pos = 0;
    scripts[peer].sent_len = 0;
    *out = bk_script_stream(&scripts[peer]);
    return BK_OK;
}

static void replay_close(void *ctx, bk_peer peer) {
    (void)ctx;
    sent_bytes[peer] = scripts[peer].sent_len;
}

static bk_client client;

static bk_result regenerate_once(void) {
    bk_connector connector = {replay_open, replay_close, NULL, NULL};
    bk_client_init(&client, connector);
    bk_result r = bk_endpoint_parse(&client.arm, "https://management.azure.com");
    if (r == BK_OK) {
        r = bk_endpoint_parse(&client.authority, "https://login.microsoftonline.com");
    }
    if (r != BK_OK) {
        return r;
    }
    bk_entra_app app = {.authority = &client.authority,
                        .tenant_id = "5f3c8a21-7d4e-4b9a-a6c2-91e0d4b7f3a8",
                        .client_id = "c1a7e9d2-4b3f-4e58-9a06-2d8b5f1c7e40",
                        .client_secret = "emulator-secret"};
    client.credential = bk_entra_credential(&app);
    client.account =
        (bk_account_ref){"2b9e4f17-83c6-4d0a-b5e1-7a4c9d2f6e83", "batchkey-rg", "batchkeyacct"};
    bk_client_set_deadline(&client, 60000);
    bk_account_keys keys;
    r = bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys);
    bk_client_close(&client);
    return r;
}

int main(int argc, char **argv) {
    if (argc != 4 || atol(argv[1]) <= 0) {
        fprintf(stderr, "usage: %s ITERATIONS TOKEN-ANSWER REGENERATE-ANSWER\n", argv[0]);
        return 2;
    }
    if (load(argv[2], &answers[BK_PEER_AUTHORITY]) != 0 ||
        load(argv[3], &answers[BK_PEER_ARM]) != 0) {
        fprintf(stderr, "bk_replay: cannot read %s or %s\n", argv[2], argv[3]);
        return 1;
    }
    for (int p = 0; p < BK_PEER_COUNT; p++) {
        bk_script_init(&scripts[p], answers[p].data, answers[p].len);
    }
    long iterations = atol(argv[1]);
    for (long i = 0; i < iterations; i++) {
        bk_result r = regenerate_once();
        if (r != BK_OK) {
            fprintf(stderr, "bk_replay: regenerate %ld: %s\n", i + 1, bk_strerror(r));
            return 1;
        }
    }
    printf("%ld regenerates; request bytes: token %zu, regenerateKeys %zu\n", iterations,
           sent_bytes[BK_PEER_AUTHORITY], sent_bytes[BK_PEER_ARM]);
    return 0;
}
