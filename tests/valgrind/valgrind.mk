# SPDX-License-Identifier: MIT
# The whole suite under valgrind. Included by the main Makefile after the other test fragments
# (it uses UNIT_SRC, CORE_SRC, JSMN_SRC, CRYPTO_SRC, SUPPORT_SRC, BUILD, MBEDCRYPTO_LIB, and
# tls.mk's TLS_VALGRIND_BIN and tls_with_certs):
#
#   make valgrind-tests   every unit test built without sanitizers (ASan binaries cannot run
#                         under valgrind) and run under valgrind, then the TLS test (tls.mk's
#                         tls-valgrind binary, with these stricter options), then each
#                         integration suite with every CLI run under valgrind (--runner)
#   make valgrind-unit-tests, valgrind-tls-tests, valgrind-integration-tests   its three parts
#
# Any error or leak of any kind fails the run. Timing bounds of the integration suites are
# stretched by BATCHKEY_TEST_TIME_SCALE, which valgrind's slowdown needs.

VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=all \
    --errors-for-leak-kinds=all
VALGRIND_TIME_SCALE ?= 10
VG := $(BUILD)/valgrind
vg_obj = $(patsubst %.c,$(VG)/%.o,$(1))

# Compiled like $(BUILD)/rel's objects, with the test support's headers, and without $(SAN).
$(VG)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC vg   $<")
	$(Q)$(CC) $(WARN) $(VG_WARN) $(CFLAGS) $(DEFS) $(INCLUDES) $(MBEDTLS_INCLUDES) $(JSMN_DEFS) \
	    -MMD -MP -Itests/support -c $< -o $@

# -O2 makes GCC guess at the tests' own snprintf of expected texts, which -O1 (the sanitized
# build's level) does not; those cuts are the tests' business, not the library's.
$(VG)/tests/%.o: VG_WARN := -Wno-format-truncation

-include $(shell find $(VG) -name '*.d' 2>/dev/null)

$(VG)/port/mbedtls/%.o: INCLUDES += -Iport/mbedtls -Iboards/common -Iplatform/posix
$(VG)/tests/unit/test_posix_store.o: INCLUDES += -Iplatform/posix

# Binaries under bin/: a pattern $(VG)/tests/% would also match the objects.
VG_UNIT_BINS := $(patsubst tests/unit/%.c,$(VG)/bin/%,$(UNIT_SRC))
VG_UNIT_LIB_OBJ := $(call vg_obj,$(CORE_SRC) $(JSMN_SRC) $(CRYPTO_SRC) $(SUPPORT_SRC) \
    platform/null/bk_tcp_null.c)

$(VG)/bin/%: $(VG)/tests/unit/%.o $(VG_UNIT_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $^ -o $@ -lcmocka $(MBEDCRYPTO_LIB)

$(VG)/bin/test_posix_store: $(call vg_obj,platform/posix/bk_posix_store.c)

# The integration suites' command lines, each binary under $(VALGRIND) through --runner. Their
# own valgrind tests skip themselves then (they would run valgrind under valgrind). The crash-test
# build kills itself (SIGKILL) at each step of a rotation: valgrind checks it for errors up to
# there, but not for leaks, which a killed process has by definition.
VG_BIN := $(BUILD)/host/batchkey
VG_CRASH_RUNNER := valgrind --quiet --error-exitcode=99 --leak-check=no
# Two lanes, run side by side (valgrind runs a program on one core), of about the same length
# (seconds under valgrind alone, measured: cli 175, rotate 91, proxy 28, sessions 15 | faults 227,
# credentials 64, secrets 34).
VG_LANE_1 := \
    "tests/integration/test_cli.py --bin $(VG_BIN) --example $(BUILD)/host/example_regenerate" \
    "tests/integration/test_rotate.py --bin $(VG_BIN) --crash-bin $(VG_BIN)-crashtest \
        --crash-runner '$(VG_CRASH_RUNNER)'" \
    "tests/integration/test_proxy.py --bin $(VG_BIN)" \
    "tests/integration/test_sessions.py --bin $(VG_BIN)"
VG_LANE_2 := \
    "tests/integration/test_faults.py --bin $(VG_BIN)" \
    "tests/integration/test_credentials.py --bin $(VG_BIN)" \
    "tests/integration/test_secrets.py --bin $(VG_BIN)"

.PHONY: valgrind-tests valgrind-unit-tests valgrind-tls-tests valgrind-integration-tests
# The three parts one after another, even under -j; the integration suites in two lanes, one
# per core (their timing bounds are stretched by VALGRIND_TIME_SCALE).
valgrind-tests:
	@$(MAKE) --no-print-directory valgrind-unit-tests
	@$(MAKE) --no-print-directory valgrind-tls-tests
	@$(MAKE) --no-print-directory valgrind-integration-tests

valgrind-unit-tests: $(VG_UNIT_BINS)
	@set -e; for t in $(VG_UNIT_BINS); do echo "== valgrind $$t"; \
	    SPEC_DIR=$(SPEC_DIR) $(VALGRIND) --suppressions=tests/valgrind/unit.supp $$t; done

valgrind-tls-tests: $(TLS_VALGRIND_BIN)
	@$(call tls_with_certs,$(VALGRIND) $(TLS_VALGRIND_BIN))

# Each suite's wall time is printed: CI's budget for this goal is tight. eval: the crash
# runner is quoted inside its suite's line. --output-sync keeps each lane's output together.
valgrind-integration-tests: $(BOARD_TARGETS) $(BUILD)/host/batchkey-crashtest
	@$(MAKE) --no-print-directory -j2 --output-sync=target valgrind-lane-1 valgrind-lane-2

.PHONY: valgrind-lane-1 valgrind-lane-2
valgrind-lane-1 valgrind-lane-2:
	@set -e; for s in $(VG_LANE_$(@:valgrind-lane-%=%)); do echo "== valgrind python3 $$s"; start=$$(date +%s); \
	    eval BATCHKEY_TEST_TIME_SCALE=$(VALGRIND_TIME_SCALE) python3 $$s --runner \"$(VALGRIND)\"; \
	    echo "== $$(( $$(date +%s) - start )) s: $$s"; done
