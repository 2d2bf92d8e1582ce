/* SPDX-License-Identifier: MIT */
/* An HTTP proxy's CONNECT tunnel, the carrier TLS runs over when the network reaches the
 * service only through a proxy (DESIGN: TLS is a stream built on another stream).
 *
 *     static bk_proxy proxy;
 *     r = bk_proxy_parse(&proxy, "http://user:secret@proxy.example:3128");
 *     if (!bk_proxy_bypassed(getenv("NO_PROXY"), "management.azure.com", 443)) {
 *         ...connect a TCP stream to proxy.host:proxy.port...
 *         r = bk_proxy_tunnel(&tcp, &proxy, "management.azure.com", 443, &status);
 *         ...then TLS over tcp for management.azure.com, end to end...
 *     }
 *     bk_proxy_wipe(&proxy);
 *
 * The proxy sees the host and port the tunnel leads to and, with basic authentication, the
 * user and password; never anything inside the TLS session. */
#ifndef BK_PROXY_H
#define BK_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "bk_config.h"
#include "bk_result.h"
#include "bk_stream.h"

/* "user:password" of a proxy URL, percent-decoded, at most this long. */
#ifndef BK_PROXY_CREDENTIALS_MAX
#define BK_PROXY_CREDENTIALS_MAX 255
#endif
/* "Basic " and the base64 of the credentials. */
#define BK_PROXY_AUTHORIZATION_MAX (6 + 4 * ((BK_PROXY_CREDENTIALS_MAX + 2) / 3))
/* The port a proxy URL without one means (curl's). */
#define BK_PROXY_DEFAULT_PORT 1080

typedef struct bk_proxy {
    char host[BK_HOST_MAX + 1]; /* a name, an IPv4 literal or a bracketed IPv6 literal */
    uint16_t port;
    /* The Proxy-Authorization value, or empty for none: a secret, wiped by bk_proxy_wipe. */
    char authorization[BK_PROXY_AUTHORIZATION_MAX + 1];
} bk_proxy;

/* Reads "[http://][user[:password]@]host[:port][/]" (user and password percent-encoded as in any
 * URL). Another scheme (https, socks5), a path, a query or a bad host or port is
 * BK_ERR_INVALID_PROXY; credentials longer than BK_PROXY_CREDENTIALS_MAX are
 * BK_ERR_PROXY_CREDENTIALS_TOO_LONG. Nothing of the URL's credentials stays on the stack. */
BK_MUST_CHECK bk_result bk_proxy_parse(bk_proxy *out, const char *url);

/* True when no_proxy (NO_PROXY's value; NULL or "" matches nothing) says host:port is reached
 * directly. The list is comma-separated, spaces around entries ignored, case ignored:
 *  - "*" alone matches every host;
 *  - a name matches itself and every name under it ("example.com" and ".example.com" both match
 *    example.com and www.example.com, not notexample.com); a trailing dot on either is ignored;
 *  - an IP literal matches itself (IPv6 with or without brackets); an IPv4 literal with "/bits"
 *    matches its network;
 *  - an entry with ":port" matches that port only, without, every port. */
bool bk_proxy_bypassed(const char *no_proxy, const char *host, uint16_t port);

/* Asks the proxy behind carrier (a connected stream to it) for a tunnel to host:port and reads
 * its answer, no further than its end. BK_OK on a 2xx: the carrier now leads to host:port.
 * BK_ERR_PROXY_REFUSED for any other status, in *status (e.g. 403, 407); BK_ERR_PROXY_ANSWER
 * for an answer that is not HTTP, too long, or followed by bytes before the client spoke;
 * BK_ERR_REQUEST_OVERFLOW; the carrier's errors. *status is 0 when no status line came. */
BK_MUST_CHECK bk_result bk_proxy_tunnel(const bk_stream *carrier, const bk_proxy *proxy,
                                        const char *host, uint16_t port, int *status);

/* Zeroes proxy, its credentials included. */
void bk_proxy_wipe(bk_proxy *proxy);

#endif
