/* HTTP/1.1 for batchkey: endpoints, a bounded request writer and an incremental response reader.
 *
 *     bk_endpoint arm;
 *     r = bk_endpoint_parse(&arm, "https://management.azure.com");
 *     ... write a request into buf (bk_arm.h, bk_entra.h), bk_stream_send_all() it ...
 *     bk_http_response resp;
 *     r = bk_http_read_response(&stream, buf, sizeof buf, &resp);
 *     if (r == BK_OK && resp.status == 200) use(resp.body, resp.body_len);
 *
 * The same caller-owned buffer serves the request, then each response header line, then the
 * response body, which resp.body points into. */
#ifndef BK_HTTP_H
#define BK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_config.h"
#include "bk_result.h"
#include "bk_stream.h"

/* An https origin: scheme is always https; port 443 unless given. */
typedef struct bk_endpoint {
    char host[BK_HOST_MAX + 1];
    uint16_t port;
} bk_endpoint;

/* Accepts "https://host[:port]" with an optional trailing "/". The host is a DNS name, an IPv4
 * literal or a bracketed IPv6 literal (kept with its brackets, as the Host header wants it). */
BK_MUST_CHECK bk_result bk_endpoint_parse(bk_endpoint *out, const char *url);
/* True when ep holds what bk_endpoint_parse could produce; request writers check it. */
bool bk_endpoint_ok(const bk_endpoint *ep);

/* A bounded writer: appends never write past cap; the first overflow is remembered and reported
 * by bk_writer_finish. buf is the caller's. An append that does not fit fills buf up to cap (len ==
 * cap) and every later append is dropped, so buf[0, len) is always a prefix of the intended
 * output. With buf NULL the writer only counts: len grows, nothing is stored, cap is ignored. */
typedef struct bk_writer {
    char *buf;
    size_t cap;
    size_t len;
    bool overflow;
} bk_writer;

void bk_writer_init(bk_writer *w, char *buf, size_t cap);
void bk_write_bytes(bk_writer *w, const char *data, size_t len);
void bk_write_str(bk_writer *w, const char *s);
void bk_write_uint(bk_writer *w, uint64_t value);
/* Percent-encodes every byte outside RFC 3986 unreserved (A-Z a-z 0-9 - . _ ~). */
void bk_write_pct(bk_writer *w, const char *data, size_t len);
/* "Host: host[:port]\r\n", the port only when it is not 443. */
void bk_write_host_header(bk_writer *w, const bk_endpoint *ep);
/* BK_OK with *out_len set, or BK_ERR_REQUEST_OVERFLOW. */
BK_MUST_CHECK bk_result bk_writer_finish(const bk_writer *w, size_t *out_len);

/* True when value may go into a request line or header: no CR, LF, NUL, DEL or other control
 * byte. */
bool bk_header_value_ok(const char *value, size_t len);

/* A fresh UUID v4 (lowercase, 36 characters and a NUL) from the platform's entropy. */
BK_MUST_CHECK bk_result bk_uuid4(char out[37]);
/* The same, from 16 given random bytes (tests and deterministic callers). */
void bk_uuid4_from_bytes(const uint8_t random[16], char out[37]);
/* True when text is a GUID: 8-4-4-4-12 hex digits of any case, then the NUL. */
bool bk_guid_ok(const char *text);

#define BK_HTTP_ID_MAX 64 /* x-ms-request-id and friends are GUIDs; allow some slack */

/* One HTTP response. Text fields are "" when the header was absent; numbers are -1. */
typedef struct bk_http_response {
    int status;       /* the final status code; 1xx answers are skipped */
    const char *body; /* into the caller's buffer; valid until the buffer is reused */
    size_t body_len;
    bool keep_alive;                         /* the connection can carry another request */
    char request_id[BK_HTTP_ID_MAX + 1];     /* x-ms-request-id */
    char correlation_id[BK_HTTP_ID_MAX + 1]; /* x-ms-correlation-request-id */
    char www_authenticate[BK_WWW_AUTHENTICATE_MAX + 1];
    int64_t date_s;                     /* Date, Unix seconds */
    int64_t retry_after_s;              /* Retry-After given as delta-seconds */
    int64_t retry_after_date_s;         /* Retry-After given as an HTTP-date, Unix seconds */
    int64_t retry_after_ms;             /* retry-after-ms */
    int64_t x_ms_retry_after_ms;        /* x-ms-retry-after-ms */
    int64_t ratelimit_remaining_writes; /* x-ms-ratelimit-remaining-subscription-writes */
} bk_http_response;

/* Reads one response from stream into buf. Bytes may arrive in any split. Fails with a distinct
 * error on ambiguous or hostile framing, on a header section over BK_HTTP_HEADER_BYTES_MAX, and on
 * a body over cap. Retry-After values that do not parse are ignored, as HTTP says. */
BK_MUST_CHECK bk_result bk_http_read_response(const bk_stream *stream, char *buf, size_t cap,
                                              bk_http_response *out);

/* The delay the service asked for, in milliseconds, or -1 when it asked for none. Prefers the
 * millisecond headers; an HTTP-date is measured against the response's own Date when present
 * (so clock skew does not matter), else against now_s. */
int64_t bk_http_retry_after_ms(const bk_http_response *resp, int64_t now_s);

/* Parses an HTTP-date (IMF-fixdate, or the obsolete rfc850 and asctime forms) to Unix seconds;
 * -1 if malformed or before 1970. */
int64_t bk_http_parse_date(const char *text, size_t len);

#endif
