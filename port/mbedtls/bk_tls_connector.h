/* SPDX-License-Identifier: MIT */
/* The client's connection seam over mbedTLS: one TLS connection per peer slot, each over a TCP
 * carrier of its own (bk_tls_connect), with at most max_open of them open at a time. An endpoint
 * marked plain_http (a managed identity's, bk_url_parse) gets plain TCP, in the token slot only.
 * With a proxy set, TLS endpoints that no_proxy does not name are reached through its CONNECT
 * tunnel, TLS running end to end inside it (plain HTTP endpoints always go direct).
 *
 *     static bk_tls_config tls;
 *     static bk_tls_peers peers;
 *     r = bk_tls_config_init(&tls, ca_file);
 *     bk_client_init(&client, bk_tls_connector(&peers, &tls, 20000));
 *     peers.max_open = 1;                   // optional: RAM for one TLS connection only
 *     ...
 *     bk_client_close(&client);
 *     bk_tls_config_free(&tls);
 */
#ifndef BK_TLS_CONNECTOR_H
#define BK_TLS_CONNECTOR_H

#include "bk_client.h"
#include "bk_proxy.h"
#include "bk_tls.h"

/* How many connections bk_tls_connector lets be open at once unless told otherwise: one per
 * peer. A board with RAM for one TLS connection (mbedTLS's record buffers) builds with
 * -DBK_TLS_MAX_OPEN=1. */
#ifndef BK_TLS_MAX_OPEN
#define BK_TLS_MAX_OPEN BK_PEER_COUNT
#endif

/* 0 leaves the proxy's code out (a board that always reaches the network directly). */
#ifndef BK_TLS_PROXY
#define BK_TLS_PROXY 1
#endif

typedef struct bk_tls_peers {
    bk_tls_config *config;
    bk_tls_conn conns[BK_PEER_COUNT];
    uint32_t timeout_ms; /* the longest one connect or one wait for the network may take */
    /* At most this many connections open at once (1 to BK_PEER_COUNT; BK_TLS_MAX_OPEN after
     * bk_tls_connector). Opening one more first closes the one used least recently: the client
     * learns it when reuse answers false for that peer, as for any closed slot. */
    unsigned max_open;
    uint32_t last_used[BK_PEER_COUNT]; /* the open or reuse count when each slot was last used */
    bool plain[BK_PEER_COUNT]; /* the slot holds plain TCP (a managed identity endpoint's) */
    uint32_t uses;
    /* Optional, set after bk_tls_connector: the HTTP proxy (NULL: none) and NO_PROXY's list of
     * hosts reached directly (bk_proxy_bypassed; NULL: none). Both must outlive the peers. */
    const bk_proxy *proxy;
    const char *no_proxy;
    bk_tcp_stream tunnels[BK_PEER_COUNT]; /* each slot's TCP to the proxy, under its TLS */
#if BK_TLS_SESSIONS
    /* Each slot's session: offered to its next handshake with the same host and port (in this
     * run, or a later one when the caller loads and saves them: bk_session.h), and replaced by
     * what the server gives. Wiped by bk_tls_peers_wipe_sessions. */
    bk_tls_session sessions[BK_PEER_COUNT];
#endif
    /* The last connection failure: raw mbedTLS code and verify flags, for diagnosis. */
    int last_mbedtls_error;
    uint32_t last_verify_flags;
    bool last_via_proxy;   /* the last connection opened (or tried) went through the proxy */
    int last_proxy_status; /* the status of the proxy's last refusal (0: none) */
} bk_tls_peers;

bk_connector bk_tls_connector(bk_tls_peers *peers, bk_tls_config *config, uint32_t timeout_ms);
/* Zeroes the sessions the peers hold (their secrets); once nothing will be saved any more. */
void bk_tls_peers_wipe_sessions(bk_tls_peers *peers);

#endif
