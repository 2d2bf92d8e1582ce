/* SPDX-License-Identifier: MIT */
/* The crypto seam (core/bk_crypto.h) on mbedTLS: SHA-256 and HMAC through the md layer (the one
 * API that is the same in 2.28 and 3.x), base64 through mbedtls_base64_* behind a strict check.
 * bk_wipe is core's own (core/bk_wipe.c). */
#include "bk_crypto.h"

#include "mbedtls/version.h"
#include "mbedtls/base64.h"
#include "mbedtls/md.h"

/* 3.x's md computes SHA-256 through PSA when a PSA driver (or only PSA) provides it; PSA must be
 * up first then. Otherwise md calls the hash directly, and PSA (its RNG, its entropy) stays out. */
#if defined(MBEDTLS_MD_SHA256_VIA_PSA) || defined(MBEDTLS_MD_SHA1_VIA_PSA)
#include "psa/crypto.h"
#endif

static const mbedtls_md_info_t *bk_sha256_info(void) {
#if defined(MBEDTLS_MD_SHA256_VIA_PSA)
    if (psa_crypto_init() != PSA_SUCCESS) { /* repeat calls are free */
        return NULL;
    }
#endif
    return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
}

bk_result bk_sha256(const uint8_t *data, size_t len, uint8_t out[BK_SHA256_SIZE]) {
    if ((data == NULL && len > 0) || out == NULL) {
        return BK_ERR_ARGUMENT;
    }
    const mbedtls_md_info_t *info = bk_sha256_info();
    if (info == NULL || mbedtls_md(info, data, len, out) != 0) {
        return BK_ERR_CRYPTO;
    }
    return BK_OK;
}

bk_result bk_sha1(const uint8_t *data, size_t len, uint8_t out[BK_SHA1_SIZE]) {
    if ((data == NULL && len > 0) || out == NULL) {
        return BK_ERR_ARGUMENT;
    }
#if defined(MBEDTLS_MD_SHA1_VIA_PSA)
    if (psa_crypto_init() != PSA_SUCCESS) {
        return BK_ERR_CRYPTO;
    }
#endif
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
    if (info == NULL || mbedtls_md(info, data, len, out) != 0) {
        return BK_ERR_CRYPTO;
    }
    return BK_OK;
}

bk_result bk_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                         uint8_t out[BK_SHA256_SIZE]) {
    if ((key == NULL && key_len > 0) || (data == NULL && len > 0) || out == NULL) {
        return BK_ERR_ARGUMENT;
    }
    const mbedtls_md_info_t *info = bk_sha256_info();
    if (info == NULL || mbedtls_md_hmac(info, key, key_len, data, len, out) != 0) {
        return BK_ERR_CRYPTO;
    }
    return BK_OK;
}

bk_result bk_base64_encode(const uint8_t *data, size_t len, char *out, size_t cap,
                           size_t *out_len) {
    if ((data == NULL && len > 0) || out == NULL || out_len == NULL) {
        return BK_ERR_ARGUMENT;
    }
    *out_len = 0;
    if (cap == 0) {
        return BK_ERR_REQUEST_OVERFLOW;
    }
    out[0] = '\0';
    if (len == 0) {
        return BK_OK; /* mbedTLS writes no terminator for empty input */
    }
    size_t written = 0;
    int ret = mbedtls_base64_encode((unsigned char *)out, cap, &written, data, len);
    if (ret == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL) {
        out[0] = '\0';
        return BK_ERR_REQUEST_OVERFLOW;
    }
    if (ret != 0) {
        out[0] = '\0';
        return BK_ERR_CRYPTO;
    }
    *out_len = written;
    return BK_OK;
}

static int bk_base64_is_digit(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Canonical shape only: whole quads of the standard alphabet, '=' only as the last one or two
 * characters. mbedTLS alone would also take line breaks and missing padding. */
static int bk_base64_well_formed(const char *text, size_t len) {
    if (len % 4 != 0) {
        return 0;
    }
    size_t padding = 0;
    while (padding < 2 && padding < len && text[len - 1 - padding] == '=') {
        padding++;
    }
    for (size_t i = 0; i + padding < len; i++) {
        if (!bk_base64_is_digit(text[i])) {
            return 0;
        }
    }
    return 1;
}

bk_result bk_base64_decode(const char *text, size_t len, uint8_t *out, size_t cap,
                           size_t *out_len) {
    if ((text == NULL && len > 0) || (out == NULL && cap > 0) || out_len == NULL) {
        return BK_ERR_ARGUMENT;
    }
    *out_len = 0;
    if (len == 0) {
        return BK_OK;
    }
    if (!bk_base64_well_formed(text, len)) {
        return BK_ERR_BASE64;
    }
    size_t written = 0;
    int ret = mbedtls_base64_decode(out, cap, &written, (const unsigned char *)text, len);
    if (ret == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL) {
        return BK_ERR_REQUEST_OVERFLOW;
    }
    if (ret != 0) {
        return BK_ERR_BASE64;
    }
    *out_len = written;
    return BK_OK;
}
