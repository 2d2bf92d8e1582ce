/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "bk_proxy.h"

#include "bk_ascii.h"
#include "bk_crypto.h"
#include "bk_endpoint.h"
#include "bk_writer.h"

/* "http://" plus the longest host, a port and a slash: what bk_url_parse checks. */
#define BK_PROXY_ORIGIN_MAX (7 + BK_HOST_MAX + 7)
/* The CONNECT request: its line, Host, and Proxy-Authorization. */
#define BK_PROXY_REQUEST_MAX (2 * (BK_HOST_MAX + 7) + BK_PROXY_AUTHORIZATION_MAX + 64)
/* The proxy's status line, kept whole to be read. */
#define BK_PROXY_STATUS_LINE_MAX 256

void bk_proxy_wipe(bk_proxy *proxy) {
    if (proxy != NULL) {
        bk_wipe(proxy, sizeof *proxy);
    }
}

/* Percent-decodes len bytes of src into dst (cap bytes), adding to *out_len:
 * BK_ERR_INVALID_PROXY on a bad escape, BK_ERR_PROXY_CREDENTIALS_TOO_LONG without room. */
static bk_result bk_pct_decode(const char *src, size_t len, char *dst, size_t cap,
                               size_t *out_len) {
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            int hi = len - i < 3 ? -1 : bk_ascii_hex_value(src[i + 1]);
            int lo = len - i < 3 ? -1 : bk_ascii_hex_value(src[i + 2]);
            if (hi < 0 || lo < 0) {
                return BK_ERR_INVALID_PROXY;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (*out_len >= cap) {
            return BK_ERR_PROXY_CREDENTIALS_TOO_LONG;
        }
        dst[(*out_len)++] = c;
    }
    return BK_OK;
}

/* The Proxy-Authorization value for the URL's userinfo ("user[:password]", still encoded). */
static bk_result bk_proxy_set_credentials(bk_proxy *out, const char *userinfo, size_t len) {
    char plain[BK_PROXY_CREDENTIALS_MAX];
    size_t plain_len = 0;
    const char *colon = memchr(userinfo, ':', len);
    size_t user_len = colon != NULL ? (size_t)(colon - userinfo) : len;
    /* "user:password", or "user:" when no password is given, as curl sends it. */
    bk_result r = bk_pct_decode(userinfo, user_len, plain, sizeof plain, &plain_len);
    if (r == BK_OK) {
        r = bk_pct_decode(":", 1, plain, sizeof plain, &plain_len);
    }
    if (r == BK_OK && colon != NULL) {
        r = bk_pct_decode(colon + 1, len - user_len - 1, plain, sizeof plain, &plain_len);
    }
    if (r == BK_OK && user_len == 0) {
        r = BK_ERR_INVALID_PROXY;
    }
    if (r == BK_OK) {
        memcpy(out->authorization, "Basic ", 6);
        size_t encoded = 0;
        r = bk_base64_encode((const uint8_t *)plain, plain_len, out->authorization + 6,
                             sizeof out->authorization - 6, &encoded);
        r = r == BK_OK ? BK_OK : BK_ERR_PROXY_CREDENTIALS_TOO_LONG;
    }
    /* A NUL, a CR or an LF decoded into the header would split it: refuse them. */
    for (size_t i = 0; r == BK_OK && i < plain_len; i++) {
        unsigned char c = (unsigned char)plain[i];
        if (c < 0x20 || c == 0x7f) {
            r = BK_ERR_INVALID_PROXY;
        }
    }
    bk_wipe(plain, sizeof plain);
    return r;
}

