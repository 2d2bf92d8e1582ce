# SPDX-License-Identifier: MIT
# libFuzzer targets (clang): the response reader through a scripted stream, and the JSON models.
#   make fuzz                 each target for FUZZ_SECONDS (default 60)
#   make fuzz-smoke           each target for a fixed, seeded number of runs (part of make test)
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              $(DEFS) $(INCLUDES) $(JSMN_DEFS) -Itests/support
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(BUILD)/fuzz/fuzz_response $(BUILD)/fuzz/fuzz_models

$(BUILD)/fuzz/fuzz_response: tests/fuzz/fuzz_response.c core/bk_http_response.c core/bk_ascii.c core/bk_stream.c \
                             core/bk_result.c tests/support/bk_script.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $^ -o $@

$(BUILD)/fuzz/fuzz_models: tests/fuzz/fuzz_models.c core/bk_json.c core/bk_models.c core/bk_ascii.c \
                           core/bk_wipe.c core/bk_result.c $(JSMN_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $^ -o $@

.PHONY: fuzz fuzz-smoke
fuzz: $(FUZZ_TARGETS)
	@set -e; for t in $(FUZZ_TARGETS); do $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1; done

fuzz-smoke: $(FUZZ_TARGETS)
	@set -e; for t in $(FUZZ_TARGETS); do echo "== $$t"; $$t -runs=30000 -seed=1 2>&1 | tail -n 1; done
