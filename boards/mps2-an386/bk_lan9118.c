/* SPDX-License-Identifier: MIT */
/* The LAN9118, polled (see bk_lan9118.h). Register map and FIFO formats as QEMU's model
 * (hw/net/lan9118.c) implements the chip's: every FIFO word holds 4 frame bytes, first byte in
 * the low bits; a received frame is a status word (length with the CRC in bits 29:16, error
 * summary in bit 15) and its data words, the CRC last; a frame to send is command word A (buffer
 * size, data start offset, first and last segment), command word B (tag, frame length), then the
 * data words. QEMU never sets an RX error or lets the TX FIFO fill, but both are checked. */
#include "bk_lan9118.h"

#include <stdbool.h>
#include <string.h>

#include "bk_platform.h"

#define RX_DATA_FIFO   0x00u
#define TX_DATA_FIFO   0x20u
#define RX_STATUS_FIFO 0x40u
#define TX_STATUS_FIFO 0x48u
#define ID_REV         0x50u
#define IRQ_CFG        0x54u
#define INT_STS        0x58u
#define INT_EN         0x5cu
#define BYTE_TEST      0x64u
#define RX_CFG         0x6cu
#define TX_CFG         0x70u
#define HW_CFG         0x74u
#define RX_FIFO_INF    0x7cu
#define TX_FIFO_INF    0x80u
#define PMT_CTRL       0x84u
#define MAC_CSR_CMD    0xa4u
#define MAC_CSR_DATA   0xa8u

#define BYTE_TEST_VALUE    0x87654321u
#define HW_CFG_SRST        0x1u
#define PMT_CTRL_READY     0x1u
#define TX_CFG_TX_ON       0x2u
#define MAC_CSR_BUSY       0x80000000u
#define MAC_CSR_READ       0x40000000u
#define RX_CFG_RXDOFF(n)   ((uint32_t)(n) << 8) /* bytes of padding before each frame */
#define RX_STS_ERROR       0x8000u
#define RX_STS_LENGTH(s)   (((s) >> 16) & 0x3fffu) /* with the 4-byte CRC */
#define TX_CMD_A_FIRST     0x2000u
#define TX_CMD_A_LAST      0x1000u
#define TX_CMD_A_OFFSET(n) ((uint32_t)(n) << 16) /* bytes of the first word to skip */
#define TX_STS_ERROR       0x8000u
#define FIFO_INF_STATUS(v) (((v) >> 16) & 0xffu) /* status words waiting */
#define TX_FIFO_FREE(v)    ((v)&0xffffu)         /* bytes free in the TX data FIFO */

#define MAC_CR      1u
#define MAC_ADDRH   2u
#define MAC_ADDRL   3u
#define MAC_CR_FDPX 0x00100000u
#define MAC_CR_TXEN 0x00000008u
#define MAC_CR_RXEN 0x00000004u

#define ETH_FRAME_MAX 1514u /* without the CRC */
#define ETH_CRC_LEN   4u

/* Reset and the MAC's own registers take microseconds on the chip; QEMU completes them at once. */
#define WAIT_MS 100u

static volatile uint32_t *reg(const bk_lan9118 *dev, uint32_t offset) {
    return (volatile uint32_t *)(dev->base + offset);
}

/* Waits until (register & mask) == want, for up to WAIT_MS. */
static bool wait_for(const bk_lan9118 *dev, uint32_t offset, uint32_t mask, uint32_t want) {
    uint64_t start = bk_monotonic_ms();
    while ((*reg(dev, offset) & mask) != want) {
        if (bk_monotonic_ms() - start > WAIT_MS) {
            return false;
        }
    }
    return true;
}

/* The MAC's registers sit behind MAC_CSR_CMD/MAC_CSR_DATA. */
static bool mac_write(const bk_lan9118 *dev, uint32_t index, uint32_t value) {
    if (!wait_for(dev, MAC_CSR_CMD, MAC_CSR_BUSY, 0)) {
        return false;
    }
    *reg(dev, MAC_CSR_DATA) = value;
    *reg(dev, MAC_CSR_CMD) = MAC_CSR_BUSY | index;
    return wait_for(dev, MAC_CSR_CMD, MAC_CSR_BUSY, 0);
}

