# SPDX-License-Identifier: MIT
# A Linux board cross-compiled with Debian's cross compilers: the batchkey CLI and the library
# example of boards/linux, against mbedTLS built from Debian's source for the target, and the
# integration tests with the CLI under qemu-user against the emulator on this host. Included by
# boards/<board>/board.mk, which sets:
#   CROSS_BOARD    the board's name (its build directory $(BUILD)/<board>)
#   CROSS_TRIPLET  the cross tools' prefix (aarch64-linux-gnu: aarch64-linux-gnu-gcc, -ar)
#   CROSS_QEMU     qemu-user's emulator for the target (qemu-aarch64)
#
#   make BOARD=<board>        $(BUILD)/<board>/batchkey and example_regenerate
#   make BOARD=<board> test   the integration, rotation and credential tests under qemu-user
#
# Everything of the board lives under $(BUILD)/<board>: objects in obj/ (crash/ for the
# crash-test build's one), mbedTLS in mbedtls/ (its own copy of the source); only the unpacked
# Debian source is shared by the cross boards ($(BUILD)/linux-cross). Never the host's objects.

CROSS := $(BUILD)/$(CROSS_BOARD)
CROSS_CC ?= $(CROSS_TRIPLET)-gcc
CROSS_MBEDTLS := $(CROSS)/mbedtls
CROSS_MBEDTLS_LIBS := $(addprefix $(CROSS_MBEDTLS)/lib/,libmbedtls.a libmbedx509.a libmbedcrypto.a)

include boards/linux/sources.mk

# The cross compiler does not search the host's /usr/include: it sees Debian's jsmn.h alone, and
# the target's mbedTLS.
CROSS_COMPILE = $(CROSS_CC) $(WARN) $(CFLAGS) $(DEFS) $(INCLUDES) -isystem $(CROSS)/include \
    -isystem $(CROSS_MBEDTLS)/include $(JSMN_DEFS)
# Static, so that qemu-user runs it without the target's libraries (no -L sysroot) and a device
# runs it whatever its C library's version. Static glibc warns at link time that getaddrinfo
# needs glibc's shared NSS modules: its files and dns lookups are built in since 2.34, and those
# are the ones batchkey's host names go through (/etc/hosts, DNS).
CROSS_LDFLAGS := -static -pthread
# Debian's mbedTLS configuration turns on MBEDTLS_THREADING_PTHREAD (-pthread above).
CROSS_LINK = $(CROSS_CC) $(filter %.o,$^) $(CROSS_MBEDTLS_LIBS) -o $@ $(CROSS_LDFLAGS)

cross_obj = $(patsubst %.c,$(CROSS)/obj/%.o,$(1))

CROSS_FLAGS_STAMP := $(CROSS)/compile-flags
$(CROSS_FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@flags='$(subst ','\'',$(CROSS_COMPILE) $(LINUX_INCLUDES) $(CROSS_LDFLAGS))'; \
	    [ "$$(cat $@ 2>/dev/null)" = "$$flags" ] || printf '%s\n' "$$flags" >$@

$(CROSS)/include/jsmn.h:
	@mkdir -p $(dir $@)
	@ln -sf $(JSMN_HEADER) $@

# The unpacked source is shared by the cross boards, each builds in a copy of its own.
$(CROSS_MBEDTLS_LIBS) &:
	@sh tests/cross/build_mbedtls_cross.sh $(CROSS_TRIPLET) $(BUILD)/linux-cross/mbedtls \
	    $(CROSS_MBEDTLS)

# As the host board: the boards' and the mbedTLS port's files see the port and the platform.
$(CROSS)/obj/boards/%.o $(CROSS)/obj/port/mbedtls/%.o $(CROSS)/crash/%.o: \
    CROSS_EXTRA = $(LINUX_INCLUDES)

