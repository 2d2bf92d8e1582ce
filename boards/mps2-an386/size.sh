#!/bin/sh
# SPDX-License-Identifier: MIT
# Flash and RAM of an mps2-an386 image per group of its objects, from its linker map (IMAGE with
# .map for .elf), checked against arm-none-eabi-size; then what a run of it measured.
# Usage: boards/mps2-an386/size.sh IMAGE.elf [RUN_STDERR...]
#   flash = .text (with the vectors and unwind index) + .rodata + .data's initial values
#   RAM   = .data + .bss; the stack is its own region, reserved by the linker script
# A group is a pattern on the object's path, and optionally one on the input section's name (the
# table below), first match wins: the firmware's mbedTLS pool is a row of its own although it is
# the board's array. The board's part of the platform contract counts as platform, the command
# line shared by every board (boards/common) as cli, a test program as app. Lines of RUN_STDERR of
# the form "WHAT: deepest|peak|high-water N of M bytes..." (the stack's, the mbedTLS pool's,
# lwIP's) follow the table, labelled with the file's name less .err, and the RAM a product needs
# at the largest of those peaks.
set -eu
elf=$1
map=${elf%.elf}.map
shift
size=${MPS2_SIZE:-arm-none-eabi-size}

# name  pattern on the object's path  [pattern on the section's name]  (awk regular expressions)
groups='core       /core/
jsmn       /port/jsmn/
port       /port/
platform   (/platform/|/boards/[^/]*/bk_board_(platform|no_tcp)\.o$)
cli        /boards/common/
mbedTLS_pool /bk_firmware_main\.o$  ^\.bss\.pool$
mbedTLS    libmbed[a-z0-9]*\.a\(
lwIP       (liblwip[a-z0-9]*\.a\(|/lwip/src/)
board      /boards/
cmocka     cmocka\.o$
app        /tests/
C_library  /(libc|libc_nano|libg|libg_nano|libgcc|libm|librdimon|librdimon_nano|libnosys)\.a\(
fill       ^\(fill\)$'

# Through the environment: awk -v would take the backslashes as escapes.
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
BK_SIZE_GROUPS=$groups BK_SIZE_SECTIONS=$("$size" -A "$elf") awk -v elf="$elf" -v budget=65536 \
    -v flash_budget=131072 -v summary="$summary" '
function hex(text,    i, v) {
    v = 0
    text = tolower(substr(text, 3))
    for (i = 1; i <= length(text); i++) v = v * 16 + index("0123456789abcdef", substr(text, i, 1)) - 1
    return v
}
BEGIN {
    groups = ENVIRON["BK_SIZE_GROUPS"]
    sizes = ENVIRON["BK_SIZE_SECTIONS"]
    n = split(groups, lines, "\n")
    for (i = 1; i <= n; i++) {
        split(lines[i], f, " +")
        name[i] = f[1]; pat[i] = f[2]; section_pat[i] = f[3]
        gsub(/_/, " ", name[i])
    }
    ngroups = n
    split(sizes, s, "\n")
    for (i in s) {
        split(s[i], f, " +")
        if (f[1] ~ /^\./) section_size[f[1]] = f[2]
    }
}
function column(out) {
    if (out == ".vectors" || out == ".text" || out == ".ARM.exidx") return "text"
    if (out == ".rodata") return "rodata"
    if (out == ".data") return "data"
    if (out == ".bss") return "bss"
    return ""
}
# Entries of the current output section, in address order. Mergeable strings share their bytes
# with later entries (the map shows them at the same address), so an entry counts up to where
# the next one starts.
function add(file, hexaddr, hexsize, section) {
    count++
    e_file[count] = file; e_addr[count] = hex(hexaddr); e_size[count] = hex(hexsize)
    e_section[count] = section
}
function flush(    c, g, i, j, end_addr, n) {
    c = column(out)
    for (i = 1; c != "" && i <= count; i++) {
        end_addr = i < count ? e_addr[i + 1] : out_end
        n = e_size[i]
        if (end_addr - e_addr[i] < n) n = end_addr - e_addr[i]
        if (n < 0) n = 0
        g = "other"
        for (j = 1; j <= ngroups; j++)
            if (e_file[i] ~ pat[j] && (section_pat[j] == "" || e_section[i] ~ section_pat[j])) {
                g = name[j]
                break
            }
        amount[g, c] += n
        total[c] += n
        seen[g] = 1
    }
    count = 0
}
/^Linker script and memory map/ { inmap = 1; next }
!inmap { next }
/^\.[^ ]/ {
    flush()
    out = $1; pending = 0
    out_end = NF >= 3 && $2 ~ /^0x/ ? hex($2) + hex($3) : 0
    next
}
/^ \*fill\*/ { add("(fill)", $2, $3, ""); next }
/^ [.A-Za-z]/ {
    if (NF >= 4 && $2 ~ /^0x/ && $3 ~ /^0x/) add($4, $2, $3, $1)
    else if (NF == 1) { pending = 1; pending_section = $1 }
    next
}
pending && NF == 3 && $1 ~ /^0x/ && $2 ~ /^0x/ { add($3, $1, $2, pending_section); pending = 0; next }
{ pending = 0 }
END {
    flush()
    printf "%s: bytes per group (flash = .text + .rodata + .data, RAM = .data + .bss)\n", elf
    printf "%-12s %8s %8s %8s %8s %8s %8s\n", "group", ".text", ".rodata", ".data", ".bss", "flash", "RAM"
    # The groups the board always has, then those this image holds.
    always["core"] = always["port"] = always["platform"] = always["jsmn"] = always["board"] = 1
    always["C library"] = 1
    if (elf ~ /batchkey\.elf$/) always["cli"] = always["mbedTLS"] = always["lwIP"] = always["mbedTLS pool"] = 1
    for (i = 1; i <= ngroups + 1; i++) {
        g = i <= ngroups ? name[i] : "other"
        if (!(g in always) && !(g in seen)) continue
        t = amount[g, "text"]; r = amount[g, "rodata"]; d = amount[g, "data"]; b = amount[g, "bss"]
        printf "%-12s %8d %8d %8d %8d %8d %8d\n", g, t, r, d, b, t + r + d, d + b
    }
    t = total["text"]; r = total["rodata"]; d = total["data"]; b = total["bss"]
    printf "%-12s %8d %8d %8d %8d %8d %8d\n", "total", t, r, d, b, t + r + d, d + b
    # The map and the ELF must agree, or a section escaped the table.
    want_t = section_size[".vectors"] + section_size[".text"] + section_size[".ARM.exidx"]
    if (t != want_t || r != section_size[".rodata"] + 0 || d != section_size[".data"] + 0 ||
        b != section_size[".bss"] + 0) {
        printf "size.sh: the map says %d/%d/%d/%d, arm-none-eabi-size %d/%d/%d/%d\n",
            t, r, d, b, want_t, section_size[".rodata"], section_size[".data"],
            section_size[".bss"] > "/dev/stderr"
        exit 1
    }
    stack = section_size[".stack"]
    printf "flash %d of the %d bytes budgeted\n", t + r + d, flash_budget
    printf "stack region %d; RAM with it %d of the %d bytes DESIGN.md budgets\n", stack,
        d + b + stack, budget
    # For the line after the measurements: static RAM without the pool, and the pool size.
    print d + b - amount["mbedTLS pool", "bss"], amount["mbedTLS pool", "bss"] > summary
}' "$map"

# Each run's measurements; then the RAM a product would need if the pool and the stack were cut
# to exactly the largest of them (no margin).
read -r static_ram pool_size <"$summary"
max_stack=0
max_pool=0
for run_log in "$@"; do
    label=$(basename "$run_log" .err)
    grep -E '^[A-Za-z][A-Za-z0-9 _]*: (deepest|peak|high-water) ' "$run_log" |
        sed "s/^/measured ($label): /" || true
    stack=$(sed -n 's/^stack: deepest \([0-9]*\) of.*/\1/p' "$run_log" | tail -n 1)
    pool=$(sed -n 's/^mbedTLS pool: peak \([0-9]*\) of.*/\1/p' "$run_log" | tail -n 1)
    [ "${stack:-0}" -le "$max_stack" ] || max_stack=$stack
    [ "${pool:-0}" -le "$max_pool" ] || max_pool=$pool
done
if [ "$max_pool" -gt 0 ] && [ "$pool_size" -gt 0 ]; then
    echo "at the largest peaks, no margin: static RAM without the pool $static_ram + pool peak" \
        "$max_pool + deepest stack $max_stack = $((static_ram + max_pool + max_stack)) of 65536 bytes"
fi
