/* SPDX-License-Identifier: MIT */
/* The HTTP/1.1 response reader: a byte-driven state machine over one caller buffer.
 *
 * Bytes are received at buf + w, where w is the write cursor of the current phase (the header
 * line being assembled, or the body decoded so far). Every byte either stays (copied to w, which
 * never runs ahead of the byte's own position) or is dropped (CR/LF, chunk framing). So header
 * lines, then the de-chunked body, are rebuilt in place with no second buffer. When the buffer is
 * full, framing bytes that may still follow (a chunk trailer, the closing CRLFs) are received
 * into a few bytes of stack instead. */
#include <limits.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_http.h"

typedef enum phase {
    PHASE_STATUS_LINE,
    PHASE_HEADER_LINE,
    PHASE_BODY_LENGTH,
    PHASE_BODY_UNTIL_CLOSE,
    PHASE_CHUNK_SIZE,
    PHASE_CHUNK_SIZE_SPACE, /* whitespace after the size, before ';' or CR */
    PHASE_CHUNK_EXTENSION,
    PHASE_CHUNK_SIZE_LF,
    PHASE_CHUNK_DATA,
    PHASE_CHUNK_DATA_CR,
    PHASE_CHUNK_DATA_LF,
    PHASE_TRAILER_LINE,
    PHASE_DONE
} phase;

#define CHUNK_LINE_MAX 256 /* a chunk-size line with its extensions */

typedef struct reader {
    char *buf;
    size_t cap;
    size_t w;          /* write cursor: end of the current line, or of the body so far */
    size_t line_start; /* where the current line starts: 0, or after the body for trailers */
    phase ph;
    bool saw_cr;
    bool interim; /* inside a 1xx answer: its headers are checked, not kept */
    bool http10;
    bool connection_close;
    bool connection_keep_alive;
    bool have_length;
    bool chunked;
    bool transfer_encoding_seen;
    uint64_t content_length;
    uint64_t chunk_left;
    unsigned chunk_digits;
    size_t chunk_line_len;
    size_t header_bytes;
    bool extra_bytes; /* bytes arrived after the end of the response */
    bk_http_response *resp;
} reader;

static bool is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

/* A timing or rate hint: -1 when it is not all digits; a huge one is clamped, which only makes
 * it too long to honour. */
static int64_t hint_number(const char *s, size_t len) {
    uint64_t v;
    return bk_ascii_decimal(s, len, INT64_MAX, &v) == BK_DECIMAL_INVALID ? -1 : (int64_t)v;
}

/* Calls fn on each element of a comma-separated header list, with OWS trimmed. */
typedef bk_result (*list_fn)(reader *r, const char *item, size_t len);

static bk_result for_each_list_item(reader *r, const char *v, size_t len, list_fn fn) {
    size_t i = 0;
    while (i <= len) {
        size_t start = i;
        while (i < len && v[i] != ',') {
            i++;
        }
        size_t end = i;
        while (start < end && is_ows(v[start])) {
            start++;
        }
        while (end > start && is_ows(v[end - 1])) {
            end--;
        }
        bk_result res = fn(r, v + start, end - start);
        if (res != BK_OK) {
            return res;
        }
        i++;
    }
    return BK_OK;
}

static bk_result on_length_item(reader *r, const char *item, size_t len) {
    uint64_t v;
    if (bk_ascii_decimal(item, len, INT64_MAX, &v) != BK_DECIMAL_OK) {
        return BK_ERR_HTTP_LENGTH_INVALID;
    }
    if (r->have_length && r->content_length != v) {
        return BK_ERR_HTTP_LENGTH_CONFLICT;
    }
    r->have_length = true;
    r->content_length = v;
    return BK_OK;
}

static bk_result on_transfer_coding(reader *r, const char *item, size_t len) {
    /* Only a single "chunked" frames a body we can read; chunked twice is invalid too. */
    if (!bk_ascii_ieq(item, len, "chunked") || r->chunked) {
        return BK_ERR_HTTP_TRANSFER_CODING;
    }
    r->chunked = true;
    return BK_OK;
}

