# SPDX-License-Identifier: MIT
# lwIP 2.2 for the Cortex-M4, from Debian 13's source package (tests/debsrc/fetch.sh): the core a
# NO_SYS raw-API TCP client over Ethernet needs, configured by boards/mps2-an386/lwipopts.h and
# arch/cc.h, into one static library. Included by board.mk.
#
#   make BOARD=mps2-an386 m4-lwip    the library, and its size per object
#
# For the board's own rules: M4_LWIP_INCLUDES (compile flags of any file that includes an lwIP
# header, which should also depend on M4_LWIP_CONFIG) and M4_LWIP_LIB. M4_LWIP_ARCH must match the rest of the image. The board supplies
# sys_now(), bk_board_lwip_assert(), bk_board_lwip_diag() and bk_board_lwip_rand() (arch/cc.h).

M4_CC ?= arm-none-eabi-gcc
M4_AR ?= arm-none-eabi-ar
M4_SIZE ?= arm-none-eabi-size
M4_LWIP_ARCH ?= -mcpu=cortex-m4 -mthumb
M4_LWIP_DIR := $(BUILD)/mps2-an386/lwip
M4_LWIP_SRC := $(M4_LWIP_DIR)/src
M4_LWIP_INCLUDES := -isystem $(M4_LWIP_SRC)/src/include -Iboards/mps2-an386
M4_LWIP_LIB := $(M4_LWIP_DIR)/liblwip.a
# newlib-nano's headers, as the firmware's own objects see them.
M4_LWIP_CFLAGS := $(M4_LWIP_ARCH) -Os -ffunction-sections -fdata-sections --specs=nano.specs \
    -std=c99 -Wall -Wextra -Wno-unused-parameter
M4_LWIP_VERSION := $(M4_LWIP_SRC)/src/include/lwip/init.h

# No sockets, netconn, UDP, DHCP, DNS, IPv6, fragmentation: their files are left out.
M4_LWIP_FILES := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
    core/netif.c core/pbuf.c core/stats.c core/tcp.c core/tcp_in.c core/tcp_out.c \
    core/timeouts.c core/ipv4/ip4.c core/ipv4/ip4_addr.c core/ipv4/etharp.c core/ipv4/icmp.c \
    netif/ethernet.c
M4_LWIP_OBJ := $(patsubst %.c,$(M4_LWIP_DIR)/obj/%.o,$(M4_LWIP_FILES))

# Fetched once; `make clean` (or removing the directory) fetches it again. One apt state serves
# every source package (its index is fetched once).
DEBSRC_STATE ?= $(BUILD)/debsrc
$(M4_LWIP_VERSION):
	@DEBSRC_STATE=$(DEBSRC_STATE) sh tests/debsrc/fetch.sh lwip $(M4_LWIP_SRC)
	@grep -q '^#define LWIP_VERSION_MAJOR *2$$' $@ && grep -q '^#define LWIP_VERSION_MINOR *2$$' $@ || \
	    { echo "m4-lwip: $(M4_LWIP_SRC) is not lwIP 2.2" >&2; rm -rf $(M4_LWIP_SRC); exit 1; }
$(addprefix $(M4_LWIP_SRC)/src/,$(M4_LWIP_FILES)): $(M4_LWIP_VERSION) ;

# A flag change rebuilds the objects, as the main Makefile's stamp does for its own.
M4_LWIP_STAMP := $(M4_LWIP_DIR)/flags
$(M4_LWIP_STAMP): FORCE
	@mkdir -p $(dir $@)
	@flags='$(subst ','\'',$(M4_CC) $(M4_LWIP_CFLAGS))'; \
	    [ "$$(cat $@ 2>/dev/null)" = "$$flags" ] || printf '%s\n' "$$flags" >$@

# -MMD lists no header reached from lwIP's headers, which -isystem makes system headers: the
# board's configuration headers are named here (M4_LWIP_CONFIG, also for the board's own objects
# that include lwIP's headers); lwIP's own change only with a new fetch.
M4_LWIP_CONFIG := boards/mps2-an386/lwipopts.h boards/mps2-an386/arch/cc.h
$(M4_LWIP_DIR)/obj/%.o: $(M4_LWIP_SRC)/src/%.c $(M4_LWIP_STAMP) $(M4_LWIP_CONFIG)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC m4   lwip/$*.c")
	$(Q)$(M4_CC) $(M4_LWIP_CFLAGS) $(M4_LWIP_INCLUDES) -MMD -MP -c $< -o $@

-include $(M4_LWIP_OBJ:.o=.d)

$(M4_LWIP_LIB): $(M4_LWIP_OBJ)
	@rm -f $@
	$(Q)$(M4_AR) rcs $@ $^

.PHONY: m4-lwip
m4-lwip: $(M4_LWIP_LIB)
	@$(M4_SIZE) -t $(M4_LWIP_LIB)
