/* SPDX-License-Identifier: MIT */
/* The TLS stream: mbedTLS over any carrier stream, exposed as core's bk_stream.
 *
 *     static bk_tls_config tls;                 // one per run, shared by its connections
 *     bk_tls_conn conn;
 *     r = bk_tls_config_init(&tls, ca_file);    // NULL: BK_TLS_SYSTEM_CA_FILE
 *     r = bk_tls_connect(&conn, &tls, "management.azure.com", 443, 10000);  // over TCP, or:
 *     r = bk_tls_start(&conn, &tls, &carrier, carrier_deadline_fn, "host", deadline_ms);
 *     bk_stream s = bk_tls_stream(&conn);
 *     r = bk_stream_send_all(&s, request, request_len);
 *     n = s.recv(s.ctx, buf, sizeof buf);      // bytes, 0, BK_ERR_STREAM_CLOSED or an error
 *     bk_tls_close(&conn);
 *     bk_tls_config_free(&tls);
 *     bk_tls_global_free();                    // at exit, once nothing uses mbedTLS
 *
 * The carrier is any bk_stream (a bk_tcp_stream, an HTTP proxy's CONNECT tunnel, a modem's
 * UART): bk_tls_connect builds a TCP one inside the connection (core/bk_tcp_stream.h),
 * bk_tls_start takes one the caller built and keeps. What the carrier answers becomes mbedTLS's:
 * bytes as they are; 0 ("no progress yet") is mbedTLS's WANT_READ/WANT_WRITE, which the
 * handshake, close, and send and recv while a deadline is set retry until their deadline (without
 * one, send and recv answer 0 in turn); BK_ERR_STREAM_CLOSED (and
 * _UNCLEAN_CLOSE) is the end of the transport, reported as BK_ERR_STREAM_UNCLEAN_CLOSE unless
 * close_notify came first; BK_ERR_TIMEOUT ends the call with BK_ERR_TIMEOUT; anything else is a
 * transport error (BK_ERR_TLS_IO, the carrier's result in io_result). Deadlines flow down: every
 * deadline TLS works to (the handshake's, bk_tls_set_deadline's, close_notify's) is passed to
 * the carrier through its bk_stream_deadline_fn, so the carrier's waits end with it, and
 * bk_tls_is_reusable probes through the same function with wait false.
 *
 * Always: the server's chain is verified against the configured CAs (authmode required), its
 * name against the host (also sent as SNI, IP literals included), TLS 1.2 at least. No switch
 * turns any of this off. mbedTLS debug output is never enabled.
 *
 * Memory: both structs are caller-owned; mbedTLS allocates its record buffers and the parsed CA
 * chain through mbedtls_calloc (a static pool on MCU boards). A config and the connections made
 * from it are used by one thread at a time. */
#ifndef BK_TLS_H
#define BK_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/version.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/entropy.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

#include "bk_platform.h"
#include "bk_result.h"
#include "bk_session.h"
#include "bk_stream.h"
#include "bk_tcp_stream.h"

/* The CA bundle used when no file is named (Debian's ca-certificates). */
#ifndef BK_TLS_SYSTEM_CA_FILE
#define BK_TLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#endif

/* At most this long (and never past the stream's deadline; over TCP, never longer than one wait)
 * is spent sending close_notify in bk_tls_close. */
#ifndef BK_TLS_CLOSE_TIMEOUT_MS
#define BK_TLS_CLOSE_TIMEOUT_MS 1000
#endif

/* 0 leaves session resumption out (a board without room for the sessions). */
#ifndef BK_TLS_SESSIONS
#define BK_TLS_SESSIONS 1
#endif

typedef struct bk_tls_config {
    mbedtls_entropy_context entropy; /* platform entropy plus bk_entropy() */
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca_chain;
    mbedtls_ssl_config ssl;
    int last_mbedtls_error; /* raw mbedTLS code of the last failed init, for diagnosis */
    int ready;
} bk_tls_config;

typedef enum bk_tls_state {
    BK_TLS_CLOSED = 0,  /* no connection (never made, failed to connect, or closed) */
    BK_TLS_OPEN,        /* handshake done, usable */
    BK_TLS_PEER_CLOSED, /* the peer ended the connection; bk_tls_close still needed */
    BK_TLS_FAILED       /* a fatal error or timeout; bk_tls_close still needed */
} bk_tls_state;