static bk_result on_content_coding(reader *r, const char *item, size_t len) {
    (void)r;
    return (len == 0 || bk_ascii_ieq(item, len, "identity")) ? BK_OK : BK_ERR_HTTP_CONTENT_CODING;
}

static bk_result on_connection_option(reader *r, const char *item, size_t len) {
    if (bk_ascii_ieq(item, len, "close")) {
        r->connection_close = true;
    } else if (bk_ascii_ieq(item, len, "keep-alive")) {
        r->connection_keep_alive = true;
    }
    return BK_OK;
}

/* Diagnostic headers never fail an answer: one longer than its field is cut and marked. */
static void keep_text(char *field, size_t field_size, const char *v, size_t len) {
    (void)bk_cut_copy(field, field_size, v, len);
}

/* Repeated WWW-Authenticate headers form one list, as HTTP defines. A list that does not fit is
 * cut as a whole and marked, and resp->www_authenticate_cut says so: a cut challenge is never
 * acted on. */
static void append_challenge(bk_http_response *resp, const char *v, size_t len) {
    char *field = resp->www_authenticate;
    const size_t cap = sizeof resp->www_authenticate;
    if (resp->www_authenticate_cut) {
        return;
    }
    size_t have = strlen(field);
    size_t sep = have > 0 ? 2 : 0;
    if (have + sep + len < cap) {
        memcpy(field + have, ", ", sep);
        memcpy(field + have + sep, v, len);
        field[have + sep + len] = '\0';
        return;
    }
    size_t room = cap - 1 - BK_CUT_MARK_LEN;
    size_t end;
    if (have + sep <= room) {
        /* have + sep + len >= cap, so v reaches past room: v[room - have - sep] exists. */
        size_t keep = bk_utf8_prefix(v, len, room - have - sep);
        memcpy(field + have, ", ", sep);
        memcpy(field + have + sep, v, keep);
        end = have + sep + keep;
    } else {
        end = have <= room ? have : bk_utf8_prefix(field, have, room);
    }
    memcpy(field + end, BK_CUT_MARK, BK_CUT_MARK_LEN + 1);
    resp->www_authenticate_cut = true;
}

static bk_result on_header(reader *r, const char *name, size_t name_len, const char *v,
                           size_t len) {
    bk_http_response *resp = r->resp;
    if (bk_ascii_ieq(name, name_len, "content-length")) {
        return for_each_list_item(r, v, len, on_length_item);
    }
    if (bk_ascii_ieq(name, name_len, "transfer-encoding")) {
        r->transfer_encoding_seen = true;
        return for_each_list_item(r, v, len, on_transfer_coding);
    }
    if (bk_ascii_ieq(name, name_len, "content-encoding")) {
        return for_each_list_item(r, v, len, on_content_coding);
    }
    if (bk_ascii_ieq(name, name_len, "connection")) {
        return for_each_list_item(r, v, len, on_connection_option);
    }
    if (bk_ascii_ieq(name, name_len, "x-ms-request-id")) {
        keep_text(resp->request_id, sizeof resp->request_id, v, len);
    } else if (bk_ascii_ieq(name, name_len, "request-id")) {
        /* The Batch data plane's name for it; ARM's x-ms-request-id wins when both come. */
        if (resp->request_id[0] == '\0') {
            keep_text(resp->request_id, sizeof resp->request_id, v, len);
        }
    } else if (bk_ascii_ieq(name, name_len, "x-ms-correlation-request-id")) {
        keep_text(resp->correlation_id, sizeof resp->correlation_id, v, len);
    } else if (bk_ascii_ieq(name, name_len, "www-authenticate")) {
        append_challenge(resp, v, len);
    } else if (bk_ascii_ieq(name, name_len, "retry-after")) {
        /* Unparseable timing and rate hints are ignored, as HTTP says for Retry-After. */
        resp->retry_after_s = hint_number(v, len);
        if (resp->retry_after_s < 0) {
            resp->retry_after_date_s = bk_http_parse_date(v, len);
        }
    } else if (bk_ascii_ieq(name, name_len, "retry-after-ms")) {
        resp->retry_after_ms = hint_number(v, len);
    } else if (bk_ascii_ieq(name, name_len, "x-ms-retry-after-ms")) {
        resp->x_ms_retry_after_ms = hint_number(v, len);
    } else if (bk_ascii_ieq(name, name_len, "x-ms-ratelimit-remaining-subscription-writes")) {
        resp->ratelimit_remaining_writes = hint_number(v, len);
    } else if (bk_ascii_ieq(name, name_len, "date")) {
        resp->date_s = bk_http_parse_date(v, len);
    }
    return BK_OK;
}

