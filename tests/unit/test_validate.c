/* SPDX-License-Identifier: MIT */
/* Parameter validators and endpoint parsing, at their boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bk_arm.h"
#include "bk_entra.h"
#include "bk_endpoint.h"
#include "bk_http.h"
#include "bk_writer.h"

/* A string of n copies of piece (n * strlen(piece) < 1024), in a static buffer. */
static const char *repeat(const char *piece, size_t n) {
    static char out[1024];
    size_t len = strlen(piece);
    assert_true(n * len < sizeof out);
    for (size_t i = 0; i < n; i++) {
        memcpy(out + i * len, piece, len);
    }
    out[n * len] = '\0';
    return out;
}

static void test_subscription_id(void **state) {
    (void)state;
    assert_int_equal(bk_validate_subscription_id("12345678-1234-1234-1234-123456789012"), BK_OK);
    assert_int_equal(bk_validate_subscription_id("ABCDEF01-abcd-ABCD-abcd-0123456789aB"), BK_OK);

    static const char *const bad[] = {
        "",
        "12345678-1234-1234-1234-12345678901g",   /* not hex */
        "12345678-1234-1234-1234-12345678901",    /* 35 */
        "12345678-1234-1234-1234-1234567890123",  /* 37 */
        "123456789-234-1234-1234-123456789012",   /* dash moved */
        "12345678_1234-1234-1234-123456789012",   /* wrong separator */
        "{12345678-1234-1234-1234-123456789012}", /* braces */
        "12345678-1234-1234-1234-123456789012\n",
        " 12345678-1234-1234-1234-123456789012",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(bk_validate_subscription_id(bad[i]), BK_ERR_INVALID_SUBSCRIPTION);
    }
    assert_int_equal(bk_validate_subscription_id(NULL), BK_ERR_ARGUMENT);
    assert_false(bk_guid_ok(NULL));
}

static void test_resource_group(void **state) {
    (void)state;
    static const char *const good[] = {
        "a",
        "my-rg",
        "(rg)",
        "My_Group.01(test)-x",
        "rg.x",
        "grupo-\xc3\xb1",          /* U+00F1, two bytes */
        "\xe2\x82\xac",            /* U+20AC, three bytes */
        "\xf0\x9f\x98\x80",        /* U+1F600, four bytes */
        "\xf4\x8f\xbf\xbf",        /* U+10FFFF, the last code point */
        "\xed\x9f\xbf\xee\x80\x80" /* U+D7FF and U+E000 around the surrogates */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(bk_validate_resource_group(good[i]), BK_OK);
    }
    assert_int_equal(bk_validate_resource_group(repeat("a", 90)), BK_OK);
    assert_int_equal(bk_validate_resource_group(repeat("a", 91)), BK_ERR_INVALID_RESOURCE_GROUP);
    /* Characters, not bytes, are counted. */
    assert_int_equal(bk_validate_resource_group(repeat("\xc3\xb1", 90)), BK_OK);
    assert_int_equal(bk_validate_resource_group(repeat("\xc3\xb1", 91)),
                     BK_ERR_INVALID_RESOURCE_GROUP);
    assert_int_equal(bk_validate_resource_group(repeat("\xf0\x9f\x98\x80", 90)), BK_OK);

    static const char *const bad[] = {
        "",
        ".",
        "rg.",
        "grupo-\xc3\xb1.",
        "my rg",
        "my/rg",
        "my%rg",
        "rg\r\nX: y",
        "rg\x7f",
        "\xc3",             /* truncated */
        "\xc3(",            /* bad continuation */
        "\x80",             /* stray continuation */
        "\xc0\xaf",         /* overlong '/' */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xf0\x80\x80\xaf", /* overlong '/' */
        "\xed\xa0\x80",     /* U+D800, a surrogate */
        "\xed\xbf\xbf",     /* U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",
        "\xff",
        "\xe2\x82", /* truncated at the end */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bk_validate_resource_group(bad[i]) != BK_ERR_INVALID_RESOURCE_GROUP) {
            fail_msg("accepted bad resource group #%zu", i);
        }
    }
    assert_int_equal(bk_validate_resource_group(NULL), BK_ERR_ARGUMENT);
}

static void test_account_name(void **state) {
    (void)state;
    assert_int_equal(bk_validate_account_name("ab"), BK_ERR_INVALID_ACCOUNT);
    assert_int_equal(bk_validate_account_name("abc"), BK_OK);
    assert_int_equal(bk_validate_account_name("Abc123"), BK_OK);
    assert_int_equal(bk_validate_account_name(repeat("a", 24)), BK_OK);
    assert_int_equal(bk_validate_account_name(repeat("a", 25)), BK_ERR_INVALID_ACCOUNT);
    assert_int_equal(bk_validate_account_name(""), BK_ERR_INVALID_ACCOUNT);
    assert_int_equal(bk_validate_account_name("ab-c"), BK_ERR_INVALID_ACCOUNT);
    assert_int_equal(bk_validate_account_name("ab_c"), BK_ERR_INVALID_ACCOUNT);
    assert_int_equal(bk_validate_account_name("abc "), BK_ERR_INVALID_ACCOUNT);
    assert_int_equal(bk_validate_account_name("ab\xc3\xa7"), BK_ERR_INVALID_ACCOUNT);
    assert_int_equal(bk_validate_account_name(NULL), BK_ERR_ARGUMENT);
}

