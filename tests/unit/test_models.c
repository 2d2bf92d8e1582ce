/* SPDX-License-Identifier: MIT */
/* The JSON models: the service's own examples from the REST spec, a recorded answer, CloudError
 * in both layouts, Entra ID token and error responses, and every error path.
 *
 * SPEC_DIR names the spec folder (default ../shared/spec, relative to the repository root); a
 * missing spec folder fails the tests that need it. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bk_ascii.h"
#include "bk_json.h"
#include "bk_test_support.h"

static bk_json_token g_tokens[BK_JSON_TOKENS_MAX];

/* Large outputs live here rather than on the stack. */
static bk_account_keys g_keys;
static bk_batch_account g_account;
static bk_cloud_error g_cloud_error;
static bk_token g_token;
static bk_entra_error g_entra_error;

/* A body built at run time (long values for the overflow tests). */
static char g_body[BK_TOKEN_MAX * 2];

static void assert_all_zero(const void *p, size_t len) {
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++) {
        if (b[i] != 0) {
            fail_msg("byte %zu of the output is 0x%02x after a failure", i, (unsigned)b[i]);
        }
    }
}

/* prefix, then n copies of c, then suffix, into g_body. */
static const char *body_with_run(const char *prefix, size_t n, char c, const char *suffix) {
    size_t prefix_len = strlen(prefix);
    size_t suffix_len = strlen(suffix);
    assert_true(prefix_len + n + suffix_len < sizeof g_body);
    memcpy(g_body, prefix, prefix_len);
    memset(g_body + prefix_len, c, n);
    memcpy(g_body + prefix_len + n, suffix, suffix_len + 1);
    return g_body;
}

static bk_result parse_keys(const char *body) {
    return bk_parse_account_keys(body, strlen(body), g_tokens, BK_JSON_TOKENS_MAX, &g_keys);
}

static bk_result parse_account(const char *body) {
    return bk_parse_batch_account(body, strlen(body), g_tokens, BK_JSON_TOKENS_MAX, &g_account);
}

static bk_result parse_cloud_error(const char *body) {
    return bk_parse_cloud_error(body, strlen(body), g_tokens, BK_JSON_TOKENS_MAX, &g_cloud_error);
}

static bk_result parse_token(const char *body) {
    return bk_parse_token(body, strlen(body), g_tokens, BK_JSON_TOKENS_MAX, &g_token);
}

static bk_result parse_entra_error(const char *body) {
    return bk_parse_entra_error(body, strlen(body), g_tokens, BK_JSON_TOKENS_MAX, &g_entra_error);
}

/* --- the spec's examples --- */

static const char *spec_dir(void) {
    const char *dir = getenv("SPEC_DIR");
    return dir != NULL && dir[0] != '\0' ? dir : "../shared/spec";
}

static const char *read_spec_file(const char *name, size_t *len) {
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", spec_dir(), name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    const char *text = bk_test_read_file(path, len);
    if (text == NULL) {
        fail_msg("cannot read %s (set SPEC_DIR to the spec folder)", path);
    }
    return text;
}

/* Finds responses."200".body in an example file with the library's own reader. */
static void example_body(const char *name, const char **body, size_t *body_len) {
    static bk_json_token file_tokens[1024];
    size_t len = 0;
    size_t count = 0;
    const char *text = read_spec_file(name, &len);
    assert_int_equal(bk_json_tokenize(text, len, file_tokens, 1024, &count), BK_OK);
    bk_json_doc doc = {text, file_tokens, (int)count, false};
    int responses = bk_json_find(&doc, 0, "responses");
    assert_true(responses > 0);
    int ok = bk_json_find(&doc, responses, "200");
    assert_true(ok > 0);
    int b = bk_json_find(&doc, ok, "body");
    assert_true(b > 0);
    assert_int_equal(file_tokens[b].type, BK_JSON_OBJECT);
    *body = text + file_tokens[b].start;
    *body_len = (size_t)(file_tokens[b].end - file_tokens[b].start);
}

/* Parses body with fn into out, first filled with 0x55: the result must be want, and out must
 * be left all zero (nothing half-written). */
static void expect_failure(bk_result (*fn)(const char *), void *out, size_t size, const char *body,
                           bk_result want) {
    memset(out, 0x55, size);
    bk_result r = fn(body);
    if (r != want) {
        fail_msg("%s: %d, want %d", body, (int)r, (int)want);
    }
    assert_all_zero(out, size);
}

static void test_example_batch_account_get(void **state) {
    (void)state;
    const char *body;
    size_t len;
    example_body("examples/BatchAccountGet.json", &body, &len);
    assert_int_equal(body[0], '{');
    assert_int_equal(body[len - 1], '}');
    assert_int_equal(bk_parse_batch_account(body, len, g_tokens, BK_JSON_TOKENS_MAX, &g_account),
                     BK_OK);
    assert_string_equal(g_account.name, "sampleacct");
    assert_string_equal(g_account.location, "japaneast");
    assert_string_equal(g_account.account_endpoint, "sampleacct.japaneast.batch.azure.com");
    assert_string_equal(g_account.provisioning_state, "Succeeded");
    assert_false(g_account.auth_modes_present);
    assert_int_equal(g_account.auth_modes, 0);
}

static void test_example_private_batch_account_get(void **state) {
    (void)state;
    const char *body;
    size_t len;
    example_body("examples/PrivateBatchAccountGet.json", &body, &len);
    /* Nested "name", "properties" and "id" members sit inside privateEndpointConnections. */
    assert_int_equal(bk_parse_batch_account(body, len, g_tokens, BK_JSON_TOKENS_MAX, &g_account),
                     BK_OK);
    assert_string_equal(g_account.name, "sampleacct");
    assert_string_equal(g_account.location, "japaneast");
    assert_string_equal(g_account.account_endpoint, "sampleacct.japaneast.batch.azure.com");
    assert_string_equal(g_account.provisioning_state, "Succeeded");
    assert_false(g_account.auth_modes_present);
}

static void check_keys_example(const char *name) {
    const char *body;
    size_t len;
    example_body(name, &body, &len);
    assert_int_equal(bk_parse_account_keys(body, len, g_tokens, BK_JSON_TOKENS_MAX, &g_keys),
                     BK_OK);
    assert_string_equal(g_keys.account_name, "sampleacct");
    assert_string_equal(g_keys.primary, "AAAA==");
    assert_string_equal(g_keys.secondary, "BBBB==");
}

static void test_example_batch_account_get_keys(void **state) {
    (void)state;
    check_keys_example("examples/BatchAccountGetKeys.json");
}

static void test_example_batch_account_regenerate_key(void **state) {
    (void)state;
    check_keys_example("examples/BatchAccountRegenerateKey.json");
}

static void test_example_dataplane_list_applications(void **state) {
    (void)state;
    const char *body;
    size_t len;
    size_t count = 0;
    char text[64];
    example_body("examples/dataplane-Applications_ListApplications.json", &body, &len);
    assert_int_equal(bk_json_tokenize(body, len, g_tokens, BK_JSON_TOKENS_MAX, &count), BK_OK);
    bk_json_doc doc = {body, g_tokens, (int)count, false};
    int value = bk_json_find(&doc, 0, "value");
    assert_true(value > 0);
    assert_int_equal(g_tokens[value].type, BK_JSON_ARRAY);
    assert_int_equal(g_tokens[value].size, 1);
    int first = value + 1;
    assert_int_equal(g_tokens[first].type, BK_JSON_OBJECT);
    assert_int_equal(bk_json_string(&doc, bk_json_find(&doc, first, "id"), text, sizeof text, NULL),
                     BK_OK);
    assert_string_equal(text, "my_application_id");
    assert_int_equal(
        bk_json_string(&doc, bk_json_find(&doc, first, "displayName"), text, sizeof text, NULL),
        BK_OK);
    assert_string_equal(text, "my_display_name");
    int versions = bk_json_find(&doc, first, "versions");
    assert_int_equal(g_tokens[versions].type, BK_JSON_ARRAY);
    assert_int_equal(bk_json_string(&doc, versions + 1, text, sizeof text, NULL), BK_OK);
    assert_string_equal(text, "v1.0");
    assert_int_equal(bk_json_skip(&doc, 0), doc.count);
}

/* --- BatchAccountKeys --- */

/* The regenerateKeys answer recorded by the Azure CLI's tests. */
static const char recorded_keys[] =
    "{\"accountName\":\"clibatchtest1\","
    "\"primary\":\"f1cIF0mITofpjWvwjmIOPGLA2vC9aFUCZ7S71d2n5/"
    "6Ns9rohl21gTJIK9eZlZi3Rw5HRG9VmTEIHfVteivpCQ==\","
    "\"secondary\":\"VMJrbLg3qy4ICy7MdEpTdQLP/CikzW13Atv32rFIl5becKF7r/"
    "AZWF5qG8mcnc6BlwpYq7nr6YFG+u5Rg+4qzw==\"}";

static void test_recorded_regenerate_keys(void **state) {
    (void)state;
    assert_int_equal(strlen(recorded_keys), 235);
    /* The literal is the recording's, byte for byte. */
    size_t len = 0;
    const char *recording = read_spec_file("recorded-regenerateKeys-azure-cli.yaml", &len);
    assert_non_null(strstr(recording, recorded_keys));

    assert_int_equal(parse_keys(recorded_keys), BK_OK);
    assert_string_equal(g_keys.account_name, "clibatchtest1");
    assert_int_equal(strlen(g_keys.primary), 88);
    assert_int_equal(strlen(g_keys.secondary), 88);
    assert_string_equal(g_keys.primary, "f1cIF0mITofpjWvwjmIOPGLA2vC9aFUCZ7S71d2n5/"
                                        "6Ns9rohl21gTJIK9eZlZi3Rw5HRG9VmTEIHfVteivpCQ==");
    assert_string_equal(g_keys.secondary, "VMJrbLg3qy4ICy7MdEpTdQLP/CikzW13Atv32rFIl5becKF7r/"
                                          "AZWF5qG8mcnc6BlwpYq7nr6YFG+u5Rg+4qzw==");
}

static void test_keys_token_budget(void **state) {
    (void)state;
    /* The object, three keys and three values. */
    assert_int_equal(
        bk_parse_account_keys(recorded_keys, strlen(recorded_keys), g_tokens, 7, &g_keys), BK_OK);
    assert_int_equal(
        bk_parse_account_keys(recorded_keys, strlen(recorded_keys), g_tokens, 6, &g_keys),
        BK_ERR_JSON_TOO_MANY_TOKENS);
    assert_all_zero(&g_keys, sizeof g_keys);
}

static void test_keys_unknown_fields_and_escapes(void **state) {
    (void)state;
    assert_int_equal(parse_keys("{\"x\":{\"primary\":\"nested\",\"accountName\":\"no\"},"
                                "\"accountName\":\"acct\",\"list\":[\"primary\",{\"primary\":1}],"
                                "\"primary\":\"ab\\/cd==\",\"secondary\":\"\\u0045F==\","
                                "\"more\":[true,false,null,-1.5e3]}"),
                     BK_OK);
    assert_string_equal(g_keys.account_name, "acct");
    assert_string_equal(g_keys.primary, "ab/cd==");
    assert_string_equal(g_keys.secondary, "EF==");
    /* Primitives are checked when read: a malformed one in a field nobody reads is not looked
     * at (the tokenizer has already checked the document's structure). */
    assert_int_equal(parse_keys("{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\","
                                "\"unread\":tru}"),
                     BK_OK);
}

static void test_keys_missing_fields(void **state) {
    (void)state;
    static const char *const bodies[] = {
        "{\"primary\":\"p\",\"secondary\":\"s\"}",
        "{\"accountName\":\"a\",\"secondary\":\"s\"}",
        "{\"accountName\":\"a\",\"primary\":\"p\"}",
        "{\"accountName\":\"a\",\"primary\":\"p\",\"x\":{\"secondary\":\"s\"}}",
        "{\"accountName\":\"a\",\"Primary\":\"p\",\"secondary\":\"s\"}",
        "{}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        expect_failure(parse_keys, &g_keys, sizeof g_keys, bodies[i], BK_ERR_JSON_MISSING_FIELD);
    }
}

