#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian packages, built as a packager would: dpkg-buildpackage -us -uc -b in a copy of the
# tree (its tracked and new files, so uncommitted work counts; build/ stays out), for this
# machine's architecture and across for arm64 (-a arm64). For each:
#   - lintian on the .changes: any E: fails, W: are printed;
#   - dpkg-deb -c: each package holds what it should, the unit names the packaged CLI;
#   - the timer is installed but not enabled: no .wants link shipped, and batchkey's postinst, run
#     for a first installation with deb-systemd-helper, deb-systemd-invoke and systemctl stubbed
#     out, enables and starts nothing;
#   - arm64: the CLI and libbatchkey.a are AArch64 code.
# It installs the Debian packages it needs when missing (apt-get, as root or through sudo): the
# host build's dpkg-dev, debhelper and lintian, and the cross compiler (tests/install_deps.sh lists
# them); beyond that list, the cross build's libmbedtls-dev:arm64, after `dpkg
# --add-architecture arm64` (libjsmn-dev is Multi-Arch: foreign: the host's serves).
# Usage: sh tests/package/build_packages.sh [host|arm64|all]   (default all; KEEP=1 keeps the
#        work directory and says where)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
which=${1:-all}
case $which in
host | arm64 | all) ;;
*)
    echo "usage: sh tests/package/build_packages.sh [host|arm64|all]" >&2
    exit 2
    ;;
esac
failures=0
fail() {
    echo "build_packages.sh: FAIL: $*" >&2
    failures=$((failures + 1))
}
die() {
    echo "build_packages.sh: $*" >&2
    exit 1
}

command -v dpkg-query >/dev/null 2>&1 || die "not a Debian system (no dpkg-query): cannot build"

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || sudo=none
    [ "$sudo" = none ] || sudo=sudo
fi
updated=""
# need PACKAGE...: apt-get installs those not installed.
need() {
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    [ "$sudo" != none ] || die "missing Debian packages:$missing; installing them needs root or sudo"
    echo "build_packages.sh: installing Debian packages:$missing"
    if [ -z "$updated" ]; then
        $sudo apt-get update -qq || die "apt-get update failed"
        updated=1
    fi
    # shellcheck disable=SC2086
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        $missing >/dev/null || die "apt-get could not install:$missing"
}

need dpkg-dev debhelper lintian binutils "libmbedtls-dev:$(dpkg --print-architecture)" libjsmn-dev
if [ "$which" != host ] && [ "$(dpkg --print-architecture)" != arm64 ]; then
    added=""
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        [ "$sudo" != none ] || die "the arm64 build needs 'dpkg --add-architecture arm64' (root or sudo)"
        echo "build_packages.sh: dpkg --add-architecture arm64"
        $sudo dpkg --add-architecture arm64
        added=1
        updated=""
    fi
    # A mirror without arm64 fails here: take the architecture back out so apt stays usable.
    if ! (need gcc-aarch64-linux-gnu libc6-dev-arm64-cross libmbedtls-dev:arm64); then
        if [ -n "$added" ]; then
            { $sudo dpkg --remove-architecture arm64 && $sudo apt-get update -qq; } || true
        fi
        die "cannot install the arm64 build's packages: does this machine's apt mirror serve arm64?"
    fi
fi

version=$(dpkg-parsechangelog -S Version)
upstream=${version%-*}
bk_version=$(sed -n 's/^#define BK_VERSION *"\(.*\)"/\1/p' core/bk_config.h)
[ "$upstream" = "$bk_version" ] ||
    fail "debian/changelog says $upstream, core/bk_config.h's BK_VERSION $bk_version"

work=$(mktemp -d)
if [ "${KEEP:-}" = 1 ]; then
    trap 'echo "build_packages.sh: kept $work"' EXIT
else
    trap 'rm -rf "$work"' EXIT
fi
trap 'exit 1' HUP INT PIPE TERM

# --- the copy: git's tracked and untracked-but-not-ignored files that exist ---
src=$work/batchkey-$upstream
mkdir "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -co --exclude-standard >"$work/listed"
else
    find . \( -path ./build -o -path ./.git \) -prune -o -type f -print | sed 's|^\./||' \
        >"$work/listed"
fi
while IFS= read -r f; do
    if [ -f "$f" ]; then printf '%s\n' "$f"; fi
done <"$work/listed" >"$work/files"
tar -cf - -T "$work/files" | tar -xf - -C "$src"

# check_deb DEB PATH...: each PATH is in the package.
check_deb() {
    pkg=$1
    shift
    dpkg-deb -c "$pkg" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' >"$work/contents"
    for p in "$@"; do
        grep -qx "$p" "$work/contents" || fail "$(basename "$pkg") lacks $p"
    done
}

