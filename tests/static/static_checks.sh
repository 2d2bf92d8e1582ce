#!/bin/sh
# SPDX-License-Identifier: MIT
# clang-format, cppcheck and clang-tidy (Debian's: LLVM 14, cppcheck 2.10) on the C sources, with
# the configurations beside this script; any finding fails. Run from the top of the tree:
#   sh tests/static/static_checks.sh BUILD_DIR      (make static-checks)
set -eu

out=${1:-build}/static
mkdir -p "$out"
here=tests/static
failed=""

# How long a step took, in whole seconds.
now() { date +%s; }

# Every C file: git's list in a checkout; CI's `git archive` export has no .git, so find instead
# (the fuzz corpora, if any, are data).
if [ -e .git ] && git ls-files >/dev/null 2>&1; then
    git ls-files '*.c' '*.h' >"$out/files"
else
    find core port platform boards tests -name corpus -prune -o \
        \( -name '*.c' -o -name '*.h' \) -type f -print | sort >"$out/files"
fi

start=$(now)
echo "== clang-format: $(wc -l <"$out/files") files (.clang-format)"
if ! xargs clang-format --dry-run -Werror <"$out/files"; then
    failed="$failed clang-format"
fi
echo "   $(($(now) - start)) s"

# The host build's view (-D, -I); --force checks every #if configuration besides that one.
start=$(now)
echo "== cppcheck $(cppcheck --version | sed 's/^Cppcheck //') ($here/cppcheck-suppressions.txt)"
if ! cppcheck -q -j2 --std=c99 --library=posix --force --inline-suppr --error-exitcode=1 \
    --enable=warning,style,performance,portability \
    --suppressions-list="$here/cppcheck-suppressions.txt" \
    --template='{file}:{line}: {severity} [{id}] {message}' \
    -D_POSIX_C_SOURCE=200809L -DJSMN_STRICT -DJSMN_PARENT_LINKS \
    -Icore -Iport/mbedtls -Iplatform/posix -Iboards/common -Iboards/mps2-an386 -Iplatform/lwip \
    -Itests/support \
    core port platform boards tests/support; then
    failed="$failed cppcheck"
fi
echo "   $(($(now) - start)) s"

# The host build's flags; two files at a time. Its "N warnings generated" lines count what the
# header filter hides (mbedTLS's, jsmn's and libc's headers), so they are left out.
start=$(now)
ls core/*.c port/jsmn/*.c port/mbedtls/*.c platform/posix/*.c platform/null/*.c \
    boards/common/*.c boards/linux/*.c >"$out/tidy-files"
echo "== clang-tidy $(clang-tidy --version | sed -n 's/.*LLVM version \([0-9.]*\).*/\1/p'):" \
    "$(wc -l <"$out/tidy-files") files ($here/clang-tidy.yaml)"
status=0
xargs -P2 -n4 sh -c 'clang-tidy --quiet --config-file="$0" "$@" -- -std=c99 \
    -D_POSIX_C_SOURCE=200809L -DJSMN_STRICT -DJSMN_PARENT_LINKS \
    -Icore -Iport/mbedtls -Iplatform/posix -Iboards/common' "$here/clang-tidy.yaml" \
    <"$out/tidy-files" >"$out/clang-tidy.log" 2>&1 || status=$?
grep -v ' warnings\{0,1\} generated\.$' "$out/clang-tidy.log" || true
if [ "$status" -ne 0 ]; then
    failed="$failed clang-tidy"
fi
echo "   $(($(now) - start)) s"

if [ -n "$failed" ]; then
    echo "static-checks: findings from$failed" >&2
    exit 1
fi
echo "static-checks: clean"
