#!/bin/sh
# Builds mbedTLS 3.6 LTS from Debian's source package, configured as Debian configures it, into
# DEST/include and DEST/lib. Debian 12 ships only 2.28; its successor's archive carries 3.6, and
# apt fetches and verifies the source against that archive's signed index.
# Usage: tests/mbedtls3/build_mbedtls3.sh DEST      (a second run reuses DEST)
set -eu
dest=$1
suite=${MBEDTLS3_SUITE:-trixie}
mirror=${MBEDTLS3_MIRROR:-http://deb.debian.org/debian}

if [ -f "$dest/lib/libmbedtls.a" ] && [ -f "$dest/include/mbedtls/build_info.h" ]; then
    exit 0
fi
rm -rf "$dest"
mkdir -p "$dest/apt/lists/partial" "$dest/apt/cache/archives/partial" "$dest/fetch"
dest=$(cd "$dest" && pwd)

# A private apt state: the machine's own sources and lists stay untouched.
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
    >"$dest/apt/sources.list"
apt_private() {
    apt-get -q -o Dir::Etc::SourceList="$dest/apt/sources.list" \
        -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$dest/apt/lists" \
        -o Dir::Cache="$dest/apt/cache" -o APT::Sandbox::User=root "$@"
}
echo "mbedtls3: fetching Debian's $suite source of mbedtls"
apt_private update >"$dest/apt.log" 2>&1 || { cat "$dest/apt.log"; exit 1; }
(cd "$dest/fetch" && apt_private source --download-only mbedtls) >>"$dest/apt.log" 2>&1 ||
    { cat "$dest/apt.log"; exit 1; }
# dpkg-source checks every file against the .dsc's checksums and applies Debian's patches.
(cd "$dest/fetch" && dpkg-source -q -x ./*.dsc src) >>"$dest/apt.log" 2>&1 ||
    { cat "$dest/apt.log"; exit 1; }
src=$dest/fetch/src

version=$(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' "$src/include/mbedtls/build_info.h")
case $version in
3.6.*) ;;
*) echo "mbedtls3: $suite has mbedtls $version, not 3.6" >&2; exit 1 ;;
esac

# The options debian/rules switches on before building the packaged library.
options=$(sed -n 's/^[[:space:]]*scripts\/config\.py set \([A-Z0-9_]*\).*/\1/p' "$src/debian/rules")
for option in $options; do
    (cd "$src" && python3 scripts/config.py set "$option")
done
echo "mbedtls3: building mbedtls $version with$(printf ' %s' $options)"
make -C "$src" -j"$(nproc)" lib >"$dest/build.log" 2>&1 || { tail -n 40 "$dest/build.log"; exit 1; }

mkdir -p "$dest/lib"
cp "$src/library/libmbedtls.a" "$src/library/libmbedx509.a" "$src/library/libmbedcrypto.a" \
    "$dest/lib/"
cp -R "$src/include" "$dest/include"
