#include <string.h>

#include "bk_client.h"
#include "bk_crypto.h"
#include "bk_platform.h"
#include "bk_writer.h"

#define TOKEN_REFRESH_MARGIN_MS (5u * 60u * 1000u)

/* How one attempt ended, and what may follow. */
typedef enum attempt_outcome {
    ATTEMPT_DONE,      /* an answer to act on (success or a definite refusal) */
    ATTEMPT_RETRY,     /* the service did not act; the request may be sent again */
    ATTEMPT_AMBIGUOUS, /* the request was sent and may have been acted on */
    ATTEMPT_FAILED     /* no point in trying again */
} attempt_outcome;

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

void bk_client_init(bk_client *client, bk_connector connector) {
    memset(client, 0, sizeof *client);
    client->connector = connector;
    client->scope = BK_ARM_SCOPE;
    client->retry.max_attempts = 4;
    client->retry.base_delay_ms = 1000;
    client->retry.max_delay_ms = 60000;
}

static void close_peer(bk_client *c, bk_peer peer) {
    if (c->peer_open[peer]) {
        c->connector.close(c->connector.ctx, peer);
        c->peer_open[peer] = false;
    }
}

void bk_client_close(bk_client *client) {
    for (int p = 0; p < BK_PEER_COUNT; p++) {
        close_peer(client, (bk_peer)p);
    }
    bk_wipe(&client->token, sizeof client->token);
    bk_wipe(client->io, sizeof client->io);
    client->token_expires_ms = 0;
}

/* Diagnostics: a fixed line, never a secret. */
static void log_line(bk_log_level level, const char *a, const char *b, const char *c) {
    char line[160];
    bk_writer w;
    bk_writer_init(&w, line, sizeof line - 1);
    bk_write_str(&w, a);
    bk_write_str(&w, b);
    bk_write_str(&w, c);
    line[w.overflow ? w.cap : w.len] = '\0';
    bk_log(level, line);
}

static void log_status(const char *what, const bk_http_response *resp) {
    char status[8];
    bk_writer w;
    bk_writer_init(&w, status, sizeof status - 1);
    bk_write_uint(&w, (uint64_t)resp->status);
    status[w.len] = '\0';
    log_line(BK_LOG_DEBUG, what, " answered HTTP ", status);
    if (resp->request_id[0] != '\0') {
        log_line(BK_LOG_DEBUG, what, " x-ms-request-id: ", resp->request_id);
    }
}

static bool is_network_error(bk_result r) {
    switch (r) {
    case BK_ERR_DNS:
    case BK_ERR_CONNECT:
    case BK_ERR_TIMEOUT:
    case BK_ERR_STREAM_SEND:
    case BK_ERR_STREAM_RECV:
    case BK_ERR_STREAM_CLOSED:
    case BK_ERR_STREAM_STALLED:
    case BK_ERR_TLS_IO:
    case BK_ERR_HTTP_TRUNCATED:
        return true;
    default:
        return false;
    }
}

/* Sends the req_len bytes of the request in io and reads the answer into io. *sent tells
 * whether the request may have reached the server; *stale that a reused connection turned out
 * closed before any answer, so an idempotent request may go again at once on a new one. The
 * request is wiped once sent: it holds a secret or a token. */
static bk_result exchange(bk_client *c, bk_peer peer, const bk_endpoint *ep, size_t req_len,
                          bool *sent, bool *stale) {
    *sent = false;
    *stale = false;
    if (c->peer_open[peer] && c->connector.reusable != NULL &&
        !c->connector.reusable(c->connector.ctx, peer)) {
        close_peer(c, peer);
    }
    bool reused = c->peer_open[peer];
    if (!reused) {
        bk_result r = c->connector.open(c->connector.ctx, peer, ep, &c->peer_stream[peer]);
        if (r != BK_OK) {
            bk_wipe(c->io, req_len);
            return r;
        }
        c->peer_open[peer] = true;
    }
    bk_result r = bk_stream_send_all(&c->peer_stream[peer], (const uint8_t *)c->io, req_len);
    bk_wipe(c->io, req_len);
    if (r == BK_OK) {
        *sent = true;
        r = bk_http_read_response(&c->peer_stream[peer], c->io, sizeof c->io, &c->response);
    }
    if (r != BK_OK || !c->response.keep_alive) {
        close_peer(c, peer);
    }
    *stale = reused && r == BK_ERR_STREAM_CLOSED;
    if (*stale) {
        log_line(BK_LOG_DEBUG, "the server had closed the reused connection", "", "");
    }
    return r;
}

