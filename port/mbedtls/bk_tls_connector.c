/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "bk_tls_connector.h"

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

static bk_result peers_open(void *ctx, bk_peer peer, const bk_endpoint *ep, uint64_t deadline_ms,
                            bk_stream *out) {
    bk_tls_peers *p = ctx;
    bk_tls_conn *conn = &p->conns[peer];
    uint32_t budget = connect_budget_ms(p, deadline_ms);
    bk_result r =
        budget == 0 ? BK_ERR_TIMEOUT : bk_tls_connect(conn, p->config, ep->host, ep->port, budget);
    if (r != BK_OK) {
        p->last_mbedtls_error = bk_tls_last_error(conn);
        p->last_verify_flags = bk_tls_verify_flags(conn);
        bk_tls_close(conn);
        return r;
    }
    bk_tls_set_timeout(conn, p->timeout_ms);
    bk_tls_set_deadline(conn, deadline_ms);
    *out = bk_tls_stream(conn);
    return BK_OK;
}

static void peers_close(void *ctx, bk_peer peer) {
    bk_tls_peers *p = ctx;
    if (bk_tls_last_error(&p->conns[peer]) != 0) {
        p->last_mbedtls_error = bk_tls_last_error(&p->conns[peer]);
    }
    bk_tls_close(&p->conns[peer]);
}

static bool peers_reuse(void *ctx, bk_peer peer, uint64_t deadline_ms) {
    bk_tls_peers *p = ctx;
    if (bk_tls_is_reusable(&p->conns[peer]) != 1) {
        return false;
    }
    bk_tls_set_deadline(&p->conns[peer], deadline_ms);
    return true;
}

bk_connector bk_tls_connector(bk_tls_peers *peers, bk_tls_config *config, uint32_t timeout_ms) {
    memset(peers, 0, sizeof *peers);
    peers->config = config;
    peers->timeout_ms = timeout_ms;
    bk_connector c = {peers_open, peers_close, peers_reuse, peers};
    return c;
}
