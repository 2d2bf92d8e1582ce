/* SPDX-License-Identifier: MIT */
/* libFuzzer: the validators every value passes before it goes into a request: bk_url_parse,
 * bk_endpoint_parse, bk_guid_ok and the parameter validators (subscription, resource group,
 * account name, tenant, key name), the proxy URL (bk_proxy_parse) and NO_PROXY
 * (bk_proxy_bypassed), and the HTTP-date parser. Byte 0 picks (modulo 7); the rest is the text
 * (up to its first NUL). Oracle: what a validator accepts makes a request whose request line and
 * headers hold no control character, space in the target, or stray line end (DESIGN: CR, LF,
 * NUL never pass). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_arm.h"
#include "bk_endpoint.h"
#include "bk_entra.h"
#include "bk_http.h"
#include "bk_proxy.h"
#include "bk_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TEXT_MAX 4096

static char text[TEXT_MAX + 1];
static char request[16384];

/* The head of a request: lines ended by CRLF up to the empty line, with no other control
 * character (header values may hold a tab and obs-text, bytes >= 0x80, as HTTP allows); the
 * request line is printable ASCII with two spaces. */
static void head_sane(const char *req, size_t len) {
    const char *end = NULL;
    for (size_t i = 0; i + 3 < len; i++) {
        if (memcmp(req + i, "\r\n\r\n", 4) == 0) {
            end = req + i + 2;
            break;
        }
    }
    check(end != NULL);
    unsigned spaces = 0;
    bool first = true;
    for (const char *p = req; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\r') {
            check(p[1] == '\n');
            p++;
            check(!first || spaces == 2);
            first = false;
            continue;
        }
        check((c >= 0x20 && c != 0x7f && (c < 0x80 || !first)) || (c == '\t' && !first));
        spaces += first && c == ' ';
    }
}

static void arm_request(const bk_endpoint *arm, const bk_account_ref *account) {
    static const char token[] = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJhcm0ifQ.c2ln";
    bk_arm_request req = {BK_ARM_REGENERATE_KEY,
                          BK_KEY_SECONDARY,
                          arm,
                          account,
                          token,
                          sizeof token - 1,
                          "0a1b2c3d-0000-4000-8000-000000000000"};
    size_t len = 0;
    for (int op = BK_ARM_GET_ACCOUNT; op <= BK_ARM_REGENERATE_KEY; op++) {
        req.operation = (bk_arm_operation)op;
        bk_result r = bk_arm_write_request(&req, request, sizeof request, &len);
        check(r == BK_OK);
        head_sane(request, len);
    }
}

static bk_endpoint default_arm(void) {
    bk_endpoint arm;
    check(bk_endpoint_parse(&arm, "https://management.azure.com") == BK_OK);
    return arm;
}

