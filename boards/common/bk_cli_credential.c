/* SPDX-License-Identifier: MIT */
/* Which credential the command line uses, from --auth and the environment in
 * DefaultAzureCredential's order, its checks before anything is sent, and its setup. */
#include <stdio.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_cli_internal.h"
#include "bk_device_code.h"
#include "bk_entra.h"
#include "bk_managed_identity.h"
#include "bk_writer.h"

#if BK_CLI_ASSERTIONS
static bk_certificate certificate;           /* the certificate credential's, when it is used */
static char assertion[BK_ASSERTION_MAX + 1]; /* a client assertion, made for each token request */
#endif
#if BK_CLI_MANAGED_IDENTITY
static bk_managed_identity managed_identity; /* the managed identity's, when it is used */
#endif

#if BK_CLI_MANAGED_IDENTITY
/* A managed identity: App Service (IDENTITY_ENDPOINT and IDENTITY_HEADER), Azure Arc
 * (IDENTITY_ENDPOINT and IMDS_ENDPOINT), else IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST or
 * 169.254.169.254); AZURE_CLIENT_ID names a user-assigned identity. */
static int resolve_managed_identity(bk_cli_options *o, const char *identity_endpoint,
                                    const char *imds_host) {
    const char *header = bk_cli_setting(NULL, "IDENTITY_HEADER");
    const char *arc = bk_cli_setting(NULL, "IMDS_ENDPOINT");
    bk_mi_kind kind = identity_endpoint == NULL ? BK_MI_IMDS
                      : header != NULL          ? BK_MI_APP_SERVICE
                      : arc != NULL             ? BK_MI_ARC
                                                : BK_MI_IMDS;
    if (identity_endpoint != NULL && kind == BK_MI_IMDS) {
        return bk_cli_usage_error(
            "IDENTITY_ENDPOINT is set without IDENTITY_HEADER (App Service) or "
            "IMDS_ENDPOINT (Azure Arc)",
            NULL);
    }
    const char *url = kind != BK_MI_IMDS  ? identity_endpoint
                      : imds_host != NULL ? imds_host
                                          : "http://169.254.169.254";
    if (o->client_id != NULL && !bk_guid_ok(o->client_id)) {
        return bk_cli_usage_error("AZURE_CLIENT_ID is not a GUID", o->client_id);
    }
    bk_result r = bk_managed_identity_init(&managed_identity, kind, url, o->client_id);
    if (r != BK_OK) {
        return bk_cli_usage_error(
            "the managed identity endpoint is not http(s)://host[:port][/path]", url);
    }
    if (kind == BK_MI_APP_SERVICE) {
        if (!bk_header_value_ok(header, strlen(header))) {
            return bk_cli_usage_error("IDENTITY_HEADER holds a control character", NULL);
        }
        managed_identity.identity_header = header;
    }
    if (kind == BK_MI_ARC) {
        if (bk_cli_current_board->read_arc_secret == NULL) {
            return bk_cli_usage_error("this board cannot answer Azure Arc's challenge", NULL);
        }
        const char *dir = bk_cli_setting(NULL, "BATCHKEY_ARC_TOKEN_DIR");
        managed_identity.arc_token_dir = dir != NULL ? dir : BK_ARC_TOKEN_DIR;
        managed_identity.read_arc_secret = bk_cli_current_board->read_arc_secret;
    }
    o->client_secret = NULL;
    return 0;
}
#endif

/* A person's sign-in (login, --auth device-code): AZURE_TENANT_ID and AZURE_CLIENT_ID, a
 * public client application; its refresh token lives in the state directory. */
int bk_cli_resolve_user(bk_cli_options *o) {
#if BK_CLI_STATE
    const char *missing = o->tenant == NULL      ? "AZURE_TENANT_ID is not set"
                          : o->client_id == NULL ? "AZURE_CLIENT_ID is not set"
                                                 : NULL;
    if (missing != NULL) {
        return bk_cli_usage_error(missing, "a device code sign-in names its tenant and its public "
                                           "client application");
    }
    if (bk_validate_tenant_id(o->tenant) != BK_OK) {
        return bk_cli_usage_error("AZURE_TENANT_ID is not a GUID or domain name", o->tenant);
    }
    if (!bk_guid_ok(o->client_id)) {
        return bk_cli_usage_error("AZURE_CLIENT_ID is not a GUID", o->client_id);
    }
    o->client_secret = NULL;
    return bk_cli_resolve_state_dir(o);
#else
    (void)o;
    return bk_cli_usage_error("this board keeps no sign-in", NULL);
#endif
}

/* The credential: --auth [BATCHKEY_AUTH] names one; auto takes the first whose variables are
 * set, in DefaultAzureCredential's order (client secret, certificate, workload identity). */
