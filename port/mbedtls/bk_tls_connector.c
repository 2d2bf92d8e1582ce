/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "bk_tls_connector.h"

static int slot_open(const bk_tls_peers *p, size_t i) {
    return p->conns[i].state != BK_TLS_CLOSED || p->plain[i];
}

static void slot_close(bk_tls_peers *p, size_t i) {
    if (p->plain[i]) {
        bk_tcp_stream_close(&p->conns[i].tcp);
        p->plain[i] = false;
        return;
    }
    if (bk_tls_last_error(&p->conns[i]) != 0) {
        p->last_mbedtls_error = bk_tls_last_error(&p->conns[i]);
    }
    bk_tls_close(&p->conns[i]); /* close_notify goes through the tunnel, if there is one */
    bk_tcp_stream_close(&p->tunnels[i]);
}

static void slot_used(bk_tls_peers *p, size_t i) {
    p->last_used[i] = ++p->uses;
}

/* Closes other slots, least recently used first, until opening one more stays within
 * max_open: their memory (mbedTLS's record buffers) must be free before the next handshake. */
static void make_room(bk_tls_peers *p, size_t peer) {
    unsigned limit = p->max_open == 0 ? 1u : p->max_open;
    for (;;) {
        unsigned open = 0;
        size_t oldest = BK_PEER_COUNT;
        for (size_t i = 0; i < BK_PEER_COUNT; i++) {
            if (i == peer || !slot_open(p, i)) {
                continue;
            }
            open++;
            /* Unsigned difference: the oldest also across a wrap of the counter. */
            if (oldest == BK_PEER_COUNT ||
                p->uses - p->last_used[i] > p->uses - p->last_used[oldest]) {
                oldest = i;
            }
        }
        if (open < limit) {
            return;
        }
        slot_close(p, oldest);
    }
}

/* The time a connect may take: the per-wait timeout, cut to what is left of the deadline (0:
 * none). */
static uint32_t connect_budget_ms(const bk_tls_peers *p, uint64_t deadline_ms) {
    if (deadline_ms == 0) {
        return p->timeout_ms;
    }
    uint64_t now = bk_monotonic_ms();
    uint64_t left = deadline_ms > now ? deadline_ms - now : 0;
    return left < p->timeout_ms ? (uint32_t)left : p->timeout_ms;
}

static bk_tls_session *slot_session(bk_tls_peers *p, size_t i) {
#if BK_TLS_SESSIONS
    return &p->sessions[i];
#else
    (void)p;
    (void)i;
    return NULL;
#endif
}

void bk_tls_peers_wipe_sessions(bk_tls_peers *peers) {
#if BK_TLS_SESSIONS
    for (size_t i = 0; i < BK_PEER_COUNT; i++) {
        bk_tls_session_wipe(&peers->sessions[i]);
    }
#else
    (void)peers;
#endif
}

#if BK_TLS_PROXY
/* TCP to the proxy, its CONNECT tunnel to the endpoint, and TLS with the endpoint inside it,
 * all within budget_ms. */
static bk_result open_tunnel(bk_tls_peers *p, size_t i, const bk_endpoint *ep, uint32_t budget_ms) {
    char name[BK_HOST_MAX + 1];
    if (!bk_tls_server_name(ep->host, name, sizeof name)) {
        return BK_ERR_ARGUMENT;
    }
    p->last_proxy_status = 0;
    bk_tcp_stream *tcp = &p->tunnels[i];
    uint64_t end_ms = bk_monotonic_ms() + budget_ms;
    bk_result r = bk_tcp_stream_connect(tcp, p->proxy->host, p->proxy->port, budget_ms, end_ms);
    bk_stream carrier = bk_tcp_stream_of(tcp);
    if (r == BK_OK) {
        r = bk_proxy_tunnel(&carrier, p->proxy, ep->host, ep->port, &p->last_proxy_status);
    }
    if (r == BK_OK) {
        r = bk_tls_start_session(&p->conns[i], p->config, &carrier, bk_tcp_stream_set_deadline,
                                 name, ep->port, end_ms, slot_session(p, i));
    }
    if (r == BK_OK) {
        bk_tcp_stream_set_deadline(tcp, 0, true); /* TLS sets its own from now on */
        bk_tcp_stream_set_timeout(tcp, p->timeout_ms);
    }
    return r;
}
#endif

