/* SPDX-License-Identifier: MIT */
/* The crypto seam: the few primitives core needs, implemented in port/mbedtls (tests may link
 * deterministic ones instead).
 *
 *     uint8_t mac[BK_SHA256_SIZE];
 *     r = bk_hmac_sha256(key, key_len, msg, msg_len, mac);
 *     r = bk_base64_encode(mac, sizeof mac, out, sizeof out, &out_len);
 */
#ifndef BK_CRYPTO_H
#define BK_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "bk_result.h"

#define BK_SHA256_SIZE 32
#define BK_SHA1_SIZE   20

/* JWS signature algorithms of client assertions (RFC 7518). */
typedef enum bk_sign_alg {
    BK_SIGN_PS256, /* RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt */
    BK_SIGN_RS256, /* RSASSA-PKCS1-v1_5, SHA-256 */
    BK_SIGN_ES256  /* ECDSA P-256, SHA-256; the signature as r||s, 64 bytes */
} bk_sign_alg;

/* A private key the port holds (port/mbedtls: bk_client_cert.h). sign writes the signature of
 * a SHA-256 digest into sig (*sig_len bytes); the key never leaves the port. */
typedef struct bk_signer {
    bk_result (*sign)(void *ctx, bk_sign_alg alg, const uint8_t digest[BK_SHA256_SIZE],
                      uint8_t *sig, size_t cap, size_t *sig_len);
    void *ctx;
} bk_signer;

/* SHA-1: only for the x5t certificate thumbprint that RS256 client assertions carry. */
BK_MUST_CHECK bk_result bk_sha1(const uint8_t *data, size_t len, uint8_t out[BK_SHA1_SIZE]);
BK_MUST_CHECK bk_result bk_sha256(const uint8_t *data, size_t len, uint8_t out[BK_SHA256_SIZE]);
BK_MUST_CHECK bk_result bk_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data,
                                       size_t len, uint8_t out[BK_SHA256_SIZE]);
/* Standard alphabet with padding. out gets a terminating NUL; *out_len excludes it.
 * BK_ERR_BASE64 on malformed input, BK_ERR_REQUEST_OVERFLOW when out is too small. */
BK_MUST_CHECK bk_result bk_base64_encode(const uint8_t *data, size_t len, char *out, size_t cap,
                                         size_t *out_len);
BK_MUST_CHECK bk_result bk_base64_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                                         size_t *out_len);

/* Overwrites len bytes at p with zeros in a way the compiler does not remove. Core's own. */
void bk_wipe(void *p, size_t len);

#endif
