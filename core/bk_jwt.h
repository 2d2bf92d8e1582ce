/* SPDX-License-Identifier: MIT */
/* Client assertions: the JWT a certificate credential signs to prove itself to Microsoft Entra
 * ID (RFC 7523 as Entra reads it).
 *
 *     bk_jwt_assertion a = {BK_SIGN_PS256, leaf_der, leaf_len, NULL, NULL, 0, client_id,
 *                           "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token",
 *                           jti, now_s, signer};
 *     r = bk_jwt_write_assertion(&a, buf, sizeof buf, &len);
 *
 * Header {"alg", "typ": "JWT", and "x5t#S256" (the certificate's SHA-256 thumbprint; RS256 sends
 * "x5t", its SHA-1 one), "x5c" (the chain, standard base64 DER) when given}; claims {"aud",
 * "iss" and "sub" (the client id), "jti", "nbf", "iat", "exp" (nbf + lifetime)}; all three parts
 * base64url without padding. */
#ifndef BK_JWT_H
#define BK_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "bk_crypto.h"
#include "bk_result.h"

/* Ten minutes: Entra's lifetime for a client assertion. */
#define BK_ASSERTION_LIFETIME_S 600u

typedef struct bk_jwt_assertion {
    bk_sign_alg alg;
    const uint8_t *leaf_der; /* the certificate the signer's key belongs to */
    size_t leaf_len;
    /* x5c: the chain to send (leaf first), or x5c_count 0 for none. */
    const uint8_t *const *x5c_der;
    const size_t *x5c_len;
    size_t x5c_count;
    const char *client_id; /* iss and sub */
    const char *audience;  /* the token endpoint's URL */
    const char *jti;       /* a fresh UUID */
    int64_t now_s;         /* nbf and iat; exp is BK_ASSERTION_LIFETIME_S later */
    bk_signer signer;
} bk_jwt_assertion;

/* Writes the signed assertion into buf (NUL-terminated; *out_len without it).
 * BK_ERR_REQUEST_OVERFLOW when it does not fit; BK_ERR_ARGUMENT for a clock before 1970. */
BK_MUST_CHECK bk_result bk_jwt_write_assertion(const bk_jwt_assertion *a, char *buf, size_t cap,
                                               size_t *out_len);

#endif
