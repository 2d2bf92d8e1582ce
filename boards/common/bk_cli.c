/* SPDX-License-Identifier: MIT */
/* The batchkey command line, one code for every board: options, checks, the commands, the
 * output and the exit codes. A board's main gives it argv and a bk_cli_board (where settings
 * and CA certificates come from, and its TLS). */
#define _GNU_SOURCE /* getopt_long on glibc; newlib declares it anyway */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_cli.h"
#include "bk_cli_output.h"
#include "bk_client.h"
#include "bk_crypto.h"
#include "bk_dataplane.h"
#include "bk_entra.h"
#include "bk_device_code.h"
#include "bk_managed_identity.h"
#include "bk_platform.h"
#include "bk_rotate.h"
#include "bk_writer.h"

enum exit_code {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,
    EXIT_USAGE = 2,
    EXIT_AUTH = 3,
    EXIT_REFUSED = 4,
    EXIT_NETWORK = 5,
    EXIT_MALFORMED = 6,
    EXIT_ROTATION = 7,
    EXIT_OUTCOME_UNKNOWN = 8
};

typedef struct cloud {
    const char *name;
    const char *arm;
    const char *authority;
    const char *scope;
} cloud;

static const cloud clouds[] = {
    {"AzureCloud", "https://management.azure.com", "https://login.microsoftonline.com",
     "https://management.azure.com/.default"},
    {"AzureChinaCloud", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn",
     "https://management.chinacloudapi.cn/.default"},
    {"AzureUSGovernment", "https://management.usgovcloudapi.net",
     "https://login.microsoftonline.us", "https://management.usgovcloudapi.net/.default"},
};

typedef enum credential_kind {
    CREDENTIAL_SECRET,
    CREDENTIAL_CERTIFICATE,
    CREDENTIAL_WORKLOAD,
    CREDENTIAL_MANAGED_IDENTITY,
    CREDENTIAL_DEVICE_CODE /* the refresh token of a `batchkey login` */
} credential_kind;

typedef struct options {
    const char *command;
    const char *key;
    const char *subscription;
    const char *resource_group;
    const char *account;
    const char *cloud_name;
    const char *arm_endpoint;
    const char *authority_host;
    const char *ca_file;
    const char *state_dir;
    const char *output;
    const char *timeout;
    const char *deadline;
    const char *tenant;
    const char *client_id;
    const char *client_secret;
    const char *certificate; /* AZURE_CLIENT_CERTIFICATE_PATH */
    const char *token_file;  /* AZURE_FEDERATED_TOKEN_FILE */
    const char *auth;
    const char *assertion_alg;
    credential_kind credential;
    const char *scope; /* the cloud's ARM scope */
    const char *batch_endpoint;
    const char *max_age;
    const char *deploy_hook;
    bool force;
    bool dry_run;
    bool retire;
    bool active;
    bool verbose;
    bool help;
    bk_key_name key_name; /* --key-name, parsed */
} options;

static bk_client client;
static const bk_cli_board *board;
/* Client assertions (certificate, workload identity); a board without them builds with
 * -DBK_CLI_ASSERTIONS=0. */
#ifndef BK_CLI_ASSERTIONS
#define BK_CLI_ASSERTIONS 1
#endif
#if BK_CLI_ASSERTIONS
static bk_certificate certificate;           /* the certificate credential's, when it is used */
static char assertion[BK_ASSERTION_MAX + 1]; /* a client assertion, made for each token request */
#endif
/* Managed identities (App Service, Azure Arc, IMDS); a board with no use for them builds with
 * -DBK_CLI_MANAGED_IDENTITY=0. */
#ifndef BK_CLI_MANAGED_IDENTITY
#define BK_CLI_MANAGED_IDENTITY 1
#endif
#if BK_CLI_MANAGED_IDENTITY
static bk_managed_identity managed_identity; /* the managed identity's, when it is used */
#endif

typedef enum command {
    CMD_SHOW,
    CMD_KEYS,
    CMD_REGENERATE,
    CMD_TOKEN,
    CMD_ROTATE,
    CMD_STATUS,
    CMD_LOGIN,
    CMD_COUNT
} command;

/* What keeps state in the state directory (rotate, status, keys --active, login and the
 * device-code credential); a board without a store builds with -DBK_CLI_STATE=0 and spends
 * neither flash nor RAM on them. */
#ifndef BK_CLI_STATE
#define BK_CLI_STATE 1
#endif

#if BK_CLI_STATE
#define ROTATION_TEXT(text) text
static bk_rotation rotation;
static bk_store store;
static char key_file[512];      /* the state dir's active.key, for the report and the hook */
static bk_user_sign_in sign_in; /* login, and the device-code credential */
#else
#define ROTATION_TEXT(text) ""
#endif

/* Each command's help: a line in `batchkey --help`, and `batchkey COMMAND --help`. */
static const struct {
    const char *name;
    const char *summary;
    const char *synopsis;
    const char *details;
    const char *example;
} commands[CMD_COUNT] = {
    {"show", "the Batch account: endpoint, provisioning state, authentication modes",
     "batchkey show [-o json|tsv|env|none]",
     "Reads the account (GET). -o env prints AZURE_BATCH_ACCOUNT and AZURE_BATCH_ENDPOINT.",
     "batchkey show -g my-rg -n mybatchaccount -o tsv"},
    {"keys", "the account's two shared keys (listKeys)",
     "batchkey keys [--key-name primary|secondary] [-o json|tsv|env|none]",
     "json and tsv print both keys. -o env prints export lines for the Batch tools:\n"
     "AZURE_BATCH_ACCOUNT, AZURE_BATCH_ENDPOINT (read with one more GET) and\n"
     "AZURE_BATCH_ACCESS_KEY, the key --key-name names (primary by default).",
     "eval \"$(batchkey keys -o env --key-name secondary)\""},
    {"regenerate", "regenerate one key, then print the account's keys",
     "batchkey regenerate --key-name primary|secondary [-o json|tsv|env|none]",
     "Regenerate the key your devices are NOT using: the old value stops working at once.\n"
     "Sent at most once (again only after a 429). When no definite answer comes, batchkey\n"
     "reads the keys with listKeys, prints them and exits 8. -o env gives the new key as\n"
     "AZURE_BATCH_ACCESS_KEY.",
     "batchkey regenerate --key-name secondary -o none"},
    {"token", "acquire an access token; prints its type, expiry and length, never the token",
     "batchkey token [-o json|tsv|env|none]",
     "Checks the credential: one client-credentials request to Microsoft Entra ID.",
     "batchkey token -o tsv"},
    {"rotate", "rotate the keys when the active one is due: regenerate, prove, switch, publish",
     ROTATION_TEXT(
         "batchkey rotate [--max-age DAYS] [--force] [--dry-run] [--retire] [--deploy-hook CMD]\n"
         "       [--key-name primary|secondary] [-o json|tsv|env|none]"),
     ROTATION_TEXT(
         "Regenerates the key the device is NOT using, proves it on the Batch data plane, makes\n"
         "it active and writes it to STATE_DIR/active.key (mode 0600). Only when the active key\n"
         "is older than --max-age DAYS [BATCHKEY_MAX_AGE, default 30] or with --force; a young\n"
         "key costs no request at all. Each step is saved first in STATE_DIR/rotation, so a run\n"
         "after a crash continues it (listKeys tells what happened) and never regenerates twice.\n"
         "--dry-run checks the account and proves the active key; it sends ARM no POST and\n"
         "writes nothing. --retire regenerates the old key too once the new one is active. A "
         "first\n"
         "run adopts the keys (listKeys), the active one being the key active.key holds, else\n"
         "the --key-name one (primary by default). --deploy-hook CMD [BATCHKEY_DEPLOY_HOOK] runs\n"
         "CMD with sh after the key file changed, with BATCHKEY_ACCOUNT, BATCHKEY_ACTIVE_SLOT and\n"
         "BATCHKEY_KEY_FILE set (never the key). Prints what it did, never a key."),
     ROTATION_TEXT(
         "batchkey rotate --state-dir /var/lib/batchkey --deploy-hook 'systemctl restart my-app'")},
    {"status", "the rotation state: active slot, its age, the last rotation, a step in flight",
     ROTATION_TEXT("batchkey status [-o json|tsv|env|none]"),
     ROTATION_TEXT(
         "Reads STATE_DIR/rotation only: no credential needed, nothing sent, never a key."),
     ROTATION_TEXT("batchkey status --state-dir /var/lib/batchkey -o tsv")},
    {"login", "sign a person in once with a device code; later runs use --auth device-code",
     ROTATION_TEXT("batchkey login [-o json|tsv|env|none]"),
     ROTATION_TEXT("Shows a code to enter at https://microsoft.com/devicelogin (Microsoft Entra\n"
                   "ID's device code flow, for AZURE_CLIENT_ID, a public client application, in\n"
                   "AZURE_TENANT_ID), waits for the person to approve, and keeps the refresh\n"
                   "token in STATE_DIR/refresh-token (mode 0600). --auth device-code then uses\n"
                   "it, and keeps the new one Entra ID sends each time; when Entra refuses it\n"
                   "(revoked, expired: invalid_grant), log in again."),
     ROTATION_TEXT("batchkey login --state-dir /var/lib/batchkey")},
};

