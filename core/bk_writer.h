/* SPDX-License-Identifier: MIT */
/* The bounded writer that builds requests (and log lines) in caller-owned buffers.
 *
 *     bk_writer w;
 *     bk_writer_init(&w, buf, sizeof buf);
 *     bk_write_str(&w, "GET / HTTP/1.1\r\n");
 *     bk_write_host_header(&w, &endpoint);
 *     r = bk_writer_finish(&w, &len);      // BK_ERR_REQUEST_OVERFLOW if it did not fit
 */
#ifndef BK_WRITER_H
#define BK_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_endpoint.h"
#include "bk_result.h"

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
/* "Host: host[:port]\r\n", the port only when it is not the scheme's (443, or 80 for http). */
void bk_write_host_header(bk_writer *w, const bk_endpoint *ep);
/* BK_OK with *out_len set, or BK_ERR_REQUEST_OVERFLOW. */
BK_MUST_CHECK bk_result bk_writer_finish(const bk_writer *w, size_t *out_len);

/* True when value may go into a request line or header: no CR, LF, NUL, DEL or other control
 * byte. */
bool bk_header_value_ok(const char *value, size_t len);

#endif
