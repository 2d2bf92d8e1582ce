#!/bin/sh
# SPDX-License-Identifier: MIT
# make_test_pki.sh DIR — the throwaway PKI the Azure emulator and its clients use in tests.
#
# Creates in DIR (EC P-256 keys, SHA-256 signatures, valid for 3 days):
#   ca.crt, ca.key                 the test CA clients trust (--ca-file)
#   server.crt, server.key         signed by the test CA for DNS:localhost only
#   wrongname.crt, wrongname.key   signed by the test CA, but only for wrong.example
#   untrusted-ca.crt, .key         an unrelated CA that signed nothing the emulator serves
#
# Idempotent: when every file is present, chains to ca.crt and stays valid for at least another
# day, nothing is rewritten. Otherwise the whole set is made afresh. Quiet unless it fails.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"

DAYS=3
ALL="ca.crt ca.key server.crt server.key wrongname.crt wrongname.key untrusted-ca.crt untrusted-ca.key"

is_current() {
    for f in $ALL; do
        [ -s "$dir/$f" ] || return 1
    done
    for c in ca.crt server.crt wrongname.crt untrusted-ca.crt; do
        openssl x509 -noout -checkend 86400 -in "$dir/$c" >/dev/null 2>&1 || return 1
    done
    openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" "$dir/wrongname.crt" >/dev/null 2>&1
}

if is_current; then
    exit 0
fi

work=$(mktemp -d "$dir/.pki.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
log="$work/openssl.log"

run() {
    if ! "$@" >>"$log" 2>&1; then
        echo "make_test_pki.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

new_key() {
    run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1"
}

# A self-signed CA: $1 base name, $2 common name.
new_ca() {
    new_key "$1.key"
    run openssl req -x509 -new -sha256 -days "$DAYS" -key "$work/$1.key" -out "$work/$1.crt" \
        -subj "/O=batchkey tests/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash"
}

# A TLS server certificate signed by ca: $1 base name, $2 common name, $3 subjectAltName.
new_server_cert() {
    new_key "$1.key"
    run openssl req -new -sha256 -key "$work/$1.key" -out "$work/$1.csr" -subj "/O=batchkey tests/CN=$2"
    cat >"$work/$1.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
subjectAltName=$3
EOF
    run openssl x509 -req -sha256 -days "$DAYS" -in "$work/$1.csr" -out "$work/$1.crt" \
        -CA "$work/ca.crt" -CAkey "$work/ca.key" -set_serial "0x$(openssl rand -hex 12)" \
        -extfile "$work/$1.ext"
}

new_ca ca "batchkey test CA"
new_ca untrusted-ca "batchkey untrusted CA"
# DNS names only: mbedTLS 2.28 never matches IP SANs, so clients always verify "localhost".
new_server_cert server localhost "DNS:localhost"
new_server_cert wrongname wrong.example "DNS:wrong.example"

chmod 600 "$work"/*.key
for f in $ALL; do
    mv -f "$work/$f" "$dir/$f"
done
