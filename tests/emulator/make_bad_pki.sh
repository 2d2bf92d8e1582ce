#!/bin/sh
# SPDX-License-Identifier: MIT
# make_bad_pki.sh DIR — server certificates a TLS client must refuse, for the fault tests.
#
# DIR must hold make_test_pki.sh's set (ca.crt/.key, untrusted-ca.crt/.key). Adds, each a leaf
# for DNS:localhost with its key (NAME.crt, NAME.key), so that only the named defect is wrong:
#   expired          signed by ca, valid from 3 days ago until yesterday
#   notyet           signed by ca, valid from tomorrow for 3 days
#   untrusted        signed by untrusted-ca, a root clients do not trust
#   leafonly         signed by intermediate (chain-root -> intermediate), the file holds the
#                    leaf alone: a server serving it does not send the intermediate
#   chained          the same leaf and key, followed by intermediate: the control case
#   weak             an RSA-1024 key, signed by ca with SHA-1
# and chain-root.crt (the intermediate's root: ca.crt has pathlen:0), intermediate.crt, and
# trust.crt (ca.crt and chain-root.crt: the bundle a client is given).
#
# Always made afresh (expired and notyet are relative to now). Quiet unless it fails.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
for f in ca.crt ca.key untrusted-ca.crt untrusted-ca.key; do
    if [ ! -s "$dir/$f" ]; then
        echo "make_bad_pki.sh: $dir/$f missing: run make_test_pki.sh $dir first" >&2
        exit 1
    fi
done

ALL="expired.crt expired.key notyet.crt notyet.key untrusted.crt untrusted.key leafonly.crt
leafonly.key chained.crt chained.key weak.crt weak.key chain-root.crt intermediate.crt trust.crt"

work=$(mktemp -d "$dir/.badpki.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
log="$work/openssl.log"

run() {
    if ! "$@" >>"$log" 2>&1; then
        echo "make_bad_pki.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

ec_key() {
    run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1"
}

# openssl ca's time format, N days from now (GNU date, as on Debian).
when() {
    date -u -d "$1 days" +%Y%m%d%H%M%SZ
}

# A minimal `openssl ca` setup: the only way OpenSSL 3.0 sets both validity dates.
mkdir "$work/db"
: >"$work/db/index.txt"
cat >"$work/ca.cnf" <<EOF
[ca]
default_ca = test
[test]
database = $work/db/index.txt
new_certs_dir = $work/db
serial = $work/db/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
subjectAltName = DNS:localhost
[subca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
EOF

# sign NAME ISSUER-KEY ISSUER-CRT START-DAYS END-DAYS SECTION MD CN: NAME.csr -> NAME.crt.
sign() {
    openssl rand -hex 12 >"$work/db/serial"
    run openssl ca -batch -config "$work/ca.cnf" -notext -in "$work/$1.csr" \
        -out "$work/$1.crt" -cert "$3" -keyfile "$2" -startdate "$(when "$4")" \
        -enddate "$(when "$5")" -extensions "$6" -md "$7" -subj "/CN=$8"
}

# leaf NAME ISSUER-KEY ISSUER-CRT START END [MD]: a localhost leaf with an EC key.
leaf() {
    ec_key "$1.key"
    run openssl req -new -key "$work/$1.key" -subj "/CN=localhost" -out "$work/$1.csr"
    sign "$1" "$2" "$3" "$4" "$5" leaf "${6:-sha256}" localhost
}

leaf expired "$dir/ca.key" "$dir/ca.crt" -3 -1
leaf notyet "$dir/ca.key" "$dir/ca.crt" 1 4
leaf untrusted "$dir/untrusted-ca.key" "$dir/untrusted-ca.crt" -1 3

# chain-root -> intermediate -> leafonly (and chained: the same leaf with its intermediate).
ec_key chain-root.key
run openssl req -x509 -new -sha256 -days 3 -key "$work/chain-root.key" \
    -out "$work/chain-root.crt" -subj "/O=batchkey tests/CN=batchkey chain root" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:1" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -addext "subjectKeyIdentifier=hash"
ec_key intermediate.key
run openssl req -new -key "$work/intermediate.key" -out "$work/intermediate.csr" \
    -subj "/CN=batchkey intermediate"
sign intermediate "$work/chain-root.key" "$work/chain-root.crt" -1 3 subca sha256 \
    "batchkey intermediate"
leaf leafonly "$work/intermediate.key" "$work/intermediate.crt" -1 3
cat "$work/leafonly.crt" "$work/intermediate.crt" >"$work/chained.crt"
cp "$work/leafonly.key" "$work/chained.key"

# RSA-1024 and SHA-1: both below what a client may accept today.
run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$work/weak.key"
run openssl req -new -key "$work/weak.key" -subj "/CN=localhost" -out "$work/weak.csr"
sign weak "$dir/ca.key" "$dir/ca.crt" -1 3 leaf sha1 localhost

cat "$dir/ca.crt" "$work/chain-root.crt" >"$work/trust.crt"

chmod 600 "$work"/*.key
for f in $ALL; do
    mv -f "$work/$f" "$dir/$f"
done
