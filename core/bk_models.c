/* SPDX-License-Identifier: MIT */
/* The JSON answers batchkey reads from ARM and Entra ID, each into its fixed struct.
 *
 * Two kinds of field. What an operation needs (keys, account name and endpoint, the token and its
 * lifetime) must be there once, and must fit: a missing, repeated or overlong one fails the parse.
 * Diagnostics (error codes and messages, targets, details, ids, location, state) never fail an
 * answer: text that does not fit is cut and marked, entries beyond a field's room are counted and
 * left out, and an error body with more tokens than there is room for is read as far as it goes.
 *
 * Every parser clears its out struct first and wipes it again on failure, so a caller never sees
 * half a result (and a failed token or key parse leaves no secret behind). */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_crypto.h"
#include "bk_json.h"

/* Tokenizes body; the root of every model is an object. With read_prefix, a body with more
 * tokens than there is room for is read as far as the tokens reach (doc->prefix). */
static bk_result bk_model_open(const char *body, size_t len, bk_json_token *tokens,
                               size_t max_tokens, bool read_prefix, bk_json_doc *doc) {
    size_t count = 0;
    if (body == NULL || tokens == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_result r = bk_json_tokenize(body, len, tokens, max_tokens, &count);
    doc->prefix = false;
    if (r == BK_ERR_JSON_TOO_MANY_TOKENS && read_prefix && count > 0) {
        doc->prefix = true;
        r = BK_OK;
    }
    if (r != BK_OK) {
        return r;
    }
    if (count == 0 || count > (size_t)INT_MAX) {
        return BK_ERR_JSON_SYNTAX; /* the tokenizer promises neither; do not index past it */
    }
    doc->text = body;
    doc->tokens = tokens;
    doc->count = (int)count;
    return tokens[0].type == BK_JSON_OBJECT ? BK_OK : BK_ERR_JSON_TYPE;
}

/* Every model: clear out, tokenize, read; on any failure nothing is left in out. */
typedef bk_result (*bk_model_reader)(const bk_json_doc *doc, void *out);

static bk_result bk_model_parse(const char *body, size_t len, bk_json_token *tokens,
                                size_t max_tokens, bool read_prefix, bk_model_reader read,
                                void *out, size_t out_size) {
    if (out == NULL) {
        return BK_ERR_ARGUMENT;
    }
    memset(out, 0, out_size);
    bk_json_doc doc;
    bk_result r = bk_model_open(body, len, tokens, max_tokens, read_prefix, &doc);
    if (r == BK_OK) {
        r = read(&doc, out);
    }
    if (r != BK_OK) {
        bk_wipe(out, out_size);
    }
    return r;
}

typedef enum bk_field {
    BK_FIELD_OPTIONAL, /* may be absent or null */
    BK_FIELD_REQUIRED, /* must be there, not null (the first of duplicates wins) */
    BK_FIELD_ONCE,     /* optional, and never given twice: the operation acts on it */
    BK_FIELD_NEEDED    /* required, and given exactly once: the operation acts on it */
} bk_field;

/* Finds key in the object obj and checks its value is of kind want. *at is -1 when an optional
 * key is absent or null. */
static bk_result bk_model_field(const bk_json_doc *doc, int obj, const char *key, bk_field field,
                                bk_json_kind want, int *at) {
    *at = -1;
    bool once = field == BK_FIELD_ONCE || field == BK_FIELD_NEEDED;
    bool optional = field == BK_FIELD_OPTIONAL || field == BK_FIELD_ONCE;
    int v = once ? bk_json_find_unique(doc, obj, key) : bk_json_find(doc, obj, key);
    if (v == -2) {
        return BK_ERR_JSON_DUPLICATE_KEY;
    }
    if (v < 0) {
        return optional ? BK_OK : BK_ERR_JSON_MISSING_FIELD;
    }
    bk_json_kind kind;
    bk_result r = bk_json_check(doc, v, &kind);
    if (r != BK_OK) {
        return r;
    }
    if (kind == BK_JSON_KIND_NULL) {
        return optional ? BK_OK : BK_ERR_JSON_TYPE;
    }
    if (kind != want) {
        return BK_ERR_JSON_TYPE;
    }
    *at = v;
    return BK_OK;
}

/* A needed string copied (unescaped) into out; longer than out is an error. */
static bk_result bk_model_string(const bk_json_doc *doc, int obj, const char *key, char *out,
                                 size_t cap, size_t *out_len) {
    int v;
    bk_result r = bk_model_field(doc, obj, key, BK_FIELD_NEEDED, BK_JSON_KIND_STRING, &v);
    if (r != BK_OK) {
        return r;
    }
    return bk_json_string(doc, v, out, cap, out_len);
}

/* A diagnostic string: cut and marked to fit, *cut set when it was; out stays empty when an
 * optional one is absent. */
static bk_result bk_model_text(const bk_json_doc *doc, int obj, const char *key, bk_field field,
                               char *out, size_t cap, bool *cut) {
    int v;
    bk_result r = bk_model_field(doc, obj, key, field, BK_JSON_KIND_STRING, &v);
    if (r != BK_OK || v < 0) {
        return r;
    }
    bool was_cut = false;
    r = bk_json_string_cut(doc, v, out, cap, &was_cut);
    *cut = *cut || was_cut;
    return r;
}

/* Checks that every entry of the array at arr is of kind want. */
static bk_result bk_model_entries_are(const bk_json_doc *doc, int arr, bk_json_kind want) {
    int entries = doc->tokens[arr].size;
    int e = arr + 1;
    for (int n = 0; n < entries; n++) {
        bk_json_kind kind;
        bk_result r = bk_json_check(doc, e, &kind);
        if (r != BK_OK) {
            return r;
        }
        if (kind != want) {
            return BK_ERR_JSON_TYPE;
        }
        e = bk_json_skip(doc, e);
    }
    return BK_OK;
}

/* --- BatchAccountKeys --- */

static bk_result bk_read_account_keys(const bk_json_doc *doc, void *model) {
    bk_account_keys *out = model;
    bk_result r =
        bk_model_string(doc, 0, "accountName", out->account_name, sizeof out->account_name, NULL);
    if (r == BK_OK) {
        r = bk_model_string(doc, 0, "primary", out->primary, sizeof out->primary, NULL);
    }
    if (r == BK_OK) {
        r = bk_model_string(doc, 0, "secondary", out->secondary, sizeof out->secondary, NULL);
    }
    return r;
}

bk_result bk_parse_account_keys(const char *body, size_t len, bk_json_token *tokens,
                                size_t max_tokens, bk_account_keys *out) {
    return bk_model_parse(body, len, tokens, max_tokens, false, bk_read_account_keys, out,
                          sizeof *out);
}

/* --- BatchAccount --- */

static bk_result bk_read_auth_modes(const bk_json_doc *doc, int props, bk_batch_account *out) {
    int arr;
    bk_result r = bk_model_field(doc, props, "allowedAuthenticationModes", BK_FIELD_ONCE,
                                 BK_JSON_KIND_ARRAY, &arr);
    if (r != BK_OK || arr < 0) {
        return r;
    }
    r = bk_model_entries_are(doc, arr, BK_JSON_KIND_STRING);
    if (r != BK_OK) {
        return r;
    }
    out->auth_modes_present = true;
    int entries = doc->tokens[arr].size;
    int e = arr + 1;
    for (int n = 0; n < entries; n++, e = bk_json_skip(doc, e)) {
        /* ARM compares enum values without regard to case. Longer than any mode we know: a
         * mode from a newer API, not an error. */
        char mode[32];
        size_t mode_len = 0;
        r = bk_json_string(doc, e, mode, sizeof mode, &mode_len);
        if (r == BK_ERR_JSON_FIELD_OVERFLOW) {
            out->auth_modes |= BK_AUTH_MODE_OTHER;
            continue;
        }
        if (r != BK_OK) {
            return r;
        }
        if (bk_ascii_ieq(mode, mode_len, "SharedKey")) {
            out->auth_modes |= BK_AUTH_MODE_SHARED_KEY;
        } else if (bk_ascii_ieq(mode, mode_len, "AAD")) {
            out->auth_modes |= BK_AUTH_MODE_AAD;
        } else if (bk_ascii_ieq(mode, mode_len, "TaskAuthenticationToken")) {
            out->auth_modes |= BK_AUTH_MODE_TASK_TOKEN;
        } else {
            out->auth_modes |= BK_AUTH_MODE_OTHER;
        }
    }
    return BK_OK;
}

static bk_result bk_read_batch_account(const bk_json_doc *doc, void *model) {
    bk_batch_account *out = model;
    int props = -1;
    bk_result r = bk_model_string(doc, 0, "name", out->name, sizeof out->name, NULL);
    if (r == BK_OK) {
        r = bk_model_text(doc, 0, "location", BK_FIELD_REQUIRED, out->location,
                          sizeof out->location, &out->cut);
    }
    if (r == BK_OK) {
        r = bk_model_field(doc, 0, "properties", BK_FIELD_NEEDED, BK_JSON_KIND_OBJECT, &props);
    }
    if (r == BK_OK) {
        r = bk_model_string(doc, props, "accountEndpoint", out->account_endpoint,
                            sizeof out->account_endpoint, NULL);
    }
    if (r == BK_OK) {
        r = bk_model_text(doc, props, "provisioningState", BK_FIELD_REQUIRED,
                          out->provisioning_state, sizeof out->provisioning_state, &out->cut);
    }
    if (r == BK_OK) {
        r = bk_read_auth_modes(doc, props, out);
    }
    return r;
}

bk_result bk_parse_batch_account(const char *body, size_t len, bk_json_token *tokens,
                                 size_t max_tokens, bk_batch_account *out) {
    return bk_model_parse(body, len, tokens, max_tokens, false, bk_read_batch_account, out,
                          sizeof *out);
}

/* --- CloudError and ErrorResponse --- */

static bool bk_model_key_is(const bk_json_doc *doc, int k, const char *key) {
    const bk_json_token *tok = &doc->tokens[k];
    size_t key_len = strlen(key);
    return tok->type == BK_JSON_STRING && tok->end >= tok->start &&
           (size_t)(tok->end - tok->start) == key_len &&
           memcmp(doc->text + tok->start, key, key_len) == 0;
}

/* How deep the token j sits in the chain error.details[].details[]..., or 0 when it is not an
 * entry of that chain (for example an object inside additionalInfo[].info). Walks parent links
 * instead of recursing, so deep nesting costs no stack. */
static int bk_detail_depth(const bk_json_doc *doc, int error_obj, int j) {
    int depth = 0;
    while (j != error_obj) {
        if (j < 0 || doc->tokens[j].type != BK_JSON_OBJECT) {
            return 0;
        }
        int arr = doc->tokens[j].parent;
        if (arr < 0 || doc->tokens[arr].type != BK_JSON_ARRAY) {
            return 0;
        }
        int key = doc->tokens[arr].parent;
        if (key < 0 || !bk_model_key_is(doc, key, "details")) {
            return 0;
        }
        depth++;
        j = doc->tokens[key].parent;
    }
    return depth;
}

/* code, message and target of one error body, and the shape of its details. code and message
 * are required at the top of a whole body; inside details, or in a body read only in part, they
 * are kept when present, so that one terse entry does not hide the service's main error. */
static bk_result bk_read_error_body(const bk_json_doc *doc, int obj, bool top, char *code,
                                    size_t code_cap, char *message, size_t message_cap,
                                    char *target, size_t target_cap, bool *cut) {
    bk_field wanted = top && !doc->prefix ? BK_FIELD_REQUIRED : BK_FIELD_OPTIONAL;
    int details = -1;
    bk_result r = bk_model_text(doc, obj, "code", wanted, code, code_cap, cut);
    if (r == BK_OK) {
        r = bk_model_text(doc, obj, "message", wanted, message, message_cap, cut);
    }
    if (r == BK_OK) {
        r = bk_model_text(doc, obj, "target", BK_FIELD_OPTIONAL, target, target_cap, cut);
    }
    if (r == BK_OK) {
        r = bk_model_field(doc, obj, "details", BK_FIELD_OPTIONAL, BK_JSON_KIND_ARRAY, &details);
    }
    if (r == BK_OK && details >= 0) {
        r = bk_model_entries_are(doc, details, BK_JSON_KIND_OBJECT);
    }
    return r;
}

static bk_result bk_read_additional_info(const bk_json_doc *doc, int error_obj,
                                         bk_cloud_error *out) {
    int arr;
    bk_result r = bk_model_field(doc, error_obj, "additionalInfo", BK_FIELD_OPTIONAL,
                                 BK_JSON_KIND_ARRAY, &arr);
    if (r == BK_OK && arr >= 0) {
        r = bk_model_entries_are(doc, arr, BK_JSON_KIND_OBJECT);
    }
    if (r != BK_OK || arr < 0) {
        return r;
    }
    const size_t cap = sizeof out->additional_info_types / sizeof out->additional_info_types[0];
    int entries = doc->tokens[arr].size;
    int e = arr + 1;
    for (int n = 0; n < entries; n++, e = bk_json_skip(doc, e)) {
        out->additional_info_total++;
        if (out->additional_info_count == cap) {
            out->cut = true;
            continue;
        }
        char *type = out->additional_info_types[out->additional_info_count];
        r = bk_model_text(doc, e, "type", BK_FIELD_OPTIONAL, type,
                          sizeof out->additional_info_types[0], &out->cut);
        if (r != BK_OK) {
            return r;
        }
        out->additional_info_count++;
    }
    return BK_OK;
}

static bk_result bk_read_cloud_error(const bk_json_doc *doc, void *model) {
    bk_cloud_error *out = model;
    out->cut = doc->prefix;
    int error_obj;
    bk_result r =
        bk_model_field(doc, 0, "error", BK_FIELD_REQUIRED, BK_JSON_KIND_OBJECT, &error_obj);
    if (r == BK_OK) {
        r = bk_read_error_body(doc, error_obj, true, out->code, sizeof out->code, out->message,
                               sizeof out->message, out->target, sizeof out->target, &out->cut);
    }
    if (r == BK_OK) {
        r = bk_read_additional_info(doc, error_obj, out);
    }
    if (r != BK_OK) {
        return r;
    }
    /* Tokens are in document order, so visiting them in turn walks the details tree depth-first:
     * each entry comes before its own details and after its earlier siblings' subtrees. */
    const size_t cap = sizeof out->details / sizeof out->details[0];
    int end = bk_json_skip(doc, error_obj);
    for (int j = error_obj + 1; j < end; j++) {
        int depth = bk_detail_depth(doc, error_obj, j);
        if (depth == 0) {
            continue;
        }
        out->detail_total++;
        if (out->detail_count == cap) {
            out->cut = true;
            continue;
        }
        bk_error_detail *d = &out->details[out->detail_count];
        d->depth = depth;
        r = bk_read_error_body(doc, j, false, d->code, sizeof d->code, d->message,
                               sizeof d->message, d->target, sizeof d->target, &out->cut);
        if (r != BK_OK) {
            return r;
        }
        out->detail_count++;
    }
    return BK_OK;
}

bk_result bk_parse_cloud_error(const char *body, size_t len, bk_json_token *tokens,
                               size_t max_tokens, bk_cloud_error *out) {
    return bk_model_parse(body, len, tokens, max_tokens, true, bk_read_cloud_error, out,
                          sizeof *out);
}

/* The Batch data plane's error: {"code", "message": {"lang", "value"}, "values": [...]}. The
 * message may also come as a plain string. */
static bk_result bk_read_batch_error(const bk_json_doc *doc, void *model) {
    bk_cloud_error *out = model;
    out->cut = doc->prefix;
    bk_field wanted = doc->prefix ? BK_FIELD_OPTIONAL : BK_FIELD_REQUIRED;
    bk_result r = bk_model_text(doc, 0, "code", wanted, out->code, sizeof out->code, &out->cut);
    int message = bk_json_find(doc, 0, "message");
    bk_json_kind kind = BK_JSON_KIND_NULL;
    if (r == BK_OK && message >= 0) {
        r = bk_json_check(doc, message, &kind);
    }
    if (r == BK_OK && kind == BK_JSON_KIND_OBJECT) {
        r = bk_model_text(doc, message, "value", BK_FIELD_OPTIONAL, out->message,
                          sizeof out->message, &out->cut);
    } else if (r == BK_OK && kind == BK_JSON_KIND_STRING) {
        r = bk_model_text(doc, 0, "message", BK_FIELD_OPTIONAL, out->message, sizeof out->message,
                          &out->cut);
    }
    return r;
}

bk_result bk_parse_batch_error(const char *body, size_t len, bk_json_token *tokens,
                               size_t max_tokens, bk_cloud_error *out) {
    return bk_model_parse(body, len, tokens, max_tokens, true, bk_read_batch_error, out,
                          sizeof *out);
}

/* --- Entra ID token response --- */

/* What a token answer is read into, and how: Entra's always has expires_in; a managed identity
 * endpoint's may give only expires_on (App Service: Unix seconds), measured against now_s. */
typedef struct bk_token_model {
    bk_token *token;
    bool expires_on_allowed;
    int64_t now_s;
} bk_token_model;

static bk_result bk_read_token(const bk_json_doc *doc, void *model) {
    const bk_token_model *m = model;
    bk_token *out = m->token;
    bool cut = false;
    bk_result r = bk_model_string(doc, 0, "access_token", out->access_token,
                                  sizeof out->access_token, &out->access_token_len);
    if (r == BK_OK) {
        r = bk_model_text(doc, 0, "token_type", BK_FIELD_REQUIRED, out->token_type,
                          sizeof out->token_type, &cut);
    }
    /* Numbers, or strings of digits: Entra's v1.0 endpoint and managed identities send those. */
    int in = bk_json_find_unique(doc, 0, "expires_in");
    int on = m->expires_on_allowed ? bk_json_find_unique(doc, 0, "expires_on") : -1;
    if (r != BK_OK || in == -2 || on == -2) {
        return r != BK_OK ? r : BK_ERR_JSON_DUPLICATE_KEY;
    }
    if (in >= 0) {
        return bk_json_uint(doc, in, true, BK_TOKEN_LIFETIME_MAX_S, &out->expires_in_s);
    }
    if (on < 0) {
        return BK_ERR_JSON_MISSING_FIELD;
    }
    uint64_t at = 0;
    r = bk_json_uint(doc, on, true, UINT32_MAX * 2ull, &at);
    if (r == BK_OK) {
        uint64_t now = m->now_s > 0 ? (uint64_t)m->now_s : 0;
        uint64_t left = at > now ? at - now : 0;
        out->expires_in_s = left > BK_TOKEN_LIFETIME_MAX_S ? BK_TOKEN_LIFETIME_MAX_S : left;
    }
    return r;
}

/* A token answer into out; on failure the access token, possibly already copied, is wiped. */
static bk_result bk_parse_token_model(const char *body, size_t len, bk_json_token *tokens,
                                      size_t max_tokens, bk_token_model *m) {
    if (m->token == NULL) {
        return BK_ERR_ARGUMENT;
    }
    memset(m->token, 0, sizeof *m->token);
    bk_json_doc doc;
    bk_result r = bk_model_open(body, len, tokens, max_tokens, false, &doc);
    if (r == BK_OK) {
        r = bk_read_token(&doc, m);
    }
    if (r != BK_OK) {
        bk_wipe(m->token, sizeof *m->token);
    }
    return r;
}

bk_result bk_parse_mi_token(const char *body, size_t len, bk_json_token *tokens, size_t max_tokens,
                            int64_t now_s, bk_token *out) {
    bk_token_model m = {out, true, now_s};
    return bk_parse_token_model(body, len, tokens, max_tokens, &m);
}

bk_result bk_parse_token(const char *body, size_t len, bk_json_token *tokens, size_t max_tokens,
                         bk_token *out) {
    bk_token_model m = {out, false, -1};
    return bk_parse_token_model(body, len, tokens, max_tokens, &m);
}

/* --- Entra ID error response --- */

static bk_result bk_read_error_codes(const bk_json_doc *doc, bk_entra_error *out) {
    int arr;
    bk_result r =
        bk_model_field(doc, 0, "error_codes", BK_FIELD_OPTIONAL, BK_JSON_KIND_ARRAY, &arr);
    if (r != BK_OK || arr < 0) {
        return r;
    }
    const size_t cap = sizeof out->error_codes / sizeof out->error_codes[0];
    int entries = doc->tokens[arr].size;
    int e = arr + 1;
    for (int n = 0; n < entries; n++, e = bk_json_skip(doc, e)) {
        uint64_t code;
        r = bk_json_uint(doc, e, false, UINT32_MAX, &code);
        if (r != BK_OK) {
            return r;
        }
        out->error_code_total++;
        if (out->error_code_count == cap) {
            out->cut = true;
            continue;
        }
        out->error_codes[out->error_code_count++] = (uint32_t)code;
    }
    return BK_OK;
}

static bk_result bk_read_entra_error(const bk_json_doc *doc, void *model) {
    bk_entra_error *out = model;
    out->cut = doc->prefix;
    bk_field top = doc->prefix ? BK_FIELD_OPTIONAL : BK_FIELD_REQUIRED;
    bk_result r = bk_model_text(doc, 0, "error", top, out->error, sizeof out->error, &out->cut);
    if (r == BK_OK) {
        r = bk_model_text(doc, 0, "error_description", BK_FIELD_OPTIONAL, out->error_description,
                          sizeof out->error_description, &out->cut);
    }
    if (r == BK_OK) {
        r = bk_read_error_codes(doc, out);
    }
    if (r == BK_OK) {
        r = bk_model_text(doc, 0, "trace_id", BK_FIELD_OPTIONAL, out->trace_id,
                          sizeof out->trace_id, &out->cut);
    }
    if (r == BK_OK) {
        r = bk_model_text(doc, 0, "correlation_id", BK_FIELD_OPTIONAL, out->correlation_id,
                          sizeof out->correlation_id, &out->cut);
    }
    return r;
}

/* --- device code flow --- */

static bk_result bk_read_device_code(const bk_json_doc *doc, void *model) {
    bk_device_code_answer *out = model;
    bool cut = false;
    bk_result r =
        bk_model_string(doc, 0, "device_code", out->device_code, sizeof out->device_code, NULL);
    if (r == BK_OK) {
        r = bk_model_text(doc, 0, "message", BK_FIELD_OPTIONAL, out->message, sizeof out->message,
                          &cut);
    }
    out->interval_s = 5;
    static const char *const numbers[] = {"interval", "expires_in"};
    uint64_t *fields[] = {&out->interval_s, &out->expires_in_s};
    for (int i = 0; i < 2 && r == BK_OK; i++) {
        int v = bk_json_find_unique(doc, 0, numbers[i]);
        if (v == -2) {
            r = BK_ERR_JSON_DUPLICATE_KEY;
        } else if (v >= 0) {
            r = bk_json_uint(doc, v, true, 3600, fields[i]);
        }
    }
    return r;
}

bk_result bk_parse_device_code(const char *body, size_t len, bk_json_token *tokens,
                               size_t max_tokens, bk_device_code_answer *out) {
    return bk_model_parse(body, len, tokens, max_tokens, false, bk_read_device_code, out,
                          sizeof *out);
}

bk_result bk_parse_refresh_token(const char *body, size_t len, bk_json_token *tokens,
                                 size_t max_tokens, char *out, size_t cap, size_t *out_len) {
    bk_json_doc doc;
    if (out == NULL || cap == 0) {
        return BK_ERR_ARGUMENT;
    }
    out[0] = '\0';
    bk_result r = bk_model_open(body, len, tokens, max_tokens, false, &doc);
    if (r == BK_OK) {
        r = bk_model_string(&doc, 0, "refresh_token", out, cap, out_len);
    }
    if (r != BK_OK) {
        bk_wipe(out, cap);
    }
    return r;
}

/* App Service's managed identity error: {"statusCode", "message", "correlationId"}. */
static bk_result bk_read_app_service_error(const bk_json_doc *doc, void *model) {
    bk_entra_error *out = model;
    out->cut = doc->prefix;
    bk_field top = doc->prefix ? BK_FIELD_OPTIONAL : BK_FIELD_REQUIRED;
    bk_result r = bk_model_text(doc, 0, "message", top, out->error_description,
                                sizeof out->error_description, &out->cut);
    if (r == BK_OK) {
        r = bk_model_text(doc, 0, "correlationId", BK_FIELD_OPTIONAL, out->correlation_id,
                          sizeof out->correlation_id, &out->cut);
    }
    if (r == BK_OK) {
        memcpy(out->error, "managed_identity_error", sizeof "managed_identity_error");
    }
    return r;
}

bk_result bk_parse_mi_error(const char *body, size_t len, bk_json_token *tokens, size_t max_tokens,
                            bk_entra_error *out) {
    bk_result r = bk_parse_entra_error(body, len, tokens, max_tokens, out);
    if (r != BK_OK) {
        r = bk_model_parse(body, len, tokens, max_tokens, true, bk_read_app_service_error, out,
                           sizeof *out);
    }
    return r;
}

bk_result bk_parse_entra_error(const char *body, size_t len, bk_json_token *tokens,
                               size_t max_tokens, bk_entra_error *out) {
    return bk_model_parse(body, len, tokens, max_tokens, true, bk_read_entra_error, out,
                          sizeof *out);
}
