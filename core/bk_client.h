/* The batchkey client: token, ARM calls, retries and connection reuse over the seams.
 *
 *     static bk_client client;               // large: keep it out of small stacks
 *     bk_client_init(&client, connector);    // e.g. bk_tls_connector() on Linux
 *     bk_endpoint_parse(&client.arm, "https://management.azure.com");
 *     bk_endpoint_parse(&client.authority, "https://login.microsoftonline.com");
 *     client.credential = (bk_credential){BK_CREDENTIAL_CLIENT_SECRET, tenant, app_id, secret};
 *     client.account = (bk_account_ref){subscription, resource_group, account_name};
 *     bk_account_keys keys;
 *     r = bk_client_regenerate_key(&client, BK_KEY_SECONDARY, &keys);
 *     if (r == BK_ERR_ARM_REFUSED) puts(client.cloud_error.message);
 *     bk_client_close(&client);              // closes connections, wipes token and buffers
 *
 * One token serves every call of a client until 5 minutes before it expires; each peer (Entra
 * authority, ARM) keeps one connection open while the server allows it. */
#ifndef BK_CLIENT_H
#define BK_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "bk_arm.h"
#include "bk_config.h"
#include "bk_entra.h"
#include "bk_http.h"
#include "bk_json.h"
#include "bk_result.h"
#include "bk_stream.h"

typedef enum bk_peer { BK_PEER_AUTHORITY, BK_PEER_ARM, BK_PEER_COUNT } bk_peer;

/* The connection seam: opens a verified (TLS) stream to an endpoint for one peer slot, and
 * closes it. A slot holds at most one connection; the client decides when to reuse it. */
typedef struct bk_connector {
    bk_result (*open)(void *ctx, bk_peer peer, const bk_endpoint *endpoint, bk_stream *out);
    void (*close)(void *ctx, bk_peer peer);
    /* Optional: false when the open connection is known to be unusable (the server closed it),
     * checked before reusing it. NULL: assume usable. */
    bool (*reusable)(void *ctx, bk_peer peer);
    void *ctx;
} bk_connector;

typedef enum bk_credential_kind { BK_CREDENTIAL_CLIENT_SECRET } bk_credential_kind;

typedef struct bk_credential {
    bk_credential_kind kind;
    const char *tenant_id;
    const char *client_id;
    const char *client_secret; /* the caller's; wipe it when done */
} bk_credential;

/* Exponential backoff with full jitter; the service's own Retry-After wins when it gives one,
 * and a Retry-After longer than max_delay_ms ends the retries. */
typedef struct bk_retry_policy {
    uint32_t max_attempts;
    uint32_t base_delay_ms;
    uint32_t max_delay_ms;
} bk_retry_policy;

/* A random delay in [0, min(max_delay, base_delay * 2^(attempts_done - 1))]. */
uint32_t bk_retry_backoff_ms(const bk_retry_policy *policy, uint32_t attempts_done,
                             uint32_t random);

typedef struct bk_client {
    /* Set by the caller after bk_client_init. */
    bk_endpoint arm;
    bk_endpoint authority;
    const char *scope; /* BK_ARM_SCOPE unless the cloud says otherwise */
    bk_credential credential;
    bk_account_ref account;
    bk_retry_policy retry;

    /* After each call: what the service said. */
    bk_http_response response;    /* the last answer's status and headers */
    bk_cloud_error cloud_error;   /* valid after BK_ERR_ARM_REFUSED / _UNAUTHORIZED */
    bk_entra_error entra_error;   /* valid after BK_ERR_AUTH_REFUSED */
    bool outcome_keys_known;      /* after BK_ERR_OUTCOME_UNKNOWN: keys hold listKeys' answer */
    bk_result outcome_list_error; /* ...otherwise why listKeys failed */
    uint32_t attempts;            /* requests sent for the last operation */

    /* Internal. */
    bk_connector connector;
    bool peer_open[BK_PEER_COUNT];
    bk_stream peer_stream[BK_PEER_COUNT];
    bk_token token;
    uint64_t token_expires_ms; /* monotonic; 0 when there is no token */
    char io[BK_IO_BUFFER_SIZE];
    bk_json_token json[BK_JSON_TOKENS_MAX];
    char claims[BK_WWW_AUTHENTICATE_MAX + 1]; /* a CAE challenge's claims, decoded */
} bk_client;

void bk_client_init(bk_client *client, bk_connector connector);
/* Closes every connection and wipes the token and the I/O buffer. */
void bk_client_close(bk_client *client);

/* Fetches (or reuses) the access token; claims, when not NULL, forces a fresh one that
 * satisfies a CAE challenge. */
BK_MUST_CHECK bk_result bk_client_token(bk_client *client, const char *claims);
BK_MUST_CHECK bk_result bk_client_get_account(bk_client *client, bk_batch_account *out);
BK_MUST_CHECK bk_result bk_client_list_keys(bk_client *client, bk_account_keys *out);
/* Never re-posts after an ambiguous failure: it calls listKeys instead and returns
 * BK_ERR_OUTCOME_UNKNOWN with the keys the service now holds (outcome_keys_known). */
BK_MUST_CHECK bk_result bk_client_regenerate_key(bk_client *client, bk_key_name key,
                                                 bk_account_keys *out);

#endif
