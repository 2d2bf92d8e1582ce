/* SPDX-License-Identifier: MIT */
/* The null platform answers every call, and none of them works: BK_ERR_UNSUPPORTED or the
 * neutral value, and a socket that stays closed. */
#include <stdio.h>

#include "bk_platform.h"

static int failed;

#define EXPECT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("  line %d: %s\n", __LINE__, #cond);                                            \
            failed++;                                                                              \
        }                                                                                          \
    } while (0)

int main(void) {
    bk_socket sock = {7};
    uint8_t buf[4] = {1, 2, 3, 4};
    EXPECT(bk_tcp_connect(&sock, "management.azure.com", 443, 1000) == BK_ERR_UNSUPPORTED);
    EXPECT(sock.handle == -1);
    EXPECT(bk_tcp_send(&sock, buf, sizeof buf, 1000) == BK_ERR_UNSUPPORTED);
    EXPECT(bk_tcp_recv(&sock, buf, sizeof buf, 1000) == BK_ERR_UNSUPPORTED);
    sock.handle = 7;
    bk_tcp_close(&sock);
    EXPECT(sock.handle == -1);
    bk_tcp_close(NULL);
    EXPECT(bk_monotonic_ms() == 0);
    EXPECT(bk_wall_clock_s() == -1);
    EXPECT(bk_entropy(buf, sizeof buf) == BK_ERR_UNSUPPORTED);
    EXPECT(buf[0] == 1 && buf[3] == 4); /* no fake randomness either */
    bk_sleep_ms(10);
    bk_log(BK_LOG_ERROR, "goes nowhere");
    printf("null platform: %s\n", failed == 0 ? "1 passed, 0 failed" : "0 passed, 1 failed");
    return failed == 0 ? 0 : 1;
}