static void test_keys_wrong_types(void **state) {
    (void)state;
    static const char *const bodies[] = {
        "{\"accountName\":\"a\",\"primary\":null,\"secondary\":\"s\"}",
        "{\"accountName\":\"a\",\"primary\":12,\"secondary\":\"s\"}",
        "{\"accountName\":\"a\",\"primary\":true,\"secondary\":\"s\"}",
        "{\"accountName\":\"a\",\"primary\":{},\"secondary\":\"s\"}",
        "{\"accountName\":\"a\",\"primary\":[\"p\"],\"secondary\":\"s\"}",
        "{\"accountName\":null,\"primary\":\"p\",\"secondary\":\"s\"}",
        "{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":false}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        expect_failure(parse_keys, &g_keys, sizeof g_keys, bodies[i], BK_ERR_JSON_TYPE);
    }
}

static void test_keys_bad_primitives(void **state) {
    (void)state;
    /* A malformed primitive where a value is read reports the malformation, not a type. */
    assert_int_equal(parse_keys("{\"accountName\":\"a\",\"primary\":tru,\"secondary\":\"s\"}"),
                     BK_ERR_JSON_SYNTAX);
    assert_int_equal(parse_keys("{\"accountName\":\"a\",\"primary\":nul,\"secondary\":\"s\"}"),
                     BK_ERR_JSON_SYNTAX);
    static const char *const numbers[] = {"1.2.3", "-", "01", "1e", "1:2"};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"accountName\":\"a\",\"primary\":%s,\"secondary\":\"s\"}",
                 numbers[i]);
        expect_failure(parse_keys, &g_keys, sizeof g_keys, body, BK_ERR_JSON_NUMBER);
    }
}

static void test_keys_exact_fit_and_overflow(void **state) {
    (void)state;
    /* A key of BK_KEY_MAX characters fits; one more is an error, never a truncated key. */
    assert_int_equal(parse_keys(body_with_run("{\"accountName\":\"a\",\"secondary\":\"s\","
                                              "\"primary\":\"",
                                              BK_KEY_MAX, 'k', "\"}")),
                     BK_OK);
    assert_int_equal(strlen(g_keys.primary), BK_KEY_MAX);
    assert_int_equal(g_keys.primary[0], 'k');
    assert_int_equal(parse_keys(body_with_run("{\"accountName\":\"a\",\"secondary\":\"s\","
                                              "\"primary\":\"",
                                              BK_KEY_MAX + 1, 'k', "\"}")),
                     BK_ERR_JSON_FIELD_OVERFLOW);
    assert_all_zero(&g_keys, sizeof g_keys);

    /* An account name has at most 24 characters. */
    assert_int_equal(parse_keys(body_with_run("{\"primary\":\"p\",\"secondary\":\"s\","
                                              "\"accountName\":\"",
                                              24, 'n', "\"}")),
                     BK_OK);
    assert_int_equal(strlen(g_keys.account_name), 24);
    assert_string_equal(g_keys.primary, "p");
    assert_int_equal(parse_keys(body_with_run("{\"primary\":\"p\",\"secondary\":\"s\","
                                              "\"accountName\":\"",
                                              25, 'n', "\"}")),
                     BK_ERR_JSON_FIELD_OVERFLOW);
    assert_all_zero(&g_keys, sizeof g_keys);

    /* The overflow is counted after unescaping: 24 escapes of 6 bytes make 24 characters. */
    char body[512];
    size_t n = (size_t)snprintf(body, sizeof body,
                                "{\"primary\":\"p\",\"secondary\":\"s\",\"accountName\":\"");
    for (int i = 0; i < 24; i++) {
        memcpy(body + n, "\\u0041", 6);
        n += 6;
    }
    memcpy(body + n, "\"}", 3);
    assert_int_equal(parse_keys(body), BK_OK);
    assert_string_equal(g_keys.account_name, "AAAAAAAAAAAAAAAAAAAAAAAA");
}

static void test_keys_syntax_and_root(void **state) {
    (void)state;
    char truncated[128];
    memcpy(truncated, recorded_keys, 100);
    truncated[100] = '\0';
    assert_int_equal(parse_keys(truncated), BK_ERR_JSON_SYNTAX);
    assert_all_zero(&g_keys, sizeof g_keys);
    assert_int_equal(parse_keys(""), BK_ERR_JSON_SYNTAX);
    assert_int_equal(parse_keys("{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\"} x"),
                     BK_ERR_JSON_SYNTAX);
    assert_int_equal(parse_keys("{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\"}{}"),
                     BK_ERR_JSON_SYNTAX);
    assert_int_equal(parse_keys("{\"accountName\":\"a\" \"primary\":\"p\",\"secondary\":\"s\"}"),
                     BK_ERR_JSON_SYNTAX);
    assert_int_equal(parse_keys("{\"accountName\":\"a\",\"primary\":\"p\\q\",\"secondary\":\"s\"}"),
                     BK_ERR_JSON_SYNTAX);
    assert_int_equal(parse_keys("{\"accountName\":\"a\",\"primary\":\"\\ud800\",\"secondary\":"
                                "\"s\"}"),
                     BK_ERR_JSON_ESCAPE);
    /* The root of every model is an object. */
    assert_int_equal(parse_keys("[{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\"}]"),
                     BK_ERR_JSON_TYPE);
    assert_int_equal(parse_keys("\"primary\""), BK_ERR_JSON_TYPE);
    assert_int_equal(parse_keys("[]"), BK_ERR_JSON_TYPE);
}

static void test_models_arguments(void **state) {
    (void)state;
    const char *body = recorded_keys;
    size_t len = strlen(body);
    assert_int_equal(bk_parse_account_keys(body, len, g_tokens, BK_JSON_TOKENS_MAX, NULL),
                     BK_ERR_ARGUMENT);
    memset(&g_keys, 0x55, sizeof g_keys);
    assert_int_equal(bk_parse_account_keys(NULL, len, g_tokens, BK_JSON_TOKENS_MAX, &g_keys),
                     BK_ERR_ARGUMENT);
    assert_all_zero(&g_keys, sizeof g_keys);
    assert_int_equal(bk_parse_account_keys(body, len, NULL, BK_JSON_TOKENS_MAX, &g_keys),
                     BK_ERR_ARGUMENT);
    assert_int_equal(bk_parse_batch_account(body, len, g_tokens, BK_JSON_TOKENS_MAX, NULL),
                     BK_ERR_ARGUMENT);
    assert_int_equal(bk_parse_cloud_error(body, len, g_tokens, BK_JSON_TOKENS_MAX, NULL),
                     BK_ERR_ARGUMENT);
    assert_int_equal(bk_parse_token(body, len, g_tokens, BK_JSON_TOKENS_MAX, NULL),
                     BK_ERR_ARGUMENT);
    assert_int_equal(bk_parse_entra_error(body, len, g_tokens, BK_JSON_TOKENS_MAX, NULL),
                     BK_ERR_ARGUMENT);
    assert_int_equal(bk_parse_token(NULL, len, g_tokens, BK_JSON_TOKENS_MAX, &g_token),
                     BK_ERR_ARGUMENT);
}

/* --- BatchAccount --- */

/* A BatchAccount with `modes` as the value of allowedAuthenticationModes ("" leaves it out). */
static bk_result parse_account_with_modes(const char *modes) {
    char body[1024];
    int n = snprintf(body, sizeof body,
                     "{\"name\":\"acct\",\"location\":\"westeurope\",\"properties\":{"
                     "\"accountEndpoint\":\"acct.westeurope.batch.azure.com\","
                     "\"provisioningState\":\"Succeeded\"%s%s}}",
                     modes[0] != '\0' ? ",\"allowedAuthenticationModes\":" : "", modes);
    assert_true(n > 0 && (size_t)n < sizeof body);
    return parse_account(body);
}

static void test_account_auth_modes(void **state) {
    (void)state;
    assert_int_equal(parse_account_with_modes(""), BK_OK);
    assert_false(g_account.auth_modes_present);
    assert_int_equal(g_account.auth_modes, 0);
    assert_string_equal(g_account.account_endpoint, "acct.westeurope.batch.azure.com");

    assert_int_equal(parse_account_with_modes("null"), BK_OK);
    assert_false(g_account.auth_modes_present);
    assert_int_equal(g_account.auth_modes, 0);

    assert_int_equal(parse_account_with_modes("[]"), BK_OK);
    assert_true(g_account.auth_modes_present);
    assert_int_equal(g_account.auth_modes, 0);

    assert_int_equal(parse_account_with_modes("[\"SharedKey\"]"), BK_OK);
    assert_true(g_account.auth_modes_present);
    assert_int_equal(g_account.auth_modes, BK_AUTH_MODE_SHARED_KEY);

    assert_int_equal(parse_account_with_modes("[\"AAD\",\"TaskAuthenticationToken\"]"), BK_OK);
    assert_int_equal(g_account.auth_modes, BK_AUTH_MODE_AAD | BK_AUTH_MODE_TASK_TOKEN);

    assert_int_equal(
        parse_account_with_modes("[\"SharedKey\",\"AAD\",\"TaskAuthenticationToken\"]"), BK_OK);
    assert_int_equal(g_account.auth_modes,
                     BK_AUTH_MODE_SHARED_KEY | BK_AUTH_MODE_AAD | BK_AUTH_MODE_TASK_TOKEN);

    /* ARM compares enum values without regard to case. */
    assert_int_equal(parse_account_with_modes("[\"sharedkey\",\"aad\"]"), BK_OK);
    assert_int_equal(g_account.auth_modes, BK_AUTH_MODE_SHARED_KEY | BK_AUTH_MODE_AAD);

    /* Unknown modes, however long, are kept as OTHER. */
    assert_int_equal(parse_account_with_modes("[\"SharedKeyV2\",\"Shared\",\"\","
                                              "\"AVeryLongAuthenticationModeFromTheFuture\"]"),
                     BK_OK);
    assert_true(g_account.auth_modes_present);
    assert_int_equal(g_account.auth_modes, BK_AUTH_MODE_OTHER);
    assert_int_equal(parse_account_with_modes("[\"AAD\",\"Certificate\"]"), BK_OK);
    assert_int_equal(g_account.auth_modes, BK_AUTH_MODE_AAD | BK_AUTH_MODE_OTHER);

    static const char *const wrong[] = {"\"SharedKey\"",  "{}", "[1]", "[null]", "[[\"AAD\"]]",
                                        "[\"AAD\",true]", "7"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        expect_failure(parse_account_with_modes, &g_account, sizeof g_account, wrong[i],
                       BK_ERR_JSON_TYPE);
    }
    assert_int_equal(parse_account_with_modes("[\"\\ud800\"]"), BK_ERR_JSON_ESCAPE);
    assert_int_equal(parse_account_with_modes("[tru]"), BK_ERR_JSON_SYNTAX);
}

static void test_account_modes_only_under_properties(void **state) {
    (void)state;
    assert_int_equal(parse_account("{\"allowedAuthenticationModes\":[\"SharedKey\"],"
                                   "\"name\":\"acct\",\"location\":\"l\",\"properties\":{"
                                   "\"accountEndpoint\":\"e\",\"provisioningState\":\"Creating\","
                                   "\"x\":{\"allowedAuthenticationModes\":[\"AAD\"]}}}"),
                     BK_OK);
    assert_false(g_account.auth_modes_present);
    assert_string_equal(g_account.provisioning_state, "Creating");
}

