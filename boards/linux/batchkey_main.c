/* SPDX-License-Identifier: MIT */
/* The batchkey CLI on Linux: the shared command line over the process environment, files, and
 * mbedTLS on POSIX sockets. */
#include <stdlib.h>
#include <unistd.h>

#include "bk_cli.h"
#include "bk_tls_connector.h"

static bk_tls_config tls;
static bk_tls_peers peers;

static const char *linux_getenv(const char *name) {
    return getenv(name);
}

static bool linux_readable(const char *path) {
    return access(path, R_OK) == 0;
}

static bk_result linux_tls_start(const char *ca_file, uint32_t timeout_ms, bk_connector *out) {
    bk_result r = bk_tls_config_init(&tls, ca_file);
    if (r == BK_OK) {
        *out = bk_tls_connector(&peers, &tls, timeout_ms);
    }
    return r;
}

static void linux_tls_stop(void) {
    bk_tls_config_free(&tls);
    bk_tls_global_free();
}

static void linux_tls_describe(char *buf, size_t cap) {
    buf[0] = '\0';
    if (peers.last_mbedtls_error != 0 || peers.last_verify_flags != 0) {
        bk_tls_describe(peers.last_mbedtls_error, peers.last_verify_flags, buf, cap);
    }
}

static const bk_cli_board linux_board = {
    linux_getenv,          linux_readable,
    linux_tls_start,       linux_tls_stop,
    linux_tls_describe,    MBEDTLS_VERSION_STRING_FULL,
    BK_TLS_SYSTEM_CA_FILE, ", or install Debian's ca-certificates"};

int main(int argc, char **argv) {
    return bk_cli_run(argc, argv, &linux_board);
}