static bool mac_read(const bk_lan9118 *dev, uint32_t index, uint32_t *value) {
    if (!wait_for(dev, MAC_CSR_CMD, MAC_CSR_BUSY, 0)) {
        return false;
    }
    *reg(dev, MAC_CSR_CMD) = MAC_CSR_BUSY | MAC_CSR_READ | index;
    if (!wait_for(dev, MAC_CSR_CMD, MAC_CSR_BUSY, 0)) {
        return false;
    }
    *value = *reg(dev, MAC_CSR_DATA);
    return true;
}

/* The address the chip loaded from its EEPROM (QEMU: -nic ...,mac=, by default
 * 52:54:00:12:34:56); a fixed locally administered one when that is missing or not unicast. */
static bool load_mac(bk_lan9118 *dev) {
    uint32_t low = 0;
    uint32_t high = 0;
    if (!mac_read(dev, MAC_ADDRL, &low) || !mac_read(dev, MAC_ADDRH, &high)) {
        return false;
    }
    for (unsigned i = 0; i < 4; i++) {
        dev->mac[i] = (uint8_t)(low >> (8 * i));
    }
    dev->mac[4] = (uint8_t)high;
    dev->mac[5] = (uint8_t)(high >> 8);
    static const uint8_t zero[6] = {0};
    if ((dev->mac[0] & 1u) == 0 && memcmp(dev->mac, zero, sizeof zero) != 0) {
        return true;
    }
    static const uint8_t fallback[6] = {0x02, 0x62, 0x6b, 0x00, 0x00, 0x01};
    memcpy(dev->mac, fallback, sizeof fallback);
    low = (uint32_t)fallback[0] | (uint32_t)fallback[1] << 8 | (uint32_t)fallback[2] << 16 |
          (uint32_t)fallback[3] << 24;
    high = (uint32_t)fallback[4] | (uint32_t)fallback[5] << 8;
    return mac_write(dev, MAC_ADDRL, low) && mac_write(dev, MAC_ADDRH, high);
}

int bk_lan9118_init(bk_lan9118 *dev, uintptr_t base) {
    memset(dev, 0, sizeof *dev);
    dev->base = base;
    /* The one register that reads the same on every LAN9118-family chip in 32-bit mode. */
    if (*reg(dev, BYTE_TEST) != BYTE_TEST_VALUE) {
        return -1;
    }
    (void)*reg(dev, ID_REV);
    *reg(dev, HW_CFG) = HW_CFG_SRST;
    if (!wait_for(dev, HW_CFG, HW_CFG_SRST, 0) ||
        !wait_for(dev, PMT_CTRL, PMT_CTRL_READY, PMT_CTRL_READY)) {
        return -1;
    }
    /* Polled: the interrupt line stays off. */
    *reg(dev, IRQ_CFG) = 0;
    *reg(dev, INT_EN) = 0;
    *reg(dev, INT_STS) = 0xffffffffu;
    *reg(dev, RX_CFG) = RX_CFG_RXDOFF(ETH_PAD_SIZE);
    if (!load_mac(dev) || !mac_write(dev, MAC_CR, MAC_CR_FDPX | MAC_CR_TXEN | MAC_CR_RXEN)) {
        return -1;
    }
    *reg(dev, TX_CFG) = TX_CFG_TX_ON;
    return 0;
}

/* Reads words of the current frame from the RX data FIFO into p's bytes, then reads and drops
 * the rest of its words (the CRC, and what did not fit). */
