# SPDX-License-Identifier: MIT
# The mps2-an386 board: a bare-metal Cortex-M4 under QEMU's model of Arm's AN386 FPGA image
# (qemu-system-arm -M mps2-an386), built with arm-none-eabi-gcc against Debian's newlib-nano.
#
#   make BOARD=mps2-an386              the firmware, $(BUILD)/mps2-an386/batchkey.elf (batchkey's
#                                      command line over lwIP and mbedTLS), and the board's
#                                      bring-up test image, bk_selftest.elf
#   make BOARD=mps2-an386 test         core checks, the cores' cross builds, the bring-up test,
#                                      the firmware against the local emulator and the unit tests
#                                      of tests/unit, each run on the board under QEMU
#                                      (tests/target/target.mk); the host's tests are `make test`'s
#   make BOARD=mps2-an386 run ARGS=..  runs the firmware as the CLI, its settings from the
#                                      caller's environment (e.g. `. build/emulator.env` from
#                                      `make emulator`): boards/mps2-an386/run_batchkey.sh; another
#                                      image (RUN_IMAGE=...) with ARGS as its command line. A
#                                      guest's non-zero status fails the goal (it is returned
#                                      exactly)
#   make BOARD=mps2-an386 size         flash and RAM of the firmware per group, and what it
#                                      measured in a run against the emulator
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
MPS2_PLATFORM_SRC := $(MPS2_DIR)/bk_board_platform.c platform/null/bk_tcp_null.c
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

# mbedTLS and lwIP built for the board (their rules and variables, used below); M4_MBEDTLS_ARCH
# (left at its default) is this board's ABI, soft float: the linker refuses a mismatch.
include $(MPS2_DIR)/mbedtls.mk
include $(MPS2_DIR)/lwip.mk

# Links an image ($@) from the objects among its prerequisites and writes its linker map beside
# it; MPS2_IMAGE_LDFLAGS adds what the image needs (its stack size at least).
MPS2_LINK = $(MPS2_CC) $(MPS2_LDFLAGS) $(MPS2_IMAGE_LDFLAGS) -Wl,-Map=$(@:.elf=.map) \
    $(filter %.o,$^) $(filter %.a,$^) -o $@

# The bring-up test image: the board's platform, semihosting, and the core's request writers and
# response readers over canned answers (a token request and a regenerateKeys). No network: TCP
# answers BK_ERR_UNSUPPORTED (platform/null/bk_tcp_null.c).
MPS2_SELFTEST := $(MPS2)/bk_selftest.elf
MPS2_SELFTEST_SRC := tests/target/bk_selftest.c $(MPS2_BOARD_SRC) $(MPS2_PLATFORM_SRC) \
    $(MPS2_LIB_SRC)

$(MPS2_SELFTEST): MPS2_IMAGE_LDFLAGS = --specs=nano.specs \
    -Wl,--defsym=__stack_size=$(MPS2_STACK_SIZE)
$(MPS2_SELFTEST): $(call mps2_obj,$(MPS2_SELFTEST_SRC)) $(MPS2_DIR)/mps2_an386.ld
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD m4   $@")
	$(Q)$(MPS2_LINK)

# The firmware: batchkey's command line (boards/common) over mbedTLS (port/mbedtls) and lwIP
# (platform/lwip, the LAN9118), run by run_batchkey.sh. Its C library is newlib-nano less stdio,
# which bk_board_libc.c replaces: the link fails if an allocator gets in.
MPS2_FIRMWARE := $(MPS2)/batchkey.elf
MPS2_NET_SRC := platform/lwip/bk_lwip.c $(MPS2_DIR)/bk_lan9118.c $(MPS2_DIR)/bk_board_net.c
MPS2_FIRMWARE_SRC := $(MPS2_DIR)/bk_firmware_main.c $(MPS2_DIR)/bk_board_libc.c \
    boards/common/bk_cli.c boards/common/bk_cli_credential.c boards/common/bk_cli_state.c \
    boards/common/bk_cli_output.c $(M4_PORT_SRC) port/mbedtls/bk_client_cert.c \
    port/mbedtls/bk_tls_connector.c $(MPS2_NET_SRC) $(MPS2_BOARD_SRC) \
    $(MPS2_DIR)/bk_board_platform.c $(MPS2_LIB_SRC)

$(call mps2_obj,$(M4_PORT_SRC) port/mbedtls/bk_tls_connector.c port/mbedtls/bk_client_cert.c): \
    MPS2_EXTRA = $(M4_MBEDTLS_INCLUDES)
