/* SPDX-License-Identifier: MIT */
/* The TCP half of the platform contract (core/bk_platform.h) on lwIP's raw API without an OS
 * (NO_SYS=1), IPv4 only. The board gives the rest: clocks, entropy, sleep, log, lwIP's start and
 * its interface, and the two hooks of bk_lwip.h.
 *
 * Polling. Nothing moves in lwIP unless something polls: the board's hook (bk_lwip_set_poll)
 * hands the frames its interface received to lwIP and runs lwIP's timers. Every call here that
 * waits calls it, so the calls of the core's TCP carrier (core/bk_tcp_stream.c) are what drive
 * the network, and time is counted there:
 *  - bk_tcp_connect loops (poll, check) until the handshake completes, fails, or timeout_ms has
 *    passed, then aborts the attempt;
 *  - bk_tcp_send copies what fits into lwIP's send buffer (tcp_write, then tcp_output) and
 *    answers that count; when the buffer is full it polls once (the peer's ACKs free it) and
 *    tries again, and answers 0 ("nothing moved yet, I polled") if it is still full;
 *  - bk_tcp_recv answers from the connection's receive queue; when that is empty it polls once,
 *    letting the hook wait up to 1 ms for traffic (never more than timeout_ms), and answers 0 if
 *    nothing came.
 * The carrier calls send and recv again until its own per-wait timeout or deadline, so one call
 * here never outlasts a poll and a millisecond. A timeout_ms of 0 polls without waiting and
 * answers BK_ERR_TIMEOUT when nothing moved.
 *
 * Receiving. lwIP's recv callback appends each segment's pbufs to the connection's queue; the
 * receive window shrinks by what is queued, so the queue never holds more than TCP_WND bytes.
 * bk_tcp_recv copies from the queue's head, frees what it read (pbuf_free_header) and reopens
 * the window by as much (tcp_recved). Once the queue is empty: BK_ERR_STREAM_CLOSED after the
 * peer's FIN; after a reset or an abort (lwIP's err callback: the pcb is already gone)
 * BK_ERR_STREAM_RECV, and BK_ERR_STREAM_SEND for a send.
 *
 * Closing. What was received and never read is acknowledged as read (lwIP would answer a close
 * with unread data by a RST), the callbacks are removed, and tcp_close sends the FIN after what
 * is still queued for sending; tcp_abort (a RST) when tcp_close cannot. lwIP finishes the close
 * on its own in later polls, on a pcb this file no longer holds; its default receive handler
 * drops late data. That pcb gets the lowest priority, so a new connection takes it over
 * (tcp_kill_prio) rather than fail for want of a pcb while a vanished peer never answers the
 * FIN. The queue is freed in every case: nothing stays allocated for a closed socket.
 *
 * Names: no DNS. The board's host table (bk_lwip_set_hosts), then a dotted-quad IPv4 literal. */
#include "bk_lwip.h"

#include <stdbool.h>
#include <string.h>

#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#include "bk_platform.h"

/* Sockets open at once. The TLS connector opens one at a time on small boards (max_open 1); one
 * spare. */
#ifndef BK_LWIP_MAX_SOCKETS
#define BK_LWIP_MAX_SOCKETS 2
#endif

/* The longest one poll may wait for traffic when there is none: the carrier counts the time. */
#define BK_LWIP_IDLE_WAIT_MS 1u

typedef struct bk_lwip_conn {
    struct tcp_pcb *pcb; /* NULL once closed here or ended by lwIP */
    struct pbuf *queue;  /* received and not yet read, a chain */
    err_t error;         /* why lwIP ended the connection (ERR_RST, ERR_ABRT...), or ERR_OK */
    bool in_use;
    bool connected;
    bool fin; /* the peer has closed its side */
} bk_lwip_conn;

static bk_lwip_conn conns[BK_LWIP_MAX_SOCKETS];
static bk_lwip_poll_fn poll_fn;
static void *poll_ctx;
static const char *host_table;

void bk_lwip_set_poll(bk_lwip_poll_fn poll, void *ctx) {
    poll_fn = poll;
    poll_ctx = ctx;
}

void bk_lwip_set_hosts(const char *table) {
    host_table = table;
}

unsigned bk_lwip_open_count(void) {
    unsigned n = 0;
    for (size_t i = 0; i < BK_LWIP_MAX_SOCKETS; i++) {
        n += conns[i].in_use ? 1u : 0u;
    }
    return n;
}

unsigned bk_lwip_queued_pbufs(void) {
    unsigned n = 0;
    for (size_t i = 0; i < BK_LWIP_MAX_SOCKETS; i++) {
        n += conns[i].queue != NULL ? pbuf_clen(conns[i].queue) : 0u;
    }
    return n;
}