static void read_frame(const bk_lan9118 *dev, struct pbuf *p, uint32_t words) {
    volatile uint32_t *fifo = reg(dev, RX_DATA_FIFO);
    uint32_t word = 0;
    unsigned left = 0; /* bytes of word not yet stored */
    for (struct pbuf *q = p; q != NULL && words > 0; q = q->next) {
        uint8_t *dst = q->payload;
        size_t n = q->len;
        while (n > 0 && (left > 0 || words > 0)) {
            if (left == 0) {
                if (n >= 4 && ((uintptr_t)dst & 3u) == 0) {
                    *(uint32_t *)(void *)dst = *fifo;
                    words--;
                    dst += 4;
                    n -= 4;
                    continue;
                }
                word = *fifo;
                words--;
                left = 4;
            }
            *dst++ = (uint8_t)word;
            word >>= 8;
            left--;
            n--;
        }
    }
    while (words > 0) {
        (void)*fifo;
        words--;
    }
}

struct pbuf *bk_lan9118_receive(bk_lan9118 *dev) {
    if (FIFO_INF_STATUS(*reg(dev, RX_FIFO_INF)) == 0) {
        return NULL;
    }
    /* Room for the largest frame before the status is taken: without it the frame waits in the
     * chip. (The status can only be peeked on the chip, not in QEMU's model.) */
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(ETH_PAD_SIZE + ETH_FRAME_MAX), PBUF_POOL);
    if (p == NULL) {
        return NULL;
    }
    uint32_t status = *reg(dev, RX_STATUS_FIFO);
    uint32_t length = RX_STS_LENGTH(status);
    uint32_t words = (ETH_PAD_SIZE + length + 3u) / 4u;
    if ((status & RX_STS_ERROR) != 0 || length < 14u + ETH_CRC_LEN ||
        length - ETH_CRC_LEN > ETH_FRAME_MAX) {
        pbuf_free(p);
        read_frame(dev, NULL, words);
        dev->rx_dropped++;
        return NULL;
    }
    pbuf_realloc(p, (u16_t)(ETH_PAD_SIZE + length - ETH_CRC_LEN));
    read_frame(dev, p, words);
    dev->rx_frames++;
    return p;
}

int bk_lan9118_send(bk_lan9118 *dev, const struct pbuf *p) {
    /* Statuses of frames already sent: the FIFO holds a limited number. */
    while (FIFO_INF_STATUS(*reg(dev, TX_FIFO_INF)) != 0) {
        if ((*reg(dev, TX_STATUS_FIFO) & TX_STS_ERROR) != 0) {
            dev->tx_errors++;
        }
    }
    uint32_t total = p->tot_len; /* with the ETH_PAD_SIZE bytes in front, which the chip skips */
    if (total <= ETH_PAD_SIZE || total - ETH_PAD_SIZE > ETH_FRAME_MAX) {
        dev->tx_errors++;
        return -1;
    }
    uint32_t words = (total + 3u) / 4u;
    if (TX_FIFO_FREE(*reg(dev, TX_FIFO_INF)) < (words + 2u) * 4u) {
        dev->tx_errors++;
        return -1;
    }
    volatile uint32_t *fifo = reg(dev, TX_DATA_FIFO);
    uint32_t frame = total - ETH_PAD_SIZE;
    *fifo = TX_CMD_A_FIRST | TX_CMD_A_LAST | TX_CMD_A_OFFSET(ETH_PAD_SIZE) | frame;
    *fifo = ((dev->tx_frames & 0xffffu) << 16) | frame;
    uint32_t word = 0;
    unsigned have = 0; /* bytes in word */
    for (const struct pbuf *q = p; q != NULL; q = q->next) {
        const uint8_t *src = q->payload;
        size_t n = q->len;
        while (n > 0) {
            if (have == 0 && n >= 4 && ((uintptr_t)src & 3u) == 0) {
                *fifo = *(const uint32_t *)(const void *)src;
                src += 4;
                n -= 4;
                continue;
            }
            word |= (uint32_t)*src++ << (8 * have);
            n--;
            if (++have == 4) {
                *fifo = word;
                word = 0;
                have = 0;
            }
        }
    }
    if (have > 0) {
        *fifo = word;
    }
    dev->tx_frames++;
    return 0;
}
