/* SPDX-License-Identifier: MIT */
/* lwIP 2.2 for the mps2-an386 firmware: no OS (NO_SYS, raw API, polled from the main loop), one
 * Ethernet interface with a static IPv4 address (QEMU user networking: 10.0.2.15/24, gateway
 * 10.0.2.2), one TCP client connection at a time. Names are resolved by the firmware's own table:
 * no DNS, no DHCP, no UDP.
 *
 * Memory (the whole image has 64 KiB of RAM, the mbedTLS pool most of it): a 16 KiB TLS record
 * is assembled in mbedTLS's own input buffer, which the platform fills from lwIP as segments
 * arrive, so lwIP never holds a record: it only holds what the window lets in before the next
 * poll. About 11 KiB in all: 4 receive pbufs of 1.5 KiB, a 4 KiB heap, 0.9 KiB of pools. */
#ifndef BK_LWIPOPTS_H
#define BK_LWIPOPTS_H

/* --- system: one thread, polled --- */

#define NO_SYS 1
/* Nothing touches lwIP from an interrupt: the driver is polled, so no critical sections. */
#define SYS_LIGHTWEIGHT_PROT 0
/* sys_check_timeouts() from the main loop; sys_now() is the board's millisecond clock. */
#define LWIP_TIMERS         1
#define LWIP_SOCKET         0
#define LWIP_NETCONN        0
#define LWIP_NETIF_API      0
#define LWIP_ALTCP          0
#define LWIP_SINGLE_NETIF   1
#define LWIP_HAVE_LOOPIF    0
#define LWIP_NETIF_LOOPBACK 0

/* --- protocols --- */

#define LWIP_IPV4     1
#define LWIP_IPV6     0
#define LWIP_ARP      1
#define LWIP_ETHERNET 1
/* Two bytes before each Ethernet header (the LAN9118's RX data offset writes them) put the IP
 * header on a word boundary. The pool's pbufs then hold a whole frame: 2 + 1514 bytes. */
#define ETH_PAD_SIZE 2
/* ICMP answers ping and reports closed ports: worth its 0.5 KiB while bringing the board up. */
#define LWIP_ICMP   1
#define LWIP_RAW    0
#define LWIP_UDP    0
#define LWIP_DHCP   0
#define LWIP_AUTOIP 0
#define LWIP_ACD    0
#define LWIP_IGMP   0
#define LWIP_DNS    0
/* MTU 1500 and an MSS of 1460 on both sides: nothing to fragment or reassemble. */
#define IP_REASSEMBLY       0
#define IP_FRAG             0
#define LWIP_TCP            1
#define LWIP_TCP_KEEPALIVE  0
#define LWIP_TCP_TIMESTAMPS 0
#define LWIP_WND_SCALE      0
#define TCP_LISTEN_BACKLOG  0

/* --- memory --- */

#define MEM_ALIGNMENT 4
/* lwIP's own pools and heap in static arrays, never libc's malloc. */
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0

#define TCP_MSS 1460
/* The receive window: what the peer may send before the firmware has copied it out. Two
 * segments per round trip; TLS and the HTTP reader consume as fast as it arrives. */
#define TCP_WND (2 * TCP_MSS)
/* Received frames: the window's two segments, one for ARP or an ACK that arrives meanwhile, one
 * spare. Each holds a whole Ethernet frame (PBUF_POOL_BUFSIZE defaults to MSS + headers). */
#define PBUF_POOL_SIZE 4
/* Out-of-order segments are dropped and resent by the peer, instead of held in pbufs the
 * window's own segments need. */
#define TCP_QUEUE_OOSEQ 0

/* Sending: tcp_write copies into the heap (mbedTLS reuses its record buffer at once) and holds
 * the bytes until acknowledged. Two segments in flight; a 2 KiB TLS record is one or two. */
#define TCP_SND_BUF      (2 * TCP_MSS)
#define TCP_SND_QUEUELEN 8
#define MEMP_NUM_TCP_SEG 8
/* Two unacknowledged full segments with their headers, plus ACKs and ARP requests. */
#define MEM_SIZE 4096

/* The connection, and the previous one while it finishes closing: a new connection takes over
 * one in TIME_WAIT (lwIP) or still in FIN_WAIT (platform/lwip gives closed pcbs the lowest
 * priority) when none is free. */
#define MEMP_NUM_TCP_PCB        2
#define MEMP_NUM_TCP_PCB_LISTEN 1
#define MEMP_NUM_PBUF           4
/* Only the gateway (QEMU: 10.0.2.2) is ever talked to directly, and the peer's own address. */
#define ARP_TABLE_SIZE 2
#define ARP_QUEUEING   0

/* --- checksums: in software (QEMU's LAN9118 offloads none) --- */

#define CHECKSUM_GEN_IP     1
#define CHECKSUM_GEN_TCP    1
#define CHECKSUM_GEN_ICMP   1
#define CHECKSUM_CHECK_IP   1
#define CHECKSUM_CHECK_TCP  1
#define CHECKSUM_CHECK_ICMP 1

/* --- statistics: the heap's and the pools' high-water marks (lwip_stats.mem.max,
 * lwip_stats.memp[i]->max), read by the firmware; the protocol counters are left out --- */

#define LWIP_STATS         1
#define MEM_STATS          1
#define MEMP_STATS         1
#define LINK_STATS         0
#define ETHARP_STATS       0
#define IP_STATS           0
#define IPFRAG_STATS       0
#define ICMP_STATS         0
#define TCP_STATS          0
#define UDP_STATS          0
#define SYS_STATS          0
#define LWIP_STATS_DISPLAY 0

#endif
