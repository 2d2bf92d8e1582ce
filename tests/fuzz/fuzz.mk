# SPDX-License-Identifier: MIT
# libFuzzer targets (clang, ASan + UBSan) for every input path batchkey reads:
#   fuzz_response     the response reader through a scripted stream, whole vs. split (differential)
#   fuzz_models       every JSON model (ARM, Entra, managed identity, device code, Batch errors)
#   fuzz_records      the rotation record, the two-slot flash store's load, the TLS session record
#   fuzz_validators   URL, endpoint, GUID and parameter validators, proxy URL and NO_PROXY
#   fuzz_credentials  the Arc challenge, CAE claims, a workload identity's federated token (JWT)
#   fuzz_proxy        the proxy's answer to CONNECT
#   fuzz_client       whole calls of the client over a scripted connector (CAE challenge included)
#   fuzz_pem          a certificate credential's PEM (mbedTLS), then the assertion it signs
#
#   make fuzz                 each target for FUZZ_SECONDS (default 60), FUZZ_JOBS at a time
#                             (default 2); a table of executions per target; fails on a finding
#   make fuzz-smoke           each target for a fixed, seeded number of runs (part of make test)
#   make fuzz-FOO             one target (e.g. make fuzz-fuzz_pem FUZZ_SECONDS=600)
# Seeds: tests/fuzz/corpus/<target>/ (python3 tests/fuzz/make_corpus.py writes them), read only;
# new inputs go to $(BUILD)/fuzz/corpus/<target>/, crashes to $(BUILD)/fuzz/artifacts/, logs to
# $(BUILD)/fuzz/logs/.
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_FLAGS := -std=c99 -g -O1 -Wall -Wextra $(FUZZ_SAN) $(DEFS) $(INCLUDES) $(JSMN_DEFS) \
              $(MBEDTLS_INCLUDES) -Itests/support -Iport/mbedtls
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_SMOKE_RUNS ?= 20000
FUZZ_NAMES := fuzz_response fuzz_models fuzz_records fuzz_validators fuzz_credentials \
              fuzz_proxy fuzz_client fuzz_pem
FUZZ_TARGETS := $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))

# The library, compiled once with coverage instrumentation (fuzzer-no-link), shared by every
# target: the core, jsmn, the crypto port, the test platform and scripted streams.
FUZZ_LIB_SRC := $(CORE_SRC) $(JSMN_SRC) $(CRYPTO_SRC) $(SUPPORT_SRC) platform/null/bk_tcp_null.c
FUZZ_LIB_OBJ := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(FUZZ_LIB_SRC))
FUZZ_PEM_OBJ := $(BUILD)/fuzz/obj/port/mbedtls/bk_client_cert.o

$(BUILD)/fuzz/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

-include $(shell find $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)

$(BUILD)/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD fuzz $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ $(MBEDCRYPTO_LIB)

$(BUILD)/fuzz/fuzz_pem: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_pem.o $(FUZZ_PEM_OBJ) $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD fuzz $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ $(MBEDTLS_LIBS)

.PHONY: fuzz fuzz-smoke fuzz-targets $(addprefix fuzz-,$(FUZZ_NAMES))
fuzz-targets: $(FUZZ_TARGETS)

fuzz: $(FUZZ_TARGETS)
	@sh tests/fuzz/run_fuzz.sh run $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_NAMES)

# A fixed seed and a fixed number of runs per target (run_fuzz.sh), FUZZ_JOBS at a time.
fuzz-smoke: $(FUZZ_TARGETS)
	@sh tests/fuzz/run_fuzz.sh smoke $(BUILD)/fuzz $(FUZZ_SMOKE_RUNS) $(FUZZ_JOBS) $(FUZZ_NAMES)

$(addprefix fuzz-,$(FUZZ_NAMES)): fuzz-%: $(BUILD)/fuzz/%
	@sh tests/fuzz/run_fuzz.sh run $(BUILD)/fuzz $(FUZZ_SECONDS) 1 $*
