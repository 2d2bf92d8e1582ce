# SPDX-License-Identifier: MIT
# mbedTLS 3.6 for the Cortex-M4, from Debian 13's source package (tests/debsrc/fetch.sh), built
# with port/mbedtls/bk_mbedtls_config_m4.h into the board's own build directory; the Linux
# mbedTLS 3.6 build (build/mbedtls3) is another copy, untouched. Included by board.mk.
#
#   make BOARD=mps2-an386 m4-mbedtls        the three libraries
#   make BOARD=mps2-an386 m4-mbedtls-port   also compiles port/mbedtls against them, links what
#                                           the ports reference and prints its size per library
#
# For the board's own rules: M4_MBEDTLS_INCLUDES (compile flags of any file that includes an
# mbedTLS header) and M4_MBEDTLS_LIBS (link in this order). M4_MBEDTLS_ARCH must match the rest
# of the image (floating-point ABI included); M4_MBEDTLS_EXTRA passes more -D (e.g.
# -DMBEDTLS_SSL_OUT_CONTENT_LEN=2048).

M4_CC ?= arm-none-eabi-gcc
M4_AR ?= arm-none-eabi-ar
M4_SIZE ?= arm-none-eabi-size
M4_NM ?= arm-none-eabi-nm
M4_MBEDTLS_ARCH ?= -mcpu=cortex-m4 -mthumb
M4_MBEDTLS_EXTRA ?=
M4_MBEDTLS_DIR := $(BUILD)/mps2-an386/mbedtls
M4_MBEDTLS_SRC := $(M4_MBEDTLS_DIR)/src
M4_MBEDTLS_CONFIG := port/mbedtls/bk_mbedtls_config_m4.h
M4_MBEDTLS_DEFS := -DMBEDTLS_CONFIG_FILE='"bk_mbedtls_config_m4.h"' $(M4_MBEDTLS_EXTRA)
M4_MBEDTLS_INCLUDES := -isystem $(M4_MBEDTLS_SRC)/include -Iport/mbedtls $(M4_MBEDTLS_DEFS)
# newlib-nano's headers, as the firmware's own objects see them.
M4_MBEDTLS_CFLAGS := $(M4_MBEDTLS_ARCH) -Os -ffunction-sections -fdata-sections --specs=nano.specs
M4_MBEDTLS_LIBS := $(addprefix $(M4_MBEDTLS_DIR)/lib/,libmbedtls.a libmbedx509.a libmbedcrypto.a)
M4_MBEDTLS_VERSION := $(M4_MBEDTLS_SRC)/include/mbedtls/build_info.h

# Fetched once; `make clean` (or removing the directory) fetches it again. One apt state serves
# every source package (its index is fetched once).
DEBSRC_STATE ?= $(BUILD)/debsrc
$(M4_MBEDTLS_VERSION):
	@DEBSRC_STATE=$(DEBSRC_STATE) sh tests/debsrc/fetch.sh mbedtls $(M4_MBEDTLS_SRC)
	@grep -q '^#define MBEDTLS_VERSION_STRING *"3\.6\.' $@ || \
	    { echo "m4-mbedtls: $(M4_MBEDTLS_SRC) is not mbedTLS 3.6" >&2; rm -rf $(M4_MBEDTLS_SRC); exit 1; }

# A -D or flag change rebuilds the libraries, as the main Makefile's stamp does for its objects.
M4_MBEDTLS_STAMP := $(M4_MBEDTLS_DIR)/flags
$(M4_MBEDTLS_STAMP): FORCE
	@mkdir -p $(dir $@)
	@flags='$(subst ','\'',$(M4_CC) $(M4_MBEDTLS_CFLAGS) $(M4_MBEDTLS_DEFS))'; \
	    [ "$$(cat $@ 2>/dev/null)" = "$$flags" ] || printf '%s\n' "$$flags" >$@

