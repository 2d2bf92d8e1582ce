# SPDX-License-Identifier: MIT
# What the Linux CLI and library are built from, for the host's board.mk and the cross boards'
# (boards/linux/cross.mk).
LINUX_LIB_SRC := $(CORE_SRC) $(JSMN_SRC) $(sort $(wildcard port/mbedtls/*.c)) $(POSIX_SRC)
LINUX_INCLUDES := -Iport/mbedtls -Iboards/common -Iplatform/posix
CLI_SRC := boards/linux/batchkey_main.c boards/common/bk_cli.c boards/common/bk_cli_credential.c \
    boards/common/bk_cli_state.c boards/common/bk_cli_output.c
