/* SPDX-License-Identifier: MIT */
/* The batchkey command line, shared by every board that runs it: the Linux CLI and the
 * firmware images print the same output and end with the same exit codes.
 *
 *     static const bk_cli_board linux_board = {getenv_fn, readable_fn, ...};
 *     int main(int argc, char **argv) { return bk_cli_run(argc, argv, &linux_board); }
 */
#ifndef BK_CLI_H
#define BK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_client.h"

/* What a board gives the command line. */
typedef struct bk_cli_board {
    /* A setting by its variable name (AZURE_TENANT_ID, ...), or NULL when unset. The storage
     * must be writable: the client secret is wiped in it after use. */
    const char *(*getenv)(const char *name);
    /* Whether the CA file can be read (checked before anything is sent). */
    bool (*readable)(const char *path);
    /* Loads the CA certificates (ca_file NULL: the board's own default) and gives the
     * connector whose every connect or wait takes at most timeout_ms. */
    bk_result (*tls_start)(const char *ca_file, uint32_t timeout_ms, bk_connector *out);
    void (*tls_stop)(void);
    /* One line about the last failed connection (TLS error, verify flags), or "". */
    void (*tls_describe)(char *buf, size_t cap);
    const char *version;         /* of the TLS library, for --version */
    const char *default_ca;      /* where the default CA certificates come from */
    const char *default_ca_hint; /* what to do when they are missing, e.g. ", or install ..." */
} bk_cli_board;

/* Runs the command line in argv and returns its exit code (0 ok ... 8 outcome unknown). */
int bk_cli_run(int argc, char **argv, const bk_cli_board *board);

#endif
