/* SPDX-License-Identifier: MIT */
/* lwIP's compiler and platform port for the mps2-an386 board (no OS): newlib's stdint and
 * inttypes, a little-endian Cortex-M4, and the few functions lwIP asks of the board. */
#ifndef BK_LWIP_ARCH_CC_H
#define BK_LWIP_ARCH_CC_H

#include <stdint.h>

#define BYTE_ORDER LITTLE_ENDIAN

/* REV and REV16 instead of lwIP's shifts and masks. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

/* The board's: a failed assertion stops the firmware with its place; lwIP's own message text is
 * dropped to keep it out of flash. */
void bk_board_lwip_assert(const char *file, int line);
/* Diagnostics (LWIP_DEBUG and stats display only, both off in release): printf-like. */
void bk_board_lwip_diag(const char *format, ...);
/* A random number for the first local TCP port, so a rebooted board does not reuse the port of
 * a connection the peer may still remember. */
uint32_t bk_board_lwip_rand(void);

#ifdef __FILE_NAME__
#define BK_LWIP_FILE __FILE_NAME__
#else
#define BK_LWIP_FILE __FILE__
#endif
#define LWIP_PLATFORM_ASSERT(message)                                                              \
    do {                                                                                           \
        bk_board_lwip_assert(BK_LWIP_FILE, __LINE__);                                              \
    } while (0)
#define LWIP_PLATFORM_DIAG(args)                                                                   \
    do {                                                                                           \
        bk_board_lwip_diag args;                                                                   \
    } while (0)
#define LWIP_RAND() bk_board_lwip_rand()

#endif