static void test_account_ref(void **state) {
    (void)state;
    bk_account_ref ref = {"12345678-1234-1234-1234-123456789012", "rg", "acct"};
    assert_int_equal(bk_validate_account_ref(&ref), BK_OK);
    ref.account_name = "a";
    assert_int_equal(bk_validate_account_ref(&ref), BK_ERR_INVALID_ACCOUNT);
    ref.resource_group = "rg.";
    assert_int_equal(bk_validate_account_ref(&ref), BK_ERR_INVALID_RESOURCE_GROUP);
    ref.subscription_id = "x";
    assert_int_equal(bk_validate_account_ref(&ref), BK_ERR_INVALID_SUBSCRIPTION);
    assert_int_equal(bk_validate_account_ref(NULL), BK_ERR_ARGUMENT);
}

static void test_tenant_id(void **state) {
    (void)state;
    static const char *const good[] = {
        "12345678-1234-1234-1234-123456789012",
        "contoso.onmicrosoft.com",
        "Contoso-Corp.com",
        "a",
        "organizations",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(bk_validate_tenant_id(good[i]), BK_OK);
    }
    assert_int_equal(bk_validate_tenant_id(repeat("a", 253)), BK_OK);
    assert_int_equal(bk_validate_tenant_id(repeat("a", 254)), BK_ERR_INVALID_TENANT);

    static const char *const bad[] = {
        "",
        ".contoso.com",
        "contoso.com.",
        "-contoso.com",
        "contoso.com-",
        "contoso..com",
        "..",
        "con/toso",
        "con toso",
        "con%2Ftoso",
        "contoso_corp.com",
        "contoso.com\r\nHost: evil",
        "contoso.com\n",
        "ten\xc3\xa4nt",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bk_validate_tenant_id(bad[i]) != BK_ERR_INVALID_TENANT) {
            fail_msg("accepted bad tenant #%zu", i);
        }
    }
    assert_int_equal(bk_validate_tenant_id(NULL), BK_ERR_ARGUMENT);
}

static void test_key_name_parse(void **state) {
    (void)state;
    bk_key_name key = BK_KEY_SECONDARY;
    assert_int_equal(bk_key_name_parse("primary", &key), BK_OK);
    assert_int_equal(key, BK_KEY_PRIMARY);
    assert_int_equal(bk_key_name_parse("SECONDARY", &key), BK_OK);
    assert_int_equal(key, BK_KEY_SECONDARY);
    assert_int_equal(bk_key_name_parse("Primary", &key), BK_OK);
    assert_int_equal(key, BK_KEY_PRIMARY);

    static const char *const bad[] = {"",         "prim",     "primaryx", "primary ",
                                      " primary", "tertiary", "secondar"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        key = BK_KEY_SECONDARY;
        assert_int_equal(bk_key_name_parse(bad[i], &key), BK_ERR_INVALID_KEY_NAME);
        assert_int_equal(key, BK_KEY_SECONDARY); /* untouched on failure */
    }
    assert_int_equal(bk_key_name_parse(NULL, &key), BK_ERR_ARGUMENT);
    assert_int_equal(bk_key_name_parse("primary", NULL), BK_ERR_ARGUMENT);
}

static void test_header_value_ok(void **state) {
    (void)state;
    assert_true(bk_header_value_ok("Bearer abc.def-_~+/=", 20));
    assert_true(bk_header_value_ok("", 0));
    assert_true(bk_header_value_ok("caf\xc3\xa9", 5)); /* obs-text passes */
    assert_false(bk_header_value_ok("a\rb", 3));
    assert_false(bk_header_value_ok("a\nb", 3));
    assert_false(bk_header_value_ok("a\0b", 3));
    assert_false(bk_header_value_ok("a\tb", 3));
    assert_false(bk_header_value_ok("a\x1f", 2));
    assert_false(bk_header_value_ok("a\x7f", 2));
    assert_false(bk_header_value_ok(NULL, 0));
    /* Only len bytes are looked at. */
    assert_true(bk_header_value_ok("ab\r\n", 2));
}

