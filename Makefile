# SPDX-License-Identifier: MIT
# batchkey: one entry point.
#   make            the batchkey CLI for this Linux host (build/host/batchkey) and the README's C
#                   example (build/host/example_regenerate)
#   make test       unit tests, core checks, cross build of the core, integration tests (with the
#                   fault matrix and the secrets search), the README's snippets, the integration
#                   tests again with the CLI cross-built for aarch64 under qemu-user
#                   (cross-tests), the unit, TLS and integration tests again on mbedTLS 3.6 (built
#                   from Debian's source), the packages and make install, cppcheck, clang-tidy and
#                   clang-format (static-checks), gcovr's coverage of core/ (coverage), and the
#                   unit and integration tests once more under valgrind (valgrind-tests)
#   make demo       show, keys, regenerate against the local Azure emulator
#   make emulator   the emulator in the foreground, to try batchkey by hand (Ctrl-C stops it)
#   make deps-build, deps-demo, deps-test (or deps)   the Debian packages each needs
#   make fuzz       libFuzzer on every input path (tests/fuzz/fuzz.mk), FUZZ_SECONDS=60 each,
#                   FUZZ_JOBS=2 at a time; fails on a finding
#   make bench      one regenerate against the emulator beside curl + jq: wall, CPU, peak RSS,
#                   TLS handshakes, bytes, the core's instructions (RUNS=51; tests/bench/bench.py)
#   make core-m4    the core for a Cortex-M4 (arm-none-eabi-gcc), with its size per file
#   make core-rv32  the same for a 32-bit RISC-V (riscv64-unknown-elf-gcc, rv32imac/ilp32)
#   make BOARD=linux-aarch64, BOARD=linux-armhf   the CLI and the example cross-compiled with
#                   Debian's cross compilers on mbedTLS built from Debian's source, under
#                   build/<board>/; `make BOARD=... test` runs the integration tests with them
#                   under qemu-user (boards/linux/cross.mk)
#   make format     clang-format every C file (in a git checkout)
#   make install    the CLI, libbatchkey.a, headers, batchkey.pc, batchkey(1), systemd units
#                   (PREFIX=/usr/local, DESTDIR, BINDIR, LIBDIR, ...: boards/linux/install.mk)
#   make uninstall  removes what make install put, with the same variables
#
# Variables: BOARD (a directory under boards/), BUILD (output directory), CFLAGS (default -O2 -g),
# CPPFLAGS (extra -D, e.g. CPPFLAGS=-DBK_KEY_MAX=200 to resize a buffer of core/bk_config.h), V=1.
# Objects track their headers (-MMD) and the compile flags ($(BUILD)/compile-flags), so changing
# either rebuilds what it affects.

BOARD ?= linux
BUILD ?= build
.DEFAULT_GOAL := all
SPEC_DIR ?= ../shared/spec

CC ?= cc
WARN := -std=c99 -Wall -Wextra -Wconversion -Wshadow -Werror
INCLUDES := -Icore
CFLAGS ?= -O2 -g
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
DEFS := -D_POSIX_C_SOURCE=200809L $(CPPFLAGS)

