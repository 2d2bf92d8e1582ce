/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "bk_session.h"

#include "bk_ascii.h"
#include "bk_crypto.h"
#include "bk_store.h"

#define BK_SESSION_MAGIC "BKT1"
/* Everything but the host and the data: magic, host length, port, expiry, data length, CRC. */
#define BK_SESSION_FIXED (4 + 1 + 2 + 8 + 2 + 4)

void bk_tls_session_wipe(bk_tls_session *s) {
    if (s != NULL) {
        bk_wipe(s, sizeof *s);
    }
}

bool bk_tls_session_usable(const bk_tls_session *s, const char *host, uint16_t port,
                           int64_t now_s) {
    return s != NULL && host != NULL && s->len > 0 && s->port == port && now_s < s->expires_s &&
           strlen(host) == strlen(s->host) && bk_ascii_ieq(s->host, strlen(s->host), host);
}

int64_t bk_tls_session_expiry(int64_t now_s, uint32_t lifetime_s) {
    uint32_t life = lifetime_s == 0 ? BK_TLS_SESSION_LIFETIME_S : lifetime_s;
    if (life > BK_TLS_SESSION_LIFETIME_MAX_S) {
        life = BK_TLS_SESSION_LIFETIME_MAX_S;
    }
    return now_s + (int64_t)life;
}

static void bk_put_be(uint8_t *out, uint64_t value, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) {
        out[i] = (uint8_t)(value >> (8 * (bytes - 1 - i)));
    }
}

static uint64_t bk_get_be(const uint8_t *in, size_t bytes) {
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; i++) {
        value = value << 8 | in[i];
    }
    return value;
}

bk_result bk_tls_session_encode(bk_tls_session *s, uint8_t *buf, size_t cap, size_t *len) {
    if (len != NULL) {
        *len = 0;
    }
    const char *host_end = s != NULL ? memchr(s->host, '\0', sizeof s->host) : NULL;
    size_t host_len = host_end != NULL ? (size_t)(host_end - s->host) : 0;
    if (s == NULL || buf == NULL || len == NULL || s->len == 0 || s->len > sizeof s->data ||
        host_len == 0) {
        return BK_ERR_ARGUMENT;
    }
    size_t total = BK_SESSION_FIXED + host_len + s->len;
    if (total > cap) {
        return BK_ERR_STORE_TOO_LARGE;
    }
    uint8_t *p = buf;
    memcpy(p, BK_SESSION_MAGIC, 4);
    p += 4;
    *p++ = (uint8_t)host_len;
    memcpy(p, s->host, host_len);
    p += host_len;
    bk_put_be(p, s->port, 2);
    p += 2;
    bk_put_be(p, (uint64_t)s->expires_s, 8);
    p += 8;
    bk_put_be(p, s->len, 2);
    p += 2;
    memcpy(p, s->data, s->len);
    p += s->len;
    bk_put_be(p, bk_crc32(0, buf, (size_t)(p - buf)), 4);
    *len = total;
    s->fresh = false;
    return BK_OK;
}

bk_result bk_tls_session_decode(bk_tls_session *s, const uint8_t *buf, size_t len) {
    if (s == NULL || (buf == NULL && len > 0)) {
        return BK_ERR_ARGUMENT;
    }
    bk_tls_session_wipe(s);
    if (len < 4 || memcmp(buf, BK_SESSION_MAGIC, 3) != 0) {
        return BK_ERR_STATE_CORRUPT;
    }
    if (buf[3] != BK_SESSION_MAGIC[3]) {
        return BK_ERR_STATE_VERSION;
    }
    if (len < BK_SESSION_FIXED) {
        return BK_ERR_STATE_CORRUPT;
    }
    size_t host_len = buf[4];
    if (host_len == 0 || host_len > BK_HOST_MAX || len < BK_SESSION_FIXED + host_len) {
        return BK_ERR_STATE_CORRUPT;
    }
    const uint8_t *p = buf + 5 + host_len;
    size_t data_len = (size_t)bk_get_be(p + 10, 2);
    if (len != BK_SESSION_FIXED + host_len + data_len || data_len == 0) {
        return BK_ERR_STATE_CORRUPT;
    }
    if (bk_get_be(buf + len - 4, 4) != bk_crc32(0, buf, len - 4)) {
        return BK_ERR_STATE_CORRUPT;
    }
    if (data_len > sizeof s->data) {
        return BK_ERR_STORE_TOO_LARGE;
    }
    for (size_t i = 0; i < host_len; i++) {
        unsigned char c = buf[5 + i];
        if (c <= 0x20 || c >= 0x7f) {
            return BK_ERR_STATE_CORRUPT;
        }
    }
    memcpy(s->host, buf + 5, host_len);
    s->host[host_len] = '\0';
    s->port = (uint16_t)bk_get_be(p, 2);
    s->expires_s = (int64_t)bk_get_be(p + 2, 8);
    s->len = data_len;
    memcpy(s->data, p + 12, data_len);
    return BK_OK;
}