static void poll_network(uint32_t wait_ms) {
    if (poll_fn != NULL) {
        poll_fn(poll_ctx, wait_ms);
    }
}

/* --- names --- */

static char lower(char c) {
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A dotted quad, four decimal parts of 0 to 255 with 1 to 3 digits each, and nothing else. */
static bool parse_ipv4(const char *text, size_t len, ip_addr_t *addr) {
    uint32_t value = 0;
    size_t pos = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (pos >= len || text[pos] != '.') {
                return false;
            }
            pos++;
        }
        uint32_t octet = 0;
        size_t digits = 0;
        while (pos < len && text[pos] >= '0' && text[pos] <= '9' && digits < 3) {
            octet = octet * 10u + (uint32_t)(text[pos] - '0');
            pos++;
            digits++;
        }
        if (digits == 0 || octet > 255u) {
            return false;
        }
        value = (value << 8) | octet;
    }
    if (pos != len) {
        return false;
    }
    ip4_addr_set_u32(addr, lwip_htonl(value));
    return true;
}

/* host's address from the table, else from host itself as an IPv4 literal. */
static bool resolve(const char *host, ip_addr_t *addr) {
    size_t host_len = strlen(host);
    const char *p = host_table;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        const char *entry = p;
        while (*p != '\0' && *p != ' ' && *p != ',') {
            p++;
        }
        const char *eq = memchr(entry, '=', (size_t)(p - entry));
        if (eq == NULL || (size_t)(eq - entry) != host_len) {
            continue;
        }
        size_t i = 0;
        while (i < host_len && lower(entry[i]) == lower(host[i])) {
            i++;
        }
        if (i == host_len) {
            return parse_ipv4(eq + 1, (size_t)(p - eq - 1), addr);
        }
    }
    return parse_ipv4(host, host_len, addr);
}

/* --- lwIP's callbacks; arg is the connection, NULL once it let go of the pcb --- */

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)pcb;
    bk_lwip_conn *c = arg;
    if (c != NULL && err == ERR_OK) {
        c->connected = true;
    }
    return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)pcb;
    (void)err; /* always ERR_OK in lwIP 2.x */
    bk_lwip_conn *c = arg;
    if (p == NULL) {
        if (c != NULL) {
            c->fin = true;
        }
        return ERR_OK;
    }
    if (c == NULL) {
        pbuf_free(p);
        return ERR_OK;
    }
    if (c->queue == NULL) {
        c->queue = p;
    } else {
        pbuf_cat(c->queue, p); /* the window keeps tot_len within TCP_WND */
    }
    return ERR_OK;
}

/* The pcb is already freed when this is called. */
static void on_error(void *arg, err_t err) {
    bk_lwip_conn *c = arg;
    if (c != NULL) {
        c->pcb = NULL;
        c->error = err;
    }
}

/* --- sockets --- */

static bk_lwip_conn *conn_of(const bk_socket *sock) {
    if (sock == NULL || sock->handle < 0 || sock->handle >= BK_LWIP_MAX_SOCKETS) {
        return NULL;
    }
    bk_lwip_conn *c = &conns[sock->handle];
    return c->in_use ? c : NULL;
}

/* Lets go of c's pcb (closing it, or aborting it when abort is set or the close fails) and
 * frees its queue. */
static void release(bk_lwip_conn *c, bool abort) {
    struct tcp_pcb *pcb = c->pcb;
    if (pcb != NULL) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_err(pcb, NULL);
        if (!abort) {
            if (c->queue != NULL) {
                tcp_recved(pcb, c->queue->tot_len);
            }
            tcp_setprio(pcb, TCP_PRIO_MIN);
            abort = tcp_close(pcb) != ERR_OK;
        }
        if (abort) {
            tcp_abort(pcb);
        }
    }
    if (c->queue != NULL) {
        pbuf_free(c->queue);
    }
    memset(c, 0, sizeof *c);
}

