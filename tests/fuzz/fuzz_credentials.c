/* SPDX-License-Identifier: MIT */
/* libFuzzer: what the credentials read from outside before they write a token request.
 *   byte 0 % 3 == 0: Azure Arc's 401 challenge (`Basic realm=<file>`, bk_arc_challenge_path)
 *       up to the first newline, the challenge file's contents after it; through the managed
 *       identity credential: the answer to the challenge is a well-formed request, and the path
 *       read lies directly in the token directory.
 *   byte 0 % 3 == 1: a CAE challenge's claims (bk_entra_claims, the client's base64 decoding of
 *       them) going into a token request.
 *   byte 0 % 3 == 2: a workload identity's federated token (a JWT, sent as it is as the client
 *       assertion) through the Entra credential's token request.
 * Oracle: every request written has a clean head (printable lines ended by CRLF) and a body as
 * long as its Content-Length says, with no line end in it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_crypto.h"
#include "bk_entra.h"
#include "bk_managed_identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_MAX  8192
#define TOKEN_DIR BK_ARC_TOKEN_DIR
#define ARC_URL   "http://127.0.0.1:40342/metadata/identity/oauth2/token"

static char text[TEXT_MAX + 1];
static char request[BK_IO_BUFFER_SIZE];
static char assertion[BK_TOKEN_MAX + 1];
static const char *secret_text;

/* The request being checked, shown when a check fails. */
static const char *shown;

static void check_at(bool ok, const char *what, int line) {
    if (!ok) {
        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
        if (shown != NULL) {
            fprintf(stderr, "request:\n%s\n", shown);
        }
        abort();
    }
}
#define check(ok) check_at((ok), #ok, __LINE__)

/* A request: a clean head (lines ended by CRLF, no other control character; header values may
 * hold a tab and obs-text), then exactly Content-Length bytes of body (none without one) with
 * no line end. The buffer was zeroed before it was written: the request holds no NUL. */
static void request_sane(const char *req, size_t len) {
    shown = req;
    check(len < sizeof request && strlen(req) == len);
    const char *end = strstr(req, "\r\n\r\n");
    check(end != NULL);
    size_t head = (size_t)(end - req) + 4;
    bool first = true;
    unsigned spaces = 0;
    for (size_t i = 0; i + 2 < head; i++) {
        unsigned char c = (unsigned char)req[i];
        if (c == '\r') {
            check(req[i + 1] == '\n');
            check(!first || spaces == 2);
            first = false;
            i++;
            continue;
        }
        check((c >= 0x20 && c != 0x7f && (c < 0x80 || !first)) || (c == '\t' && !first));
        spaces += first && c == ' ';
    }
    const char *cl = strstr(req, "\r\nContent-Length: ");
    size_t body = 0;
    if (cl != NULL && cl < end) {
        for (const char *p = cl + 18; *p >= '0' && *p <= '9'; p++) {
            body = body * 10 + (size_t)(*p - '0');
        }
    }
    check(head + body == len);
    for (size_t i = head; i < len; i++) {
        unsigned char c = (unsigned char)req[i];
        check(c > 0x20 && c < 0x7f);
    }
}

static bk_result read_secret(void *ctx, const char *path, char *buf, size_t cap, size_t *len) {
    (void)ctx;
    /* Directly in the token directory, named *.key, not hidden. */
    size_t dir = strlen(TOKEN_DIR);
    size_t n = strlen(path);
    check(strncmp(path, TOKEN_DIR "/", dir + 1) == 0 && n > dir + 5);
    check(strchr(path + dir + 1, '/') == NULL && path[dir + 1] != '.');
    check(strcmp(path + n - 4, ".key") == 0);
    size_t s = strlen(secret_text);
    if (s >= cap) {
        return BK_ERR_ARC_CHALLENGE;
    }
    memcpy(buf, secret_text, s + 1);
    *len = s;
    return BK_OK;
}

static bk_managed_identity mi;
static bk_http_response resp;
static bk_token token;
static bk_entra_error entra_error;
static bk_json_token json[16];