static void fuzz_url(bool allow_http) {
    bk_endpoint ep;
    char path[BK_URL_PATH_MAX];
    if (bk_url_parse(&ep, path, sizeof path, text, allow_http) != BK_OK) {
        return;
    }
    check(path[0] == '/' && strlen(path) < sizeof path);
    check(ep.host[0] != '\0' && ep.port != 0);
    check(allow_http || !ep.plain_http);
    for (const char *p = path; *p != '\0'; p++) {
        check((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != '?' && *p != '#');
    }
    if (!ep.plain_http) {
        check(bk_endpoint_ok(&ep));
    }
}

static void fuzz_endpoint(void) {
    bk_endpoint ep;
    if (bk_endpoint_parse(&ep, text) != BK_OK) {
        return;
    }
    check(bk_endpoint_ok(&ep) && !ep.plain_http && ep.port != 0);
    bk_account_ref account = {"12345678-1234-1234-1234-123456789012", "my-rg", "myacct"};
    arm_request(&ep, &account);
    /* A token request to it as the Entra authority. */
    bk_token_request tr = {&ep,
                           "contoso.onmicrosoft.com",
                           "00000000-0000-0000-0000-000000000001",
                           "secret",
                           NULL,
                           NULL,
                           BK_ARM_SCOPE,
                           "0a1b2c3d-0000-4000-8000-000000000000"};
    size_t len = 0;
    check(bk_entra_write_token_request(&tr, request, sizeof request, &len) == BK_OK);
    head_sane(request, len);
}

static void fuzz_parameters(void) {
    bool guid = bk_guid_ok(text);
    check(guid == (bk_validate_subscription_id(text) == BK_OK));
    check(!guid || strlen(text) == 36);
    bk_key_name key;
    if (bk_key_name_parse(text, &key) == BK_OK) {
        check(key == BK_KEY_PRIMARY || key == BK_KEY_SECONDARY);
    }
    bk_endpoint arm = default_arm();
    bk_account_ref account = {"12345678-1234-1234-1234-123456789012", "my-rg", "myacct"};
    if (guid) {
        account.subscription_id = text;
        check(bk_validate_account_ref(&account) == BK_OK);
        arm_request(&arm, &account);
        account.subscription_id = "12345678-1234-1234-1234-123456789012";
    }
    if (bk_validate_resource_group(text) == BK_OK) {
        size_t len = strlen(text);
        check(len >= 1 && text[len - 1] != '.');
        account.resource_group = text;
        check(bk_validate_account_ref(&account) == BK_OK);
        arm_request(&arm, &account);
        account.resource_group = "my-rg";
    }
    if (bk_validate_account_name(text) == BK_OK) {
        size_t len = strlen(text);
        check(len >= 3 && len <= 24);
        account.account_name = text;
        check(bk_validate_account_ref(&account) == BK_OK);
        arm_request(&arm, &account);
    }
    if (bk_validate_tenant_id(text) == BK_OK) {
        bk_token_request tr = {
            &arm, text,         "00000000-0000-0000-0000-000000000001", "secret", NULL,
            NULL, BK_ARM_SCOPE, "0a1b2c3d-0000-4000-8000-000000000000"};
        size_t len = 0;
        check(bk_entra_write_token_request(&tr, request, sizeof request, &len) == BK_OK);
        head_sane(request, len);
    }
}

static bk_proxy proxy;

static void fuzz_proxy_url(void) {
    bk_result r = bk_proxy_parse(&proxy, text);
    if (r == BK_OK) {
        check(proxy.host[0] != '\0' && proxy.port != 0);
        check(memchr(proxy.authorization, '\0', sizeof proxy.authorization) != NULL);
        for (const char *p = proxy.authorization; *p != '\0'; p++) {
            check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
        }
    }
    bk_proxy_wipe(&proxy);
}

/* NO_PROXY's value, a newline, the host; the port from the text's first two bytes. */
static void fuzz_no_proxy(void) {
    size_t len = strlen(text);
    if (len < 2) {
        return;
    }
    uint16_t port = (uint16_t)((unsigned char)text[0] << 8 | (unsigned char)text[1]);
    char *list = text + 2;
    char *host = strchr(list, '\n');
    if (host == NULL) {
        host = (char *)"management.azure.com";
    } else {
        *host++ = '\0';
    }
    bool bypassed = bk_proxy_bypassed(list, host, port);
    /* "*" alone matches every host; an empty list none. */
    if (strcmp(list, "*") == 0) {
        check(bypassed);
    }
    if (list[0] == '\0') {
        check(!bypassed);
    }
    (void)bk_proxy_bypassed(list, "management.azure.com", 443);
    (void)bk_proxy_bypassed(list, "[::1]", port);
    (void)bk_proxy_bypassed(list, "10.1.2.3", port);
}

static void fuzz_date(void) {
    int64_t t = bk_http_parse_date(text, strlen(text));
    check(t >= -1);
    char formatted[BK_HTTP_DATE_SIZE];
    if (t >= 0 && bk_http_format_date(t, formatted) == BK_OK) {
        /* What it writes, it reads back. */
        check(bk_http_parse_date(formatted, strlen(formatted)) == t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) {
        return 0;
    }
    size_t len = size - 1 < TEXT_MAX ? size - 1 : TEXT_MAX;
    memcpy(text, data + 1, len);
    text[len] = '\0';
    switch (data[0] % 8u) {
    case 0:
        fuzz_url(false);
        break;
    case 1:
        fuzz_url(true);
        break;
    case 2:
        fuzz_endpoint();
        break;
    case 3:
        fuzz_parameters();
        break;
    case 4:
        fuzz_proxy_url();
        break;
    case 5:
        fuzz_no_proxy();
        break;
    default:
        fuzz_date();
        break;
    }
    return 0;
}
