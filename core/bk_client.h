/* SPDX-License-Identifier: MIT */
/* The batchkey client: token, ARM calls, retries and connection reuse over the seams.
 *
 *     static bk_client client;               // large: keep it out of small stacks
 *     bk_client_init(&client, connector);    // e.g. bk_tls_connector() on Linux
 *     bk_endpoint_parse(&client.arm, "https://management.azure.com");
 *     bk_endpoint_parse(&client.authority, "https://login.microsoftonline.com");
 *     bk_entra_app app = {.authority = &client.authority, .tenant_id = tenant,  // bk_entra.h
 *                         .client_id = app_id, .client_secret = secret};
 *     client.credential = bk_entra_credential(&app);
 *     client.account = (bk_account_ref){subscription, resource_group, account_name};
 *     bk_client_set_deadline(&client, 60000); // the whole command, retries and waits included
 *     bk_account_keys keys;
 *     r = bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys);
 *     if (r == BK_ERR_ARM_REFUSED) puts(client.cloud_error.message);
 *     bk_client_close(&client);              // closes connections, wipes token and buffers
 *
 * One token serves every call of a client until 5 minutes before it expires. The Entra authority
 * and ARM each keep one connection open while the server allows it; regenerateKeys alone always
 * goes out on a new connection, so a kept-alive one the server has meanwhile closed can never
 * turn its answer into an unknown. */
#ifndef BK_CLIENT_H
#define BK_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "bk_arm.h"
#include "bk_config.h"
#include "bk_endpoint.h"
#include "bk_http.h"
#include "bk_json.h"
#include "bk_result.h"
#include "bk_retry.h"
#include "bk_stream.h"

typedef enum bk_peer { BK_PEER_AUTHORITY, BK_PEER_ARM, BK_PEER_BATCH, BK_PEER_COUNT } bk_peer;

/* The connection seam: opens a verified (TLS) stream to an endpoint for one peer slot, and
 * closes it. A slot holds at most one connection; the client decides when to reuse it. Times are
 * monotonic milliseconds (bk_monotonic_ms). */
typedef struct bk_connector {
    /* Connects, and makes the stream's every send and recv end by deadline_ms: past it they
     * answer BK_ERR_TIMEOUT (0: no deadline). */
    bk_result (*open)(void *ctx, bk_peer peer, const bk_endpoint *endpoint, uint64_t deadline_ms,
                      bk_stream *out);
    void (*close)(void *ctx, bk_peer peer);
    /* Optional: false when the open connection cannot carry another request (the server closed
     * it); otherwise its stream now ends by deadline_ms. NULL: reuse it as it is. */
    bool (*reuse)(void *ctx, bk_peer peer, uint64_t deadline_ms);
    void *ctx;
} bk_connector;

/* What the client asks a credential for. */
typedef struct bk_token_ask {
    const char *scope;             /* e.g. BK_ARM_SCOPE */
    const char *claims;            /* a CAE claims challenge (JSON), or NULL */
    const char *client_request_id; /* the UUID the request carries */
    int64_t now_s;                 /* the wall clock, else the last answer's Date; -1 unknown */
    uint64_t deadline_ms;          /* when the command ends (monotonic): no wait past it */
} bk_token_ask;

/* The credential seam: each kind (client secret, certificate, workload identity, ...) writes its
 * own token request for its own peer and reads its own answer into the one token type; the
 * client only asks for a token for a scope. bk_entra.h makes the Entra ID ones. */
typedef struct bk_credential {
    const char *name;            /* what `batchkey token` names: "client secret", ... */
    bk_peer peer;                /* the connection slot its requests take */
    const bk_endpoint *endpoint; /* where they go */
    /* The whole request into buf; it may hold a secret: the client wipes buf once sent. */
    bk_result (*write_request)(void *ctx, const bk_token_ask *ask, char *buf, size_t cap,
                               size_t *len);
    /* A whole answer: the token of a success into *token; a refusal's error into *error and
     * BK_ERR_AUTH_REFUSED; BK_ERR_UNEXPECTED_STATUS for an error status without one;
     * BK_ERR_AUTH_CHALLENGE when the request is to go again at once, answering a challenge
     * (Azure Arc's), which the client does once; BK_ERR_AUTH_PENDING when it is to go again
     * (the device code flow's polls: write_request waits its interval first). */
    bk_result (*read_answer)(void *ctx, const bk_http_response *resp, bk_json_token *json,
                             size_t max_json, bk_token *token, bk_entra_error *error);
    void *ctx;
    bool retry_not_found; /* 404 and 410 are transient too (IMDS while it starts) */
} bk_credential;