$(call mps2_obj,boards/common/bk_cli.c boards/common/bk_cli_credential.c \
    boards/common/bk_cli_state.c boards/common/bk_cli_output.c): MPS2_EXTRA = -Iboards/common
$(call mps2_obj,$(MPS2_NET_SRC)): MPS2_EXTRA = $(M4_LWIP_INCLUDES) -Iplatform/lwip
$(call mps2_obj,$(MPS2_DIR)/bk_firmware_main.c): MPS2_EXTRA = $(M4_MBEDTLS_INCLUDES) \
    $(M4_LWIP_INCLUDES) -Iboards/common -Iplatform/lwip
# The headers come with the fetched sources; -MMD does not see the configuration headers those
# include (-isystem makes them system headers), so they are named here.
$(call mps2_obj,$(M4_PORT_SRC) port/mbedtls/bk_tls_connector.c port/mbedtls/bk_client_cert.c \
    $(MPS2_DIR)/bk_firmware_main.c): $(M4_MBEDTLS_CONFIG) | $(M4_MBEDTLS_LIBS)
$(call mps2_obj,$(MPS2_NET_SRC) $(MPS2_DIR)/bk_firmware_main.c): $(M4_LWIP_CONFIG) \
    | $(M4_LWIP_VERSION)

# Its stack: the deepest it measured (5.3 KiB, reported at exit and by `make size`) and a
# quarter more.
MPS2_FIRMWARE_STACK_SIZE ?= 6656
MPS2_NO_ALLOCATOR := malloc _malloc_r calloc _calloc_r realloc _realloc_r free _free_r _sbrk _sbrk_r
$(MPS2_FIRMWARE): MPS2_IMAGE_LDFLAGS = --specs=nano.specs \
    -Wl,--defsym=__stack_size=$(MPS2_FIRMWARE_STACK_SIZE)
$(MPS2_FIRMWARE): $(call mps2_obj,$(MPS2_FIRMWARE_SRC)) $(M4_MBEDTLS_LIBS) $(M4_LWIP_LIB) \
    $(MPS2_DIR)/mps2_an386.ld
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD m4   $@")
	$(Q)$(MPS2_LINK)
	$(Q)found=$$($(M4_NM) $@ | awk -v names=" $(MPS2_NO_ALLOCATOR) " \
	    '$$2 ~ /^[TtWw]$$/ && index(names, " " $$3 " ") { printf "%s ", $$3 }'); \
	    if [ -n "$$found" ]; then \
	        echo "$@: the firmware links an allocator: $$found(see $(@:.elf=.map))" >&2; \
	        rm -f $@; exit 1; fi

BOARD_TARGETS := $(MPS2_FIRMWARE) $(MPS2_SELFTEST)

.PHONY: run size
# The firmware runs through run_batchkey.sh (settings from the caller's environment, the network
# to the endpoints on this host's loopback); any other image through run.sh alone.
RUN_IMAGE ?= $(MPS2_FIRMWARE)
run: $(RUN_IMAGE)
	@sh $(MPS2_DIR)/$(if $(filter $(MPS2_FIRMWARE),$(RUN_IMAGE)),run_batchkey.sh,run.sh) \
	    $(RUN_IMAGE) $(ARGS)

# The table from the firmware's linker map, then what it measured in one regenerate against the
# emulator (a run now, not a test's: tests/target/measure_firmware.py) with the emulator's ECDSA
# chain and with an RSA chain shaped like Azure's: deepest stack, mbedTLS pool peak, lwIP's
# high-water marks.
size: $(MPS2_FIRMWARE)
	@python3 tests/target/measure_firmware.py --image $(MPS2_FIRMWARE) --out $(MPS2)/size-run
	@sh $(MPS2_DIR)/size.sh $(MPS2_FIRMWARE) $(MPS2)/size-run/ecdsa.err \
	    $(MPS2)/size-run/azure-rsa.err

include tests/target/target.mk

# The firmware against the local emulator, over lwIP and TLS under QEMU.
.PHONY: firmware-tests
firmware-tests: $(MPS2_FIRMWARE)
	python3 tests/target/test_firmware.py --image $(MPS2_FIRMWARE)

BOARD_TEST_TARGETS := board-tests firmware-tests target-unit-tests
# `make BOARD=mps2-an386 test`: the board's tests, the core's rules and its cross builds. The
# host's tests (unit, TLS, emulator, then mbedTLS 3.6 with the Linux CLI) stay `make test`'s.
TEST_GOALS := core-checks core-m4 core-rv32 $(BOARD_TEST_TARGETS)