static void test_account_required_fields(void **state) {
    (void)state;
    static const struct {
        const char *body;
        bk_result want;
    } cases[] = {
        {"{\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\",\"provisioningState\":"
         "\"s\"}}",
         BK_ERR_JSON_MISSING_FIELD},
        {"{\"name\":\"n\",\"properties\":{\"accountEndpoint\":\"e\",\"provisioningState\":\"s\"}}",
         BK_ERR_JSON_MISSING_FIELD},
        {"{\"name\":\"n\",\"location\":\"l\"}", BK_ERR_JSON_MISSING_FIELD},
        {"{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"provisioningState\":\"s\"}}",
         BK_ERR_JSON_MISSING_FIELD},
        {"{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\"}}",
         BK_ERR_JSON_MISSING_FIELD},
        {"{\"name\":\"n\",\"location\":\"l\",\"accountEndpoint\":\"e\",\"provisioningState\":"
         "\"s\",\"properties\":{}}",
         BK_ERR_JSON_MISSING_FIELD},
        {"{\"name\":\"n\",\"location\":\"l\",\"properties\":null}", BK_ERR_JSON_TYPE},
        {"{\"name\":\"n\",\"location\":\"l\",\"properties\":\"p\"}", BK_ERR_JSON_TYPE},
        {"{\"name\":\"n\",\"location\":\"l\",\"properties\":[]}", BK_ERR_JSON_TYPE},
        {"{\"name\":null,\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\","
         "\"provisioningState\":\"s\"}}",
         BK_ERR_JSON_TYPE},
        {"{\"name\":\"n\",\"location\":5,\"properties\":{\"accountEndpoint\":\"e\","
         "\"provisioningState\":\"s\"}}",
         BK_ERR_JSON_TYPE},
        {"{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\","
         "\"provisioningState\":null}}",
         BK_ERR_JSON_TYPE},
        {"{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":[],"
         "\"provisioningState\":\"s\"}}",
         BK_ERR_JSON_TYPE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_failure(parse_account, &g_account, sizeof g_account, cases[i].body, cases[i].want);
    }
}

static void test_account_endpoint_fit_and_overflow(void **state) {
    (void)state;
    static const char prefix[] = "{\"name\":\"n\",\"location\":\"l\",\"properties\":{"
                                 "\"provisioningState\":\"s\",\"accountEndpoint\":\"";
    static const char suffix[] = "\",\"allowedAuthenticationModes\":[\"SharedKey\"]}}";
    assert_int_equal(parse_account(body_with_run(prefix, BK_HOST_MAX, 'h', suffix)), BK_OK);
    assert_int_equal(strlen(g_account.account_endpoint), BK_HOST_MAX);
    assert_int_equal(g_account.auth_modes, BK_AUTH_MODE_SHARED_KEY);
    assert_int_equal(parse_account(body_with_run(prefix, BK_HOST_MAX + 1, 'h', suffix)),
                     BK_ERR_JSON_FIELD_OVERFLOW);
    assert_all_zero(&g_account, sizeof g_account);
}

/* --- CloudError and ErrorResponse --- */

/* One entry of error.details as the answer holds it, depth-first. */
typedef struct want_detail {
    int depth;
    const char *code, *message, *target;
} want_detail;

/* The n details of an answer against the room for them: with BK_ERROR_DETAILS_MAX or more (the
 * Linux sizes) all are kept; with less (a board), the first ones are kept, every one is counted
 * and the error says it was cut. */
static void check_details(const want_detail *want, size_t n) {
    const size_t kept = n < BK_ERROR_DETAILS_MAX ? n : BK_ERROR_DETAILS_MAX;
    assert_int_equal(g_cloud_error.detail_total, n);
    assert_int_equal(g_cloud_error.detail_count, kept);
    assert_int_equal(g_cloud_error.cut, n > BK_ERROR_DETAILS_MAX);
    for (size_t i = 0; i < kept; i++) {
        const bk_error_detail *d = &g_cloud_error.details[i];
        if (d->depth != want[i].depth || strcmp(d->code, want[i].code) != 0 ||
            strcmp(d->message, want[i].message) != 0 || strcmp(d->target, want[i].target) != 0) {
            fail_msg("details[%zu]: %d \"%s\" \"%s\" \"%s\", want %d \"%s\"", i, d->depth, d->code,
                     d->message, d->target, want[i].depth, want[i].code);
        }
    }
    if (kept < BK_ERROR_DETAILS_MAX) {
        /* The room after the last entry is left empty. */
        assert_int_equal(g_cloud_error.details[kept].depth, 0);
        assert_string_equal(g_cloud_error.details[kept].code, "");
    }
}

static void test_cloud_error_old_layout_nested_details(void **state) {
    (void)state;
    assert_int_equal(
        parse_cloud_error(
            "{\"error\":{\"code\":\"BadRequest\",\"message\":\"The request is invalid.\","
            "\"target\":\"keyName\",\"details\":["
            "{\"code\":\"D1\",\"message\":\"first\",\"target\":\"t1\",\"details\":["
            "{\"code\":\"D1.1\",\"message\":\"first of first\"},"
            "{\"code\":\"D1.2\",\"message\":\"second of first\",\"target\":\"t12\"}]},"
            "{\"code\":\"D2\",\"message\":\"second\",\"details\":[]}]}}"),
        BK_OK);
    assert_string_equal(g_cloud_error.code, "BadRequest");
    assert_string_equal(g_cloud_error.message, "The request is invalid.");
    assert_string_equal(g_cloud_error.target, "keyName");
    assert_int_equal(g_cloud_error.additional_info_count, 0);
    /* Depth-first: each entry, then its own details, then its next sibling. */
    static const want_detail want[] = {
        {1, "D1", "first", "t1"},
        {2, "D1.1", "first of first", ""},
        {2, "D1.2", "second of first", "t12"},
        {1, "D2", "second", ""},
    };
    check_details(want, sizeof want / sizeof want[0]);
}

static void test_cloud_error_v5_additional_info(void **state) {
    (void)state;
    assert_int_equal(
        parse_cloud_error(
            "{\"error\":{\"code\":\"RequestDisallowedByPolicy\","
            "\"message\":\"Resource 'acct' was disallowed by policy.\",\"target\":\"acct\","
            "\"additionalInfo\":["
            "{\"type\":\"PolicyViolation\",\"info\":{\"policyDefinitionDisplayName\":\"No keys\","
            "\"details\":[{\"code\":\"NotADetail\",\"message\":\"inside info\"}],"
            "\"evaluationDetails\":{\"evaluatedExpressions\":[{\"result\":\"True\"}]}}},"
            "{\"type\":\"RetryInfo\",\"info\":{\"retryAfter\":30}}],"
            "\"details\":[{\"code\":\"D1\",\"message\":\"m1\",\"target\":null,"
            "\"additionalInfo\":[{\"type\":\"Nested\",\"info\":{}}],"
            "\"details\":[{\"code\":\"D1.1\",\"message\":\"m11\",\"target\":\"t11\","
            "\"details\":[{\"code\":\"D1.1.1\",\"message\":\"m111\"}]}]}]}}"),
        BK_OK);
    assert_string_equal(g_cloud_error.code, "RequestDisallowedByPolicy");
    assert_string_equal(g_cloud_error.message, "Resource 'acct' was disallowed by policy.");
    assert_string_equal(g_cloud_error.target, "acct");
    assert_int_equal(g_cloud_error.additional_info_count, 2);
    assert_string_equal(g_cloud_error.additional_info_types[0], "PolicyViolation");
    assert_string_equal(g_cloud_error.additional_info_types[1], "RetryInfo");
    /* target null reads as empty. */
    static const want_detail want[] = {
        {1, "D1", "m1", ""},
        {2, "D1.1", "m11", "t11"},
        {3, "D1.1.1", "m111", ""},
    };
    check_details(want, sizeof want / sizeof want[0]);
}

static void test_cloud_error_minimal_and_optional(void **state) {
    (void)state;
    assert_int_equal(parse_cloud_error("{\"error\":{\"message\":\"m\",\"code\":\"c\","
                                       "\"target\":null,\"details\":null,\"additionalInfo\":null,"
                                       "\"innererror\":{\"code\":\"x\"}},\"code\":\"outer\"}"),
                     BK_OK);
    assert_string_equal(g_cloud_error.code, "c");
    assert_string_equal(g_cloud_error.message, "m");
    assert_string_equal(g_cloud_error.target, "");
    assert_int_equal(g_cloud_error.detail_count, 0);
    assert_int_equal(g_cloud_error.additional_info_count, 0);

    /* Inside details, code, message and target may each be absent. */
    assert_int_equal(parse_cloud_error("{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":"
                                       "[{},{\"code\":\"only\"}],\"additionalInfo\":[{}]}}"),
                     BK_OK);
    assert_int_equal(g_cloud_error.detail_count, 2);
    assert_string_equal(g_cloud_error.details[0].code, "");
    assert_int_equal(g_cloud_error.details[0].depth, 1);
    assert_string_equal(g_cloud_error.details[1].code, "only");
    assert_string_equal(g_cloud_error.details[1].message, "");
    assert_int_equal(g_cloud_error.additional_info_count, 1);
    assert_string_equal(g_cloud_error.additional_info_types[0], "");
}

static void test_cloud_error_errors(void **state) {
    (void)state;
    static const struct {
        const char *body;
        bk_result want;
    } cases[] = {
        {"{}", BK_ERR_JSON_MISSING_FIELD},
        {"{\"code\":\"c\",\"message\":\"m\"}", BK_ERR_JSON_MISSING_FIELD},
        {"{\"error\":{\"message\":\"m\"}}", BK_ERR_JSON_MISSING_FIELD},
        {"{\"error\":{\"code\":\"c\"}}", BK_ERR_JSON_MISSING_FIELD},
        {"{\"error\":{\"code\":\"c\",\"details\":[{\"message\":\"m\"}]}}",
         BK_ERR_JSON_MISSING_FIELD},
        {"{\"error\":null}", BK_ERR_JSON_TYPE},
        {"{\"error\":\"c\"}", BK_ERR_JSON_TYPE},
        {"{\"error\":[]}", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":null,\"message\":\"m\"}}", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":null}}", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"target\":3}}", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":{}}}", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":\"d\"}}", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":[\"d\"]}}", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":[{},null]}}", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":[{\"code\":1}]}}",
         BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":[{\"details\":[[]]}]}}",
         BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":[{\"details\":{}}]}}",
         BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"additionalInfo\":{}}}", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"additionalInfo\":[\"t\"]}}",
         BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"additionalInfo\":[{\"type\":7}]}}",
         BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":[{\"message\":\"\\udc00\"}]}}",
         BK_ERR_JSON_ESCAPE},
        {"[{\"error\":{\"code\":\"c\",\"message\":\"m\"}}]", BK_ERR_JSON_TYPE},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\"}", BK_ERR_JSON_SYNTAX},
        {"{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":[{},]}}", BK_ERR_JSON_SYNTAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_failure(parse_cloud_error, &g_cloud_error, sizeof g_cloud_error, cases[i].body,
                       cases[i].want);
    }
}

