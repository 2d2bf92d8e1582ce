/* SPDX-License-Identifier: MIT */
/* Azure Resource Manager requests for a Batch account (api-version 2024-07-01).
 *
 *     bk_account_ref acct = {"12345678-1234-1234-1234-123456789012", "my-rg", "myacct"};
 *     bk_arm_request req = {BK_ARM_REGENERATE_KEY, BK_KEY_SECONDARY, &arm, &acct,
 *                           token, token_len, request_id};
 *     r = bk_arm_write_request(&req, buf, sizeof buf, &len);
 *
 * Every parameter is validated before a byte is written; a bad one gives its own error. */
#ifndef BK_ARM_H
#define BK_ARM_H

#include <stddef.h>

#include "bk_endpoint.h"
#include "bk_result.h"

typedef struct bk_account_ref {
    const char *subscription_id; /* a GUID */
    const char *resource_group;  /* 1-90 of letters, digits, - . _ ( ), not ending in '.' */
    const char *account_name;    /* 3-24 ASCII letters and digits */
} bk_account_ref;

typedef enum bk_arm_operation {
    BK_ARM_GET_ACCOUNT,   /* GET .../batchAccounts/{accountName} */
    BK_ARM_LIST_KEYS,     /* POST .../listKeys, empty body */
    BK_ARM_REGENERATE_KEY /* POST .../regenerateKeys {"keyName": ...} */
} bk_arm_operation;

typedef enum bk_key_name { BK_KEY_PRIMARY, BK_KEY_SECONDARY } bk_key_name;

typedef struct bk_arm_request {
    bk_arm_operation operation;
    bk_key_name key; /* BK_ARM_REGENERATE_KEY only */
    const bk_endpoint *arm;
    const bk_account_ref *account;
    const char *token; /* the bearer access token, token_len bytes */
    size_t token_len;
    const char *client_request_id; /* a UUID, from bk_uuid4() */
} bk_arm_request;

BK_MUST_CHECK bk_result bk_validate_subscription_id(const char *value);
/* Letters include non-ASCII ones: any well-formed UTF-8 sequence above U+007F counts as one
 * character (the service holds the Unicode tables); such bytes are percent-encoded in the path. */
BK_MUST_CHECK bk_result bk_validate_resource_group(const char *value);
BK_MUST_CHECK bk_result bk_validate_account_name(const char *value);
BK_MUST_CHECK bk_result bk_validate_account_ref(const bk_account_ref *account);

/* "primary"/"secondary" (any case) to a key name. */
BK_MUST_CHECK bk_result bk_key_name_parse(const char *text, bk_key_name *out);

/* Writes the whole request (line, headers, body) into buf; *out_len its length. */
BK_MUST_CHECK bk_result bk_arm_write_request(const bk_arm_request *req, char *buf, size_t cap,
                                             size_t *out_len);

#endif
