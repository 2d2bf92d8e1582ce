/* SPDX-License-Identifier: MIT */
/* Managed identity credentials (bk_managed_identity.h). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_crypto.h"
#include "bk_json.h"
#include "bk_managed_identity.h"
#include "bk_platform.h"
#include "bk_writer.h"

static const char *const api_versions[] = {"2019-08-01", "2020-06-01", "2018-02-01"};

bk_result bk_managed_identity_init(bk_managed_identity *mi, bk_mi_kind kind, const char *url,
                                   const char *client_id) {
    if (mi == NULL || url == NULL || (unsigned)kind > BK_MI_IMDS) {
        return BK_ERR_ARGUMENT;
    }
    memset(mi, 0, sizeof *mi);
    mi->kind = kind;
    mi->client_id = client_id;
    mi->arc_token_dir = BK_ARC_TOKEN_DIR;
    bk_result r = bk_url_parse(&mi->endpoint, mi->path, sizeof mi->path, url, true);
    if (r == BK_OK && kind == BK_MI_IMDS && strcmp(mi->path, "/") == 0) {
        memcpy(mi->path, "/metadata/identity/oauth2/token", 32); /* an origin: IMDS's path */
    }
    if (r == BK_OK && client_id != NULL && !bk_guid_ok(client_id)) {
        r = BK_ERR_INVALID_CLIENT_ID;
    }
    return r;
}

/* The resource of a scope: "https://management.azure.com/.default" -> "https://...com/". */
static size_t resource_len(const char *scope) {
    size_t len = strlen(scope);
    static const char suffix[] = ".default";
    size_t n = sizeof suffix - 1;
    return len > n && strcmp(scope + len - n, suffix) == 0 ? len - n : len;
}

static bk_result mi_write(void *ctx, const bk_token_ask *ask, char *buf, size_t cap, size_t *len) {
    bk_managed_identity *mi = ctx;
    *len = 0;
    if (ask->scope == NULL || !bk_guid_ok(ask->client_request_id)) {
        return BK_ERR_ARGUMENT;
    }
    if (mi->kind == BK_MI_APP_SERVICE &&
        (mi->identity_header == NULL ||
         !bk_header_value_ok(mi->identity_header, strlen(mi->identity_header)))) {
        return BK_ERR_INVALID_SECRET;
    }
    bk_writer w;
    bk_writer_init(&w, buf, cap);
    bk_write_str(&w, "GET ");
    bk_write_str(&w, mi->path);
    bk_write_str(&w, "?api-version=");
    bk_write_str(&w, api_versions[mi->kind]);
    bk_write_str(&w, "&resource=");
    bk_write_pct(&w, ask->scope, resource_len(ask->scope));
    if (mi->client_id != NULL && mi->kind != BK_MI_ARC) {
        bk_write_str(&w, "&client_id=");
        bk_write_str(&w, mi->client_id);
    }
    bk_write_str(&w, " HTTP/1.1\r\n");
    bk_write_host_header(&w, &mi->endpoint);
    if (mi->kind == BK_MI_APP_SERVICE) {
        bk_write_str(&w, "X-IDENTITY-HEADER: ");
        bk_write_str(&w, mi->identity_header);
        bk_write_str(&w, "\r\n");
    } else {
        bk_write_str(&w, "Metadata: true\r\n");
    }
    if (mi->kind == BK_MI_ARC && mi->arc_challenged) {
        bk_write_str(&w, "Authorization: Basic ");
        bk_write_bytes(&w, mi->arc_secret, mi->arc_secret_len);
        bk_write_str(&w, "\r\n");
        /* One use: the agent writes a new file for every challenge. */
        bk_wipe(mi->arc_secret, sizeof mi->arc_secret);
        mi->arc_secret_len = 0;
        mi->arc_challenged = false;
    }
    bk_write_str(&w, "Accept: application/json\r\nUser-Agent: " BK_USER_AGENT
                     "\r\nx-ms-client-request-id: ");
    bk_write_str(&w, ask->client_request_id);
    bk_write_str(&w, "\r\n\r\n");
    bk_result r = bk_writer_finish(&w, len);
    if (r != BK_OK) {
        bk_wipe(buf, w.len);
    }
    return r;
}

