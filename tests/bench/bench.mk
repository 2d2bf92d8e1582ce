# SPDX-License-Identifier: MIT
# make bench's own binaries, in $(BUILD)/bench: the core's replay for callgrind (the client over
# scripted streams, as the unit tests run it, but built as the CLI is: -O2, no sanitizer), and
# the CLI linked statically against Debian's .a files, to see what that does to peak RSS.
RUNS ?= 51
BENCH_DIR := $(BUILD)/bench
BENCH_REPLAY_OBJ := $(call rel_obj,tests/bench/bk_replay.c $(CORE_SRC) $(JSMN_SRC) $(CRYPTO_SRC) \
    tests/support/bk_script.c tests/support/bk_test_platform.c platform/null/bk_tcp_null.c)
BENCH_BINS := $(BENCH_DIR)/bk_replay $(BENCH_DIR)/batchkey-static

$(BUILD)/rel/tests/bench/%.o: INCLUDES += -Itests/support

$(BENCH_DIR)/bk_replay: $(BENCH_REPLAY_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $^ -o $@ $(MBEDCRYPTO_LIB)

# ld warns that a static getaddrinfo may need glibc's shared NSS modules at run time: not for
# localhost, which the bench alone resolves (from /etc/hosts, built into glibc since 2.34).
$(BENCH_DIR)/batchkey-static: $(call rel_obj,$(LINUX_LIB_SRC) $(CLI_SRC))
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@ (static)")
	$(Q)$(CC) -static $^ -o $@ -pthread $(MBEDTLS_LIBS)