bk_result bk_proxy_parse(bk_proxy *out, const char *url) {
    if (out == NULL || url == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_proxy_wipe(out);
    const char *rest = url;
    const char *scheme_end = strstr(url, "://");
    if (scheme_end != NULL) {
        if ((size_t)(scheme_end - url) != 4 || !bk_ascii_prefix_ieq(url, "http")) {
            return BK_ERR_INVALID_PROXY; /* https or socks proxies are not spoken */
        }
        rest = scheme_end + 3;
    }
    size_t authority_len = strcspn(rest, "/?#");
    if (rest[authority_len] != '\0' && strcmp(rest + authority_len, "/") != 0) {
        return BK_ERR_INVALID_PROXY;
    }
    /* The userinfo ends at the last '@' of the authority (a password may hold an encoded one). */
    const char *host = rest;
    for (size_t i = authority_len; i > 0; i--) {
        if (rest[i - 1] == '@') {
            host = rest + i;
            break;
        }
    }
    size_t host_len = authority_len - (size_t)(host - rest);
    if (host_len == 0 || host_len > BK_PROXY_ORIGIN_MAX - 8) {
        return BK_ERR_INVALID_PROXY;
    }
    /* The host and port through the endpoint parser; curl's 1080 when no port is given. */
    char origin[BK_PROXY_ORIGIN_MAX + 1];
    memcpy(origin, "http://", 7);
    memcpy(origin + 7, host, host_len);
    origin[7 + host_len] = '\0';
    const char *bracket = memchr(host, ']', host_len);
    const char *after_host = bracket != NULL ? bracket + 1 : host;
    bool has_port = memchr(after_host, ':', host_len - (size_t)(after_host - host)) != NULL;
    bk_endpoint ep;
    char path[2];
    if (bk_url_parse(&ep, path, sizeof path, origin, true) != BK_OK) {
        return BK_ERR_INVALID_PROXY;
    }
    memcpy(out->host, ep.host, sizeof out->host);
    out->port = has_port ? ep.port : BK_PROXY_DEFAULT_PORT;
    bk_result r = BK_OK;
    if (host != rest) {
        r = bk_proxy_set_credentials(out, rest, (size_t)(host - rest) - 1);
    }
    if (r != BK_OK) {
        bk_proxy_wipe(out);
    }
    return r;
}

/* An IPv4 literal of len bytes at s into *addr; false when it is not one. */
static bool bk_ipv4_read(const char *s, size_t len, uint32_t *addr) {
    uint32_t value = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t start = i;
        while (i < len && bk_ascii_is_digit(s[i]) && i - start < 3) {
            i++;
        }
        uint64_t octet = 0;
        if (i == start || bk_ascii_decimal(s + start, i - start, 255, &octet) != BK_DECIMAL_OK ||
            octet > 255) {
            return false;
        }
        value = value << 8 | (uint32_t)octet;
        if (part < 3) {
            if (i >= len || s[i] != '.') {
                return false;
            }
            i++;
        }
    }
    *addr = value;
    return i == len;
}

/* Drops one trailing dot and surrounding brackets of a host or entry name. */
static void bk_bare_name(const char **s, size_t *len) {
    if (*len > 0 && (*s)[*len - 1] == '.') {
        (*len)--;
    }
    if (*len >= 2 && (*s)[0] == '[' && (*s)[*len - 1] == ']') {
        (*s)++;
        *len -= 2;
    }
}

/* One NO_PROXY entry (trimmed, non-empty) against host (bare) and port. */
static bool bk_entry_matches(const char *entry, size_t len, const char *host, size_t host_len,
                             uint16_t port) {
    /* ":port" ends an entry unless the colon belongs to a bare IPv6 literal. */
    const char *colon = NULL;
    for (size_t i = len; i > 0; i--) {
        if (entry[i - 1] == ':') {
            colon = entry + i - 1;
            break;
        }
    }
    bool bracketed = entry[0] == '[';
    bool bare_ipv6 = !bracketed && colon != NULL && memchr(entry, ':', len) != colon;
    if (colon != NULL && !bare_ipv6 && (!bracketed || colon[-1] == ']')) {
        uint64_t want = 0;
        size_t digits = len - (size_t)(colon - entry) - 1;
        if (bk_ascii_decimal(colon + 1, digits, 65535, &want) != BK_DECIMAL_OK || want != port) {
            return false;
        }
        len = (size_t)(colon - entry);
    }
    const char *slash = memchr(entry, '/', len);
    uint32_t host_addr = 0;
    uint32_t net = 0;
    if (slash != NULL) {
        uint64_t bits = 0;
        size_t digits = len - (size_t)(slash - entry) - 1;
        if (!bk_ipv4_read(entry, (size_t)(slash - entry), &net) ||
            bk_ascii_decimal(slash + 1, digits, 32, &bits) != BK_DECIMAL_OK ||
            !bk_ipv4_read(host, host_len, &host_addr)) {
            return false;
        }
        uint32_t mask = bits == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - bits));
        return (host_addr & mask) == (net & mask);
    }
    if (entry[0] == '.') {
        entry++;
        len--;
    }
    bk_bare_name(&entry, &len);
    if (len == 0 || len > host_len) {
        return false;
    }
    const char *tail = host + host_len - len;
    for (size_t i = 0; i < len; i++) {
        if (bk_ascii_lower(tail[i]) != bk_ascii_lower(entry[i])) {
            return false;
        }
    }
    /* The whole name, or a whole label under it; never a suffix of an IP literal. */
    if (len == host_len) {
        return true;
    }
    uint32_t unused = 0;
    return tail[-1] == '.' && !bk_ipv4_read(host, host_len, &unused) &&
           memchr(host, ':', host_len) == NULL;
}

