/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "bk_ascii.h"
#include "bk_client.h"
#include "bk_crypto.h"
#include "bk_dataplane.h"
#include "bk_entra.h"
#include "bk_platform.h"
#include "bk_writer.h"

#define TOKEN_REFRESH_MARGIN_MS ((uint64_t)5u * 60u * 1000u)

void bk_client_init(bk_client *client, bk_connector connector) {
    memset(client, 0, sizeof *client);
    client->connector = connector;
    client->scope = BK_ARM_SCOPE;
    client->retry.max_attempts = 4;
    client->retry.base_delay_ms = 1000;
    client->retry.max_delay_ms = 60000;
    client->retry.min_attempt_ms = 1000;
    client->response_date_s = -1;
    bk_http_response_reset(&client->response);
}

void bk_client_set_deadline(bk_client *client, uint32_t budget_ms) {
    client->deadline_ms = budget_ms == 0 ? 0 : bk_monotonic_ms() + budget_ms;
}

/* When the call that starts now must end. */
static uint64_t call_deadline(const bk_client *c) {
    return c->deadline_ms != 0 ? c->deadline_ms : bk_monotonic_ms() + BK_CALL_BUDGET_MS;
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

/* A fresh record for a call, with the client request id all its attempts carry. */
static bk_result record_start(bk_call_record *rec, const char *operation,
                              const bk_endpoint *endpoint) {
    memset(rec, 0, sizeof *rec);
    rec->operation = operation;
    rec->endpoint = endpoint;
    return bk_uuid4(rec->client_request_id);
}

/* What a call that got a transient answer until the retries ran out returns: busy, not refused
 * (try later, rather than fix something). Network failures keep their own result. */
static bk_result retries_over(bk_result r) {
    bool answered =
        r == BK_ERR_ARM_REFUSED || r == BK_ERR_UNEXPECTED_STATUS || r == BK_ERR_AUTH_REFUSED;
    return answered ? BK_ERR_SERVICE_BUSY : r;
}

/* What the last attempt got: its status and request id, as far as the answer came. */
static void record_answer(bk_call_record *rec, const bk_http_response *resp, bk_result result) {
    rec->status = resp->status;
    rec->failure = result;
    memcpy(rec->request_id, resp->request_id, sizeof rec->request_id);
    rec->error_code[0] = '\0';
}

/* Sends the req_len bytes of the request in io and reads the answer into io, on the peer's kept
 * connection or, with fresh or when there is none, a new one. *sent tells whether some byte of
 * the request left; *stale that a reused connection turned out closed before any answer, so an
 * idempotent request may go again at once. The request is wiped once sent: it holds a secret or
 * a token. */
static bk_result exchange(bk_client *c, bk_peer peer, const bk_endpoint *ep, size_t req_len,
                          uint64_t deadline, bool fresh, bool *sent, bool *stale) {
    *sent = false;
    *stale = false;
    bk_http_response_reset(&c->response);
    if (c->peer_open[peer] && (fresh || (c->connector.reuse != NULL &&
                                         !c->connector.reuse(c->connector.ctx, peer, deadline)))) {
        close_peer(c, peer);
    }
    bool reused = c->peer_open[peer];
    if (!reused) {
        bk_result r =
            c->connector.open(c->connector.ctx, peer, ep, deadline, &c->peer_stream[peer]);
        if (r != BK_OK) {
            bk_wipe(c->io, req_len);
            return r;
        }
        c->peer_open[peer] = true;
    }
    size_t moved = 0;
    bk_result r =
        bk_stream_send_all(&c->peer_stream[peer], (const uint8_t *)c->io, req_len, &moved);
    bk_wipe(c->io, req_len);
    *sent = moved > 0;
    if (r == BK_OK) {
        r = bk_http_read_response(&c->peer_stream[peer], c->io, sizeof c->io, &c->response);
    }
    if (c->response.date_s >= 0) {
        c->response_date_s = c->response.date_s;
        c->response_date_at_ms = bk_monotonic_ms();
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

/* Waits before the next attempt; false when the retries are over: attempts used up, a wait
 * longer than allowed, or too little of the deadline left after the wait for another attempt. */
static bool wait_before_retry(bk_client *c, uint64_t deadline, uint32_t attempts_done,
                              int64_t asked_ms) {
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
    uint64_t now = bk_monotonic_ms();
    if (now >= deadline || deadline - now < (uint64_t)delay + c->retry.min_attempt_ms) {
        log_line(BK_LOG_INFO, "no time left before the deadline for another attempt", "", "");
        return false;
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

static bool token_fresh(const bk_client *c) {
    return c->token_expires_ms != 0 &&
           bk_monotonic_ms() + TOKEN_REFRESH_MARGIN_MS < c->token_expires_ms;
}

/* When the token just read expires, on the monotonic clock. expires_in is at most
 * BK_TOKEN_LIFETIME_MAX_S, so none of this can overflow. A short-lived token is refreshed at half
 * its life instead of 5 minutes early. */
static void note_token_expiry(bk_client *c) {
    uint64_t lifetime_ms = c->token.expires_in_s * 1000u;
    uint64_t now = bk_monotonic_ms();
    c->token_expires_ms = lifetime_ms > 2 * TOKEN_REFRESH_MARGIN_MS
                              ? now + lifetime_ms
                              : now + TOKEN_REFRESH_MARGIN_MS + lifetime_ms / 2;
}

/* The time for what needs one (ocp-date, assertions): the wall clock, else the last answer's
 * Date plus the time since. */
static int64_t request_time_s(const bk_client *c) {
    int64_t now = bk_wall_clock_s();
    if (now < 0 && c->response_date_s >= 0) {
        now = c->response_date_s + (int64_t)((bk_monotonic_ms() - c->response_date_at_ms) / 1000u);
    }
    return now;
}

/* The token for the next ARM request, fetched through the credential when there is none fresh;
 * rec gets the token request's record. */
static bk_result fetch_token(bk_client *c, const char *claims, uint64_t deadline,
                             bk_call_record *rec) {
    if (claims == NULL && token_fresh(c)) {
        return BK_OK;
    }
    bk_wipe(&c->token, sizeof c->token);
    c->token_expires_ms = 0;
    memset(&c->entra_error, 0, sizeof c->entra_error);
    const bk_credential *cred = &c->credential;
    if (cred->write_request == NULL || cred->read_answer == NULL || cred->endpoint == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_result r = record_start(rec, "token request", cred->endpoint);
    if (r != BK_OK) {
        return r;
    }
    bool challenge_answered = false;
    for (uint32_t attempt = 1;; attempt++) {
        bk_token_ask ask = {c->scope, claims, rec->client_request_id, request_time_s(c), deadline};
        size_t len = 0;
        r = cred->write_request(cred->ctx, &ask, c->io, sizeof c->io, &len);
        if (r != BK_OK) {
            bk_wipe(c->io, sizeof c->io);
            return r;
        }
        log_line(BK_LOG_DEBUG, "token request (", cred->name, ")");
        log_line(BK_LOG_DEBUG, "token request x-ms-client-request-id: ", rec->client_request_id,
                 "");
        bool sent = false;
        bool stale = false;
        r = exchange(c, cred->peer, cred->endpoint, len, deadline, false, &sent, &stale);
        rec->attempts += sent ? 1u : 0u;
        if (stale) {
            attempt--;
            continue;
        }
        if (r != BK_OK) {
            log_line(BK_LOG_INFO, "token request: ", bk_strerror(r), "");
        } else {
            log_status("token endpoint", &c->response);
        }
        record_answer(rec, &c->response, r);
        bk_attempt_verdict verdict = bk_retry_classify(true, sent, r, &c->response);
        int64_t asked_ms =
            r == BK_OK ? bk_http_retry_after_ms(&c->response, bk_wall_clock_s()) : -1;
        if (r == BK_OK) {
            const bk_http_response *resp = &c->response;
            r = cred->read_answer(cred->ctx, resp, c->json, BK_JSON_TOKENS_MAX, &c->token,
                                  &c->entra_error);
            if (r == BK_OK && resp->status == 200) {
                note_token_expiry(c);
            } else if (r == BK_OK) {
                r = BK_ERR_UNEXPECTED_STATUS; /* a credential that took an error for a token */
            }
            if (r == BK_ERR_AUTH_REFUSED) {
                (void)bk_cut_copy(rec->error_code, sizeof rec->error_code, c->entra_error.error,
                                  strlen(c->entra_error.error));
            }
            if (resp->status == 200) {
                rec->failure = r;
            }
        }
        /* The buffer held the token (possibly more than once: moved in place) or the secret. */
        bk_wipe(c->io, sizeof c->io);
        if (r == BK_ERR_AUTH_CHALLENGE && !challenge_answered) {
            challenge_answered = true; /* answered at once, and once */
            attempt--;
            continue;
        }
        if (r == BK_ERR_AUTH_CHALLENGE) {
            return BK_ERR_AUTH_REFUSED;
        }
        if (r == BK_ERR_AUTH_PENDING) {
            attempt--; /* the credential waits before its next poll, within the deadline */
            continue;
        }
        if (cred->retry_not_found && r != BK_OK &&
            (c->response.status == 404 || c->response.status == 410)) {
            verdict = BK_ATTEMPT_RETRY;
        }
        if (verdict != BK_ATTEMPT_RETRY) {
            return r;
        }
        if (!wait_before_retry(c, deadline, attempt, asked_ms)) {
            return retries_over(r);
        }
    }
}

bk_result bk_client_token(bk_client *c, const char *claims) {
    return fetch_token(c, claims, call_deadline(c), &c->call);
}

/* After an ARM answer with an error status: keep the service's CloudError when it sent one. */
static bk_result arm_refused(bk_client *c) {
    const bk_http_response *resp = &c->response;
    bool has_error = bk_parse_cloud_error(resp->body, resp->body_len, c->json, BK_JSON_TOKENS_MAX,
                                          &c->cloud_error) == BK_OK;
    if (has_error) {
        memcpy(c->call.error_code, c->cloud_error.code, sizeof c->call.error_code);
    }
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
    if (c->response.www_authenticate_cut || at == NULL ||
        strstr(challenge, "insufficient_claims") == NULL) {
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

/* One ARM call with its retries, recorded in c->call. An ambiguous regenerateKeys answer ends it
 * with BK_ERR_OUTCOME_UNKNOWN; the caller reconciles. */
static bk_result arm_call(bk_client *c, bk_arm_operation op, bk_key_name key, arm_parse_fn parse,
                          void *out, uint64_t deadline) {
    bool idempotent = op != BK_ARM_REGENERATE_KEY;
    bk_result r = record_start(&c->call, operation_name(op), &c->arm);
    if (r == BK_OK) {
        r = bk_validate_account_ref(&c->account);
    }
    if (r != BK_OK) {
        return r;
    }
    bool claims_used = false;
    for (uint32_t attempt = 1;; attempt++) {
        bk_call_record token_record = {0};
        r = fetch_token(c, NULL, deadline, &token_record);
        if (r != BK_OK) {
            c->call = token_record; /* the call failed at its token request: report that one */
            return r;
        }
        bk_arm_request req = {op,
                              key,
                              &c->arm,
                              &c->account,
                              c->token.access_token,
                              c->token.access_token_len,
                              c->call.client_request_id};
        size_t len = 0;
        r = bk_arm_write_request(&req, c->io, sizeof c->io, &len);
        if (r != BK_OK) {
            return r;
        }
        log_line(BK_LOG_DEBUG, operation_name(op),
                 ", x-ms-client-request-id: ", c->call.client_request_id);
        bool sent = false;
        bool stale = false;
        r = exchange(c, BK_PEER_ARM, &c->arm, len, deadline, !idempotent, &sent, &stale);
        c->call.attempts += sent ? 1u : 0u;
        if (stale && idempotent) {
            attempt--;
            continue;
        }
        if (r != BK_OK) {
            log_line(BK_LOG_INFO, operation_name(op), ": ", bk_strerror(r));
        } else {
            log_status(operation_name(op), &c->response);
            if (c->response.status == 200) {
                r = parse(c, out);
                bk_wipe(c->io, sizeof c->io); /* the keys, possibly more than once */
            }
        }
        record_answer(&c->call, &c->response, r);
        bk_attempt_verdict verdict = bk_retry_classify(idempotent, sent, r, &c->response);
        int64_t asked_ms =
            r == BK_OK ? bk_http_retry_after_ms(&c->response, bk_wall_clock_s()) : -1;
        if (r == BK_OK && c->response.status != 200) {
            r = arm_refused(c);
        }
        if (verdict == BK_ATTEMPT_AMBIGUOUS) {
            return BK_ERR_OUTCOME_UNKNOWN;
        }
        if (r == BK_ERR_ARM_UNAUTHORIZED && idempotent && !claims_used && challenge_claims(c)) {
            /* CAE: the token was revoked or lacks claims; one fresh token, one more try. */
            claims_used = true;
            log_line(BK_LOG_INFO, "claims challenge: fetching a fresh token", "", "");
            r = fetch_token(c, c->claims, deadline, &token_record);
            if (r != BK_OK) {
                c->call = token_record;
                return r;
            }
            attempt--;
            continue;
        }
        if (verdict != BK_ATTEMPT_RETRY) {
            return r;
        }
        if (!wait_before_retry(c, deadline, attempt, asked_ms)) {
            return retries_over(r);
        }
    }
}

bk_result bk_client_get_account(bk_client *client, bk_batch_account *out) {
    memset(&client->cloud_error, 0, sizeof client->cloud_error);
    return arm_call(client, BK_ARM_GET_ACCOUNT, BK_KEY_PRIMARY, parse_account, out,
                    call_deadline(client));
}

bk_result bk_client_list_keys(bk_client *client, bk_account_keys *out) {
    memset(&client->cloud_error, 0, sizeof client->cloud_error);
    return arm_call(client, BK_ARM_LIST_KEYS, BK_KEY_PRIMARY, parse_keys, out,
                    call_deadline(client));
}

bk_result bk_client_regenerate_key(bk_client *c, bk_key_name key, bk_account_keys *out) {
    memset(&c->cloud_error, 0, sizeof c->cloud_error);
    c->reconcile_result = BK_OK;
    uint64_t deadline = call_deadline(c);
    uint64_t now = bk_monotonic_ms();
    uint64_t own_deadline = now < deadline ? deadline - (deadline - now) / 3 : deadline;
    bk_result r = arm_call(c, BK_ARM_REGENERATE_KEY, key, parse_keys, out, own_deadline);
    c->regenerate = c->call;
    if (r != BK_ERR_OUTCOME_UNKNOWN) {
        return r;
    }
    log_line(BK_LOG_WARN, "regenerateKeys outcome unknown; reading the keys with listKeys", "", "");
    /* cloud_error keeps the regenerate's answer unless this listKeys is refused too. */
    c->reconcile_result = arm_call(c, BK_ARM_LIST_KEYS, BK_KEY_PRIMARY, parse_keys, out, deadline);
    return BK_ERR_OUTCOME_UNKNOWN;
}

/* After a data-plane answer with an error status: keep the service's code and message. */
static bk_result data_plane_refused(bk_client *c) {
    const bk_http_response *resp = &c->response;
    bool has_error = bk_parse_batch_error(resp->body, resp->body_len, c->json, BK_JSON_TOKENS_MAX,
                                          &c->cloud_error) == BK_OK;
    if (has_error) {
        memcpy(c->call.error_code, c->cloud_error.code, sizeof c->call.error_code);
    }
    if (resp->status == 401 || resp->status == 403) {
        return BK_ERR_KEY_REJECTED;
    }
    return has_error ? BK_ERR_ARM_REFUSED : BK_ERR_UNEXPECTED_STATUS;
}

bk_result bk_client_prove_key(bk_client *c, const char *key, const char *api_version) {
    memset(&c->cloud_error, 0, sizeof c->cloud_error);
    uint64_t deadline = call_deadline(c);
    bk_result r = record_start(&c->call, "GET applications (SharedKey)", &c->batch);
    if (r != BK_OK) {
        return r;
    }
    for (uint32_t attempt = 1;; attempt++) {
        int64_t now_s = request_time_s(c);
        if (now_s < 0) {
            return BK_ERR_UNSUPPORTED; /* no clock and no answer to take the time from */
        }
        bk_dataplane_request req = {&c->batch, c->account.account_name,  key, api_version,
                                    now_s,     c->call.client_request_id};
        size_t len = 0;
        r = bk_dataplane_write_request(&req, c->io, sizeof c->io, &len);
        if (r != BK_OK) {
            bk_wipe(c->io, sizeof c->io);
            return r;
        }
        log_line(BK_LOG_DEBUG,
                 "GET applications (SharedKey), client-request-id: ", c->call.client_request_id,
                 "");
        bool sent = false;
        bool stale = false;
        r = exchange(c, BK_PEER_BATCH, &c->batch, len, deadline, false, &sent, &stale);
        c->call.attempts += sent ? 1u : 0u;
        if (stale) {
            attempt--;
            continue;
        }
        if (r != BK_OK) {
            log_line(BK_LOG_INFO, "GET applications: ", bk_strerror(r), "");
        } else {
            log_status("Batch data plane", &c->response);
        }
        record_answer(&c->call, &c->response, r);
        bk_attempt_verdict verdict = bk_retry_classify(true, sent, r, &c->response);
        int64_t asked_ms =
            r == BK_OK ? bk_http_retry_after_ms(&c->response, bk_wall_clock_s()) : -1;
        if (r == BK_OK && c->response.status != 200) {
            r = data_plane_refused(c);
        }
        if (verdict != BK_ATTEMPT_RETRY || r == BK_ERR_KEY_REJECTED) {
            return r;
        }
        if (!wait_before_retry(c, deadline, attempt, asked_ms)) {
            return retries_over(r);
        }
    }
}
