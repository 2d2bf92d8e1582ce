/* SPDX-License-Identifier: MIT */
/* The batchkey CLI's output formats.
 *
 *     bk_cli_print_keys(&keys, BK_KEY_PRIMARY, endpoint, BK_CLI_TSV);  // tab-separated
 */
#ifndef BK_CLI_OUTPUT_H
#define BK_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "bk_client.h"
#include "bk_json.h"
#include "bk_rotate.h"

typedef enum bk_cli_format {
    BK_CLI_JSON, /* the service's own field names */
    BK_CLI_TSV,  /* one line, tab-separated */
    BK_CLI_ENV,  /* export NAME=value lines a shell can eval, named as the Batch tools read them */
    BK_CLI_NONE  /* nothing: for timers whose logs must not hold keys */
} bk_cli_format;

/* The keys; env gives access_key's as AZURE_BATCH_ACCESS_KEY, with the account's endpoint (the
 * host name from the account's properties) as AZURE_BATCH_ENDPOINT. */
void bk_cli_print_keys(const bk_account_keys *keys, bk_key_name access_key,
                       const char *account_endpoint, bk_cli_format format);
void bk_cli_print_account(const bk_batch_account *account, bk_cli_format format);
/* Expiry and length of the token and which credential got it, never the token. */
void bk_cli_print_token(const bk_token *token, const char *credential, bk_cli_format format);
/* What a rotate run did (never a key); key_file is where the active key is published. */
void bk_cli_print_rotation(const bk_rotation *rot, const char *key_file, bk_cli_format format);
/* The rotation state: active slot, its age at now_s, the last rotation, a step in flight. */
void bk_cli_print_status(const bk_rotation_state *state, int64_t now_s, bk_cli_format format);
/* The active key for scripts; env as the Batch tools read it. */
void bk_cli_print_active_key(const bk_rotation_state *state, bk_cli_format format);
/* How a connection that failed was made: TLS's diagnosis (may be NULL or ""), and the proxy it
 * went through ("host:port", NULL or "" when direct) with the status of its refusal. */
typedef struct bk_cli_connection_detail {
    const char *tls;
    const char *proxy;
    int proxy_status;
} bk_cli_connection_detail;

/* The one line on stderr that says what failed: the service's own code and message when it gave
 * one, and the request ids to quote to Azure support. After BK_ERR_OUTCOME_UNKNOWN it tells the
 * regenerate's story first, then the listKeys that read what the service holds now. detail (may
 * be NULL) explains a connection that failed. */
void bk_cli_report_failure(const char *what, bk_result result, const bk_client *client,
                           const bk_cli_connection_detail *detail);
/* Text from the service or the user on one line: control characters become spaces, or end the
 * text where first_line_only (Entra's descriptions go on with "\r\nTrace ID: ..."). */
void bk_cli_print_one_line(FILE *out, const char *text, bool first_line_only);

#endif
