/* SPDX-License-Identifier: MIT */
/* A polled driver for the SMSC LAN9118 Ethernet controller (the mps2-an386 board has one at
 * 0x40200000; QEMU models it in hw/net/lan9118.c), for lwIP: no interrupts, frames in and out
 * through the chip's FIFOs in 32-bit words.
 *
 *     static bk_lan9118 nic;
 *     if (bk_lan9118_init(&nic, BK_LAN9118_MPS2_BASE) != 0) ...   // reset, MAC address, RX/TX on
 *     struct pbuf *p;
 *     while ((p = bk_lan9118_receive(&nic)) != NULL) netif->input(p, netif);
 *     bk_lan9118_send(&nic, p);                                   // a frame from a pbuf chain
 *
 * Frames come with lwIP's ETH_PAD_SIZE bytes in front (the chip's RX data offset puts them
 * there), so the IP header that follows the 14-byte Ethernet header is word-aligned. Written and
 * tested against QEMU's model; real silicon has access-timing rules this does not claim to
 * follow. */
#ifndef BK_LAN9118_H
#define BK_LAN9118_H

#include <stdint.h>

#include "lwip/pbuf.h"

/* Where the mps2 boards map the controller (hw/arm/mps2.c). */
#define BK_LAN9118_MPS2_BASE 0x40200000u

typedef struct bk_lan9118 {
    uintptr_t base;
    uint8_t mac[6];      /* read from the chip (its EEPROM), or a fixed local one */
    uint32_t rx_frames;  /* handed to lwIP */
    uint32_t rx_dropped; /* with an error, or too large */
    uint32_t tx_frames;  /* queued in the TX FIFO */
    uint32_t tx_errors;  /* no FIFO room, or an error in the TX status */
} bk_lan9118;

/* Resets the chip and starts it: 0, or -1 when no LAN9118 answers at base or it does not come
 * out of reset. */
int bk_lan9118_init(bk_lan9118 *dev, uintptr_t base);

/* The next received frame in PBUF_POOL pbufs, or NULL when there is none. When the pool has no
 * room for a whole frame the frame stays in the chip's FIFO until the next call: backpressure,
 * not loss. Frames with an error are dropped. */
struct pbuf *bk_lan9118_receive(bk_lan9118 *dev);

/* Queues the frame in p (ETH_PAD_SIZE bytes in front, skipped) for sending: 0, or -1 when the
 * TX FIFO has no room for it. */
int bk_lan9118_send(bk_lan9118 *dev, const struct pbuf *p);

#endif
