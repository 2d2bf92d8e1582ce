#include <string.h>

#include "bk_tls_connector.h"

static bk_result peers_open(void *ctx, bk_peer peer, const bk_endpoint *ep, bk_stream *out) {
    bk_tls_peers *p = ctx;
    bk_tls_conn *conn = &p->conns[peer];
    bk_result r = bk_tls_connect(conn, p->config, ep->host, ep->port, p->timeout_ms);
    if (r != BK_OK) {
        p->last_mbedtls_error = bk_tls_last_error(conn);
        p->last_verify_flags = bk_tls_verify_flags(conn);
        bk_tls_close(conn);
        return r;
    }
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

static bool peers_reusable(void *ctx, bk_peer peer) {
    bk_tls_peers *p = ctx;
    return bk_tls_is_reusable(&p->conns[peer]) == 1;
}

bk_connector bk_tls_connector(bk_tls_peers *peers, bk_tls_config *config, uint32_t timeout_ms) {
    memset(peers, 0, sizeof *peers);
    peers->config = config;
    peers->timeout_ms = timeout_ms;
    bk_connector c = {peers_open, peers_close, peers_reusable, peers};
    return c;
}
