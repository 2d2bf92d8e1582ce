/* SPDX-License-Identifier: MIT */
/* libFuzzer: an HTTP proxy's answer to CONNECT (bk_proxy_tunnel) over a scripted stream. Byte 0:
 * low 4 bits the size of the pieces the answer arrives in (0: as much as asked), 0x10 a "no
 * progress" return before every piece, 0x20 an unclean end, 0x40 a proxy with credentials; the
 * rest is the proxy's answer. Oracle: the request is the one CONNECT, a tunnel is granted only on
 * a 2xx, a refusal names its status, and no byte after the answer's end is consumed. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_proxy.h"
#include "bk_test_support.h"
#include "bk_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bk_script script;
static bk_proxy proxy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) {
        return 0;
    }
    uint8_t flags = data[0];
    bk_script_init(&script, data + 1, size - 1);
    script.chunk = flags & 0x0fu;
    script.zero_every = (flags & 0x10u) != 0;
    if ((flags & 0x20u) != 0) {
        script.end_result = BK_ERR_STREAM_UNCLEAN_CLOSE;
    }
    const char *url =
        (flags & 0x40u) != 0 ? "http://us%3Aer:p%40ss@proxy.example:3128" : "proxy.example:3128";
    check(bk_proxy_parse(&proxy, url) == BK_OK);
    bk_stream carrier = bk_script_stream(&script);
    int status = -1;
    bk_result r = bk_proxy_tunnel(&carrier, &proxy, "management.azure.com", 443, &status);
    static const char line[] = "CONNECT management.azure.com:443 HTTP/1.1\r\n";
    check(script.sent_len >= sizeof line - 1 && memcmp(script.sent, line, sizeof line - 1) == 0);
    check(script.sent_len >= 4 && memcmp(script.sent + script.sent_len - 4, "\r\n\r\n", 4) == 0);
    if (r == BK_OK) {
        check(status >= 200 && status <= 299);
        /* The answer ended within what was read: a TLS client speaks first after it. */
        check(script.pos >= 4 && script.pos <= script.len);
        check(memcmp(script.data + script.pos - 4, "\r\n\r\n", 4) == 0);
    } else if (r == BK_ERR_PROXY_REFUSED) {
        check(status >= 100 && status <= 999 && status / 100 != 2);
    } else {
        check(status == 0 || (status >= 100 && status <= 999));
    }
    bk_proxy_wipe(&proxy);
    return 0;
}
