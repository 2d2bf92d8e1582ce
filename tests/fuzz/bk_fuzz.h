/* SPDX-License-Identifier: MIT */
/* What the fuzz targets share: check(), whose failure names its place, then aborts, which is a
 * finding for libFuzzer. */
#ifndef BK_FUZZ_H
#define BK_FUZZ_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static inline void bk_fuzz_check(bool ok, const char *what, const char *file, int line) {
    if (!ok) {
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
        abort();
    }
}
#define check(ok) bk_fuzz_check((ok), #ok, __FILE__, __LINE__)

#endif
