#!/bin/sh
# SPDX-License-Identifier: MIT
# `make demo`: show, keys and regenerate, then the gateway's own job, a rotation (in a throwaway
# state directory), as a person would type them.
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
BATCHKEY_STATE_DIR=$(mktemp -d)/state
export BATCHKEY_STATE_DIR
trap 'rm -rf "$(dirname "$BATCHKEY_STATE_DIR")"' EXIT
run rotate
run rotate -o tsv
run status
echo
