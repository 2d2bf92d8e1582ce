#!/bin/sh
# SPDX-License-Identifier: MIT
# `make emulator`: the local Azure emulator in the foreground, to try batchkey by hand.
#
# Usage: tests/emulator/serve.sh ENV-FILE [BATCHKEY]
#
# Makes a throwaway PKI and client certificates (in a temporary directory), starts the emulator
# on free loopback ports, prints the `export NAME='value'` lines that point batchkey at it
# (with the client secret) and writes them to ENV-FILE (atomically: once it exists, it is
# complete), so that another shell can `. ENV-FILE`; then, as comments, where the plain-HTTP
# managed-identity endpoints listen and how to pick another credential (nothing more is
# exported). The
# emulator's request log goes to ENV-FILE's name with .jsonl for .env (JSON lines; kept after
# the stop). Runs until SIGINT (Ctrl-C) or SIGTERM: then stops the emulator, removes ENV-FILE
# and the PKI, prints "emulator stopped ..." and exits 0. Exits 1 if the emulator fails.
# BATCHKEY, the path of the CLI, only shapes the hint it prints.
set -eu
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 ENV-FILE [BATCHKEY]" >&2
    exit 2
fi
envfile=$1
batchkey=${2:-batchkey}
case $envfile in
    *.env) log=${envfile%.env}.jsonl ;;
    *) log=$envfile.jsonl ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# One emulator per env file: the file's first line names the serve.sh that wrote it.
if [ -f "$envfile" ]; then
    other=$(sed -n '1s/^# batchkey emulator, serve.sh pid \([0-9][0-9]*\)[^0-9]*$/\1/p' "$envfile")
    if [ -n "$other" ] && kill -0 "$other" 2>/dev/null; then
        echo "an emulator already runs for $envfile (pid $other); stop it first" >&2
        exit 1
    fi
    rm -f "$envfile"  # left by one that could not clean up (SIGKILL): it names a dead emulator
fi

work=""
wrote_env=""
cleanup() {
    trap '' INT TERM
    emulator_stop
    rm -f "$envfile.tmp.$$"
    if [ -n "$wrote_env" ]; then
        rm -f "$envfile"
        wrote_env=""
    fi
    if [ -n "$work" ]; then
        rm -rf "$work"
        work=""
    fi
}
on_signal() {
    cleanup
    echo "emulator stopped: removed $envfile and its PKI (log kept in $log)"
    exit 0
}
trap 'status=$?; cleanup; exit $status' EXIT
trap on_signal INT TERM

work=$(mktemp -d "${TMPDIR:-/tmp}/batchkey-emulator.XXXXXX")
mkdir -p "$(dirname "$envfile")"
: >"$log"
sh "$here/make_client_pki.sh" "$work/client-pki"
emulator_start "$work" --log "$log" --client-pki "$work/client-pki"
exports=$(emulator_exports "$work")
hints=$(emulator_hints "$work")

{
    echo "# batchkey emulator, serve.sh pid $$ (make emulator); removed when it stops"
    echo "# use: . $envfile"
    printf '%s\n' "$exports"
    printf '%s\n' "$hints"
} >"$envfile.tmp.$$"
wrote_env=1
mv -f "$envfile.tmp.$$" "$envfile"

eval "$exports"
echo "emulator up: Entra ID at $AZURE_AUTHORITY_HOST, ARM at $BATCHKEY_ARM_ENDPOINT," \
    "Batch data plane at $BATCHKEY_BATCH_ENDPOINT (log: $log)"
printf '%s\n' "$exports"
printf '%s\n' "$hints"
echo "These lines are in $envfile. In another terminal, in $(pwd):"
echo "    . $envfile && $batchkey show"
echo "Ctrl-C stops the emulator and removes $envfile."

# A trapped signal interrupts this wait and runs on_signal.
status=0
wait "$emulator_pid" || status=$?
emulator_pid=""
echo "the emulator exited by itself (status $status); its log: $log" >&2
exit 1
