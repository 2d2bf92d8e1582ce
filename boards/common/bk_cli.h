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
#include "bk_entra.h"
#include "bk_platform.h"
#include "bk_proxy.h"
#include "bk_session.h"

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
    /* Opens the store of the state directory (creating it, mode 0700, when create is set; else
     * BK_ERR_STORE_NOT_FOUND when it is missing) and holds it for this process alone; NULL on a
     * board without one. On failure, describe tells which file and why. */
    bk_result (*store_open)(const char *state_dir, bool create, bk_store *out);
    void (*store_describe)(char *buf, size_t cap);
    /* Runs a deploy hook (a shell command) with BATCHKEY_ACCOUNT, BATCHKEY_ACTIVE_SLOT and
     * BATCHKEY_KEY_FILE in its environment, and no secret; its exit status, or -1 when it could
     * not be started. NULL on a board without processes. */
    int (*run_hook)(const char *command, const char *account, const char *slot,
                    const char *key_file);
    const char *default_state_dir; /* when neither --state-dir nor BATCHKEY_STATE_DIR is given */
    /* Reads a whole file into buf (NUL-terminated; *len without it); BK_ERR_STORE_TOO_LARGE
     * when it does not fit. NULL: no files (workload identity is not offered). */
    bk_result (*read_file)(const char *path, char *buf, size_t cap, size_t *len);
    /* Loads a client certificate and its key (a PEM file, the key possibly encrypted) and fills
     * out's signer, chain and alg (BK_SIGN_ES256 for an EC key); certificate_stop frees them.
     * NULL: no certificate credential on this board. */
    bk_result (*certificate_start)(const char *path, const char *password, bk_certificate *out);
    void (*certificate_stop)(void);
    /* Azure Arc's challenge file (bk_managed_identity.h): a regular file, no symbolic link, at
     * most cap - 1 bytes. NULL: no Arc on this board. */
    bk_result (*read_arc_secret)(void *ctx, const char *path, char *buf, size_t cap, size_t *len);
    /* The connector's TLS session for a peer (bk_session.h), which the command line loads from
     * the state directory before the first connection and saves after the last; NULL: no
     * resumption on this board. */
    bk_tls_session *(*tls_session)(bk_peer peer);
    /* Opens the store of an existing state directory without creating or locking it (TLS
     * sessions are a cache: a lost record costs one full handshake). */
    bk_result (*cache_open)(const char *state_dir, bk_store *out);
    /* Sends later connections through an HTTP proxy's tunnel, except to the hosts no_proxy
     * names (bk_proxy.h; both outlive the connector). NULL: no proxies on this board. */
    void (*proxy_set)(const bk_proxy *proxy, const char *no_proxy);
    /* True when the last connection opened (or tried) went through the proxy: "host:port" of
     * the proxy into buf, and the status of its refusal (0: none) in *status. */
    bool (*proxy_describe)(char *buf, size_t cap, int *status);
    const char *version;         /* of the TLS library, for --version */
    const char *default_ca;      /* where the default CA certificates come from */
    const char *default_ca_hint; /* what to do when they are missing, e.g. ", or install ..." */
} bk_cli_board;

/* Runs the command line in argv and returns its exit code (0 ok ... 8 outcome unknown). */
int bk_cli_run(int argc, char **argv, const bk_cli_board *board);

#endif