# The postinst, run as on a first installation with the systemd helpers recorded, not run.
check_not_enabled() {
    pkg=$1
    rm -rf "$work/ctl" "$work/stubs"
    mkdir "$work/ctl" "$work/stubs"
    dpkg-deb -e "$pkg" "$work/ctl"
    if grep -q 'wants' "$work/contents"; then
        fail "$(basename "$pkg") ships a .wants link: $(grep wants "$work/contents")"
    fi
    [ -f "$work/ctl/postinst" ] || { fail "$(basename "$pkg") has no postinst"; return; }
    # deb-systemd-helper: a first installation (nothing debian-installed, was-enabled true as for
    # a unit it has never seen, which is what makes dh's default snippet enable).
    cat >"$work/stubs/deb-systemd-helper" <<'STUB'
#!/bin/sh
echo "deb-systemd-helper $*" >>"$STUB_LOG"
for a in "$@"; do [ "$a" = debian-installed ] && exit 1; done
exit 0
STUB
    for tool in deb-systemd-invoke systemctl; do
        # shellcheck disable=SC2016 # $* and $STUB_LOG are the stub's own
        printf '#!/bin/sh\necho "%s $*" >>"$STUB_LOG"\n' "$tool" >"$work/stubs/$tool"
    done
    chmod +x "$work/stubs"/*
    : >"$work/stub.log"
    if ! env STUB_LOG="$work/stub.log" PATH="$work/stubs:/usr/sbin:/usr/bin:/sbin:/bin" \
        DPKG_MAINTSCRIPT_PACKAGE=batchkey DPKG_MAINTSCRIPT_NAME=postinst \
        sh "$work/ctl/postinst" configure "" >"$work/postinst.out" 2>&1; then
        fail "batchkey's postinst failed: $(cat "$work/postinst.out")"
    fi
    grep -q 'batchkey-rotate.timer' "$work/stub.log" ||
        fail "batchkey's postinst never mentions batchkey-rotate.timer (the stubs were not used?)"
    if grep -E ' (enable|start|restart)( |$)' "$work/stub.log" >"$work/enabled"; then
        fail "batchkey's postinst enables or starts on a first installation: $(cat "$work/enabled")"
    fi
}

# build ARCH: dpkg-buildpackage (-a ARCH unless the host's), lintian, the packages' contents.
build() {
    arch=$1
    host_arch=$(dpkg --print-architecture)
    set -- -us -uc -b -jauto
    [ "$arch" = "$host_arch" ] || set -- "$@" -a "$arch"
    started=$(date +%s)
    echo "dpkg-buildpackage $* (in a copy of the tree)"
    if ! (cd "$src" && dpkg-buildpackage "$@") >"$work/build-$arch.log" 2>&1; then
        tail -n 40 "$work/build-$arch.log" >&2
        fail "dpkg-buildpackage $* failed (the last 40 lines above)"
        return
    fi
    built=$(date +%s)
    changes=$work/batchkey_${version}_$arch.changes
    status=0
    lintian --fail-on error --tag-display-limit 0 "$changes" >"$work/lintian-$arch.log" 2>&1 ||
        status=$?
    sed "s/^/    lintian ($arch): /" "$work/lintian-$arch.log"
    if [ "$status" -ne 0 ] || grep -q '^E: ' "$work/lintian-$arch.log"; then
        fail "lintian ($arch): errors (status $status)"
    fi
    echo "$arch: dpkg-buildpackage $((built - started)) s, lintian $(($(date +%s) - built)) s"

    multiarch=$(dpkg-architecture -a "$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
    deb=$work/batchkey_${version}_$arch.deb
    dev=$work/libbatchkey-dev_${version}_$arch.deb
    check_deb "$deb" /usr/bin/batchkey /usr/share/man/man1/batchkey.1.gz \
        /lib/systemd/system/batchkey-rotate.service /lib/systemd/system/batchkey-rotate.timer \
        /usr/share/doc/batchkey/copyright /usr/share/doc/batchkey/examples/batchkey.env.example
    dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./lib/systemd/system/batchkey-rotate.service |
        grep -q '^ExecStart=/usr/bin/batchkey rotate ' ||
        fail "$(basename "$deb"): the service does not run /usr/bin/batchkey rotate"
    check_not_enabled "$deb"
    check_deb "$dev" "/usr/lib/$multiarch/libbatchkey.a" "/usr/lib/$multiarch/pkgconfig/batchkey.pc" \
        /usr/include/batchkey/bk_client.h /usr/include/batchkey/bk_config.h \
        /usr/include/batchkey/bk_tls_connector.h /usr/share/doc/libbatchkey-dev/copyright
    dpkg-deb --fsys-tarfile "$dev" | tar -xOf - "./usr/lib/$multiarch/pkgconfig/batchkey.pc" |
        grep -qx "libdir=/usr/lib/$multiarch" ||
        fail "$(basename "$dev"): batchkey.pc's libdir is not /usr/lib/$multiarch"

    # The code is the architecture's.
    case $arch in
    arm64) machine=AArch64 ;;
    amd64) machine='Advanced Micro Devices X86-64' ;;
    *) machine="" ;;
    esac
    if [ -n "$machine" ]; then
        rm -rf "$work/x"
        mkdir "$work/x" "$work/x/cli" "$work/x/dev"
        dpkg-deb -x "$deb" "$work/x/cli"
        dpkg-deb -x "$dev" "$work/x/dev"
        for f in cli/usr/bin/batchkey "dev/usr/lib/$multiarch/libbatchkey.a"; do
            found=$(readelf -h "$work/x/$f" | sed -n 's/^ *Machine: *//p' | sort -u)
            [ "$found" = "$machine" ] || fail "$arch: /${f#*/} is code for '$found', not $machine"
        done
        echo "$arch: /usr/bin/batchkey and libbatchkey.a are $machine code"
    fi
}

case $which in
host) build "$(dpkg --print-architecture)" ;;
arm64) build arm64 ;;
all)
    build "$(dpkg --print-architecture)"
    [ "$(dpkg --print-architecture)" = arm64 ] || build arm64
    ;;
esac

if [ "$failures" -ne 0 ]; then
    echo "build_packages.sh: $failures failure(s)" >&2
    exit 1
fi
echo "build_packages.sh: ok ($which)"
