/* SPDX-License-Identifier: MIT */
/* Microsoft Entra ID v2.0 client-credentials token requests. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_config.h"
#include "bk_crypto.h"
#include "bk_entra.h"
#include "bk_json.h"
#include "bk_jwt.h"
#include "bk_writer.h"

#define BK_TENANT_DOMAIN_MAX 253

bk_result bk_validate_tenant_id(const char *value) {
    if (!value) {
        return BK_ERR_ARGUMENT;
    }
    if (bk_guid_ok(value)) {
        return BK_OK;
    }
    /* A domain name; this charset also keeps the path segment free of '/', '%' and "..". */
    size_t len = 0;
    for (; value[len] != '\0'; len++) {
        char c = value[len];
        bool ok = bk_ascii_is_alnum(c) || c == '-' || c == '.';
        if (!ok || len == BK_TENANT_DOMAIN_MAX || (c == '.' && len > 0 && value[len - 1] == '.')) {
            return BK_ERR_INVALID_TENANT;
        }
    }
    if (len == 0 || value[0] == '.' || value[0] == '-' || value[len - 1] == '.' ||
        value[len - 1] == '-') {
        return BK_ERR_INVALID_TENANT;
    }
    return BK_OK;
}

static bool bk_has_text(const char *s) {
    return s && *s;
}

/* Values travel form-encoded in the body, but a control byte in one is never legitimate. */
static bool bk_form_value_ok(const char *s) {
    return !s || bk_header_value_ok(s, strlen(s));
}

static void bk_write_form_value(bk_writer *w, const char *s) {
    bk_write_pct(w, s, strlen(s));
}

static void write_token_body(bk_writer *w, const void *ctx) {
    const bk_token_request *req = ctx;
    bk_write_str(w, "grant_type=client_credentials&client_id=");
    bk_write_str(w, req->client_id); /* a GUID needs no encoding */
    if (bk_has_text(req->client_secret)) {
        bk_write_str(w, "&client_secret=");
        bk_write_form_value(w, req->client_secret);
    } else {
        bk_write_str(w, "&client_assertion_type="
                        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                        "&client_assertion=");
        bk_write_form_value(w, req->client_assertion);
    }
    bk_write_str(w, "&scope=");
    bk_write_form_value(w, req->scope);
    if (bk_has_text(req->claims)) {
        bk_write_str(w, "&claims=");
        bk_write_form_value(w, req->claims);
    }
}

bk_result bk_entra_write_token_request(const bk_token_request *req, char *buf, size_t cap,
                                       size_t *out_len) {
    if (!out_len) {
        return BK_ERR_ARGUMENT;
    }
    *out_len = 0;
    if (!req || !buf || !req->authority || !req->tenant_id || !req->client_id ||
        !bk_has_text(req->scope) || !req->client_request_id) {
        return BK_ERR_ARGUMENT;
    }
    if (!bk_guid_ok(req->client_id)) {
        return BK_ERR_INVALID_CLIENT_ID;
    }
    if (bk_has_text(req->client_secret) == bk_has_text(req->client_assertion)) {
        return BK_ERR_INVALID_SECRET;
    }
    if (!bk_form_value_ok(req->client_secret) || !bk_form_value_ok(req->client_assertion) ||
        !bk_form_value_ok(req->claims) || !bk_form_value_ok(req->scope)) {
        return BK_ERR_INVALID_HEADER_VALUE;
    }

    return bk_entra_write_form_post(req->authority, req->tenant_id, "token", req->client_request_id,
                                    write_token_body, req, buf, cap, out_len);
}

bk_result bk_entra_write_form_post(const bk_endpoint *authority, const char *tenant_id,
                                   const char *endpoint, const char *client_request_id,
                                   void (*write_body)(bk_writer *w, const void *ctx),
                                   const void *ctx, char *buf, size_t cap, size_t *out_len) {
    *out_len = 0;
    if (!bk_endpoint_ok(authority)) {
        return BK_ERR_INVALID_URL;
    }
    bk_result r = bk_validate_tenant_id(tenant_id);
    if (r != BK_OK) {
        return r;
    }
    if (!bk_guid_ok(client_request_id)) {
        return BK_ERR_INVALID_HEADER_VALUE;
    }
    /* A counting pass gives Content-Length without a second buffer for the body. */
    bk_writer counter;
    bk_writer_init(&counter, NULL, 0);
    write_body(&counter, ctx);
    if (counter.overflow) {
        return BK_ERR_REQUEST_OVERFLOW;
    }
    bk_writer w;
    bk_writer_init(&w, buf, cap);
    bk_write_str(&w, "POST /");
    bk_write_str(&w, tenant_id);
    bk_write_str(&w, "/oauth2/v2.0/");
    bk_write_str(&w, endpoint);
    bk_write_str(&w, " HTTP/1.1\r\n");
    bk_write_host_header(&w, authority);
    bk_write_str(&w, "Accept: application/json\r\nUser-Agent: " BK_USER_AGENT
                     "\r\nx-ms-client-request-id: ");
    bk_write_str(&w, client_request_id);
    bk_write_str(&w, "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ");
    bk_write_uint(&w, counter.len);
    bk_write_str(&w, "\r\n\r\n");
    write_body(&w, ctx);
    r = bk_writer_finish(&w, out_len);
    if (r != BK_OK) {
        bk_wipe(buf, w.len); /* a partial request may hold a secret, an assertion or a token */
    }
    return r;
}

