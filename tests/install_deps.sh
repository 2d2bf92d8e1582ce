#!/bin/sh
# Installs the Debian packages batchkey builds and tests with, when any is missing.
set -eu
packages="gcc make libc6-dev binutils libmbedtls-dev libjsmn-dev libcmocka-dev
  gcc-arm-none-eabi binutils-arm-none-eabi libnewlib-arm-none-eabi
  python3 openssl ca-certificates valgrind time clang libclang-rt-dev
  dpkg-dev bzip2 xz-utils"
missing=""
for p in $packages; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "batchkey: installing Debian packages:$missing"
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
