/* SPDX-License-Identifier: MIT */
/* The request side of HTTP: a bounded writer and header value checks. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_writer.h"

static const char bk_hex_upper[] = "0123456789ABCDEF";

void bk_writer_init(bk_writer *w, char *buf, size_t cap) {
    w->buf = buf;
    w->cap = buf ? cap : SIZE_MAX;
    w->len = 0;
    w->overflow = false;
}

void bk_write_bytes(bk_writer *w, const char *data, size_t len) {
    if (w->overflow) {
        return; /* also after a NULL string, which leaves len short of cap */
    }
    size_t room = w->cap - w->len;
    if (len > room) {
        /* Fill up to cap (log lines want the truncated text; requests wipe it); len == cap then
         * leaves no room for any later append. */
        w->overflow = true;
        len = room;
    }
    if (w->buf && len > 0) {
        memcpy(w->buf + w->len, data, len);
    }
    w->len += len;
}

void bk_write_str(bk_writer *w, const char *s) {
    if (!s) {
        /* Fail closed: a silently missing piece would still look like a finished request. */
        w->overflow = true;
        return;
    }
    bk_write_bytes(w, s, strlen(s));
}

void bk_write_uint(bk_writer *w, uint64_t value) {
    char digits[20]; /* UINT64_MAX has 20 */
    size_t n = sizeof digits;
    do {
        digits[--n] = (char)('0' + (int)(value % 10u));
        value /= 10u;
    } while (value > 0);
    bk_write_bytes(w, digits + n, sizeof digits - n);
}

static bool bk_is_unreserved(char c) {
    return bk_ascii_is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

void bk_write_pct(bk_writer *w, const char *data, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (bk_is_unreserved(data[i])) {
            bk_write_bytes(w, data + i, 1);
        } else {
            unsigned char b = (unsigned char)data[i];
            char escaped[3] = {'%', bk_hex_upper[b >> 4], bk_hex_upper[b & 0x0f]};
            bk_write_bytes(w, escaped, sizeof escaped);
        }
    }
}

void bk_write_host_header(bk_writer *w, const bk_endpoint *ep) {
    bk_write_str(w, "Host: ");
    bk_write_str(w, ep->host);
    if (ep->port != (ep->plain_http ? 80 : 443)) {
        bk_write_bytes(w, ":", 1);
        bk_write_uint(w, ep->port);
    }
    bk_write_bytes(w, "\r\n", 2);
}

bk_result bk_writer_finish(const bk_writer *w, size_t *out_len) {
    if (!w || !out_len) {
        return BK_ERR_ARGUMENT;
    }
    if (w->overflow) {
        *out_len = 0;
        return BK_ERR_REQUEST_OVERFLOW;
    }
    *out_len = w->len;
    return BK_OK;
}

bool bk_header_value_ok(const char *value, size_t len) {
    if (!value) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)value[i];
        if (b < 0x20 || b == 0x7f) {
            return false;
        }
    }
    return true;
}