typedef struct bk_tls_conn {
    mbedtls_ssl_context ssl;
    bk_stream carrier;                      /* what the records travel over */
    bk_stream_deadline_fn carrier_deadline; /* how its waits are bounded; NULL: it never waits */
    bk_tcp_stream tcp; /* the carrier bk_tls_connect builds (closed over any other carrier) */
    uint64_t end_ms;   /* monotonic: no send or recv goes past it (0: none); bk_tls_set_deadline */
    bk_result io_result; /* the last carrier failure seen by the callbacks */
    /* The carrier answered "nothing yet" during the last call to mbedTLS: a WANT_READ or
     * WANT_WRITE without it is mbedTLS's own (a post-handshake message handled), to call again. */
    bool carrier_idle;
    int last_mbedtls_error;
    uint32_t verify_flags; /* MBEDTLS_X509_BADCERT_* of the last handshake; 0 when verified */
    bk_tls_state state;
    bk_result closed_result; /* once the peer closed: BK_ERR_STREAM_CLOSED or _UNCLEAN_CLOSE */
#if BK_TLS_SESSIONS
    bk_tls_session *session;    /* where the session to resume comes from and goes (may be NULL) */
    char name[BK_HOST_MAX + 1]; /* the server's name and port, which the session is bound to */
    uint16_t port;
#endif
} bk_tls_conn;

/* Seeds the RNG and loads the CA certificates from a PEM file (NULL: BK_TLS_SYSTEM_CA_FILE).
 * BK_ERR_TLS_CA when the file is missing or holds no certificate, BK_ERR_ENTROPY when the RNG
 * cannot be seeded, BK_ERR_TLS_SETUP otherwise. On failure cfg holds nothing to free. */
BK_MUST_CHECK bk_result bk_tls_config_init(bk_tls_config *cfg, const char *ca_file);
/* The same with the CA certificates in memory (boards without a file system): PEM text with
 * its terminating NUL counted in ca_len, or DER. */
BK_MUST_CHECK bk_result bk_tls_config_init_ca(bk_tls_config *cfg, const uint8_t *ca, size_t ca_len);
/* Frees and wipes cfg; safe to call twice. Close its connections first. */
void bk_tls_config_free(bk_tls_config *cfg);
/* Ends mbedTLS's process-wide state (PSA crypto on 3.x; nothing on 2.28). Call it once at exit,
 * after every config is freed, and only if nothing else in the program still uses mbedTLS. */
void bk_tls_global_free(void);

/* Starts TLS over carrier, an open stream the caller built and keeps (bk_tls_close does not close
 * it; it must outlive c), and completes the handshake by deadline_ms (a bk_monotonic_ms()
 * instant, required), verifying the certificate for server_name (also sent as SNI; required:
 * verification always applies). carrier_deadline bounds the carrier's waits (see above); NULL
 * for a carrier that never waits (it answers 0 when nothing is ready), which TLS then polls until
 * its deadline. Afterwards the stream has no deadline until bk_tls_set_deadline. BK_ERR_TIMEOUT,
 * BK_ERR_TLS_VERIFY (chain or name), BK_ERR_TLS_HANDSHAKE, BK_ERR_TLS_SETUP. On failure c holds
 * nothing, but the diagnostics below still answer; bk_tls_close is harmless either way. */
BK_MUST_CHECK bk_result bk_tls_start(bk_tls_conn *c, bk_tls_config *cfg, const bk_stream *carrier,
                                     bk_stream_deadline_fn carrier_deadline,
                                     const char *server_name, uint64_t deadline_ms);
/* bk_tls_start over a TCP carrier of c's own (c->tcp): connects to host:port (a name, an IPv4
 * literal or a bracketed IPv6 literal) and completes the handshake within timeout_ms, verifying
 * the certificate for host. Afterwards each send or recv waits up to timeout_ms. BK_ERR_DNS,
 * BK_ERR_CONNECT and bk_tls_start's results. On failure nothing stays open, but the diagnostics
 * below still answer; bk_tls_close is harmless either way. */
BK_MUST_CHECK bk_result bk_tls_connect(bk_tls_conn *c, bk_tls_config *cfg, const char *host,
                                       uint16_t port, uint32_t timeout_ms);
/* The same, connecting to address but sending and verifying server_name (a pinned front end, a
 * local emulator reached by IP, tests). server_name is required: verification always applies. */