CORE_SRC := $(sort $(wildcard core/*.c))
JSMN_SRC := port/jsmn/bk_jsmn.c
CRYPTO_SRC := $(wildcard port/mbedtls/bk_crypto_mbedtls.c)
TLS_SRC := $(wildcard port/mbedtls/bk_tls.c)
POSIX_SRC := $(sort $(wildcard platform/posix/*.c))
SUPPORT_SRC := $(sort $(wildcard tests/support/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
JSMN_DEFS := -DJSMN_STRICT -DJSMN_PARENT_LINKS
# Debian's mbedTLS by default; `make mbedtls3-tests` points these at mbedTLS 3.6 instead.
MBEDTLS_INCLUDES ?=
MBEDTLS_LIBS ?= -lmbedtls -lmbedx509 -lmbedcrypto
MBEDCRYPTO_LIB ?= -lmbedcrypto

# Objects: release ($(BUILD)/rel) and sanitized test ($(BUILD)/san) variants of the same sources.
rel_obj = $(patsubst %.c,$(BUILD)/rel/%.o,$(1))
san_obj = $(patsubst %.c,$(BUILD)/san/%.o,$(1))

# V=1 shows every command.
Q := $(if $(V),,@)

# A -D on the command line changes no file, so objects also depend on this stamp of the flags,
# rewritten only when they differ from the last build's.
FLAGS_STAMP := $(BUILD)/compile-flags
tracked_flags := $(CC) $(WARN) $(CFLAGS) $(SAN) $(DEFS) $(MBEDTLS_INCLUDES) $(JSMN_DEFS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@flags='$(subst ','\'',$(tracked_flags))'; \
	    [ "$$(cat $@ 2>/dev/null)" = "$$flags" ] || printf '%s\n' "$$flags" >$@
# Phony: .SECONDARY below would otherwise let make skip a missing FORCE.
.PHONY: FORCE

# -MMD -MP: each object's .d lists the project headers it read.
$(BUILD)/rel/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(WARN) $(CFLAGS) $(DEFS) $(INCLUDES) $(MBEDTLS_INCLUDES) $(JSMN_DEFS) -MMD -MP \
	    -c $< -o $@

$(BUILD)/san/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC san  $<")
	$(Q)$(CC) $(WARN) -O1 -g $(SAN) $(DEFS) $(INCLUDES) $(MBEDTLS_INCLUDES) $(JSMN_DEFS) -MMD -MP \
	    -Itests/support -c $< -o $@

-include $(shell find $(BUILD)/rel $(BUILD)/san $(BUILD)/crash -name '*.d' 2>/dev/null)

# Keep every object: the test binaries and the board share them.
.SECONDARY:

BOARDS := $(patsubst boards/%/board.mk,%,$(wildcard boards/*/board.mk))
ifeq ($(filter $(BOARD),$(BOARDS)),)
$(error unknown BOARD '$(BOARD)'; the boards are: $(BOARDS))
endif
include boards/$(BOARD)/board.mk
include tests/tls/tls.mk
include tests/fuzz/fuzz.mk
include tests/mbedtls3/mbedtls3.mk
include tests/bench/bench.mk
include tests/valgrind/valgrind.mk
include tests/static/static.mk

.PHONY: all deps test unit-tests core-checks core-m4 emulator-tests format clean demo emulator \
    bench
all: $(BOARD_TARGETS)

# Debian packages, installed when missing (apt-get, as root or through sudo), in three groups that
# tests/install_deps.sh lists: build (make), demo (make demo), test (make test; also make deps).
.PHONY: deps-build deps-demo deps-test
deps: deps-test
deps-build deps-demo deps-test:
	@sh tests/install_deps.sh $(@:deps-%=%)

# Plain `make` (or `make all`) without the build group: one line naming what is missing and what
# to run, instead of a compiler error. One dpkg-query; other goals skip it.
ifeq ($(filter-out all,$(MAKECMDGOALS)),)
BUILD_DEPS_MISSING := $(shell sh tests/install_deps.sh --check build 2>&1)
ifneq ($(BUILD_DEPS_MISSING),)
$(error $(BUILD_DEPS_MISSING))
endif
endif

# --- unit tests: core + port/jsmn + crypto port, a deterministic test platform, sanitizers ---
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# No network in unit tests (their streams are scripted): the null platform's TCP completes the
# contract for core/bk_tcp_stream.c.
UNIT_LIB_OBJ := $(call san_obj,$(CORE_SRC) $(JSMN_SRC) $(CRYPTO_SRC) $(SUPPORT_SRC) \
    platform/null/bk_tcp_null.c)

