/* SPDX-License-Identifier: MIT */
/* Endpoints (https://host[:port]), host names and literals, GUIDs and UUIDs. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_endpoint.h"
#include "bk_platform.h"

static const char bk_hex_lower[] = "0123456789abcdef";

bool bk_guid_ok(const char *text) {
    if (!text) {
        return false;
    }
    for (size_t i = 0; i < 36; i++) {
        bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
        /* A NUL fails both tests, so a short string stops here without reading past it. */
        if (dash_here ? text[i] != '-' : !bk_ascii_is_hex(text[i])) {
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
        while (i < len && bk_ascii_is_digit(s[i]) && i - start < 3) {
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
        while (i < len && bk_ascii_is_hex(s[i])) {
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
        } else if (bk_ascii_is_alpha(s[i]) || bk_ascii_is_digit(s[i]) || s[i] == '-') {
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
        if (!bk_ascii_is_digit(host[i]) && host[i] != '.') {
            all_numeric = false;
            break;
        }
    }
    /* No top-level domain is all digits, so such a host must be an IPv4 literal. */
    return all_numeric ? bk_ipv4_ok(host, len) : bk_dns_name_ok(host, len);
}

/* Path characters of RFC 3986 (pchar and '/'), percent-encoding included; nothing that could
 * leave the request line. */
static bool bk_path_char_ok(char c) {
    return bk_ascii_is_alnum(c) || strchr("-._~!$&'()*+,;=:@/%", c) != NULL;
}

bk_result bk_url_parse(bk_endpoint *out, char *path, size_t path_cap, const char *url,
                       bool allow_http) {
    if (!out || !url || (path == NULL && path_cap > 0)) {
        return BK_ERR_ARGUMENT;
    }
    bool plain = false;
    const char *host;
    if (bk_ascii_prefix_ieq(url, "https://")) {
        host = url + 8;
    } else if (allow_http && bk_ascii_prefix_ieq(url, "http://")) {
        host = url + 7;
        plain = true;
    } else {
        return BK_ERR_INVALID_URL;
    }
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
    uint32_t port = plain ? 80 : 443;
    if (*p == ':') {
        p++;
        size_t digits = 0;
        port = 0;
        while (bk_ascii_is_digit(*p) && digits < 5) {
            port = port * 10u + (uint32_t)(*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || port == 0 || port > 65535) {
            return BK_ERR_INVALID_URL;
        }
    }
    if (*p != '\0' && *p != '/') {
        return BK_ERR_INVALID_URL; /* a sixth port digit, or garbage after the host */
    }
    const char *path_start = p;
    for (; *p != '\0'; p++) {
        if (!bk_path_char_ok(*p)) {
            return BK_ERR_INVALID_URL; /* a query, a fragment, a space or a control byte */
        }
    }
    size_t path_len = (size_t)(p - path_start);
    if (path_len == 0) {
        path_start = "/";
        path_len = 1;
    }
    if (path != NULL) {
        if (path_len >= path_cap) {
            return BK_ERR_INVALID_URL;
        }
        memcpy(path, path_start, path_len);
        path[path_len] = '\0';
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->port = (uint16_t)port;
    out->plain_http = plain;
    return BK_OK;
}

bk_result bk_endpoint_parse(bk_endpoint *out, const char *url) {
    char path[2]; /* an origin: no path beyond a trailing "/" */
    return bk_url_parse(out, path, sizeof path, url, false);
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