static void test_endpoint_parse_accepts(void **state) {
    (void)state;
    static const struct {
        const char *url;
        const char *host;
        uint16_t port;
    } cases[] = {
        {"https://management.azure.com", "management.azure.com", 443},
        {"https://management.azure.com/", "management.azure.com", 443},
        {"HTTPS://Management.Azure.Com", "Management.Azure.Com", 443},
        {"hTtPs://localhost:8443", "localhost", 8443},
        {"https://localhost:8443/", "localhost", 8443},
        {"https://host:1", "host", 1},
        {"https://host:65535", "host", 65535},
        {"https://host:443", "host", 443},
        {"https://127.0.0.1", "127.0.0.1", 443},
        {"https://255.255.255.255:8443/", "255.255.255.255", 8443},
        {"https://[::1]:8443", "[::1]", 8443},
        {"https://[::]", "[::]", 443},
        {"https://[2001:db8::1]/", "[2001:db8::1]", 443},
        {"https://[2001:DB8:0:0:0:0:0:1]", "[2001:DB8:0:0:0:0:0:1]", 443},
        {"https://[1::]", "[1::]", 443},
        {"https://[::ffff:192.0.2.1]:9", "[::ffff:192.0.2.1]", 9},
        {"https://login.microsoftonline.us", "login.microsoftonline.us", 443},
        {"https://my-host.example-1.com", "my-host.example-1.com", 443},
        {"https://a1", "a1", 443},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bk_endpoint ep;
        memset(&ep, 0x5a, sizeof ep);
        if (bk_endpoint_parse(&ep, cases[i].url) != BK_OK) {
            fail_msg("refused %s", cases[i].url);
        }
        assert_string_equal(ep.host, cases[i].host);
        assert_int_equal(ep.port, cases[i].port);
        assert_true(bk_endpoint_ok(&ep));
    }

    /* The longest DNS name fits: 253 characters in labels of 63. */
    char url[300] = "https://";
    const char *label = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (int i = 0; i < 3; i++) {
        strcat(url, label);
        strcat(url, ".");
    }
    strcat(url, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"); /* 61 */
    bk_endpoint ep;
    assert_int_equal(strlen(url) - 8, 253);
    assert_int_equal(bk_endpoint_parse(&ep, url), BK_OK);
    assert_int_equal(strlen(ep.host), 253);
    strcat(url, "a");
    assert_int_equal(bk_endpoint_parse(&ep, url), BK_ERR_INVALID_URL);
}

static void test_endpoint_parse_refuses(void **state) {
    (void)state;
    static const char *const bad[] = {
        "",
        "http://management.azure.com",
        "https:/host",
        "https//host",
        " https://host",
        "https://",
        "https:///",
        "https://:443",
        "https://host:",
        "https://host:0",
        "https://host:65536",
        "https://host:123456",
        "https://host:+443",
        "https://host:-1",
        "https://host:44a",
        "https://host: 443",
        "https://user@host",
        "https://user:pw@host",
        "https://host/path",
        "https://host//",
        "https://host/?",
        "https://host?x=1",
        "https://host#frag",
        "https://ho st",
        "https://host ",
        "https://host\r\nX: y",
        "https://host\t",
        "https://ho_st",
        "https://.host",
        "https://host.",
        "https://host..com",
        "https://-host",
        "https://host-",
        "https://host.-x",
        "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", /* 64 */
        "https://256.1.1.1",
        "https://1.2.3",
        "https://1.2.3.4.5",
        "https://01.2.3.4",
        "https://1..3.4",
        "https://[::1",
        "https://::1",
        "https://[]",
        "https://[::g]",
        "https://[1:2:3:4:5:6:7:8:9]",
        "https://[1:2:3:4:5:6:7]",
        "https://[1:2:3:4:5:6:7:8::]",
        "https://[1::2::3]",
        "https://[:1::2]",
        "https://[1:]",
        "https://[12345::1]",
        "https://[::1%25eth0]",
        "https://[::1]x",
        "https://[::1]:",
        "https://[::256.1.1.1]",
        "https://[1.2.3.4]",
        "https://[::1]]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bk_endpoint ep;
        if (bk_endpoint_parse(&ep, bad[i]) != BK_ERR_INVALID_URL) {
            fail_msg("accepted bad URL #%zu: %s", i, bad[i]);
        }
    }
    bk_endpoint ep;
    assert_int_equal(bk_endpoint_parse(NULL, "https://host"), BK_ERR_ARGUMENT);
    assert_int_equal(bk_endpoint_parse(&ep, NULL), BK_ERR_ARGUMENT);
}

static void test_endpoint_ok(void **state) {
    (void)state;
    bk_endpoint ep = {"example.com", 443, false};
    assert_true(bk_endpoint_ok(&ep));
    ep.port = 0;
    assert_false(bk_endpoint_ok(&ep));
    bk_endpoint injected = {"example.com\r\nX: y", 443, false};
    assert_false(bk_endpoint_ok(&injected));
    bk_endpoint empty = {"", 443, false};
    assert_false(bk_endpoint_ok(&empty));
    bk_endpoint unterminated;
    memset(unterminated.host, 'a', sizeof unterminated.host);
    unterminated.port = 443;
    assert_false(bk_endpoint_ok(&unterminated));
    assert_false(bk_endpoint_ok(NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscription_id),
        cmocka_unit_test(test_resource_group),
        cmocka_unit_test(test_account_name),
        cmocka_unit_test(test_account_ref),
        cmocka_unit_test(test_tenant_id),
        cmocka_unit_test(test_key_name_parse),
        cmocka_unit_test(test_header_value_ok),
        cmocka_unit_test(test_endpoint_parse_accepts),
        cmocka_unit_test(test_endpoint_parse_refuses),
        cmocka_unit_test(test_endpoint_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
