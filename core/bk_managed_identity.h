/* SPDX-License-Identifier: MIT */
/* Managed identity credentials: the token comes from an endpoint on the machine itself (App
 * Service's, Azure Arc's agent) or from Azure's instance metadata service, over plain HTTP on a
 * local or link-local address; no secret of batchkey's goes there.
 *
 *     static bk_managed_identity mi;
 *     r = bk_managed_identity_init(&mi, BK_MI_IMDS, "http://169.254.169.254", NULL);
 *     client.credential = bk_managed_identity_credential(&mi);
 *
 * App Service: GET IDENTITY_ENDPOINT?api-version=2019-08-01&resource=... with X-IDENTITY-HEADER.
 * Azure Arc: GET IDENTITY_ENDPOINT?api-version=2020-06-01&resource=... with Metadata: true; the
 * agent answers 401 with `WWW-Authenticate: Basic realm=<file>`, a file only root and the
 * himds group can read; its contents go back as `Authorization: Basic ...` on a second GET.
 * The file is accepted only directly in the token directory, named *.key, at most
 * BK_ARC_SECRET_MAX bytes, and not a symbolic link (the board's read_arc_secret checks those).
 * IMDS: GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=... with
 * Metadata: true; its 404, 410, 429 and 5xx answers are retried. A user-assigned identity's
 * client_id goes along where the endpoint takes one. */
#ifndef BK_MANAGED_IDENTITY_H
#define BK_MANAGED_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "bk_client.h"
#include "bk_endpoint.h"
#include "bk_result.h"

/* The largest Arc challenge file read (the agent's are 64 bytes). */
#define BK_ARC_SECRET_MAX 4096
/* Where the Arc agent writes its challenge files. */
#define BK_ARC_TOKEN_DIR "/var/opt/azcmagent/tokens"

typedef enum bk_mi_kind { BK_MI_APP_SERVICE, BK_MI_ARC, BK_MI_IMDS } bk_mi_kind;

typedef struct bk_managed_identity {
    bk_mi_kind kind;
    bk_endpoint endpoint;
    char path[BK_URL_PATH_MAX];
    const char *identity_header; /* App Service: IDENTITY_HEADER (a secret of the platform's) */
    const char *client_id;       /* a user-assigned identity, or NULL for the system one */
    const char *arc_token_dir;   /* BK_ARC_TOKEN_DIR unless told otherwise */
    /* Arc: reads the challenge file at path (already checked to lie directly in the token
     * directory and end in .key) into buf, refusing a symbolic link or a file over cap - 1
     * bytes; NUL-terminated, *len without it. */
    bk_result (*read_arc_secret)(void *ctx, const char *path, char *buf, size_t cap, size_t *len);
    void *read_ctx;
    /* Internal: the Arc secret between the challenge and the second request (wiped). */
    char arc_secret[BK_ARC_SECRET_MAX + 1];
    size_t arc_secret_len;
    bool arc_challenged;
} bk_managed_identity;

/* url: IDENTITY_ENDPOINT (App Service, Arc) or the IMDS origin (http://169.254.169.254, or
 * AZURE_POD_IDENTITY_AUTHORITY_HOST). http or https; BK_ERR_INVALID_URL otherwise. */
BK_MUST_CHECK bk_result bk_managed_identity_init(bk_managed_identity *mi, bk_mi_kind kind,
                                                 const char *url, const char *client_id);
bk_credential bk_managed_identity_credential(bk_managed_identity *mi);

/* The path in an Arc challenge (`Basic realm=<path>`), checked: directly inside token_dir,
 * ending in ".key", no "..". BK_ERR_ARC_CHALLENGE otherwise. */
BK_MUST_CHECK bk_result bk_arc_challenge_path(const char *www_authenticate, const char *token_dir,
                                              char *path, size_t cap);

#endif
