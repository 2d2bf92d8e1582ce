/* SPDX-License-Identifier: MIT */
/* JSON answers of ARM and Entra ID, extracted into fixed buffers.
 *
 *     bk_json_token tokens[BK_JSON_TOKENS_MAX];
 *     bk_account_keys keys;
 *     r = bk_parse_account_keys(resp.body, resp.body_len, tokens, BK_JSON_TOKENS_MAX, &keys);
 *
 * Strings are unescaped (\uXXXX and surrogate pairs to UTF-8). Unknown fields are ignored. A field
 * the operation needs (keys, account name and endpoint, token, expiry) that is missing, given
 * twice, of the wrong type or longer than its field is an error; diagnostic text is cut and
 * marked instead (see bk_cloud_error). */
#ifndef BK_JSON_H
#define BK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_config.h"
#include "bk_result.h"

/* One token of the tokenizer (port/jsmn fills these; the layout matches jsmn's with
 * JSMN_PARENT_LINKS, and port/jsmn checks that at compile time). */
typedef enum bk_json_type {
    BK_JSON_UNDEFINED = 0,
    BK_JSON_OBJECT = 1,
    BK_JSON_ARRAY = 2,
    BK_JSON_STRING = 3,
    BK_JSON_PRIMITIVE = 4
} bk_json_type;

typedef struct bk_json_token {
    bk_json_type type;
    int start; /* byte offsets into the text */
    int end;
    int size;   /* members of an object (keys), entries of an array */
    int parent; /* index of the enclosing token, -1 at the root */
} bk_json_token;

/* The tokenizer seam, implemented in port/jsmn: tokenizes a whole document in strict mode.
 * BK_ERR_JSON_SYNTAX for text that is not JSON. BK_ERR_JSON_TOO_MANY_TOKENS when max is too
 * small; *count then holds max when the tokens cover a well-formed start of the document (a
 * prefix: containers not closed within it have end -1), else 0. */
BK_MUST_CHECK bk_result bk_json_tokenize(const char *text, size_t len, bk_json_token *tokens,
                                         size_t max, size_t *count);

/* A tokenized document. */
typedef struct bk_json_doc {
    const char *text;
    const bk_json_token *tokens;
    int count;
    bool prefix; /* the tokens cover only the start of the text (diagnostics readers only) */
} bk_json_doc;

/* Index of the value of key in the object at index obj, or -1 (also when obj is not an object).
 * Only direct members match; keys are compared byte for byte as they stand in the text (no
 * unescaping); the first of duplicate keys wins. */
int bk_json_find(const bk_json_doc *doc, int obj, const char *key);
/* The same for a field the operation needs: -1 when absent, -2 when more than one member has
 * that name, also when one of them spells it with escapes ("prim\u0061ry"). */
int bk_json_find_unique(const bk_json_doc *doc, int obj, const char *key);
/* Index of the token after the whole subtree at index i (doc->count when i is out of range or
 * the sizes announce more tokens than there are). */
int bk_json_skip(const bk_json_doc *doc, int i);

/* What a value is, once its spelling has been checked. */
typedef enum bk_json_kind {
    BK_JSON_KIND_OBJECT,
    BK_JSON_KIND_ARRAY,
    BK_JSON_KIND_STRING,
    BK_JSON_KIND_NUMBER,
    BK_JSON_KIND_TRUE,
    BK_JSON_KIND_FALSE,
    BK_JSON_KIND_NULL
} bk_json_kind;

/* Checks the value at i and says what it is. jsmn's strict mode passes primitives that are not
 * JSON (`tru`, `nul`, `01`, `1.2.3`, `-`, `1e`), so every primitive is checked before use:
 * BK_ERR_JSON_SYNTAX for a misspelt literal, BK_ERR_JSON_NUMBER for a malformed number. */
BK_MUST_CHECK bk_result bk_json_check(const bk_json_doc *doc, int i, bk_json_kind *kind);
/* Unescapes the string token at i into out (NUL-terminated); *out_len may be NULL. */
BK_MUST_CHECK bk_result bk_json_string(const bk_json_doc *doc, int i, char *out, size_t cap,
                                       size_t *out_len);
/* The same for diagnostic text, which never fails for being long: text that does not fit is cut
 * at a character boundary and ends in BK_CUT_MARK (bk_ascii.h), and *cut says so (may be NULL).
 * cap must exceed BK_CUT_MARK_LEN. */
BK_MUST_CHECK bk_result bk_json_string_cut(const bk_json_doc *doc, int i, char *out, size_t cap,
                                           bool *cut);
/* A non-negative integer, from a number or (where Entra sends one) a string of digits. A value
 * above max reads as max: the callers bound what they do with it (a token lifetime, an error
 * code), and an absurd value is no reason to lose the rest of the answer. */
BK_MUST_CHECK bk_result bk_json_uint(const bk_json_doc *doc, int i, bool allow_string, uint64_t max,
                                     uint64_t *out);

/* BatchAccountKeys */
typedef struct bk_account_keys {
    char account_name[25];
    char primary[BK_KEY_MAX + 1];
    char secondary[BK_KEY_MAX + 1];
} bk_account_keys;

#define BK_AUTH_MODE_SHARED_KEY 0x1u
#define BK_AUTH_MODE_AAD        0x2u
#define BK_AUTH_MODE_TASK_TOKEN 0x4u
#define BK_AUTH_MODE_OTHER      0x8u

