# SPDX-License-Identifier: MIT
# The same tests against mbedTLS 3.6 LTS, the other version the TLS and crypto ports support.
# Included by the main Makefile.
#
#   make mbedtls3-tests   builds mbedTLS 3.6 from Debian's source (once, under $(BUILD)/mbedtls3),
#                         then the unit, TLS and integration tests with everything built on it

MBEDTLS3_DIST := $(BUILD)/mbedtls3/dist
MBEDTLS3_LIB := $(abspath $(MBEDTLS3_DIST))/lib
# Debian's configuration turns on MBEDTLS_THREADING_PTHREAD, hence -lpthread.
MBEDTLS3_VARS := BUILD=$(BUILD)/mbedtls3/build \
    MBEDTLS_INCLUDES="-isystem $(abspath $(MBEDTLS3_DIST))/include" \
    MBEDTLS_LIBS="$(MBEDTLS3_LIB)/libmbedtls.a $(MBEDTLS3_LIB)/libmbedx509.a \
                  $(MBEDTLS3_LIB)/libmbedcrypto.a -lpthread" \
    MBEDCRYPTO_LIB="$(MBEDTLS3_LIB)/libmbedcrypto.a -lpthread"

.PHONY: mbedtls3-tests
mbedtls3-tests:
	@sh tests/mbedtls3/build_mbedtls3.sh $(MBEDTLS3_DIST)
	@$(MAKE) --no-print-directory $(MBEDTLS3_VARS) mbedtls3-check unit-tests tls-tests \
	    $(filter-out $(BOARD_HOST_ONLY_TESTS),$(BOARD_TEST_TARGETS))

# Proof that the build really used 3.6: the CLI was compiled with its headers (--version names
# them) and loads no shared mbedTLS (Debian's 2.28).
.PHONY: mbedtls3-check
mbedtls3-check: $(BOARD_TARGETS)
	@$(BUILD)/host/batchkey --version | grep -q 'TLS 3\.6\.' && \
	    ! readelf -d $(BUILD)/host/batchkey | grep -q 'NEEDED.*libmbed' || \
	    { echo "mbedtls3: $(BUILD)/host/batchkey is not built on mbedTLS 3.6" >&2; exit 1; }
	@echo "mbedtls3: $$($(BUILD)/host/batchkey --version)"