BK_MUST_CHECK bk_result bk_tls_connect_as(bk_tls_conn *c, bk_tls_config *cfg, const char *address,
                                          uint16_t port, const char *server_name,
                                          uint32_t timeout_ms);
/* bk_tls_start and bk_tls_connect that resume a session: session (NULL: none) is offered when it
 * is usable for the server's name and port (bk_tls_session_usable: the name the session was
 * verified for, never another), and is replaced, marked fresh, by each session the server gives
 * (after a TLS 1.2 handshake; with each TLS 1.3 ticket, which comes later, while reading). A
 * resumed handshake is still bound to the name: it is sent as SNI and the session was verified
 * for it. session must outlive c; it holds secrets (bk_tls_session_wipe). */
BK_MUST_CHECK bk_result bk_tls_start_session(bk_tls_conn *c, bk_tls_config *cfg,
                                             const bk_stream *carrier,
                                             bk_stream_deadline_fn carrier_deadline,
                                             const char *server_name, uint16_t port,
                                             uint64_t deadline_ms, bk_tls_session *session);
BK_MUST_CHECK bk_result bk_tls_connect_session(bk_tls_conn *c, bk_tls_config *cfg, const char *host,
                                               uint16_t port, uint32_t timeout_ms,
                                               bk_tls_session *session);

/* The name TLS sends and verifies for host as a URL writes it (a bracketed IPv6 literal loses
 * its brackets) into name (cap bytes); false when it does not fit or host is NULL or empty. */
bool bk_tls_server_name(const char *host, char *name, size_t cap);
/* Changes how long each later send or recv may wait for c's own TCP carrier (bk_tls_connect);
 * another carrier keeps its own per-wait limits. */
void bk_tls_set_timeout(bk_tls_conn *c, uint32_t timeout_ms);
/* No later send or recv (nor the close_notify of bk_tls_close) goes past deadline_ms, a
 * bk_monotonic_ms() instant: the carrier's waits are cut short (through its deadline function),
 * calls retry a carrier's "no progress yet" only until then, and once it has passed every call
 * answers BK_ERR_TIMEOUT without touching the carrier. 0 removes the deadline; a carrier's 0 then
 * makes send and recv answer 0 ("no progress yet") at once. */
void bk_tls_set_deadline(bk_tls_conn *c, uint64_t deadline_ms);

/* The core seam over c: send/recv return bytes moved, 0 for "no progress yet",
 * BK_ERR_STREAM_CLOSED once the peer has sent close_notify, BK_ERR_STREAM_UNCLEAN_CLOSE when the
 * connection ended without it (a bare TCP FIN: what came before may have been cut short),
 * BK_ERR_TIMEOUT, or BK_ERR_TLS_IO (the raw code stays in bk_tls_last_error). c must outlive the
 * stream. */
bk_stream bk_tls_stream(bk_tls_conn *c);

/* 1 when c may carry another request: open, nothing unread, and the peer has neither closed it
 * nor sent anything since (checked without waiting: one read with the carrier's deadline
 * function set to wait false). 0 otherwise, also once c is closed; a connection found closed or
 * misbehaving is marked so and only needs bk_tls_close. */
int bk_tls_is_reusable(bk_tls_conn *c);

/* The raw mbedTLS code of the last failure on c (0 if none). */
int bk_tls_last_error(const bk_tls_conn *c);
/* MBEDTLS_X509_BADCERT_* flags of the last handshake (0: verified or not reached). */
uint32_t bk_tls_verify_flags(const bk_tls_conn *c);
/* One line for diagnostics from a raw mbedTLS code and verify flags (either may be 0), e.g.
 * "mbedTLS -0x2700 (X509 - Certificate verification failed ...); certificate: The certificate
 * Common Name (CN) does not match with the expected CN". Never holds secrets. */
void bk_tls_describe(int mbedtls_error, uint32_t verify_flags, char *buf, size_t cap);

/* Sends close_notify (best effort, briefly, and not once the deadline has passed) if open, closes
 * c's own TCP carrier (never one passed to bk_tls_start), frees and wipes c. Call once
 * bk_tls_connect or bk_tls_start has been called on c, whatever it returned; calling it again is
 * harmless. */
void bk_tls_close(bk_tls_conn *c);

#endif
