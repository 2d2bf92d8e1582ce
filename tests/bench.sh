#!/bin/sh
# SPDX-License-Identifier: MIT
# `make bench`: what one `batchkey regenerate` costs against the local emulator: peak RSS and
# user+sys CPU over RUNS runs (GNU time), and the binary's size.
# Usage: tests/emulator/with_emulator.sh tests/bench.sh PATH-TO-BATCHKEY [RUNS]
set -eu
bin=$1
runs=${2:-20}
out=$(mktemp)
stripped=$(mktemp)
trap 'rm -f "$out" "$stripped"' EXIT
i=0
while [ $i -lt "$runs" ]; do
    /usr/bin/time -f '%M %U %S %e' -a -o "$out" "$bin" regenerate --key secondary >/dev/null
    i=$((i + 1))
done
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] }'; }
rss=$(awk '$1 > m { m = $1 } END { print m }' "$out")
cpu=$(awk '{ print ($2 + $3) * 1000 }' "$out" | median)
cpu_max=$(awk '{ print ($2 + $3) * 1000 }' "$out" | sort -n | tail -n 1)
wall=$(awk '{ print $4 * 1000 }' "$out" | median)
echo "regenerate x$runs: peak RSS $rss KiB; user+sys CPU median $cpu ms (max $cpu_max ms); wall median $wall ms"
size "$bin" | awk 'NR == 2 { printf "binary: text %d B, data %d B, bss %d B\n", $1, $2, $3 }'
strip -o "$stripped" "$bin"
printf 'binary file: %d B (%d B stripped)\n' "$(stat -c %s "$bin")" "$(stat -c %s "$stripped")"
