/* SPDX-License-Identifier: MIT */
/* The device code flow and the refresh token it leaves (bk_device_code.h). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_crypto.h"
#include "bk_device_code.h"
#include "bk_entra.h"
#include "bk_json.h"
#include "bk_store.h"
#include "bk_writer.h"

#define SLOW_DOWN_S 5 /* what slow_down adds to the interval (RFC 8628 3.5) */

void bk_user_sign_in_init(bk_user_sign_in *u, const bk_endpoint *authority, const char *tenant_id,
                          const char *client_id, const char *scope, bk_store store) {
    memset(u, 0, sizeof *u);
    u->authority = authority;
    u->tenant_id = tenant_id;
    u->client_id = client_id;
    u->scope = scope;
    u->store = store;
}

void bk_user_sign_in_wipe(bk_user_sign_in *u) {
    bk_wipe(u->device_code, sizeof u->device_code);
    bk_wipe(u->refresh_token, sizeof u->refresh_token);
    bk_wipe(u->record, sizeof u->record);
    u->refresh_token_len = 0;
    u->polling = false;
}

/* --- the record: "batchkey-refresh-token 1", tenant, client, token, then a CRC-32 line --- */

static bk_result save_refresh_token(bk_user_sign_in *u) {
    bk_writer w;
    bk_writer_init(&w, (char *)u->record, sizeof u->record);
    bk_write_str(&w, "batchkey-refresh-token 1\ntenant ");
    bk_write_str(&w, u->tenant_id);
    bk_write_str(&w, "\nclient ");
    bk_write_str(&w, u->client_id);
    bk_write_str(&w, "\ntoken ");
    bk_write_bytes(&w, u->refresh_token, u->refresh_token_len);
    bk_write_str(&w, "\n");
    uint32_t crc = w.overflow ? 0 : bk_crc32(0, u->record, w.len);
    static const char hex[] = "0123456789abcdef";
    char line[16] = "crc32 ";
    for (int i = 0; i < 8; i++) {
        line[6 + i] = hex[(crc >> (28 - 4 * i)) & 0xfu];
    }
    line[14] = '\n';
    bk_write_bytes(&w, line, 15);
    size_t len = 0;
    bk_result r = bk_writer_finish(&w, &len);
    if (r == BK_OK) {
        r = u->store.save(u->store.ctx, BK_REFRESH_TOKEN_RECORD, u->record, len);
    } else {
        r = BK_ERR_STORE_TOO_LARGE;
    }
    bk_wipe(u->record, sizeof u->record);
    return r;
}

/* The value of line "name value\n" at *pos, into [*value, *value + *len). */
static bool next_line(const char *text, size_t end, size_t *pos, const char *name,
                      const char **value, size_t *len) {
    size_t n = strlen(name);
    if (*pos + n + 1 > end || memcmp(text + *pos, name, n) != 0 || text[*pos + n] != ' ') {
        return false;
    }
    size_t start = *pos + n + 1;
    size_t stop = start;
    while (stop < end && text[stop] != '\n') {
        unsigned char c = (unsigned char)text[stop];
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
        stop++;
    }
    if (stop == end || stop == start) {
        return false;
    }
    *value = text + start;
    *len = stop - start;
    *pos = stop + 1;
    return true;
}

static bool same_text(const char *value, size_t len, const char *want) {
    return bk_ascii_ieq(value, len, want);
}