static bk_result peers_open(void *ctx, bk_peer peer, const bk_endpoint *ep, uint64_t deadline_ms,
                            bk_stream *out) {
    bk_tls_peers *p = ctx;
    size_t i = (size_t)peer;
    if (i >= BK_PEER_COUNT || ep == NULL || out == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_tls_conn *conn = &p->conns[i];
    if (slot_open(p, i)) {
        slot_close(p, i); /* a slot holds one connection */
    }
    uint32_t budget = connect_budget_ms(p, deadline_ms);
    if (budget == 0) {
        return BK_ERR_TIMEOUT; /* nothing started, nothing closed */
    }
    make_room(p, i);
    p->last_via_proxy = false;
    if (ep->plain_http) {
        /* A managed identity endpoint on the machine or link-local: the token slot alone, and
         * never reused (it carries one request and its answer); never through the proxy. */
        if (peer != BK_PEER_AUTHORITY) {
            return BK_ERR_ARGUMENT;
        }
        bk_result r = bk_tcp_stream_connect(&conn->tcp, ep->host, ep->port, budget, deadline_ms);
        if (r != BK_OK) {
            return r;
        }
        bk_tcp_stream_set_timeout(&conn->tcp, p->timeout_ms);
        p->plain[i] = true;
        slot_used(p, i);
        *out = bk_tcp_stream_of(&conn->tcp);
        return BK_OK;
    }
#if BK_TLS_PROXY
    p->last_via_proxy = p->proxy != NULL && !bk_proxy_bypassed(p->no_proxy, ep->host, ep->port);
    bk_result r = p->last_via_proxy ? open_tunnel(p, i, ep, budget)
                                    : bk_tls_connect_session(conn, p->config, ep->host, ep->port,
                                                             budget, slot_session(p, i));
#else
    bk_result r =
        bk_tls_connect_session(conn, p->config, ep->host, ep->port, budget, slot_session(p, i));
#endif
    if (r != BK_OK) {
        p->last_mbedtls_error = bk_tls_last_error(conn);
        p->last_verify_flags = bk_tls_verify_flags(conn);
        bk_tls_close(conn);
        bk_tcp_stream_close(&p->tunnels[i]);
        return r;
    }
    bk_tls_set_timeout(conn, p->timeout_ms);
    bk_tls_set_deadline(conn, deadline_ms);
    slot_used(p, i);
    *out = bk_tls_stream(conn);
    return BK_OK;
}

static void peers_close(void *ctx, bk_peer peer) {
    bk_tls_peers *p = ctx;
    if ((size_t)peer < BK_PEER_COUNT) {
        slot_close(p, (size_t)peer);
    }
}

/* False for a slot closed meanwhile (by make_room too), since a closed connection is never
 * reusable. */
static bool peers_reuse(void *ctx, bk_peer peer, uint64_t deadline_ms) {
    bk_tls_peers *p = ctx;
    if ((size_t)peer >= BK_PEER_COUNT || p->plain[peer] ||
        bk_tls_is_reusable(&p->conns[peer]) != 1) {
        return false;
    }
    bk_tls_set_deadline(&p->conns[peer], deadline_ms);
    slot_used(p, (size_t)peer);
    return true;
}

bk_connector bk_tls_connector(bk_tls_peers *peers, bk_tls_config *config, uint32_t timeout_ms) {
    memset(peers, 0, sizeof *peers);
    for (size_t i = 0; i < BK_PEER_COUNT; i++) {
        bk_tcp_stream_init(&peers->conns[i].tcp); /* closed slots hold no descriptor 0 */
        bk_tcp_stream_init(&peers->tunnels[i]);
    }
    peers->config = config;
    peers->timeout_ms = timeout_ms;
    peers->max_open = BK_TLS_MAX_OPEN;
    bk_connector c = {peers_open, peers_close, peers_reuse, peers};
    return c;
}