bk_result bk_tcp_connect(bk_socket *sock, const char *host, uint16_t port, uint32_t timeout_ms) {
    if (sock == NULL || host == NULL) {
        return BK_ERR_ARGUMENT;
    }
    sock->handle = -1;
    ip_addr_t addr;
    if (!resolve(host, &addr)) {
        return BK_ERR_DNS;
    }
    int slot = 0;
    while (slot < BK_LWIP_MAX_SOCKETS && conns[slot].in_use) {
        slot++;
    }
    if (slot == BK_LWIP_MAX_SOCKETS) {
        return BK_ERR_CONNECT;
    }
    uint64_t start = bk_monotonic_ms();
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL) {
        return BK_ERR_CONNECT;
    }
    bk_lwip_conn *c = &conns[slot];
    memset(c, 0, sizeof *c);
    c->in_use = true;
    c->pcb = pcb;
    tcp_arg(pcb, c);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_error);
    /* TLS writes whole records and waits for the answer: nothing to gain from holding the last
     * small segment back for an ACK. */
    tcp_nagle_disable(pcb);
    if (tcp_connect(pcb, &addr, port, on_connected) != ERR_OK) {
        release(c, true);
        return BK_ERR_CONNECT;
    }
    for (;;) {
        if (c->connected) {
            sock->handle = slot;
            return BK_OK;
        }
        if (c->pcb == NULL) { /* refused (RST) or given up by lwIP */
            release(c, true);
            return BK_ERR_CONNECT;
        }
        uint64_t spent = bk_monotonic_ms() - start;
        if (spent >= timeout_ms) {
            release(c, true);
            return BK_ERR_TIMEOUT;
        }
        uint64_t left = timeout_ms - spent;
        poll_network(left < BK_LWIP_IDLE_WAIT_MS ? (uint32_t)left : BK_LWIP_IDLE_WAIT_MS);
    }
}

/* Queued bytes into data, else how the connection ended, else 0. */
static int32_t take(bk_lwip_conn *c, uint8_t *data, size_t len) {
    if (c->queue != NULL) {
        u16_t n = c->queue->tot_len;
        if (len < n) {
            n = (u16_t)len;
        }
        (void)pbuf_copy_partial(c->queue, data, n, 0);
        c->queue = pbuf_free_header(c->queue, n);
        if (c->pcb != NULL) {
            tcp_recved(c->pcb, n);
        }
        return (int32_t)n;
    }
    if (c->fin) {
        return BK_ERR_STREAM_CLOSED;
    }
    return c->pcb == NULL ? BK_ERR_STREAM_RECV : 0;
}

int32_t bk_tcp_recv(bk_socket *sock, uint8_t *data, size_t len, uint32_t timeout_ms) {
    bk_lwip_conn *c = conn_of(sock);
    if (c == NULL || (data == NULL && len > 0)) {
        return BK_ERR_ARGUMENT;
    }
    if (len == 0) {
        return 0;
    }
    int32_t n = take(c, data, len);
    if (n != 0) {
        return n;
    }
    poll_network(timeout_ms < BK_LWIP_IDLE_WAIT_MS ? timeout_ms : BK_LWIP_IDLE_WAIT_MS);
    n = take(c, data, len);
    if (n != 0) {
        return n;
    }
    return timeout_ms == 0 ? BK_ERR_TIMEOUT : 0;
}

/* What fits of data into lwIP's send buffer, sent on at once; 0 when nothing fits now. */
static int32_t put(bk_lwip_conn *c, const uint8_t *data, size_t len) {
    if (c->pcb == NULL) {
        return BK_ERR_STREAM_SEND;
    }
    u16_t n = tcp_sndbuf(c->pcb);
    if (len < n) {
        n = (u16_t)len;
    }
    if (n == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN) {
        return 0;
    }
    err_t err = tcp_write(c->pcb, data, n, TCP_WRITE_FLAG_COPY);
    if (err == ERR_MEM) { /* segments or heap used up until ACKs free them */
        (void)tcp_output(c->pcb);
        return 0;
    }
    if (err != ERR_OK) {
        return BK_ERR_STREAM_SEND;
    }
    (void)tcp_output(c->pcb);
    return (int32_t)n;
}

int32_t bk_tcp_send(bk_socket *sock, const uint8_t *data, size_t len, uint32_t timeout_ms) {
    bk_lwip_conn *c = conn_of(sock);
    if (c == NULL || (data == NULL && len > 0)) {
        return BK_ERR_ARGUMENT;
    }
    if (len == 0) {
        return 0;
    }
    int32_t n = put(c, data, len);
    if (n != 0) {
        return n;
    }
    poll_network(timeout_ms < BK_LWIP_IDLE_WAIT_MS ? timeout_ms : BK_LWIP_IDLE_WAIT_MS);
    n = put(c, data, len);
    if (n != 0) {
        return n;
    }
    return timeout_ms == 0 ? BK_ERR_TIMEOUT : 0;
}

void bk_tcp_close(bk_socket *sock) {
    if (sock == NULL) {
        return;
    }
    bk_lwip_conn *c = conn_of(sock);
    sock->handle = -1;
    if (c != NULL) {
        release(c, false);
    }
}
