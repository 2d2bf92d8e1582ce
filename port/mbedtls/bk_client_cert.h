/* SPDX-License-Identifier: MIT */
/* A client certificate and its private key, read from one PEM (AZURE_CLIENT_CERTIFICATE_PATH's
 * format: the certificate, any chain, and the key, RSA or EC, optionally encrypted), as the
 * signer (core/bk_crypto.h) of a certificate credential's assertions (core/bk_entra.h).
 *
 *     static bk_client_cert cc;
 *     bk_certificate cert = {.client_id = client_id, .send_chain = false};
 *     r = bk_client_cert_start(&cc, pem, pem_len, password, &cert);  // password NULL: clear
 *     ...
 *     bk_client_cert_free(&cc);
 *
 * The leaf is the certificate whose public key matches the private key; der[0] is the leaf, the
 * file's other certificates follow in file order. mbedTLS allocates the parsed certificates and
 * key through mbedtls_calloc, as it does for TLS. */
#ifndef BK_CLIENT_CERT_H
#define BK_CLIENT_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_crypto.h"
#include "bk_entra.h"
#include "bk_result.h"
#include "mbedtls/pk.h"
#include "mbedtls/x509_crt.h"

/* Certificates kept from the file (the leaf and its chain). */
#ifndef BK_CLIENT_CERT_CHAIN_MAX
#define BK_CLIENT_CERT_CHAIN_MAX 4
#endif

typedef struct bk_client_cert {
    mbedtls_x509_crt certs;
    mbedtls_pk_context key;
    const uint8_t *der[BK_CLIENT_CERT_CHAIN_MAX]; /* into certs: leaf first */
    size_t der_len[BK_CLIENT_CERT_CHAIN_MAX];
    size_t count;
    bool ec;                /* an EC key (ES256); else RSA (PS256 or RS256) */
    int last_mbedtls_error; /* for diagnosis */
} bk_client_cert;

/* pem: the file's bytes (NUL-terminated, len without the NUL). BK_ERR_CLIENT_CERT when it holds
 * no certificate, no key, more certificates than kept, or no certificate of that key;
 * BK_ERR_CLIENT_CERT_PASSWORD when the key is encrypted and the password is missing or wrong;
 * BK_ERR_CLIENT_CERT_CIPHER when it is encrypted with a cipher this mbedTLS does not have (2.28
 * has DES-EDE3-CBC, not AES, for PKCS#8). */
BK_MUST_CHECK bk_result bk_client_cert_load(bk_client_cert *cc, const char *pem, size_t len,
                                            const char *password);
bk_signer bk_client_cert_signer(bk_client_cert *cc);
/* bk_client_cert_load, then out's signer, alg (ES256 for an EC key, else PS256) and chain from
 * cc; cc is freed again on failure. pem is the caller's to wipe. */
BK_MUST_CHECK bk_result bk_client_cert_start(bk_client_cert *cc, const char *pem, size_t len,
                                             const char *password, bk_certificate *out);
void bk_client_cert_free(bk_client_cert *cc);

#endif
