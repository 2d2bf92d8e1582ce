#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian packages batchkey needs, in three groups, each what its make target really runs.
#   tests/install_deps.sh [GROUP]          installs the group's missing packages (default: test) with
#                                          apt-get --no-install-recommends, as root or through sudo
#   tests/install_deps.sh --check GROUP    installs nothing: one line naming the missing packages
#                                          and exit 1, or silence and exit 0 (also off Debian)
# GROUP is build, demo or test; each includes the one before it.
set -eu

# build: `make` (build/host/batchkey, build/host/example_regenerate): cc and its linker (gcc,
# binutils), the libc headers (gcc only recommends them), make, mbedTLS 2.28, jsmn's header.
build="gcc libc6-dev binutils make libmbedtls-dev libjsmn-dev"
# demo: `make demo`, i.e. build and tests/emulator/with_emulator.sh: python3 runs the emulator
# (standard library only), openssl makes its throwaway PKI (make_test_pki.sh). The CLI trusts
# that PKI's CA alone (BATCHKEY_CA_FILE): no ca-certificates.
demo="$build python3 openssl"
# test: `make test` (and `make bench`, `make fuzz`, `make tls-valgrind`), i.e. demo and
#   unit-tests        libcmocka-dev (gcc brings its sanitizer runtimes)
#   core-m4           gcc-arm-none-eabi, binutils-arm-none-eabi (arm-none-eabi-size), and newlib's
#                     headers (libnewlib-dev): the core is only compiled, never linked
#   core-rv32         gcc-riscv64-unknown-elf (it has no C library), picolibc-riscv64-unknown-elf
#                     for <string.h> (picolibc.specs)
#   BOARD=mps2-an386  libnewlib-arm-none-eabi: newlib-nano for the firmware, newlib with rdimon
#                     (semihosting I/O) for the unit tests on the board; qemu-system-arm runs
#                     them (-M mps2-an386, QEMU 7.2); cmocka comes from Debian's source package
#                     through apt-get source, as mbedTLS 3.6 does below; socat carries the
#                     firmware's connections from QEMU's restricted user network to the emulator
#                     on the host's loopback (boards/mps2-an386/run_batchkey.sh's guestfwd rules)
#   tls-tests         openssl (s_server, s_client); ca-certificates for the system bundle case,
#                     which is skipped without it
#   fuzz-smoke        clang, libclang-rt-dev (libFuzzer and the sanitizer runtimes)
#   integration-tests valgrind
#   mbedtls3-tests    apt-get source (its deb-src line names debian-archive-keyring's keyring),
#                     dpkg-source (dpkg-dev; bzip2 and xz-utils unpack the .orig.tar.bz2 and the
#                     .debian.tar.xz), then python3 scripts/config.py, make, cc and ar; readelf
#   bench             time (GNU time); size and strip are binutils
#   systemd-tests     systemd (systemd-analyze verify and security --offline; no running systemd)
#   rotation-tests    util-linux (mount, for the full-disk case on a small tmpfs, as root)
#   BOARD=linux-aarch64, linux-armhf   Debian's cross compilers and their C libraries
#                     (gcc-aarch64-linux-gnu, gcc-arm-linux-gnueabihf, libc6-dev-*-cross), and
#                     qemu-user to run what they build; mbedTLS comes from Debian's source
#   package-tests     debhelper (dpkg-buildpackage's dh), lintian, pkgconf (the install test
#                     builds the README's example through pkg-config)
#   proxy-tests       tinyproxy, the HTTP proxy the tests start and stop themselves
#   static-checks     cppcheck, clang-tidy and clang-format (Debian's LLVM 14) on the C sources;
#                     gcovr reports the coverage of core/ from gcc's gcov data
#   bench             curl and jq do the same job as batchkey, for comparison; musl-tools
#                     builds the static CLI it measures beside the others (BOARD=linux-musl)
test="$demo libcmocka-dev gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-dev ca-certificates
  clang libclang-rt-dev valgrind dpkg-dev bzip2 xz-utils debian-archive-keyring time
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf libnewlib-arm-none-eabi qemu-system-arm
  socat systemd util-linux gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf
  libc6-dev-armhf-cross qemu-user debhelper lintian pkgconf tinyproxy curl jq musl-tools
  cppcheck clang-tidy clang-format gcovr"

check=""
if [ "${1:-}" = --check ]; then
    check=1
    shift
fi
group=${1:-test}
case $group in
build) packages=$build ;;
demo) packages=$demo ;;
test) packages=$test ;;
*)
    echo "usage: tests/install_deps.sh [--check] [build|demo|test]" >&2
    exit 2
    ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    [ -n "$check" ] && exit 0 # not Debian: nothing to tell, the build will say
    # shellcheck disable=SC2086 # one line
    echo "batchkey: no dpkg here; install the equivalents of these Debian packages yourself:" \
        $packages >&2
    exit 1
fi

# One dpkg-query for the whole list: the packages installed, the others are missing.
# shellcheck disable=SC2086
installed=" $(dpkg-query -W -f='${db:Status-Status} ${Package}\n' $packages 2>/dev/null |
    awk '$1 == "installed" { printf "%s ", $2 }')"
missing=""
for p in $packages; do
    case $installed in
    *" $p "*) ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ -n "$check" ]; then
    echo "batchkey: missing Debian packages:$missing; run 'make deps-$group'" \
        "(apt-get, as root or through sudo) or install them yourself" >&2
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "batchkey: missing Debian packages:$missing; installing them needs root or sudo" >&2
        exit 1
    fi
    sudo="sudo"
fi
echo "batchkey: installing Debian packages for $group:$missing"
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