static const char common_options[] =
    "options (environment variable in brackets; options win):\n"
    "  --subscription ID        [AZURE_SUBSCRIPTION_ID]\n"
    "  -g, --resource-group RG  [BATCHKEY_RESOURCE_GROUP]\n"
    "  -n, --account NAME       [BATCHKEY_ACCOUNT] the Batch account\n"
    "  --key-name, --key K      primary or secondary (any case)\n"
    "  -o, --output FORMAT      json (default), tsv, env (export lines) or none\n"
    "  --cloud NAME             AzureCloud (default), AzureChinaCloud, AzureUSGovernment\n"
    "  --arm-endpoint URL       [BATCHKEY_ARM_ENDPOINT] https://host[:port]\n"
    "  --ca-file PATH           [BATCHKEY_CA_FILE] PEM CA bundle; default: the system's\n"
    "  --state-dir DIR          [BATCHKEY_STATE_DIR, else systemd's STATE_DIRECTORY] rotation\n"
    "                           state and active.key; default /var/lib/batchkey\n"
    "  --active                 keys: print the active key of the rotation state (no request)\n"
    "  --batch-endpoint URL     [BATCHKEY_BATCH_ENDPOINT] the Batch data plane, "
    "https://host[:port];\n"
    "                           default: the account's endpoint\n"
    "  --deadline SECONDS       [BATCHKEY_DEADLINE] the whole command, retries and waits\n"
    "                           included; default 60\n"
    "  --timeout SECONDS        [BATCHKEY_TIMEOUT] the longest one connect or wait for the\n"
    "                           network may take; default 20\n"
    "  -v, --verbose            diagnostics on stderr, secrets redacted\n"
    "  -h, --help, --version\n"
    "\n"
    "credentials (--auth KIND [BATCHKEY_AUTH]; auto, the default, takes the first that is\n"
    "set, in this order), the first three with AZURE_TENANT_ID and AZURE_CLIENT_ID:\n"
    "  secret       AZURE_CLIENT_SECRET\n"
    "  certificate  AZURE_CLIENT_CERTIFICATE_PATH, a PEM with the certificate and its RSA or\n"
    "               EC key [AZURE_CLIENT_CERTIFICATE_PASSWORD when encrypted];\n"
    "               AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=1 sends the chain (x5c);\n"
    "               --assertion-alg PS256 (default) or RS256 [BATCHKEY_ASSERTION_ALG]\n"
    "  workload     AZURE_FEDERATED_TOKEN_FILE, read afresh for every token\n"
    "  managed-identity  no tenant; AZURE_CLIENT_ID for a user-assigned one: App Service\n"
    "               (IDENTITY_ENDPOINT, IDENTITY_HEADER), Azure Arc (IDENTITY_ENDPOINT,\n"
    "               IMDS_ENDPOINT; BATCHKEY_ARC_TOKEN_DIR), else IMDS\n"
    "               [AZURE_POD_IDENTITY_AUTHORITY_HOST]; auto takes it only when configured\n"
    "  device-code  the refresh token `batchkey login` kept in the state directory\n"
    "AZURE_AUTHORITY_HOST https://host[:port] replaces the cloud's Entra ID.\n"
    "\n"
    "exit codes: 0 ok; 1 internal error; 2 usage or invalid input (nothing sent);\n"
    "3 authentication failed; 4 Azure refused the operation (fix the request or the\n"
    "configuration); 5 network, TLS, timeout, or Azure busy after the retries (try again\n"
    "later); 6 malformed, oversized or cut-short response; 7 rotation incomplete;\n"
    "8 outcome unknown (regenerateKeys sent, no definite answer: the keys printed are\n"
    "what the service holds now). rotate: 7 when a step did not complete or the state\n"
    "cannot be used (the line says what to do), or the deploy hook failed.\n";