void bk_http_response_reset(bk_http_response *resp) {
    memset(resp, 0, sizeof *resp);
    resp->date_s = -1;
    resp->retry_after_s = -1;
    resp->retry_after_date_s = -1;
    resp->retry_after_ms = -1;
    resp->x_ms_retry_after_ms = -1;
    resp->ratelimit_remaining_writes = -1;
}

/* "HTTP/1.x SP 3DIGIT [SP reason-phrase]" */
static bk_result on_status_line(reader *r, const char *line, size_t len) {
    if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
        line[8] != ' ' || (len > 12 && line[12] != ' ')) {
        return BK_ERR_HTTP_STATUS_LINE;
    }
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9') {
            return BK_ERR_HTTP_STATUS_LINE;
        }
        status = status * 10 + (line[i] - '0');
    }
    for (size_t i = 13; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return BK_ERR_HTTP_STATUS_LINE;
        }
    }
    /* 101 would switch protocols, which batchkey never asks for. */
    if (status < 100 || status > 599 || status == 101) {
        return BK_ERR_HTTP_STATUS_LINE;
    }
    r->interim = status < 200;
    if (!r->interim) {
        bk_http_response_reset(r->resp);
        r->resp->status = status;
        r->http10 = line[7] == '0';
    }
    r->ph = PHASE_HEADER_LINE;
    return BK_OK;
}

static bk_result on_field_line(reader *r, const char *line, size_t len, bool keep) {
    if (is_ows(line[0])) {
        return BK_ERR_HTTP_OBS_FOLD;
    }
    size_t colon = 0;
    while (colon < len && line[colon] != ':') {
        if (!is_tchar((unsigned char)line[colon])) {
            return BK_ERR_HTTP_HEADER_SYNTAX;
        }
        colon++;
    }
    if (colon == len) {
        return BK_ERR_HTTP_HEADER_SYNTAX;
    }
    if (colon == 0) {
        return BK_ERR_HTTP_EMPTY_HEADER_NAME;
    }
    size_t start = colon + 1;
    size_t end = len;
    while (start < end && is_ows(line[start])) {
        start++;
    }
    while (end > start && is_ows(line[end - 1])) {
        end--;
    }
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return BK_ERR_HTTP_HEADER_SYNTAX;
        }
    }
    return keep ? on_header(r, line, colon, line + start, end - start) : BK_OK;
}

/* The blank line after a final response's headers: decide how the body is framed. */
static bk_result start_body(reader *r) {
    bk_http_response *resp = r->resp;
    if (r->have_length && r->transfer_encoding_seen) {
        return BK_ERR_HTTP_LENGTH_AND_CHUNKED;
    }
    resp->keep_alive = !r->connection_close && (!r->http10 || r->connection_keep_alive);
    r->w = 0;
    if (resp->status == 204 || resp->status == 304) {
        r->ph = PHASE_DONE;
    } else if (r->chunked) {
        r->ph = PHASE_CHUNK_SIZE;
    } else if (r->have_length) {
        if (r->content_length > r->cap) {
            return BK_ERR_HTTP_BODY_TOO_LARGE;
        }
        r->ph = r->content_length == 0 ? PHASE_DONE : PHASE_BODY_LENGTH;
    } else {
        resp->keep_alive = false;
        r->ph = PHASE_BODY_UNTIL_CLOSE;
    }
    return BK_OK;
}

