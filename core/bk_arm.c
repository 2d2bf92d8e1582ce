/* SPDX-License-Identifier: MIT */
/* Azure Resource Manager requests for a Batch account: parameter checks and the request writer. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_arm.h"
#include "bk_ascii.h"
#include "bk_config.h"
#include "bk_crypto.h"
#include "bk_writer.h"

#define BK_RESOURCE_GROUP_MAX_CHARS 90

bk_result bk_validate_subscription_id(const char *value) {
    if (!value) {
        return BK_ERR_ARGUMENT;
    }
    return bk_guid_ok(value) ? BK_OK : BK_ERR_INVALID_SUBSCRIPTION;
}

/* Length of the well-formed UTF-8 sequence of a code point >= U+0080 at s, or 0: rejects stray
 * continuation bytes, truncation, overlong forms, surrogates and anything above U+10FFFF. */
static size_t bk_utf8_multibyte_len(const unsigned char *s) {
    size_t len;
    uint32_t code_point;
    uint32_t min;
    if (s[0] >= 0xc0 && s[0] <= 0xdf) {
        len = 2;
        code_point = s[0] & 0x1fu;
        min = 0x80;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        code_point = s[0] & 0x0fu;
        min = 0x800;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf7) {
        len = 4;
        code_point = s[0] & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0; /* also stops at the NUL */
        }
        code_point = (code_point << 6) | (s[i] & 0x3fu);
    }
    if (code_point < min || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
        return 0;
    }
    return len;
}

bk_result bk_validate_resource_group(const char *value) {
    if (!value) {
        return BK_ERR_ARGUMENT;
    }
    const unsigned char *s = (const unsigned char *)value;
    size_t chars = 0;
    size_t i = 0;
    while (s[i] != '\0') {
        if (++chars > BK_RESOURCE_GROUP_MAX_CHARS) {
            return BK_ERR_INVALID_RESOURCE_GROUP;
        }
        char c = (char)s[i];
        if (s[i] < 0x80) {
            if (!bk_ascii_is_alnum(c) && !strchr("-._()", c)) {
                return BK_ERR_INVALID_RESOURCE_GROUP;
            }
            i++;
        } else {
            size_t len = bk_utf8_multibyte_len(s + i);
            if (len == 0) {
                return BK_ERR_INVALID_RESOURCE_GROUP;
            }
            i += len;
        }
    }
    if (chars == 0 || s[i - 1] == '.') {
        return BK_ERR_INVALID_RESOURCE_GROUP;
    }
    return BK_OK;
}

bk_result bk_validate_account_name(const char *value) {
    if (!value) {
        return BK_ERR_ARGUMENT;
    }
    size_t len = 0;
    while (value[len] != '\0') {
        if (len == 24 || !bk_ascii_is_alnum(value[len])) {
            return BK_ERR_INVALID_ACCOUNT;
        }
        len++;
    }
    return len >= 3 ? BK_OK : BK_ERR_INVALID_ACCOUNT;
}

bk_result bk_validate_account_ref(const bk_account_ref *account) {
    if (!account) {
        return BK_ERR_ARGUMENT;
    }
    bk_result r = bk_validate_subscription_id(account->subscription_id);
    if (r == BK_OK) {
        r = bk_validate_resource_group(account->resource_group);
    }
    if (r == BK_OK) {
        r = bk_validate_account_name(account->account_name);
    }
    return r;
}

bk_result bk_key_name_parse(const char *text, bk_key_name *out) {
    if (!text || !out) {
        return BK_ERR_ARGUMENT;
    }
    if (bk_ascii_ieq(text, strlen(text), "primary")) {
        *out = BK_KEY_PRIMARY;
    } else if (bk_ascii_ieq(text, strlen(text), "secondary")) {
        *out = BK_KEY_SECONDARY;
    } else {
        return BK_ERR_INVALID_KEY_NAME;
    }
    return BK_OK;
}

/* "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Batch/batchAccounts/{a}", shared
 * by every operation. The resource group's ASCII set is path-safe as it is; only its UTF-8 bytes
 * need escaping. */
static void bk_write_account_path(bk_writer *w, const bk_account_ref *account) {
    bk_write_str(w, "/subscriptions/");
    bk_write_str(w, account->subscription_id);
    bk_write_str(w, "/resourceGroups/");
    for (const char *p = account->resource_group; *p; p++) {
        if ((unsigned char)*p >= 0x80) {
            bk_write_pct(w, p, 1);
        } else {
            bk_write_bytes(w, p, 1);
        }
    }
    bk_write_str(w, "/providers/Microsoft.Batch/batchAccounts/");
    bk_write_str(w, account->account_name);
}

bk_result bk_arm_write_request(const bk_arm_request *req, char *buf, size_t cap, size_t *out_len) {
    if (!out_len) {
        return BK_ERR_ARGUMENT;
    }
    *out_len = 0;
    if (!req || !buf || !req->arm || !req->account || !req->token || !req->client_request_id) {
        return BK_ERR_ARGUMENT;
    }
    const char *action;
    const char *body = NULL;
    switch (req->operation) {
    case BK_ARM_GET_ACCOUNT:
        action = "";
        break;
    case BK_ARM_LIST_KEYS:
        action = "/listKeys";
        body = "";
        break;
    case BK_ARM_REGENERATE_KEY:
        action = "/regenerateKeys";
        if (req->key == BK_KEY_PRIMARY) {
            body = "{\"keyName\":\"Primary\"}";
        } else if (req->key == BK_KEY_SECONDARY) {
            body = "{\"keyName\":\"Secondary\"}";
        } else {
            return BK_ERR_INVALID_KEY_NAME;
        }
        break;
    default:
        return BK_ERR_ARGUMENT;
    }
    if (!bk_endpoint_ok(req->arm)) {
        return BK_ERR_INVALID_URL;
    }
    bk_result r = bk_validate_account_ref(req->account);
    if (r != BK_OK) {
        return r;
    }
    if (req->token_len == 0 || !bk_header_value_ok(req->token, req->token_len) ||
        !bk_guid_ok(req->client_request_id)) {
        return BK_ERR_INVALID_HEADER_VALUE;
    }

    bk_writer w;
    bk_writer_init(&w, buf, cap);
    bk_write_str(&w, body ? "POST " : "GET ");
    bk_write_account_path(&w, req->account);
    bk_write_str(&w, action);
    bk_write_str(&w, "?api-version=" BK_ARM_API_VERSION " HTTP/1.1\r\n");
    bk_write_host_header(&w, req->arm);
    bk_write_str(&w, "Authorization: Bearer ");
    bk_write_bytes(&w, req->token, req->token_len);
    bk_write_str(&w, "\r\nAccept: application/json\r\nUser-Agent: " BK_USER_AGENT
                     "\r\nx-ms-client-request-id: ");
    bk_write_str(&w, req->client_request_id);
    bk_write_str(&w, "\r\n");
    if (body) {
        size_t body_len = strlen(body);
        if (body_len > 0) {
            bk_write_str(&w, "Content-Type: application/json\r\n");
        }
        bk_write_str(&w, "Content-Length: ");
        bk_write_uint(&w, body_len);
        bk_write_str(&w, "\r\n\r\n");
        bk_write_bytes(&w, body, body_len);
    } else {
        bk_write_str(&w, "\r\n");
    }
    r = bk_writer_finish(&w, out_len);
    if (r != BK_OK) {
        bk_wipe(buf, w.len); /* a partial request still holds the bearer token */
    }
    return r;
}
