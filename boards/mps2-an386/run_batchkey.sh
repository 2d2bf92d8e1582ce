#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the batchkey firmware under QEMU as the Linux CLI would run: same arguments, settings from
# the same environment variables, same output, same exit status.
# Usage: boards/mps2-an386/run_batchkey.sh IMAGE.elf [BATCHKEY-ARGS...]
#   e.g. . build/emulator.env && boards/mps2-an386/run_batchkey.sh build/mps2-an386/batchkey.elf show
#
# The firmware reads through semihosting a settings file this script writes (mode 0600, in a
# temporary directory removed at the end): NAME=VALUE lines of the variables the CLI reads
# (FIRMWARE_SETTINGS below), and BK_BOARD_HOSTS, the guest's host table, since it has no DNS.
#
# Network: QEMU's user mode with restrict=on, so the guest reaches nothing but what is forwarded
# to it. Each endpoint on this host's loopback (AZURE_AUTHORITY_HOST, BATCHKEY_ARM_ENDPOINT or
# --arm-endpoint, as https://localhost:PORT or https://127.x.y.z:PORT) gets a guest address
# (10.0.2.100, .101... one per host name) in the host table and a guestfwd rule: the guest's
# connections to that address and port start `socat - TCP4:127.x.y.z:PORT`, which carries them to
# the host's loopback. Endpoints elsewhere stay unreachable: the firmware reports the failed name
# lookup (exit 5), as it would for any name it does not know.
#
# Variables: BK_QEMU_TIMEOUT and BK_QEMU_EXTRA (run.sh's; the network's id is net0).
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 IMAGE.elf [BATCHKEY-ARGS...]" >&2
    exit 2
fi
image=$1
shift
here=$(cd "$(dirname "$0")" && pwd)

# What the CLI reads from its environment (boards/common/bk_cli.c).
FIRMWARE_SETTINGS="AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_AUTHORITY_HOST
    AZURE_SUBSCRIPTION_ID BATCHKEY_RESOURCE_GROUP BATCHKEY_ACCOUNT BATCHKEY_ARM_ENDPOINT
    BATCHKEY_CA_FILE BATCHKEY_DEADLINE BATCHKEY_TIMEOUT BATCHKEY_AUTH
    AZURE_CLIENT_CERTIFICATE_PATH AZURE_CLIENT_CERTIFICATE_PASSWORD
    AZURE_CLIENT_SEND_CERTIFICATE_CHAIN BATCHKEY_ASSERTION_ALG AZURE_FEDERATED_TOKEN_FILE
    IDENTITY_ENDPOINT AZURE_POD_IDENTITY_AUTHORITY_HOST"
# QEMU's user network, whose addresses the firmware has built in (bk_board_net.c: 10.0.2.15/24).
subnet=10.0.2

dir=$(mktemp -d "${TMPDIR:-/tmp}/batchkey-mps2.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'rm -rf "$dir"; exit 130' INT
trap 'rm -rf "$dir"; exit 143' TERM
settings=$dir/settings
(umask 077 && : >"$settings")

newline='
'
for name in $FIRMWARE_SETTINGS; do
    value=""
    eval "value=\${$name-}"
    eval "is_set=\${$name+1}"
    [ -n "$is_set" ] || continue
    case $value in
    *"$newline"*)
        echo "run_batchkey: $name holds a line break; the firmware's settings are one per line" >&2
        exit 2
        ;;
    esac
    printf '%s=%s\n' "$name" "$value" >>"$settings"
done

# The endpoints: the authority, then the ARM endpoint (the command line's --arm-endpoint wins).
arm=${BATCHKEY_ARM_ENDPOINT:-}
previous=""
for arg in "$@"; do
    case $previous in --arm-endpoint) arm=$arg ;; esac
    case $arg in --arm-endpoint=*) arm=${arg#--arm-endpoint=} ;; esac
    previous=$arg
done

hosts=""     # name=guest-address entries
forwards=""  # guestfwd rules
known=""     # " host=guest-address " for each loopback host seen
next=100
for url in "${AZURE_AUTHORITY_HOST:-}" "$arm"; do
    rest=${url#https://}
    [ "$rest" != "$url" ] || continue
    authority=${rest%%/*}
    host=${authority%:*}
    port=${authority##*:}
    [ "$host" != "$authority" ] || port=443
    case $port in '' | *[!0-9]*) continue ;; esac
    lower=$(printf '%s' "$host" | tr '[:upper:]' '[:lower:]')
    case $lower in
    localhost) target=127.0.0.1 ;;
    127.*) target=$lower ;;
    *) continue ;;
    esac
    case $known in
    *" $lower="*)
        guest=${known#* "$lower"=}
        guest=${guest%% *}
        ;;
    *)
        guest=$subnet.$next
        next=$((next + 1))
        known="$known $lower=$guest "
        hosts="$hosts $lower=$guest"
        ;;
    esac
    case $forwards in *"tcp:$guest:$port-"*) continue ;; esac
    forwards="$forwards,guestfwd=tcp:$guest:$port-cmd:socat - TCP4:$target:$port"
done
printf 'BK_BOARD_HOSTS=%s\n' "${hosts# }" >>"$settings"
if [ -n "$forwards" ] && ! command -v socat >/dev/null 2>&1; then
    echo "run_batchkey: socat carries the guest's connections; install it (make deps-test)" >&2
    exit 1
fi

status=0
BK_QEMU_NIC="user,id=net0,restrict=on,net=$subnet.0/24$forwards" \
    sh "$here/run.sh" "$image" "@$settings" "$@" || status=$?
exit $status
