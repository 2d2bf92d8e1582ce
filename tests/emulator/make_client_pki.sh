#!/bin/sh
# SPDX-License-Identifier: MIT
# make_client_pki.sh DIR — the client certificates a service principal proves itself with
# (AZURE_CLIENT_CERTIFICATE_PATH), for the Azure emulator (azure_emulator.py --client-pki DIR,
# Emulator(..., client_pki=DIR)) and its tests.
#
# Creates in DIR (SHA-256 signatures; every certificate but the expired one valid for 3 days):
#   client-rsa.crt, client-rsa.key  an RSA-2048 self-signed certificate and its key (PKCS#8)
#   client-rsa.pem                  the same certificate, then the same key, in one PEM: the
#                                   form AZURE_CLIENT_CERTIFICATE_PATH takes
#   client-rsa-enc.pem              the same certificate and key, the key encrypted (PKCS#8,
#                                   PBES2 AES-256-CBC, PBKDF2 HMAC-SHA-256), password
#                                   "emulator-pass" (AZURE_CLIENT_CERTIFICATE_PASSWORD)
#   client-rsa-enc-des3.pem         the same, PBES2 DES-EDE3-CBC: what mbedTLS 2.28 can decrypt
#                                   (it knows no AES in PBES2; mbedTLS 3.6 does)
#   client-rsa-enc-legacy.pem       the same, the key as an OpenSSL "traditional" encrypted PEM
#                                   (Proc-Type: 4,ENCRYPTED, DEK-Info: AES-256-CBC)
#   client-rsa-pkcs1.pem            the same certificate, the key as "BEGIN RSA PRIVATE KEY"
#   client-ec.pem                   an EC P-256 self-signed certificate, then its key (PKCS#8)
#   client-ec-sec1.pem              the same, the key as "BEGIN EC PRIVATE KEY" (SEC 1)
#   client-chain.pem                an RSA-2048 leaf certificate, its key, then the certificate
#                                   of the intermediate CA that signed it (itself signed by
#                                   client-root.crt, which is not in the file)
#   client-root.crt                 that chain's root CA
#   client-unregistered.pem         an RSA-2048 certificate and key the emulator never registers
#   client-expired.pem              an RSA-2048 certificate and key, the certificate valid from
#                                   2024-01-01 to 2024-01-04 only
#
# The emulator registers client-rsa, client-ec, the chain's leaf and client-expired for its
# application (the expired one so that using it gets "The key used is expired", as from Entra).
# Idempotent: when every file is present and the certificates that should be stay valid for at
# least another day, nothing is rewritten. Otherwise the whole set is made afresh. Quiet unless
# it fails.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"

DAYS=3
PASSWORD=emulator-pass
ALL="client-rsa.crt client-rsa.key client-rsa.pem client-rsa-enc.pem client-rsa-enc-des3.pem
client-rsa-enc-legacy.pem client-rsa-pkcs1.pem client-ec.pem client-ec-sec1.pem
client-chain.pem client-root.crt client-unregistered.pem client-expired.pem"

is_current() {
    for f in $ALL; do
        [ -s "$dir/$f" ] || return 1
    done
    for c in client-rsa.crt client-ec.pem client-chain.pem client-root.crt \
        client-unregistered.pem; do
        openssl x509 -noout -checkend 86400 -in "$dir/$c" >/dev/null 2>&1 || return 1
    done
    ! openssl x509 -noout -checkend 0 -in "$dir/client-expired.pem" >/dev/null 2>&1 || return 1
    openssl verify -CAfile "$dir/client-root.crt" -untrusted "$dir/client-chain.pem" \
        "$dir/client-chain.pem" >/dev/null 2>&1
}

if is_current; then
    exit 0
fi

