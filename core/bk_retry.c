/* SPDX-License-Identifier: MIT */
#include "bk_retry.h"

bool bk_retry_network_failure(bk_result result) {
    switch (result) {
    case BK_ERR_DNS:
    case BK_ERR_CONNECT:
    case BK_ERR_TIMEOUT:
    case BK_ERR_STREAM_SEND:
    case BK_ERR_STREAM_RECV:
    case BK_ERR_STREAM_CLOSED:
    case BK_ERR_STREAM_UNCLEAN_CLOSE:
    case BK_ERR_STREAM_STALLED:
    case BK_ERR_TLS_IO:
    case BK_ERR_HTTP_TRUNCATED:
        return true;
    default:
        return false;
    }
}

static bool status_is_transient(int status) {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

bk_attempt_verdict bk_retry_classify(bool idempotent, bool sent, bk_result result,
                                     const bk_http_response *resp) {
    if (result != BK_OK) {
        if (sent && !idempotent) {
            return BK_ATTEMPT_AMBIGUOUS; /* whatever went wrong, it went wrong after sending */
        }
        return bk_retry_network_failure(result) ? BK_ATTEMPT_RETRY : BK_ATTEMPT_FAILED;
    }
    int status = resp->status;
    if (status == 200) {
        return BK_ATTEMPT_DONE;
    }
    if (idempotent) {
        return status_is_transient(status) ? BK_ATTEMPT_RETRY : BK_ATTEMPT_DONE;
    }
    /* Retry-After is deliberately not consulted: a 503 or 202 that asks for a wait may still
     * have acted, and a 408 is a timeout whatever else it says. */
    if (status == 429) {
        return BK_ATTEMPT_RETRY;
    }
    if (status >= 400 && status < 500 && status != 408) {
        return BK_ATTEMPT_DONE;
    }
    return BK_ATTEMPT_AMBIGUOUS;
}

uint32_t bk_retry_backoff_ms(const bk_retry_policy *policy, uint32_t attempts_done,
                             uint32_t random) {
    uint64_t ceiling = policy->base_delay_ms;
    for (uint32_t i = 1; i < attempts_done && ceiling < policy->max_delay_ms; i++) {
        ceiling *= 2;
    }
    if (ceiling > policy->max_delay_ms) {
        ceiling = policy->max_delay_ms;
    }
    return (uint32_t)(random % (ceiling + 1));
}
