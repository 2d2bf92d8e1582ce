/* SPDX-License-Identifier: MIT */
/* The TLS stream over mbedTLS. Every difference between mbedTLS 2.28 and 3.x that this port
 * meets sits behind an MBEDTLS_VERSION_NUMBER check in this file (and the PSA one in
 * bk_crypto_mbedtls.c). */
#include "bk_tls.h"

#include <stdio.h>
#include <string.h>

#include "bk_config.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h" /* MBEDTLS_ERR_NET_* for the carrier callbacks */
#include "mbedtls/platform_util.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

/* Bytes bk_entropy() must contribute before the entropy pool counts as seeded. */
#define BK_TLS_ENTROPY_THRESHOLD 32

static const unsigned char bk_tls_drbg_personalization[] = "batchkey tls";

/* --- configuration --- */

static int bk_tls_entropy_source(void *unused, unsigned char *out, size_t len, size_t *out_len) {
    (void)unused;
    if (bk_entropy(out, len) != BK_OK) {
        *out_len = 0;
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    }
    *out_len = len;
    return 0;
}

static bk_result bk_tls_setup_rng(bk_tls_config *cfg) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
    /* 3.x: TLS 1.3 and X.509 work through PSA, which must be up first (repeat calls are free). */
    if (psa_crypto_init() != PSA_SUCCESS) {
        return BK_ERR_TLS_SETUP;
    }
#endif
    /* The platform contract's source joins mbedTLS's own: boards without an OS source (no
     * platform entropy in their mbedTLS profile) still get a strong one. */
    int ret = mbedtls_entropy_add_source(&cfg->entropy, bk_tls_entropy_source, NULL,
                                         BK_TLS_ENTROPY_THRESHOLD, MBEDTLS_ENTROPY_SOURCE_STRONG);
    if (ret == 0) {
        ret = mbedtls_ctr_drbg_seed(&cfg->drbg, mbedtls_entropy_func, &cfg->entropy,
                                    bk_tls_drbg_personalization,
                                    sizeof bk_tls_drbg_personalization - 1);
    }
    if (ret != 0) {
        cfg->last_mbedtls_error = ret;
        return BK_ERR_ENTROPY;
    }
    return BK_OK;
}

static bk_result bk_tls_load_ca(bk_tls_config *cfg, const char *ca_file, const uint8_t *ca,
                                size_t ca_len) {
    int ret;
    if (ca != NULL) {
        ret = mbedtls_x509_crt_parse(&cfg->ca_chain, ca, ca_len);
    } else {
#if defined(MBEDTLS_FS_IO)
        ret = mbedtls_x509_crt_parse_file(&cfg->ca_chain,
                                          ca_file != NULL ? ca_file : BK_TLS_SYSTEM_CA_FILE);
#else
        (void)ca_file;
        return BK_ERR_UNSUPPORTED;
#endif
    }
    if (ret < 0) {
        cfg->last_mbedtls_error = ret;
        return BK_ERR_TLS_CA;
    }
    /* A positive ret counts certificates that did not parse: a system bundle may hold a few
     * mbedTLS cannot read, and the rest still serve. An empty chain does not. */
    if (cfg->ca_chain.version == 0) {
        return BK_ERR_TLS_CA;
    }
    return BK_OK;
}

static void bk_tls_conf_min_tls12(mbedtls_ssl_config *conf) {
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
}

static bk_result bk_tls_setup_ssl(bk_tls_config *cfg) {
    int ret = mbedtls_ssl_config_defaults(&cfg->ssl, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        cfg->last_mbedtls_error = ret;
        return BK_ERR_TLS_SETUP;
    }
    mbedtls_ssl_conf_authmode(&cfg->ssl, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&cfg->ssl, &cfg->ca_chain, NULL);
    mbedtls_ssl_conf_rng(&cfg->ssl, mbedtls_ctr_drbg_random, &cfg->drbg);
    bk_tls_conf_min_tls12(&cfg->ssl);
#if BK_TLS_SESSIONS && defined(MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED)
    /* 3.6.1 on ignores TLS 1.3 tickets unless asked: they are what a later run resumes. */
    mbedtls_ssl_conf_tls13_enable_signal_new_session_tickets(
        &cfg->ssl, MBEDTLS_SSL_TLS1_3_SIGNAL_NEW_SESSION_TICKETS_ENABLED);
#endif
    return BK_OK;
}

