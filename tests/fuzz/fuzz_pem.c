/* SPDX-License-Identifier: MIT */
/* libFuzzer: a certificate credential's PEM file (AZURE_CLIENT_CERTIFICATE_PATH: certificates
 * and a key, RSA or EC, maybe encrypted) through bk_client_cert_start (port/mbedtls), then, when
 * it is accepted, the client assertion (a JWT) it signs, with and without its chain. Byte 0:
 * 0x01 a password is given ("fuzz"), 0x02 RS256 instead of PS256 for RSA keys; the rest is the
 * file. mbedTLS allocates while it parses, as it does in the CLI. Oracle: an accepted file gives
 * a leaf and at most BK_CLIENT_CERT_CHAIN_MAX certificates, and its assertion is three base64url
 * parts. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_client_cert.h"
#include "bk_entra.h"
#include "bk_test_support.h"
#include "bk_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PEM_MAX 16384

static char pem[PEM_MAX + 1];
static char jwt[BK_TOKEN_MAX + 1];
static bk_client_cert cc;

static void assertion_sane(const char *text, size_t len) {
    check(strlen(text) == len);
    unsigned dots = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        dots += c == '.';
        check((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.');
    }
    check(dots == 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size - 1 > PEM_MAX) {
        return 0;
    }
    uint8_t flags = data[0];
    memcpy(pem, data + 1, size - 1);
    pem[size - 1] = '\0';
    size_t len = strlen(pem); /* the file as the CLI reads it: text up to a NUL */
    if (len == 0) {
        return 0;
    }
    bk_test_entropy_reset();
    const char *password = (flags & 0x01u) != 0 ? "fuzz" : NULL;
    bk_certificate cert = {.client_id = "00000000-0000-0000-0000-00000000000a"};
    if (bk_client_cert_start(&cc, pem, len, password, &cert) != BK_OK) {
        check(cc.count == 0);
        return 0;
    }
    check(cc.count >= 1 && cc.count <= BK_CLIENT_CERT_CHAIN_MAX);
    check(cert.chain_count == cc.count && cert.chain_der != NULL);
    for (size_t i = 0; i < cc.count; i++) {
        check(cc.der[i] != NULL && cc.der_len[i] > 0);
    }
    if (!cc.ec && (flags & 0x02u) != 0) {
        cert.alg = BK_SIGN_RS256;
    }
    for (int chain = 0; chain < 2; chain++) {
        cert.send_chain = chain != 0;
        size_t out_len = 0;
        bk_result r = bk_certificate_assertion(
            &cert, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            1700000000, jwt, sizeof jwt, &out_len);
        if (r == BK_OK) {
            assertion_sane(jwt, out_len);
        } else {
            check(r == BK_ERR_REQUEST_OVERFLOW || r == BK_ERR_CRYPTO);
        }
    }
    bk_client_cert_free(&cc);
    return 0;
}
