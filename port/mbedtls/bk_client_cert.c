/* SPDX-License-Identifier: MIT */
/* A client certificate's key as the signer of client assertions (bk_client_cert.h). The API
 * differences of mbedTLS 2.28 and 3.x met here sit behind MBEDTLS_VERSION_NUMBER checks. */
#include "bk_client_cert.h"

#include <string.h>

#include "bk_platform.h"
#include "mbedtls/entropy.h"
#include "mbedtls/rsa.h"
#include "mbedtls/version.h"

#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
#include "psa/crypto.h"
#endif

/* The platform's entropy, straight: blinding, PSS salts and ECDSA nonces need unpredictable
 * bytes, not a reproducible stream. */
static int bk_cert_rng(void *unused, unsigned char *out, size_t len) {
    (void)unused;
    return bk_entropy(out, len) == BK_OK ? 0 : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
}

static bk_result bk_cert_parse_key(bk_client_cert *cc, const char *pem, size_t len,
                                   const char *password) {
    const unsigned char *pwd = (const unsigned char *)password;
    size_t pwd_len = password != NULL ? strlen(password) : 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    int ret = mbedtls_pk_parse_key(&cc->key, (const unsigned char *)pem, len + 1, pwd, pwd_len,
                                   bk_cert_rng, NULL);
#else
    int ret = mbedtls_pk_parse_key(&cc->key, (const unsigned char *)pem, len + 1, pwd, pwd_len);
#endif
    if (ret == 0) {
        return BK_OK;
    }
    cc->last_mbedtls_error = ret;
    if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || ret == MBEDTLS_ERR_PK_PASSWORD_MISMATCH) {
        return BK_ERR_CLIENT_CERT_PASSWORD;
    }
    if (password != NULL && strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") != NULL) {
        return BK_ERR_CLIENT_CERT_CIPHER; /* read, but not decrypted: its cipher is unknown here */
    }
    return BK_ERR_CLIENT_CERT;
}

static bool bk_cert_matches_key(bk_client_cert *cc, mbedtls_x509_crt *crt) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_check_pair(&crt->pk, &cc->key, bk_cert_rng, NULL) == 0;
#else
    return mbedtls_pk_check_pair(&crt->pk, &cc->key) == 0;
#endif
}