static bk_result bk_tls_config_setup(bk_tls_config *cfg, const char *ca_file, const uint8_t *ca,
                                     size_t ca_len) {
    cfg->ready = 0;
    cfg->last_mbedtls_error = 0;
    mbedtls_entropy_init(&cfg->entropy);
    mbedtls_ctr_drbg_init(&cfg->drbg);
    mbedtls_x509_crt_init(&cfg->ca_chain);
    mbedtls_ssl_config_init(&cfg->ssl);

    bk_result r = bk_tls_setup_rng(cfg);
    if (r == BK_OK) {
        r = bk_tls_load_ca(cfg, ca_file, ca, ca_len);
    }
    if (r == BK_OK) {
        r = bk_tls_setup_ssl(cfg);
    }
    if (r != BK_OK) {
        int error = cfg->last_mbedtls_error;
        bk_tls_config_free(cfg);
        cfg->last_mbedtls_error = error;
        return r;
    }
    cfg->ready = 1;
    return BK_OK;
}

bk_result bk_tls_config_init(bk_tls_config *cfg, const char *ca_file) {
    if (cfg == NULL) {
        return BK_ERR_ARGUMENT;
    }
    return bk_tls_config_setup(cfg, ca_file, NULL, 0);
}

bk_result bk_tls_config_init_ca(bk_tls_config *cfg, const uint8_t *ca, size_t ca_len) {
    if (cfg == NULL || ca == NULL || ca_len == 0) {
        return BK_ERR_ARGUMENT;
    }
    return bk_tls_config_setup(cfg, NULL, ca, ca_len);
}

void bk_tls_config_free(bk_tls_config *cfg) {
    if (cfg == NULL) {
        return;
    }
    /* Each free wipes its own context and accepts one already freed. PSA (3.x) is left up: it
     * is process-wide and other configs may still use it (bk_tls_global_free ends it). */
    mbedtls_ssl_config_free(&cfg->ssl);
    mbedtls_x509_crt_free(&cfg->ca_chain);
    mbedtls_ctr_drbg_free(&cfg->drbg);
    mbedtls_entropy_free(&cfg->entropy);
    mbedtls_platform_zeroize(cfg, sizeof *cfg);
}

void bk_tls_global_free(void) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
    mbedtls_psa_crypto_free();
#endif
}

/* --- the carrier (mbedTLS's BIO) --- */

/* Passes a deadline (or a probe) down to the carrier, if it waits at all. */
static void bk_tls_bound_carrier(bk_tls_conn *c, uint64_t deadline_ms, bool wait) {
    if (c->carrier_deadline != NULL) {
        c->carrier_deadline(c->carrier.ctx, deadline_ms, wait);
    }
}

/* True once deadline_ms (0: none) has passed. */
static int bk_tls_past(uint64_t deadline_ms) {
    return deadline_ms != 0 && bk_monotonic_ms() >= deadline_ms;
}

/* True once the stream's deadline has passed. */
static int bk_tls_past_end(const bk_tls_conn *c) {
    return bk_tls_past(c->end_ms);
}

/* mbedTLS counts in int; the stream in int32_t. */
static size_t bk_tls_clamp(size_t len) {
    return len > INT32_MAX ? (size_t)INT32_MAX : len;
}

