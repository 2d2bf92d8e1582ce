#!/bin/sh
# SPDX-License-Identifier: MIT
# The core's own rules, checked on its objects and sources:
#  - no object references the heap (malloc, calloc, realloc, free, strdup, strndup);
#  - core/ includes no OS, libc-beyond-freestanding or mbedTLS/jsmn header.
# Usage: tests/check_core.sh OBJECT...     (run from the top of the tree; BUILD: the build directory)
set -u
status=0
for obj in "$@"; do
    heap=$(nm -u "$obj" | awk '{print $NF}' | grep -E '^(malloc|calloc|realloc|free|strdup|strndup|reallocarray|aligned_alloc|posix_memalign)$')
    if [ -n "$heap" ]; then
        echo "FAIL: $obj references the heap: $heap"
        status=1
    fi
done
allowed='^(stddef|stdint|stdbool|string|limits)\.h$'
for src in core/*.c core/*.h; do
    for hdr in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$src"); do
        if ! echo "$hdr" | grep -Eq "$allowed"; then
            echo "FAIL: $src includes <$hdr>; core/ may include only freestanding headers and <string.h>"
            status=1
        fi
    done
done
if grep -n 'jsmn\|mbedtls' core/*.c | grep -q '#[[:space:]]*include'; then
    echo "FAIL: core/ includes jsmn or mbedTLS directly"
    status=1
fi
# Every C file of the tree, found the same way with or without git (a release tarball has no .git);
# build directories are skipped: they hold generated C files and a jsmn.h link.
build_dir=${BUILD:-build}
jsmn_users=$(find . \( -name .git -o -name build -o -path "./${build_dir#./}" \) -prune -o \
    -type f -name '*.[ch]' -exec grep -l '#[[:space:]]*include[[:space:]]*[<"]jsmn\.h[>"]' {} + |
    sed 's|^\./||' | sort)
if [ "$jsmn_users" != "port/jsmn/bk_jsmn.c" ]; then
    echo "FAIL: <jsmn.h> must be included by port/jsmn/bk_jsmn.c alone, found: $jsmn_users"
    status=1
fi
# Every source file says its license in its first two lines (after a #! line at most).
unlicensed=$(find . \( -name .git -o -name build -o -name __pycache__ -o -path "./${build_dir#./}" \) \
    -prune -o -type f \( -name '*.[ch]' -o -name '*.py' -o -name '*.sh' -o -name '*.mk' \
    -o -name Makefile -o -path ./.ci/run \) -print | sort | while read -r f; do
        head -n 2 "$f" | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"
    done)
if [ -n "$unlicensed" ]; then
    echo "FAIL: no SPDX-License-Identifier in the first lines of:" $unlicensed
    status=1
fi
if [ $status -eq 0 ]; then
    echo "core checks: $# objects without heap references; core headers freestanding; jsmn in one" \
        "unit; every source file licensed"
fi
exit $status
