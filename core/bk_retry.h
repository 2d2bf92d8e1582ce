/* SPDX-License-Identifier: MIT */
/* The retry rule, in one place: whether a failed attempt may be sent again, and how long to wait.
 *
 *     bk_attempt_verdict v = bk_retry_classify(idempotent, sent, result, &resp);
 *     if (v == BK_ATTEMPT_AMBIGUOUS) ... never send it again: read the keys with listKeys
 *
 * GET, listKeys and the token request are idempotent: sent again after a dropped, cut or stalled
 * answer and after 408, 429, 500, 502, 503 and 504. regenerateKeys is not: it is sent again only
 * after a 429 (the service throttled it and did not act) or when not a byte of it left. Every
 * other answer that is not a 200 or a 4xx refusal may mean it acted: any 5xx, with or without
 * Retry-After, any other 2xx or 3xx, a 408, and a dropped, stalled, cut or unreadable answer. */
#ifndef BK_RETRY_H
#define BK_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "bk_http.h"
#include "bk_result.h"

typedef enum bk_attempt_verdict {
    BK_ATTEMPT_DONE,      /* an answer to act on: a 200 or a definite refusal */
    BK_ATTEMPT_RETRY,     /* the service did not act: the request may be sent again */
    BK_ATTEMPT_AMBIGUOUS, /* regenerateKeys was sent and may have been acted on: never again */
    BK_ATTEMPT_FAILED     /* trying again would change nothing (TLS trust, hostile framing) */
} bk_attempt_verdict;

/* How one attempt ended. sent: some byte of the request left. result: BK_OK when a whole answer
 * came (and, for a 200, its body was read), else the first failure. resp: that answer (its
 * status and retry headers), consulted only when result is BK_OK. */
bk_attempt_verdict bk_retry_classify(bool idempotent, bool sent, bk_result result,
                                     const bk_http_response *resp);

/* True for failures of the network itself (no connection, a timeout, a drop, a cut answer),
 * which another attempt may not meet. */
bool bk_retry_network_failure(bk_result result);

/* Exponential backoff with full jitter; the service's own Retry-After wins when it gives one. */
typedef struct bk_retry_policy {
    uint32_t max_attempts;   /* requests per call, the first one included */
    uint32_t base_delay_ms;  /* the first backoff is at most this */
    uint32_t max_delay_ms;   /* the cap on a backoff, and the longest Retry-After honoured */
    uint32_t min_attempt_ms; /* a retry starts only when this much of the deadline is left after
                                its wait: one that cannot finish is not started */
} bk_retry_policy;

/* A random delay in [0, min(max_delay, base_delay * 2^(attempts_done - 1))]. */
uint32_t bk_retry_backoff_ms(const bk_retry_policy *policy, uint32_t attempts_done,
                             uint32_t random);

#endif
