/* SPDX-License-Identifier: MIT */
#include "bk_crypto.h"

void bk_wipe(void *p, size_t len) {
    /* Through a volatile pointer so the stores survive dead-store elimination. */
    volatile unsigned char *b = p;
    while (len--) {
        *b++ = 0;
    }
}
