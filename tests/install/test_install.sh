#!/bin/sh
# SPDX-License-Identifier: MIT
# make install into a temporary root, then:
#   - every file where it belongs, the unit's ExecStart naming the installed CLI, the installed
#     CLI runs;
#   - the README's C example (extracted as boards/linux/board.mk does) built against the installed
#     library alone, through `pkg-config --cflags --libs batchkey`, and run where it needs no
#     network (a missing CA file, a bad endpoint);
#   - the installed bk_config.h pins the library's sizes: another -DBK_KEY_MAX does not compile
#     under -Werror;
#   - make uninstall leaves no file behind;
# and once more with PREFIX=/usr/local and a multiarch LIBDIR, for the paths written into files.
# Usage: sh tests/install/test_install.sh   (from the top of the tree; BUILD, MAKE, CC as make's)
set -eu
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
CC=${CC:-cc}
failures=0

fail() {
    echo "test_install.sh: FAIL: $*" >&2
    failures=$((failures + 1))
}

for tool in pkg-config "$CC"; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "test_install.sh: FAIL: $tool not found (Debian: pkgconf, gcc)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT PIPE TERM

# mk LOG GOAL VAR=VALUE...: make quietly, its output shown only when it fails.
mk() {
    log=$1
    shift
    if ! $MAKE --no-print-directory BUILD="$BUILD" "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "test_install.sh: FAIL: make $*" >&2
        exit 1
    fi
}

# no_files_left ROOT: uninstall removed every file install put there.
no_files_left() {
    left=$(find "$1" ! -type d | sort)
    [ -z "$left" ] || fail "make uninstall left: $left"
    [ ! -e "$1$2/batchkey" ] || fail "make uninstall left the directory $2/batchkey"
}

# --- PREFIX=/usr ---
root=$work/root
echo "make install DESTDIR=\$tmp PREFIX=/usr"
mk "$work/install.log" install DESTDIR="$root" PREFIX=/usr
for f in usr/bin/batchkey usr/lib/libbatchkey.a usr/lib/pkgconfig/batchkey.pc \
    usr/share/man/man1/batchkey.1 usr/lib/systemd/system/batchkey-rotate.service \
    usr/lib/systemd/system/batchkey-rotate.timer usr/include/batchkey/bk_client.h \
    usr/include/batchkey/bk_config.h usr/include/batchkey/bk_tls_connector.h; do
    [ -f "$root/$f" ] || fail "not installed: /$f"
done
[ -x "$root/usr/bin/batchkey" ] || fail "/usr/bin/batchkey is not executable"
"$root/usr/bin/batchkey" --version >/dev/null || fail "the installed batchkey --version failed"
grep -q '^ExecStart=/usr/bin/batchkey rotate ' "$root/usr/lib/systemd/system/batchkey-rotate.service" ||
    fail "the installed service's ExecStart does not run /usr/bin/batchkey rotate"
if grep -q '^#ifndef BK_[A-Z0-9_]*[^H]$' "$root/usr/include/batchkey/bk_config.h"; then
    fail "the installed bk_config.h still lets a -D change the library's sizes"
fi

# The README's example, exactly as board.mk extracts it.
awk '/<!-- example: regenerate -->/ {on = 1; next} on && /^```c/ {code = 1; next} \
     code && /^```/ {exit} code' README.md >"$work/example.c"
[ -s "$work/example.c" ] || fail "no C example found in README.md"

pc() {
    PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root/usr/lib/pkgconfig pkg-config "$@"
}
version=$(sed -n 's/^#define BK_VERSION *"\(.*\)"/\1/p' core/bk_config.h)
[ "$(pc --modversion batchkey)" = "$version" ] ||
    fail "pkg-config --modversion batchkey: $(pc --modversion batchkey), core/bk_config.h: $version"
