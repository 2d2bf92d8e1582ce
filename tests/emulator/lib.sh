# SPDX-License-Identifier: MIT
# Sourced by with_emulator.sh and serve.sh (`make emulator`): start the local Azure emulator and
# describe it. The sourcing script sets `here` to this directory first.
# shellcheck shell=sh disable=SC2154
#
#   emulator_start WORK [EMULATOR-ARGS...]
#       makes a throwaway PKI in WORK/pki, starts azure_emulator.py in the background (its pid in
#       $emulator_pid; Azure Arc's challenge files in WORK/arc-tokens) and returns once its
#       listeners (Entra ID, ARM, the Batch data plane, and the plain-HTTP managed-identity
#       endpoints: App Service, Azure Arc, IMDS) are up (WORK/ports.json); exits 1 if the
#       emulator does not start within 10 s. Pass --client-pki WORK/client-pki (made first with
#       make_client_pki.sh) to register the client certificates.
#   emulator_exports WORK
#       prints the `export NAME='value'` lines that point batchkey at it (emulator_env.py),
#       BATCHKEY_BATCH_ENDPOINT among them: the client-secret credential.
#   emulator_hints WORK
#       prints, as comment lines, where the managed-identity endpoints listen and the variables
#       that would select each other credential (not exported).
#   emulator_stop
#       stops it (SIGTERM, then waits); does nothing when it is not running.

emulator_pid=""

emulator_start() {
    _work=$1
    shift
    sh "$here/make_test_pki.sh" "$_work/pki"
    python3 "$here/azure_emulator.py" --pki "$_work/pki" --port-file "$_work/ports.json" \
        --arc-token-dir "$_work/arc-tokens" "$@" &
    emulator_pid=$!
    _tries=0
    while [ ! -s "$_work/ports.json" ]; do
        _tries=$((_tries + 1))
        if [ $_tries -gt 100 ] || ! kill -0 "$emulator_pid" 2>/dev/null; then
            echo "the emulator did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
}

emulator_exports() {
    python3 -B "$here/emulator_env.py" "$1/ports.json" "$1/pki/ca.crt"
}

emulator_hints() {
    if [ -d "$1/client-pki" ]; then
        python3 -B "$here/emulator_env.py" "$1/ports.json" "$1/pki/ca.crt" --hints \
            --arc-token-dir "$1/arc-tokens" --client-pki "$1/client-pki"
    else
        python3 -B "$here/emulator_env.py" "$1/ports.json" "$1/pki/ca.crt" --hints \
            --arc-token-dir "$1/arc-tokens"
    fi
}

emulator_stop() {
    if [ -n "$emulator_pid" ]; then
        kill "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
        emulator_pid=""
    fi
}
