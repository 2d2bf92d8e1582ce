/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "bk_crypto.h"

/* memset called through a volatile pointer: the compiler cannot know it is memset, so the stores
 * survive dead-store elimination, and the wipe runs at memset's speed, not a byte at a time. */
static void *(*const volatile bk_wipe_memset)(void *, int, size_t) = memset;

void bk_wipe(void *p, size_t len) {
    if (p != NULL && len > 0) {
        bk_wipe_memset(p, 0, len);
    }
}