int bk_cli_resolve_credential(bk_cli_options *o) {
    o->tenant = bk_cli_setting(NULL, "AZURE_TENANT_ID");
    o->client_id = bk_cli_setting(NULL, "AZURE_CLIENT_ID");
    o->client_secret = bk_cli_setting(NULL, "AZURE_CLIENT_SECRET");
    o->certificate = bk_cli_setting(NULL, "AZURE_CLIENT_CERTIFICATE_PATH");
    o->token_file = bk_cli_setting(NULL, "AZURE_FEDERATED_TOKEN_FILE");
    const char *identity_endpoint = bk_cli_setting(NULL, "IDENTITY_ENDPOINT");
    const char *imds_host = bk_cli_setting(NULL, "AZURE_POD_IDENTITY_AUTHORITY_HOST");
    const char *auth = bk_cli_setting(o->auth, "BATCHKEY_AUTH");
    static const char *const kinds[] = {"secret",           "certificate", "workload",
                                        "managed-identity", "device-code", "auto"};
    size_t k = 0;
    while (auth != NULL && k < 6 && !bk_ascii_ieq(auth, strlen(auth), kinds[k])) {
        k++;
    }
    if (k == 6) {
        return bk_cli_usage_error("--auth must be secret, certificate, workload, managed-identity, "
                                  "device-code or auto, not",
                                  auth);
    }
    if (k == 4) {
        o->credential = BK_CLI_CREDENTIAL_DEVICE_CODE;
        return bk_cli_resolve_user(o);
    }
    if (auth == NULL || k == 5) {
        /* DefaultAzureCredential's order; IMDS only when configured: a gateway off Azure would
         * otherwise wait on a link-local address for every command. */
        bool managed = identity_endpoint != NULL || imds_host != NULL;
        k = o->client_secret != NULL ? 0
            : o->certificate != NULL ? 1
            : o->token_file != NULL  ? 2
            : managed                ? 3
                                     : 0;
    }
    o->credential = (bk_cli_credential_kind)k;
    if (k == 3) {
#if BK_CLI_MANAGED_IDENTITY
        return resolve_managed_identity(o, identity_endpoint, imds_host);
#else
        return bk_cli_usage_error("this board has no managed identity credential", NULL);
#endif
    }
    static const char *const needs[] = {
        "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a client secret)",
        "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_CERTIFICATE_PATH (a certificate)",
        "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (workload identity)"};
    const char *own = k == 0 ? o->client_secret : k == 1 ? o->certificate : o->token_file;
    const char *own_name = k == 0   ? "AZURE_CLIENT_SECRET is not set"
                           : k == 1 ? "AZURE_CLIENT_CERTIFICATE_PATH is not set"
                                    : "AZURE_FEDERATED_TOKEN_FILE is not set";
    const char *missing = o->tenant == NULL      ? "AZURE_TENANT_ID is not set"
                          : o->client_id == NULL ? "AZURE_CLIENT_ID is not set"
                          : own == NULL          ? own_name
                                                 : NULL;
    if (missing != NULL) {
        return bk_cli_usage_error(missing, needs[k]);
    }
    if (bk_validate_tenant_id(o->tenant) != BK_OK) {
        return bk_cli_usage_error("AZURE_TENANT_ID is not a GUID or domain name", o->tenant);
    }
    if (!bk_guid_ok(o->client_id)) {
        return bk_cli_usage_error("AZURE_CLIENT_ID is not a GUID", o->client_id);
    }
    if (k == 0 && !bk_header_value_ok(o->client_secret, strlen(o->client_secret))) {
        return bk_cli_usage_error("AZURE_CLIENT_SECRET holds a control character", NULL);
    }
    if (k == 0) {
        return 0;
    }
    o->client_secret = NULL;
#if BK_CLI_ASSERTIONS
    if (k == 2 && bk_cli_current_board->read_file == NULL) {
        return bk_cli_usage_error("this board has no workload identity credential", NULL);
    }
    if (k == 2) {
        return bk_cli_current_board->readable(o->token_file)
                   ? 0
                   : bk_cli_usage_error("cannot read AZURE_FEDERATED_TOKEN_FILE", o->token_file);
    }
    if (bk_cli_current_board->certificate_start == NULL) {
        return bk_cli_usage_error("this board has no certificate credential", NULL);
    }
    o->assertion_alg = bk_cli_setting(o->assertion_alg, "BATCHKEY_ASSERTION_ALG");
    const char *alg = o->assertion_alg;
    if (alg != NULL && !bk_ascii_ieq(alg, strlen(alg), "PS256") &&
        !bk_ascii_ieq(alg, strlen(alg), "RS256")) {
        return bk_cli_usage_error("--assertion-alg must be PS256 or RS256, not", alg);
    }
    return 0;
#else
    return bk_cli_usage_error("this board has no certificate or workload identity credential",
                              NULL);
#endif
}

