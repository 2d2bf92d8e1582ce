/* SPDX-License-Identifier: MIT */
/* mbedTLS 3.6 for a Cortex-M4 with 128 KiB of flash and 64 KiB of RAM: a TLS 1.2 and 1.3 client,
 * nothing else. It replaces mbedtls_config.h whole
 * (-DMBEDTLS_CONFIG_FILE='"bk_mbedtls_config_m4.h"', boards/mps2-an386/mbedtls.mk) and is also the
 * PSA crypto config (see PSA below). mbedTLS's check_config.h rejects an inconsistent set at build
 * time.
 *
 * What it must do: verify Azure's front ends (RSA chains: 2048-bit leaves under 4096-bit
 * issuing CAs under DigiCert Global Root G2, PKCS#1 v1.5 with SHA-256/384; ECDSA P-384 chains
 * under G3; RSA-PSS in TLS 1.3's CertificateVerify) and the local emulator (Python ssl, the
 * ECDSA P-256/SHA-256 test PKI of tests/emulator/make_test_pki.sh), with ECDHE on P-256 or P-384
 * and AES-GCM; SHA-256, HMAC and base64 for port/mbedtls/bk_crypto_mbedtls.c.
 *
 * What the board gives it (port/mbedtls/bk_mbedtls_platform.c binds these to the platform
 * contract): entropy (bk_entropy, as mbedtls_hardware_poll), the wall clock (bk_wall_clock_s)
 * for certificate validity, a millisecond clock, and a static pool given to
 * mbedtls_memory_buffer_alloc_init() before the first mbedTLS call. The pool's peak, measured on
 * the host with this file (64-bit, so an upper bound): 38 KiB for TLS 1.3 with an RSA-4096
 * issuing CA, 27-29 KiB with ECDSA chains; the 16 KiB input buffer is most of it.
 *
 * -DBK_MBEDTLS_ECDSA_ONLY (M4_MBEDTLS_EXTRA) drops RSA: for peers whose whole chain is ECDSA
 * (Azure's front ends serve RSA chains, so not for Azure without checking what it sends).
 *
 * -DBK_MBEDTLS_TLS12_ONLY (M4_MBEDTLS_EXTRA in mbedtls.mk) drops TLS 1.3 and PSA: 20 KiB less
 * flash, 4 KiB less pool. It also avoids a 3.6.6 regression (trixie's version, fixed upstream
 * after it: Mbed-TLS/mbedtls#10668): a client that offers TLS 1.3 also offers rsa_pss_rsae_* to a
 * TLS 1.2 server, then refuses the ServerKeyExchange of one that picks it (OpenSSL does, with an
 * RSA certificate): MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER. */
#ifndef BK_MBEDTLS_CONFIG_M4_H
#define BK_MBEDTLS_CONFIG_M4_H

/* --- system --- */

/* The Thumb-2 UMAAL multiply-accumulate of bn_mul.h: several times faster RSA and ECC. */
#define MBEDTLS_HAVE_ASM
/* Certificates are checked against the wall clock; without it expiry would go unchecked. */
#define MBEDTLS_HAVE_TIME
#define MBEDTLS_HAVE_TIME_DATE
#include <time.h>
time_t bk_mbedtls_time(time_t *now);
#define MBEDTLS_PLATFORM_TIME_MACRO bk_mbedtls_time
/* Off Unix mbedTLS would call gmtime(), which newlib backs with malloc: the port calls gmtime_r. */
#define MBEDTLS_PLATFORM_GMTIME_R_ALT
/* mbedtls_ms_time() has no bare-metal default; the port maps it to bk_monotonic_ms(). */
#define MBEDTLS_PLATFORM_MS_TIME_ALT

/* Every allocation comes from the board's static pool. NO_STD_FUNCTIONS keeps libc's calloc and
 * free out of the image: until the pool is set up mbedtls_calloc fails. */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO snprintf
