/* SPDX-License-Identifier: MIT */
/* The Batch data plane's SharedKey-signed read (see bk_dataplane.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_arm.h"
#include "bk_ascii.h"
#include "bk_config.h"
#include "bk_crypto.h"
#include "bk_dataplane.h"
#include "bk_http.h"
#include "bk_writer.h"

/* The path and query of the proof; query parameters here in canonical (sorted) order. */
#define PROOF_PATH "/applications"

/* Room for the string to sign: verb and empty standard headers, ocp-date, the account and the
 * query (an api-version is short). */
#define STRING_TO_SIGN_MAX 256

bool bk_dataplane_api_version_ok(const char *text) {
    /* YYYY-MM-DD.N.N, each N 1-4 digits */
    if (text == NULL || strlen(text) < 14 || strlen(text) > 32) {
        return false;
    }
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? text[i] != '-' : !bk_ascii_is_digit(text[i])) {
            return false;
        }
    }
    const char *p = text + 10;
    for (int part = 0; part < 2; part++) {
        if (*p++ != '.') {
            return false;
        }
        size_t digits = 0;
        while (bk_ascii_is_digit(*p)) {
            p++;
            digits++;
        }
        if (digits == 0 || digits > 4) {
            return false;
        }
    }
    return *p == '\0';
}

static bk_result check_request(const bk_dataplane_request *req) {
    if (req == NULL || req->endpoint == NULL || req->account_name == NULL || req->key == NULL ||
        req->api_version == NULL || req->client_request_id == NULL) {
        return BK_ERR_ARGUMENT;
    }
    if (!bk_endpoint_ok(req->endpoint)) {
        return BK_ERR_INVALID_URL;
    }
    bk_result r = bk_validate_account_name(req->account_name);
    if (r != BK_OK) {
        return r;
    }
    if (!bk_dataplane_api_version_ok(req->api_version) || !bk_guid_ok(req->client_request_id)) {
        return BK_ERR_INVALID_HEADER_VALUE;
    }
    return BK_OK;
}

bk_result bk_dataplane_string_to_sign(const bk_dataplane_request *req, const char *date, char *buf,
                                      size_t cap, size_t *out_len) {
    bk_result r = check_request(req);
    if (r != BK_OK || date == NULL || buf == NULL || out_len == NULL || cap == 0) {
        return r != BK_OK ? r : BK_ERR_ARGUMENT;
    }
    bk_writer w;
    bk_writer_init(&w, buf, cap - 1);
    /* The verb, then Content-Encoding, Content-Language, Content-Length, Content-MD5,
     * Content-Type, Date, If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since and
     * Range: a GET without a body sends none of them, and ocp-date replaces Date. */
    bk_write_str(&w, "GET\n\n\n\n\n\n\n\n\n\n\n\n");
    bk_write_str(&w, "ocp-date:");
    bk_write_str(&w, date);
    bk_write_str(&w, "\n/");
    bk_write_str(&w, req->account_name);
    bk_write_str(&w, PROOF_PATH "\napi-version:");
    bk_write_str(&w, req->api_version);
    bk_write_str(&w, "\nmaxresults:1");
    r = bk_writer_finish(&w, out_len);
    buf[w.len] = '\0';
    return r;
}

/* The base64 HMAC-SHA256 of text under the base64-decoded key. */
static bk_result sign(const char *key, const char *text, size_t text_len, char *out, size_t cap) {
    uint8_t raw_key[BK_KEY_MAX];
    uint8_t mac[BK_SHA256_SIZE];
    size_t raw_len = 0;
    size_t out_len = 0;
    size_t key_len = strlen(key);
    bk_result r = key_len == 0 ? BK_ERR_BASE64
                               : bk_base64_decode(key, key_len, raw_key, sizeof raw_key, &raw_len);
    if (r == BK_ERR_REQUEST_OVERFLOW) {
        r = BK_ERR_BASE64; /* no key the service gives decodes to more than BK_KEY_MAX bytes */
    }
    if (r == BK_OK) {
        r = bk_hmac_sha256(raw_key, raw_len, (const uint8_t *)text, text_len, mac);
    }
    if (r == BK_OK) {
        r = bk_base64_encode(mac, sizeof mac, out, cap, &out_len);
    }
    bk_wipe(raw_key, sizeof raw_key);
    bk_wipe(mac, sizeof mac);
    return r;
}

bk_result bk_dataplane_write_request(const bk_dataplane_request *req, char *buf, size_t cap,
                                     size_t *out_len) {
    if (out_len == NULL || buf == NULL) {
        return BK_ERR_ARGUMENT;
    }
    *out_len = 0;
    char date[BK_HTTP_DATE_SIZE];
    bk_result r = check_request(req);
    if (r == BK_OK) {
        r = bk_http_format_date(req->now_s, date);
    }
    char to_sign[STRING_TO_SIGN_MAX];
    size_t to_sign_len = 0;
    if (r == BK_OK) {
        r = bk_dataplane_string_to_sign(req, date, to_sign, sizeof to_sign, &to_sign_len);
    }
    char signature[48]; /* base64 of 32 bytes: 44 characters */
    if (r == BK_OK) {
        r = sign(req->key, to_sign, to_sign_len, signature, sizeof signature);
    }
    if (r != BK_OK) {
        return r;
    }
    bk_writer w;
    bk_writer_init(&w, buf, cap);
    bk_write_str(&w, "GET " PROOF_PATH "?api-version=");
    bk_write_str(&w, req->api_version);
    bk_write_str(&w, "&maxresults=1 HTTP/1.1\r\n");
    bk_write_host_header(&w, req->endpoint);
    bk_write_str(&w, "ocp-date: ");
    bk_write_str(&w, date);
    bk_write_str(&w, "\r\nAuthorization: SharedKey ");
    bk_write_str(&w, req->account_name);
    bk_write_str(&w, ":");
    bk_write_str(&w, signature);
    bk_write_str(&w, "\r\nAccept: application/json\r\nUser-Agent: " BK_USER_AGENT
                     "\r\nclient-request-id: ");
    bk_write_str(&w, req->client_request_id);
    bk_write_str(&w, "\r\n\r\n");
    return bk_writer_finish(&w, out_len);
}
