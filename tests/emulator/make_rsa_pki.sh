#!/bin/sh
# SPDX-License-Identifier: MIT
# make_rsa_pki.sh DIR — a throwaway PKI shaped like the chains Azure's front ends serve, for the
# emulator (azure_emulator.py --pki DIR) where RSA matters: the costlier verification and the
# larger certificates the small boards' mbedTLS pool must hold (make BOARD=mps2-an386 size).
#
# Creates in DIR (valid for 3 days):
#   ca.crt               an RSA-2048 root, self-signed with SHA-256 (as DigiCert Global Root G2)
#   server.crt, .key     an RSA-2048 leaf for DNS:localhost signed with SHA-384 by an RSA-4096
#                        issuing CA (as Microsoft Azure RSA TLS Issuing CA 0x), followed by that
#                        CA's certificate, signed with SHA-384 by the root: the chain a server sends
#
# Idempotent as make_test_pki.sh: nothing is rewritten while the set is complete and valid for
# another day. Quiet unless it fails.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"

if [ -s "$dir/ca.crt" ] && [ -s "$dir/server.crt" ] && [ -s "$dir/server.key" ] &&
    openssl x509 -noout -checkend 86400 -in "$dir/server.crt" >/dev/null 2>&1 &&
    openssl verify -CAfile "$dir/ca.crt" -untrusted "$dir/server.crt" "$dir/server.crt" \
        >/dev/null 2>&1; then
    exit 0
fi

work=$(mktemp -d "$dir/.pki.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
log="$work/openssl.log"

run() {
    if ! "$@" >>"$log" 2>&1; then
        echo "make_rsa_pki.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

run openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3 -keyout "$work/root.key" \
    -out "$work/ca.crt" -subj "/O=batchkey tests/CN=batchkey RSA root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"

run openssl req -new -newkey rsa:4096 -nodes -keyout "$work/issuing.key" -out "$work/issuing.csr" \
    -subj "/O=batchkey tests/CN=batchkey RSA issuing CA"
cat >"$work/issuing.ext" <<EOF
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
run openssl x509 -req -sha384 -days 3 -in "$work/issuing.csr" -out "$work/issuing.crt" \
    -CA "$work/ca.crt" -CAkey "$work/root.key" -set_serial "0x$(openssl rand -hex 12)" \
    -extfile "$work/issuing.ext"

run openssl req -new -newkey rsa:2048 -nodes -keyout "$work/server.key" -out "$work/server.csr" \
    -subj "/O=batchkey tests/CN=localhost"
cat >"$work/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
subjectAltName=DNS:localhost
EOF
run openssl x509 -req -sha384 -days 3 -in "$work/server.csr" -out "$work/leaf.crt" \
    -CA "$work/issuing.crt" -CAkey "$work/issuing.key" -set_serial "0x$(openssl rand -hex 12)" \
    -extfile "$work/server.ext"
cat "$work/leaf.crt" "$work/issuing.crt" >"$work/server.crt"

chmod 600 "$work/server.key"
for f in ca.crt server.crt server.key; do
    mv -f "$work/$f" "$dir/$f"
done
