#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds mbedTLS 3.6 LTS from Debian's source package, configured as Debian configures it, into
# DEST/include and DEST/lib. Debian 12 ships only 2.28; its successor's archive carries 3.6, and
# apt fetches and verifies the source against that archive's signed index.
# Usage: tests/mbedtls3/build_mbedtls3.sh DEST      (a second run reuses DEST)
#        tests/mbedtls3/build_mbedtls3.sh --mirror    prints the Debian mirror it would use
# MBEDTLS3_MIRROR overrides the mirror, MBEDTLS3_SUITE the suite (trixie).
set -eu
suite=${MBEDTLS3_SUITE:-trixie}

# The mirror this machine already uses for Debian: the URI of its first enabled apt source for
# this release's main component. apt reads its own sources, so one-line and deb822 files,
# "Enabled: no" and disabled file names count exactly as they do for apt; security and updates
# archives have other suites. tests/mbedtls3/test_mirror.sh points APT_CONFIG at sample sources.
debian_mirror() {
    if [ -n "${MBEDTLS3_MIRROR:-}" ]; then
        echo "$MBEDTLS3_MIRROR"
        return
    fi
    codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null | tr -d '"')
    # shellcheck disable=SC2016 # $(...) is apt's format syntax
    uri=$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
        2>/dev/null | awk -v suite="$codename" '$2 == suite && $3 == "main" && $1 !~ /^cdrom:/ {
            print $1; exit }')
    if [ -z "$uri" ]; then
        echo "mbedtls3: no apt source for Debian ${codename:-?} main found;" \
            "set MBEDTLS3_MIRROR to a Debian mirror URL" >&2
        return 1
    fi
    echo "${uri%/}"
}

if [ "${1:-}" = --mirror ]; then
    debian_mirror
    exit
fi
dest=$1
if [ -f "$dest/lib/libmbedtls.a" ] && [ -f "$dest/include/mbedtls/build_info.h" ]; then
    exit 0
fi
mirror=$(debian_mirror)
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
echo "mbedtls3: fetching Debian's $suite source of mbedtls from $mirror"
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
