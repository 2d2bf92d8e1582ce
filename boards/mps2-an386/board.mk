# SPDX-License-Identifier: MIT
# The mps2-an386 board: a bare-metal Cortex-M4 under QEMU's model of Arm's AN386 FPGA image
# (qemu-system-arm -M mps2-an386), built with arm-none-eabi-gcc against Debian's newlib-nano.
#
#   make BOARD=mps2-an386              the firmware image: for now the board's bring-up test,
#                                      $(BUILD)/mps2-an386/bk_selftest.elf
#   make BOARD=mps2-an386 test         core checks, the cores' cross builds, that test and the unit
#                                      tests of tests/unit, each run on the board under QEMU
#                                      (tests/target/target.mk); the host's tests are `make test`'s
#   make BOARD=mps2-an386 run ARGS=..  boots an image (RUN_IMAGE=..., default the firmware) with
#                                      ARGS as its command line; a guest's non-zero status fails
#                                      the goal (boards/mps2-an386/run.sh returns it exactly)
#   make BOARD=mps2-an386 size         flash and RAM of the firmware image per group, and its
#                                      deepest stack in one run
#
# Soft float: the core, mbedTLS and lwIP compute no floating point, so the FPU that QEMU's
# cortex-m4 has would only cost enabling it at reset and larger exception frames; the soft-float
# build also runs on an M4 without one. Everything of this board is built under $(MPS2) (objects
# in obj/ and test-obj/) with its own compiler and flags, never mixed with the host's
# $(BUILD)/rel and $(BUILD)/san.

MPS2 := $(BUILD)/mps2-an386
MPS2_DIR := boards/mps2-an386
MPS2_CC ?= arm-none-eabi-gcc
MPS2_SIZE ?= arm-none-eabi-size
MPS2_CFLAGS ?= -Os -g
MPS2_ARCH := -mcpu=cortex-m4 -mthumb -mfloat-abi=soft
# The board's buffer sizes for core/bk_config.h.
MPS2_CONFIG := -include $(MPS2_DIR)/bk_config_board.h
MPS2_INCLUDES := -Icore -I$(MPS2_DIR) -isystem $(MPS2)/include
MPS2_COMPILE = $(MPS2_CC) $(WARN) $(MPS2_CFLAGS) $(MPS2_ARCH) -ffunction-sections -fdata-sections \
    $(CPPFLAGS) $(MPS2_CONFIG) $(JSMN_DEFS) $(MPS2_INCLUDES)
# No crt0: the board's reset handler (bk_startup.c) prepares memory and calls main. C only, so
# there are no constructors to run either. Images add their C library: newlib-nano for the
# firmware, full newlib for the unit tests (tests/target/target.mk says why).
MPS2_LDFLAGS := $(MPS2_ARCH) -nostartfiles -T $(MPS2_DIR)/mps2_an386.ld -Wl,--gc-sections
MPS2_STACK_SIZE ?= 16384

mps2_obj = $(patsubst %.c,$(MPS2)/obj/%.o,$(1))

MPS2_BOARD_SRC := $(MPS2_DIR)/bk_startup.c $(MPS2_DIR)/bk_semihost.c
MPS2_PLATFORM_SRC := $(MPS2_DIR)/bk_board_platform.c $(MPS2_DIR)/bk_board_no_tcp.c
MPS2_LIB_SRC := $(CORE_SRC) $(JSMN_SRC)

MPS2_FLAGS_STAMP := $(MPS2)/compile-flags
$(MPS2_FLAGS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@flags='$(subst ','\'',$(MPS2_COMPILE))'; \
	    [ "$$(cat $@ 2>/dev/null)" = "$$flags" ] || printf '%s\n' "$$flags" >$@

# The cross compiler does not search the host's /usr/include: show it Debian's jsmn.h alone.
$(MPS2)/include/jsmn.h:
	@mkdir -p $(dir $@)
	@ln -sf $(JSMN_HEADER) $@

# The firmware's objects, against newlib-nano's headers (its struct layouts differ from newlib's).
$(MPS2)/obj/%.o: %.c $(MPS2_FLAGS_STAMP) | $(MPS2)/include/jsmn.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC m4   $<")
	$(Q)$(MPS2_COMPILE) --specs=nano.specs $(MPS2_EXTRA) -MMD -MP -c $< -o $@

-include $(shell find $(MPS2)/obj $(MPS2)/test-obj -name '*.d' 2>/dev/null)

# The firmware image. Until the firmware main arrives it is the bring-up test, which also runs
# the core's request writers and response readers on the board's platform (a token request and
# a regenerateKeys over canned answers).
MPS2_FIRMWARE := $(MPS2)/bk_selftest.elf
MPS2_FIRMWARE_SRC := tests/target/bk_selftest.c $(MPS2_BOARD_SRC) $(MPS2_PLATFORM_SRC) \
    $(MPS2_LIB_SRC)

# Links an image ($@) from the objects among its prerequisites and writes its linker map beside
# it; MPS2_IMAGE_LDFLAGS adds what the image needs (its stack size at least).
MPS2_LINK = $(MPS2_CC) $(MPS2_LDFLAGS) $(MPS2_IMAGE_LDFLAGS) -Wl,-Map=$(@:.elf=.map) \
    $(filter %.o,$^) $(filter %.a,$^) -o $@

$(MPS2_FIRMWARE): MPS2_IMAGE_LDFLAGS = --specs=nano.specs \
    -Wl,--defsym=__stack_size=$(MPS2_STACK_SIZE)
$(MPS2_FIRMWARE): $(call mps2_obj,$(MPS2_FIRMWARE_SRC)) $(MPS2_DIR)/mps2_an386.ld
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD m4   $@")
	$(Q)$(MPS2_LINK)

BOARD_TARGETS := $(MPS2_FIRMWARE)

.PHONY: run size
RUN_IMAGE ?= $(MPS2_FIRMWARE)
run: $(RUN_IMAGE)
	@sh $(MPS2_DIR)/run.sh $(RUN_IMAGE) $(ARGS)

# The table from the image's linker map, then what one run of the image measured (the stack;
# later the mbedTLS pool's peak and lwIP's high-water marks print the same way).
MPS2_SIZE_RUN_ARGS ?= check
size: $(MPS2_FIRMWARE)
	@sh $(MPS2_DIR)/run.sh $(MPS2_FIRMWARE) $(MPS2_SIZE_RUN_ARGS) >$(MPS2)/size-run.out \
	    2>$(MPS2)/size-run.err || { cat $(MPS2)/size-run.out $(MPS2)/size-run.err; exit 1; }
	@sh $(MPS2_DIR)/size.sh $(MPS2_FIRMWARE) $(MPS2)/size-run.err

# mbedTLS and lwIP built for the board, when their fragments are there; M4_MBEDTLS_ARCH (left
# at its default) is this board's ABI, soft float: the linker refuses a mismatch.
-include $(MPS2_DIR)/mbedtls.mk
-include $(MPS2_DIR)/lwip.mk

include tests/target/target.mk

BOARD_TEST_TARGETS := board-tests target-unit-tests
# `make BOARD=mps2-an386 test`: the board's tests, the core's rules and its cross builds. The
# host's tests (unit, TLS, emulator, then mbedTLS 3.6 with the Linux CLI) stay `make test`'s.
TEST_GOALS := core-checks core-m4 core-rv32 $(BOARD_TEST_TARGETS)
