/* SPDX-License-Identifier: MIT */
/* The batchkey firmware of the mps2-an386 board: the command line every board shares
 * (boards/common/bk_cli.c), over mbedTLS with a static pool and lwIP on the LAN9118
 * (platform/lwip), under QEMU. It prints what the Linux CLI prints and exits with its codes.
 *
 * Everything it is given comes through semihosting, as boards/mps2-an386/run_batchkey.sh passes
 * it: the command line (SYS_GET_CMDLINE) `IMAGE @SETTINGS ARGS...`, where SETTINGS names a host
 * file of NAME=VALUE lines: the variables the CLI reads from its environment (AZURE_TENANT_ID,
 * AZURE_CLIENT_SECRET, BATCHKEY_ARM_ENDPOINT, BATCHKEY_CA_FILE...) and BK_BOARD_HOSTS, the host
 * table that stands in for DNS ("localhost=10.0.2.100"). The file is read into a static buffer
 * that serves as the environment: the CLI wipes the client secret in it after use, and the whole
 * buffer is wiped before exit. The CA file is read through semihosting as well (the board's
 * mbedTLS has no file I/O) and parsed from memory; there is no default bundle.
 *
 * At exit it writes on stderr the deepest stack, the mbedTLS pool's peak (the pool is painted
 * after mbedtls_memory_buffer_alloc_init; the highest word no longer holding the paint is as far
 * as the allocator ever reached) and lwIP's high-water marks: the lines size.sh adds to its
 * table. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lwip/init.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"

#include "bk_board.h"
#include "bk_board_net.h"
#include "bk_cli.h"
#include "bk_client_cert.h"
#include "bk_crypto.h"
#include "bk_semihost.h"
#include "bk_tls_connector.h"

/* The settings file: about 700 bytes for the emulator's, a long client secret included. */
#ifndef BK_BOARD_SETTINGS_MAX
#define BK_BOARD_SETTINGS_MAX 1024
#endif
#ifndef BK_BOARD_CMDLINE_MAX
#define BK_BOARD_CMDLINE_MAX 512
#endif
#ifndef BK_BOARD_ARGS_MAX
#define BK_BOARD_ARGS_MAX 32
#endif
/* One or two root certificates in PEM (DigiCert Global Root G2 is 1.3 KB). */
/* The largest client certificate file: a certificate and its key (RSA-2048: about 3 KB). */
#ifndef BK_BOARD_CERTIFICATE_MAX
#define BK_BOARD_CERTIFICATE_MAX 4096
#endif
#ifndef BK_BOARD_CA_MAX
#define BK_BOARD_CA_MAX 3072
#endif
/* mbedTLS's heap. Its peak in a handshake, measured on this board (`make size`): 27 KiB with the
 * emulator's ECDSA chain, 39 KiB with an RSA chain shaped like Azure's (RSA-4096 issuing CA,
 * make_rsa_pki.sh), whose real leaf certificates carry more names than the test one: 2 KiB more
 * for that. */
#ifndef BK_BOARD_MBEDTLS_POOL
#define BK_BOARD_MBEDTLS_POOL 41984
#endif

#define POOL_PAINT 0xc3a55a3cu

static char settings[BK_BOARD_SETTINGS_MAX];
static size_t settings_len;
static uint32_t pool[BK_BOARD_MBEDTLS_POOL / sizeof(uint32_t)];
static bk_tls_config tls;
static bk_tls_peers peers;

/* --- the environment: NAME=VALUE lines of the settings file --- */

static bool load_settings(const char *path) {
    int32_t len = bk_semihost_read_file(path, settings, sizeof settings);
    if (len < 0) {
        return false;
    }
    settings_len = (size_t)len;
    for (size_t i = 0; i < settings_len; i++) {
        if (settings[i] == '\n' || settings[i] == '\r') {
            settings[i] = '\0';
        }
    }
    return true;
}

static const char *board_getenv(const char *name) {
    size_t n = strlen(name);
    for (size_t at = 0; at < settings_len; at += strlen(&settings[at]) + 1) {
        const char *line = &settings[at];
        if (strncmp(line, name, n) == 0 && line[n] == '=') {
            return &line[n + 1];
        }
    }
    return NULL;
}

static bool board_readable(const char *path) {
    int32_t fd = bk_semihost_open(path, BK_SEMIHOST_MODE_RB);
    if (fd < 0) {
        return false;
    }
    bk_semihost_close(fd);
    return true;
}

/* --- TLS: the CA certificates from the host, the network, the connector --- */

/* The CA text lives on the stack only while it is parsed into the pool: the handshakes later
 * reach deeper than this, so it needs no RAM of its own (the deepest stack reported at exit
 * shows it). */
static bk_result load_ca(const char *ca_file) {
    char ca[BK_BOARD_CA_MAX];
    int32_t len = bk_semihost_read_file(ca_file, ca, sizeof ca);
    if (len <= 0) {
        return BK_ERR_TLS_CA;
    }
    /* PEM is parsed with its terminating NUL. */
    return bk_tls_config_init_ca(&tls, (const uint8_t *)ca, (size_t)len + 1);
}