/* Waits before the next attempt; false when the retries are over. */
static bool wait_before_retry(bk_client *c, uint32_t attempts_done, int64_t asked_ms) {
    if (attempts_done >= c->retry.max_attempts) {
        return false;
    }
    uint32_t delay;
    if (asked_ms >= 0) {
        if (asked_ms > (int64_t)c->retry.max_delay_ms) {
            log_line(BK_LOG_INFO, "the service asked for a longer wait than allowed", "", "");
            return false;
        }
        delay = (uint32_t)asked_ms;
    } else {
        uint32_t random = 0;
        if (bk_entropy((uint8_t *)&random, sizeof random) != BK_OK) {
            random = UINT32_MAX; /* without entropy, wait the longest of the range */
        }
        delay = bk_retry_backoff_ms(&c->retry, attempts_done, random);
    }
    char ms[12];
    bk_writer w;
    bk_writer_init(&w, ms, sizeof ms - 1);
    bk_write_uint(&w, delay);
    ms[w.len] = '\0';
    log_line(BK_LOG_INFO, "retrying in ", ms, " ms");
    bk_sleep_ms(delay);
    return true;
}

static bool status_is_transient(int status) {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
           status == 504;
}

static bool token_fresh(const bk_client *c) {
    return c->token_expires_ms != 0 &&
           bk_monotonic_ms() + TOKEN_REFRESH_MARGIN_MS < c->token_expires_ms;
}

static bk_result parse_token_answer(bk_client *c) {
    const bk_http_response *resp = &c->response;
    if (resp->status == 200) {
        bk_result r =
            bk_parse_token(resp->body, resp->body_len, c->json, BK_JSON_TOKENS_MAX, &c->token);
        if (r == BK_OK) {
            uint64_t lifetime_ms = c->token.expires_in_s * 1000u;
            /* A short-lived token is refreshed at half its life instead of 5 minutes early. */
            uint64_t now = bk_monotonic_ms();
            c->token_expires_ms = lifetime_ms > 2 * TOKEN_REFRESH_MARGIN_MS
                                      ? now + lifetime_ms
                                      : now + TOKEN_REFRESH_MARGIN_MS + lifetime_ms / 2;
        }
        return r;
    }
    if (bk_parse_entra_error(resp->body, resp->body_len, c->json, BK_JSON_TOKENS_MAX,
                             &c->entra_error) == BK_OK) {
        return BK_ERR_AUTH_REFUSED;
    }
    return BK_ERR_UNEXPECTED_STATUS;
}

bk_result bk_client_token(bk_client *c, const char *claims) {
    if (claims == NULL && token_fresh(c)) {
        return BK_OK;
    }
    bk_wipe(&c->token, sizeof c->token);
    c->token_expires_ms = 0;
    memset(&c->entra_error, 0, sizeof c->entra_error);
    if (c->credential.kind != BK_CREDENTIAL_CLIENT_SECRET) {
        return BK_ERR_UNSUPPORTED;
    }
    char request_id[37];
    bk_result r = bk_uuid4(request_id);
    if (r != BK_OK) {
        return r;
    }
    bk_token_request tr = {&c->authority,
                           c->credential.tenant_id,
                           c->credential.client_id,
                           c->credential.client_secret,
                           NULL,
                           claims,
                           c->scope,
                           request_id};
    for (uint32_t attempt = 1;; attempt++) {
        size_t len = 0;
        r = bk_entra_write_token_request(&tr, c->io, sizeof c->io, &len);
        if (r != BK_OK) {
            return r;
        }
        log_line(BK_LOG_DEBUG, "POST token request, x-ms-client-request-id: ", request_id, "");
        bool sent = false;
        bool stale = false;
        r = exchange(c, BK_PEER_AUTHORITY, &c->authority, len, &sent, &stale);
        if (stale) {
            attempt--;
            continue;
        }
        int64_t asked_ms = -1;
        if (r == BK_OK) {
            log_status("token endpoint", &c->response);
            if (!status_is_transient(c->response.status)) {
                r = parse_token_answer(c);
                /* The buffer held the token, possibly more than once (moved in place). */
                bk_wipe(c->io, sizeof c->io);
                return r;
            }
            asked_ms = bk_http_retry_after_ms(&c->response, bk_wall_clock_s());
        } else if (!is_network_error(r)) {
            return r;
        }
        if (!wait_before_retry(c, attempt, asked_ms)) {
            return r == BK_OK ? parse_token_answer(c) : r;
        }
    }
}

