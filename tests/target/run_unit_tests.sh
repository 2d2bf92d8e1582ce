#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs unit-test images on the mps2-an386 board under QEMU, one after another, and ends with one
# line "N passed, N failed": cmocka's counts summed over the images. An image that stops without
# its counts (a fault, a hang stopped by run.sh's timeout) or whose exit status disagrees with
# them counts as one more failure.
# Usage: tests/target/run_unit_tests.sh [NAME=VALUE...] -- IMAGE.elf...
#   NAME=VALUE words go on each guest's command line, which makes them its environment.
set -u
run=$(dirname "$0")/../../boards/mps2-an386/run.sh
words=""
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    words="$words $1"
    shift
done
[ $# -gt 0 ] && shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT

passed=0
failed=0
stacks=""
for image in "$@"; do
    name=$(basename "$image" .elf)
    echo "== $image on qemu-system-arm -M mps2-an386"
    # shellcheck disable=SC2086 # one word per NAME=VALUE
    sh "$run" "$image" $words >"$log" 2>&1
    status=$?
    # The board's LAN9118 always exists; with no network QEMU warns that it has no peer.
    grep -v 'nic lan9118.0 has no peer' "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\.$/\1/p' "$log")
    f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s), listed below:$/\1/p' "$log")
    if [ -z "$p" ]; then
        echo "run_unit_tests: $name stopped (status $status) before cmocka's summary"
        failed=$((failed + 1))
        continue
    fi
    passed=$((passed + p))
    failed=$((failed + ${f:-0}))
    # cmocka's status is its count of failed tests.
    if [ "$status" -ne "${f:-0}" ]; then
        echo "run_unit_tests: $name exited $status, but cmocka counted ${f:-0} failures"
        failed=$((failed + 1))
    fi
    deepest=$(sed -n 's/^stack: deepest \([0-9]*\) of \([0-9]*\) bytes$/\1 of \2/p' "$log")
    stacks="$stacks $name ${deepest:-?};"
done
echo "deepest stack per image (bytes):$stacks"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