static void usage(FILE *out) {
    fputs("usage: batchkey [options] COMMAND\n\ncommands:\n", out);
    for (size_t i = 0; i < CMD_COUNT; i++) {
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n'batchkey COMMAND --help' tells more of one.\n\n", out);
    fputs(common_options, out);
}

static void command_usage(command cmd, FILE *out) {
    fprintf(out, "usage: %s [options]\n\n%s: %s.\n%s\n\nexample:\n  %s\n\n", commands[cmd].synopsis,
            commands[cmd].name, commands[cmd].summary, commands[cmd].details,
            commands[cmd].example);
    fputs(common_options, out);
}

static int usage_error(const char *what, const char *detail) {
    fprintf(stderr, "batchkey: %s", what);
    if (detail != NULL) {
        fputs(": ", stderr);
        bk_cli_print_one_line(stderr, detail, false);
    }
    fputs(" (see batchkey --help)\n", stderr);
    return EXIT_USAGE;
}

static const char *option_or_env(const char *option, const char *env) {
    if (option != NULL) {
        return option;
    }
    const char *value = board->getenv(env);
    return (value != NULL && value[0] != '\0') ? value : NULL;
}

static int exit_code_for(bk_result r) {
    switch (r) {
    case BK_OK:
        return EXIT_OK;
    case BK_ERR_ARGUMENT:
    case BK_ERR_INVALID_SUBSCRIPTION:
    case BK_ERR_INVALID_RESOURCE_GROUP:
    case BK_ERR_INVALID_ACCOUNT:
    case BK_ERR_INVALID_TENANT:
    case BK_ERR_INVALID_CLIENT_ID:
    case BK_ERR_INVALID_SECRET:
    case BK_ERR_INVALID_HEADER_VALUE:
    case BK_ERR_INVALID_URL:
    case BK_ERR_INVALID_KEY_NAME:
    case BK_ERR_REQUEST_OVERFLOW:
    case BK_ERR_CLIENT_CERT:
    case BK_ERR_CLIENT_CERT_PASSWORD:
    case BK_ERR_CLIENT_CERT_CIPHER:
        return EXIT_USAGE;
    case BK_ERR_AUTH_REFUSED:
    case BK_ERR_ARM_UNAUTHORIZED:
    case BK_ERR_AUTH_CHALLENGE:
    case BK_ERR_ARC_CHALLENGE:
    case BK_ERR_AUTH_PENDING:
        return EXIT_AUTH;
    case BK_ERR_ARM_REFUSED:
    case BK_ERR_UNEXPECTED_STATUS:
    case BK_ERR_SHARED_KEY_DISABLED:
        return EXIT_REFUSED;
    case BK_ERR_KEY_REJECTED:
    case BK_ERR_STORE_NOT_FOUND:
    case BK_ERR_STORE_IO:
    case BK_ERR_STORE_FULL:
    case BK_ERR_STORE_TOO_LARGE:
    case BK_ERR_STATE_CORRUPT:
    case BK_ERR_STATE_VERSION:
    case BK_ERR_STATE_FOREIGN:
    case BK_ERR_ROTATION_CONFLICT:
    case BK_ERR_ROTATION_INCOMPLETE:
        return EXIT_ROTATION;
    case BK_ERR_OUTCOME_UNKNOWN:
        return EXIT_OUTCOME_UNKNOWN;
    case BK_ERR_SERVICE_BUSY: /* try again later, unlike a refusal */
    case BK_ERR_STREAM_SEND:
    case BK_ERR_STREAM_RECV:
    case BK_ERR_STREAM_CLOSED:
    case BK_ERR_STREAM_UNCLEAN_CLOSE:
    case BK_ERR_STREAM_STALLED:
    case BK_ERR_TIMEOUT:
    case BK_ERR_DNS:
    case BK_ERR_CONNECT:
    case BK_ERR_TLS_SETUP:
    case BK_ERR_TLS_CA:
    case BK_ERR_TLS_HANDSHAKE:
    case BK_ERR_TLS_VERIFY:
    case BK_ERR_TLS_IO:
        return EXIT_NETWORK;
    case BK_ERR_HTTP_STATUS_LINE:
    case BK_ERR_HTTP_HEADER_SYNTAX:
    case BK_ERR_HTTP_BARE_LF:
    case BK_ERR_HTTP_BARE_CR:
    case BK_ERR_HTTP_OBS_FOLD:
    case BK_ERR_HTTP_NUL:
    case BK_ERR_HTTP_EMPTY_HEADER_NAME:
    case BK_ERR_HTTP_HEADERS_TOO_LARGE:
    case BK_ERR_HTTP_BODY_TOO_LARGE:
    case BK_ERR_HTTP_LENGTH_AND_CHUNKED:
    case BK_ERR_HTTP_LENGTH_CONFLICT:
    case BK_ERR_HTTP_LENGTH_INVALID:
    case BK_ERR_HTTP_TRANSFER_CODING:
    case BK_ERR_HTTP_CONTENT_CODING:
    case BK_ERR_HTTP_CHUNK_SIZE_INVALID:
    case BK_ERR_HTTP_CHUNK_SIZE_OVERFLOW:
    case BK_ERR_HTTP_CHUNK_SYNTAX:
    case BK_ERR_HTTP_TRUNCATED:
    case BK_ERR_JSON_SYNTAX:
    case BK_ERR_JSON_TOO_MANY_TOKENS:
    case BK_ERR_JSON_MISSING_FIELD:
    case BK_ERR_JSON_TYPE:
    case BK_ERR_JSON_ESCAPE:
    case BK_ERR_JSON_FIELD_OVERFLOW:
    case BK_ERR_JSON_NUMBER:
    case BK_ERR_JSON_DUPLICATE_KEY:
        return EXIT_MALFORMED;
    case BK_ERR_UNSUPPORTED:
    case BK_ERR_ENTROPY:
    case BK_ERR_CRYPTO:
    case BK_ERR_BASE64:
        break;
    }
    return EXIT_INTERNAL;
}

/* The one line that says what failed, with what TLS said about a failed connection. */
static void report_failure(const char *what, bk_result r) {
    char detail[256] = "";
    board->tls_describe(detail, sizeof detail);
    bk_cli_report_failure(what, r, &client, detail);
}

static int parse_options(int argc, char **argv, options *o) {
    enum {
        OPT_SUBSCRIPTION = 256,
        OPT_CLOUD,
        OPT_ARM,
        OPT_CA,
        OPT_STATE,
        OPT_KEY,
        OPT_TIMEOUT,
        OPT_DEADLINE,
        OPT_VERSION,
        OPT_BATCH,
        OPT_MAX_AGE,
        OPT_FORCE,
        OPT_DRY_RUN,
        OPT_RETIRE,
        OPT_HOOK,
        OPT_ACTIVE,
        OPT_AUTH,
        OPT_ASSERTION_ALG
    };
    static const struct option long_options[] = {
        {"subscription", required_argument, NULL, OPT_SUBSCRIPTION},
        {"resource-group", required_argument, NULL, 'g'},
        {"account", required_argument, NULL, 'n'},
        {"cloud", required_argument, NULL, OPT_CLOUD},
        {"arm-endpoint", required_argument, NULL, OPT_ARM},
        {"ca-file", required_argument, NULL, OPT_CA},
        {"state-dir", required_argument, NULL, OPT_STATE},
        {"output", required_argument, NULL, 'o'},
        {"key", required_argument, NULL, OPT_KEY},
        {"key-name", required_argument, NULL, OPT_KEY},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"deadline", required_argument, NULL, OPT_DEADLINE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"batch-endpoint", required_argument, NULL, OPT_BATCH},
        {"max-age", required_argument, NULL, OPT_MAX_AGE},
        {"force", no_argument, NULL, OPT_FORCE},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"retire", no_argument, NULL, OPT_RETIRE},
        {"deploy-hook", required_argument, NULL, OPT_HOOK},
        {"active", no_argument, NULL, OPT_ACTIVE},
        {"auth", required_argument, NULL, OPT_AUTH},
        {"assertion-alg", required_argument, NULL, OPT_ASSERTION_ALG},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    /* GNU getopt permutes argv, so options may come before or after the command. */
    while ((c = getopt_long(argc, argv, ":vhg:n:o:", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_SUBSCRIPTION:
            o->subscription = optarg;
            break;
        case 'g':
            o->resource_group = optarg;
            break;
        case 'n':
            o->account = optarg;
            break;
        case OPT_CLOUD:
            o->cloud_name = optarg;
            break;
        case OPT_ARM:
            o->arm_endpoint = optarg;
            break;
        case OPT_CA:
            o->ca_file = optarg;
            break;
        case OPT_STATE:
            o->state_dir = optarg;
            break;
        case 'o':
            o->output = optarg;
            break;
        case OPT_KEY:
            o->key = optarg;
            break;
        case OPT_TIMEOUT:
            o->timeout = optarg;
            break;
        case OPT_DEADLINE:
            o->deadline = optarg;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            o->help = true;
            break;
        case OPT_BATCH:
            o->batch_endpoint = optarg;
            break;
        case OPT_MAX_AGE:
            o->max_age = optarg;
            break;
        case OPT_FORCE:
            o->force = true;
            break;
        case OPT_DRY_RUN:
            o->dry_run = true;
            break;
        case OPT_RETIRE:
            o->retire = true;
            break;
        case OPT_HOOK:
            o->deploy_hook = optarg;
            break;
        case OPT_ACTIVE:
            o->active = true;
            break;
        case OPT_AUTH:
            o->auth = optarg;
            break;
        case OPT_ASSERTION_ALG:
            o->assertion_alg = optarg;
            break;
        case OPT_VERSION:
            printf("batchkey %s (%s)\n", BK_VERSION, board->version);
            return -1;
        case ':':
            return usage_error("missing value for", argv[optind - 1]);
        default:
            return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        o->command = argv[optind++];
    }
    if (optind < argc) {
        return usage_error("unexpected argument", argv[optind]);
    }
    if (o->command == NULL && !o->help) {
        return usage_error("no command given", NULL);
    }
    return 0;
}

typedef struct time_limits {
    uint32_t timeout_ms;  /* one connect or one wait for the network */
    uint32_t deadline_ms; /* the whole command */
} time_limits;

/* Whole seconds from 1 to max; *ms is left as it is when text is NULL. */
static bool seconds_ok(const char *text, long max, uint32_t *ms) {
    if (text == NULL) {
        return true;
    }
    char *end = NULL;
    long seconds = strtol(text, &end, 10);
    if (end == text || *end != '\0' || seconds < 1 || seconds > max) {
        return false;
    }
    *ms = (uint32_t)seconds * 1000u;
    return true;
}

static int resolve_account(options *o, bool required);
#if BK_CLI_STATE
static int resolve_state_dir(options *o);
#endif

#if BK_CLI_MANAGED_IDENTITY
/* A managed identity: App Service (IDENTITY_ENDPOINT and IDENTITY_HEADER), Azure Arc
 * (IDENTITY_ENDPOINT and IMDS_ENDPOINT), else IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST or
 * 169.254.169.254); AZURE_CLIENT_ID names a user-assigned identity. */
static int resolve_managed_identity(options *o, const char *identity_endpoint,
                                    const char *imds_host) {
    const char *header = option_or_env(NULL, "IDENTITY_HEADER");
    const char *arc = option_or_env(NULL, "IMDS_ENDPOINT");
    bk_mi_kind kind = identity_endpoint == NULL ? BK_MI_IMDS
                      : header != NULL          ? BK_MI_APP_SERVICE
                      : arc != NULL             ? BK_MI_ARC
                                                : BK_MI_IMDS;
    if (identity_endpoint != NULL && kind == BK_MI_IMDS) {
        return usage_error("IDENTITY_ENDPOINT is set without IDENTITY_HEADER (App Service) or "
                           "IMDS_ENDPOINT (Azure Arc)",
                           NULL);
    }
    const char *url = kind != BK_MI_IMDS  ? identity_endpoint
                      : imds_host != NULL ? imds_host
                                          : "http://169.254.169.254";
    if (o->client_id != NULL && !bk_guid_ok(o->client_id)) {
        return usage_error("AZURE_CLIENT_ID is not a GUID", o->client_id);
    }
    bk_result r = bk_managed_identity_init(&managed_identity, kind, url, o->client_id);
    if (r != BK_OK) {
        return usage_error("the managed identity endpoint is not http(s)://host[:port][/path]",
                           url);
    }
    if (kind == BK_MI_APP_SERVICE) {
        if (!bk_header_value_ok(header, strlen(header))) {
            return usage_error("IDENTITY_HEADER holds a control character", NULL);
        }
        managed_identity.identity_header = header;
    }
    if (kind == BK_MI_ARC) {
        if (board->read_arc_secret == NULL) {
            return usage_error("this board cannot answer Azure Arc's challenge", NULL);
        }
        const char *dir = option_or_env(NULL, "BATCHKEY_ARC_TOKEN_DIR");
        managed_identity.arc_token_dir = dir != NULL ? dir : BK_ARC_TOKEN_DIR;
        managed_identity.read_arc_secret = board->read_arc_secret;
    }
    o->client_secret = NULL;
    return 0;
}
#endif

/* A person's sign-in (login, --auth device-code): AZURE_TENANT_ID and AZURE_CLIENT_ID, a
 * public client application; its refresh token lives in the state directory. */
static int resolve_user(options *o) {
#if BK_CLI_STATE
    const char *missing = o->tenant == NULL      ? "AZURE_TENANT_ID is not set"
                          : o->client_id == NULL ? "AZURE_CLIENT_ID is not set"
                                                 : NULL;
    if (missing != NULL) {
        return usage_error(missing, "a device code sign-in names its tenant and its public "
                                    "client application");
    }
    if (bk_validate_tenant_id(o->tenant) != BK_OK) {
        return usage_error("AZURE_TENANT_ID is not a GUID or domain name", o->tenant);
    }
    if (!bk_guid_ok(o->client_id)) {
        return usage_error("AZURE_CLIENT_ID is not a GUID", o->client_id);
    }
    o->client_secret = NULL;
    return resolve_state_dir(o);
#else
    (void)o;
    return usage_error("this board keeps no sign-in", NULL);
#endif
}

/* The credential: --auth [BATCHKEY_AUTH] names one; auto takes the first whose variables are
 * set, in DefaultAzureCredential's order (client secret, certificate, workload identity). */
static int resolve_credential(options *o) {
    o->tenant = option_or_env(NULL, "AZURE_TENANT_ID");
    o->client_id = option_or_env(NULL, "AZURE_CLIENT_ID");
    o->client_secret = option_or_env(NULL, "AZURE_CLIENT_SECRET");
    o->certificate = option_or_env(NULL, "AZURE_CLIENT_CERTIFICATE_PATH");
    o->token_file = option_or_env(NULL, "AZURE_FEDERATED_TOKEN_FILE");
    const char *identity_endpoint = option_or_env(NULL, "IDENTITY_ENDPOINT");
    const char *imds_host = option_or_env(NULL, "AZURE_POD_IDENTITY_AUTHORITY_HOST");
    const char *auth = option_or_env(o->auth, "BATCHKEY_AUTH");
    static const char *const kinds[] = {"secret",           "certificate", "workload",
                                        "managed-identity", "device-code", "auto"};
    size_t k = 0;
    while (auth != NULL && k < 6 && !bk_ascii_ieq(auth, strlen(auth), kinds[k])) {
        k++;
    }
    if (k == 6) {
        return usage_error("--auth must be secret, certificate, workload, managed-identity, "
                           "device-code or auto, not",
                           auth);
    }
    if (k == 4) {
        o->credential = CREDENTIAL_DEVICE_CODE;
        return resolve_user(o);
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
    o->credential = (credential_kind)k;
    if (k == 3) {
#if BK_CLI_MANAGED_IDENTITY
        return resolve_managed_identity(o, identity_endpoint, imds_host);
#else
        return usage_error("this board has no managed identity credential", NULL);
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
        return usage_error(missing, needs[k]);
    }
    if (bk_validate_tenant_id(o->tenant) != BK_OK) {
        return usage_error("AZURE_TENANT_ID is not a GUID or domain name", o->tenant);
    }
    if (!bk_guid_ok(o->client_id)) {
        return usage_error("AZURE_CLIENT_ID is not a GUID", o->client_id);
    }
    if (k == 0 && !bk_header_value_ok(o->client_secret, strlen(o->client_secret))) {
        return usage_error("AZURE_CLIENT_SECRET holds a control character", NULL);
    }
    if (k == 0) {
        return 0;
    }
    if (k == 2) {
        o->client_secret = NULL;
        return board->readable(o->token_file)
                   ? 0
                   : usage_error("cannot read AZURE_FEDERATED_TOKEN_FILE", o->token_file);
    }
    o->client_secret = NULL;
#if BK_CLI_ASSERTIONS
    if (k == 2) {
        return board->readable(o->token_file)
                   ? 0
                   : usage_error("cannot read AZURE_FEDERATED_TOKEN_FILE", o->token_file);
    }
    if (board->certificate_start == NULL) {
        return usage_error("this board has no certificate credential", NULL);
    }
    o->assertion_alg = option_or_env(o->assertion_alg, "BATCHKEY_ASSERTION_ALG");
    const char *alg = o->assertion_alg;
    if (alg != NULL && !bk_ascii_ieq(alg, strlen(alg), "PS256") &&
        !bk_ascii_ieq(alg, strlen(alg), "RS256")) {
        return usage_error("--assertion-alg must be PS256 or RS256, not", alg);
    }
    return 0;
#else
    return usage_error("this board has no certificate or workload identity credential", NULL);
#endif
}

#if BK_CLI_ASSERTIONS
/* The certificate credential's key, loaded only once every input passed its checks, and freed
 * by bk_cli_run whatever happens next. */
static int start_certificate(const options *o) {
    const char *chain = option_or_env(NULL, "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN");
    bool send_chain =
        chain != NULL && (strcmp(chain, "1") == 0 || bk_ascii_ieq(chain, strlen(chain), "true"));
    bk_result r = board->certificate_start(
        o->certificate, option_or_env(NULL, "AZURE_CLIENT_CERTIFICATE_PASSWORD"), &certificate);
    if (r != BK_OK) {
        char detail[1024] = "";
        bk_writer w;
        bk_writer_init(&w, detail, sizeof detail - 1);
        bk_write_str(&w, o->certificate);
        bk_write_str(&w, ": ");
        bk_write_str(&w, bk_strerror(r));
        detail[w.len] = '\0';
        return usage_error("cannot use AZURE_CLIENT_CERTIFICATE_PATH", detail);
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
    bk_result r = board->read_file(ctx, buf, cap, len);
    while (r == BK_OK && *len > 0 &&
           (buf[*len - 1] == '\n' || buf[*len - 1] == '\r' || buf[*len - 1] == ' ')) {
        buf[--*len] = '\0';
    }
    return r == BK_OK && *len == 0 ? BK_ERR_INVALID_SECRET : r;
}
#endif

#if BK_CLI_STATE

/* rotate's own settings. */
static int resolve_rotate(options *o) {
    o->max_age = option_or_env(o->max_age, "BATCHKEY_MAX_AGE");
    if (o->max_age != NULL) {
        char *end = NULL;
        long days = strtol(o->max_age, &end, 10);
        if (end == o->max_age || *end != '\0' || days < 0 || days > 3650) {
            return usage_error("--max-age must be 0 to 3650 days, not", o->max_age);
        }
        rotation.max_age_s = (uint32_t)days * 86400u;
    }
    o->deploy_hook = option_or_env(o->deploy_hook, "BATCHKEY_DEPLOY_HOOK");
    if (o->deploy_hook != NULL && board->run_hook == NULL) {
        return usage_error("--deploy-hook: this board cannot run commands", NULL);
    }
    const char *version = option_or_env(NULL, "BATCHKEY_BATCH_API_VERSION");
    if (version != NULL && !bk_dataplane_api_version_ok(version)) {
        return usage_error("BATCHKEY_BATCH_API_VERSION is not YYYY-MM-DD.N.N", version);
    }
    rotation.batch_api_version = version != NULL ? version : BK_BATCH_API_VERSION;
    o->batch_endpoint = option_or_env(o->batch_endpoint, "BATCHKEY_BATCH_ENDPOINT");
    if (o->batch_endpoint != NULL && bk_endpoint_parse(&client.batch, o->batch_endpoint) != BK_OK) {
        return usage_error("the Batch endpoint is not https://host[:port]", o->batch_endpoint);
    }
    rotation.force = o->force;
    rotation.dry_run = o->dry_run;
    rotation.retire = o->retire;
    rotation.first_active = o->key_name;
    return 0;
}

/* The state directory: --state-dir, BATCHKEY_STATE_DIR, systemd's STATE_DIRECTORY (the first
 * of its list), else the board's default. */
static int resolve_state_dir(options *o) {
    static char from_systemd[sizeof key_file - 16];
    o->state_dir = option_or_env(o->state_dir, "BATCHKEY_STATE_DIR");
    const char *systemd = option_or_env(NULL, "STATE_DIRECTORY");
    if (o->state_dir == NULL && systemd != NULL) {
        size_t len = strcspn(systemd, ":");
        if (len < sizeof from_systemd) {
            memcpy(from_systemd, systemd, len);
            from_systemd[len] = '\0';
            o->state_dir = from_systemd;
        }
    }
    if (o->state_dir == NULL) {
        o->state_dir = board->default_state_dir;
    }
    if (board->store_open == NULL || o->state_dir == NULL) {
        return usage_error("this board keeps no rotation state", NULL);
    }
    if (o->state_dir[0] == '\0' || strlen(o->state_dir) + 16 > sizeof key_file) {
        return usage_error("--state-dir is empty or too long", NULL);
    }
    snprintf(key_file, sizeof key_file, "%s/" BK_ACTIVE_KEY_RECORD, o->state_dir);
    return 0;
}
#endif

/* Resolves and checks every input; nothing is sent before this passes. */
static int resolve(options *o, command *cmd, bk_cli_format *format, const cloud **cl,
                   time_limits *times) {
    size_t i = 0;
    while (o->command != NULL && i < CMD_COUNT && strcmp(o->command, commands[i].name) != 0) {
        i++;
    }
    if (o->help) {
        if (o->command == NULL) {
            usage(stdout);
        } else if (i < CMD_COUNT) {
            command_usage((command)i, stdout);
        } else {
            return usage_error("unknown command", o->command);
        }
        return -1;
    }
    if (i == CMD_COUNT) {
        return usage_error("unknown command", o->command);
    }
    *cmd = (command)i;
    if (*cmd == CMD_REGENERATE && o->key == NULL) {
        return usage_error("regenerate needs --key-name primary|secondary", NULL);
    }
    if (*cmd != CMD_REGENERATE && *cmd != CMD_KEYS && *cmd != CMD_ROTATE && o->key != NULL) {
        return usage_error("--key-name goes with keys, regenerate and rotate only", NULL);
    }
    bool rotate_options =
        o->force || o->dry_run || o->retire || o->max_age || o->deploy_hook || o->batch_endpoint;
    if (*cmd != CMD_ROTATE && rotate_options) {
        return usage_error("--max-age, --force, --dry-run, --retire, --deploy-hook and "
                           "--batch-endpoint go with rotate only",
                           NULL);
    }
    if (o->active && (*cmd != CMD_KEYS || o->key != NULL)) {
        return usage_error("--active goes with keys alone (it prints the rotation's active key)",
                           NULL);
    }
    o->key_name = BK_KEY_PRIMARY;
    if (o->key != NULL && bk_key_name_parse(o->key, &o->key_name) != BK_OK) {
        return usage_error("--key-name must be primary or secondary, not", o->key);
    }
    static const char *const formats[] = {"json", "tsv", "env", "none"};
    const char *output = o->output ? o->output : "json";
    size_t f = 0;
    while (f < 4 && !bk_ascii_ieq(output, strlen(output), formats[f])) {
        f++;
    }
    if (f == 4) {
        return usage_error("--output must be json, tsv, env or none, not", output);
    }
    *format = (bk_cli_format)f;
#if BK_CLI_STATE
    if (*cmd == CMD_ROTATE || *cmd == CMD_STATUS || o->active) {
        int rc = resolve_state_dir(o);
        if (rc != 0) {
            return rc;
        }
    }
    if (*cmd == CMD_STATUS || o->active) {
        return resolve_account(o, false); /* the state alone: no network setting matters */
    }
#else
    if (*cmd == CMD_ROTATE || *cmd == CMD_STATUS || *cmd == CMD_LOGIN || o->active) {
        return usage_error("this board keeps no rotation state or sign-in", NULL);
    }
#endif
    const char *cloud_name = o->cloud_name ? o->cloud_name : "AzureCloud";
    *cl = NULL;
    for (size_t c = 0; c < sizeof clouds / sizeof clouds[0]; c++) {
        if (bk_ascii_ieq(cloud_name, strlen(cloud_name), clouds[c].name)) {
            *cl = &clouds[c];
        }
    }
    if (*cl == NULL) {
        return usage_error("unknown --cloud", cloud_name);
    }
    o->timeout = option_or_env(o->timeout, "BATCHKEY_TIMEOUT");
    if (!seconds_ok(o->timeout, 3600, &times->timeout_ms)) {
        return usage_error("--timeout must be 1 to 3600 seconds, not", o->timeout);
    }
    o->deadline = option_or_env(o->deadline, "BATCHKEY_DEADLINE");
    if (!seconds_ok(o->deadline, 86400, &times->deadline_ms)) {
        return usage_error("--deadline must be 1 to 86400 seconds, not", o->deadline);
    }
    o->arm_endpoint = option_or_env(o->arm_endpoint, "BATCHKEY_ARM_ENDPOINT");
    o->authority_host = option_or_env(NULL, "AZURE_AUTHORITY_HOST");
    if (bk_endpoint_parse(&client.arm, o->arm_endpoint ? o->arm_endpoint : (*cl)->arm) != BK_OK) {
        return usage_error("the ARM endpoint is not https://host[:port]", o->arm_endpoint);
    }
    if (bk_endpoint_parse(&client.authority,
                          o->authority_host ? o->authority_host : (*cl)->authority) != BK_OK) {
        return usage_error("AZURE_AUTHORITY_HOST is not https://host[:port]", o->authority_host);
    }
    /* A token is for the cloud's ARM: it goes to another one only when the user names a whole
     * cloud of their own (Azure Stack, a test), its Entra ID too. */
    bk_endpoint cloud_arm;
    if (o->arm_endpoint != NULL && o->authority_host == NULL &&
        bk_endpoint_parse(&cloud_arm, (*cl)->arm) == BK_OK &&
        (cloud_arm.port != client.arm.port ||
         !bk_ascii_ieq(client.arm.host, strlen(client.arm.host), cloud_arm.host))) {
        return usage_error("BATCHKEY_ARM_ENDPOINT is not the cloud's ARM, and a token for the "
                           "cloud's ARM would go there; name the cloud's Entra ID too "
                           "(AZURE_AUTHORITY_HOST), or choose --cloud",
                           o->arm_endpoint);
    }
    o->ca_file = option_or_env(o->ca_file, "BATCHKEY_CA_FILE");
    if (o->ca_file != NULL && !board->readable(o->ca_file)) {
        return usage_error("cannot read the CA file (--ca-file or BATCHKEY_CA_FILE: a PEM bundle)",
                           o->ca_file);
    }
#if BK_CLI_STATE
    if (*cmd == CMD_ROTATE) {
        int rc = resolve_rotate(o);
        if (rc != 0) {
            return rc;
        }
    }
#endif

    if (*cmd == CMD_LOGIN) {
        o->tenant = option_or_env(NULL, "AZURE_TENANT_ID");
        o->client_id = option_or_env(NULL, "AZURE_CLIENT_ID");
        o->credential = CREDENTIAL_DEVICE_CODE;
        return resolve_user(o);
    }
    int rc = resolve_credential(o);
    if (rc != 0) {
        return rc;
    }
    if (*cmd == CMD_TOKEN) {
        return 0;
    }
    return resolve_account(o, true);
}

/* The account: required for the commands that call ARM; for status and keys --active, checked
 * against the state when all three are given. */
static int resolve_account(options *o, bool required) {
    o->subscription = option_or_env(o->subscription, "AZURE_SUBSCRIPTION_ID");
    o->resource_group = option_or_env(o->resource_group, "BATCHKEY_RESOURCE_GROUP");
    o->account = option_or_env(o->account, "BATCHKEY_ACCOUNT");
    if (!required && (o->subscription == NULL || o->resource_group == NULL || o->account == NULL)) {
        o->subscription = o->resource_group = o->account = NULL;
        return 0;
    }
    if (o->subscription == NULL) {
        return usage_error("no subscription: give --subscription or AZURE_SUBSCRIPTION_ID", NULL);
    }
    if (o->resource_group == NULL) {
        return usage_error("no resource group: give -g/--resource-group or BATCHKEY_RESOURCE_GROUP",
                           NULL);
    }
    if (o->account == NULL) {
        return usage_error("no account: give -n/--account or BATCHKEY_ACCOUNT", NULL);
    }
    if (bk_validate_subscription_id(o->subscription) != BK_OK) {
        return usage_error("the subscription ID is not a GUID", o->subscription);
    }
    if (bk_validate_resource_group(o->resource_group) != BK_OK) {
        return usage_error("invalid resource group name (1-90 letters, digits, - . _ ( ), not "
                           "ending in '.')",
                           o->resource_group);
    }
    if (bk_validate_account_name(o->account) != BK_OK) {
        return usage_error("invalid account name (3-24 letters and digits)", o->account);
    }
    return 0;
}

static int run(const options *o, command cmd, bk_cli_format format) {
    bk_result r;
    if (cmd == CMD_TOKEN) {
        r = bk_client_token(&client, NULL);
        if (r == BK_OK) {
            bk_cli_print_token(&client.token, client.credential.name, format);
        } else {
            report_failure("token", r);
        }
        return exit_code_for(r);
    }
    /* show, and env output of keys, need the account's endpoint: read it first, so that a
     * failure there comes before anything is regenerated. */
    static bk_batch_account account;
    if (cmd == CMD_SHOW || format == BK_CLI_ENV) {
        r = bk_client_get_account(&client, &account);
        if (r != BK_OK) {
            report_failure(commands[cmd].name, r);
            return exit_code_for(r);
        }
        if (cmd == CMD_SHOW) {
            bk_cli_print_account(&account, format);
            return EXIT_OK;
        }
    }
    static bk_account_keys keys;
    if (cmd == CMD_KEYS) {
        r = bk_client_list_keys(&client, &keys);
    } else {
        r = bk_client_regenerate_key(&client, o->key_name, &keys);
    }
    if (r == BK_OK || (r == BK_ERR_OUTCOME_UNKNOWN && client.reconcile_result == BK_OK)) {
        bk_cli_print_keys(&keys, o->key_name, account.account_endpoint, format);
    }
    if (r != BK_OK) {
        report_failure(commands[cmd].name, r);
    }
    bk_wipe(&keys, sizeof keys);
    return exit_code_for(r);
}

#if BK_CLI_STATE
/* One line about a state that cannot be used, a store that failed, or a step that did not
 * complete: what happened, where, and what to do. */
static void report_rotation_failure(const char *what, bk_result r, const options *o) {
    char where[300] = "";
    if (board->store_describe != NULL) {
        board->store_describe(where, sizeof where);
    }
    const char *dir = o->state_dir;
    switch (r) {
    case BK_ERR_STATE_CORRUPT:
    case BK_ERR_STATE_VERSION:
        fprintf(stderr,
                "batchkey: %s failed: %s: %s/" BK_ROTATION_RECORD "; nothing was sent and it "
                "was left as it is. Move it aside (it holds keys: keep it private) and run "
                "rotate again: it adopts the service's keys, keeping the one in active.key "
                "active\n",
                what, bk_strerror(r), dir);
        return;
    case BK_ERR_STATE_FOREIGN:
        fprintf(stderr,
                "batchkey: %s failed: %s/" BK_ROTATION_RECORD " belongs to account %s "
                "(subscription %s, resource group %s), not %s; nothing was sent. Give that "
                "account, or another --state-dir for this one\n",
                what, dir, rotation.state.account_name, rotation.state.subscription_id,
                rotation.state.resource_group, o->account != NULL ? o->account : "this one");
        return;
    case BK_ERR_STORE_NOT_FOUND:
        fprintf(stderr,
                "batchkey: %s failed: no rotation state in %s yet; run batchkey rotate "
                "(without --dry-run) once: it adopts the service's keys\n",
                what, dir);
        return;
    case BK_ERR_STORE_IO:
    case BK_ERR_STORE_FULL:
    case BK_ERR_STORE_TOO_LARGE:
        fprintf(stderr, "batchkey: %s failed: %s", what, bk_strerror(r));
        if (where[0] != '\0') {
            fputs(" (", stderr);
            bk_cli_print_one_line(stderr, where, false);
            fputc(')', stderr);
        }
        fprintf(stderr, "%s. Check %s: its owner, mode and free space\n",
                strcmp(what, "rotate") == 0 ? "; the previous state and key file are as they were"
                                            : "",
                dir);
        return;
    case BK_ERR_KEY_REJECTED:
        fprintf(stderr, "batchkey: %s failed: the Batch data plane did not accept the %s (HTTP %d",
                what, rotation.dry_run ? "active key" : "new key within the deadline",
                client.call.status);
        if (client.cloud_error.code[0] != '\0') {
            fputc(' ', stderr);
            bk_cli_print_one_line(stderr, client.cloud_error.code, false);
        }
        if (client.call.request_id[0] != '\0') {
            fputs(", request-id: ", stderr);
            bk_cli_print_one_line(stderr, client.call.request_id, false);
        }
        fputs(rotation.dry_run ? "); was it changed outside batchkey? rotate --force "
                                 "reconciles with the service's keys\n"
                               : "); the device keeps its active key, and the next run proves "
                                 "the new one again\n",
              stderr);
        return;
    case BK_ERR_ROTATION_INCOMPLETE:
        fprintf(stderr,
                "batchkey: %s incomplete: regenerateKeys did not act (reconciled with "
                "listKeys); the active key is unchanged and the next run tries again\n",
                what);
        return;
    case BK_ERR_SHARED_KEY_DISABLED:
        fprintf(stderr,
                "batchkey: %s failed: account %s does not allow SharedKey authentication "
                "(allowedAuthenticationModes); nothing was regenerated\n",
                what, o->account);
        return;
    default:
        break;
    }
    if (r == BK_ERR_OUTCOME_UNKNOWN) {
        report_failure(what, r);
        fputs("batchkey: the rotation state keeps the step; the next run reconciles it with "
              "listKeys\n",
              stderr);
        return;
    }
    report_failure(what, r);
}

/* status and keys --active: the state alone, no credential, nothing sent. */
static int run_offline(const options *o, command cmd, bk_cli_format format) {
    bk_result r = board->store_open(o->state_dir, false, &store);
    bk_account_ref account = {o->subscription, o->resource_group, o->account};
    if (r == BK_OK) {
        r = bk_rotation_load(store, o->account != NULL ? &account : NULL, rotation.record,
                             sizeof rotation.record, &rotation.state);
    }
    if (r != BK_OK) {
        report_rotation_failure(cmd == CMD_STATUS ? "status" : "keys --active", r, o);
        bk_rotation_wipe(&rotation);
        return exit_code_for(r);
    }
    if (cmd == CMD_STATUS) {
        bk_cli_print_status(&rotation.state, bk_wall_clock_s(), format);
    } else {
        bk_cli_print_active_key(&rotation.state, format);
    }
    bk_rotation_wipe(&rotation);
    return EXIT_OK;
}

/* The device code flow's message, for the person at the terminal. */
static void show_device_code(void *ctx, const char *message) {
    (void)ctx;
    fputs("batchkey: ", stderr);
    bk_cli_print_one_line(stderr, message, false);
    fputc('\n', stderr);
    fflush(stderr);
}

/* A person's sign-in: the state directory's store (already open for rotate), and for a
 * command other than login, the refresh token kept there. */
static int start_sign_in(const options *o, command cmd, const cloud *cl) {
    static char user_scope[160];
    size_t base = strlen(cl->scope) - strlen("/.default");
    snprintf(user_scope, sizeof user_scope, "%.*s/user_impersonation", (int)base, cl->scope);
    bk_result r =
        cmd == CMD_ROTATE ? BK_OK : board->store_open(o->state_dir, cmd == CMD_LOGIN, &store);
    bk_user_sign_in_init(&sign_in, &client.authority, o->tenant, o->client_id, user_scope, store);
    sign_in.prompt = show_device_code;
    if (r == BK_OK && cmd != CMD_LOGIN) {
        r = bk_user_sign_in_load(&sign_in);
    }
    if (r == BK_ERR_STORE_NOT_FOUND) {
        fprintf(stderr,
                "batchkey: no sign-in in %s for this tenant and client: run batchkey login "
                "first\n",
                o->state_dir);
        return EXIT_AUTH;
    }
    if (r == BK_ERR_STATE_FOREIGN) {
        fprintf(stderr,
                "batchkey: the sign-in in %s/" BK_REFRESH_TOKEN_RECORD " is of another tenant "
                "or client; run batchkey login for this one, or use another --state-dir\n",
                o->state_dir);
        return EXIT_AUTH;
    }
    if (r != BK_OK) {
        report_rotation_failure(cmd == CMD_LOGIN ? "login" : "sign-in", r, o);
        return exit_code_for(r);
    }
    return 0;
}

static int run_login(const options *o, bk_cli_format format) {
    bk_result r = bk_client_token(&client, NULL);
    if (r != BK_OK) {
        report_failure("login", r);
        return exit_code_for(r);
    }
    bk_cli_print_token(&client.token, client.credential.name, format);
    fprintf(stderr,
            "batchkey: signed in; the refresh token is kept in %s/" BK_REFRESH_TOKEN_RECORD
            " for --auth device-code\n",
            o->state_dir);
    return EXIT_OK;
}

#ifdef BK_CLI_CRASH_POINTS
/* Tests only (the build's crash-test binary): BATCHKEY_CRASH_AT names the point where the
 * process kills itself, as a power cut would stop it. */
static void crash_point(void *ctx, bk_rotation_point point) {
    static const char *const names[BK_AT_COUNT] = {"before-regenerate", "after-regenerate",
                                                   "pending-saved",     "proving",
                                                   "switched",          "published"};
    const char *at = ctx;
    if (at != NULL && strcmp(at, names[point]) == 0) {
        fflush(stdout);
        raise(SIGKILL);
    }
}
#endif

static int run_rotate(const options *o, bk_cli_format format) {
    rotation.store = store;
    rotation.batch_given = o->batch_endpoint != NULL;
#ifdef BK_CLI_CRASH_POINTS
    rotation.checkpoint = crash_point;
    rotation.checkpoint_ctx = (void *)option_or_env(NULL, "BATCHKEY_CRASH_AT");
#endif
    bk_result r = bk_rotate_run(&rotation);
    int hook_status = 0;
    if (r == BK_OK && rotation.report.published && o->deploy_hook != NULL) {
        hook_status = board->run_hook(o->deploy_hook, o->account,
                                      bk_key_name_text(rotation.state.active), key_file);
        if (hook_status != 0) {
            rotation.retire = false; /* the device's software may still hold the old key */
        }
    }
    if (r == BK_OK) {
        r = bk_rotate_finish(&rotation);
    }
    if (r == BK_OK || rotation.report.action != BK_ROTATION_NONE) {
        bk_cli_print_rotation(&rotation, key_file, format);
    }
    if (r != BK_OK) {
        report_rotation_failure("rotate", r, o);
    }
    bk_rotation_wipe(&rotation);
    if (r != BK_OK) {
        return exit_code_for(r);
    }
    if (rotation.report.changed_outside) {
        fputs("batchkey: warning: the keys were changed outside batchkey (another rotator on "
              "this account?); the service's keys were adopted\n",
              stderr);
    }
    if (hook_status != 0) {
        fprintf(stderr,
                "batchkey: rotate: the deploy hook %s (status %d); the rotation itself is done "
                "and %s holds the new key\n",
                hook_status < 0 ? "could not be started" : "failed", hook_status, key_file);
        return EXIT_ROTATION;
    }
    return EXIT_OK;
}
#endif

/* The client's credential, as resolve chose it. */
static void set_credential(const options *o, command cmd) {
    static bk_entra_app app;
    app = (bk_entra_app){.authority = &client.authority,
                         .tenant_id = o->tenant,
                         .client_id = o->client_id,
                         .client_secret = o->client_secret};
#if BK_CLI_ASSERTIONS
    app.assertion_buf = assertion;
    app.assertion_cap = sizeof assertion;
    if (o->credential == CREDENTIAL_CERTIFICATE) {
        app.assertion = bk_certificate_assertion;
        app.assertion_ctx = &certificate;
        app.name = "certificate";
    } else if (o->credential == CREDENTIAL_WORKLOAD) {
        app.assertion = federated_token;
        app.assertion_ctx = (void *)o->token_file;
        app.name = "workload identity";
    }
#endif
    client.credential = bk_entra_credential(&app);
#if BK_CLI_MANAGED_IDENTITY
    if (o->credential == CREDENTIAL_MANAGED_IDENTITY) {
        client.credential = bk_managed_identity_credential(&managed_identity);
    }
#endif
#if BK_CLI_STATE
    if (o->credential == CREDENTIAL_DEVICE_CODE) {
        client.credential = cmd == CMD_LOGIN ? bk_device_code_credential(&sign_in)
                                             : bk_refresh_token_credential(&sign_in);
    }
#else
    (void)cmd;
#endif
}

/* Frees the certificate's key, and wipes the secret in the board's environment block. */
static void stop_credential(const options *o) {
#if BK_CLI_ASSERTIONS
    if (o->credential == CREDENTIAL_CERTIFICATE) {
        board->certificate_stop();
    }
#endif
    if (o->client_secret != NULL) {
        bk_wipe((char *)o->client_secret, strlen(o->client_secret));
    }
}

int bk_cli_run(int argc, char **argv, const bk_cli_board *the_board) {
    board = the_board;
    options o;
    memset(&o, 0, sizeof o);
    int rc = parse_options(argc, argv, &o);
    if (rc != 0) {
        return rc < 0 ? EXIT_OK : rc;
    }
    command cmd = CMD_SHOW;
    bk_cli_format format = BK_CLI_JSON;
    const cloud *cl = &clouds[0];
    time_limits limits = {20000, 60000};
    bk_connector placeholder = {NULL, NULL, NULL, NULL};
    bk_client_init(&client, placeholder);
#if BK_CLI_STATE
    bk_rotation_init(&rotation, &client, store);
#endif
    rc = resolve(&o, &cmd, &format, &cl, &limits);
    if (rc != 0) {
        return rc < 0 ? EXIT_OK : rc; /* -1: help was asked for and printed */
    }
    bk_log_set_level(o.verbose ? BK_LOG_DEBUG : BK_LOG_ERROR);
#if BK_CLI_STATE
    if (cmd == CMD_STATUS || o.active) {
        rc = run_offline(&o, cmd, format);
        fflush(stdout);
        return rc;
    }
    if (cmd == CMD_ROTATE) {
        /* The state first: a directory that cannot be used stops the run before any request. */
        bk_result opened = board->store_open(o.state_dir, true, &store);
        if (opened != BK_OK) {
            report_rotation_failure("rotate", opened, &o);
            return exit_code_for(opened);
        }
        if (o.deadline == NULL) {
            limits.deadline_ms = 600000; /* room for a new key to propagate */
        }
    }
    if (o.credential == CREDENTIAL_DEVICE_CODE && (rc = start_sign_in(&o, cmd, cl)) != 0) {
        return rc;
    }
    if (cmd == CMD_LOGIN && o.deadline == NULL) {
        limits.deadline_ms = 960000; /* a device code lives 15 minutes */
    }
#endif
#if BK_CLI_ASSERTIONS
    if (o.credential == CREDENTIAL_CERTIFICATE && (rc = start_certificate(&o)) != 0) {
        return rc;
    }
#endif
    bk_connector connector;
    bk_result r = board->tls_start(o.ca_file, limits.timeout_ms, &connector);
    if (r != BK_OK) {
        stop_credential(&o);
        fprintf(stderr, "batchkey: TLS setup failed: %s", bk_strerror(r));
        if (r == BK_ERR_TLS_CA) {
            fprintf(stderr, " from %s; give a PEM bundle with --ca-file%s",
                    o.ca_file != NULL ? o.ca_file : board->default_ca,
                    o.ca_file != NULL ? "" : board->default_ca_hint);
        }
        fputc('\n', stderr);
        board->tls_stop();
        return exit_code_for(r);
    }
    bk_endpoint arm = client.arm;
    bk_endpoint authority = client.authority;
    bk_endpoint batch = client.batch;
    bk_client_init(&client, connector);
    client.batch = batch;
    bk_client_set_deadline(&client, limits.deadline_ms);
    client.arm = arm;
    client.authority = authority;
    client.scope = cl->scope;
    set_credential(&o, cmd);
    client.account.subscription_id = o.subscription;
    client.account.resource_group = o.resource_group;
    client.account.account_name = o.account;

#if BK_CLI_STATE
    rc = cmd == CMD_ROTATE  ? run_rotate(&o, format)
         : cmd == CMD_LOGIN ? run_login(&o, format)
                            : run(&o, cmd, format);
    bk_user_sign_in_wipe(&sign_in);
#else
    rc = run(&o, cmd, format);
#endif

    bk_client_close(&client);
    board->tls_stop();
    stop_credential(&o);
    fflush(stdout);
    return rc;
}
