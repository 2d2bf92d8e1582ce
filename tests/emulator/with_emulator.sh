#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a command against the local Azure emulator: starts it (a throwaway CA, Entra ID, ARM and the
# Batch data plane on loopback ports), exports the variables batchkey reads to reach it
# (BATCHKEY_BATCH_ENDPOINT among them), runs the command, stops it.
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
echo "emulator up: Entra ID at $AZURE_AUTHORITY_HOST, ARM at $BATCHKEY_ARM_ENDPOINT," \
    "Batch data plane at $BATCHKEY_BATCH_ENDPOINT" >&2

status=0
"$@" || status=$?
exit $status