static bk_result on_line(reader *r) {
    const char *line = r->buf + r->line_start;
    size_t len = r->w - r->line_start;
    r->w = r->line_start;
    if (r->ph == PHASE_STATUS_LINE) {
        return on_status_line(r, line, len);
    }
    if (len > 0) {
        return on_field_line(r, line, len, r->ph == PHASE_HEADER_LINE && !r->interim);
    }
    if (r->ph == PHASE_TRAILER_LINE) {
        r->ph = PHASE_DONE;
        return BK_OK;
    }
    if (r->interim) {
        r->ph = PHASE_STATUS_LINE;
        return BK_OK;
    }
    return start_body(r);
}

/* One byte of a status, header or trailer line. */
static bk_result line_byte(reader *r, char c) {
    if (++r->header_bytes > BK_HTTP_HEADER_BYTES_MAX) {
        return BK_ERR_HTTP_HEADERS_TOO_LARGE;
    }
    if (c == '\0') {
        return BK_ERR_HTTP_NUL;
    }
    if (r->saw_cr) {
        if (c != '\n') {
            return BK_ERR_HTTP_BARE_CR;
        }
        r->saw_cr = false;
        return on_line(r);
    }
    if (c == '\r') {
        r->saw_cr = true;
        return BK_OK;
    }
    if (c == '\n') {
        return BK_ERR_HTTP_BARE_LF;
    }
    if (r->w >= r->cap) {
        return BK_ERR_HTTP_HEADERS_TOO_LARGE;
    }
    r->buf[r->w++] = c;
    return BK_OK;
}

static bk_result chunk_size_line_byte(reader *r, char c) {
    if (++r->chunk_line_len > CHUNK_LINE_MAX) {
        return BK_ERR_HTTP_CHUNK_SYNTAX;
    }
    if (r->ph == PHASE_CHUNK_SIZE_LF) {
        if (c != '\n') {
            return BK_ERR_HTTP_BARE_CR;
        }
        r->chunk_line_len = 0;
        if (r->chunk_left == 0) {
            r->line_start = r->w; /* trailer lines are checked after the body, then dropped */
            r->ph = PHASE_TRAILER_LINE;
        } else if (r->chunk_left > r->cap - r->w) {
            return BK_ERR_HTTP_BODY_TOO_LARGE;
        } else {
            r->ph = PHASE_CHUNK_DATA;
        }
        return BK_OK;
    }
    if (c == '\r') {
        if (r->chunk_digits == 0) {
            return BK_ERR_HTTP_CHUNK_SIZE_INVALID;
        }
        r->ph = PHASE_CHUNK_SIZE_LF;
        return BK_OK;
    }
    if (c == '\n') {
        return BK_ERR_HTTP_BARE_LF;
    }
    if (r->ph == PHASE_CHUNK_EXTENSION) {
        unsigned char u = (unsigned char)c;
        return ((u < 0x20 && c != '\t') || u == 0x7f) ? BK_ERR_HTTP_CHUNK_SYNTAX : BK_OK;
    }
    if (c == ';' && r->chunk_digits > 0) {
        r->ph = PHASE_CHUNK_EXTENSION;
        return BK_OK;
    }
    if (is_ows(c) && r->chunk_digits > 0) {
        r->ph = PHASE_CHUNK_SIZE_SPACE;
        return BK_OK;
    }
    int digit = bk_ascii_hex_value(c);
    if (digit < 0 || r->ph == PHASE_CHUNK_SIZE_SPACE) {
        return BK_ERR_HTTP_CHUNK_SIZE_INVALID;
    }
    if (r->chunk_left > (UINT64_MAX >> 4)) {
        return BK_ERR_HTTP_CHUNK_SIZE_OVERFLOW;
    }
    r->chunk_left = (r->chunk_left << 4) | (uint64_t)digit;
    r->chunk_digits++;
    return BK_OK;
}

