# SPDX-License-Identifier: MIT
# make coverage: the unit tests (as make unit-tests builds and runs them) compiled with --coverage
# -O0 and no sanitizer into $(BUILD)/coverage, run, then gcovr: line and branch coverage of core/
# per file and in sum, printed, with an HTML report in $(BUILD)/coverage/html/. Every branch of
# the HTTP reader and the JSON models must be taken, except those tests/coverage/expected-
# uncovered.txt names with its reason (tests/coverage/check_branches.py).
#
# gcovr's --exclude-unreachable-branches drops the branches gcc adds on lines with no code of
# their own (a closing brace); --exclude-throw-branches, those of exceptions (none in C).
COV_DIR := $(BUILD)/coverage
COV_FLAGS := $(WARN) -O0 -g --coverage $(DEFS) $(INCLUDES) $(MBEDTLS_INCLUDES) $(JSMN_DEFS) \
    -Itests/support -Iport/mbedtls -Iplatform/posix
cov_obj = $(patsubst %.c,$(COV_DIR)/obj/%.o,$(1))
COV_LIB_OBJ := $(call cov_obj,$(CORE_SRC) $(JSMN_SRC) $(CRYPTO_SRC) $(SUPPORT_SRC) \
    platform/null/bk_tcp_null.c)
COV_BINS := $(patsubst tests/unit/%.c,$(COV_DIR)/bin/%,$(UNIT_SRC))
COV_CHECKED := core/bk_http_response.c core/bk_json.c core/bk_models.c

$(COV_DIR)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC cov  $<")
	$(Q)$(CC) $(COV_FLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(COV_DIR)/obj -name '*.d' 2>/dev/null)

$(COV_DIR)/bin/%: $(COV_DIR)/obj/tests/unit/%.o $(COV_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)$(CC) --coverage $^ -o $@ -lcmocka $(MBEDCRYPTO_LIB)

$(COV_DIR)/bin/test_posix_store: $(call cov_obj,platform/posix/bk_posix_store.c)

# Counts from an earlier run would add up with this one's: they are removed first.
.PHONY: coverage
coverage: $(COV_BINS)
	@find $(COV_DIR) -name '*.gcda' -exec rm -f {} +
	@set -e; for t in $(COV_BINS); do echo "== $$t"; SPEC_DIR=$(SPEC_DIR) $$t >$$t.log 2>&1 || \
	    { cat $$t.log; exit 1; }; done
	@rm -rf $(COV_DIR)/html && mkdir -p $(COV_DIR)/html
	@gcovr --root . --filter core/ --exclude-unreachable-branches --exclude-throw-branches -j2 \
	    --object-directory $(COV_DIR)/obj --json $(COV_DIR)/coverage.json $(COV_DIR)/obj
	@gcovr --add-tracefile $(COV_DIR)/coverage.json --root . --txt --sort-uncovered
	@gcovr --add-tracefile $(COV_DIR)/coverage.json --root . --txt --branches --sort-uncovered \
	    --html-details $(COV_DIR)/html/index.html --print-summary
	@python3 tests/coverage/check_branches.py $(COV_DIR)/coverage.json \
	    tests/coverage/expected-uncovered.txt $(COV_CHECKED)
