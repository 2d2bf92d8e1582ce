/* SPDX-License-Identifier: MIT */
/* The client's connection seam over mbedTLS: one TLS connection per peer slot.
 *
 *     static bk_tls_config tls;
 *     static bk_tls_peers peers;
 *     r = bk_tls_config_init(&tls, ca_file);
 *     bk_client_init(&client, bk_tls_connector(&peers, &tls, 20000));
 *     ...
 *     bk_client_close(&client);
 *     bk_tls_config_free(&tls);
 */
#ifndef BK_TLS_CONNECTOR_H
#define BK_TLS_CONNECTOR_H

#include "bk_client.h"
#include "bk_tls.h"

typedef struct bk_tls_peers {
    bk_tls_config *config;
    bk_tls_conn conns[BK_PEER_COUNT];
    uint32_t timeout_ms; /* the longest one connect or one wait for the network may take */
    /* The last connection failure: raw mbedTLS code and verify flags, for diagnosis. */
    int last_mbedtls_error;
    uint32_t last_verify_flags;
} bk_tls_peers;

bk_connector bk_tls_connector(bk_tls_peers *peers, bk_tls_config *config, uint32_t timeout_ms);

#endif