static bk_result append_body(reader *r, const char *src, size_t n) {
    if (n > r->cap - r->w) {
        return BK_ERR_HTTP_BODY_TOO_LARGE;
    }
    memmove(r->buf + r->w, src, n);
    r->w += n;
    return BK_OK;
}

/* Consumes n received bytes at src; stops early only at an error or the response's end. */
static bk_result consume(reader *r, const char *src, size_t n, size_t *used) {
    size_t i = 0;
    bk_result res = BK_OK;
    while (i < n && res == BK_OK && r->ph != PHASE_DONE) {
        size_t run;
        switch (r->ph) {
        case PHASE_BODY_LENGTH:
            run = n - i;
            if (run > r->content_length - r->w) {
                run = (size_t)(r->content_length - r->w);
            }
            res = append_body(r, src + i, run);
            i += run;
            if (res == BK_OK && r->w == r->content_length) {
                r->ph = PHASE_DONE;
            }
            break;
        case PHASE_BODY_UNTIL_CLOSE:
            res = append_body(r, src + i, n - i);
            i = n;
            break;
        case PHASE_CHUNK_DATA:
            run = n - i;
            if (run > r->chunk_left) {
                run = (size_t)r->chunk_left;
            }
            res = append_body(r, src + i, run);
            i += run;
            r->chunk_left -= run;
            if (r->chunk_left == 0) {
                r->ph = PHASE_CHUNK_DATA_CR;
            }
            break;
        case PHASE_CHUNK_DATA_CR:
            res = src[i] == '\r'   ? BK_OK
                  : src[i] == '\n' ? BK_ERR_HTTP_BARE_LF
                                   : BK_ERR_HTTP_CHUNK_SYNTAX;
            r->ph = PHASE_CHUNK_DATA_LF;
            i++;
            break;
        case PHASE_CHUNK_DATA_LF:
            res = src[i] == '\n' ? BK_OK : BK_ERR_HTTP_BARE_CR;
            r->ph = PHASE_CHUNK_SIZE;
            r->chunk_digits = 0;
            i++;
            break;
        case PHASE_CHUNK_SIZE:
        case PHASE_CHUNK_SIZE_SPACE:
        case PHASE_CHUNK_EXTENSION:
        case PHASE_CHUNK_SIZE_LF:
            res = chunk_size_line_byte(r, src[i++]);
            break;
        default:
            res = line_byte(r, src[i++]);
            break;
        }
    }
    *used = i;
    return res;
}

