/* SPDX-License-Identifier: MIT */
/* The TCP carrier: a bk_stream over the platform's bk_tcp_* functions, with a per-wait timeout
 * and a deadline, written once for every platform (it uses bk_platform.h alone).
 *
 *     bk_tcp_stream tcp;
 *     r = bk_tcp_stream_connect(&tcp, "management.azure.com", 443, 10000, deadline_ms);
 *     bk_stream s = bk_tcp_stream_of(&tcp);       // or TLS over it: bk_tls_start(..., &s, ...)
 *     n = s.recv(s.ctx, buf, sizeof buf);
 *     bk_tcp_stream_close(&tcp);
 *
 * Connect (name resolution and TCP connect) lives here: bk_tcp_stream_connect gives
 * bk_tcp_connect min(timeout_ms, what is left until deadline_ms), and starts nothing once the
 * deadline has passed.
 *
 * Each send or recv waits at most timeout_ms from its start, and never past the deadline:
 *  - the platform's answer passes through: bytes moved, BK_ERR_STREAM_CLOSED for the peer's FIN
 *    (the orderly close of plain TCP), BK_ERR_TIMEOUT when that wait ran out, other errors as
 *    they are;
 *  - a 0 from the platform (a polled stack such as lwIP's raw API answers "nothing yet" after
 *    polling its interface once) is no answer: the call asks again, with what is left of its wait,
 *    until bytes move, an error comes or the wait is over (BK_ERR_TIMEOUT). The platform's own
 *    wait (POSIX waits in poll()) is what keeps this from spinning; a polled stack spins by design,
 *    since each call is what drives it;
 *  - once the deadline has passed, calls answer BK_ERR_TIMEOUT without touching the socket.
 * The probe (bk_tcp_stream_set_deadline with wait false, for TLS's bk_tls_is_reusable) makes each
 * call check once with a timeout of 0, whatever the deadline, and answer 0 for "nothing there"
 * (also when the platform says BK_ERR_TIMEOUT). So send and recv of this stream never answer 0
 * otherwise. */
#ifndef BK_TCP_STREAM_H
#define BK_TCP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "bk_platform.h"
#include "bk_result.h"
#include "bk_stream.h"

typedef struct bk_tcp_stream {
    bk_socket socket;     /* handle -1 when closed */
    uint32_t timeout_ms;  /* the longest one send or recv waits */
    uint64_t deadline_ms; /* monotonic: no wait goes past it (0: none) */
    bool wait;            /* false while probing: check once, never wait */
} bk_tcp_stream;

/* Resolves host (a name, an IPv4 literal or a bracketed IPv6 literal) and connects within
 * min(timeout_ms, deadline_ms - now) (deadline_ms 0: timeout_ms alone). BK_ERR_TIMEOUT at once
 * when the deadline has passed; BK_ERR_DNS, BK_ERR_CONNECT, BK_ERR_TIMEOUT from the platform. On
 * failure ts is closed. Afterwards each send or recv waits up to timeout_ms, never past
 * deadline_ms. */
BK_MUST_CHECK bk_result bk_tcp_stream_connect(bk_tcp_stream *ts, const char *host, uint16_t port,
                                              uint32_t timeout_ms, uint64_t deadline_ms);
/* Makes ts a closed stream (bk_tcp_stream_close is then harmless) without connecting. */
void bk_tcp_stream_init(bk_tcp_stream *ts);
/* The core seam over ts; ts must outlive it. */
bk_stream bk_tcp_stream_of(bk_tcp_stream *ts);
void bk_tcp_stream_set_timeout(bk_tcp_stream *ts, uint32_t timeout_ms);
/* A bk_stream_deadline_fn (bk_stream.h); ctx is the bk_tcp_stream. */
void bk_tcp_stream_set_deadline(void *ctx, uint64_t deadline_ms, bool wait);
/* Closes the socket; harmless on a closed stream. */
void bk_tcp_stream_close(bk_tcp_stream *ts);

#endif
