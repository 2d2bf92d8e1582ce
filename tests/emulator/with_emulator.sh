#!/bin/sh
# Runs a command against the local Azure emulator: starts it (a throwaway CA, Entra ID and ARM on
# loopback ports), exports the variables batchkey reads to reach it, runs the command, stops it.
# Usage: tests/emulator/with_emulator.sh COMMAND [ARGS...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        echo "emulator stopped" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

sh "$here/make_test_pki.sh" "$work/pki"
python3 "$here/azure_emulator.py" --pki "$work/pki" --port-file "$work/ports.json" &
pid=$!
tries=0
while [ ! -s "$work/ports.json" ]; do
    tries=$((tries + 1))
    if [ $tries -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "the emulator did not start" >&2
        exit 1
    fi
    sleep 0.1
done

# The emulator's own tenant, application, subscription and account, and where it listens.
eval "$(python3 - "$here" "$work/ports.json" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
import azure_emulator as e
ports = json.load(open(sys.argv[2]))
settings = {
    "AZURE_TENANT_ID": e.DEFAULT_TENANT_ID,
    "AZURE_CLIENT_ID": e.DEFAULT_CLIENT_ID,
    "AZURE_CLIENT_SECRET": e.DEFAULT_CLIENT_SECRET,
    "AZURE_SUBSCRIPTION_ID": e.DEFAULT_SUBSCRIPTION_ID,
    "BATCHKEY_RESOURCE_GROUP": e.DEFAULT_RESOURCE_GROUP,
    "BATCHKEY_ACCOUNT": e.DEFAULT_ACCOUNT,
    "AZURE_AUTHORITY_HOST": "https://localhost:%d" % ports["login"],
    "BATCHKEY_ARM_ENDPOINT": "https://localhost:%d" % ports["arm"],
}
for name, value in settings.items():
    print("export %s='%s'" % (name, value))
PY
)"
export BATCHKEY_CA_FILE="$work/pki/ca.crt"
echo "emulator up: Entra ID at $AZURE_AUTHORITY_HOST, ARM at $BATCHKEY_ARM_ENDPOINT" >&2

status=0
"$@" || status=$?
exit $status