bk_result bk_http_read_response(const bk_stream *stream, char *buf, size_t cap,
                                bk_http_response *out) {
    if (stream == NULL || stream->recv == NULL || buf == NULL || cap == 0 || out == NULL ||
        cap > INT32_MAX) {
        return BK_ERR_ARGUMENT;
    }
    reader r;
    memset(&r, 0, sizeof r);
    r.buf = buf;
    r.cap = cap;
    r.resp = out;
    r.ph = PHASE_STATUS_LINE;
    bk_http_response_reset(out);

    size_t received = 0;
    unsigned idle = 0;
    char spill[16];
    while (r.ph != PHASE_DONE) {
        /* Receive at the write cursor; a full buffer can still take framing bytes. */
        char *dst = buf + r.w;
        size_t room = cap - r.w;
        if (room == 0) {
            dst = spill;
            room = sizeof spill;
        }
        if (r.ph == PHASE_BODY_LENGTH && room > r.content_length - r.w) {
            room = (size_t)(r.content_length - r.w);
        }
        int32_t got = stream->recv(stream->ctx, (uint8_t *)dst, room);
        if (got == 0) {
            if (++idle >= BK_STREAM_IDLE_LIMIT) {
                return BK_ERR_STREAM_STALLED;
            }
            continue;
        }
        idle = 0;
        if (got == BK_ERR_STREAM_CLOSED || got == BK_ERR_STREAM_UNCLEAN_CLOSE) {
            /* Only an orderly close ends a body framed by the close; TLS without close_notify
             * may be an attacker's or a middlebox's cut. */
            if (r.ph == PHASE_BODY_UNTIL_CLOSE && got == BK_ERR_STREAM_CLOSED) {
                break;
            }
            /* Nothing at all: a reused connection the server had closed. */
            return received == 0 ? BK_ERR_STREAM_CLOSED : BK_ERR_HTTP_TRUNCATED;
        }
        if (got < 0) {
            return (bk_result)got;
        }
        if ((size_t)got > room) {
            return BK_ERR_STREAM_RECV;
        }
        received += (size_t)got;
        size_t used = 0;
        bk_result res = consume(&r, dst, (size_t)got, &used);
        if (res != BK_OK) {
            out->body = NULL;
            return res;
        }
        if (used < (size_t)got) {
            r.extra_bytes = true;
        }
    }
    if (r.extra_bytes) {
        out->keep_alive = false;
    }
    out->body = buf;
    out->body_len = r.w;
    return BK_OK;
}

static int64_t days_from_epoch(int64_t year, int month, int day) {
    static const int before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t days = 0;
    for (int64_t y = 1970; y < year; y++) {
        days += (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 366 : 365;
    }
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    days += before_month[month] + (leap && month > 1 ? 1 : 0) + day - 1;
    return days;
}

static int two_digits(const char *s) {
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') {
        return -1;
    }
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* A four-digit year, or -1. */
static int64_t four_digits(const char *s) {
    int high = two_digits(s);
    int low = two_digits(s + 2);
    return high < 0 || low < 0 ? -1 : high * 100 + low;
}

/* Index of the 3-letter name at s in a table of 3-letter names, or -1. */
static int name_index(const char *s, const char *table, int count) {
    for (int i = 0; i < count; i++) {
        if (memcmp(s, table + 3 * (size_t)i, 3) == 0) {
            return i;
        }
    }
    return -1;
}

static const char month_names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
static const char weekday_names[] = "MonTueWedThuFriSatSun";
static const char *const long_weekday_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                 "Friday", "Saturday", "Sunday"};

/* "08:49:37" to seconds of the day, or -1. */
static int64_t time_of_day(const char *s) {
    if (s[2] != ':' || s[5] != ':') {
        return -1;
    }
    int hour = two_digits(s);
    int minute = two_digits(s + 3);
    int second = two_digits(s + 6);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
        return -1;
    }
    return hour * 3600 + minute * 60 + second;
}

static int64_t date_to_unix(int64_t year, int month, int day, int64_t seconds_of_day) {
    static const int month_days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if (year < 1970 || month < 0 || day < 1 || day > month_days[month] ||
        (month == 1 && day == 29 && !leap) || seconds_of_day < 0) {
        return -1;
    }
    return days_from_epoch(year, month, day) * 86400 + seconds_of_day;
}

