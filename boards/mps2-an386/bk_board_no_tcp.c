/* SPDX-License-Identifier: MIT */
/* TCP on the mps2-an386 board until platform/lwip brings it (over the board's LAN9118): every
 * call answers BK_ERR_UNSUPPORTED, as platform/null's do. Kept apart from bk_board_platform.c so
 * that the lwIP port replaces this file alone; platform/null/bk_platform_null.c cannot be linked
 * for just its TCP half, since it defines the clocks and entropy too. */
#include "bk_platform.h"

bk_result bk_tcp_connect(bk_socket *sock, const char *host, uint16_t port, uint32_t timeout_ms) {
    (void)host;
    (void)port;
    (void)timeout_ms;
    if (sock != NULL) {
        sock->handle = -1;
    }
    return BK_ERR_UNSUPPORTED;
}

int32_t bk_tcp_send(bk_socket *sock, const uint8_t *data, size_t len, uint32_t timeout_ms) {
    (void)sock;
    (void)data;
    (void)len;
    (void)timeout_ms;
    return BK_ERR_UNSUPPORTED;
}

int32_t bk_tcp_recv(bk_socket *sock, uint8_t *data, size_t len, uint32_t timeout_ms) {
    (void)sock;
    (void)data;
    (void)len;
    (void)timeout_ms;
    return BK_ERR_UNSUPPORTED;
}

void bk_tcp_close(bk_socket *sock) {
    if (sock != NULL) {
        sock->handle = -1;
    }
}