#if BK_CLI_ASSERTIONS
/* The certificate credential's key, loaded only once every input passed its checks, and freed
 * by bk_cli_run whatever happens next. */
int bk_cli_start_certificate(const bk_cli_options *o) {
    const char *chain = bk_cli_setting(NULL, "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN");
    bool send_chain =
        chain != NULL && (strcmp(chain, "1") == 0 || bk_ascii_ieq(chain, strlen(chain), "true"));
    bk_result r = bk_cli_current_board->certificate_start(
        o->certificate, bk_cli_setting(NULL, "AZURE_CLIENT_CERTIFICATE_PASSWORD"), &certificate);
    if (r != BK_OK) {
        char detail[1024] = "";
        bk_writer w;
        bk_writer_init(&w, detail, sizeof detail - 1);
        bk_write_str(&w, o->certificate);
        bk_write_str(&w, ": ");
        bk_write_str(&w, bk_strerror(r));
        detail[w.len] = '\0';
        return bk_cli_usage_error("cannot use AZURE_CLIENT_CERTIFICATE_PATH", detail);
    }
    const char *alg = o->assertion_alg;
    certificate.client_id = o->client_id;
    certificate.send_chain = send_chain;
    if (certificate.alg != BK_SIGN_ES256) { /* an EC key signs ES256 whatever was asked */
        bool rs256 = alg != NULL && bk_ascii_ieq(alg, strlen(alg), "RS256");
        certificate.alg = rs256 ? BK_SIGN_RS256 : BK_SIGN_PS256;
    }
    return 0;
}

/* Workload identity's assertion: the federated token, read afresh for every token request (the
 * platform replaces the file before the token in it expires). */
static bk_result federated_token(void *ctx, const char *audience, int64_t now_s, char *buf,
                                 size_t cap, size_t *len) {
    (void)audience;
    (void)now_s;
    bk_result r = bk_cli_current_board->read_file(ctx, buf, cap, len);
    while (r == BK_OK && *len > 0 &&
           (buf[*len - 1] == '\n' || buf[*len - 1] == '\r' || buf[*len - 1] == ' ')) {
        buf[--*len] = '\0';
    }
    return r == BK_OK && *len == 0 ? BK_ERR_INVALID_SECRET : r;
}
#endif

/* The client's credential, as resolve chose it. */
void bk_cli_set_credential(const bk_cli_options *o, bk_cli_command cmd) {
    static bk_entra_app app;
    app = (bk_entra_app){.authority = &bk_cli_client.authority,
                         .tenant_id = o->tenant,
                         .client_id = o->client_id,
                         .client_secret = o->client_secret};
#if BK_CLI_ASSERTIONS
    app.assertion_buf = assertion;
    app.assertion_cap = sizeof assertion;
    if (o->credential == BK_CLI_CREDENTIAL_CERTIFICATE) {
        app.assertion = bk_certificate_assertion;
        app.assertion_ctx = &certificate;
        app.name = "certificate";
    } else if (o->credential == BK_CLI_CREDENTIAL_WORKLOAD) {
        app.assertion = federated_token;
        app.assertion_ctx = (void *)o->token_file;
        app.name = "workload identity";
    }
#endif
    bk_cli_client.credential = bk_entra_credential(&app);
#if BK_CLI_MANAGED_IDENTITY
    if (o->credential == BK_CLI_CREDENTIAL_MANAGED_IDENTITY) {
        bk_cli_client.credential = bk_managed_identity_credential(&managed_identity);
    }
#endif
#if BK_CLI_STATE
    if (o->credential == BK_CLI_CREDENTIAL_DEVICE_CODE) {
        bk_cli_client.credential = cmd == BK_CLI_CMD_LOGIN
                                       ? bk_device_code_credential(bk_cli_sign_in())
                                       : bk_refresh_token_credential(bk_cli_sign_in());
    }
#else
    (void)cmd;
#endif
}

/* Frees the certificate's key, and wipes the secret in the board's environment block. */
void bk_cli_stop_credential(const bk_cli_options *o) {
#if BK_CLI_ASSERTIONS
    if (o->credential == BK_CLI_CREDENTIAL_CERTIFICATE) {
        bk_cli_current_board->certificate_stop();
    }
#endif
    if (o->client_secret != NULL) {
        bk_wipe((char *)o->client_secret, strlen(o->client_secret));
    }
}