flags=$(pc --cflags --libs batchkey)
echo "pkg-config --cflags --libs batchkey: $flags"
# No -I of the source tree: the installed headers alone. Word splitting of $flags is wanted.
# shellcheck disable=SC2086
if ! $CC -std=c99 -Wall -Wextra -Werror "$work/example.c" $flags -o "$work/example" \
    2>"$work/cc.log"; then
    cat "$work/cc.log" >&2
    fail "the README's example does not build against the installed library"
else
    status=0
    BATCHKEY_CA_FILE=$work/no-such-ca.pem "$work/example" >/dev/null 2>"$work/run.log" ||
        status=$?
    { [ "$status" -eq 1 ] && grep -q 'cannot load the CA certificates' "$work/run.log"; } ||
        fail "example with a missing CA file: status $status, $(cat "$work/run.log")"
    # With a CA bundle it gets as far as the endpoints, and stops there: http is refused.
    ca=/etc/ssl/certs/ca-certificates.crt
    if [ -r "$ca" ]; then
        status=0
        BATCHKEY_CA_FILE=$ca BATCHKEY_ARM_ENDPOINT=http://localhost "$work/example" \
            >/dev/null 2>"$work/run.log" || status=$?
        { [ "$status" -eq 2 ] && grep -q 'bad endpoint' "$work/run.log"; } ||
            fail "example with an http ARM endpoint: status $status, $(cat "$work/run.log")"
    fi
fi

# The sizes are the library's: a different one is a diagnostic, an error under -Werror.
cflags=$(pc --cflags batchkey)
printf '#include "bk_client.h"\nint main(void) { return BK_KEY_MAX > 0 ? 0 : 1; }\n' \
    >"$work/size.c"
# shellcheck disable=SC2086
$CC -std=c99 -Werror -c "$work/size.c" $cflags -o "$work/size.o" ||
    fail "a program including bk_client.h does not compile"
# shellcheck disable=SC2086
if $CC -std=c99 -Werror -DBK_KEY_MAX=200 -c "$work/size.c" $cflags \
    -o "$work/size.o" 2>/dev/null; then
    fail "-DBK_KEY_MAX=200 compiled against the installed headers without a diagnostic"
fi

echo "make uninstall DESTDIR=\$tmp PREFIX=/usr"
mk "$work/uninstall.log" uninstall DESTDIR="$root" PREFIX=/usr
no_files_left "$root" /usr/include

# --- PREFIX=/usr/local, a multiarch LIBDIR: the paths written into the units and the .pc ---
root=$work/local
libdir=/usr/local/lib/x86_64-linux-gnu
echo "make install DESTDIR=\$tmp PREFIX=/usr/local LIBDIR=$libdir"
mk "$work/install2.log" install DESTDIR="$root" PREFIX=/usr/local LIBDIR="$libdir"
grep -q '^ExecStart=/usr/local/bin/batchkey rotate ' \
    "$root/usr/local/lib/systemd/system/batchkey-rotate.service" ||
    fail "PREFIX=/usr/local: the service's ExecStart does not name /usr/local/bin/batchkey"
pcfile=$root$libdir/pkgconfig/batchkey.pc
grep -qx "libdir=$libdir" "$pcfile" || fail "PREFIX=/usr/local: batchkey.pc's libdir is not $libdir"
grep -qx 'includedir=/usr/local/include' "$pcfile" ||
    fail "PREFIX=/usr/local: batchkey.pc's includedir is not /usr/local/include"
[ -f "$root$libdir/libbatchkey.a" ] || fail "LIBDIR=$libdir: libbatchkey.a is not there"
mk "$work/uninstall2.log" uninstall DESTDIR="$root" PREFIX=/usr/local LIBDIR="$libdir"
no_files_left "$root" /usr/local/include

if [ "$failures" -ne 0 ]; then
    echo "test_install.sh: $failures failure(s)" >&2
    exit 1
fi
echo "test_install.sh: ok (install, the README's example through pkg-config, uninstall)"
