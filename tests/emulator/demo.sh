#!/bin/sh
# SPDX-License-Identifier: MIT
# `make demo`: show, keys and regenerate, as a person would type them.
# Usage: tests/emulator/with_emulator.sh tests/emulator/demo.sh PATH-TO-BATCHKEY
set -eu
run() {
    printf '\n$ batchkey %s\n' "$*"
    "$BATCHKEY" "$@"
}
BATCHKEY=$1
run show
run keys
run regenerate --key secondary
echo