/* "https://host[:port]/tenant/oauth2/v2.0/token": the aud of a client assertion. */
static bk_result write_audience(const bk_entra_app *app, char *out, size_t cap) {
    bk_writer w;
    bk_writer_init(&w, out, cap - 1);
    bk_write_str(&w, "https://");
    bk_write_str(&w, app->authority->host);
    if (app->authority->port != 443) {
        bk_write_str(&w, ":");
        bk_write_uint(&w, app->authority->port);
    }
    bk_write_str(&w, "/");
    bk_write_str(&w, app->tenant_id);
    bk_write_str(&w, "/oauth2/v2.0/token");
    out[w.len] = '\0';
    return w.overflow ? BK_ERR_REQUEST_OVERFLOW : BK_OK;
}

#define CP1_CAPABILITY "\"xms_cc\":{\"values\":[\"cp1\"]}"

bk_result bk_entra_claims(const char *challenge, char *out, size_t cap) {
    bk_writer w;
    bk_writer_init(&w, out, cap - 1);
    const char *at = challenge != NULL ? strstr(challenge, "\"access_token\"") : NULL;
    if (challenge == NULL || challenge[0] == '\0') {
        bk_write_str(&w, "{\"access_token\":{" CP1_CAPABILITY "}}");
    } else if (at == NULL || strstr(challenge, "xms_cc") != NULL) {
        bk_write_str(&w, challenge);
    } else {
        const char *p = at + 14;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ':') {
            p++;
        }
        if (*p != '{') {
            bk_write_str(&w, challenge); /* access_token is no object: nothing to merge into */
        } else {
            p++;
            const char *next = p;
            while (*next == ' ' || *next == '\t' || *next == '\r' || *next == '\n') {
                next++;
            }
            bk_write_bytes(&w, challenge, (size_t)(p - challenge));
            bk_write_str(&w, *next == '}' ? CP1_CAPABILITY : CP1_CAPABILITY ",");
            bk_write_str(&w, p);
        }
    }
    out[w.overflow ? 0 : w.len] = '\0';
    return w.overflow ? BK_ERR_REQUEST_OVERFLOW : BK_OK;
}

static bk_result entra_write(void *ctx, const bk_token_ask *ask, char *buf, size_t cap,
                             size_t *len) {
    bk_entra_app *app = ctx;
    bk_result claims = bk_entra_claims(ask->claims, app->claims, sizeof app->claims);
    if (claims != BK_OK) {
        return claims;
    }
    bk_token_request tr = {app->authority, app->tenant_id, app->client_id, app->client_secret,
                           NULL,           app->claims,    ask->scope,     ask->client_request_id};
    if (app->client_secret != NULL || app->assertion == NULL) {
        return bk_entra_write_token_request(&tr, buf, cap, len);
    }
    char audience[BK_HOST_MAX + BK_TENANT_DOMAIN_MAX + 48];
    bk_result r = bk_validate_tenant_id(app->tenant_id);
    if (r == BK_OK && bk_endpoint_ok(app->authority)) {
        r = write_audience(app, audience, sizeof audience);
    } else if (r == BK_OK) {
        r = BK_ERR_INVALID_URL;
    }
    size_t assertion_len = 0;
    if (r == BK_OK) {
        r = app->assertion(app->assertion_ctx, audience, ask->now_s, app->assertion_buf,
                           app->assertion_cap, &assertion_len);
    }
    if (r == BK_OK) {
        tr.client_assertion = app->assertion_buf;
        r = bk_entra_write_token_request(&tr, buf, cap, len);
    }
    bk_wipe(app->assertion_buf, app->assertion_cap);
    return r;
}

static bk_result entra_read(void *ctx, const bk_http_response *resp, bk_json_token *json,
                            size_t max_json, bk_token *token, bk_entra_error *error) {
    (void)ctx;
    if (resp->status == 200) {
        return bk_parse_token(resp->body, resp->body_len, json, max_json, token);
    }
    if (bk_parse_entra_error(resp->body, resp->body_len, json, max_json, error) != BK_OK) {
        return BK_ERR_UNEXPECTED_STATUS;
    }
    return BK_ERR_AUTH_REFUSED;
}

bk_credential bk_entra_credential(bk_entra_app *app) {
    bk_credential c = {app->name != NULL            ? app->name
                       : app->client_secret != NULL ? "client secret"
                                                    : "client assertion",
                       BK_PEER_AUTHORITY,
                       app->authority,
                       entra_write,
                       entra_read,
                       app,
                       false};
    return c;
}

bk_result bk_certificate_assertion(void *ctx, const char *audience, int64_t now_s, char *buf,
                                   size_t cap, size_t *len) {
    const bk_certificate *cert = ctx;
    char jti[37];
    bk_result r = bk_uuid4(jti);
    if (r != BK_OK) {
        return r;
    }
    if (cert->chain_count == 0) {
        return BK_ERR_ARGUMENT;
    }
    bk_jwt_assertion a = {
        cert->alg,       cert->chain_der[0], cert->chain_len[0],
        cert->chain_der, cert->chain_len,    cert->send_chain ? cert->chain_count : 0,
        cert->client_id, audience,           jti,
        now_s,           cert->signer};
    return bk_jwt_write_assertion(&a, buf, cap, len);
}
