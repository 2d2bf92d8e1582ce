/* SPDX-License-Identifier: MIT */
/* The TLS session record: its round trip, every damage it must refuse, and the binding to a
 * host name and port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bk_session.h"
#include "bk_store.h"

static void fill(bk_tls_session *s, const char *host, uint16_t port, size_t len) {
    memset(s, 0, sizeof *s);
    strcpy(s->host, host);
    s->port = port;
    s->expires_s = 1700000000;
    s->len = len;
    for (size_t i = 0; i < len; i++) {
        s->data[i] = (uint8_t)(i * 7 + 1);
    }
    s->fresh = true;
}

static void test_round_trip(void **state) {
    (void)state;
    static bk_tls_session s, back;
    static uint8_t record[BK_TLS_SESSION_RECORD_MAX];
    size_t len = 0;
    fill(&s, "management.azure.com", 443, BK_TLS_SESSION_MAX);
    assert_int_equal(bk_tls_session_encode(&s, record, sizeof record, &len), BK_OK);
    assert_int_equal(len, 4 + 1 + 20 + 2 + 8 + 2 + BK_TLS_SESSION_MAX + 4);
    assert_false(s.fresh);
    assert_int_equal(bk_tls_session_decode(&back, record, len), BK_OK);
    assert_string_equal(back.host, s.host);
    assert_int_equal(back.port, 443);
    assert_int_equal(back.expires_s, s.expires_s);
    assert_int_equal(back.len, s.len);
    assert_memory_equal(back.data, s.data, s.len);
    assert_false(back.fresh);
    /* A buffer one byte short, and no session at all. */
    assert_int_equal(bk_tls_session_encode(&s, record, len - 1, &len), BK_ERR_STORE_TOO_LARGE);
    s.len = 0;
    assert_int_equal(bk_tls_session_encode(&s, record, sizeof record, &len), BK_ERR_ARGUMENT);
}

static void test_damage_is_refused(void **state) {
    (void)state;
    static bk_tls_session s, back;
    static uint8_t record[BK_TLS_SESSION_RECORD_MAX];
    size_t len = 0;
    fill(&s, "login.microsoftonline.com", 443, 300);
    assert_int_equal(bk_tls_session_encode(&s, record, sizeof record, &len), BK_OK);
    /* Every bit flipped in turn: none is read as a session. */
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            record[i] ^= (uint8_t)(1u << bit);
            bk_result r = bk_tls_session_decode(&back, record, len);
            if (r == BK_OK) {
                fail_msg("byte %zu bit %d flipped: read as a session", i, bit);
            }
            assert_int_equal(back.len, 0);
            record[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Every length short of the whole, and one byte more. */
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_not_equal(bk_tls_session_decode(&back, record, cut), BK_OK);
    }
    record[len] = 0;
    assert_int_not_equal(bk_tls_session_decode(&back, record, len + 1), BK_OK);
    /* Another format version says so. */
    record[3] = '2';
    assert_int_equal(bk_tls_session_decode(&back, record, len), BK_ERR_STATE_VERSION);
    record[3] = '1';
    assert_int_equal(bk_tls_session_decode(&back, record, len), BK_OK);
}

/* A well-formed record (CRC and all) that holds what no encoder writes. */
static size_t forge(uint8_t *out, const char *host, size_t data_len) {
    size_t host_len = strlen(host);
    size_t n = 0;
    memcpy(out, "BKT1", 4);
    n = 4;
    out[n++] = (uint8_t)host_len;
    memcpy(out + n, host, host_len);
    n += host_len;
    out[n++] = 1; /* port 443 */
    out[n++] = 0xbb;
    memset(out + n, 0, 8);
    n += 8;
    out[n++] = (uint8_t)(data_len >> 8);
    out[n++] = (uint8_t)data_len;
    memset(out + n, 0x42, data_len);
    n += data_len;
    uint32_t crc = bk_crc32(0, out, n);
    for (int i = 3; i >= 0; i--) {
        out[n++] = (uint8_t)(crc >> (8 * i));
    }
    return n;
}

static void test_forged_records(void **state) {
    (void)state;
    static uint8_t record[BK_TLS_SESSION_RECORD_MAX + 64];
    static bk_tls_session s;
    assert_int_equal(bk_tls_session_decode(&s, record, forge(record, "ok.example", 10)), BK_OK);
    assert_int_equal(bk_tls_session_decode(&s, record, forge(record, "bad host", 10)),
                     BK_ERR_STATE_CORRUPT);
    assert_int_equal(bk_tls_session_decode(&s, record, forge(record, "x\n", 10)),
                     BK_ERR_STATE_CORRUPT);
    assert_int_equal(bk_tls_session_decode(&s, record, forge(record, "ok.example", 0)),
                     BK_ERR_STATE_CORRUPT);
    assert_int_equal(
        bk_tls_session_decode(&s, record, forge(record, "ok.example", BK_TLS_SESSION_MAX + 1)),
        BK_ERR_STORE_TOO_LARGE);
    assert_int_equal(s.len, 0);
}

static void test_binding_and_expiry(void **state) {
    (void)state;
    static bk_tls_session s;
    fill(&s, "management.azure.com", 443, 10);
    int64_t now = s.expires_s - 1;
    assert_true(bk_tls_session_usable(&s, "management.azure.com", 443, now));
    assert_true(bk_tls_session_usable(&s, "Management.Azure.COM", 443, now));
    assert_false(bk_tls_session_usable(&s, "management.azure.com", 8443, now));
    assert_false(bk_tls_session_usable(&s, "management.azure.co", 443, now));
    assert_false(bk_tls_session_usable(&s, "evil.management.azure.com", 443, now));
    assert_false(bk_tls_session_usable(&s, "management.azure.com", 443, s.expires_s));
    assert_false(bk_tls_session_usable(&s, NULL, 443, now));
    s.len = 0;
    assert_false(bk_tls_session_usable(&s, "management.azure.com", 443, now));

    assert_int_equal(bk_tls_session_expiry(1000, 0), 1000 + BK_TLS_SESSION_LIFETIME_S);
    assert_int_equal(bk_tls_session_expiry(1000, 7200), 8200);
    assert_int_equal(bk_tls_session_expiry(1000, 100u * 86400u),
                     1000 + BK_TLS_SESSION_LIFETIME_MAX_S);
    bk_tls_session_wipe(&s);
    for (size_t i = 0; i < sizeof s; i++) {
        assert_int_equal(((const uint8_t *)&s)[i], 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damage_is_refused),
        cmocka_unit_test(test_forged_records),
        cmocka_unit_test(test_binding_and_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