/* An ErrorResponse whose details hold `top` entries, each with `children` entries of its own. */
static const char *cloud_error_with_details(int top, int children) {
    size_t n = 0;
    n += (size_t)snprintf(g_body + n, sizeof g_body - n,
                          "{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":[");
    for (int i = 0; i < top; i++) {
        n += (size_t)snprintf(g_body + n, sizeof g_body - n,
                              "%s{\"code\":\"T%d\",\"message\":\"m\",\"details\":[",
                              i > 0 ? "," : "", i);
        for (int j = 0; j < children; j++) {
            n += (size_t)snprintf(g_body + n, sizeof g_body - n, "%s{\"code\":\"T%d.%d\"}",
                                  j > 0 ? "," : "", i, j);
        }
        n += (size_t)snprintf(g_body + n, sizeof g_body - n, "]}");
    }
    n += (size_t)snprintf(g_body + n, sizeof g_body - n, "]}}");
    assert_true(n < sizeof g_body);
    return g_body;
}

/* The code of the i-th detail kept from cloud_error_with_details(top, children), depth-first. */
static const char *nested_code(size_t i, int children) {
    static char code[48]; /* room for two full size_t: gcc -O0 checks that */
    size_t per = (size_t)children + 1, parent = i / per, child = i % per;
    if (child == 0) {
        snprintf(code, sizeof code, "T%zu", parent);
    } else {
        snprintf(code, sizeof code, "T%zu.%zu", parent, child - 1);
    }
    return code;
}

static void test_cloud_error_too_many_details(void **state) {
    (void)state;
    char want[32];
    /* BK_ERROR_DETAILS_MAX entries at any depth fit; one more does not. */
    assert_int_equal(parse_cloud_error(cloud_error_with_details(BK_ERROR_DETAILS_MAX, 0)), BK_OK);
    assert_int_equal(g_cloud_error.detail_count, BK_ERROR_DETAILS_MAX);
    snprintf(want, sizeof want, "T%d", BK_ERROR_DETAILS_MAX - 1);
    assert_string_equal(g_cloud_error.details[BK_ERROR_DETAILS_MAX - 1].code, want);

    /* Half as many entries, each with one of its own: T0, T0.0, T1, T1.0, ... */
    assert_int_equal(parse_cloud_error(cloud_error_with_details(BK_ERROR_DETAILS_MAX / 2, 1)),
                     BK_OK);
    assert_int_equal(g_cloud_error.detail_count, BK_ERROR_DETAILS_MAX);
    for (size_t i = 0; i < BK_ERROR_DETAILS_MAX; i++) {
        assert_string_equal(g_cloud_error.details[i].code, nested_code(i, 1));
        assert_int_equal(g_cloud_error.details[i].depth, i % 2 == 0 ? 1 : 2);
    }

    assert_false(g_cloud_error.cut);

    /* One more is counted and left out: the service's code and message still come through. */
    assert_int_equal(parse_cloud_error(cloud_error_with_details(BK_ERROR_DETAILS_MAX + 1, 0)),
                     BK_OK);
    assert_string_equal(g_cloud_error.code, "c");
    assert_int_equal(g_cloud_error.detail_count, BK_ERROR_DETAILS_MAX);
    assert_int_equal(g_cloud_error.detail_total, BK_ERROR_DETAILS_MAX + 1);
    assert_true(g_cloud_error.cut);
    assert_int_equal(parse_cloud_error(cloud_error_with_details(1, BK_ERROR_DETAILS_MAX)), BK_OK);
    assert_int_equal(g_cloud_error.detail_total, BK_ERROR_DETAILS_MAX + 1);
    snprintf(want, sizeof want, "T0.%d", BK_ERROR_DETAILS_MAX - 2);
    assert_string_equal(g_cloud_error.details[BK_ERROR_DETAILS_MAX - 1].code, want);
    /* Three entries of two: nine, past the room of either profile. */
    assert_int_equal(parse_cloud_error(cloud_error_with_details(3, 2)), BK_OK);
    assert_int_equal(g_cloud_error.detail_count, BK_ERROR_DETAILS_MAX);
    assert_int_equal(g_cloud_error.detail_total, 9);
    for (size_t i = 0; i < BK_ERROR_DETAILS_MAX; i++) {
        assert_string_equal(g_cloud_error.details[i].code, nested_code(i, 2));
    }
    assert_true(g_cloud_error.cut);
}

static void test_cloud_error_too_many_additional_info(void **state) {
    (void)state;
    size_t n = 0;
    n += (size_t)snprintf(g_body + n, sizeof g_body - n,
                          "{\"error\":{\"code\":\"c\",\"message\":\"m\",\"additionalInfo\":[");
    for (int i = 0; i < BK_ERROR_DETAILS_MAX; i++) {
        n += (size_t)snprintf(g_body + n, sizeof g_body - n, "%s{\"type\":\"I%d\",\"info\":{}}",
                              i > 0 ? "," : "", i);
    }
    size_t before_end = n;
    snprintf(g_body + n, sizeof g_body - n, "]}}");
    assert_int_equal(parse_cloud_error(g_body), BK_OK);
    assert_int_equal(g_cloud_error.additional_info_count, BK_ERROR_DETAILS_MAX);
    assert_int_equal(g_cloud_error.additional_info_total, BK_ERROR_DETAILS_MAX);
    char want[32];
    snprintf(want, sizeof want, "I%d", BK_ERROR_DETAILS_MAX - 1);
    assert_string_equal(g_cloud_error.additional_info_types[BK_ERROR_DETAILS_MAX - 1], want);
    assert_false(g_cloud_error.cut);

    snprintf(g_body + before_end, sizeof g_body - before_end, ",{\"type\":\"one more\"}]}}");
    assert_int_equal(parse_cloud_error(g_body), BK_OK);
    assert_string_equal(g_cloud_error.code, "c");
    assert_int_equal(g_cloud_error.additional_info_count, BK_ERROR_DETAILS_MAX);
    assert_int_equal(g_cloud_error.additional_info_total, BK_ERROR_DETAILS_MAX + 1);
    assert_true(g_cloud_error.cut);
}

static void test_cloud_error_message_fit_and_overflow(void **state) {
    (void)state;
    static const char prefix[] = "{\"error\":{\"code\":\"c\",\"message\":\"";
    assert_int_equal(parse_cloud_error(body_with_run(prefix, BK_MESSAGE_MAX, 'm', "\"}}")), BK_OK);
    assert_int_equal(strlen(g_cloud_error.message), BK_MESSAGE_MAX);
    assert_false(g_cloud_error.cut);
    /* One character more: cut, marked, and the code still there. */
    assert_int_equal(parse_cloud_error(body_with_run(prefix, BK_MESSAGE_MAX + 1, 'm', "\"}}")),
                     BK_OK);
    assert_string_equal(g_cloud_error.code, "c");
    assert_int_equal(strlen(g_cloud_error.message), BK_MESSAGE_MAX);
    assert_string_equal(g_cloud_error.message + BK_MESSAGE_MAX - BK_CUT_MARK_LEN, BK_CUT_MARK);
    assert_int_equal(g_cloud_error.message[BK_MESSAGE_MAX - BK_CUT_MARK_LEN - 1], 'm');
    assert_true(g_cloud_error.cut);
    assert_int_equal(parse_cloud_error(body_with_run("{\"error\":{\"message\":\"m\",\"code\":\"",
                                                     63, 'c', "\"}}")),
                     BK_OK);
    assert_int_equal(strlen(g_cloud_error.code), 63);
    assert_false(g_cloud_error.cut);
    assert_int_equal(parse_cloud_error(body_with_run("{\"error\":{\"message\":\"m\",\"code\":\"",
                                                     64, 'c', "\"}}")),
                     BK_OK);
    assert_int_equal(strlen(g_cloud_error.code), 63);
    assert_string_equal(g_cloud_error.code + 63 - BK_CUT_MARK_LEN, BK_CUT_MARK);
    assert_true(g_cloud_error.cut);
}

/* --- Entra ID token --- */

#define FAKE_JWT                                                                                   \
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0."    \
    "c2lnbmF0dXJlLW5vdC1yZWFs"

static void test_token_expires_in_number(void **state) {
    (void)state;
    assert_int_equal(parse_token("{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                                 "\"ext_expires_in\":3599,\"access_token\":\"" FAKE_JWT "\"}"),
                     BK_OK);
    assert_string_equal(g_token.access_token, FAKE_JWT);
    assert_int_equal(g_token.access_token_len, strlen(FAKE_JWT));
    assert_string_equal(g_token.token_type, "Bearer");
    assert_int_equal(g_token.expires_in_s, 3599);
}

static void test_token_expires_in_string(void **state) {
    (void)state;
    /* The shape of managed identity answers: numbers as strings. */
    assert_int_equal(parse_token("{\"access_token\":\"" FAKE_JWT "\",\"expires_in\":\"3599\","
                                 "\"expires_on\":\"1700003599\",\"resource\":"
                                 "\"https://management.azure.com/\",\"token_type\":\"Bearer\"}"),
                     BK_OK);
    assert_int_equal(g_token.expires_in_s, 3599);
    assert_int_equal(g_token.access_token_len, strlen(FAKE_JWT));
    assert_string_equal(g_token.token_type, "Bearer");
}

static void test_token_errors_wipe_the_token(void **state) {
    (void)state;
    static const struct {
        const char *body;
        bk_result want;
    } cases[] = {
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\"}",
         BK_ERR_JSON_MISSING_FIELD},
        {"{\"access_token\":\"" FAKE_JWT "\",\"expires_in\":3599}", BK_ERR_JSON_MISSING_FIELD},
        {"{\"token_type\":\"Bearer\",\"expires_in\":3599}", BK_ERR_JSON_MISSING_FIELD},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":null}",
         BK_ERR_JSON_TYPE},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":true}",
         BK_ERR_JSON_TYPE},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":{}}",
         BK_ERR_JSON_TYPE},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":null,\"expires_in\":1}",
         BK_ERR_JSON_TYPE},
        {"{\"access_token\":null,\"token_type\":\"Bearer\",\"expires_in\":1}", BK_ERR_JSON_TYPE},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":-1}",
         BK_ERR_JSON_NUMBER},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":3599.5}",
         BK_ERR_JSON_NUMBER},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":3.6e3}",
         BK_ERR_JSON_NUMBER},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":\"35.9\"}",
         BK_ERR_JSON_NUMBER},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":\"\"}",
         BK_ERR_JSON_NUMBER},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":01}",
         BK_ERR_JSON_NUMBER},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":tru}",
         BK_ERR_JSON_SYNTAX},
        {"{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":3599",
         BK_ERR_JSON_SYNTAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* The access token had been copied before the failing field was read. */
        expect_failure(parse_token, &g_token, sizeof g_token, cases[i].body, cases[i].want);
    }
}

static void test_token_exact_fit_and_overflow(void **state) {
    (void)state;
    static const char prefix[] = "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                                 "\"access_token\":\"";
    assert_int_equal(parse_token(body_with_run(prefix, BK_TOKEN_MAX, 'j', "\"}")), BK_OK);
    assert_int_equal(g_token.access_token_len, BK_TOKEN_MAX);
    assert_int_equal(strlen(g_token.access_token), BK_TOKEN_MAX);
    assert_int_equal(parse_token(body_with_run(prefix, BK_TOKEN_MAX + 1, 'j', "\"}")),
                     BK_ERR_JSON_FIELD_OVERFLOW);
    assert_all_zero(&g_token, sizeof g_token);
    assert_int_equal(parse_token(body_with_run("{\"expires_in\":1,\"access_token\":\"a\","
                                               "\"token_type\":\"",
                                               15, 'b', "\"}")),
                     BK_OK);
    assert_int_equal(strlen(g_token.token_type), 15);
}

/* --- Entra ID error --- */

static void test_entra_error_invalid_client_secret(void **state) {
    (void)state;
    assert_int_equal(
        parse_entra_error(
            "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client "
            "secret provided. Ensure the secret being sent in the request is the client secret "
            "value, not the client secret ID, for a secret added to app "
            "'00000000-0000-0000-0000-000000000000'.\\r\\nTrace ID: "
            "11111111-2222-3333-4444-555555555555\\r\\nCorrelation ID: "
            "66666666-7777-8888-9999-000000000000\\r\\nTimestamp: 2024-05-01 10:00:00Z\","
            "\"error_codes\":[7000215],\"timestamp\":\"2024-05-01 10:00:00Z\","
            "\"trace_id\":\"11111111-2222-3333-4444-555555555555\","
            "\"correlation_id\":\"66666666-7777-8888-9999-000000000000\","
            "\"error_uri\":\"https:\\/\\/login.microsoftonline.com\\/error?code=7000215\"}"),
        BK_OK);
    assert_string_equal(g_entra_error.error, "invalid_client");
    assert_int_equal(strncmp(g_entra_error.error_description, "AADSTS7000215: Invalid client", 29),
                     0);
    assert_non_null(strstr(g_entra_error.error_description, "'.\r\nTrace ID: 1111"));
    assert_int_equal(g_entra_error.error_code_count, 1);
    assert_int_equal(g_entra_error.error_codes[0], 7000215);
    assert_string_equal(g_entra_error.trace_id, "11111111-2222-3333-4444-555555555555");
    assert_string_equal(g_entra_error.correlation_id, "66666666-7777-8888-9999-000000000000");
}

