# SPDX-License-Identifier: MIT
# The Linux board: the batchkey CLI and the library example, over POSIX sockets and mbedTLS.
include boards/linux/sources.mk

$(BUILD)/rel/boards/%.o $(BUILD)/rel/port/mbedtls/%.o: INCLUDES += $(LINUX_INCLUDES)
$(BUILD)/san/boards/%.o $(BUILD)/san/port/mbedtls/%.o: INCLUDES += $(LINUX_INCLUDES)

$(BUILD)/host/batchkey: $(call rel_obj,$(LINUX_LIB_SRC) $(CLI_SRC))
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $^ -o $@ -pthread $(MBEDTLS_LIBS)

# The same CLI with the rotation's crash points compiled in (BATCHKEY_CRASH_AT=<point> stops it
# there with SIGKILL), for the rotation tests alone; its bk_cli_state.o lives apart from the
# product's.
$(BUILD)/crash/boards/common/bk_cli_state.o: boards/common/bk_cli_state.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (crash points)")
	$(Q)$(CC) $(WARN) $(CFLAGS) $(DEFS) -DBK_CLI_CRASH_POINTS $(INCLUDES) $(LINUX_INCLUDES) \
	    $(MBEDTLS_INCLUDES) $(JSMN_DEFS) -MMD -MP -c $< -o $@

$(BUILD)/host/batchkey-crashtest: $(call rel_obj,$(LINUX_LIB_SRC) \
    $(filter-out boards/common/bk_cli_state.c,$(CLI_SRC))) $(BUILD)/crash/boards/common/bk_cli_state.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $^ -o $@ -pthread $(MBEDTLS_LIBS)

# The README's C example, built from the README itself so the two cannot drift apart.
$(BUILD)/host/example_regenerate.c: README.md
	@mkdir -p $(dir $@)
	$(Q)awk '/<!-- example: regenerate -->/ {on = 1; next} on && /^```c/ {code = 1; next} \
	     code && /^```/ {exit} code' README.md > $@

$(BUILD)/host/example_regenerate: $(BUILD)/host/example_regenerate.c $(call rel_obj,$(LINUX_LIB_SRC))
	@$(if $(Q),echo "  CC LD   $@")
	$(Q)$(CC) $(WARN) $(CFLAGS) $(DEFS) $(INCLUDES) $(LINUX_INCLUDES) $(MBEDTLS_INCLUDES) \
	    $(JSMN_DEFS) $^ -o $@ -pthread $(MBEDTLS_LIBS)

BOARD_TARGETS := $(BUILD)/host/batchkey $(BUILD)/host/example_regenerate
# Run once, with Debian's mbedTLS: nothing in them depends on the TLS library's version.
BOARD_HOST_ONLY_TESTS := secrets-tests readme-tests systemd-tests
BOARD_TEST_TARGETS := integration-tests rotation-tests credential-tests proxy-tests \
    session-tests fault-tests $(BOARD_HOST_ONLY_TESTS)

.PHONY: integration-tests rotation-tests credential-tests systemd-tests
integration-tests: $(BOARD_TARGETS)
	python3 tests/integration/test_cli.py --bin $(BUILD)/host/batchkey --example $(BUILD)/host/example_regenerate

# batchkey rotate against the emulator's ARM and Batch data plane: crashes at every step, the
# state's failures (corrupt, foreign, unwritable, full), --max-age, --dry-run, the deploy hook.
rotation-tests: $(BUILD)/host/batchkey $(BUILD)/host/batchkey-crashtest
	python3 tests/integration/test_rotate.py --bin $(BUILD)/host/batchkey \
	    --crash-bin $(BUILD)/host/batchkey-crashtest

# Every credential against the emulator, which verifies them (certificates, workload identity,
# App Service, Azure Arc, IMDS), DefaultAzureCredential's order, and the refusals.
credential-tests: $(BUILD)/host/batchkey
	python3 tests/integration/test_credentials.py --bin $(BUILD)/host/batchkey

# Through Debian's tinyproxy, which the tests start and stop: basic authentication, NO_PROXY,
# refusals (403, 407), answers that are not HTTP, TLS verified end to end inside the tunnel.
.PHONY: proxy-tests
proxy-tests: $(BUILD)/host/batchkey
	python3 tests/integration/test_proxy.py --bin $(BUILD)/host/batchkey

# TLS sessions resumed within a run and by the next one (the state directory's tls-* records),
# offered only to the name they were verified for; damaged or expired records.
.PHONY: session-tests
session-tests: $(BUILD)/host/batchkey
	python3 tests/integration/test_sessions.py --bin $(BUILD)/host/batchkey

# Every command and credential at -v through tinyproxy with a state directory: no secret (client
# secret, private key, tokens, assertions, refresh token, proxy credentials, keys) in any output
# or file but where one is kept by design (tests/integration/test_secrets.py names them).
.PHONY: secrets-tests
secrets-tests: $(BUILD)/host/batchkey
	python3 tests/integration/test_secrets.py --bin $(BUILD)/host/batchkey

# The fault matrix: every route (token, get, listKeys, regenerateKeys, the data plane, managed
# identity) against cut, stalled, oversized and malformed answers and refused TLS servers.
.PHONY: fault-tests
fault-tests: $(BUILD)/host/batchkey
	python3 tests/integration/test_faults.py --bin $(BUILD)/host/batchkey

# The systemd units: systemd-analyze verify on copies whose ExecStart names the built CLI, the
# settings the design asks for, and the exposure score.
systemd-tests: $(BUILD)/host/batchkey
	@sh tests/systemd/test_units.sh $(BUILD)/host/batchkey

# The README's shell snippets marked <!-- test: emulator -->, run as written against the emulator
# (started by serve.sh, as `make emulator` does), after the runner's own self-test.
.PHONY: readme-tests
readme-tests: $(BUILD)/host/batchkey $(BUILD)/host/example_regenerate.c
	@sh tests/readme/test_runner.sh
	python3 tests/readme/run_snippets.py --bin-dir $(BUILD)/host README.md

include boards/linux/install.mk
