/* SPDX-License-Identifier: MIT */
/* For the unit-test images that link the crypto seam (port/mbedtls over the board's mbedTLS): the
 * static pool every mbedTLS allocation comes from on the board (MBEDTLS_MEMORY_BUFFER_ALLOC_C),
 * handed over before the test's first mbedTLS call. bk_target_main.c calls bk_target_setup(). */
#include "mbedtls/memory_buffer_alloc.h"

#ifndef BK_TARGET_MBEDTLS_POOL
#define BK_TARGET_MBEDTLS_POOL 32768
#endif

void bk_target_setup(void);

void bk_target_setup(void) {
    static unsigned char pool[BK_TARGET_MBEDTLS_POOL];
    mbedtls_memory_buffer_alloc_init(pool, sizeof pool);
}