static void test_entra_error_optional_fields(void **state) {
    (void)state;
    assert_int_equal(parse_entra_error("{\"error\":\"invalid_grant\"}"), BK_OK);
    assert_string_equal(g_entra_error.error, "invalid_grant");
    assert_string_equal(g_entra_error.error_description, "");
    assert_int_equal(g_entra_error.error_code_count, 0);
    assert_string_equal(g_entra_error.trace_id, "");
    assert_string_equal(g_entra_error.correlation_id, "");

    assert_int_equal(parse_entra_error("{\"error\":\"e\",\"error_description\":null,"
                                       "\"error_codes\":null,\"trace_id\":null}"),
                     BK_OK);
    assert_int_equal(g_entra_error.error_code_count, 0);

    assert_int_equal(parse_entra_error("{\"error\":\"e\",\"error_codes\":[1,2,3,4,5,6,7,"
                                       "4294967295]}"),
                     BK_OK);
    assert_int_equal(g_entra_error.error_code_count, 8);
    assert_int_equal(g_entra_error.error_codes[0], 1);
    assert_int_equal(g_entra_error.error_codes[7], 4294967295u);
}

static void test_entra_error_errors(void **state) {
    (void)state;
    static const struct {
        const char *body;
        bk_result want;
    } cases[] = {
        {"{\"error_description\":\"d\"}", BK_ERR_JSON_MISSING_FIELD},
        {"{\"error\":null}", BK_ERR_JSON_TYPE},
        {"{\"error\":400}", BK_ERR_JSON_TYPE},
        {"{\"error\":\"e\",\"error_codes\":7000215}", BK_ERR_JSON_TYPE},
        {"{\"error\":\"e\",\"error_codes\":[\"7000215\"]}", BK_ERR_JSON_TYPE},
        {"{\"error\":\"e\",\"error_codes\":[null]}", BK_ERR_JSON_TYPE},
        {"{\"error\":\"e\",\"error_codes\":[-1]}", BK_ERR_JSON_NUMBER},
        {"{\"error\":\"e\",\"error_codes\":[1.5]}", BK_ERR_JSON_NUMBER},
        {"{\"error\":\"e\",\"error_description\":5}", BK_ERR_JSON_TYPE},
        {"{\"error\":\"e\",\"correlation_id\":[]}", BK_ERR_JSON_TYPE},
        {"[\"error\"]", BK_ERR_JSON_TYPE},
        {"{\"error\":\"e\",}", BK_ERR_JSON_SYNTAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_failure(parse_entra_error, &g_entra_error, sizeof g_entra_error, cases[i].body,
                       cases[i].want);
    }
    /* A 36-character GUID, and anything up to 39 characters, fits. */
    assert_int_equal(
        parse_entra_error(body_with_run("{\"error\":\"e\",\"trace_id\":\"", 39, 'f', "\"}")),
        BK_OK);
    assert_int_equal(strlen(g_entra_error.trace_id), 39);
}

/* --- diagnostics cut and marked, needed fields exact --- */

/* A value for a text field: n characters 'a', 'b', ... 'z', 'a', ... (so where a cut fell
 * shows), or, with straddle, n - 7 of them, a two-byte character escaped, and ten more. */
static char g_value[BK_TOKEN_MAX + 64];
static char g_want[BK_TOKEN_MAX + 64];

static const char *value_of(size_t n, bool straddle) {
    assert_true(n + 16 < sizeof g_value);
    size_t plain = straddle ? n - 7 : n;
    for (size_t i = 0; i < plain; i++) {
        g_value[i] = (char)('a' + i % 26);
    }
    g_value[plain] = '\0';
    if (straddle) {
        strcat(g_value, "\\u00e9zzzzzzzzzz");
    }
    return g_value;
}

/* What a field of cap bytes holds after value_of(n, straddle): the value, or its start and the
 * mark. The escaped character of a straddling value sits across the cut point and goes whole. */
static const char *kept_of(size_t cap, size_t n, bool straddle) {
    if (!straddle && n < cap) {
        return value_of(n, false);
    }
    size_t keep = straddle ? n - 7 : cap - 1 - BK_CUT_MARK_LEN;
    memcpy(g_want, value_of(n, false), keep);
    memcpy(g_want + keep, BK_CUT_MARK, BK_CUT_MARK_LEN + 1);
    return g_want;
}

/* The lengths each text field is tried at: the longest that fits, the shortest that is cut,
 * far longer, and a two-byte character across the cut point. */
typedef struct field_try {
    size_t n;
    bool straddle;
    bool cut;
} field_try;

static size_t field_tries(size_t cap, field_try tries[4]) {
    tries[0] = (field_try){cap - 1, false, false};
    tries[1] = (field_try){cap, false, true};
    tries[2] = (field_try){3 * cap + 7, false, true};
    /* cap - 7 plain characters, then the escape: its two bytes sit at cap - 7 and cap - 6, across
     * the end of the cap - 6 bytes of text kept beside the mark. */
    tries[3] = (field_try){cap, true, true};
    return 4;
}

/* CloudError with every text field set: each field is tried while the others keep these. */
enum {
    CE_CODE,
    CE_MESSAGE,
    CE_TARGET,
    CE_DETAIL_CODE,
    CE_DETAIL_MESSAGE,
    CE_DETAIL_TARGET,
    CE_INFO_TYPE,
    CE_FIELDS
};
static const char *const ce_names[CE_FIELDS] = {"code",
                                                "message",
                                                "target",
                                                "details[0].code",
                                                "details[0].message",
                                                "details[0].target",
                                                "additionalInfo[0].type"};
static const char *const ce_defaults[CE_FIELDS] = {"C", "M", "T", "DC", "DM", "DT", "IT"};

static const char *cloud_error_with(int field, const char *value) {
    const char *v[CE_FIELDS];
    for (int i = 0; i < CE_FIELDS; i++) {
        v[i] = i == field ? value : ce_defaults[i];
    }
    int n = snprintf(g_body, sizeof g_body,
                     "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"target\":\"%s\","
                     "\"details\":[{\"code\":\"%s\",\"message\":\"%s\",\"target\":\"%s\"}],"
                     "\"additionalInfo\":[{\"type\":\"%s\",\"info\":{}}]}}",
                     v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    assert_true(n > 0 && (size_t)n < sizeof g_body);
    return g_body;
}

static const char *ce_field(int field, size_t *cap) {
    bk_cloud_error *e = &g_cloud_error;
    switch (field) {
    case CE_CODE:
        *cap = sizeof e->code;
        return e->code;
    case CE_MESSAGE:
        *cap = sizeof e->message;
        return e->message;
    case CE_TARGET:
        *cap = sizeof e->target;
        return e->target;
    case CE_DETAIL_CODE:
        *cap = sizeof e->details[0].code;
        return e->details[0].code;
    case CE_DETAIL_MESSAGE:
        *cap = sizeof e->details[0].message;
        return e->details[0].message;
    case CE_DETAIL_TARGET:
        *cap = sizeof e->details[0].target;
        return e->details[0].target;
    default:
        *cap = sizeof e->additional_info_types[0];
        return e->additional_info_types[0];
    }
}

static void test_cloud_error_every_text_field_at_its_boundary(void **state) {
    (void)state;
    for (int field = 0; field < CE_FIELDS; field++) {
        size_t cap;
        (void)ce_field(field, &cap);
        field_try tries[4];
        size_t count = field_tries(cap, tries);
        for (size_t t = 0; t < count; t++) {
            const field_try *f = &tries[t];
            bk_result r = parse_cloud_error(cloud_error_with(field, value_of(f->n, f->straddle)));
            if (r != BK_OK) {
                fail_msg("%s of %zu: %d", ce_names[field], f->n, (int)r);
            }
            const char *want = kept_of(cap, f->n, f->straddle);
            for (int other = 0; other < CE_FIELDS; other++) {
                size_t other_cap;
                const char *got = ce_field(other, &other_cap);
                const char *expected = other == field ? want : ce_defaults[other];
                if (strcmp(got, expected) != 0) {
                    fail_msg("%s of %zu%s: %s is \"%s\"", ce_names[field], f->n,
                             f->straddle ? " (straddling)" : "", ce_names[other], got);
                }
            }
            assert_true(strlen(want) < cap);
            assert_int_equal(g_cloud_error.cut, f->cut);
            assert_int_equal(g_cloud_error.detail_count, 1);
            assert_int_equal(g_cloud_error.details[0].depth, 1);
            assert_int_equal(g_cloud_error.additional_info_count, 1);
        }
    }
}

static void test_cloud_error_entries_counted_past_the_room(void **state) {
    (void)state;
    const int details = 3 * BK_ERROR_DETAILS_MAX + 1, infos = 2 * BK_ERROR_DETAILS_MAX + 3;
    size_t n = (size_t)snprintf(g_body, sizeof g_body,
                                "{\"error\":{\"code\":\"c\",\"message\":\"m\",\"details\":[");
    for (int i = 0; i < details; i++) {
        n += (size_t)snprintf(g_body + n, sizeof g_body - n, "%s{\"code\":\"D%d\"}",
                              i > 0 ? "," : "", i);
    }
    n += (size_t)snprintf(g_body + n, sizeof g_body - n, "],\"additionalInfo\":[");
    for (int i = 0; i < infos; i++) {
        n += (size_t)snprintf(g_body + n, sizeof g_body - n, "%s{\"type\":\"I%d\"}",
                              i > 0 ? "," : "", i);
    }
    n += (size_t)snprintf(g_body + n, sizeof g_body - n, "]}}");
    assert_true(n < sizeof g_body);
    assert_int_equal(parse_cloud_error(g_body), BK_OK);
    assert_string_equal(g_cloud_error.code, "c");
    assert_string_equal(g_cloud_error.message, "m");
    assert_int_equal(g_cloud_error.detail_count, BK_ERROR_DETAILS_MAX);
    assert_int_equal(g_cloud_error.detail_total, details);
    assert_int_equal(g_cloud_error.additional_info_count, BK_ERROR_DETAILS_MAX);
    assert_int_equal(g_cloud_error.additional_info_total, infos);
    for (int i = 0; i < BK_ERROR_DETAILS_MAX; i++) {
        char want[16];
        snprintf(want, sizeof want, "D%d", i);
        assert_string_equal(g_cloud_error.details[i].code, want);
        snprintf(want, sizeof want, "I%d", i);
        assert_string_equal(g_cloud_error.additional_info_types[i], want);
    }
    assert_true(g_cloud_error.cut);
}

/* The Entra error's text fields, each tried while the others keep these. */
enum { EE_ERROR, EE_DESCRIPTION, EE_TRACE_ID, EE_CORRELATION_ID, EE_FIELDS };
static const char *const ee_names[EE_FIELDS] = {"error", "error_description", "trace_id",
                                                "correlation_id"};
static const char *const ee_defaults[EE_FIELDS] = {"E", "ED", "TR", "CO"};

static const char *entra_error_with(int field, const char *value) {
    const char *v[EE_FIELDS];
    for (int i = 0; i < EE_FIELDS; i++) {
        v[i] = i == field ? value : ee_defaults[i];
    }
    int n = snprintf(g_body, sizeof g_body,
                     "{\"error\":\"%s\",\"error_description\":\"%s\",\"error_codes\":[7000215],"
                     "\"trace_id\":\"%s\",\"correlation_id\":\"%s\"}",
                     v[0], v[1], v[2], v[3]);
    assert_true(n > 0 && (size_t)n < sizeof g_body);
    return g_body;
}

static const char *ee_field(int field, size_t *cap) {
    bk_entra_error *e = &g_entra_error;
    switch (field) {
    case EE_ERROR:
        *cap = sizeof e->error;
        return e->error;
    case EE_DESCRIPTION:
        *cap = sizeof e->error_description;
        return e->error_description;
    case EE_TRACE_ID:
        *cap = sizeof e->trace_id;
        return e->trace_id;
    default:
        *cap = sizeof e->correlation_id;
        return e->correlation_id;
    }
}

static void test_entra_error_every_text_field_at_its_boundary(void **state) {
    (void)state;
    for (int field = 0; field < EE_FIELDS; field++) {
        size_t cap;
        (void)ee_field(field, &cap);
        field_try tries[4];
        size_t count = field_tries(cap, tries);
        for (size_t t = 0; t < count; t++) {
            const field_try *f = &tries[t];
            bk_result r = parse_entra_error(entra_error_with(field, value_of(f->n, f->straddle)));
            if (r != BK_OK) {
                fail_msg("%s of %zu: %d", ee_names[field], f->n, (int)r);
            }
            const char *want = kept_of(cap, f->n, f->straddle);
            for (int other = 0; other < EE_FIELDS; other++) {
                size_t other_cap;
                const char *got = ee_field(other, &other_cap);
                const char *expected = other == field ? want : ee_defaults[other];
                if (strcmp(got, expected) != 0) {
                    fail_msg("%s of %zu: %s is \"%s\"", ee_names[field], f->n, ee_names[other],
                             got);
                }
            }
            assert_int_equal(g_entra_error.cut, f->cut);
            assert_int_equal(g_entra_error.error_code_count, 1);
            assert_int_equal(g_entra_error.error_codes[0], 7000215);
        }
    }
}

static void test_entra_error_codes_counted_and_clamped(void **state) {
    (void)state;
    const size_t room = sizeof g_entra_error.error_codes / sizeof g_entra_error.error_codes[0];
    for (size_t codes = room - 1; codes <= room + 4; codes++) {
        size_t n = (size_t)snprintf(g_body, sizeof g_body, "{\"error\":\"e\",\"error_codes\":[");
        for (size_t i = 0; i < codes; i++) {
            n += (size_t)snprintf(g_body + n, sizeof g_body - n, "%s%zu", i > 0 ? "," : "",
                                  50000 + i);
        }
        snprintf(g_body + n, sizeof g_body - n, "],\"trace_id\":\"t\"}");
        assert_int_equal(parse_entra_error(g_body), BK_OK);
        assert_int_equal(g_entra_error.error_code_total, codes);
        assert_int_equal(g_entra_error.error_code_count, codes < room ? codes : room);
        for (size_t i = 0; i < g_entra_error.error_code_count; i++) {
            assert_int_equal(g_entra_error.error_codes[i], 50000 + i);
        }
        assert_int_equal(g_entra_error.cut, codes > room);
        assert_string_equal(g_entra_error.trace_id, "t");
    }
    /* A code above UINT32_MAX reads as UINT32_MAX; the rest of the answer stays. */
    assert_int_equal(parse_entra_error("{\"error\":\"e\",\"error_codes\":[4294967295,4294967296,"
                                       "99999999999999999999999,7],\"trace_id\":\"t\"}"),
                     BK_OK);
    assert_int_equal(g_entra_error.error_code_count, 4);
    assert_int_equal(g_entra_error.error_codes[0], UINT32_MAX);
    assert_int_equal(g_entra_error.error_codes[1], UINT32_MAX);
    assert_int_equal(g_entra_error.error_codes[2], UINT32_MAX);
    assert_int_equal(g_entra_error.error_codes[3], 7);
    assert_string_equal(g_entra_error.trace_id, "t");
}

/* BatchAccount: location and provisioningState are diagnostics, cut and flagged. */
static const char *account_with(const char *location, const char *state_text) {
    int n = snprintf(g_body, sizeof g_body,
                     "{\"name\":\"acct\",\"location\":\"%s\",\"properties\":{"
                     "\"accountEndpoint\":\"acct.westeurope.batch.azure.com\","
                     "\"provisioningState\":\"%s\",\"allowedAuthenticationModes\":[\"AAD\"]}}",
                     location, state_text);
    assert_true(n > 0 && (size_t)n < sizeof g_body);
    return g_body;
}

static void test_account_diagnostics_cut(void **state) {
    (void)state;
    for (int which = 0; which < 2; which++) {
        size_t cap = which == 0 ? sizeof g_account.location : sizeof g_account.provisioning_state;
        field_try tries[4];
        size_t count = field_tries(cap, tries);
        for (size_t t = 0; t < count; t++) {
            const field_try *f = &tries[t];
            const char *value = value_of(f->n, f->straddle);
            bk_result r = parse_account(which == 0 ? account_with(value, "Succeeded")
                                                   : account_with("westeurope", value));
            assert_int_equal(r, BK_OK);
            const char *want = kept_of(cap, f->n, f->straddle);
            assert_string_equal(which == 0 ? g_account.location : g_account.provisioning_state,
                                want);
            assert_string_equal(which == 0 ? g_account.provisioning_state : g_account.location,
                                which == 0 ? "Succeeded" : "westeurope");
            assert_int_equal(g_account.cut, f->cut);
            assert_string_equal(g_account.name, "acct");
            assert_string_equal(g_account.account_endpoint, "acct.westeurope.batch.azure.com");
            assert_int_equal(g_account.auth_modes, BK_AUTH_MODE_AAD);
        }
    }
}

static void test_token_type_cut(void **state) {
    (void)state;
    size_t cap = sizeof g_token.token_type;
    field_try tries[4];
    size_t count = field_tries(cap, tries);
    for (size_t t = 0; t < count; t++) {
        const field_try *f = &tries[t];
        int n = snprintf(g_body, sizeof g_body,
                         "{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"%s\","
                         "\"expires_in\":3599}",
                         value_of(f->n, f->straddle));
        assert_true(n > 0 && (size_t)n < sizeof g_body);
        assert_int_equal(parse_token(g_body), BK_OK);
        assert_string_equal(g_token.token_type, kept_of(cap, f->n, f->straddle));
        assert_string_equal(g_token.access_token, FAKE_JWT);
        assert_int_equal(g_token.expires_in_s, 3599);
    }
}

/* Fields the operation acts on: the longest that fits is read whole, one character more fails
 * the parse and leaves nothing behind. */
static void test_needed_fields_overflow_fails(void **state) {
    (void)state;
    static const struct {
        const char *name;
        const char *format; /* the value at %s */
        size_t max;         /* the longest value that fits */
        int model;          /* 0 keys, 1 account, 2 token */
    } fields[] = {
        {"accountName", "{\"accountName\":\"%s\",\"primary\":\"p\",\"secondary\":\"s\"}", 24, 0},
        {"primary", "{\"accountName\":\"a\",\"primary\":\"%s\",\"secondary\":\"s\"}", BK_KEY_MAX,
         0},
        {"secondary", "{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"%s\"}", BK_KEY_MAX,
         0},
        {"name",
         "{\"name\":\"%s\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\","
         "\"provisioningState\":\"s\"}}",
         24, 1},
        {"accountEndpoint",
         "{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"%s\","
         "\"provisioningState\":\"s\"}}",
         BK_HOST_MAX, 1},
        {"access_token", "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":1}",
         BK_TOKEN_MAX, 2},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        for (size_t n = fields[i].max; n <= fields[i].max + 1; n++) {
            int len = snprintf(g_body, sizeof g_body, fields[i].format, value_of(n, false));
            assert_true(len > 0 && (size_t)len < sizeof g_body);
            bk_result want = n <= fields[i].max ? BK_OK : BK_ERR_JSON_FIELD_OVERFLOW;
            bk_result r;
            const char *got = NULL;
            if (fields[i].model == 0) {
                memset(&g_keys, 0x55, sizeof g_keys);
                r = parse_keys(g_body);
                got = i == 0 ? g_keys.account_name : i == 1 ? g_keys.primary : g_keys.secondary;
                if (r != BK_OK) {
                    assert_all_zero(&g_keys, sizeof g_keys);
                }
            } else if (fields[i].model == 1) {
                memset(&g_account, 0x55, sizeof g_account);
                r = parse_account(g_body);
                got = i == 3 ? g_account.name : g_account.account_endpoint;
                if (r != BK_OK) {
                    assert_all_zero(&g_account, sizeof g_account);
                }
            } else {
                memset(&g_token, 0x55, sizeof g_token);
                r = parse_token(g_body);
                got = g_token.access_token;
                if (r != BK_OK) {
                    assert_all_zero(&g_token, sizeof g_token);
                }
            }
            if (r != want) {
                fail_msg("%s of %zu: %d, want %d", fields[i].name, n, (int)r, (int)want);
            }
            if (r == BK_OK) {
                assert_string_equal(got, value_of(n, false));
            }
        }
    }
}

/* --- duplicates --- */

static void test_duplicate_needed_fields(void **state) {
    (void)state;
    static const struct {
        int model; /* 0 keys, 1 account, 2 token */
        const char *body;
    } cases[] = {
        {0, "{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\",\"primary\":\"q\"}"},
        {0, "{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\",\"secondary\":\"s\"}"},
        {0, "{\"accountName\":\"a\",\"accountName\":\"b\",\"primary\":\"p\",\"secondary\":\"s\"}"},
        {0,
         "{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\",\"prim\\u0061ry\":\"q\"}"},
        {0,
         "{\"prim\\u0061ry\":\"q\",\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\"}"},
        {0, "{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\",\"se\\u0063ondary\":1}"},
        {0, "{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\",\"\\u0061ccountName\":"
            "null}"},
        {1, "{\"name\":\"n\",\"name\":\"m\",\"location\":\"l\",\"properties\":{"
            "\"accountEndpoint\":\"e\",\"provisioningState\":\"s\"}}"},
        {1, "{\"name\":\"n\",\"n\\u0061me\":\"m\",\"location\":\"l\",\"properties\":{"
            "\"accountEndpoint\":\"e\",\"provisioningState\":\"s\"}}"},
        {1, "{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\","
            "\"provisioningState\":\"s\",\"accountEndpoint\":\"evil\"}}"},
        {1, "{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\","
            "\"provisioningState\":\"s\",\"accountEndpoin\\u0074\":\"evil\"}}"},
        {1, "{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\","
            "\"provisioningState\":\"s\",\"allowedAuthenticationModes\":[\"AAD\"],"
            "\"allowedAuthenticationModes\":[\"SharedKey\"]}}"},
        {1, "{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\","
            "\"provisioningState\":\"s\",\"allowedAuthenticationModes\":[\"AAD\"],"
            "\"allowedAuthentic\\u0061tionModes\":null}}"},
        {1, "{\"name\":\"n\",\"location\":\"l\",\"properties\":{\"accountEndpoint\":\"e\","
            "\"provisioningState\":\"s\"},\"properties\":{}}"},
        {2, "{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":1,"
            "\"access_token\":\"u\"}"},
        {2, "{\"\\u0061ccess_token\":\"u\",\"access_token\":\"t\",\"token_type\":\"Bearer\","
            "\"expires_in\":1}"},
        {2, "{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":1,"
            "\"expires_in\":86400}"},
        {2, "{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_in\":1,"
            "\"expires\\u005fin\":\"1\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].model == 0) {
            expect_failure(parse_keys, &g_keys, sizeof g_keys, cases[i].body,
                           BK_ERR_JSON_DUPLICATE_KEY);
        } else if (cases[i].model == 1) {
            expect_failure(parse_account, &g_account, sizeof g_account, cases[i].body,
                           BK_ERR_JSON_DUPLICATE_KEY);
        } else {
            expect_failure(parse_token, &g_token, sizeof g_token, cases[i].body,
                           BK_ERR_JSON_DUPLICATE_KEY);
        }
    }
    /* The same names inside nested objects are other objects' members. */
    assert_int_equal(parse_keys("{\"accountName\":\"a\",\"primary\":\"p\",\"secondary\":\"s\","
                                "\"x\":{\"primary\":\"q\",\"secondary\":\"r\"}}"),
                     BK_OK);
    assert_string_equal(g_keys.primary, "p");
    assert_int_equal(parse_account("{\"name\":\"n\",\"location\":\"l\",\"properties\":{"
                                   "\"name\":\"inner\",\"accountEndpoint\":\"e\","
                                   "\"provisioningState\":\"s\"}}"),
                     BK_OK);
    assert_string_equal(g_account.name, "n");
}

static void test_duplicate_diagnostic_fields_are_fine(void **state) {
    (void)state;
    /* The first of duplicate diagnostics is kept. */
    assert_int_equal(parse_cloud_error("{\"error\":{\"code\":\"c1\",\"message\":\"first\","
                                       "\"message\":\"second\",\"code\":\"c2\",\"target\":\"t1\","
                                       "\"target\":\"t2\",\"details\":[{\"message\":\"d1\","
                                       "\"message\":\"d2\"}]}}"),
                     BK_OK);
    assert_string_equal(g_cloud_error.code, "c1");
    assert_string_equal(g_cloud_error.message, "first");
    assert_string_equal(g_cloud_error.target, "t1");
    assert_string_equal(g_cloud_error.details[0].message, "d1");
    assert_int_equal(parse_entra_error("{\"error\":\"e1\",\"error_description\":\"d1\","
                                       "\"error\":\"e2\",\"error_description\":\"d2\","
                                       "\"trace_id\":\"t1\",\"trace_id\":\"t2\"}"),
                     BK_OK);
    assert_string_equal(g_entra_error.error, "e1");
    assert_string_equal(g_entra_error.error_description, "d1");
    assert_string_equal(g_entra_error.trace_id, "t1");
    assert_int_equal(parse_account("{\"name\":\"n\",\"location\":\"l1\",\"location\":\"l2\","
                                   "\"properties\":{\"accountEndpoint\":\"e\","
                                   "\"provisioningState\":\"s1\",\"provisioningState\":\"s2\"}}"),
                     BK_OK);
    assert_string_equal(g_account.location, "l1");
    assert_string_equal(g_account.provisioning_state, "s1");
    assert_int_equal(parse_token("{\"access_token\":\"t\",\"token_type\":\"Bearer\","
                                 "\"token_type\":\"pop\",\"expires_in\":1}"),
                     BK_OK);
    assert_string_equal(g_token.token_type, "Bearer");
}

/* --- expires_in clamped --- */

static void test_expires_in_clamped(void **state) {
    (void)state;
    static const struct {
        const char *value;
        uint64_t want;
    } cases[] = {
        {"0", 0},
        {"86399", 86399},
        {"86400", 86400},
        {"86401", BK_TOKEN_LIFETIME_MAX_S},
        {"4294967296", BK_TOKEN_LIFETIME_MAX_S},
        {"99999999999999999999", BK_TOKEN_LIFETIME_MAX_S},
        {"\"86400\"", 86400},
        {"\"86401\"", BK_TOKEN_LIFETIME_MAX_S},
        {"\"99999999999999999999\"", BK_TOKEN_LIFETIME_MAX_S},
    };
    assert_int_equal(BK_TOKEN_LIFETIME_MAX_S, 86400);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(g_body, sizeof g_body,
                 "{\"access_token\":\"" FAKE_JWT "\",\"token_type\":\"Bearer\",\"expires_in\":%s}",
                 cases[i].value);
        assert_int_equal(parse_token(g_body), BK_OK);
        if (g_token.expires_in_s != cases[i].want) {
            fail_msg("expires_in %s: %llu", cases[i].value,
                     (unsigned long long)g_token.expires_in_s);
        }
        assert_string_equal(g_token.access_token, FAKE_JWT);
    }
}