static int bk_tls_bio_send(void *ctx, const unsigned char *buf, size_t len) {
    bk_tls_conn *c = ctx;
    len = bk_tls_clamp(len);
    int32_t n = c->carrier.send(c->carrier.ctx, buf, len);
    if (n > 0 && (size_t)n <= len) {
        return (int)n;
    }
    if (n == 0) {
        c->carrier_idle = true;
        return MBEDTLS_ERR_SSL_WANT_WRITE; /* no progress yet: the caller retries by its deadline */
    }
    c->io_result = n > 0 ? BK_ERR_STREAM_SEND : (bk_result)n;
    return n == BK_ERR_TIMEOUT ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bk_tls_bio_recv(void *ctx, unsigned char *buf, size_t len) {
    bk_tls_conn *c = ctx;
    len = bk_tls_clamp(len);
    int32_t n = c->carrier.recv(c->carrier.ctx, buf, len);
    if (n > 0 && (size_t)n <= len) {
        return (int)n;
    }
    if (n == 0) {
        /* WANT_READ is the one "nothing yet" answer mbedTLS documents as resumable. */
        c->carrier_idle = true;
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    c->io_result = n > 0 ? BK_ERR_STREAM_RECV : (bk_result)n;
    if (n == BK_ERR_STREAM_CLOSED || n == BK_ERR_STREAM_UNCLEAN_CLOSE) {
        return 0; /* mbedTLS's EOF: without close_notify before it, an unclean close */
    }
    return n == BK_ERR_TIMEOUT ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* --- connections --- */

static int bk_tls_wants_io(int ret) {
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* A TLS 1.3 session ticket arrived (3.6.0 reports it unless told not to): no data, no error. */
static int bk_tls_is_ticket(int ret) {
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
    return ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET;
#else
    (void)ret;
    return 0;
#endif
}

#if BK_TLS_SESSIONS
/* The lifetime the server gave the session's ticket, in seconds (0: none, a session id). */
static uint32_t bk_tls_ticket_lifetime(const mbedtls_ssl_session *s) {
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    /* No accessor in 3.6: the field is private, yet part of the session's documented state. */
    return s->MBEDTLS_PRIVATE(ticket_len) > 0 ? s->MBEDTLS_PRIVATE(ticket_lifetime) : 0;
#else
    return s->ticket_len > 0 ? s->ticket_lifetime : 0;
#endif
#else
    (void)s;
    return 0;
#endif
}

static void bk_tls_bind_session(bk_tls_conn *c, bk_tls_session *session, uint16_t port) {
    c->session = session;
    c->port = port;
}

/* Keeps the session the server just gave (after a handshake, or a TLS 1.3 ticket) in
 * c->session, bound to the name and port, marked fresh when it differs from what was there. */
static void bk_tls_keep_session(bk_tls_conn *c) {
    static uint8_t saved[BK_TLS_SESSION_MAX]; /* one thread uses TLS at a time (bk_tls.h) */
    bk_tls_session *s = c->session;
    const char *host = c->name;
    if (s == NULL || host[0] == '\0') {
        return;
    }
    mbedtls_ssl_session session;
    mbedtls_ssl_session_init(&session);
    size_t len = 0;
    if (mbedtls_ssl_get_session(&c->ssl, &session) == 0 &&
        mbedtls_ssl_session_save(&session, saved, sizeof saved, &len) == 0 && len > 0) {
        bool same = s->len == len && memcmp(s->data, saved, len) == 0 &&
                    bk_tls_session_usable(s, host, c->port, bk_wall_clock_s());
        if (!same) {
            bk_tls_session_wipe(s);
            memcpy(s->data, saved, len);
            s->len = len;
            memcpy(s->host, host, strlen(host) + 1);
            s->port = c->port;
            s->expires_s =
                bk_tls_session_expiry(bk_wall_clock_s(), bk_tls_ticket_lifetime(&session));
            s->fresh = true;
        }
    }
    mbedtls_platform_zeroize(saved, sizeof saved);
    mbedtls_ssl_session_free(&session);
}

/* Offers c->session to the handshake about to start when it belongs to this name and port and
 * has not expired; one that no longer loads (another mbedTLS version) is forgotten. */
static void bk_tls_offer_session(bk_tls_conn *c, const char *server_name) {
    bk_tls_session *s = c->session;
    size_t len = strlen(server_name);
    if (s == NULL || len >= sizeof c->name) {
        return;
    }
    memcpy(c->name, server_name, len + 1);
    if (!bk_tls_session_usable(s, server_name, c->port, bk_wall_clock_s())) {
        return;
    }
    mbedtls_ssl_session session;
    mbedtls_ssl_session_init(&session);
    if (mbedtls_ssl_session_load(&session, s->data, s->len) != 0 ||
        mbedtls_ssl_set_session(&c->ssl, &session) != 0) {
        bk_tls_session_wipe(s);
    }
    mbedtls_ssl_session_free(&session);
}
#else
static void bk_tls_bind_session(bk_tls_conn *c, bk_tls_session *session, uint16_t port) {
    (void)c;
    (void)session;
    (void)port;
}
static void bk_tls_keep_session(bk_tls_conn *c) {
    (void)c;
}
static void bk_tls_offer_session(bk_tls_conn *c, const char *server_name) {
    (void)c;
    (void)server_name;
}
#endif

/* After a call to mbedTLS that did not complete: 1 when it is to be called again (it waits for
 * the carrier, or a TLS 1.3 ticket came first, which is kept: the session a later run resumes).
 * Any call that reads may meet a ticket (3.6 signals them: bk_tls_setup_ssl). */
static int bk_tls_again(bk_tls_conn *c, int ret) {
    if (bk_tls_is_ticket(ret)) {
        bk_tls_keep_session(c);
        return 1;
    }
    return bk_tls_wants_io(ret);
}

/* At most this many calls in a row on mbedTLS's own progress (tickets: a server sends a few). */
#define BK_TLS_PROGRESS_MAX 64

/* After bk_tls_again said to call again: true when mbedTLS made progress of its own (a ticket, or
 * a post-handshake message handled, the carrier never idle), so the call is repeated at once
 * rather than counted as a wait; never past the deadline. */
static int bk_tls_progressed(const bk_tls_conn *c, int ret) {
    return (bk_tls_is_ticket(ret) || !c->carrier_idle) && !bk_tls_past_end(c);
}

/* An empty connection: every path below may release it. A zeroed context is what
 * mbedtls_ssl_init makes. */
static void bk_tls_init(bk_tls_conn *c) {
    memset(c, 0, sizeof *c);
    mbedtls_ssl_init(&c->ssl);
    bk_tcp_stream_init(&c->tcp);
    c->state = BK_TLS_CLOSED;
}

/* Frees the TLS context and c's own carrier, and forgets any other; the diagnostics stay
 * readable. */
static void bk_tls_release(bk_tls_conn *c) {
    mbedtls_ssl_free(&c->ssl);
    bk_tcp_stream_close(&c->tcp);
    memset(&c->carrier, 0, sizeof c->carrier);
    c->carrier_deadline = NULL;
    c->state = BK_TLS_CLOSED;
}

static int bk_tls_verify_failed(uint32_t flags) {
    /* (uint32_t)-1 means "no result": verification was never reached. */
    return flags != 0 && flags != UINT32_MAX;
}

static bk_result bk_tls_handshake_result(const bk_tls_conn *c, int ret) {
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT && c->io_result == BK_ERR_TIMEOUT) {
        return BK_ERR_TIMEOUT;
    }
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED || bk_tls_verify_failed(c->verify_flags)) {
        return BK_ERR_TLS_VERIFY;
    }
    return BK_ERR_TLS_HANDSHAKE;
}

/* The handshake over the carrier already in c, by deadline_ms. */
static bk_result bk_tls_handshake(bk_tls_conn *c, bk_tls_config *cfg, const char *server_name,
                                  uint64_t deadline_ms) {
    int ret = mbedtls_ssl_setup(&c->ssl, &cfg->ssl);
    if (ret == 0) {
        /* Always, IP literals included: it is both the SNI and the name the certificate must
         * carry. Without it mbedTLS would accept any name under a trusted CA. */
        ret = mbedtls_ssl_set_hostname(&c->ssl, server_name);
    }
    if (ret != 0) {
        c->last_mbedtls_error = ret;
        bk_tls_release(c);
        return BK_ERR_TLS_SETUP;
    }
    bk_tls_offer_session(c, server_name);
    mbedtls_ssl_set_bio(&c->ssl, c, bk_tls_bio_send, bk_tls_bio_recv, NULL);

    bk_tls_bound_carrier(c, deadline_ms, true);
    do {
        c->io_result = BK_OK;
        ret = mbedtls_ssl_handshake(&c->ssl);
    } while (bk_tls_again(c, ret) && !bk_tls_past(deadline_ms));
    c->verify_flags = mbedtls_ssl_get_verify_result(&c->ssl);
    if (ret == 0 && c->verify_flags != 0) {
        /* Cannot happen with authmode required; refuse rather than trust that. */
        ret = MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
    }
    if (ret != 0) {
        if (bk_tls_wants_io(ret)) {
            ret = MBEDTLS_ERR_SSL_TIMEOUT;
            c->io_result = BK_ERR_TIMEOUT;
        }
        c->last_mbedtls_error = ret;
        bk_result r = bk_tls_handshake_result(c, ret);
        bk_tls_release(c);
        return r;
    }
    c->end_ms = 0;
    bk_tls_bound_carrier(c, 0, true);
    c->state = BK_TLS_OPEN;
    bk_tls_keep_session(c);
    return BK_OK;
}

static int bk_tls_name_ok(const char *server_name) {
    return server_name != NULL && server_name[0] != '\0';
}

bk_result bk_tls_start(bk_tls_conn *c, bk_tls_config *cfg, const bk_stream *carrier,
                       bk_stream_deadline_fn carrier_deadline, const char *server_name,
                       uint64_t deadline_ms) {
    return bk_tls_start_session(c, cfg, carrier, carrier_deadline, server_name, 0, deadline_ms,
                                NULL);
}

bk_result bk_tls_start_session(bk_tls_conn *c, bk_tls_config *cfg, const bk_stream *carrier,
                               bk_stream_deadline_fn carrier_deadline, const char *server_name,
                               uint16_t port, uint64_t deadline_ms, bk_tls_session *session) {
    if (c == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_tls_init(c);
    bk_tls_bind_session(c, session, port);
    if (cfg == NULL || !cfg->ready || carrier == NULL || carrier->send == NULL ||
        carrier->recv == NULL || !bk_tls_name_ok(server_name) || deadline_ms == 0) {
        return BK_ERR_ARGUMENT;
    }
    c->carrier = *carrier;
    c->carrier_deadline = carrier_deadline;
    return bk_tls_handshake(c, cfg, server_name, deadline_ms);
}

/* bk_tls_connect_as, resuming session (may be NULL). */
static bk_result bk_tls_connect_resuming(bk_tls_conn *c, bk_tls_config *cfg, const char *address,
                                         uint16_t port, const char *server_name,
                                         uint32_t timeout_ms, bk_tls_session *session) {
    if (c == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_tls_init(c);
    bk_tls_bind_session(c, session, port);
    if (cfg == NULL || !cfg->ready || address == NULL || !bk_tls_name_ok(server_name)) {
        return BK_ERR_ARGUMENT;
    }
    /* One deadline for the connect and the handshake together. */
    uint64_t deadline_ms = bk_monotonic_ms() + timeout_ms;
    bk_result r = bk_tcp_stream_connect(&c->tcp, address, port, timeout_ms, deadline_ms);
    if (r != BK_OK) {
        c->io_result = r;
        bk_tls_release(c);
        return r;
    }
    c->carrier = bk_tcp_stream_of(&c->tcp);
    c->carrier_deadline = bk_tcp_stream_set_deadline;
    return bk_tls_handshake(c, cfg, server_name, deadline_ms);
}

bk_result bk_tls_connect_as(bk_tls_conn *c, bk_tls_config *cfg, const char *address, uint16_t port,
                            const char *server_name, uint32_t timeout_ms) {
    return bk_tls_connect_resuming(c, cfg, address, port, server_name, timeout_ms, NULL);
}

bool bk_tls_server_name(const char *host, char *name, size_t cap) {
    if (host == NULL || host[0] == '\0') {
        return false;
    }
    /* The certificate names an IPv6 literal without the URL's brackets. */
    size_t len = strlen(host);
    const char *start = host;
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        start++;
        len -= 2;
    }
    if (len >= cap) {
        return false;
    }
    memcpy(name, start, len);
    name[len] = '\0';
    return true;
}

bk_result bk_tls_connect_session(bk_tls_conn *c, bk_tls_config *cfg, const char *host,
                                 uint16_t port, uint32_t timeout_ms, bk_tls_session *session) {
    char name[BK_HOST_MAX + 1];
    bool named = bk_tls_server_name(host, name, sizeof name);
    return bk_tls_connect_resuming(c, cfg, host, port, named ? name : NULL, timeout_ms, session);
}

bk_result bk_tls_connect(bk_tls_conn *c, bk_tls_config *cfg, const char *host, uint16_t port,
                         uint32_t timeout_ms) {
    return bk_tls_connect_session(c, cfg, host, port, timeout_ms, NULL);
}

void bk_tls_set_timeout(bk_tls_conn *c, uint32_t timeout_ms) {
    if (c != NULL) {
        bk_tcp_stream_set_timeout(&c->tcp, timeout_ms);
    }
}

void bk_tls_set_deadline(bk_tls_conn *c, uint64_t deadline_ms) {
    if (c != NULL) {
        c->end_ms = deadline_ms;
        bk_tls_bound_carrier(c, deadline_ms, true);
    }
}

/* Whether c can take a send or recv now; BK_OK if so, else what to answer. */
static bk_result bk_tls_usable(const bk_tls_conn *c) {
    if (c == NULL) {
        return BK_ERR_ARGUMENT;
    }
    switch (c->state) {
    case BK_TLS_OPEN:
        return BK_OK;
    case BK_TLS_PEER_CLOSED:
        return c->closed_result;
    case BK_TLS_FAILED:
        /* Past the deadline every call answers as the one the deadline cut short did. */
        return bk_tls_past_end(c) ? BK_ERR_TIMEOUT : BK_ERR_TLS_IO;
    case BK_TLS_CLOSED:
        break;
    }
    return BK_ERR_ARGUMENT;
}

/* Maps a failed mbedtls_ssl_read/write (ret <= 0) and marks c accordingly. mbedTLS reads 0 (or
 * CONN_EOF) when the transport ended without close_notify. */
static int32_t bk_tls_io_failure(bk_tls_conn *c, int ret) {
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        c->last_mbedtls_error = ret == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : ret;
        c->state = BK_TLS_PEER_CLOSED;
        c->closed_result = ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? BK_ERR_STREAM_CLOSED
                                                                    : BK_ERR_STREAM_UNCLEAN_CLOSE;
        return c->closed_result;
    }
    /* mbedTLS documents any other error as the end of the context. */
    c->last_mbedtls_error = ret;
    c->state = BK_TLS_FAILED;
    if (ret == MBEDTLS_ERR_SSL_TIMEOUT && c->io_result == BK_ERR_TIMEOUT) {
        return BK_ERR_TIMEOUT;
    }
    return BK_ERR_TLS_IO;
}

/* After a WANT_* (or a ticket) from mbedTLS: 1 to call it again, else what the stream call
 * answers. Retries last until the deadline; with none, "no progress yet" goes up to the caller,
 * whose idle limit decides. */
static int32_t bk_tls_retry(bk_tls_conn *c) {
    if (c->end_ms == 0) {
        return 0;
    }
    if (bk_tls_past_end(c)) {
        c->state = BK_TLS_FAILED; /* a record cut short leaves the connection unusable */
        return BK_ERR_TIMEOUT;
    }
    return 1;
}

/* The checks send and recv share; BK_OK when the call may go to mbedTLS. */
static bk_result bk_tls_io_start(bk_tls_conn *c, const void *data, size_t len) {
    bk_result r = bk_tls_usable(c);
    if (r != BK_OK) {
        return r;
    }
    if (data == NULL && len > 0) {
        return BK_ERR_ARGUMENT;
    }
    if (len > 0 && bk_tls_past_end(c)) {
        c->state = BK_TLS_FAILED; /* a request or answer cut short leaves it unusable */
        return BK_ERR_TIMEOUT;
    }
    return BK_OK;
}

static int32_t bk_tls_stream_send(void *ctx, const uint8_t *data, size_t len) {
    bk_tls_conn *c = ctx;
    bk_result r = bk_tls_io_start(c, data, len);
    if (r != BK_OK || len == 0) {
        return r;
    }
    for (unsigned progress = 0;;) {
        c->io_result = BK_OK;
        c->carrier_idle = false;
        int ret = mbedtls_ssl_write(&c->ssl, data, bk_tls_clamp(len));
        if (ret > 0) {
            return (int32_t)ret;
        }
        if (ret == 0) {
            return 0; /* nothing written, nothing wrong: the caller's idle limit decides */
        }
        if (!bk_tls_again(c, ret)) {
            return bk_tls_io_failure(c, ret);
        }
        if (bk_tls_progressed(c, ret) && ++progress < BK_TLS_PROGRESS_MAX) {
            continue;
        }
        int32_t retry = bk_tls_retry(c);
        if (retry != 1) {
            return retry;
        }
    }
}

static int32_t bk_tls_stream_recv(void *ctx, uint8_t *data, size_t len) {
    bk_tls_conn *c = ctx;
    bk_result r = bk_tls_io_start(c, data, len);
    if (r != BK_OK || len == 0) {
        return r; /* a read of 0 bytes would look like EOF below */
    }
    for (unsigned progress = 0;;) {
        c->io_result = BK_OK;
        c->carrier_idle = false;
        int ret = mbedtls_ssl_read(&c->ssl, data, bk_tls_clamp(len));
        if (ret > 0) {
            return (int32_t)ret;
        }
        if (!bk_tls_again(c, ret)) {
            return bk_tls_io_failure(c, ret);
        }
        if (bk_tls_progressed(c, ret) && ++progress < BK_TLS_PROGRESS_MAX) {
            continue;
        }
        int32_t retry = bk_tls_retry(c);
        if (retry != 1) {
            return retry;
        }
    }
}

bk_stream bk_tls_stream(bk_tls_conn *c) {
    bk_stream s;
    s.send = bk_tls_stream_send;
    s.recv = bk_tls_stream_recv;
    s.ctx = c;
    return s;
}

int bk_tls_is_reusable(bk_tls_conn *c) {
    if (c == NULL || c->state != BK_TLS_OPEN) {
        return 0;
    }
    if (mbedtls_ssl_get_bytes_avail(&c->ssl) > 0) {
        return 0; /* the last answer was not read to its end */
    }
    /* A read that may not wait: WANT_READ means the carrier is quiet, i.e. still open. Anything
     * else (close_notify, EOF, an error, unsolicited bytes) ends the connection's usefulness. */
    unsigned char byte;
    int ret;
    bk_tls_bound_carrier(c, c->end_ms, false);
    unsigned progress = 0;
    do {
        c->io_result = BK_OK;
        c->carrier_idle = false;
        ret = mbedtls_ssl_read(&c->ssl, &byte, 1);
    } while (bk_tls_again(c, ret) && bk_tls_progressed(c, ret) && ++progress < BK_TLS_PROGRESS_MAX);
    bk_tls_bound_carrier(c, c->end_ms, true);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
        return 1;
    }
    if (ret > 0) {
        c->state = BK_TLS_FAILED; /* the peer spoke out of turn; that byte is gone now */
        return 0;
    }
    (void)bk_tls_io_failure(c, ret);
    return 0;
}

int bk_tls_last_error(const bk_tls_conn *c) {
    return c != NULL ? c->last_mbedtls_error : 0;
}

uint32_t bk_tls_verify_flags(const bk_tls_conn *c) {
    return c != NULL ? c->verify_flags : 0;
}

/* Appends text to buf (holding *used characters), cutting it to fit. */
static void bk_tls_append(char *buf, size_t cap, size_t *used, const char *text) {
    size_t len = strlen(text);
    size_t room = cap - 1 - *used;
    if (len > room) {
        len = room;
    }
    memcpy(buf + *used, text, len);
    *used += len;
    buf[*used] = '\0';
}

void bk_tls_describe(int mbedtls_error, uint32_t verify_flags, char *buf, size_t cap) {
    if (buf == NULL || cap == 0) {
        return;
    }
    size_t used = 0;
    char part[256];
    buf[0] = '\0';
    if (mbedtls_error != 0) {
        unsigned code = mbedtls_error < 0 ? 0u - (unsigned)mbedtls_error : (unsigned)mbedtls_error;
        (void)snprintf(part, sizeof part, "mbedTLS %s0x%04X", mbedtls_error < 0 ? "-" : "", code);
        bk_tls_append(buf, cap, &used, part);
#if defined(MBEDTLS_ERROR_C)
        mbedtls_strerror(mbedtls_error, part, sizeof part);
        bk_tls_append(buf, cap, &used, " (");
        bk_tls_append(buf, cap, &used, part);
        bk_tls_append(buf, cap, &used, ")");
#endif
    }
    if (bk_tls_verify_failed(verify_flags)) {
        bk_tls_append(buf, cap, &used, used > 0 ? "; certificate:" : "certificate:");
#if !defined(MBEDTLS_X509_REMOVE_INFO)
        /* One line per flag from mbedTLS; joined here into one line. */
        int n = mbedtls_x509_crt_verify_info(part, sizeof part, " ", verify_flags);
        if (n > 0) {
            for (char *p = part; *p != '\0'; p++) {
                if (*p == '\n') {
                    *p = p[1] != '\0' ? ';' : '\0';
                }
            }
            bk_tls_append(buf, cap, &used, part);
        }
#else
        (void)snprintf(part, sizeof part, " flags 0x%08lX", (unsigned long)verify_flags);
        bk_tls_append(buf, cap, &used, part);
#endif
    }
}

void bk_tls_close(bk_tls_conn *c) {
    if (c == NULL) {
        return;
    }
    if (c->state == BK_TLS_OPEN && !bk_tls_past_end(c)) {
        uint64_t until = bk_monotonic_ms() + BK_TLS_CLOSE_TIMEOUT_MS;
        if (c->end_ms != 0 && c->end_ms < until) {
            until = c->end_ms;
        }
        bk_tls_bound_carrier(c, until, true);
        int ret;
        do { /* best effort: the peer may be gone */
            ret = mbedtls_ssl_close_notify(&c->ssl);
        } while (bk_tls_again(c, ret) && !bk_tls_past(until));
    }
    bk_tls_release(c);
    mbedtls_platform_zeroize(c, sizeof *c);
    bk_tcp_stream_init(&c->tcp);
}