bool bk_proxy_bypassed(const char *no_proxy, const char *host, uint16_t port) {
    if (no_proxy == NULL || host == NULL) {
        return false;
    }
    size_t host_len = strlen(host);
    bk_bare_name(&host, &host_len);
    const char *p = no_proxy;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        const char *entry = p;
        size_t entry_len = len;
        while (entry_len > 0 && (*entry == ' ' || *entry == '\t')) {
            entry++;
            entry_len--;
        }
        while (entry_len > 0 && (entry[entry_len - 1] == ' ' || entry[entry_len - 1] == '\t')) {
            entry_len--;
        }
        if (entry_len == 1 && entry[0] == '*') {
            return true;
        }
        if (entry_len > 0 && bk_entry_matches(entry, entry_len, host, host_len, port)) {
            return true;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    return false;
}

static void bk_write_authority(bk_writer *w, const char *host, uint16_t port) {
    bk_write_str(w, host);
    bk_write_str(w, ":");
    bk_write_uint(w, port);
}

static bk_result bk_proxy_send_connect(const bk_stream *carrier, const bk_proxy *proxy,
                                       const char *host, uint16_t port) {
    char request[BK_PROXY_REQUEST_MAX];
    bk_writer w;
    bk_writer_init(&w, request, sizeof request);
    bk_write_str(&w, "CONNECT ");
    bk_write_authority(&w, host, port);
    bk_write_str(&w, " HTTP/1.1\r\nHost: ");
    bk_write_authority(&w, host, port);
    bk_write_str(&w, "\r\n");
    if (proxy->authorization[0] != '\0') {
        bk_write_str(&w, "Proxy-Authorization: ");
        bk_write_str(&w, proxy->authorization);
        bk_write_str(&w, "\r\n");
    }
    bk_write_str(&w, "\r\n");
    size_t len = 0;
    bk_result r = bk_writer_finish(&w, &len);
    if (r == BK_OK) {
        r = bk_stream_send_all(carrier, (const uint8_t *)request, len, NULL);
    }
    bk_wipe(request, sizeof request); /* it held the credentials */
    return r;
}

/* "HTTP/1.x DDD[ reason]" of len bytes: the status, or -1. */
static int bk_proxy_status(const char *line, size_t len) {
    uint64_t status = 0;
    if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || !bk_ascii_is_digit(line[7]) ||
        line[8] != ' ' || bk_ascii_decimal(line + 9, 3, 999, &status) != BK_DECIMAL_OK ||
        status < 100 || (len > 12 && line[12] != ' ')) {
        return -1;
    }
    return (int)status;
}

/* What the reader of the answer has seen so far. */
typedef struct bk_proxy_reader {
    char line[BK_PROXY_STATUS_LINE_MAX];
    size_t line_len;
    size_t total;        /* bytes of the answer's head so far */
    int status;          /* -1 until the status line is whole */
    unsigned line_bytes; /* bytes of the current header line, its CR included */
    bool cr;             /* the last byte was a CR */
    bool done;           /* the empty line that ends the head was read */
} bk_proxy_reader;

/* Takes one byte of the answer's head. */
static bk_result bk_proxy_take(bk_proxy_reader *rd, char c) {
    if (++rd->total > BK_HTTP_HEADER_BYTES_MAX) {
        return BK_ERR_PROXY_ANSWER;
    }
    if (rd->cr != (c == '\n')) {
        return BK_ERR_PROXY_ANSWER; /* a bare CR or a bare LF */
    }
    if (c == '\r') {
        rd->cr = true;
        return BK_OK;
    }
    if (c == '\n') {
        rd->cr = false;
        if (rd->status < 0) {
            rd->status = bk_proxy_status(rd->line, rd->line_len);
            return rd->status < 0 ? BK_ERR_PROXY_ANSWER : BK_OK;
        }
        rd->done = rd->line_bytes == 0;
        rd->line_bytes = 0;
        return BK_OK;
    }
    if (rd->status < 0) {
        if (rd->line_len >= sizeof rd->line) {
            return BK_ERR_PROXY_ANSWER;
        }
        rd->line[rd->line_len++] = c;
    } else {
        rd->line_bytes++;
    }
    return BK_OK;
}

bk_result bk_proxy_tunnel(const bk_stream *carrier, const bk_proxy *proxy, const char *host,
                          uint16_t port, int *status) {
    if (status != NULL) {
        *status = 0;
    }
    if (carrier == NULL || carrier->recv == NULL || proxy == NULL || host == NULL ||
        status == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_result r = bk_proxy_send_connect(carrier, proxy, host, port);
    if (r != BK_OK) {
        return r;
    }
    bk_proxy_reader rd = {.status = -1};
    unsigned idle = 0;
    while (!rd.done) {
        uint8_t chunk[64];
        int32_t n = carrier->recv(carrier->ctx, chunk, sizeof chunk);
        if (n < 0) {
            return (bk_result)n;
        }
        if (n == 0) {
            if (++idle >= BK_STREAM_IDLE_LIMIT) {
                return BK_ERR_STREAM_STALLED;
            }
            continue;
        }
        idle = 0;
        for (int32_t i = 0; i < n; i++) {
            if (rd.done) {
                /* Bytes before the client spoke: no TLS server sends first. */
                return BK_ERR_PROXY_ANSWER;
            }
            r = bk_proxy_take(&rd, (char)chunk[i]);
            if (r != BK_OK) {
                return r;
            }
            if (rd.status >= 0) {
                *status = rd.status;
                if (rd.status / 100 != 2) {
                    return BK_ERR_PROXY_REFUSED; /* the rest of a refusal is not read */
                }
            }
        }
    }
    return BK_OK;
}