/* BatchAccount, the fields batchkey uses */
typedef struct bk_batch_account {
    char name[25];
    char location[64];
    char account_endpoint[BK_HOST_MAX + 1];
    char provisioning_state[32];
    bool auth_modes_present; /* allowedAuthenticationModes was given and not null */
    unsigned auth_modes;     /* BK_AUTH_MODE_* bits */
    bool cut;                /* location or provisioning_state was cut to fit (and marked) */
} bk_batch_account;

/* One entry of CloudError/ErrorResponse details, flattened depth-first. */
typedef struct bk_error_detail {
    int depth; /* 1 for error.details[i], 2 for error.details[i].details[j], ... */
    char code[64];
    char message[BK_MESSAGE_MAX + 1];
    char target[128];
} bk_error_detail;

/* CloudError (old layout) and ErrorResponse (common-types v5, with additionalInfo). Diagnostics
 * only: text longer than its field is cut and ends in BK_CUT_MARK, entries beyond the room kept
 * are counted but left out, and a body with more JSON tokens than the caller's array is read as
 * far as the tokens reach (the service's code and message come first). */
typedef struct bk_cloud_error {
    char code[64];
    char message[BK_MESSAGE_MAX + 1];
    char target[128];
    bk_error_detail details[BK_ERROR_DETAILS_MAX];
    size_t detail_count;                                  /* kept in details */
    size_t detail_total;                                  /* seen in the answer */
    char additional_info_types[BK_ERROR_DETAILS_MAX][64]; /* additionalInfo[].type */
    size_t additional_info_count;                         /* kept */
    size_t additional_info_total;                         /* seen */
    bool cut; /* something was cut or left out, or the body was read only in part */
} bk_cloud_error;

/* expires_in above this (a day) reads as this: the client's clock arithmetic stays in range
 * whatever a token endpoint sends. */
#define BK_TOKEN_LIFETIME_MAX_S 86400u

/* The Entra v2.0 token response. */
typedef struct bk_token {
    char access_token[BK_TOKEN_MAX + 1];
    size_t access_token_len;
    char token_type[16];
    uint64_t expires_in_s;
} bk_token;

/* The Entra v2.0 error response; diagnostics, cut and counted like bk_cloud_error. */
typedef struct bk_entra_error {
    char error[64];
    char error_description[BK_MESSAGE_MAX + 1];
    uint32_t error_codes[8];
    size_t error_code_count; /* kept */
    size_t error_code_total; /* seen */
    char trace_id[40];
    char correlation_id[40];
    bool cut; /* something was cut or left out, or the body was read only in part */
} bk_entra_error;

BK_MUST_CHECK bk_result bk_parse_account_keys(const char *body, size_t len, bk_json_token *tokens,
                                              size_t max_tokens, bk_account_keys *out);
BK_MUST_CHECK bk_result bk_parse_batch_account(const char *body, size_t len, bk_json_token *tokens,
                                               size_t max_tokens, bk_batch_account *out);
BK_MUST_CHECK bk_result bk_parse_cloud_error(const char *body, size_t len, bk_json_token *tokens,
                                             size_t max_tokens, bk_cloud_error *out);
/* The Batch data plane's error body ({"code", "message": {"value"}}) into code and message. */
BK_MUST_CHECK bk_result bk_parse_batch_error(const char *body, size_t len, bk_json_token *tokens,
                                             size_t max_tokens, bk_cloud_error *out);
BK_MUST_CHECK bk_result bk_parse_token(const char *body, size_t len, bk_json_token *tokens,
                                       size_t max_tokens, bk_token *out);
/* A managed identity endpoint's token answer (App Service, Azure Arc, IMDS): numbers may come as
 * strings, and App Service gives only expires_on, which is measured against now_s. */
BK_MUST_CHECK bk_result bk_parse_mi_token(const char *body, size_t len, bk_json_token *tokens,
                                          size_t max_tokens, int64_t now_s, bk_token *out);
/* A managed identity endpoint's error: {"error", "error_description"} (IMDS, Azure Arc) or App
 * Service's {"statusCode", "message", "correlationId"} (error then "managed_identity_error"). */
BK_MUST_CHECK bk_result bk_parse_mi_error(const char *body, size_t len, bk_json_token *tokens,
                                          size_t max_tokens, bk_entra_error *out);
/* The device code answer (RFC 8628): the code to poll with is needed; the message is shown. */
typedef struct bk_device_code_answer {
    char device_code[BK_DEVICE_CODE_MAX + 1];
    char message[BK_MESSAGE_MAX + 1];
    uint64_t interval_s;   /* 5 when absent */
    uint64_t expires_in_s; /* 0 when absent */
} bk_device_code_answer;

BK_MUST_CHECK bk_result bk_parse_device_code(const char *body, size_t len, bk_json_token *tokens,
                                             size_t max_tokens, bk_device_code_answer *out);
/* The refresh_token of a token answer (needed: once, a string that fits). */
BK_MUST_CHECK bk_result bk_parse_refresh_token(const char *body, size_t len, bk_json_token *tokens,
                                               size_t max_tokens, char *out, size_t cap,
                                               size_t *out_len);
BK_MUST_CHECK bk_result bk_parse_entra_error(const char *body, size_t len, bk_json_token *tokens,
                                             size_t max_tokens, bk_entra_error *out);

#endif
