#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs libFuzzer targets, JOBS at a time, and prints one line per target: executions and verdict.
#   run_fuzz.sh run   OUT SECONDS JOBS TARGET...   each for SECONDS (-max_total_time)
#   run_fuzz.sh smoke OUT RUNS    JOBS TARGET...   each for RUNS inputs, seed 1, from the seeds only
#   run_fuzz.sh one   OUT MODE N TARGET            (internal: one target, for xargs -P)
# OUT is $(BUILD)/fuzz: the binaries, corpus/<target>/ (scratch corpus, seeded from the repo's
# tests/fuzz/corpus/<target>/, which is only read), artifacts/ (crash, leak, timeout inputs) and
# logs/<target>.log. Exits non-zero when any target had a finding.
set -u
mode=$1
out=$2
n=$3
here=$(dirname "$0")

one() {
    mode=$1 n=$2 t=$3
    seeds=$here/corpus/$t
    log=$out/logs/$t.log
    mkdir -p "$out/logs" "$out/artifacts"
    if [ "$mode" = smoke ]; then
        # Only the seeds, nothing kept: the same runs every time.
        scratch=$out/smoke/$t
        rm -rf "$scratch"
        mkdir -p "$scratch"
        runs=$n
        [ "$t" = fuzz_pem ] && runs=$((n / 10)) # mbedTLS parses and RSA signs: slower
        set -- -runs="$runs" -seed=1
    else
        scratch=$out/corpus/$t
        mkdir -p "$scratch"
        set -- -max_total_time="$n"
    fi
    start=$(date +%s)
    "$out/$t" "$@" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -artifact_prefix="$out/artifacts/$t-" "$scratch" "$seeds" >"$log" 2>&1
    rc=$?
    end=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        verdict="no finding"
    else
        verdict="FINDING (exit $rc): $(grep -m 1 -E '^==[0-9]+==ERROR|^SUMMARY|deadly signal|Test unit written' "$log" || true)"
        verdict="$verdict; see $log"
    fi
    printf '%-18s %12s execs %5ss  %s\n' "$t" "${execs:-?}" "$((end - start))" "$verdict"
    return $rc
}

if [ "$mode" = one ]; then
    one "$3" "$4" "$5"
    exit $?
fi

jobs=$4
shift 4
case "$mode" in run | smoke) ;; *)
    echo "usage: $0 run|smoke OUT N JOBS TARGET..." >&2
    exit 2
    ;;
esac
mkdir -p "$out/logs"
printf '%-18s %12s       %5s   %s\n' target executions time result
status=0
printf '%s\n' "$@" | xargs -P "$jobs" -n 1 sh "$0" one "$out" "$mode" "$n" || status=1
if [ $status -ne 0 ]; then
    echo "fuzz: a target had a finding (inputs in $out/artifacts/)" >&2
fi
exit $status
