#!/bin/sh
# Makes a throwaway PKI for the TLS tests in DIR (created if missing):
#   ca.crt        the CA the tests trust
#   other-ca.crt  a CA the server does not chain to (the "untrusted" case)
#   server.crt    CN and SAN DNS:localhost only (no IP SAN), signed by ca.crt, with server.key
# P-256 keys, valid for two days. Nothing here is secret; delete DIR afterwards.
set -eu

dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

new_ca() { # key cert common-name
    new_key "$1"
    openssl req -new -x509 -key "$1" -out "$2" -days 2 -subj "/CN=$3" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

new_ca ca.key ca.crt "batchkey test CA"
new_ca other-ca.key other-ca.crt "batchkey untrusted test CA"

new_key server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>/dev/null
cat >server.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost
EXT
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.crt 2>/dev/null

openssl verify -CAfile ca.crt server.crt >/dev/null
