/* SPDX-License-Identifier: MIT */
/* Client assertions (bk_jwt.h). The header and claims are written as JSON straight through a
 * base64url encoder into the caller's buffer, and the x5c chain through a second (standard)
 * encoder into that JSON, so a chain of several kilobytes needs no buffer of its own. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_endpoint.h"
#include "bk_jwt.h"
#include "bk_writer.h"

/* A streaming base64 encoder writing into a bk_writer: bytes in, characters out. */
typedef struct b64_stream {
    bk_writer *out;
    const char *alphabet;
    bool pad;
    uint8_t held[3];
    size_t held_len;
} b64_stream;

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64_emit(b64_stream *s, size_t n) {
    uint32_t v = (uint32_t)s->held[0] << 16 | (uint32_t)(n > 1 ? s->held[1] : 0) << 8 |
                 (uint32_t)(n > 2 ? s->held[2] : 0);
    char quad[4];
    for (int i = 0; i < 4; i++) {
        quad[i] = s->alphabet[(v >> (18 - 6 * i)) & 0x3fu];
    }
    size_t chars = n + 1; /* 1 byte: 2 characters, 2: 3, 3: 4 */
    if (s->pad) {
        for (size_t i = chars; i < 4; i++) {
            quad[i] = '=';
        }
        chars = 4;
    }
    bk_write_bytes(s->out, quad, chars);
}

static void b64_write(b64_stream *s, const uint8_t *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        s->held[s->held_len++] = data[i];
        if (s->held_len == 3) {
            b64_emit(s, 3);
            s->held_len = 0;
        }
    }
}

static void b64_end(b64_stream *s) {
    if (s->held_len > 0) {
        b64_emit(s, s->held_len);
        s->held_len = 0;
    }
}

static void json_str(b64_stream *s, const char *text) {
    b64_write(s, (const uint8_t *)text, strlen(text));
}

static void json_number(b64_stream *s, uint64_t value) {
    char digits[24];
    bk_writer w;
    bk_writer_init(&w, digits, sizeof digits);
    bk_write_uint(&w, value);
    b64_write(s, (const uint8_t *)digits, w.len);
}

/* Into s, a JSON string holding the standard base64 of data: a second encoder feeding the
 * first, through a small buffer. */
static void json_base64(b64_stream *s, const uint8_t *data, size_t len) {
    char chunk[64];
    json_str(s, "\"");
    for (size_t done = 0; done < len;) {
        size_t take = len - done < 48 ? len - done : 48; /* 48 bytes: 64 characters */
        bk_writer w;
        bk_writer_init(&w, chunk, sizeof chunk);
        b64_stream inner = {&w, std_alphabet, true, {0}, 0};
        b64_write(&inner, data + done, take);
        b64_end(&inner);
        b64_write(s, (const uint8_t *)chunk, w.len);
        done += take;
    }
    json_str(s, "\"");
}

static const char *alg_name(bk_sign_alg alg) {
    return alg == BK_SIGN_RS256 ? "RS256" : alg == BK_SIGN_ES256 ? "ES256" : "PS256";
}

static bool text_ok(const char *s) {
    if (s == NULL || s[0] == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) {
            return false; /* none of these needs JSON escaping then */
        }
    }
    return true;
}

static bk_result write_header(const bk_jwt_assertion *a, b64_stream *s) {
    uint8_t thumb[BK_SHA256_SIZE];
    bool sha1 = a->alg == BK_SIGN_RS256;
    bk_result r = sha1 ? bk_sha1(a->leaf_der, a->leaf_len, thumb)
                       : bk_sha256(a->leaf_der, a->leaf_len, thumb);
    if (r != BK_OK) {
        return r;
    }
    json_str(s, "{\"alg\":\"");
    json_str(s, alg_name(a->alg));
    json_str(s, sha1 ? "\",\"typ\":\"JWT\",\"x5t\":\"" : "\",\"typ\":\"JWT\",\"x5t#S256\":\"");
    /* The thumbprint in base64url inside base64url: an inner encoder again. */
    char text[48];
    bk_writer w;
    bk_writer_init(&w, text, sizeof text);
    b64_stream inner = {&w, url_alphabet, false, {0}, 0};
    b64_write(&inner, thumb, sha1 ? BK_SHA1_SIZE : BK_SHA256_SIZE);
    b64_end(&inner);
    b64_write(s, (const uint8_t *)text, w.len);
    json_str(s, "\"");
    if (a->x5c_count > 0) {
        json_str(s, ",\"x5c\":[");
        for (size_t i = 0; i < a->x5c_count; i++) {
            if (i > 0) {
                json_str(s, ",");
            }
            json_base64(s, a->x5c_der[i], a->x5c_len[i]);
        }
        json_str(s, "]");
    }
    json_str(s, "}");
    return BK_OK;
}

static void write_claims(const bk_jwt_assertion *a, b64_stream *s) {
    uint64_t now = (uint64_t)a->now_s;
    json_str(s, "{\"aud\":\"");
    json_str(s, a->audience);
    json_str(s, "\",\"iss\":\"");
    json_str(s, a->client_id);
    json_str(s, "\",\"sub\":\"");
    json_str(s, a->client_id);
    json_str(s, "\",\"jti\":\"");
    json_str(s, a->jti);
    json_str(s, "\",\"nbf\":");
    json_number(s, now);
    json_str(s, ",\"iat\":");
    json_number(s, now);
    json_str(s, ",\"exp\":");
    json_number(s, now + BK_ASSERTION_LIFETIME_S);
    json_str(s, "}");
}

bk_result bk_jwt_write_assertion(const bk_jwt_assertion *a, char *buf, size_t cap,
                                 size_t *out_len) {
    if (out_len == NULL || buf == NULL || cap == 0) {
        return BK_ERR_ARGUMENT;
    }
    *out_len = 0;
    buf[0] = '\0';
    if (a == NULL || a->leaf_der == NULL || a->leaf_len == 0 || a->signer.sign == NULL ||
        (a->x5c_count > 0 && (a->x5c_der == NULL || a->x5c_len == NULL))) {
        return BK_ERR_ARGUMENT;
    }
    if (!bk_guid_ok(a->client_id) || !text_ok(a->audience) || !bk_guid_ok(a->jti)) {
        return BK_ERR_INVALID_HEADER_VALUE;
    }
    if (a->now_s < 0) {
        return BK_ERR_ARGUMENT;
    }
    bk_writer w;
    bk_writer_init(&w, buf, cap - 1);
    b64_stream s = {&w, url_alphabet, false, {0}, 0};
    bk_result r = write_header(a, &s);
    if (r != BK_OK) {
        return r;
    }
    b64_end(&s);
    bk_write_str(&w, ".");
    write_claims(a, &s);
    b64_end(&s);
    if (w.overflow) {
        bk_wipe(buf, cap);
        return BK_ERR_REQUEST_OVERFLOW;
    }
    uint8_t digest[BK_SHA256_SIZE];
    r = bk_sha256((const uint8_t *)buf, w.len, digest);
    uint8_t sig[512]; /* RSA-4096 */
    size_t sig_len = 0;
    if (r == BK_OK) {
        r = a->signer.sign(a->signer.ctx, a->alg, digest, sig, sizeof sig, &sig_len);
    }
    if (r != BK_OK) {
        bk_wipe(buf, w.len);
        return r;
    }
    bk_write_str(&w, ".");
    b64_write(&s, sig, sig_len);
    b64_end(&s);
    r = bk_writer_finish(&w, out_len);
    buf[w.len] = '\0';
    if (r != BK_OK) {
        bk_wipe(buf, cap);
        *out_len = 0;
    }
    return r;
}
