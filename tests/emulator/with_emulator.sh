#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a command against the local Azure emulator: starts it (a throwaway CA, Entra ID and ARM on
# loopback ports), exports the variables batchkey reads to reach it, runs the command, stops it.
# Usage: tests/emulator/with_emulator.sh COMMAND [ARGS...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
work=$(mktemp -d)
cleanup() {
    if [ -n "$emulator_pid" ]; then
        emulator_stop
        echo "emulator stopped" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

emulator_start "$work"
eval "$(emulator_exports "$work")"
echo "emulator up: Entra ID at $AZURE_AUTHORITY_HOST, ARM at $BATCHKEY_ARM_ENDPOINT" >&2

status=0
"$@" || status=$?
exit $status