work=$(mktemp -d "$dir/.client-pki.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
log="$work/openssl.log"

run() {
    if ! "$@" >>"$log" 2>&1; then
        echo "make_client_pki.sh: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

rsa_key() {
    run openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/$1"
}

# A self-signed client certificate, as `az ad sp create-for-rbac --create-cert` or
# New-SelfSignedCertificate make them: $1 key file, $2 certificate file, $3 common name.
self_signed() {
    run openssl req -x509 -new -sha256 -days "$DAYS" -key "$work/$1" -out "$work/$2" \
        -subj "/O=batchkey tests/CN=$3" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -addext "keyUsage=critical,digitalSignature" \
        -addext "extendedKeyUsage=clientAuth" \
        -addext "subjectKeyIdentifier=hash"
}

# A CA certificate: $1 base name, $2 common name, $3 issuer base name (empty: self-signed).
ca_cert() {
    rsa_key "$1.key"
    if [ -z "$3" ]; then
        run openssl req -x509 -new -sha256 -days "$DAYS" -key "$work/$1.key" \
            -out "$work/$1.crt" -subj "/O=batchkey tests/CN=$2" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -addext "subjectKeyIdentifier=hash"
        return
    fi
    run openssl req -new -sha256 -key "$work/$1.key" -out "$work/$1.csr" \
        -subj "/O=batchkey tests/CN=$2"
    cat >"$work/$1.ext" <<EOF
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
    run openssl x509 -req -sha256 -days "$DAYS" -in "$work/$1.csr" -out "$work/$1.crt" \
        -CA "$work/$3.crt" -CAkey "$work/$3.key" -set_serial "0x$(openssl rand -hex 12)" \
        -extfile "$work/$1.ext"
}

# client-rsa and its other encodings.
rsa_key client-rsa.key
self_signed client-rsa.key client-rsa.crt "batchkey client (RSA)"
cat "$work/client-rsa.crt" "$work/client-rsa.key" >"$work/client-rsa.pem"
run openssl pkcs8 -topk8 -in "$work/client-rsa.key" -out "$work/enc.key" \
    -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout "pass:$PASSWORD"
cat "$work/client-rsa.crt" "$work/enc.key" >"$work/client-rsa-enc.pem"
run openssl pkcs8 -topk8 -in "$work/client-rsa.key" -out "$work/enc-des3.key" \
    -v2 des3 -v2prf hmacWithSHA256 -passout "pass:$PASSWORD"
cat "$work/client-rsa.crt" "$work/enc-des3.key" >"$work/client-rsa-enc-des3.pem"
run openssl rsa -in "$work/client-rsa.key" -out "$work/enc-legacy.key" -traditional -aes256 \
    -passout "pass:$PASSWORD"
cat "$work/client-rsa.crt" "$work/enc-legacy.key" >"$work/client-rsa-enc-legacy.pem"
run openssl rsa -in "$work/client-rsa.key" -out "$work/pkcs1.key" -traditional
cat "$work/client-rsa.crt" "$work/pkcs1.key" >"$work/client-rsa-pkcs1.pem"

# client-ec.
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/ec.key"
self_signed ec.key ec.crt "batchkey client (EC)"
cat "$work/ec.crt" "$work/ec.key" >"$work/client-ec.pem"
run openssl ec -in "$work/ec.key" -out "$work/ec-sec1.key"
cat "$work/ec.crt" "$work/ec-sec1.key" >"$work/client-ec-sec1.pem"

# client-chain: root -> intermediate -> leaf.
ca_cert client-root "batchkey client root CA" ""
ca_cert intermediate "batchkey client intermediate CA" client-root
rsa_key leaf.key
run openssl req -new -sha256 -key "$work/leaf.key" -out "$work/leaf.csr" \
    -subj "/O=batchkey tests/CN=batchkey client (chain)"
cat >"$work/leaf.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
run openssl x509 -req -sha256 -days "$DAYS" -in "$work/leaf.csr" -out "$work/leaf.crt" \
    -CA "$work/intermediate.crt" -CAkey "$work/intermediate.key" \
    -set_serial "0x$(openssl rand -hex 12)" -extfile "$work/leaf.ext"
cat "$work/leaf.crt" "$work/leaf.key" "$work/intermediate.crt" >"$work/client-chain.pem"

# client-unregistered.
rsa_key unregistered.key
self_signed unregistered.key unregistered.crt "batchkey client (unregistered)"
cat "$work/unregistered.crt" "$work/unregistered.key" >"$work/client-unregistered.pem"

# client-expired: `openssl ca` is what can set dates in the past.
rsa_key expired.key
run openssl req -new -sha256 -key "$work/expired.key" -out "$work/expired.csr" \
    -subj "/O=batchkey tests/CN=batchkey client (expired)"
: >"$work/index.txt"
cat >"$work/ca.cnf" <<EOF
[ ca ]
default_ca = expired_ca
[ expired_ca ]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any_name
unique_subject = no
email_in_dn = no
[ any_name ]
organizationName = optional
commonName = supplied
[ client ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF
openssl rand -hex 12 >"$work/serial"
run openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$work/expired.key" \
    -in "$work/expired.csr" -startdate 20240101000000Z -enddate 20240104000000Z \
    -extensions client -notext -out "$work/expired.crt"
cat "$work/expired.crt" "$work/expired.key" >"$work/client-expired.pem"

chmod 600 "$work"/*.key "$work"/*.pem
for f in $ALL; do
    mv -f "$work/$f" "$dir/$f"
done