/* After an answer with an error status: keep the service's CloudError when it sent one. */
static bk_result refused(bk_client *c) {
    const bk_http_response *resp = &c->response;
    bool has_error = bk_parse_cloud_error(resp->body, resp->body_len, c->json, BK_JSON_TOKENS_MAX,
                                          &c->cloud_error) == BK_OK;
    if (resp->status == 401) {
        return BK_ERR_ARM_UNAUTHORIZED;
    }
    return has_error ? BK_ERR_ARM_REFUSED : BK_ERR_UNEXPECTED_STATUS;
}

/* A CAE challenge, `Bearer ... error="insufficient_claims", claims="<base64>"`: decodes the
 * claims JSON into c->claims. Azure sends base64 that may use the URL alphabet or drop its
 * padding, so the text is normalised first (in io, which is free once the 401 was read). */
static bool challenge_claims(bk_client *c) {
    const char *challenge = c->response.www_authenticate;
    const char *at = strstr(challenge, "claims=\"");
    if (at == NULL || strstr(challenge, "insufficient_claims") == NULL) {
        return false;
    }
    at += 8;
    const char *end = strchr(at, '"');
    size_t len = end != NULL ? (size_t)(end - at) : 0;
    if (len == 0 || len + 3 >= sizeof c->io) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        c->io[i] = at[i] == '-' ? '+' : at[i] == '_' ? '/' : at[i];
    }
    while (len % 4 != 0) {
        c->io[len++] = '=';
    }
    size_t decoded = 0;
    bk_result r =
        bk_base64_decode(c->io, len, (uint8_t *)c->claims, sizeof c->claims - 1, &decoded);
    if (r != BK_OK || decoded == 0 || memchr(c->claims, '\0', decoded) != NULL) {
        return false;
    }
    c->claims[decoded] = '\0';
    return true;
}

typedef bk_result (*arm_parse_fn)(bk_client *c, void *out);

static bk_result parse_keys(bk_client *c, void *out) {
    return bk_parse_account_keys(c->response.body, c->response.body_len, c->json,
                                 BK_JSON_TOKENS_MAX, out);
}

static bk_result parse_account(bk_client *c, void *out) {
    return bk_parse_batch_account(c->response.body, c->response.body_len, c->json,
                                  BK_JSON_TOKENS_MAX, out);
}

static const char *operation_name(bk_arm_operation op) {
    return op == BK_ARM_GET_ACCOUNT ? "GET account"
           : op == BK_ARM_LIST_KEYS ? "POST listKeys"
                                    : "POST regenerateKeys";
}

