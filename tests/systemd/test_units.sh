#!/bin/sh
# SPDX-License-Identifier: MIT
# Checks boards/linux/systemd/batchkey-rotate.service and batchkey-rotate.timer:
#   1. systemd-analyze verify on both, failing on a non-zero status and on any line it prints
#      (it exits 0 after some warnings, an unknown key for one); first a self-check that this is
#      so, on a copy with a misspelt key and on one whose command does not exist;
#   2. the settings the design asks for, as systemd would read them (the last assignment in the
#      right section; comments do not count), and the ones that must be absent;
#   3. systemd-analyze security --offline: overall exposure at most 2.0.
# verify insists that ExecStart's program exists. The units name /usr/bin/batchkey, which is not
# installed here, so they are checked as copies in a temporary directory where the one
# ExecStart= line names EXECUTABLE instead (through a link, $work/bin/batchkey); the test then
# compares each copy with its original and fails unless that line's program is the only change.
# Usage: sh tests/systemd/test_units.sh [EXECUTABLE]   (default /bin/true; build/host/batchkey
#        works as well: verify only checks that it is an executable file)
# Needs systemd-analyze (Debian's systemd package), but no running systemd: it works in a
# container. Never skips: without systemd-analyze it fails, naming the package.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
units=$here/../../boards/linux/systemd
service=batchkey-rotate.service
timer=batchkey-rotate.timer
installed_path=/usr/bin/batchkey
failures=0

