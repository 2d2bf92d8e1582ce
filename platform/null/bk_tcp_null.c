/* SPDX-License-Identifier: MIT */
/* The null platform's TCP: every call answers BK_ERR_UNSUPPORTED. Linked by bk_platform_null.c's
 * users, and alone by boards and tests that have clocks and entropy but no network. */
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