/* --- error bodies with more tokens than there is room for --- */

static char g_big[65536];

/* An Azure Policy denial as ARM sends it for a Batch account: a long message and entries with
 * a dozen policy fields each, far more tokens than BK_JSON_TOKENS_MAX. */
static size_t policy_denial(void) {
    size_t n = (size_t)snprintf(g_big, sizeof g_big,
                                "{\"error\":{\"code\":\"RequestDisallowedByPolicy\",\"message\":\""
                                "Resource 'batchacct01' was disallowed by policy. Policy "
                                "identifiers: '");
    for (int i = 0; n < 2100; i++) {
        n += (size_t)snprintf(
            g_big + n, sizeof g_big - n,
            "[{\\\"policyAssignment\\\":{\\\"name\\\":\\\"No shared keys %d\\\",\\\"id\\\":"
            "\\\"/subscriptions/00000000-0000-0000-0000-000000000000/providers/"
            "Microsoft.Authorization/policyAssignments/deny-keys-%d\\\"}}] ",
            i, i);
    }
    n += (size_t)snprintf(g_big + n, sizeof g_big - n,
                          "'.\",\"target\":\"batchacct01\",\"additionalInfo\":[");
    for (int i = 0; i < 12; i++) {
        n += (size_t)snprintf(
            g_big + n, sizeof g_big - n,
            "%s{\"type\":\"PolicyViolation\",\"info\":{"
            "\"policyDefinitionDisplayName\":\"Batch accounts should not allow shared keys\","
            "\"policyDefinitionId\":\"/providers/Microsoft.Authorization/policyDefinitions/"
            "1f1c6d2e-0000-4000-8000-%012d\","
            "\"policyDefinitionName\":\"1f1c6d2e-0000-4000-8000-%012d\","
            "\"policyDefinitionEffect\":\"Deny\","
            "\"policyAssignmentId\":\"/subscriptions/00000000-0000-0000-0000-000000000000/"
            "providers/Microsoft.Authorization/policyAssignments/deny-keys-%d\","
            "\"policyAssignmentName\":\"deny-keys-%d\","
            "\"policyAssignmentDisplayName\":\"No shared keys %d\","
            "\"policyAssignmentScope\":\"/subscriptions/00000000-0000-0000-0000-000000000000\","
            "\"policyAssignmentParameters\":{\"effect\":{\"value\":\"Deny\"}},"
            "\"policySetDefinitionId\":\"/providers/Microsoft.Authorization/"
            "policySetDefinitions/batch-baseline\","
            "\"policyDefinitionReferenceId\":\"noSharedKey%d\","
            "\"policyExemptionIds\":[],"
            "\"evaluationDetails\":{\"evaluatedExpressions\":["
            "{\"result\":\"True\",\"expressionKind\":\"Field\",\"expression\":\"type\","
            "\"path\":\"type\",\"expressionValue\":\"Microsoft.Batch/batchAccounts\","
            "\"targetValue\":\"Microsoft.Batch/batchAccounts\",\"operator\":\"Equals\"},"
            "{\"result\":\"True\",\"expressionKind\":\"Field\",\"expression\":"
            "\"Microsoft.Batch/batchAccounts/allowedAuthenticationModes[*]\","
            "\"path\":\"properties.allowedAuthenticationModes[*]\","
            "\"expressionValue\":[\"SharedKey\",\"AAD\"],\"targetValue\":\"SharedKey\","
            "\"operator\":\"In\"}],\"reason\":\"Shared key access is not allowed.\"}}}",
            i > 0 ? "," : "", i, i, i, i, i, i);
    }
    n += (size_t)snprintf(g_big + n, sizeof g_big - n, "]}}");
    assert_true(n < sizeof g_big - 1);
    return n;
}

