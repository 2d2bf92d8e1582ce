#!/bin/sh
# SPDX-License-Identifier: MIT
# Unpacks Debian's source of a package (by default trixie's: mbedTLS 3.6, lwIP 2.2) for
# the builds that need more than the machine's own Debian ships. apt fetches it and checks it
# against the archive's signed index; dpkg-source checks every file against the .dsc and applies
# Debian's patches. Nothing else is downloaded, and the machine's own apt state stays untouched.
# Usage: tests/debsrc/fetch.sh PACKAGE DEST   DEST (replaced if present) gets the unpacked tree
#        tests/debsrc/fetch.sh --mirror         prints the Debian mirror it would use
# DEBSRC_STATE is the private apt state shared by every package (default: ${BUILD:-build}/debsrc):
# its index is fetched once and refetched only when the mirror or suite changes or a download
# fails (a point release replaced the source). MBEDTLS3_MIRROR overrides the mirror,
# MBEDTLS3_SUITE the suite (trixie); the names predate the other packages.
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
        echo "debsrc: no apt source for Debian ${codename:-?} main found;" \
            "set MBEDTLS3_MIRROR to a Debian mirror URL" >&2
        return 1
    fi
    echo "${uri%/}"
}

if [ "${1:-}" = --mirror ]; then
    debian_mirror
    exit
fi
if [ $# -ne 2 ]; then
    echo "usage: $0 PACKAGE DEST | --mirror" >&2
    exit 2
fi
package=$1
dest=$2
mirror=$(debian_mirror)
state=${DEBSRC_STATE:-${BUILD:-build}/debsrc}
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/sources"
state=$(cd "$state" && pwd)
log=$state/$package.log

# Parallel make may fetch two packages at once: apt locks its lists and would fail the second.
exec 9>"$state/lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi

apt_private() {
    apt-get -q -o Dir::Etc::SourceList="$state/sources.list" \
        -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$state/lists" \
        -o Dir::Cache="$state/cache" -o APT::Sandbox::User=root "$@"
}
fail() {
    cat "$log" >&2
    echo "debsrc: $1 (log: $log)" >&2
    exit 1
}
update() {
    rm -f "$state/updated"
    apt_private update >>"$log" 2>&1 || fail "apt-get update failed"
    cp "$state/sources.list" "$state/updated"
}

: >"$log"
line="deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main"
echo "$line" >"$state/sources.list"
if ! cmp -s "$state/sources.list" "$state/updated"; then
    update
fi

# The .dsc apt would fetch now; apt-get source skips files already present with the right hash.
dsc() {
    apt_private source --print-uris "$package" 2>>"$log" |
        awk '$2 ~ /\.dsc$/ { print $2; exit }'
}
download() {
    (cd "$state/sources" && apt_private source --download-only "$package") >>"$log" 2>&1
}
name=$(dsc)
if [ -z "$name" ] || ! download; then
    update
    name=$(dsc)
    [ -n "$name" ] || fail "no source package $package in $suite"
    download || fail "apt-get source $package failed"
fi

echo "debsrc: ${name%.dsc} from $mirror $suite"
rm -rf "$dest" "$dest.part"
mkdir -p "$(dirname "$dest")"
# Unpacked beside DEST and renamed: an interrupted unpack never looks like a finished tree.
dpkg-source -q -x "$state/sources/$name" "$dest.part" >>"$log" 2>&1 ||
    { rm -rf "$dest.part"; fail "dpkg-source -x $name failed"; }
mv "$dest.part" "$dest"
