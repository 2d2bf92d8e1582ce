/* SPDX-License-Identifier: MIT */
/* The HTTP/1.1 response reader: incremental, bounded, strict about framing.
 *
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

#define BK_HTTP_ID_MAX 64 /* x-ms-request-id and friends are GUIDs; allow some slack */

/* One HTTP response. Text fields are "" when the header was absent; numbers are -1. Text longer
 * than its field is cut at a character boundary and ends in BK_CUT_MARK (bk_ascii.h): these
 * headers are diagnostics, and an overlong one never fails an answer. */
typedef struct bk_http_response {
    int status;       /* the final status code; 1xx answers are skipped */
    const char *body; /* into the caller's buffer; valid until the buffer is reused */
    size_t body_len;
    bool keep_alive;                     /* the connection can carry another request */
    char request_id[BK_HTTP_ID_MAX + 1]; /* x-ms-request-id (the Batch data plane: request-id) */
    char correlation_id[BK_HTTP_ID_MAX + 1]; /* x-ms-correlation-request-id */
    char www_authenticate[BK_WWW_AUTHENTICATE_MAX + 1];
    bool www_authenticate_cut;          /* the challenges did not fit: not to be acted on */
    int64_t date_s;                     /* Date, Unix seconds */
    int64_t retry_after_s;              /* Retry-After given as delta-seconds */
    int64_t retry_after_date_s;         /* Retry-After given as an HTTP-date, Unix seconds */
    int64_t retry_after_ms;             /* retry-after-ms */
    int64_t x_ms_retry_after_ms;        /* x-ms-retry-after-ms */
    int64_t ratelimit_remaining_writes; /* x-ms-ratelimit-remaining-subscription-writes */
} bk_http_response;

/* Reads one response from stream into buf. Bytes may arrive in any split. Fails with a distinct
 * error on ambiguous or hostile framing, on a header section over BK_HTTP_HEADER_BYTES_MAX, and on
 * a body over cap. A body framed by the connection's close ends only at an orderly close
 * (BK_ERR_STREAM_CLOSED); BK_ERR_STREAM_UNCLEAN_CLOSE makes it BK_ERR_HTTP_TRUNCATED. Retry-After
 * values that do not parse are ignored, as HTTP says. */
BK_MUST_CHECK bk_result bk_http_read_response(const bk_stream *stream, char *buf, size_t cap,
                                              bk_http_response *out);

/* Empties resp: no status (0), "" texts, -1 numbers. */
void bk_http_response_reset(bk_http_response *resp);

/* The delay the service asked for, in milliseconds, or -1 when it asked for none. Prefers the
 * millisecond headers; an HTTP-date is measured against the response's own Date when present
 * (so clock skew does not matter), else against now_s. */
int64_t bk_http_retry_after_ms(const bk_http_response *resp, int64_t now_s);

/* An IMF-fixdate ("Wed, 02 Dec 2026 14:18:04 GMT") and its NUL. */
#define BK_HTTP_DATE_SIZE 30
/* Formats Unix seconds as an IMF-fixdate; BK_ERR_ARGUMENT before 1970 or after year 9999. */
BK_MUST_CHECK bk_result bk_http_format_date(int64_t unix_s, char out[BK_HTTP_DATE_SIZE]);

/* Parses an HTTP-date (IMF-fixdate, or the obsolete rfc850 and asctime forms) to Unix seconds;
 * -1 if malformed or before 1970. */
int64_t bk_http_parse_date(const char *text, size_t len);

#endif
