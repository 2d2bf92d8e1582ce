/* SPDX-License-Identifier: MIT */
/* The mps2-an386 board's network: the LAN9118 under lwIP (NO_SYS), one Ethernet interface with
 * QEMU's user-mode addresses (10.0.2.15/24, gateway 10.0.2.2), and the hooks platform/lwip asks
 * for: the poll that drives the interface and lwIP's timers, and the host table.
 *
 *     if (bk_board_net_start("localhost=10.0.2.100") != BK_OK) ...   // once, before connecting
 *     ... bk_tcp_connect(...) ...                                    // platform/lwip
 *     bk_board_net_report();                                         // high-water marks, stderr
 */
#ifndef BK_BOARD_NET_H
#define BK_BOARD_NET_H

#include "bk_result.h"

/* Brings the interface and lwIP up (once: later calls only replace the host table, kept, not
 * copied; see bk_lwip_set_hosts) and makes bk_sleep_ms keep the network polled.
 * BK_ERR_CONNECT when the controller does not answer. */
bk_result bk_board_net_start(const char *hosts);

/* Writes lwIP's memory high-water marks on stderr, in lines boards/mps2-an386/size.sh reads:
 *   lwIP heap: high-water N of M bytes
 *   lwIP pools: high-water N of M bytes (PBUF_POOL 3/4, ...)
 * and what is still held: "lwIP at exit: N sockets, N queued pbufs, N pool pbufs in use". */
void bk_board_net_report(void);

#endif
