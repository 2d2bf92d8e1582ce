/* The request side of HTTP: a bounded writer, endpoint parsing, header value checks, UUIDs. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_http.h"
#include "bk_platform.h"

static const char bk_hex_upper[] = "0123456789ABCDEF";
static const char bk_hex_lower[] = "0123456789abcdef";

static bool bk_is_digit(char c) {
    return c >= '0' && c <= '9';
}

static bool bk_is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool bk_is_hex(char c) {
    return bk_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

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
    return bk_is_alpha(c) || bk_is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
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
    if (ep->port != 443) {
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

bool bk_guid_ok(const char *text) {
    if (!text) {
        return false;
    }
    for (size_t i = 0; i < 36; i++) {
        bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
        /* A NUL fails both tests, so a short string stops here without reading past it. */
        if (dash_here ? text[i] != '-' : !bk_is_hex(text[i])) {
            return false;
        }
    }
    return text[36] == '\0';
}

/* Dotted quad, each part 0-255 without leading zeros (those read as octal in some resolvers). */
static bool bk_ipv4_ok(const char *s, size_t len) {
    size_t parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t start = i;
        unsigned value = 0;
        while (i < len && bk_is_digit(s[i]) && i - start < 3) {
            value = value * 10u + (unsigned)(s[i] - '0');
            i++;
        }
        size_t digits = i - start;
        if (digits == 0 || value > 255 || (digits > 1 && s[start] == '0')) {
            return false;
        }
        parts++;
        if (parts < 4) {
            if (i >= len || s[i] != '.') {
                return false;
            }
            i++;
        }
    }
    return i == len;
}

/* RFC 4291 text form: eight 1-4 digit hex groups, at most one "::" standing for one or more zero
 * groups, and optionally a dotted quad in place of the last two groups. No zone identifiers. */
static bool bk_ipv6_ok(const char *s, size_t len) {
    size_t groups = 0;
    bool compressed = false;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        compressed = true;
        i = 2;
    } else if (len == 0 || s[0] == ':') {
        return false;
    }
    while (i < len) {
        size_t start = i;
        while (i < len && bk_is_hex(s[i])) {
            i++;
        }
        if (i < len && s[i] == '.') {
            if (!bk_ipv4_ok(s + start, len - start)) {
                return false;
            }
            groups += 2;
            break;
        }
        if (i - start == 0 || i - start > 4) {
            return false;
        }
        groups++;
        if (i == len) {
            break;
        }
        if (s[i] != ':' || ++i == len) {
            return false; /* a stray character, or a single trailing ':' */
        }
        if (s[i] == ':') {
            if (compressed) {
                return false;
            }
            compressed = true;
            i++;
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

/* Labels of 1-63 letters, digits and '-', not starting or ending with '-' (RFC 1123). */
static bool bk_dns_name_ok(const char *s, size_t len) {
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-') {
                return false;
            }
            label = 0;
        } else if (bk_is_alpha(s[i]) || bk_is_digit(s[i]) || s[i] == '-') {
            if (label == 0 && s[i] == '-') {
                return false;
            }
            label++;
        } else {
            return false;
        }
    }
    return true;
}

static bool bk_host_ok(const char *host, size_t len) {
    if (len == 0 || len > BK_HOST_MAX) {
        return false;
    }
    if (host[0] == '[') {
        return len >= 2 && host[len - 1] == ']' && bk_ipv6_ok(host + 1, len - 2);
    }
    bool all_numeric = true;
    for (size_t i = 0; i < len; i++) {
        if (!bk_is_digit(host[i]) && host[i] != '.') {
            all_numeric = false;
            break;
        }
    }
    /* No top-level domain is all digits, so such a host must be an IPv4 literal. */
    return all_numeric ? bk_ipv4_ok(host, len) : bk_dns_name_ok(host, len);
}

static bool bk_ascii_prefix_ieq(const char *text, const char *lower_prefix) {
    for (; *lower_prefix; text++, lower_prefix++) {
        char c = *text;
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if (c != *lower_prefix) {
            return false; /* also at text's NUL */
        }
    }
    return true;
}

bk_result bk_endpoint_parse(bk_endpoint *out, const char *url) {
    if (!out || !url) {
        return BK_ERR_ARGUMENT;
    }
    if (!bk_ascii_prefix_ieq(url, "https://")) {
        return BK_ERR_INVALID_URL;
    }
    const char *host = url + 8;
    const char *p = host;
    if (*p == '[') {
        while (*p && *p != ']') {
            p++;
        }
        if (*p != ']') {
            return BK_ERR_INVALID_URL;
        }
        p++;
    } else {
        while (*p && *p != ':' && *p != '/') {
            p++;
        }
    }
    size_t host_len = (size_t)(p - host);
    if (!bk_host_ok(host, host_len)) {
        return BK_ERR_INVALID_URL;
    }
    uint32_t port = 443;
    if (*p == ':') {
        p++;
        size_t digits = 0;
        port = 0;
        while (bk_is_digit(*p) && digits < 5) {
            port = port * 10u + (uint32_t)(*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || port == 0 || port > 65535) {
            return BK_ERR_INVALID_URL;
        }
    }
    if (*p == '/') {
        p++;
    }
    if (*p != '\0') {
        return BK_ERR_INVALID_URL; /* path, query, fragment, or a sixth port digit */
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->port = (uint16_t)port;
    return BK_OK;
}

bool bk_endpoint_ok(const bk_endpoint *ep) {
    if (!ep || ep->port == 0) {
        return false;
    }
    const char *end = memchr(ep->host, '\0', sizeof ep->host);
    return end && bk_host_ok(ep->host, (size_t)(end - ep->host));
}

void bk_uuid4_from_bytes(const uint8_t random[16], char out[37]) {
    size_t n = 0;
    for (size_t i = 0; i < 16; i++) {
        uint8_t b = random[i];
        if (i == 6) {
            b = (uint8_t)((b & 0x0f) | 0x40); /* version 4 */
        } else if (i == 8) {
            b = (uint8_t)((b & 0x3f) | 0x80); /* RFC 4122 variant, 10xx */
        }
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[n++] = '-';
        }
        out[n++] = bk_hex_lower[b >> 4];
        out[n++] = bk_hex_lower[b & 0x0f];
    }
    out[n] = '\0';
}

bk_result bk_uuid4(char out[37]) {
    if (!out) {
        return BK_ERR_ARGUMENT;
    }
    uint8_t random[16];
    bk_result r = bk_entropy(random, sizeof random);
    if (r != BK_OK) {
        out[0] = '\0';
        return r;
    }
    bk_uuid4_from_bytes(random, out);
    return BK_OK;
}
