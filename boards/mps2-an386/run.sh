#!/bin/sh
# SPDX-License-Identifier: MIT
# Boots an mps2-an386 image under QEMU and exits with the guest's status (its
# bk_board_exit/exit(), through semihosting's extended exit).
# Usage: boards/mps2-an386/run.sh IMAGE.elf [ARG...]
# The guest's command line (SYS_GET_CMDLINE) is IMAGE ARG..., joined by spaces: an ARG with a
# space in it arrives as two. Semihosting reaches the host's files relative to this directory.
# The network is BK_QEMU_NIC, a -nic value (default none: no network; run_batchkey.sh gives
# the firmware its own). BK_QEMU_EXTRA adds options, split at spaces (a packet capture:
# "-object filter-dump,id=dump,netdev=net0,file=guest.pcap" with run_batchkey.sh's network). A
# guest still running after BK_QEMU_TIMEOUT seconds (default 300) is stopped: status 124.
set -eu
if [ $# -lt 1 ]; then
    echo "usage: $0 IMAGE.elf [ARG...]" >&2
    exit 2
fi
image=$1
# QEMU's option syntax doubles a comma inside a value.
config=enable=on,target=native
for arg in "$@"; do
    config="$config,arg=$(printf '%s' "$arg" | sed 's/,/,,/g')"
done
# -nographic without a serial port or monitor: nothing reads the terminal or sets it raw.
# shellcheck disable=SC2086 # BK_QEMU_EXTRA is options, one per word
exec timeout "${BK_QEMU_TIMEOUT:-300}" qemu-system-arm ${BK_QEMU_EXTRA:-} -M mps2-an386 -nographic \
    -serial none -monitor none -nic "${BK_QEMU_NIC:-none}" -semihosting-config "$config" \
    -kernel "$image"
