#!/bin/sh
# SPDX-License-Identifier: MIT
# Self-test of run_snippets.py on tests/readme/fixture.md, with the stand-in batchkey of
# tests/readme/fixture-bin (so it needs no build):
#   - the whole fixture: exit 1, naming the two snippets that fail on purpose (one exits 1, one's
#     `eval "$(batchkey --output env keys)"` does not export), and running no unmarked block;
#   - the fixture cut before "## Failing on purpose": exit 0, every snippet passed;
#   - a README with no marker, and one whose marker is not followed by a code block: exit 1.
# Each run must leave no temporary directory, env file or emulator behind.
# Usage: sh tests/readme/test_runner.sh [PYTHON]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."  # the runner names the fixture relative to the repository
python=${1:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/tmp"
fixture=$here/fixture.md
failures=0

fail() {
    echo "test_runner.sh: FAIL: $*" >&2
    failures=$((failures + 1))
}

# run NAME README: runs the runner with TMPDIR in $work/tmp, output in $work/NAME.out.
run() {
    status=0
    TMPDIR=$work/tmp "$python" "$here/run_snippets.py" --bin-dir "$here/fixture-bin" --timeout 30 \
        "$2" >"$work/$1.out" 2>&1 || status=$?
    if [ -n "$(ls -A "$work/tmp")" ]; then
        fail "$1: left behind in TMPDIR: $(ls -A "$work/tmp")"
        rm -rf "$work/tmp" && mkdir "$work/tmp"
    fi
    if grep -q -- '-RAN' "$work/$1.out"; then
        fail "$1: an unmarked block ran"
    fi
}

expect() { # NAME TEXT: the output of run NAME holds the fixed string TEXT
    grep -qF -- "$2" "$work/$1.out" || fail "$1: no \"$2\" in its output"
}

show() {
    echo "--- output of $1:"
    sed 's/^/    /' "$work/$1.out"
}

line_of() { # the fixture's line number of the first line holding TEXT
    grep -nF -- "$1" "$fixture" | head -n 1 | cut -d: -f1
}

# The whole fixture: the two snippets after "Failing on purpose" fail, by their line numbers.
run whole "$fixture"
[ "$status" -eq 1 ] || fail "whole: exit status $status, expected 1"
exits=$(($(line_of 'FAILS-ON-PURPOSE') - 1))
eval_line=$(($(line_of 'NOT-EXPORTED-ON-PURPOSE') - 1))
expect whole "FAILED: the snippet at tests/readme/fixture.md:$exits: exited with 1"
expect whole "FAILED: the snippet at tests/readme/fixture.md:$eval_line: \`eval \"\$(batchkey --output env keys --no-export)\"\` does not export AZURE_BATCH_ACCOUNT"
expect whole "2 of 5 snippet(s) failed"
expect whole "emulator stopped"
expect whole "fake batchkey: the emulator serves"
expect whole "a child process sees AZURE_BATCH_PRIMARY_KEY"
if grep -qx "not reached" "$work/whole.out"; then
    fail "whole: the failing snippet went on after its failing command"
fi
[ "$failures" -eq 0 ] || show whole

# The fixture without its failing section passes as a whole.
sed '/^## Failing on purpose/,$d' "$fixture" >"$work/passing.md"
run passing "$work/passing.md"
[ "$status" -eq 0 ] || fail "passing: exit status $status, expected 0"
expect passing "all 3 snippet(s) passed against the emulator, which stopped cleanly"
expect passing "exported AZURE_BATCH_ACCOUNT, AZURE_BATCH_PRIMARY_KEY to child processes"
[ "$failures" -eq 0 ] || show passing

# Nothing marked: a failure, not a silent success.
sed 's/<!-- test: emulator -->//' "$fixture" >"$work/unmarked.md"
run unmarked "$work/unmarked.md"
[ "$status" -eq 1 ] || fail "unmarked: exit status $status, expected 1"
expect unmarked "has no code block marked <!-- test: emulator -->"

# A marker with a blank line before its block is an error, with its line number.
printf '# x\n\n<!-- test: emulator -->\n\n```sh\ntrue\n```\n' >"$work/gap.md"
run gap "$work/gap.md"
[ "$status" -eq 1 ] || fail "gap: exit status $status, expected 1"
expect gap "gap.md:3: the marker is not followed, on the next line, by a code block"

if [ "$failures" -ne 0 ]; then
    echo "test_runner.sh: $failures check(s) failed" >&2
    exit 1
fi
echo "test_runner.sh: run_snippets.py passed its self-test"
