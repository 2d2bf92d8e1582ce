#!/bin/sh
# SPDX-License-Identifier: MIT
# Turns on, in an unpacked mbedTLS source, the options its debian/rules turns on before building
# the packaged library (scripts/config.py set ...), and prints them on one line: the builds of
# mbedTLS from Debian's source are configured as Debian's own package is.
# Usage: sh tests/debsrc/configure_as_debian.sh SRC
set -eu
src=$1
options=$(sed -n 's/^[[:space:]]*scripts\/config\.py set \([A-Z0-9_]*\).*/\1/p' "$src/debian/rules")
for option in $options; do
    (cd "$src" && python3 scripts/config.py set "$option")
done
# shellcheck disable=SC2086 # one word per option
echo $options
