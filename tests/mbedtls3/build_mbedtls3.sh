#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds mbedTLS 3.6 LTS from Debian's source package, configured as Debian configures it, into
# DEST/include and DEST/lib. Debian 12 ships only 2.28; its successor's archive carries 3.6, and
# apt fetches and verifies the source against that archive's signed index.
# Usage: tests/mbedtls3/build_mbedtls3.sh DEST      (a second run reuses DEST)
#        tests/mbedtls3/build_mbedtls3.sh --mirror    prints the Debian mirror it would use
# The source comes through tests/debsrc/fetch.sh, which tells the variables that choose it
# (MBEDTLS3_MIRROR, MBEDTLS3_SUITE, DEBSRC_STATE).
set -eu
fetch=$(dirname "$0")/../debsrc/fetch.sh

if [ "${1:-}" = --mirror ]; then
    exec sh "$fetch" --mirror
fi
dest=$1
if [ -f "$dest/lib/libmbedtls.a" ] && [ -f "$dest/include/mbedtls/build_info.h" ]; then
    exit 0
fi
rm -rf "$dest"
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
# Its own copy of the source: config.py below edits it and the build writes into it.
sh "$fetch" mbedtls "$dest/src"
src=$dest/src

version=$(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' "$src/include/mbedtls/build_info.h")
case $version in
3.6.*) ;;
*) echo "mbedtls3: ${MBEDTLS3_SUITE:-trixie} has mbedtls $version, not 3.6" >&2; exit 1 ;;
esac

options=$(sh "$(dirname "$0")/../debsrc/configure_as_debian.sh" "$src")
echo "mbedtls3: building mbedtls $version with $options"
make -C "$src" -j"$(nproc)" lib >"$dest/build.log" 2>&1 || { tail -n 40 "$dest/build.log"; exit 1; }

mkdir -p "$dest/lib"
cp "$src/library/libmbedtls.a" "$src/library/libmbedx509.a" "$src/library/libmbedcrypto.a" \
    "$dest/lib/"
cp -R "$src/include" "$dest/include"