/* The whole document's tokens, for reference. */
static bk_json_token g_all_tokens[4096];

static bk_json_doc whole_doc(const char *text, size_t len) {
    size_t count = 0;
    assert_int_equal(bk_json_tokenize(text, len, g_all_tokens, 4096, &count), BK_OK);
    bk_json_doc doc = {text, g_all_tokens, (int)count, false};
    return doc;
}

/* Entries of the array at arr among the first budget tokens. */
static size_t entries_within(const bk_json_doc *doc, int arr, size_t budget) {
    size_t n = 0;
    for (size_t i = 0; i < budget && i < (size_t)doc->count; i++) {
        n += doc->tokens[i].parent == arr;
    }
    return n;
}

static void test_policy_denial_read_past_the_token_budget(void **state) {
    (void)state;
    size_t len = policy_denial();
    bk_json_doc whole = whole_doc(g_big, len);
    assert_true(whole.count > 3 * BK_JSON_TOKENS_MAX);

    /* Room for every token: all of it is read, and what did not fit is cut or counted. */
    assert_int_equal(bk_parse_cloud_error(g_big, len, g_all_tokens, 4096, &g_cloud_error), BK_OK);
    assert_string_equal(g_cloud_error.code, "RequestDisallowedByPolicy");
    assert_int_equal(g_cloud_error.additional_info_count, BK_ERROR_DETAILS_MAX);
    assert_int_equal(g_cloud_error.additional_info_total, 12);
    assert_int_equal(g_cloud_error.detail_count, 0);
    assert_true(g_cloud_error.cut);

    /* The library's own budget: the start of the body, which holds what matters. */
    assert_int_equal(bk_parse_cloud_error(g_big, len, g_tokens, BK_JSON_TOKENS_MAX, &g_cloud_error),
                     BK_OK);
    assert_string_equal(g_cloud_error.code, "RequestDisallowedByPolicy");
    assert_int_equal(strlen(g_cloud_error.message), BK_MESSAGE_MAX);
    assert_int_equal(strncmp(g_cloud_error.message, "Resource 'batchacct01' was disallowed", 37),
                     0);
    assert_string_equal(g_cloud_error.message + BK_MESSAGE_MAX - BK_CUT_MARK_LEN, BK_CUT_MARK);
    assert_string_equal(g_cloud_error.target, "batchacct01");
    assert_true(g_cloud_error.additional_info_count >= 2);
    assert_true(g_cloud_error.additional_info_total < 12);
    assert_string_equal(g_cloud_error.additional_info_types[0], "PolicyViolation");
    assert_string_equal(g_cloud_error.additional_info_types[1], "PolicyViolation");
    assert_int_equal(g_cloud_error.detail_count, 0);
    assert_true(g_cloud_error.cut);
}

/* Every budget, each in an array of exactly that many tokens (so ASan sees a read past them):
 * the fields the tokens reach are read, the others are empty, and a budget too small for the
 * error object is a clean failure. */
static void test_policy_denial_every_token_budget(void **state) {
    (void)state;
    size_t len = policy_denial();
    bk_json_doc whole = whole_doc(g_big, len);
    int error_obj = bk_json_find(&whole, 0, "error");
    int code = bk_json_find(&whole, error_obj, "code");
    int message = bk_json_find(&whole, error_obj, "message");
    int target = bk_json_find(&whole, error_obj, "target");
    int infos = bk_json_find(&whole, error_obj, "additionalInfo");
    assert_true(error_obj > 0 && code > 0 && message > 0 && target > 0 && infos > 0);
    char full_message[BK_MESSAGE_MAX + 1];
    bool cut = false;
    assert_int_equal(bk_json_string_cut(&whole, message, full_message, sizeof full_message, &cut),
                     BK_OK);
    assert_true(cut);

    for (size_t budget = 1; budget <= BK_JSON_TOKENS_MAX; budget++) {
        bk_json_token *tokens = malloc(budget * sizeof *tokens);
        assert_non_null(tokens);
        memset(&g_cloud_error, 0x55, sizeof g_cloud_error);
        bk_result r = bk_parse_cloud_error(g_big, len, tokens, budget, &g_cloud_error);
        free(tokens);
        if (budget <= (size_t)error_obj) {
            /* Not even the error object: the service said nothing readable. */
            assert_int_equal(r, BK_ERR_JSON_MISSING_FIELD);
            assert_all_zero(&g_cloud_error, sizeof g_cloud_error);
            continue;
        }
        if (r != BK_OK) {
            fail_msg("budget %zu: %d", budget, (int)r);
        }
        assert_true(g_cloud_error.cut);
        assert_string_equal(g_cloud_error.code,
                            budget > (size_t)code ? "RequestDisallowedByPolicy" : "");
        assert_string_equal(g_cloud_error.message, budget > (size_t)message ? full_message : "");
        assert_string_equal(g_cloud_error.target, budget > (size_t)target ? "batchacct01" : "");
        size_t seen = entries_within(&whole, infos, budget);
        assert_int_equal(g_cloud_error.additional_info_total, seen);
        assert_int_equal(g_cloud_error.additional_info_count,
                         seen < BK_ERROR_DETAILS_MAX ? seen : BK_ERROR_DETAILS_MAX);
        for (size_t i = 0; i < g_cloud_error.additional_info_count; i++) {
            /* An entry's type is its first member: its value is two tokens in. */
            int entry = -1;
            size_t nth = 0;
            for (int t = 0; t < whole.count; t++) {
                if (whole.tokens[t].parent == infos && nth++ == i) {
                    entry = t;
                    break;
                }
            }
            assert_true(entry > 0);
            assert_string_equal(g_cloud_error.additional_info_types[i],
                                budget > (size_t)entry + 2 ? "PolicyViolation" : "");
        }
        assert_int_equal(g_cloud_error.detail_count, 0);
    }
}

