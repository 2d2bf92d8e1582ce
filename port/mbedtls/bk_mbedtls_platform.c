/* SPDX-License-Identifier: MIT */
/* What an mbedTLS profile without an OS asks of the platform (bk_mbedtls_config_m4.h), bound to
 * the platform contract. Each hook exists only when the profile asks for it, so on Linux (Debian's
 * mbedTLS, which uses the OS itself) this file compiles to nothing. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#endif
#include "mbedtls/version.h"

#include "bk_platform.h"

#if defined(MBEDTLS_ENTROPY_HARDWARE_ALT)
#include <stddef.h>

#include "mbedtls/entropy.h"

/* Its prototype is in mbedTLS's private entropy_poll.h. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);

/* The source mbedtls_entropy_init gives every entropy context, PSA's own RNG's included. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen) {
    (void)data;
    *olen = 0;
    if (bk_entropy(output, len) != BK_OK) {
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    }
    *olen = len;
    return 0;
}
#endif

#if defined(MBEDTLS_PLATFORM_TIME_MACRO)
/* Before the wall clock is set this is 1969: every certificate is "not yet valid" and the
 * handshake fails, rather than expiry going unchecked. */
time_t bk_mbedtls_time(time_t *now) {
    time_t t = (time_t)bk_wall_clock_s();
    if (now != NULL) {
        *now = t;
    }
    return t;
}
#endif

#if defined(MBEDTLS_PLATFORM_GMTIME_R_ALT)
#include "mbedtls/platform_util.h"

/* mbedTLS's default off Unix is gmtime(), which in newlib allocates its buffer with malloc. */
struct tm *mbedtls_platform_gmtime_r(const mbedtls_time_t *tt, struct tm *tm_buf) {
    return gmtime_r(tt, tm_buf);
}
#endif

#if defined(MBEDTLS_PLATFORM_MS_TIME_ALT)
#include "mbedtls/platform_time.h"

mbedtls_ms_time_t mbedtls_ms_time(void) {
    return (mbedtls_ms_time_t)bk_monotonic_ms();
}
#endif