bk_result bk_user_sign_in_load(bk_user_sign_in *u) {
    size_t len = 0;
    bk_result r =
        u->store.load(u->store.ctx, BK_REFRESH_TOKEN_RECORD, u->record, sizeof u->record, &len);
    const char *text = (const char *)u->record;
    const size_t crc_line = 15;
    if (r == BK_OK && (len < crc_line || memcmp(text + len - crc_line, "crc32 ", 6) != 0 ||
                       text[len - 1] != '\n')) {
        r = BK_ERR_STATE_CORRUPT;
    }
    if (r == BK_OK) {
        uint32_t stated = 0;
        for (size_t i = len - crc_line + 6; i < len - 1 && r == BK_OK; i++) {
            int digit = bk_ascii_hex_value(text[i]);
            r = digit < 0 ? BK_ERR_STATE_CORRUPT : BK_OK;
            stated = stated << 4 | (uint32_t)(digit < 0 ? 0 : digit);
        }
        if (r == BK_OK && bk_crc32(0, u->record, len - crc_line) != stated) {
            r = BK_ERR_STATE_CORRUPT;
        }
    }
    size_t pos = 0;
    const char *v = NULL;
    size_t n = 0;
    if (r == BK_OK) {
        static const char magic[] = "batchkey-refresh-token 1\n";
        r = len > sizeof magic && memcmp(text, magic, sizeof magic - 1) == 0 ? BK_OK
                                                                             : BK_ERR_STATE_CORRUPT;
        pos = sizeof magic - 1;
    }
    size_t end = len - crc_line;
    if (r == BK_OK) {
        bool ok = next_line(text, end, &pos, "tenant", &v, &n);
        r = !ok                             ? BK_ERR_STATE_CORRUPT
            : same_text(v, n, u->tenant_id) ? BK_OK
                                            : BK_ERR_STATE_FOREIGN;
    }
    if (r == BK_OK) {
        bool ok = next_line(text, end, &pos, "client", &v, &n);
        r = !ok                             ? BK_ERR_STATE_CORRUPT
            : same_text(v, n, u->client_id) ? BK_OK
                                            : BK_ERR_STATE_FOREIGN;
    }
    if (r == BK_OK) {
        bool ok = next_line(text, end, &pos, "token", &v, &n) && pos == end &&
                  n < sizeof u->refresh_token;
        r = ok ? BK_OK : BK_ERR_STATE_CORRUPT;
    }
    if (r == BK_OK) {
        memcpy(u->refresh_token, v, n);
        u->refresh_token[n] = '\0';
        u->refresh_token_len = n;
    }
    bk_wipe(u->record, sizeof u->record);
    return r;
}

/* --- requests --- */

typedef struct form {
    const bk_user_sign_in *u;
    const char *grant; /* NULL: the devicecode request */
} form;

static void write_form(bk_writer *w, const void *ctx) {
    const form *f = ctx;
    const bk_user_sign_in *u = f->u;
    bk_write_str(w, "client_id=");
    bk_write_str(w, u->client_id); /* a GUID */
    if (f->grant == NULL) {
        bk_write_str(w, "&scope=");
        bk_write_pct(w, u->scope, strlen(u->scope));
        bk_write_str(w, "%20offline_access");
        return;
    }
    bk_write_str(w, "&grant_type=");
    bk_write_pct(w, f->grant, strlen(f->grant));
    if (u->polling) {
        bk_write_str(w, "&device_code=");
        bk_write_pct(w, u->device_code, strlen(u->device_code));
    } else {
        bk_write_str(w, "&refresh_token=");
        bk_write_pct(w, u->refresh_token, u->refresh_token_len);
        bk_write_str(w, "&scope=");
        bk_write_pct(w, u->scope, strlen(u->scope));
        bk_write_str(w, "%20offline_access");
    }
}

static bk_result check_sign_in(const bk_user_sign_in *u) {
    if (!bk_guid_ok(u->client_id) || u->scope == NULL ||
        !bk_header_value_ok(u->scope, strlen(u->scope))) {
        return BK_ERR_ARGUMENT;
    }
    return BK_OK;
}

static bk_result device_code_write(void *ctx, const bk_token_ask *ask, char *buf, size_t cap,
                                   size_t *len) {
    bk_user_sign_in *u = ctx;
    bk_result r = check_sign_in(u);
    if (r != BK_OK) {
        return r;
    }
    if (!u->polling) {
        form f = {u, NULL};
        return bk_entra_write_form_post(u->authority, u->tenant_id, "devicecode",
                                        ask->client_request_id, write_form, &f, buf, cap, len);
    }
    /* The interval between polls, within the command's time. */
    uint64_t wait_ms = (uint64_t)u->interval_s * 1000u;
    uint64_t now = bk_monotonic_ms();
    if (ask->deadline_ms != 0 && now + wait_ms >= ask->deadline_ms) {
        return BK_ERR_TIMEOUT;
    }
    bk_sleep_ms((uint32_t)wait_ms);
    form f = {u, "urn:ietf:params:oauth:grant-type:device_code"};
    return bk_entra_write_form_post(u->authority, u->tenant_id, "token", ask->client_request_id,
                                    write_form, &f, buf, cap, len);
}

