/* SPDX-License-Identifier: MIT */
/* libFuzzer: every JSON model on the same input; each must succeed or fail cleanly, and a
 * failure must leave its output zeroed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void all_zero_or_trap(const void *p, size_t len) {
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        if (b[i] != 0) {
            __builtin_trap();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bk_json_token tokens[64];
    static bk_account_keys keys;
    static bk_batch_account account;
    static bk_cloud_error cloud_error;
    static bk_token token;
    static bk_entra_error entra_error;
    const char *text = (const char *)data;
    if (bk_parse_account_keys(text, size, tokens, 64, &keys) != BK_OK) {
        all_zero_or_trap(&keys, sizeof keys);
    }
    if (bk_parse_batch_account(text, size, tokens, 64, &account) != BK_OK) {
        all_zero_or_trap(&account, sizeof account);
    }
    if (bk_parse_cloud_error(text, size, tokens, 64, &cloud_error) != BK_OK) {
        all_zero_or_trap(&cloud_error, sizeof cloud_error);
    }
    if (bk_parse_token(text, size, tokens, 64, &token) != BK_OK) {
        all_zero_or_trap(&token, sizeof token);
    }
    if (bk_parse_entra_error(text, size, tokens, 64, &entra_error) != BK_OK) {
        all_zero_or_trap(&entra_error, sizeof entra_error);
    }
    return 0;
}
