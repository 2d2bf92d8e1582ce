#!/bin/sh
# SPDX-License-Identifier: MIT
# cmocka's source for the unit tests built for a board: Debian has no cmocka for arm-none-eabi,
# so the board compiles cmocka.c from Debian's own source package, of this machine's Debian
# release (the cmocka its libcmocka-dev gives the host's tests).
# Usage: tests/target/fetch_cmocka.sh DEST     unpacks into DEST (kept when already there)
# The download is tests/debsrc/fetch.sh's (apt-get source through a private apt state, checked
# against the archive's signed index), in a state of its own under DEST's parent: the shared one
# follows the suite that mbedTLS 3.6 and lwIP come from.
set -eu
dest=$1
[ -f "$dest/src/cmocka.c" ] && [ -f "$dest/include/cmocka.h" ] && exit 0
suite=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null | tr -d '"')
if [ -z "$suite" ]; then
    echo "fetch_cmocka: no Debian release named in /etc/os-release" >&2
    exit 1
fi
MBEDTLS3_SUITE=$suite DEBSRC_STATE=$(dirname "$dest")/debsrc-$suite \
    sh "$(dirname "$0")/../debsrc/fetch.sh" cmocka "$dest"