/* A token answer: the access token, and the refresh token that replaces the saved one. */
static bk_result take_tokens(bk_user_sign_in *u, const bk_http_response *resp, bk_json_token *json,
                             size_t max_json, bk_token *token) {
    bk_result r = bk_parse_token(resp->body, resp->body_len, json, max_json, token);
    if (r == BK_OK) {
        r = bk_parse_refresh_token(resp->body, resp->body_len, json, max_json, u->refresh_token,
                                   sizeof u->refresh_token, &u->refresh_token_len);
    }
    if (r == BK_OK) {
        r = save_refresh_token(u);
    }
    if (r != BK_OK) {
        bk_wipe(token, sizeof *token);
    }
    bk_wipe(u->device_code, sizeof u->device_code);
    u->polling = false;
    return r;
}

static bk_result refused(const bk_http_response *resp, bk_json_token *json, size_t max_json,
                         bk_entra_error *error) {
    return bk_parse_entra_error(resp->body, resp->body_len, json, max_json, error) == BK_OK
               ? BK_ERR_AUTH_REFUSED
               : BK_ERR_UNEXPECTED_STATUS;
}

static bk_result device_code_read(void *ctx, const bk_http_response *resp, bk_json_token *json,
                                  size_t max_json, bk_token *token, bk_entra_error *error) {
    bk_user_sign_in *u = ctx;
    if (!u->polling) {
        if (resp->status != 200) {
            return refused(resp, json, max_json, error);
        }
        bk_device_code_answer *answer = &u->answer;
        bk_result r = bk_parse_device_code(resp->body, resp->body_len, json, max_json, answer);
        if (r != BK_OK) {
            return r;
        }
        memcpy(u->device_code, answer->device_code, sizeof u->device_code);
        u->interval_s = answer->interval_s > 0 ? (uint32_t)answer->interval_s : 1;
        u->polling = true;
        if (u->prompt != NULL) {
            u->prompt(u->prompt_ctx, answer->message);
        }
        bk_wipe(answer, sizeof *answer);
        return BK_ERR_AUTH_PENDING;
    }
    if (resp->status == 200) {
        return take_tokens(u, resp, json, max_json, token);
    }
    bk_result r = refused(resp, json, max_json, error);
    if (r == BK_ERR_AUTH_REFUSED && strcmp(error->error, "authorization_pending") == 0) {
        return BK_ERR_AUTH_PENDING;
    }
    if (r == BK_ERR_AUTH_REFUSED && strcmp(error->error, "slow_down") == 0) {
        u->interval_s += SLOW_DOWN_S;
        return BK_ERR_AUTH_PENDING;
    }
    bk_wipe(u->device_code, sizeof u->device_code); /* declined, expired: the flow is over */
    u->polling = false;
    return r;
}

static bk_result refresh_write(void *ctx, const bk_token_ask *ask, char *buf, size_t cap,
                               size_t *len) {
    bk_user_sign_in *u = ctx;
    bk_result r = check_sign_in(u);
    if (r == BK_OK && u->refresh_token_len == 0) {
        r = BK_ERR_INVALID_SECRET;
    }
    if (r != BK_OK) {
        return r;
    }
    u->polling = false;
    form f = {u, "refresh_token"};
    return bk_entra_write_form_post(u->authority, u->tenant_id, "token", ask->client_request_id,
                                    write_form, &f, buf, cap, len);
}

static bk_result refresh_read(void *ctx, const bk_http_response *resp, bk_json_token *json,
                              size_t max_json, bk_token *token, bk_entra_error *error) {
    bk_user_sign_in *u = ctx;
    if (resp->status == 200) {
        return take_tokens(u, resp, json, max_json, token);
    }
    return refused(resp, json, max_json, error);
}

bk_credential bk_device_code_credential(bk_user_sign_in *u) {
    bk_credential c = {
        "device code", BK_PEER_AUTHORITY, u->authority, device_code_write, device_code_read, u,
        false};
    return c;
}

bk_credential bk_refresh_token_credential(bk_user_sign_in *u) {
    bk_credential c = {"device code (refresh token)",
                       BK_PEER_AUTHORITY,
                       u->authority,
                       refresh_write,
                       refresh_read,
                       u,
                       false};
    return c;
}