/* RFC 9110 5.6.7: a recipient accepts all three forms; every current server sends the first. */
int64_t bk_http_parse_date(const char *text, size_t len) {
    if (len == 29 && text[3] == ',') {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        if (name_index(text, weekday_names, 7) < 0 || text[4] != ' ' || text[7] != ' ' ||
            text[11] != ' ' || text[16] != ' ' || text[25] != ' ' ||
            memcmp(text + 26, "GMT", 3) != 0) {
            return -1;
        }
        return date_to_unix(four_digits(text + 12), name_index(text + 8, month_names, 12),
                            two_digits(text + 5), time_of_day(text + 17));
    }
    if (len == 24 && text[3] == ' ') {
        /* asctime: "Sun Nov  6 08:49:37 1994", the day padded with a space */
        if (name_index(text, weekday_names, 7) < 0 || text[7] != ' ' || text[10] != ' ' ||
            text[19] != ' ') {
            return -1;
        }
        char day_text[2] = {text[8] == ' ' ? '0' : text[8], text[9]};
        return date_to_unix(four_digits(text + 20), name_index(text + 4, month_names, 12),
                            two_digits(day_text), time_of_day(text + 11));
    }
    for (int i = 0; i < 7; i++) {
        /* rfc850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years 70-99 are 19xx */
        size_t name_len = strlen(long_weekday_names[i]);
        if (len != name_len + 24 || memcmp(text, long_weekday_names[i], name_len) != 0) {
            continue;
        }
        const char *d = text + name_len;
        if (d[0] != ',' || d[1] != ' ' || d[4] != '-' || d[8] != '-' || d[11] != ' ' ||
            d[20] != ' ' || memcmp(d + 21, "GMT", 3) != 0) {
            return -1;
        }
        int year_low = two_digits(d + 9);
        if (year_low < 0) {
            return -1;
        }
        return date_to_unix(year_low >= 70 ? 1900 + year_low : 2000 + year_low,
                            name_index(d + 5, month_names, 12), two_digits(d + 2),
                            time_of_day(d + 12));
    }
    return -1;
}

bk_result bk_http_format_date(int64_t unix_s, char out[BK_HTTP_DATE_SIZE]) {
    /* Up to 9999-12-31T23:59:59Z: four digits of year. */
    if (unix_s < 0 || unix_s > 253402300799) {
        return BK_ERR_ARGUMENT;
    }
    int64_t days = unix_s / 86400;
    int64_t seconds = unix_s % 86400;
    int weekday = (int)((days + 3) % 7); /* 1970-01-01 was a Thursday; 0 is Monday */
    /* Civil date from days since the epoch (era arithmetic over 400-year cycles). */
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int64_t day_of_era = z - era * 146097;
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t mp = (5 * day_of_year + 2) / 153;
    int day = (int)(day_of_year - (153 * mp + 2) / 5 + 1);
    int month = (int)(mp < 10 ? mp + 3 : mp - 9); /* 1-12 */
    int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
    const int fields[] = {day, (int)(seconds / 3600), (int)(seconds / 60 % 60),
                          (int)(seconds % 60)};
    char *p = out;
    memcpy(p, weekday_names + 3 * (size_t)weekday, 3);
    p += 3;
    *p++ = ',';
    *p++ = ' ';
    *p++ = (char)('0' + fields[0] / 10);
    *p++ = (char)('0' + fields[0] % 10);
    *p++ = ' ';
    memcpy(p, month_names + 3 * (size_t)(month - 1), 3);
    p += 3;
    *p++ = ' ';
    for (int64_t div = 1000; div > 0; div /= 10) {
        *p++ = (char)('0' + year / div % 10);
    }
    for (int i = 1; i < 4; i++) {
        *p++ = i == 1 ? ' ' : ':';
        *p++ = (char)('0' + fields[i] / 10);
        *p++ = (char)('0' + fields[i] % 10);
    }
    memcpy(p, " GMT", 5);
    return BK_OK;
}

int64_t bk_http_retry_after_ms(const bk_http_response *resp, int64_t now_s) {
    if (resp->retry_after_ms >= 0) {
        return resp->retry_after_ms;
    }
    if (resp->x_ms_retry_after_ms >= 0) {
        return resp->x_ms_retry_after_ms;
    }
    if (resp->retry_after_s >= 0) {
        return resp->retry_after_s > INT64_MAX / 1000 ? INT64_MAX : resp->retry_after_s * 1000;
    }
    if (resp->retry_after_date_s >= 0) {
        int64_t reference = resp->date_s >= 0 ? resp->date_s : now_s;
        if (reference < 0) {
            return -1;
        }
        int64_t delta = resp->retry_after_date_s - reference;
        return delta > 0 ? delta * 1000 : 0;
    }
    return -1;
}
