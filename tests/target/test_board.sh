#!/bin/sh
# SPDX-License-Identifier: MIT
# The mps2-an386 board under QEMU, through its bring-up image (tests/target/bk_selftest.c): the
# platform's own checks, exit statuses reaching qemu's, the HardFault report, the command line
# and host files through semihosting, the stack measure.
# Usage: tests/target/test_board.sh IMAGE.elf       (from the top of the tree)
set -u
image=$1
run=$(dirname "$0")/../../boards/mps2-an386/run.sh
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0
checks=0

# Runs the image with ARGS; its stdout, stderr and status land in $dir.
guest() {
    sh "$run" "$image" "$@" >"$dir/out" 2>"$dir/err"
    echo $? >"$dir/status"
}
expect() { # DESCRIPTION COMMAND...
    what=$1
    shift
    checks=$((checks + 1))
    if "$@"; then
        echo "ok   $what"
    else
        echo "FAIL $what"
        sed 's/^/     | /' "$dir/out" "$dir/err"
        failures=$((failures + 1))
    fi
}
status_is() { [ "$(cat "$dir/status")" = "$1" ]; }
out_has() { grep -qxF -- "$1" "$dir/out"; }
err_has() { grep -qF -- "$1" "$dir/err"; }

guest check
expect "the board's checks pass (selftest exits 0)" status_is 0
expect "they report 6 passed, 0 failed" out_has "selftest: 6 passed, 0 failed"
expect "it says at start that clock and entropy come from the host, for tests only" \
    err_has "bk_board: TEST USE ONLY: clock and entropy come from the host through semihosting"
expect "bk_log writes warnings to stderr, control bytes made '?'" \
    err_has "batchkey: warn: selftest log line?(a control byte)"
expect "bk_log drops debug lines at the default level" sh -c "! grep -q 'debug line' '$dir/err'"
expect "it reports its deepest stack" err_has "stack: deepest "
guest_wall=$(sed -n 's/^wall clock: //p' "$dir/out")
host_wall=$(date +%s)
expect "bk_wall_clock_s is the host's clock (guest ${guest_wall:-?}, host $host_wall)" \
    sh -c "[ -n '$guest_wall' ] && [ \$(( $host_wall - ${guest_wall:-0} )) -ge 0 ] &&
           [ \$(( $host_wall - ${guest_wall:-0} )) -le 30 ]"

for code in 0 1 3 42 255; do
    guest exit "$code"
    expect "a guest exiting $code makes qemu-system-arm exit $code" status_is "$code"
done

guest fault
expect "a HardFault ends the run with status 134" status_is 134
expect "the HardFault report names the exception and the faulting pc" \
    sh -c "grep -q '^bk_board: exception 3 (HardFault) pc 0x[0-9a-f]* lr 0x' '$dir/err'"
# The pc the report gives is where the undefined instruction is.
pc=$(sed -n 's/^bk_board: exception 3 (HardFault) pc \(0x[0-9a-f]*\) .*/\1/p' "$dir/err")
udf=$(arm-none-eabi-objdump -d "$image" | awk '$3 == "udf" || $4 == "udf" { print "0x" $1; exit }' |
    sed 's/:$//;s/^0x0*/0x/')
expect "the reported pc ($pc) is the udf instruction's ($udf)" [ -n "$pc" ] && [ "$pc" = "$udf" ]

guest echo one "two,three" x=y
expect "the command line comes through SYS_GET_CMDLINE, commas included" out_has "one two,three x=y"

printf 'read through semihosting\nsecond line\n' >"$dir/file.txt"
guest cat "$dir/file.txt"
expect "a host file is read through SYS_OPEN, SYS_FLEN, SYS_READ" cmp -s "$dir/file.txt" "$dir/out"
guest cat "$dir/missing.txt"
expect "a missing host file is an error" status_is 1

guest stack 8192
deepest=$(sed -n 's/^stack: deepest \([0-9]*\) of .*/\1/p' "$dir/err")
expect "8192 bytes of frames show as the deepest stack use (${deepest:-?})" \
    sh -c "[ '${deepest:-0}' -ge 8192 ] && [ '${deepest:-0}' -le 10240 ]"

echo "board tests: $((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