/* One ARM attempt: what happened, with *result set for the caller. */
static attempt_outcome arm_attempt(bk_client *c, const bk_arm_request *req, arm_parse_fn parse,
                                   void *out, bk_result *result, int64_t *asked_ms, bool *stale) {
    bool idempotent = req->operation != BK_ARM_REGENERATE_KEY;
    size_t len = 0;
    *asked_ms = -1;
    *result = bk_arm_write_request(req, c->io, sizeof c->io, &len);
    if (*result != BK_OK) {
        return ATTEMPT_FAILED;
    }
    log_line(BK_LOG_DEBUG, operation_name(req->operation),
             ", x-ms-client-request-id: ", req->client_request_id);
    bool sent = false;
    *result = exchange(c, BK_PEER_ARM, &c->arm, len, &sent, stale);
    c->attempts += sent ? 1u : 0u;
    if (*stale && idempotent) {
        return ATTEMPT_RETRY;
    }
    if (*result != BK_OK) {
        if (!is_network_error(*result)) {
            /* TLS verification, hostile framing, oversize: trying again changes nothing, but a
             * regenerate that got that far may have been acted on. */
            return sent && !idempotent ? ATTEMPT_AMBIGUOUS : ATTEMPT_FAILED;
        }
        return (!sent || idempotent) ? ATTEMPT_RETRY : ATTEMPT_AMBIGUOUS;
    }
    const bk_http_response *resp = &c->response;
    log_status(operation_name(req->operation), resp);
    if (resp->status == 200) {
        *result = parse(c, out);
        bk_wipe(c->io, sizeof c->io); /* the keys, possibly more than once (moved in place) */
        /* A regenerate that answered 200 acted, even if its body cannot be read. */
        return (*result != BK_OK && !idempotent) ? ATTEMPT_AMBIGUOUS : ATTEMPT_DONE;
    }
    *asked_ms = bk_http_retry_after_ms(resp, bk_wall_clock_s());
    *result = refused(c);
    if (idempotent) {
        return status_is_transient(resp->status) ? ATTEMPT_RETRY : ATTEMPT_DONE;
    }
    /* regenerateKeys goes again only when the service says it did not act. */
    if (resp->status == 429 || *asked_ms >= 0) {
        return ATTEMPT_RETRY;
    }
    return resp->status >= 500 ? ATTEMPT_AMBIGUOUS : ATTEMPT_DONE;
}

static bk_result arm_call(bk_client *c, bk_arm_operation op, bk_key_name key, arm_parse_fn parse,
                          void *out) {
    c->attempts = 0;
    memset(&c->cloud_error, 0, sizeof c->cloud_error);
    bk_result r = bk_validate_account_ref(&c->account);
    if (r != BK_OK) {
        return r;
    }
    char request_id[37];
    r = bk_uuid4(request_id);
    if (r != BK_OK) {
        return r;
    }
    bool claims_used = false;
    for (uint32_t attempt = 1;; attempt++) {
        r = bk_client_token(c, NULL);
        if (r != BK_OK) {
            return r;
        }
        bk_arm_request req = {
            op,        key, &c->arm, &c->account, c->token.access_token, c->token.access_token_len,
            request_id};
        int64_t asked_ms = -1;
        bool stale = false;
        attempt_outcome outcome = arm_attempt(c, &req, parse, out, &r, &asked_ms, &stale);
        if (outcome == ATTEMPT_RETRY && stale) {
            attempt--;
            continue;
        }
        if (r == BK_ERR_ARM_UNAUTHORIZED && !claims_used) {
            /* CAE: the token was revoked or lacks claims; one fresh token, one more try. */
            if (challenge_claims(c)) {
                claims_used = true;
                log_line(BK_LOG_INFO, "claims challenge: fetching a fresh token", "", "");
                r = bk_client_token(c, c->claims);
                if (r != BK_OK) {
                    return r;
                }
                attempt--;
                continue;
            }
        }
        if (outcome == ATTEMPT_AMBIGUOUS) {
            log_line(BK_LOG_WARN, "regenerateKeys outcome unknown; reading the keys with listKeys",
                     "", "");
            c->outcome_list_error = bk_client_list_keys(c, out);
            c->outcome_keys_known = c->outcome_list_error == BK_OK;
            return BK_ERR_OUTCOME_UNKNOWN;
        }
        if (outcome != ATTEMPT_RETRY || !wait_before_retry(c, attempt, asked_ms)) {
            return r;
        }
    }
}

bk_result bk_client_get_account(bk_client *client, bk_batch_account *out) {
    return arm_call(client, BK_ARM_GET_ACCOUNT, BK_KEY_PRIMARY, parse_account, out);
}

bk_result bk_client_list_keys(bk_client *client, bk_account_keys *out) {
    return arm_call(client, BK_ARM_LIST_KEYS, BK_KEY_PRIMARY, parse_keys, out);
}

bk_result bk_client_regenerate_key(bk_client *client, bk_key_name key, bk_account_keys *out) {
    client->outcome_keys_known = false;
    client->outcome_list_error = BK_OK;
    return arm_call(client, BK_ARM_REGENERATE_KEY, key, parse_keys, out);
}