bk_result bk_arc_challenge_path(const char *www_authenticate, const char *token_dir, char *path,
                                size_t cap) {
    const char *at = www_authenticate;
    while (*at == ' ') {
        at++;
    }
    if (!bk_ascii_prefix_ieq(at, "Basic realm=")) {
        return BK_ERR_ARC_CHALLENGE;
    }
    at += 12;
    bool quoted = *at == '"';
    at += quoted ? 1 : 0;
    size_t len = 0;
    while (at[len] != '\0' && at[len] != '"' && at[len] != ',' && at[len] != ' ') {
        len++;
    }
    size_t dir_len = strlen(token_dir);
    while (dir_len > 1 && token_dir[dir_len - 1] == '/') {
        dir_len--;
    }
    /* <dir>/<name>.key, name without '/', not "." or "..". */
    if (len >= cap || len <= dir_len + 1 + 4 || memcmp(at, token_dir, dir_len) != 0 ||
        at[dir_len] != '/' || memcmp(at + len - 4, ".key", 4) != 0) {
        return BK_ERR_ARC_CHALLENGE;
    }
    for (size_t i = dir_len + 1; i < len; i++) {
        unsigned char c = (unsigned char)at[i];
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
            return BK_ERR_ARC_CHALLENGE;
        }
    }
    if (at[dir_len + 1] == '.') {
        return BK_ERR_ARC_CHALLENGE; /* no hidden names, no ".." */
    }
    memcpy(path, at, len);
    path[len] = '\0';
    return BK_OK;
}

/* Arc's 401: the challenge file's contents, kept for the second request. */
static bk_result arc_challenge(bk_managed_identity *mi, const bk_http_response *resp) {
    char path[BK_HOST_MAX + BK_URL_PATH_MAX];
    if (mi->arc_challenged || resp->www_authenticate_cut || mi->read_arc_secret == NULL) {
        /* A second challenge before the first was answered would be a loop. */
        bk_wipe(mi->arc_secret, sizeof mi->arc_secret);
        mi->arc_secret_len = 0;
        mi->arc_challenged = false;
        return BK_ERR_ARC_CHALLENGE;
    }
    bk_result r =
        bk_arc_challenge_path(resp->www_authenticate, mi->arc_token_dir, path, sizeof path);
    if (r == BK_OK) {
        r = mi->read_arc_secret(mi->read_ctx, path, mi->arc_secret, sizeof mi->arc_secret,
                                &mi->arc_secret_len);
    }
    if (r == BK_OK &&
        (mi->arc_secret_len == 0 || !bk_header_value_ok(mi->arc_secret, mi->arc_secret_len))) {
        r = BK_ERR_ARC_CHALLENGE;
    }
    if (r != BK_OK) {
        bk_wipe(mi->arc_secret, sizeof mi->arc_secret);
        mi->arc_secret_len = 0;
        return r == BK_ERR_ARC_CHALLENGE ? r : BK_ERR_ARC_CHALLENGE;
    }
    mi->arc_challenged = true;
    return BK_ERR_AUTH_CHALLENGE;
}

static bk_result mi_read(void *ctx, const bk_http_response *resp, bk_json_token *json,
                         size_t max_json, bk_token *token, bk_entra_error *error) {
    bk_managed_identity *mi = ctx;
    if (resp->status == 200) {
        return bk_parse_mi_token(resp->body, resp->body_len, json, max_json, bk_wall_clock_s(),
                                 token);
    }
    if (mi->kind == BK_MI_ARC && resp->status == 401) {
        return arc_challenge(mi, resp);
    }
    if (bk_parse_mi_error(resp->body, resp->body_len, json, max_json, error) != BK_OK) {
        return BK_ERR_UNEXPECTED_STATUS;
    }
    return BK_ERR_AUTH_REFUSED;
}

bk_credential bk_managed_identity_credential(bk_managed_identity *mi) {
    static const char *const names[] = {"managed identity (App Service)",
                                        "managed identity (Azure Arc)", "managed identity (IMDS)"};
    bk_credential c = {
        names[mi->kind],       BK_PEER_AUTHORITY, &mi->endpoint, mi_write, mi_read, mi,
        mi->kind == BK_MI_IMDS};
    return c;
}