/* What one call sent and what came back, for the report and for support. */
typedef struct bk_call_record {
    const char *operation;               /* "token request", "GET account", "POST listKeys", ... */
    const bk_endpoint *endpoint;         /* where it went (the client's arm or authority) */
    uint32_t attempts;                   /* requests that left, retries included */
    int status;                          /* the last answer's HTTP status; 0 when none came */
    bk_result failure;                   /* why the last attempt had no usable answer; BK_OK */
    char client_request_id[37];          /* the x-ms-client-request-id every attempt carried */
    char request_id[BK_HTTP_ID_MAX + 1]; /* the last answer's x-ms-request-id; "" without one */
    char error_code[64];                 /* the service's error code in that answer; "" */
} bk_call_record;

typedef struct bk_client {
    /* Set by the caller after bk_client_init. */
    bk_endpoint arm;
    bk_endpoint authority;
    bk_endpoint batch; /* the account's data plane, for bk_client_prove_key */
    const char *scope; /* BK_ARM_SCOPE unless the cloud says otherwise */
    bk_credential credential;
    bk_account_ref account;
    bk_retry_policy retry;
    /* When the command ends (monotonic ms): every connect, send, receive, backoff and
     * Retry-After wait of every call draws from it. 0: each call gets BK_CALL_BUDGET_MS from its
     * start. See bk_client_set_deadline. */
    uint64_t deadline_ms;

    /* After each call: what the service said. */
    bk_http_response response;  /* the last answer's status and headers */
    bk_cloud_error cloud_error; /* the last ARM error body: after BK_ERR_ARM_REFUSED or
                                   _UNAUTHORIZED, or the ambiguous answer of a regenerate */
    bk_entra_error entra_error; /* valid after BK_ERR_AUTH_REFUSED */
    bk_call_record call;        /* the last call, or the token request it failed at */
    /* The last regenerateKeys, kept apart from the listKeys that reconciles an ambiguous one
     * (which then is `call`, with its result in reconcile_result: BK_OK when the keys returned
     * are the ones the service holds now). */
    bk_call_record regenerate;
    bk_result reconcile_result;

    /* Internal. */
    bk_connector connector;
    bool peer_open[BK_PEER_COUNT];
    bk_stream peer_stream[BK_PEER_COUNT];
    bk_token token;
    uint64_t token_expires_ms;    /* monotonic; 0 when there is no token */
    int64_t response_date_s;      /* the Date of the last answer that had one; -1 */
    uint64_t response_date_at_ms; /* when it was read (monotonic) */
    char io[BK_IO_BUFFER_SIZE];
    bk_json_token json[BK_JSON_TOKENS_MAX];
    char claims[BK_WWW_AUTHENTICATE_MAX + 1]; /* a CAE challenge's claims, decoded */
} bk_client;

void bk_client_init(bk_client *client, bk_connector connector);
/* The command ends budget_ms from now, whatever it calls; 0 goes back to a budget per call. */
void bk_client_set_deadline(bk_client *client, uint32_t budget_ms);
/* Closes every connection and wipes the token and the I/O buffer. */
void bk_client_close(bk_client *client);

/* Fetches (or reuses) the access token; claims, when not NULL, forces a fresh one that
 * satisfies a CAE challenge. */
BK_MUST_CHECK bk_result bk_client_token(bk_client *client, const char *claims);
BK_MUST_CHECK bk_result bk_client_get_account(bk_client *client, bk_batch_account *out);
BK_MUST_CHECK bk_result bk_client_list_keys(bk_client *client, bk_account_keys *out);
/* Sends regenerateKeys at most once, more only after 429s (bk_retry.h). After an ambiguous
 * answer it never sends it again: it reads the keys with listKeys instead and returns
 * BK_ERR_OUTCOME_UNKNOWN, with out holding the keys the service now holds when
 * reconcile_result is BK_OK. A third of the time left is kept for that listKeys. A 401, CAE
 * challenge or not, is a refusal: answering a challenge would mean sending it twice. */
BK_MUST_CHECK bk_result bk_client_regenerate_key(bk_client *client, bk_key_name key,
                                                 bk_account_keys *out);

/* Proves key on the Batch data plane (client->batch) with one SharedKey-signed read of the
 * account's applications, retried like any read. BK_OK on 200; BK_ERR_KEY_REJECTED when the
 * service refused the key (401 or 403: stale, not yet propagated, or SharedKey disabled), with
 * its code and message in cloud_error. The ocp-date is the wall clock, or when the device has
 * none yet, the Date of the last answer it read. */
BK_MUST_CHECK bk_result bk_client_prove_key(bk_client *client, const char *key,
                                            const char *api_version);

#endif
