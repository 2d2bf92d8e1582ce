#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds mbedTLS for a Linux cross target (static libraries) from Debian's source package of this
# machine's own release, the version the host's CLI links (2.28 on Debian 12), configured as
# debian/rules configures it, into DEST/include and DEST/lib.
# Usage: tests/cross/build_mbedtls_cross.sh TRIPLET SOURCE DEST     (a second run reuses DEST)
#   TRIPLET  the cross tools' prefix, e.g. aarch64-linux-gnu (TRIPLET-gcc, TRIPLET-ar)
#   SOURCE   the unpacked Debian source, shared by every target and never built in: fetched when
#            missing, through tests/debsrc/fetch.sh in an apt state of its own beside it (the
#            shared one follows the suite mbedTLS 3.6 and lwIP come from)
#   DEST     the target's copy of the source (DEST/src), its headers and libraries
set -eu
if [ $# -ne 3 ]; then
    echo "usage: $0 TRIPLET SOURCE DEST" >&2
    exit 2
fi
triplet=$1
source=$2
dest=$3
if [ -f "$dest/lib/libmbedtls.a" ] && [ -f "$dest/include/mbedtls/ssl.h" ]; then
    exit 0
fi

suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null | tr -d '"')
if [ -z "$suite" ]; then
    echo "cross-mbedtls: no Debian release named in /etc/os-release" >&2
    exit 1
fi
mkdir -p "$(dirname "$source")"
# Two boards built at once would fetch the shared source together: one fetches, the other waits.
exec 9>"$source.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi
if [ ! -f "$source/debian/rules" ]; then
    MBEDTLS3_SUITE=$suite DEBSRC_STATE=$(dirname "$source")/debsrc-$suite \
        sh "$(dirname "$0")/../debsrc/fetch.sh" mbedtls "$source"
fi
exec 9>&-

rm -rf "$dest"
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
# Its own copy: config.py below edits it and the build writes into it.
cp -R "$source" "$dest/src"
src=$dest/src

version=$(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' \
    "$src/include/mbedtls/version.h" "$src/include/mbedtls/build_info.h" 2>/dev/null | head -n 1)
case $version in
2.28.* | 3.6.*) ;;
*) echo "cross-mbedtls: $suite has mbedtls ${version:-?}, not 2.28 or 3.6" >&2; exit 1 ;;
esac

options=$(sh "$(dirname "$0")/../debsrc/configure_as_debian.sh" "$src")
echo "cross-mbedtls: building mbedtls $version for $triplet with $options"
# musl's tools have a compiler wrapper and no ar of their own: the host's archives x86-64 alike.
ar=$triplet-ar
command -v "$ar" >/dev/null 2>&1 || ar=ar
make -C "$src" -j"$(nproc)" lib CC="$triplet-gcc" AR="$ar" >"$dest/build.log" 2>&1 ||
    { tail -n 40 "$dest/build.log"; exit 1; }

mkdir -p "$dest/lib"
cp "$src/library/libmbedtls.a" "$src/library/libmbedx509.a" "$src/library/libmbedcrypto.a" \
    "$dest/lib/"
cp -R "$src/include" "$dest/include"
