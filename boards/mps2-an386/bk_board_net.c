/* SPDX-License-Identifier: MIT */
/* The mps2-an386 board's network (see bk_board_net.h): the LAN9118 as lwIP's netif, the poll
 * hook of platform/lwip, and what lwIP asks of a board without an OS (sys_now, arch/cc.h's
 * assert, diagnostics and random number).
 *
 * The poll takes every frame the controller holds into lwIP (ethernet_input: ARP, IPv4, TCP),
 * then runs lwIP's timers. When no frame came and the caller allows waiting, it waits for the
 * next interrupt, the 1 ms SysTick (the controller's interrupt line is not used), and polls
 * again: a wait for the network costs QEMU's host next to nothing instead of a spinning core. */
#include "bk_board_net.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/priv/memp_priv.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "bk_board.h"
#include "bk_lan9118.h"
#include "bk_lwip.h"
#include "bk_platform.h"

static bk_lan9118 nic;
static struct netif netif;
static bool started;

u32_t sys_now(void) {
    return (u32_t)bk_monotonic_ms();
}

void bk_board_lwip_assert(const char *file, int line) {
    fprintf(stderr, "bk_board: lwIP assertion failed at %s:%d\n", file, line);
    fflush(stderr);
    bk_board_exit(BK_BOARD_EXIT_FAULT);
}

void bk_board_lwip_diag(const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    vfprintf(stderr, format, ap);
    va_end(ap);
}

uint32_t bk_board_lwip_rand(void) {
    uint8_t b[4];
    if (bk_entropy(b, sizeof b) != BK_OK) {
        return (uint32_t)bk_monotonic_ms();
    }
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static err_t link_output(struct netif *n, struct pbuf *p) {
    (void)n;
    return bk_lan9118_send(&nic, p) == 0 ? ERR_OK : ERR_IF;
}

static err_t netif_setup(struct netif *n) {
    n->name[0] = 'e';
    n->name[1] = 'n';
    n->output = etharp_output;
    n->linkoutput = link_output;
    n->mtu = 1500;
    n->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(n->hwaddr, nic.mac, ETH_HWADDR_LEN);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

/* Every frame the controller holds, into lwIP: whether one came. */
static bool receive_all(void) {
    bool any = false;
    struct pbuf *p;
    while ((p = bk_lan9118_receive(&nic)) != NULL) {
        any = true;
        if (netif.input(p, &netif) != ERR_OK) {
            pbuf_free(p);
        }
    }
    return any;
}

static void poll(void *ctx, uint32_t wait_ms) {
    (void)ctx;
    bool any = receive_all();
    sys_check_timeouts();
    if (!any && wait_ms > 0) {
        __asm__ volatile("wfi"); /* SysTick wakes it within 1 ms */
        (void)receive_all();
        sys_check_timeouts();
    }
}

/* bk_sleep_ms (backoff between retries) keeps ACKs, retransmissions and closes going. */
static void idle(void *ctx) {
    poll(ctx, 1);
}

bk_result bk_board_net_start(const char *hosts) {
    bk_lwip_set_hosts(hosts);
    if (started) {
        return BK_OK;
    }
    if (bk_lan9118_init(&nic, BK_LAN9118_MPS2_BASE) != 0) {
        return BK_ERR_CONNECT;
    }
    lwip_init();
    ip4_addr_t address, netmask, gateway;
    IP4_ADDR(&address, 10, 0, 2, 15);
    IP4_ADDR(&netmask, 255, 255, 255, 0);
    IP4_ADDR(&gateway, 10, 0, 2, 2);
    if (netif_add(&netif, &address, &netmask, &gateway, NULL, netif_setup, ethernet_input) ==
        NULL) {
        return BK_ERR_CONNECT;
    }
    netif_set_default(&netif);
    netif_set_up(&netif);
    netif_set_link_up(&netif);
    bk_lwip_set_poll(poll, NULL);
    bk_board_set_idle(idle, NULL);
    started = true;
    return BK_OK;
}

/* The pools' names, in lwIP's own order (the X-macro list its memp.h is built from). */
static const char *const pool_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

void bk_board_net_report(void) {
    if (!started) {
        return;
    }
    fprintf(stderr, "lwIP heap: high-water %u of %u bytes\n", (unsigned)lwip_stats.mem.max,
            (unsigned)MEM_SIZE);
    unsigned peak = 0;
    unsigned total = 0;
    char detail[256] = "";
    size_t at = 0;
    for (size_t i = 0; i < MEMP_MAX; i++) {
        const struct memp_desc *d = memp_pools[i];
        peak += (unsigned)d->stats->max * d->size;
        total += (unsigned)d->num * d->size;
        int n = snprintf(&detail[at], sizeof detail - at, "%s%s %u/%u", i == 0 ? "" : ", ",
                         pool_names[i], (unsigned)d->stats->max, (unsigned)d->num);
        if (n > 0 && (size_t)n < sizeof detail - at) {
            at += (size_t)n;
        }
    }
    fprintf(stderr, "lwIP pools: high-water %u of %u bytes (%s)\n", peak, total, detail);
    fprintf(stderr,
            "lwIP at exit: %u sockets open, %u pbufs queued, %u pool pbufs in use; LAN9118: %lu "
            "frames in, %lu out, %lu dropped, %lu send errors\n",
            bk_lwip_open_count(), bk_lwip_queued_pbufs(),
            (unsigned)lwip_stats.memp[MEMP_PBUF_POOL]->used, (unsigned long)nic.rx_frames,
            (unsigned long)nic.tx_frames, (unsigned long)nic.rx_dropped,
            (unsigned long)nic.tx_errors);
}