/* An Entra error with a long list of codes: more tokens than the budget, read as far as they
 * reach, at every budget. */
static void test_entra_error_every_token_budget(void **state) {
    (void)state;
    size_t n =
        (size_t)snprintf(g_big, sizeof g_big,
                         "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215:"
                         " Invalid client secret provided.\",\"error_codes\":[");
    for (int i = 0; i < 2 * BK_JSON_TOKENS_MAX; i++) {
        n += (size_t)snprintf(g_big + n, sizeof g_big - n, "%s%d", i > 0 ? "," : "", 7000000 + i);
    }
    n += (size_t)snprintf(g_big + n, sizeof g_big - n,
                          "],\"timestamp\":\"2024-05-01 10:00:00Z\","
                          "\"trace_id\":\"11111111-2222-3333-4444-555555555555\","
                          "\"correlation_id\":\"66666666-7777-8888-9999-000000000000\"}");
    assert_true(n < sizeof g_big);
    bk_json_doc whole = whole_doc(g_big, n);
    int error = bk_json_find(&whole, 0, "error");
    int description = bk_json_find(&whole, 0, "error_description");
    int codes = bk_json_find(&whole, 0, "error_codes");
    assert_true(whole.count > BK_JSON_TOKENS_MAX);
    const size_t room = sizeof g_entra_error.error_codes / sizeof g_entra_error.error_codes[0];

    /* All of it, with room for every token. */
    assert_int_equal(bk_parse_entra_error(g_big, n, g_all_tokens, 4096, &g_entra_error), BK_OK);
    assert_int_equal(g_entra_error.error_code_total, 2 * BK_JSON_TOKENS_MAX);
    assert_string_equal(g_entra_error.trace_id, "11111111-2222-3333-4444-555555555555");
    assert_string_equal(g_entra_error.correlation_id, "66666666-7777-8888-9999-000000000000");
    assert_true(g_entra_error.cut);

    for (size_t budget = 1; budget <= BK_JSON_TOKENS_MAX; budget++) {
        bk_json_token *tokens = malloc(budget * sizeof *tokens);
        assert_non_null(tokens);
        memset(&g_entra_error, 0x55, sizeof g_entra_error);
        bk_result r = bk_parse_entra_error(g_big, n, tokens, budget, &g_entra_error);
        free(tokens);
        if (r != BK_OK) {
            fail_msg("budget %zu: %d", budget, (int)r);
        }
        assert_true(g_entra_error.cut);
        assert_string_equal(g_entra_error.error, budget > (size_t)error ? "invalid_client" : "");
        assert_string_equal(
            g_entra_error.error_description,
            budget > (size_t)description ? "AADSTS7000215: Invalid client secret provided." : "");
        size_t seen = entries_within(&whole, codes, budget);
        assert_int_equal(g_entra_error.error_code_total, seen);
        assert_int_equal(g_entra_error.error_code_count, seen < room ? seen : room);
        for (size_t i = 0; i < g_entra_error.error_code_count; i++) {
            assert_int_equal(g_entra_error.error_codes[i], 7000000 + i);
        }
        /* trace_id and correlation_id come after the codes: beyond every budget here. */
        assert_string_equal(g_entra_error.trace_id, "");
        assert_string_equal(g_entra_error.correlation_id, "");
    }
}

/* The smaller readers' refusals, one condition at a time. */
static void test_small_readers_refusals(void **state) {
    (void)state;
    static bk_device_code_answer dc;
    static char refresh[64];
    size_t len = 0;
#define BODY(text) text, strlen(text), g_tokens, BK_JSON_TOKENS_MAX
    /* The Batch data plane's error: a message that is a number; one that is no JSON value. */
    assert_int_equal(bk_parse_batch_error(BODY("{\"code\":\"A\",\"message\":7}"), &g_cloud_error),
                     BK_OK);
    assert_int_equal(bk_parse_batch_error(BODY("{\"code\":\"A\",\"message\":tru}"), &g_cloud_error),
                     BK_ERR_JSON_SYNTAX);
    assert_int_equal(bk_parse_batch_error(BODY("{\"code\":7,\"message\":\"m\"}"), &g_cloud_error),
                     BK_ERR_JSON_TYPE);
    assert_int_equal(bk_parse_batch_error(BODY("{\"code\":\"A\"}"), &g_cloud_error), BK_OK);
    /* No token at all: not even a prefix to read. */
    assert_int_equal(bk_parse_batch_error("{}", 2, g_tokens, 0, &g_cloud_error),
                     BK_ERR_JSON_TOO_MANY_TOKENS);
    /* A managed identity's token: expires_on twice, not a number, already past. */
    static const char *const on_twice =
        "{\"access_token\":\"t\",\"token_type\":\"Bearer\",\"expires_on\":\"5\","
        "\"expires_on\":\"6\"}";
    assert_int_equal(bk_parse_mi_token(BODY(on_twice), 0, &g_token), BK_ERR_JSON_DUPLICATE_KEY);
    assert_int_equal(bk_parse_mi_token(BODY("{\"access_token\":\"t\",\"token_type\":\"Bearer\","
                                            "\"expires_on\":\"x\"}"),
                                       0, &g_token),
                     BK_ERR_JSON_NUMBER);
    assert_int_equal(bk_parse_mi_token(BODY("{\"access_token\":\"t\",\"token_type\":\"Bearer\","
                                            "\"expires_on\":\"5\"}"),
                                       100, &g_token),
                     BK_OK);
    assert_int_equal(g_token.expires_in_s, 0);
    /* The device code answer: a code or a message that is not text; interval twice. */
    assert_int_equal(bk_parse_device_code(BODY("{\"device_code\":7}"), &dc), BK_ERR_JSON_TYPE);
    assert_int_equal(bk_parse_device_code(BODY("{\"device_code\":\"d\",\"message\":7}"), &dc),
                     BK_ERR_JSON_TYPE);
    assert_int_equal(bk_parse_device_code(BODY("{\"device_code\":\"d\",\"interval\":5,"
                                               "\"interval\":6}"),
                                          &dc),
                     BK_ERR_JSON_DUPLICATE_KEY);
    /* The refresh token: no room at all; a body that is not an object. */
    assert_int_equal(bk_parse_refresh_token(BODY("{\"refresh_token\":\"r\"}"), NULL, 8, &len),
                     BK_ERR_ARGUMENT);
    assert_int_equal(bk_parse_refresh_token(BODY("{\"refresh_token\":\"r\"}"), refresh, 0, &len),
                     BK_ERR_ARGUMENT);
    assert_int_equal(bk_parse_refresh_token(BODY("[1]"), refresh, sizeof refresh, &len),
                     BK_ERR_JSON_TYPE);
    /* App Service's error: a message or a correlation id that is not text. */
    assert_int_equal(bk_parse_mi_error(BODY("{\"statusCode\":400,\"message\":7}"), &g_entra_error),
                     BK_ERR_JSON_TYPE);
    assert_int_equal(bk_parse_mi_error(BODY("{\"statusCode\":400,\"message\":\"m\","
                                            "\"correlationId\":7}"),
                                       &g_entra_error),
                     BK_ERR_JSON_TYPE);
#undef BODY
}

/* Objects in arrays that are not an error's details chain: under an array, under a key of the
 * same length as "details", under a key that is not a string (never: the tokenizer's keys are). */
static void test_details_chain_only(void **state) {
    (void)state;
    assert_int_equal(parse_cloud_error("{\"error\":{\"code\":\"A\",\"message\":\"m\","
                                       "\"detailz\":[{\"code\":\"B\",\"message\":\"n\"}],"
                                       "\"other\":[[{\"code\":\"C\"}]]}}"),
                     BK_OK);
    assert_int_equal(g_cloud_error.detail_count, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_readers_refusals),
        cmocka_unit_test(test_details_chain_only),
        cmocka_unit_test(test_example_batch_account_get),
        cmocka_unit_test(test_example_private_batch_account_get),
        cmocka_unit_test(test_example_batch_account_get_keys),
        cmocka_unit_test(test_example_batch_account_regenerate_key),
        cmocka_unit_test(test_example_dataplane_list_applications),
        cmocka_unit_test(test_recorded_regenerate_keys),
        cmocka_unit_test(test_keys_token_budget),
        cmocka_unit_test(test_keys_unknown_fields_and_escapes),
        cmocka_unit_test(test_keys_missing_fields),
        cmocka_unit_test(test_keys_wrong_types),
        cmocka_unit_test(test_keys_bad_primitives),
        cmocka_unit_test(test_keys_exact_fit_and_overflow),
        cmocka_unit_test(test_keys_syntax_and_root),
        cmocka_unit_test(test_models_arguments),
        cmocka_unit_test(test_account_auth_modes),
        cmocka_unit_test(test_account_modes_only_under_properties),
        cmocka_unit_test(test_account_required_fields),
        cmocka_unit_test(test_account_endpoint_fit_and_overflow),
        cmocka_unit_test(test_cloud_error_old_layout_nested_details),
        cmocka_unit_test(test_cloud_error_v5_additional_info),
        cmocka_unit_test(test_cloud_error_minimal_and_optional),
        cmocka_unit_test(test_cloud_error_errors),
        cmocka_unit_test(test_cloud_error_too_many_details),
        cmocka_unit_test(test_cloud_error_too_many_additional_info),
        cmocka_unit_test(test_cloud_error_message_fit_and_overflow),
        cmocka_unit_test(test_token_expires_in_number),
        cmocka_unit_test(test_token_expires_in_string),
        cmocka_unit_test(test_token_errors_wipe_the_token),
        cmocka_unit_test(test_token_exact_fit_and_overflow),
        cmocka_unit_test(test_entra_error_invalid_client_secret),
        cmocka_unit_test(test_entra_error_optional_fields),
        cmocka_unit_test(test_entra_error_errors),
        cmocka_unit_test(test_cloud_error_every_text_field_at_its_boundary),
        cmocka_unit_test(test_cloud_error_entries_counted_past_the_room),
        cmocka_unit_test(test_entra_error_every_text_field_at_its_boundary),
        cmocka_unit_test(test_entra_error_codes_counted_and_clamped),
        cmocka_unit_test(test_account_diagnostics_cut),
        cmocka_unit_test(test_token_type_cut),
        cmocka_unit_test(test_needed_fields_overflow_fails),
        cmocka_unit_test(test_duplicate_needed_fields),
        cmocka_unit_test(test_duplicate_diagnostic_fields_are_fine),
        cmocka_unit_test(test_expires_in_clamped),
        cmocka_unit_test(test_policy_denial_read_past_the_token_budget),
        cmocka_unit_test(test_policy_denial_every_token_budget),
        cmocka_unit_test(test_entra_error_every_token_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