$(BUILD)/tests/%: $(BUILD)/san/tests/unit/%.o $(UNIT_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $^ -o $@ -lcmocka $(MBEDCRYPTO_LIB)

# The directory store's tests (POSIX, host only) link platform/posix's store besides the rest.
$(BUILD)/san/tests/unit/test_posix_store.o: INCLUDES += -Iplatform/posix
$(BUILD)/tests/test_posix_store: $(call san_obj,platform/posix/bk_posix_store.c)

unit-tests: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; SPEC_DIR=$(SPEC_DIR) $$t; done

# The same unit tests under the mps2-an386 board's smaller sizes (one suite, every configuration),
# in a build directory of their own.
.PHONY: unit-tests-small
unit-tests-small:
	@$(MAKE) --no-print-directory unit-tests BUILD=$(BUILD)/small \
	    CPPFLAGS="-include boards/mps2-an386/bk_config_board.h"

# --- the core's own rules: no heap, no OS or mbedTLS header, freestanding cross build ---
CORE_REL_OBJ := $(call rel_obj,$(CORE_SRC))
core-checks: $(CORE_REL_OBJ) $(call rel_obj,$(JSMN_SRC))
	@BUILD=$(BUILD) sh tests/check_core.sh $^

# The choice of Debian mirror for the mbedTLS 3.6 build, on sample apt sources (no download).
.PHONY: mirror-tests
mirror-tests:
	@sh tests/mbedtls3/test_mirror.sh

M4_CC ?= arm-none-eabi-gcc
M4_FLAGS := -mcpu=cortex-m4 -mthumb -Os -ffreestanding -ffunction-sections -fdata-sections
# The cross compiler does not search the host's /usr/include: show it Debian's jsmn.h alone.
JSMN_HEADER ?= /usr/include/jsmn.h
core-m4:
	@mkdir -p $(BUILD)/m4/include
	@ln -sf $(JSMN_HEADER) $(BUILD)/m4/include/jsmn.h
	@set -e; for f in $(CORE_SRC) $(JSMN_SRC); do \
	  $(M4_CC) $(WARN) $(M4_FLAGS) $(CPPFLAGS) $(INCLUDES) -isystem $(BUILD)/m4/include $(JSMN_DEFS) \
	    -c $$f -o $(BUILD)/m4/$$(basename $$f .c).o; \
	done
	@arm-none-eabi-size $(BUILD)/m4/*.o

# Debian's riscv64-unknown-elf-gcc has no C library of its own: picolibc's specs give <string.h>.
RV32_CC ?= riscv64-unknown-elf-gcc
RV32_FLAGS := -march=rv32imac -mabi=ilp32 -Os -ffreestanding -ffunction-sections -fdata-sections \
    --specs=picolibc.specs
.PHONY: core-rv32
core-rv32:
	@mkdir -p $(BUILD)/rv32/include
	@ln -sf $(JSMN_HEADER) $(BUILD)/rv32/include/jsmn.h
	@set -e; for f in $(CORE_SRC) $(JSMN_SRC); do \
	  $(RV32_CC) $(WARN) $(RV32_FLAGS) $(CPPFLAGS) $(INCLUDES) -isystem $(BUILD)/rv32/include \
	    $(JSMN_DEFS) -c $$f -o $(BUILD)/rv32/$$(basename $$f .c).o; \
	done
	@riscv64-unknown-elf-size $(BUILD)/rv32/*.o

# What `make test` runs. A cross board's fragment sets its own list (boards/mps2-an386/board.mk):
# the host's tests and the mbedTLS 3.6 pass are about the Linux build.
TEST_GOALS ?= unit-tests unit-tests-small core-checks mirror-tests core-m4 core-rv32 tls-tests \
    fuzz-smoke emulator-tests $(BOARD_TEST_TARGETS) cross-tests mbedtls3-tests install-tests \
    package-tests static-checks coverage valgrind-tests
test: deps-test
	@$(MAKE) --no-print-directory $(TEST_GOALS)

# One ARM board's CLI under qemu-user (boards/linux/cross.mk); linux-armhf's is run by hand.
.PHONY: cross-tests
cross-tests:
	@$(MAKE) --no-print-directory BOARD=linux-aarch64 test

# With Debian's own python3 too when another one comes first on PATH: a fresh machine has only it.
emulator-tests:
	python3 -m unittest tests/emulator/test_emulator.py
	@if [ -x /usr/bin/python3 ] && [ "$$(command -v python3)" != /usr/bin/python3 ]; then \
	    echo "/usr/bin/python3 -m unittest tests/emulator/test_emulator.py"; \
	    /usr/bin/python3 -m unittest tests/emulator/test_emulator.py; fi

demo: deps-demo
	@$(MAKE) --no-print-directory $(BUILD)/host/batchkey
	@sh tests/emulator/with_emulator.sh sh tests/emulator/demo.sh $(BUILD)/host/batchkey

# The local Azure emulator in the foreground, to try batchkey by hand: in another terminal
# `. build/emulator.env`, then build/host/batchkey show. Ctrl-C stops it.
emulator: deps-demo
	@$(MAKE) --no-print-directory $(BUILD)/host/batchkey
	@sh tests/emulator/serve.sh $(BUILD)/emulator.env $(BUILD)/host/batchkey

bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/host/batchkey $(BENCH_BINS)
	@$(MAKE) --no-print-directory BOARD=linux-musl
	@sh tests/emulator/with_emulator.sh python3 tests/bench/bench.py --out $(BENCH_DIR) \
	    --runs $(RUNS) --static $(BENCH_DIR)/batchkey-static --musl $(BUILD)/linux-musl/batchkey \
	    --replay $(BENCH_DIR)/bk_replay $(BUILD)/host/batchkey

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
