# SPDX-License-Identifier: MIT
# Tests of the POSIX platform, the mbedTLS TLS port and the null platform. Included by the main
# Makefile after its object rules (it uses san_obj, rel_obj, SAN, MBEDTLS_LIBS, BUILD):
#
#   make tls-tests      sanitized build; the null platform test, then the TLS test against
#                       openssl s_server on 127.0.0.1 and [::1]
#   make tls-valgrind   the TLS test built without sanitizers, run under valgrind
#
# Each run makes a throwaway PKI in a fresh temporary directory and deletes it afterwards.

# The connector too: the test drives the client's seam over it (with what its proxy tunnel and
# TLS sessions take of core).
TLS_TEST_SRC := tests/tls/test_tls.c platform/posix/bk_posix.c port/mbedtls/bk_tls.c \
                port/mbedtls/bk_tls_connector.c port/mbedtls/bk_crypto_mbedtls.c \
                core/bk_tcp_stream.c core/bk_stream.c core/bk_result.c core/bk_wipe.c \
                core/bk_proxy.c core/bk_session.c core/bk_ascii.c core/bk_writer.c \
                core/bk_endpoint.c core/bk_store.c
NULL_TEST_SRC := tests/tls/test_platform_null.c platform/null/bk_platform_null.c \
    platform/null/bk_tcp_null.c core/bk_result.c
TLS_TEST_BIN := $(BUILD)/tests/tls/test_tls
TLS_VALGRIND_BIN := $(BUILD)/tests/tls/test_tls_valgrind
NULL_TEST_BIN := $(BUILD)/tests/tls/test_platform_null

# The test program includes bk_tls.h, which lives beside the port rather than under core/.
$(call san_obj,tests/tls/test_tls.c) $(call rel_obj,tests/tls/test_tls.c): INCLUDES += -Iport/mbedtls

# -pthread: the POSIX platform resolves host names in a helper thread. The wraps send the
# platform's lookups through the test's fake resolver (__wrap_getaddrinfo), and the TCP carrier's
# sends and receives through a shim that can play a polled stack such as lwIP's
# (__wrap_bk_tcp_send, __wrap_bk_tcp_recv).
TLS_TEST_LDFLAGS := -pthread -Wl,--wrap=getaddrinfo -Wl,--wrap=bk_tcp_send -Wl,--wrap=bk_tcp_recv

$(TLS_TEST_BIN): $(call san_obj,$(TLS_TEST_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $^ -o $@ $(TLS_TEST_LDFLAGS) $(MBEDTLS_LIBS)

$(TLS_VALGRIND_BIN): $(call rel_obj,$(TLS_TEST_SRC))
	@mkdir -p $(dir $@)
	$(CC) $^ -o $@ $(TLS_TEST_LDFLAGS) $(MBEDTLS_LIBS)

$(NULL_TEST_BIN): $(call san_obj,$(NULL_TEST_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $^ -o $@

# Runs $(1) with a fresh certificate directory as its last argument, then removes the directory.
tls_with_certs = dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
	sh tests/emulator/make_test_pki.sh "$$dir" && $(1) "$$dir"

.PHONY: tls-tests tls-valgrind
tls-tests: $(TLS_TEST_BIN) $(NULL_TEST_BIN)
	$(NULL_TEST_BIN)
	@$(call tls_with_certs,$(TLS_TEST_BIN))

tls-valgrind: $(TLS_VALGRIND_BIN)
	@$(call tls_with_certs,valgrind --leak-check=full --error-exitcode=1 $(TLS_VALGRIND_BIN))