static bk_result board_tls_start(const char *ca_file, uint32_t timeout_ms, bk_connector *out) {
    if (ca_file == NULL) {
        return BK_ERR_TLS_CA; /* no bundle of its own */
    }
    bk_result r = load_ca(ca_file);
    if (r != BK_OK) {
        return r;
    }
    r = bk_board_net_start(board_getenv("BK_BOARD_HOSTS"));
    if (r != BK_OK) {
        return r;
    }
    /* One TLS connection open at a time: the pool holds one set of record buffers. */
    *out = bk_tls_connector(&peers, &tls, timeout_ms);
    peers.max_open = 1;
    return BK_OK;
}

static void board_tls_stop(void) {
    bk_tls_config_free(&tls);
    bk_tls_global_free();
}

/* --- the certificate credential: its PEM from the host, its key in the mbedTLS pool --- */

static bk_client_cert client_cert;

static bk_result board_certificate_start(const char *path, const char *password,
                                         bk_certificate *out) {
    /* The PEM text stays in the mbedTLS pool only while it is parsed: the stack is too small
     * for it, and it needs no RAM of its own. */
    char *pem = mbedtls_calloc(1, BK_BOARD_CERTIFICATE_MAX);
    if (pem == NULL) {
        return BK_ERR_CLIENT_CERT;
    }
    int32_t len = bk_semihost_read_file(path, pem, BK_BOARD_CERTIFICATE_MAX);
    bk_result r = len <= 0 || (size_t)len >= BK_BOARD_CERTIFICATE_MAX
                      ? BK_ERR_CLIENT_CERT
                      : bk_client_cert_start(&client_cert, pem, (size_t)len, password, out);
    bk_wipe(pem, BK_BOARD_CERTIFICATE_MAX); /* the private key, maybe in clear */
    mbedtls_free(pem);
    return r;
}

static void board_certificate_stop(void) {
    bk_client_cert_free(&client_cert);
}

static void board_tls_describe(char *buf, size_t cap) {
    buf[0] = '\0';
    if (peers.last_mbedtls_error != 0 || peers.last_verify_flags != 0) {
        bk_tls_describe(peers.last_mbedtls_error, peers.last_verify_flags, buf, cap);
    }
}

static const bk_cli_board mps2_board = {
    .getenv = board_getenv,
    .readable = board_readable,
    .tls_start = board_tls_start,
    .tls_stop = board_tls_stop,
    .tls_describe = board_tls_describe,
    .certificate_start = board_certificate_start,
    .certificate_stop = board_certificate_stop,
    .version = MBEDTLS_VERSION_STRING_FULL ", lwIP " LWIP_VERSION_STRING,
    .default_ca = "(none: this board has no CA bundle of its own)",
    .default_ca_hint = ""};

/* --- the mbedTLS pool and its peak --- */

static void pool_start(void) {
    mbedtls_memory_buffer_alloc_init((unsigned char *)pool, sizeof pool);
    /* The allocator wrote its first header at the start; the rest is free space. */
    for (size_t i = 16; i < sizeof pool / sizeof pool[0]; i++) {
        pool[i] = POOL_PAINT;
    }
}

static size_t pool_peak(void) {
    size_t i = sizeof pool / sizeof pool[0];
    while (i > 16 && pool[i - 1] == POOL_PAINT) {
        i--;
    }
    return i * sizeof pool[0];
}

int main(void) {
    bk_board_stdio_start();
    bk_board_start();
    static char cmdline[BK_BOARD_CMDLINE_MAX];
    static char *argv[BK_BOARD_ARGS_MAX];
    int argc = bk_semihost_args(cmdline, sizeof cmdline, argv, BK_BOARD_ARGS_MAX);
    if (argc < 1) {
        fputs("batchkey: the command line does not fit the board's buffer\n", stderr);
        return 2;
    }
    /* argv[0] is the image; @SETTINGS comes first after it. */
    if (argc >= 2 && argv[1][0] == '@') {
        if (!load_settings(&argv[1][1])) {
            fprintf(stderr, "batchkey: cannot read the settings file %s (at most %u bytes)\n",
                    &argv[1][1], (unsigned)(sizeof settings - 1));
            return 2;
        }
        memmove(&argv[1], &argv[2], (size_t)(argc - 1) * sizeof argv[0]); /* with the NULL */
        argc--;
    }
    pool_start();

    int status = bk_cli_run(argc, argv, &mps2_board);

    bk_wipe(settings, sizeof settings);
    fflush(stdout);
    bk_board_stack_report();
    fprintf(stderr, "mbedTLS pool: peak %u of %u bytes\n", (unsigned)pool_peak(),
            (unsigned)sizeof pool);
    bk_board_net_report();
    fflush(stderr);
    return status;
}