fail() {
    echo "test_units.sh: FAIL: $*" >&2
    failures=$((failures + 1))
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "test_units.sh: FAIL: systemd-analyze not found: install Debian's systemd package" \
        "(make deps-test, or apt-get install --no-install-recommends systemd)" >&2
    exit 1
fi

executable=${1:-/bin/true}
if [ ! -f "$executable" ] || [ ! -x "$executable" ]; then
    echo "test_units.sh: FAIL: $executable is not an executable file" >&2
    exit 1
fi
case $executable in
/*) ;;
*) executable=$(cd "$(dirname "$executable")" && pwd)/$(basename "$executable") ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT PIPE TERM
# The path goes into a unit file, where "%", "$", "\", quotes and spaces would mean something.
case $work in
*[!A-Za-z0-9/._-]*)
    echo "test_units.sh: FAIL: the temporary directory $work has characters a unit file" \
        "would interpret; set TMPDIR to a plainer one" >&2
    exit 1
    ;;
esac
mkdir "$work/bin" "$work/units" "$work/bad"
ln -s "$executable" "$work/bin/batchkey"
stand_in=$work/bin/batchkey

# verify's environment: the caller's SYSTEMD_LOG_LEVEL or SYSTEMD_UNIT_PATH would change what it
# prints or where it looks for units. --man=no: the units' Documentation=man:batchkey(1) page is
# not installed here, and verify would say so.
analyze() {
    env -u SYSTEMD_UNIT_PATH SYSTEMD_LOG_LEVEL=info SYSTEMD_LOG_COLOR=0 SYSTEMD_COLORS=0 \
        systemd-analyze "$@"
}

# verify_clean OUT FILE...: verify's status and output in OUT; status 0 only if it exited 0 and
# printed nothing.
verify_clean() {
    out=$1
    shift
    status=0
    analyze verify --man=no "$@" >"$out" 2>&1 || status=$?
    [ "$status" -eq 0 ] && [ ! -s "$out" ]
}

# --- the copies: ExecStart's program replaced, nothing else ---
n=$(grep -c '^ExecStart=' "$units/$service" || true)
[ "$n" -eq 1 ] || fail "$service: $n ExecStart= lines, expected exactly one"
awk -v from="ExecStart=$installed_path " -v to="ExecStart=$stand_in " '
    index($0, from) == 1 { $0 = to substr($0, length(from) + 1) }
    { print }' "$units/$service" >"$work/units/$service"
cp "$units/$timer" "$work/units/$timer"

# The only difference allowed: one line, ExecStart=, with the program and nothing else changed.
changes=$(awk -v from="ExecStart=$installed_path " -v to="ExecStart=$stand_in " '
    NR == FNR { original[FNR] = $0; lines = FNR; next }
    {
        copied = FNR
        if ($0 == original[FNR]) next
        if (index(original[FNR], from) == 1 &&
            $0 == to substr(original[FNR], length(from) + 1)) { rewritten++; next }
        other++
    }
    END { if (copied != lines) other++; printf "%d %d", rewritten, other }
' "$units/$service" "$work/units/$service")
[ "$changes" = "1 0" ] ||
    fail "$service: the copy differs from the original by more than ExecStart's program" \
        "(rewritten lines, other differences: $changes)"
cmp -s "$units/$timer" "$work/units/$timer" || fail "$timer: the copy differs from the original"

# --- self-check, on the service alone: the two ways verify reports a problem are both caught ---
awk '{ print } $0 == "Type=oneshot" { print "Tyep=oneshot" }' "$work/units/$service" \
    >"$work/bad/$service"
status=0
analyze verify --man=no "$work/bad/$service" >"$work/bad.out" 2>&1 || status=$?
if [ "$status" -ne 0 ] || ! grep -q 'Tyep' "$work/bad.out"; then
    fail "self-check: expected verify to print a warning for an unknown key and exit 0;" \
        "status $status, output: $(cat "$work/bad.out")"
fi
if verify_clean "$work/bad.out" "$work/bad/$service"; then
    fail "self-check: a unit with an unknown key passed"
fi
mkdir "$work/missing"
cp "$units/$service" "$work/missing/"
if verify_clean "$work/missing.out" "$work/missing/$service"; then
    [ -x "$installed_path" ] ||
        fail "self-check: verify accepted ExecStart=$installed_path, which does not exist here"
fi

# --- 1. systemd-analyze verify ---
echo "systemd-analyze verify --man=no $service $timer (copies with ExecStart=$stand_in ...)"
if ! verify_clean "$work/verify.out" "$work/units/$service" "$work/units/$timer"; then
    fail "systemd-analyze verify: status $status, output:"
    sed 's/^/    /' "$work/verify.out" >&2
fi

# --- 2. the settings, as systemd reads them ---
# setting FILE SECTION KEY: the value of the last KEY= line in [SECTION], continued lines joined
# (comment lines are skipped, also inside a continued line), each run of blanks made one space;
# "(unset)" if there is none.
setting() {
    awk -v section="[$2]" -v key="$3" '
        /^[ \t]*[#;]/ { next }
        { line = held $0; held = "" }
        line ~ /\\$/ { held = substr(line, 1, length(line) - 1) " "; next }
        line ~ /^[ \t]*\[/ { current = line; gsub(/^[ \t]+|[ \t]+$/, "", current); next }
        current != section { next }
        {
            eq = index(line, "=")
            if (eq == 0) next
            k = substr(line, 1, eq - 1); gsub(/^[ \t]+|[ \t]+$/, "", k)
            if (k != key) next
            value = substr(line, eq + 1); gsub(/^[ \t]+|[ \t]+$/, "", value)
            gsub(/[ \t]+/, " ", value)
            found = 1
        }
        END { if (found) print value; else print "(unset)" }' "$1"
}

# expect FILE SECTION KEY VALUE
expect() {
    got=$(setting "$units/$1" "$2" "$3")
    [ "$got" = "$4" ] || fail "$1: [$2] $3=$4 expected, found: $got"
}

# absent FILE SECTION KEY
absent() {
    got=$(setting "$units/$1" "$2" "$3")
    [ "$got" = "(unset)" ] || fail "$1: [$2] $3 must not be set, found: $3=$got"
}

for f in "$service" "$timer" batchkey.env.example; do
    [ -f "$units/$f" ] || continue
    head -n 1 "$units/$f" | grep -qx '# SPDX-License-Identifier: MIT' ||
        fail "$f: the first line is not '# SPDX-License-Identifier: MIT'"
done

expect "$service" Service Type oneshot
case $(setting "$units/$service" Service ExecStart) in
"$installed_path rotate "*) ;;
*) fail "$service: ExecStart= does not run '$installed_path rotate'" ;;
esac
case " $(setting "$units/$service" Service ExecStart) " in
*" --output tsv "* | *" --output json "*) ;;
*) fail "$service: ExecStart= gives no --output tsv or --output json" ;;
esac
expect "$service" Service EnvironmentFile -/etc/batchkey/batchkey.env
expect "$service" Service DynamicUser yes
# With DynamicUser=yes, a User= or Group= naming an existing static account would be used instead
# of a dynamic one (the fixed-user variant the unit's comments describe changes this test too).
absent "$service" Service User
absent "$service" Service Group
expect "$service" Service StateDirectory batchkey
expect "$service" Service StateDirectoryMode 0700
expect "$service" Service UMask 0077
expect "$service" Service ProtectSystem strict
expect "$service" Service NoNewPrivileges yes
expect "$service" Service PrivateTmp yes
expect "$service" Service ProtectHome yes
expect "$service" Service PrivateDevices yes
expect "$service" Service ProtectKernelTunables yes
expect "$service" Service ProtectKernelModules yes
expect "$service" Service ProtectKernelLogs yes
expect "$service" Service ProtectControlGroups yes
expect "$service" Service RestrictAddressFamilies "AF_INET AF_INET6 AF_UNIX"
expect "$service" Service RestrictNamespaces yes
expect "$service" Service LockPersonality yes
expect "$service" Service MemoryDenyWriteExecute yes
expect "$service" Service SystemCallArchitectures native
expect "$service" Service CapabilityBoundingSet ""
timeout=$(setting "$units/$service" Service TimeoutStartSec)
case $timeout in
"(unset)" | "" | infinity | 0)
    fail "$service: TimeoutStartSec= must bound the run, found: $timeout"
    ;;
esac
# Exit 7 (rotation incomplete) and every other failure must leave the unit failed; the timer's
# next run is the retry.
absent "$service" Service SuccessExitStatus
absent "$service" Service Restart
# Started by the timer only: no [Install] section to enable it by.
if grep -q '^\[Install\]' "$units/$service"; then
    fail "$service: has an [Install] section; only the timer is enabled"
fi

expect "$timer" Timer OnCalendar daily
expect "$timer" Timer Persistent true
delay=$(setting "$units/$timer" Timer RandomizedDelaySec)
case $delay in
"(unset)" | "" | 0) fail "$timer: RandomizedDelaySec= must spread the runs, found: $delay" ;;
esac
accuracy=$(setting "$units/$timer" Timer AccuracySec)
[ "$accuracy" != "(unset)" ] || fail "$timer: AccuracySec= is not set"
unit=$(setting "$units/$timer" Timer Unit)
case $unit in
"(unset)" | "$service") ;;
*) fail "$timer: starts $unit, not $service" ;;
esac
expect "$timer" Install WantedBy timers.target

# --- 3. the exposure systemd-analyze security computes (--threshold counts tenths: 20 is 2.0) ---
status=0
analyze security --offline=yes --man=no --no-pager --threshold=20 "$work/units/$service" \
    >"$work/security.out" 2>&1 || status=$?
grep 'Overall exposure level' "$work/security.out" || true
if [ "$status" -ne 0 ]; then
    fail "systemd-analyze security: status $status (exposure above 2.0?); its findings:"
    grep -v '✓' "$work/security.out" | sed 's/^/    /' >&2
fi

if [ "$failures" -ne 0 ]; then
    echo "test_units.sh: $failures failure(s)" >&2
    exit 1
fi
echo "test_units.sh: ok ($service, $timer)"
