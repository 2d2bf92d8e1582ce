/* SPDX-License-Identifier: MIT */
/* What platform/lwip/bk_lwip.c (the platform contract's TCP on lwIP's raw API, NO_SYS) needs
 * from the board it runs on: a poll hook that drives the network, and a host table in place of
 * DNS. The board also brings lwIP up (lwip_init, its netif) before the first connect.
 *
 *     bk_lwip_set_poll(board_poll, NULL);                    // before the first bk_tcp_* call
 *     bk_lwip_set_hosts("localhost=10.0.2.100 login.example=10.0.2.101");
 */
#ifndef BK_LWIP_H
#define BK_LWIP_H

#include <stdint.h>

/* Moves the frames the interface has received into lwIP (netif->input) and runs lwIP's timers
 * (sys_check_timeouts). When nothing arrived it may wait up to wait_ms for traffic (until the
 * next interrupt, say), never longer; wait_ms 0: no waiting at all. */
typedef void (*bk_lwip_poll_fn)(void *ctx, uint32_t wait_ms);
void bk_lwip_set_poll(bk_lwip_poll_fn poll, void *ctx);

/* The names bk_tcp_connect knows: "name=a.b.c.d" entries separated by spaces or commas, names
 * compared without regard to case, looked up before a host is read as an IPv4 literal. The text
 * is kept, not copied: it must stay valid while connections are made. NULL or "": none. */
void bk_lwip_set_hosts(const char *table);

/* For leak checks: connections this file holds, and the pbufs waiting in their receive queues.
 * Both are 0 once every socket is closed. */
unsigned bk_lwip_open_count(void);
unsigned bk_lwip_queued_pbufs(void);

#endif