#define MBEDTLS_MEMORY_BUFFER_ALLOC_C

/* No /dev/urandom: the board's source, which mbedtls_entropy_init gives every entropy context
 * (bk_tls.c's, and PSA's own RNG that makes TLS 1.3's ECDHE keys). */
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT
/* That source and the one bk_tls.c adds: each entropy context holds this many slots. */
#define MBEDTLS_ENTROPY_MAX_SOURCES 2

#define MBEDTLS_DEPRECATED_REMOVED

/* --- TLS --- */

#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#if !defined(BK_MBEDTLS_ECDSA_ONLY)
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define BK_MBEDTLS_RSA_128 MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
#define BK_MBEDTLS_RSA_256 , MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
#else
#define BK_MBEDTLS_RSA_128
#define BK_MBEDTLS_RSA_256
#endif
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#if !defined(BK_MBEDTLS_TLS12_ONLY)
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
/* Some middleboxes drop TLS 1.3 handshakes that do not look like TLS 1.2 resumptions. */
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
/* Required by mbedTLS's TLS 1.3 (check_config.h): the peer's chain stays in the pool for the
 * connection's life (about 3 KiB for Azure's two certificates). */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
#define BK_MBEDTLS_TLS13_SUITES                                                                    \
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256, MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
#else
#define BK_MBEDTLS_TLS13_SUITES
#endif
#define MBEDTLS_SSL_CIPHERSUITES                                                                   \
    BK_MBEDTLS_TLS13_SUITES MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,                       \
        BK_MBEDTLS_RSA_128 MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 BK_MBEDTLS_RSA_256
/* SNI: Azure's front ends pick the certificate by it. */
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
/* The peer learns why a handshake was refused. */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES

/* Records: the input buffer must hold a whole 16 KiB record (Azure is not known to honour
 * max_fragment_length). Output carries a ClientHello of a few hundred bytes and our requests, the
 * largest about 5 KiB: mbedtls_ssl_write takes 2 KiB at a time and the stream's send loop sends
 * the rest in the next records. 14 KiB of pool saved per connection. */
#ifndef MBEDTLS_SSL_IN_CONTENT_LEN
#define MBEDTLS_SSL_IN_CONTENT_LEN 16384
#endif
#ifndef MBEDTLS_SSL_OUT_CONTENT_LEN
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048
#endif
/* Left out: session tickets and resumption (one short connection at a time; TLS 1.3 tickets are
 * read and dropped), renegotiation, max_fragment_length, ALPN, encrypt-then-MAC (CBC only),
 * DTLS, context serialization, keying material export, early data, the server side. */

/* --- X.509 --- */

#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
/* No mbedtls_x509_crt_info/verify_info text: bk_tls.c prints the verify flags in hex instead. */
#define MBEDTLS_X509_REMOVE_INFO
/* Also what makes mbedTLS offer rsa_pss_rsae_* in TLS 1.3, the only RSA signatures TLS 1.3
 * allows in CertificateVerify: without it Azure's RSA front ends refuse TLS 1.3. */
#if !defined(BK_MBEDTLS_ECDSA_ONLY)
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#endif
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_OID_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C

/* --- crypto --- */

#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA384_C
/* About 1.5 KiB less code each for some 30% slower hashing: handshakes hash little. */
#define MBEDTLS_SHA256_SMALLER
#define MBEDTLS_SHA512_SMALLER

#define MBEDTLS_AES_C
#define MBEDTLS_GCM_C
/* TLS 1.2's record layer goes through it (its unused modes and tables drop out at link). */
#define MBEDTLS_CIPHER_C
/* GCM only ever runs AES forward: no decryption code or tables. */
#define MBEDTLS_BLOCK_CIPHER_NO_DECRYPT
/* The one remaining AES table in flash, not built in RAM (8 KiB of RAM saved, 2 KiB of flash). */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES

#define MBEDTLS_BIGNUM_C
/* RSA-4096 at most (Azure's issuing CAs); also bounds the stack buffers of RSA verification. */
#define MBEDTLS_MPI_MAX_SIZE 512
/* Only verification, with e = 65537, which uses window 1 whatever the setting: no tables. */
#define MBEDTLS_MPI_WINDOW_SIZE 1
#if !defined(BK_MBEDTLS_ECDSA_ONLY)
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21
#endif

#define MBEDTLS_ECP_C
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
/* Fast reduction modulo the NIST primes: a few times faster for about 1 KiB of code. */
#define MBEDTLS_ECP_NIST_OPTIM
/* Point tables of 2 points instead of 8 (about 1 KiB less pool on P-384), some 25% slower. */
#define MBEDTLS_ECP_WINDOW_SIZE 2
/* No precomputed generator tables: 4 KiB of flash for P-256 and P-384 together. */
#define MBEDTLS_ECP_FIXED_POINT_OPTIM 0

/* --- PSA: what TLS 1.3 does through it, and only that --- */

#if !defined(BK_MBEDTLS_TLS12_ONLY)
#define MBEDTLS_PSA_CRYPTO_C
/* Not MBEDTLS_USE_PSA_CRYPTO: TLS 1.2, X.509 and PK keep their direct calls, which through PSA
 * cost 6 KiB more flash (and without MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS two pool copies of
 * each 16 KiB record). */
/* The PSA config is the PSA_WANT list below: its file is this one, read again as a no-op. The
 * list holds what TLS 1.3 asks of PSA (transcript hashes, HKDF and HMAC for the key schedule,
 * ECDH key shares, AES-GCM); PSA derived from the options above would carry RSA, ECDSA, the
 * TLS 1.2 PRF and more in psa_crypto.c's dispatch: 3 KiB. */
#define MBEDTLS_PSA_CRYPTO_CONFIG
#define MBEDTLS_PSA_CRYPTO_CONFIG_FILE          "bk_mbedtls_config_m4.h"
#define PSA_WANT_ALG_SHA_256                    1
#define PSA_WANT_ALG_SHA_384                    1
#define PSA_WANT_ALG_HMAC                       1
#define PSA_WANT_KEY_TYPE_HMAC                  1
#define PSA_WANT_ALG_HKDF_EXTRACT               1
#define PSA_WANT_ALG_HKDF_EXPAND                1
#define PSA_WANT_ALG_ECDH                       1
#define PSA_WANT_ECC_SECP_R1_256                1
#define PSA_WANT_ECC_SECP_R1_384                1
#define PSA_WANT_KEY_TYPE_ECC_PUBLIC_KEY        1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_BASIC    1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_IMPORT   1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_EXPORT   1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_GENERATE 1
#define PSA_WANT_ALG_GCM                        1
#define PSA_WANT_KEY_TYPE_AES                   1
#define MBEDTLS_HKDF_C
/* One thread, no memory shared with another domain: PSA may work in the caller's buffers instead
 * of copying each one into the pool first. */
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS
/* A fixed table of key slots, no heap slices. A TLS 1.3 handshake holds one key at a time (it
 * passes with a table of one); three spare. */
#define MBEDTLS_PSA_KEY_SLOT_COUNT 4
#endif

/* Off on purpose: MBEDTLS_NET_C and MBEDTLS_FS_IO (no sockets, no files: the stream and the
 * in-memory CA), MBEDTLS_TIMING_C, MBEDTLS_DEBUG_C, MBEDTLS_ERROR_C (bk_tls.c prints codes
 * only), MBEDTLS_THREADING_C, MBEDTLS_SELF_TEST, MBEDTLS_VERSION_C, SHA-1, MD5, CBC, ChaCha20,
 * x25519, finite-field DH, RSA key exchange, CRL and CSR parsing, every writer, PSA key
 * storage. */

#endif