$(CROSS)/obj/%.o: %.c $(CROSS_FLAGS_STAMP) | $(CROSS)/include/jsmn.h $(CROSS_MBEDTLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC $(CROSS_BOARD)  $<")
	$(Q)$(CROSS_COMPILE) $(CROSS_EXTRA) -MMD -MP -c $< -o $@

# The crash-test build's own bk_cli_state.o (see boards/linux/board.mk).
$(CROSS)/crash/%.o: %.c $(CROSS_FLAGS_STAMP) | $(CROSS)/include/jsmn.h $(CROSS_MBEDTLS_LIBS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC $(CROSS_BOARD)  $< (crash points)")
	$(Q)$(CROSS_COMPILE) $(CROSS_EXTRA) -DBK_CLI_CRASH_POINTS -MMD -MP -c $< -o $@

-include $(shell find $(CROSS)/obj $(CROSS)/crash -name '*.d' 2>/dev/null)

$(CROSS)/batchkey: $(call cross_obj,$(LINUX_LIB_SRC) $(CLI_SRC)) $(CROSS_MBEDTLS_LIBS)
	@$(if $(Q),echo "  LD $(CROSS_BOARD)  $@")
	$(Q)$(CROSS_LINK)

$(CROSS)/batchkey-crashtest: $(call cross_obj,$(LINUX_LIB_SRC) \
    $(filter-out boards/common/bk_cli_state.c,$(CLI_SRC))) \
    $(CROSS)/crash/boards/common/bk_cli_state.o $(CROSS_MBEDTLS_LIBS)
	@$(if $(Q),echo "  LD $(CROSS_BOARD)  $@")
	$(Q)$(CROSS_LINK)

# The README's C example, built from the README as the host board builds it.
$(CROSS)/example_regenerate.c: README.md
	@mkdir -p $(dir $@)
	$(Q)awk '/<!-- example: regenerate -->/ {on = 1; next} on && /^```c/ {code = 1; next} \
	     code && /^```/ {exit} code' README.md > $@

$(CROSS)/example_regenerate: $(CROSS)/example_regenerate.c $(call cross_obj,$(LINUX_LIB_SRC)) \
    $(CROSS_FLAGS_STAMP) $(CROSS_MBEDTLS_LIBS)
	@$(if $(Q),echo "  CC LD $(CROSS_BOARD)  $@")
	$(Q)$(CROSS_COMPILE) $(LINUX_INCLUDES) $(filter %.c,$^) $(filter %.o,$^) \
	    $(CROSS_MBEDTLS_LIBS) -o $@ $(CROSS_LDFLAGS)

BOARD_TARGETS := $(CROSS)/batchkey $(CROSS)/example_regenerate

# The host's integration tests, each binary run by qemu-user (--runner). Their valgrind cases
# are skipped: valgrind cannot check a binary of another CPU.
CROSS_RUNNER := $(CROSS_QEMU)

.PHONY: integration-tests rotation-tests credential-tests proxy-tests session-tests
integration-tests: $(BOARD_TARGETS)
	python3 tests/integration/test_cli.py --runner '$(CROSS_RUNNER)' --bin $(CROSS)/batchkey \
	    --example $(CROSS)/example_regenerate

rotation-tests: $(CROSS)/batchkey $(CROSS)/batchkey-crashtest
	python3 tests/integration/test_rotate.py --runner '$(CROSS_RUNNER)' --bin $(CROSS)/batchkey \
	    --crash-bin $(CROSS)/batchkey-crashtest

credential-tests: $(CROSS)/batchkey
	python3 tests/integration/test_credentials.py --runner '$(CROSS_RUNNER)' \
	    --bin $(CROSS)/batchkey

proxy-tests: $(CROSS)/batchkey
	python3 tests/integration/test_proxy.py --runner '$(CROSS_RUNNER)' --bin $(CROSS)/batchkey

session-tests: $(CROSS)/batchkey
	python3 tests/integration/test_sessions.py --runner '$(CROSS_RUNNER)' --bin $(CROSS)/batchkey

.PHONY: fault-tests
fault-tests: $(CROSS)/batchkey
	python3 tests/integration/test_faults.py --runner '$(CROSS_RUNNER)' --bin $(CROSS)/batchkey

BOARD_TEST_TARGETS := integration-tests rotation-tests credential-tests proxy-tests session-tests
# `make BOARD=<board> test`: the board's tests alone; the host's stay `make test`'s. The fault
# matrix passes under qemu-user too (`make BOARD=linux-aarch64 fault-tests`, 104 s), but it tests
# the same C as the host's run and stays out of make test's time.
TEST_GOALS := $(BOARD_TEST_TARGETS)
