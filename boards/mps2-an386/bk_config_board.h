/* SPDX-License-Identifier: MIT */
/* The mps2-an386 board's sizes for core/bk_config.h (given with -include): one TLS connection
 * and about 16 KiB of client state in 64 KiB of RAM. Linux keeps the roomier defaults. */
#ifndef BK_CONFIG_BOARD_H
#define BK_CONFIG_BOARD_H

/* The request (an ARM token of up to BK_TOKEN_MAX and ~400 bytes of headers) and the largest
 * answer read whole: a token answer, or a BatchAccount of ~1.5 KB. */
#define BK_IO_BUFFER_SIZE 5120
/* App-only ARM tokens are ~1.5-3.5 KB. */
#define BK_TOKEN_MAX 4096
/* A full BatchAccount answer needs about 100. */
#define BK_JSON_TOKENS_MAX 128
/* Diagnostics: cut and marked beyond these, never failing an answer. */
#define BK_MESSAGE_MAX          256
#define BK_ERROR_DETAILS_MAX    2
#define BK_WWW_AUTHENTICATE_MAX 512
/* No store on this board yet: the command line leaves out rotate, status and keys --active. */
#define BK_CLI_STATE 0
/* A client secret or a certificate (its assertion without the chain fits 2 KB); no managed
 * identity on a microcontroller: what is left out costs no flash or RAM. */
#define BK_ASSERTION_MAX        2048
#define BK_CLI_MANAGED_IDENTITY 0
/* The emulated board reaches the network directly, and keeps no TLS session (no store yet). */
#define BK_CLI_PROXY       0
#define BK_TLS_PROXY       0
#define BK_TLS_SESSIONS    0
#define BK_TLS_SESSION_MAX 1024
/* Sized for the unit tests that run on the board (the firmware keeps no sign-in). */
#define BK_REFRESH_TOKEN_MAX 2048
#define BK_DEVICE_CODE_MAX   512

#endif