# mbedTLS's own library/Makefile knows which module goes in which library; it builds in the
# board's private copy of the source. Cleaned first: it does not track the config header.
$(M4_MBEDTLS_LIBS) &: $(M4_MBEDTLS_VERSION) $(M4_MBEDTLS_CONFIG) $(M4_MBEDTLS_STAMP)
	@echo "  MBEDTLS $(M4_MBEDTLS_DIR)/lib"
	$(Q)$(MAKE) --no-print-directory -s -C $(M4_MBEDTLS_SRC)/library clean >/dev/null
	$(Q)$(MAKE) --no-print-directory -s -C $(M4_MBEDTLS_SRC)/library CC=$(M4_CC) AR=$(M4_AR) \
	    CFLAGS='$(subst ','\'',$(M4_MBEDTLS_CFLAGS) -I$(abspath port/mbedtls) $(M4_MBEDTLS_DEFS))' \
	    libmbedcrypto.a libmbedx509.a libmbedtls.a >$(M4_MBEDTLS_DIR)/build.log 2>&1 || \
	    { tail -n 40 $(M4_MBEDTLS_DIR)/build.log; exit 1; }
	@mkdir -p $(M4_MBEDTLS_DIR)/lib
	$(Q)cp $(addprefix $(M4_MBEDTLS_SRC)/library/,libmbedtls.a libmbedx509.a libmbedcrypto.a) \
	    $(M4_MBEDTLS_DIR)/lib/

.PHONY: m4-mbedtls m4-mbedtls-port
m4-mbedtls: $(M4_MBEDTLS_LIBS)

# The ports compiled as the firmware will compile them, then linked with everything they
# reference (the platform from platform/null, core from an archive, newlib-nano) and only that
# (--gc-sections from their public functions): the flash and RAM mbedTLS costs the image.
M4_PORT_SRC := port/mbedtls/bk_tls.c port/mbedtls/bk_crypto_mbedtls.c \
    port/mbedtls/bk_mbedtls_platform.c
M4_PORT_DIR := $(M4_MBEDTLS_DIR)/port
M4_PORT_OBJ := $(patsubst %.c,$(M4_PORT_DIR)/%.o,$(M4_PORT_SRC))
M4_PORT_LIB_OBJ := $(patsubst %.c,$(M4_PORT_DIR)/%.o,$(CORE_SRC) platform/null/bk_platform_null.c \
    platform/null/bk_tcp_null.c)
# The cross compiler does not search the host's /usr/include: it sees Debian's jsmn.h alone.
M4_PORT_FLAGS = $(WARN) $(M4_MBEDTLS_CFLAGS) $(CPPFLAGS) -Icore -isystem $(M4_PORT_DIR)/include \
    $(JSMN_DEFS) $(M4_MBEDTLS_INCLUDES)

$(M4_PORT_DIR)/%.o: %.c $(M4_MBEDTLS_LIBS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@) $(M4_PORT_DIR)/include
	@ln -sf $(or $(JSMN_HEADER),/usr/include/jsmn.h) $(M4_PORT_DIR)/include/jsmn.h
	@$(if $(Q),echo "  CC m4   $<")
	$(Q)$(M4_CC) $(M4_PORT_FLAGS) -MMD -MP -c $< -o $@

-include $(M4_PORT_OBJ:.o=.d) $(M4_PORT_LIB_OBJ:.o=.d)

m4-mbedtls-port: $(M4_PORT_OBJ) $(M4_PORT_LIB_OBJ)
	@rm -f $(M4_PORT_DIR)/libsupport.a
	$(Q)$(M4_AR) rcs $(M4_PORT_DIR)/libsupport.a $(M4_PORT_LIB_OBJ)
	$(Q)roots=$$($(M4_NM) -g --defined-only $(M4_PORT_OBJ) | \
	    awk 'NF == 3 && $$2 == "T" { printf " -Wl,-u,%s", $$3 }'); \
	    $(M4_CC) $(M4_MBEDTLS_CFLAGS) --specs=nosys.specs -nostartfiles \
	    -Wl,--gc-sections -Wl,-e,0 -Wl,-Map,$(M4_PORT_DIR)/probe.map $$roots $(M4_PORT_OBJ) \
	    $(M4_MBEDTLS_LIBS) $(M4_PORT_DIR)/libsupport.a -o $(M4_PORT_DIR)/probe.elf
	@$(M4_SIZE) -t $(M4_MBEDTLS_LIBS) | tail -n 1 | \
	    awk '{ printf "the archives whole: text %s data %s bss %s\n", $$1, $$2, $$3 }'
	@echo "linked from the ports' public functions (with core, platform/null, newlib-nano):"
	@$(M4_SIZE) $(M4_PORT_DIR)/probe.elf