bk_result bk_client_cert_load(bk_client_cert *cc, const char *pem, size_t len,
                              const char *password) {
    memset(cc, 0, sizeof *cc);
    mbedtls_x509_crt_init(&cc->certs);
    mbedtls_pk_init(&cc->key);
    if (pem == NULL || len == 0 || pem[len] != '\0') {
        return BK_ERR_ARGUMENT;
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && defined(MBEDTLS_PSA_CRYPTO_C)
    if (psa_crypto_init() != PSA_SUCCESS) {
        return BK_ERR_CRYPTO;
    }
#endif
    /* The PEM parsers find their blocks anywhere in the text: the key's are skipped here, the
     * certificates' there. */
    int ret = mbedtls_x509_crt_parse(&cc->certs, (const unsigned char *)pem, len + 1);
    if (ret < 0 || cc->certs.raw.len == 0) {
        cc->last_mbedtls_error = ret;
        return BK_ERR_CLIENT_CERT;
    }
    bk_result r = bk_cert_parse_key(cc, pem, len, password);
    if (r != BK_OK) {
        return r;
    }
    mbedtls_pk_type_t type = mbedtls_pk_get_type(&cc->key);
    if (type != MBEDTLS_PK_RSA && type != MBEDTLS_PK_ECKEY) {
        return BK_ERR_CLIENT_CERT;
    }
    cc->ec = type == MBEDTLS_PK_ECKEY;
    const mbedtls_x509_crt *leaf = NULL;
    for (mbedtls_x509_crt *crt = &cc->certs; crt != NULL; crt = crt->next) {
        if (leaf == NULL && bk_cert_matches_key(cc, crt)) {
            leaf = crt;
        }
    }
    if (leaf == NULL) {
        return BK_ERR_CLIENT_CERT; /* no certificate of this key */
    }
    cc->der[0] = leaf->raw.p;
    cc->der_len[0] = leaf->raw.len;
    cc->count = 1;
    for (const mbedtls_x509_crt *crt = &cc->certs; crt != NULL; crt = crt->next) {
        if (crt == leaf || crt->raw.len == 0) {
            continue;
        }
        if (cc->count == BK_CLIENT_CERT_CHAIN_MAX) {
            return BK_ERR_CLIENT_CERT;
        }
        cc->der[cc->count] = crt->raw.p;
        cc->der_len[cc->count] = crt->raw.len;
        cc->count++;
    }
    return BK_OK;
}

void bk_client_cert_free(bk_client_cert *cc) {
    mbedtls_pk_free(&cc->key); /* mbedTLS zeroizes the key material it frees */
    mbedtls_x509_crt_free(&cc->certs);
    memset(cc, 0, sizeof *cc);
}

/* An ECDSA signature, DER SEQUENCE { INTEGER r, INTEGER s }, as JWS wants it: r || s, each 32
 * bytes big-endian. */
static bk_result bk_cert_der_to_raw(const uint8_t *der, size_t len, uint8_t out[64]) {
    size_t pos = 0;
    if (len < 8 || der[pos++] != 0x30 || der[pos++] != len - 2) {
        return BK_ERR_CRYPTO; /* P-256 signatures are under 128 bytes: short-form lengths */
    }
    memset(out, 0, 64);
    for (int part = 0; part < 2; part++) {
        if (pos + 2 > len || der[pos] != 0x02) {
            return BK_ERR_CRYPTO;
        }
        size_t n = der[pos + 1];
        pos += 2;
        if (n == 0 || pos + n > len) {
            return BK_ERR_CRYPTO;
        }
        const uint8_t *v = der + pos;
        pos += n;
        while (n > 0 && v[0] == 0) { /* the sign byte */
            v++;
            n--;
        }
        if (n > 32) {
            return BK_ERR_CRYPTO;
        }
        memcpy(out + 32 * (size_t)part + (32 - n), v, n);
    }
    return pos == len ? BK_OK : BK_ERR_CRYPTO;
}

static bk_result bk_cert_sign_rsa(bk_client_cert *cc, bk_sign_alg alg,
                                  const uint8_t digest[BK_SHA256_SIZE], uint8_t *sig, size_t cap,
                                  size_t *sig_len) {
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(cc->key);
    size_t n = mbedtls_rsa_get_len(rsa);
    if (n > cap) {
        return BK_ERR_CRYPTO;
    }
    int ret;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    if (alg == BK_SIGN_PS256) {
        ret = mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
        if (ret == 0) {
            ret = mbedtls_rsa_rsassa_pss_sign_ext(rsa, bk_cert_rng, NULL, MBEDTLS_MD_SHA256,
                                                  BK_SHA256_SIZE, digest, BK_SHA256_SIZE, sig);
        }
    } else {
        ret = mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
        if (ret == 0) {
            ret = mbedtls_rsa_rsassa_pkcs1_v15_sign(rsa, bk_cert_rng, NULL, MBEDTLS_MD_SHA256,
                                                    BK_SHA256_SIZE, digest, sig);
        }
    }
#else
    /* 2.28 takes the largest salt up to the hash's length: 32 bytes for any key of 528 bits or
     * more, which every key Entra accepts is. */
    if (alg == BK_SIGN_PS256) {
        mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
        ret = mbedtls_rsa_rsassa_pss_sign(rsa, bk_cert_rng, NULL, MBEDTLS_RSA_PRIVATE,
                                          MBEDTLS_MD_SHA256, BK_SHA256_SIZE, digest, sig);
    } else {
        mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
        ret = mbedtls_rsa_rsassa_pkcs1_v15_sign(rsa, bk_cert_rng, NULL, MBEDTLS_RSA_PRIVATE,
                                                MBEDTLS_MD_SHA256, BK_SHA256_SIZE, digest, sig);
    }
#endif
    if (ret != 0) {
        cc->last_mbedtls_error = ret;
        return BK_ERR_CRYPTO;
    }
    *sig_len = n;
    return BK_OK;
}

static bk_result bk_cert_sign(void *ctx, bk_sign_alg alg, const uint8_t digest[BK_SHA256_SIZE],
                              uint8_t *sig, size_t cap, size_t *sig_len) {
    bk_client_cert *cc = ctx;
    *sig_len = 0;
    if (cc->ec != (alg == BK_SIGN_ES256)) {
        return BK_ERR_ARGUMENT; /* ES256 needs an EC key, PS256 and RS256 an RSA one */
    }
    if (!cc->ec) {
        return bk_cert_sign_rsa(cc, alg, digest, sig, cap, sig_len);
    }
    uint8_t der[MBEDTLS_ECDSA_MAX_LEN];
    size_t der_len = 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    int ret = mbedtls_pk_sign(&cc->key, MBEDTLS_MD_SHA256, digest, BK_SHA256_SIZE, der, sizeof der,
                              &der_len, bk_cert_rng, NULL);
#else
    int ret = mbedtls_pk_sign(&cc->key, MBEDTLS_MD_SHA256, digest, BK_SHA256_SIZE, der, &der_len,
                              bk_cert_rng, NULL);
#endif
    if (ret != 0 || cap < 64) {
        cc->last_mbedtls_error = ret;
        return BK_ERR_CRYPTO;
    }
    bk_result r = bk_cert_der_to_raw(der, der_len, sig);
    if (r == BK_OK) {
        *sig_len = 64;
    }
    return r;
}

bk_signer bk_client_cert_signer(bk_client_cert *cc) {
    bk_signer s = {bk_cert_sign, cc};
    return s;
}

bk_result bk_client_cert_start(bk_client_cert *cc, const char *pem, size_t len,
                               const char *password, bk_certificate *out) {
    bk_result r = bk_client_cert_load(cc, pem, len, password);
    if (r != BK_OK) {
        bk_client_cert_free(cc);
        return r;
    }
    out->signer = bk_client_cert_signer(cc);
    out->alg = cc->ec ? BK_SIGN_ES256 : BK_SIGN_PS256;
    out->chain_der = cc->der;
    out->chain_len = cc->der_len;
    out->chain_count = cc->count;
    return BK_OK;
}
