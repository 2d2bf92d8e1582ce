# SPDX-License-Identifier: MIT
# Tests on the mps2-an386 board under QEMU. Included by boards/mps2-an386/board.mk (it uses
# MPS2, MPS2_CC, MPS2_COMPILE, MPS2_LINK, mps2_obj and the Makefile's source lists):
#
#   make BOARD=mps2-an386 board-tests         the bring-up test: platform, semihosting, exit
#                                             codes, HardFault report, stack measure
#   make BOARD=mps2-an386 target-unit-tests   the unit tests of tests/unit, each an image run
#                                             under QEMU; ends with "N passed, N failed"

MPS2_CMOCKA := $(MPS2)/cmocka
# Tests that need more than core/, port/jsmn and tests/support: the crypto seam (test_crypto tests
# it; bk_client decodes CAE claims with its base64, so test_client and test_secrets need it;
# test_rotation signs data-plane requests; test_proxy encodes basic authentication), i.e.
# port/mbedtls over mbedTLS built for the board (boards/mps2-an386/mbedtls.mk). Without that they
# are left out.
MPS2_CRYPTO_TESTS := test_crypto test_client test_rotation test_jwt test_proxy test_secrets
MPS2_UNIT_SKIP ?= $(if $(M4_MBEDTLS_LIBS),,$(MPS2_CRYPTO_TESTS))
# Host-only tests (POSIX): never built for the board.
MPS2_HOST_ONLY_TESTS := test_posix_store
MPS2_UNIT_SRC := $(filter-out $(MPS2_UNIT_SKIP:%=tests/unit/%.c) \
    $(MPS2_HOST_ONLY_TESTS:%=tests/unit/%.c),$(UNIT_SRC))
MPS2_UNIT_IMAGES := $(patsubst tests/unit/%.c,$(MPS2)/tests/%.elf,$(MPS2_UNIT_SRC))
# The tests keep large fixtures in locals; the run reports how much each really used.
MPS2_TEST_STACK_SIZE ?= 65536

$(MPS2_CMOCKA)/include/cmocka.h:
	@sh tests/target/fetch_cmocka.sh $(MPS2_CMOCKA)

# cmocka.c as Debian's build configures it, less what needs an OS: no sigsetjmp (plain setjmp),
# no clock_gettime (no test times), no thread-local storage. newlib's signal() is kept: it only
# records the handlers, as no signal ever comes. Third-party code: its own warnings, not ours.
MPS2_CMOCKA_DEFS := -DHAVE_SIGNAL_H=1 -DHAVE_INTTYPES_H=1 -DHAVE_STRINGS_H=1 -DHAVE_MALLOC_H=1
$(MPS2)/test-obj/cmocka.o: $(MPS2_CMOCKA)/include/cmocka.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC m4 t cmocka.c")
	$(Q)$(MPS2_CC) -std=gnu99 $(MPS2_CFLAGS) $(MPS2_ARCH) -ffunction-sections -fdata-sections \
	    $(MPS2_CMOCKA_DEFS) -I$(MPS2_CMOCKA)/include \
	    -c $(MPS2_CMOCKA)/src/cmocka.c -o $@

# The test images link full newlib, not newlib-nano: nano's printf has no %llu, which the tests'
# reference values and messages use (and neither has %zu: bk_target_printf.c below). So their
# objects, core's included, are compiled again against newlib's headers, with the firmware's
# flags otherwise (core includes no stdio: its code comes out the same).
mps2_test_obj = $(patsubst %.c,$(MPS2)/test-obj/%.o,$(1))
$(MPS2)/test-obj/%.o: %.c $(MPS2_FLAGS_STAMP) | $(MPS2)/include/jsmn.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC m4 t $<")
	$(Q)$(MPS2_COMPILE) $(MPS2_EXTRA) -MMD -MP -c $< -o $@

# Each test's main() becomes bk_unit_main, called by tests/target/bk_target_main.c.
$(MPS2)/test-obj/tests/unit/%.o: MPS2_EXTRA = -Dmain=bk_unit_main -Itests/support \
    -isystem $(MPS2_CMOCKA)/include
$(MPS2)/test-obj/tests/support/%.o: MPS2_EXTRA = -Itests/support
$(call mps2_test_obj,$(MPS2_UNIT_SRC)): | $(MPS2_CMOCKA)/include/cmocka.h

# The deterministic test platform (tests/support) stands in for the board's; newlib's
# semihosting I/O (rdimon) gives the tests stdio and fopen on the host's files.
MPS2_TEST_OBJ := $(call mps2_test_obj,$(MPS2_LIB_SRC) $(SUPPORT_SRC) platform/null/bk_tcp_null.c \
    tests/target/bk_target_main.c tests/target/bk_target_printf.c $(MPS2_BOARD_SRC)) \
    $(MPS2)/test-obj/cmocka.o
# Formats with %zu go through tests/target/bk_target_printf.c first.
MPS2_PRINTF_WRAPS := printf fprintf sprintf snprintf vprintf vfprintf vsprintf vsnprintf

ifneq ($(M4_MBEDTLS_LIBS),)
MPS2_CRYPTO_SRC := port/mbedtls/bk_crypto_mbedtls.c port/mbedtls/bk_mbedtls_platform.c \
    tests/target/bk_target_mbedtls.c
$(call mps2_test_obj,$(MPS2_CRYPTO_SRC)): MPS2_EXTRA = $(M4_MBEDTLS_INCLUDES)
$(call mps2_test_obj,$(MPS2_CRYPTO_SRC)): $(M4_MBEDTLS_CONFIG) | $(M4_MBEDTLS_LIBS)
$(MPS2_CRYPTO_TESTS:%=$(MPS2)/tests/%.elf): $(call mps2_test_obj,$(MPS2_CRYPTO_SRC)) \
    $(M4_MBEDTLS_LIBS)
endif

$(MPS2)/tests/%.elf: MPS2_IMAGE_LDFLAGS = --specs=rdimon.specs \
    -Wl,--defsym=__stack_size=$(MPS2_TEST_STACK_SIZE) $(MPS2_PRINTF_WRAPS:%=-Wl,--wrap=%)
$(MPS2)/tests/%.elf: $(MPS2)/test-obj/tests/unit/%.o $(MPS2_TEST_OBJ) \
    $(MPS2_DIR)/mps2_an386.ld
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD m4   $@")
	$(Q)$(MPS2_LINK)

.PHONY: board-tests target-unit-tests
board-tests: $(MPS2_SELFTEST)
	@sh tests/target/test_board.sh $(MPS2_SELFTEST)

# SPEC_DIR goes on the guest's command line: tests/target/bk_target_main.c makes it the
# environment, and the spec's files are read through semihosting (relative to this directory).
target-unit-tests: $(MPS2_UNIT_IMAGES)
	@$(if $(MPS2_UNIT_SKIP),echo "not run on the board: $(MPS2_UNIT_SKIP)$(if \
	    $(M4_MBEDTLS_LIBS),, (no mbedTLS for the board: boards/mps2-an386/mbedtls.mk))")
	@sh tests/target/run_unit_tests.sh SPEC_DIR=$(SPEC_DIR) -- $(MPS2_UNIT_IMAGES)
