#!/bin/sh
# SPDX-License-Identifier: MIT
# build_mbedtls3.sh takes its Debian mirror from the machine's apt sources. Checked here on sample
# sources, which APT_CONFIG shows apt in place of the machine's own: nothing is downloaded.
set -eu
script=$(dirname "$0")/build_mbedtls3.sh
c=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset MBEDTLS3_MIRROR
status=0

# sample NAME: a directory of apt sources, filled by the caller, and an apt.conf pointing at it.
sample() {
    mkdir -p "$tmp/$1/sources.list.d"
    printf 'Dir::Etc::SourceList "%s";\nDir::Etc::SourceParts "%s";\n' \
        "$tmp/$1/sources.list" "$tmp/$1/sources.list.d" >"$tmp/$1/apt.conf"
}
# expect NAME OUTPUT: what `build_mbedtls3.sh --mirror` prints on NAME; FAIL means one line on
# stderr that names MBEDTLS3_MIRROR, and a non-zero exit.
expect() {
    if out=$(APT_CONFIG="$tmp/$1/apt.conf" sh "$script" --mirror 2>&1); then :; else
        case $out in *MBEDTLS3_MIRROR*) [ "$(echo "$out" | wc -l)" -eq 1 ] && out=FAIL ;; esac
    fi
    if [ "$out" = "$2" ]; then
        echo "mirror: $1 -> $out"
    else
        echo "FAIL: mirror: $1: expected $2, got: $out"
        status=1
    fi
}

# One-line format: comments, [options], security, updates and contrib-only entries come first.
sample oneline
cat >"$tmp/oneline/sources.list" <<EOF
# deb http://commented.invalid/debian $c main
deb http://security.invalid/debian-security $c-security main
deb [ arch=amd64 ] http://updates.invalid/debian $c-updates main
deb http://contrib.invalid/debian $c contrib
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://one.invalid/debian/ $c contrib main
EOF
echo "deb http://later.invalid/debian $c main" >"$tmp/oneline/sources.list.d/later.list"
expect oneline http://one.invalid/debian

# deb822: a disabled file and a disabled stanza first, then several URIs and suites in one stanza.
sample deb822
printf 'Types: deb\nURIs: http://file-off.invalid/debian\nSuites: %s\nComponents: main\n' "$c" \
    >"$tmp/deb822/sources.list.d/a.sources.disabled"
cat >"$tmp/deb822/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: http://stanza-off.invalid/debian
Suites: $c
Components: main
Enabled: no

Types: deb deb-src
# the security archive
URIs: http://security.invalid/debian-security
Suites: $c-security
Components: main

Types: deb
URIs: http://two.invalid/debian http://three.invalid/debian
Suites: $c-updates $c
Components: contrib main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
expect deb822 http://two.invalid/debian

# Nothing usable: only disabled, security and updates entries.
sample none
cp "$tmp/deb822/sources.list.d/a.sources.disabled" "$tmp/none/sources.list.d/"
echo "deb http://security.invalid/debian-security $c-security main" >"$tmp/none/sources.list"
echo "deb http://updates.invalid/debian $c-updates main" >"$tmp/none/sources.list.d/u.list"
expect none FAIL
# The override wins without a look at the sources.
MBEDTLS3_MIRROR=http://override.invalid/debian
export MBEDTLS3_MIRROR
expect none http://override.invalid/debian
exit $status