static void fuzz_arc(void) {
    char *nl = strchr(text, '\n');
    secret_text = "0123456789abcdef0123456789abcdef";
    if (nl != NULL) {
        *nl = '\0';
        secret_text = nl + 1;
    }
    char path[BK_HOST_MAX + BK_URL_PATH_MAX];
    if (bk_arc_challenge_path(text, TOKEN_DIR, path, sizeof path) == BK_OK) {
        check(read_secret(NULL, path, request, sizeof request, &(size_t){0}) == BK_OK ||
              strlen(secret_text) >= sizeof request);
    }
    /* A trailing slash on the directory changes nothing. */
    (void)bk_arc_challenge_path(text, TOKEN_DIR "/", path, sizeof path);

    check(bk_managed_identity_init(&mi, BK_MI_ARC, ARC_URL, NULL) == BK_OK);
    mi.read_arc_secret = read_secret;
    bk_credential cred = bk_managed_identity_credential(&mi);
    bk_http_response_reset(&resp);
    resp.status = 401;
    size_t len = strlen(text);
    if (len > BK_WWW_AUTHENTICATE_MAX) {
        len = BK_WWW_AUTHENTICATE_MAX;
        resp.www_authenticate_cut = true;
    }
    memcpy(resp.www_authenticate, text, len);
    resp.www_authenticate[len] = '\0';
    bk_result r = cred.read_answer(cred.ctx, &resp, json, 16, &token, &entra_error);
    if (r != BK_ERR_AUTH_CHALLENGE) {
        check(r == BK_ERR_ARC_CHALLENGE);
        return;
    }
    bk_token_ask ask = {BK_ARM_SCOPE, NULL, "0a1b2c3d-0000-4000-8000-000000000000", 1700000000, 0};
    size_t out_len = 0;
    memset(request, 0, sizeof request);
    r = cred.write_request(cred.ctx, &ask, request, sizeof request, &out_len);
    if (r == BK_OK) {
        request_sane(request, out_len);
        check(strstr(request, "\r\nAuthorization: Basic ") != NULL);
    }
    shown = NULL;
    /* A second challenge before the first was answered is refused. */
    check(bk_managed_identity_init(&mi, BK_MI_ARC, ARC_URL, NULL) == BK_OK);
    mi.read_arc_secret = read_secret;
    check(cred.read_answer(cred.ctx, &resp, json, 16, &token, &entra_error) ==
          BK_ERR_AUTH_CHALLENGE);
    check(cred.read_answer(cred.ctx, &resp, json, 16, &token, &entra_error) ==
          BK_ERR_ARC_CHALLENGE);
}

static bk_endpoint authority;
static bk_entra_app app;
static const char *federated;

static bk_result federated_token(void *ctx, const char *audience, int64_t now_s, char *buf,
                                 size_t cap, size_t *len) {
    (void)ctx;
    (void)audience;
    (void)now_s;
    size_t n = strlen(federated);
    if (n >= cap) {
        return BK_ERR_REQUEST_OVERFLOW;
    }
    memcpy(buf, federated, n + 1);
    *len = n;
    return BK_OK;
}

static void token_request(const char *claims, const char *token_text) {
    check(bk_endpoint_parse(&authority, "https://login.microsoftonline.com") == BK_OK);
    app = (bk_entra_app){.authority = &authority,
                         .tenant_id = "72f988bf-86f1-41af-91ab-2d7cd011db47",
                         .client_id = "00000000-0000-0000-0000-000000000001"};
    if (token_text != NULL) {
        federated = token_text;
        app.assertion = federated_token;
        app.assertion_buf = assertion;
        app.assertion_cap = sizeof assertion;
        app.name = "workload identity";
    } else {
        app.client_secret = "secret";
    }
    bk_credential cred = bk_entra_credential(&app);
    bk_token_ask ask = {BK_ARM_SCOPE, claims, "0a1b2c3d-0000-4000-8000-000000000000", 1700000000,
                        0};
    size_t len = 0;
    memset(request, 0, sizeof request);
    if (cred.write_request(cred.ctx, &ask, request, sizeof request, &len) == BK_OK) {
        request_sane(request, len);
        check(strstr(request, "&claims=") != NULL);
        check(token_text == NULL || strstr(request, "&client_assertion=") != NULL);
    }
    shown = NULL;
    for (size_t i = 0; i < sizeof assertion; i++) {
        check(assertion[i] == '\0'); /* wiped after each request */
    }
}

static void fuzz_claims(void) {
    static char merged[BK_WWW_AUTHENTICATE_MAX + 64];
    if (bk_entra_claims(text, merged, sizeof merged) == BK_OK) {
        check(strlen(merged) < sizeof merged);
    } else {
        check(merged[0] == '\0');
    }
    /* A small buffer: an error, never a cut claims parameter. */
    char small[48];
    if (bk_entra_claims(text, small, sizeof small) == BK_OK) {
        check(strlen(small) < sizeof small);
    }
    token_request(text, NULL);
    /* The claims as the client decodes them from a challenge (base64, either alphabet). */
    static uint8_t decoded[BK_WWW_AUTHENTICATE_MAX + 1];
    size_t n = 0;
    if (bk_base64_decode(text, strlen(text), decoded, sizeof decoded - 1, &n) == BK_OK) {
        check(n < sizeof decoded);
    }
}

static void fuzz_federated(void) {
    token_request(NULL, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) {
        return 0;
    }
    size_t len = size - 1 < TEXT_MAX ? size - 1 : TEXT_MAX;
    memcpy(text, data + 1, len);
    text[len] = '\0';
    switch (data[0] % 3u) {
    case 0:
        fuzz_arc();
        break;
    case 1:
        fuzz_claims();
        break;
    default:
        fuzz_federated();
        break;
    }
    return 0;
}
