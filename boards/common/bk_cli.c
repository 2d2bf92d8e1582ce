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
#include "bk_cli_internal.h"
#include "bk_cli_output.h"
#include "bk_client.h"
#include "bk_crypto.h"
#include "bk_entra.h"
#include "bk_platform.h"
#include "bk_rotate.h"
#include "bk_writer.h"

bk_client bk_cli_client;
const bk_cli_board *bk_cli_current_board;

static const bk_cli_cloud clouds[] = {
    {"AzureCloud", "https://management.azure.com", "https://login.microsoftonline.com",
     "https://management.azure.com/.default"},
    {"AzureChinaCloud", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn",
     "https://management.chinacloudapi.cn/.default"},
    {"AzureUSGovernment", "https://management.usgovcloudapi.net",
     "https://login.microsoftonline.us", "https://management.usgovcloudapi.net/.default"},
};

#if BK_CLI_STATE
#define ROTATION_TEXT(text) text
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
} commands[BK_CLI_CMD_COUNT] = {
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

#if BK_CLI_PROXY
#define BK_CLI_PROXY_HELP                                                                          \
    "  --proxy URL              [https_proxy, HTTPS_PROXY] http://[user:password@]host[:port]\n"   \
    "                           (port 1080 by default): TLS goes end to end through its\n"         \
    "                           CONNECT tunnel; \"\" for none. [no_proxy, NO_PROXY] hosts to\n"    \
    "                           reach directly: name suffixes, IPs, a.b.c.d/bits, :port, *\n"
#else
#define BK_CLI_PROXY_HELP ""
#endif

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
    "                           network may take; default 20\n" BK_CLI_PROXY_HELP
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
    for (size_t i = 0; i < BK_CLI_CMD_COUNT; i++) {
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    }
    fputs("\n'batchkey COMMAND --help' tells more of one.\n\n", out);
    fputs(common_options, out);
}

static void command_usage(bk_cli_command cmd, FILE *out) {
    fprintf(out, "usage: %s [options]\n\n%s: %s.\n%s\n\nexample:\n  %s\n\n", commands[cmd].synopsis,
            commands[cmd].name, commands[cmd].summary, commands[cmd].details,
            commands[cmd].example);
    fputs(common_options, out);
}

int bk_cli_usage_error(const char *what, const char *detail) {
    fprintf(stderr, "batchkey: %s", what);
    if (detail != NULL) {
        fputs(": ", stderr);
        bk_cli_print_one_line(stderr, detail, false);
    }
    fputs(" (see batchkey --help)\n", stderr);
    return BK_CLI_EXIT_USAGE;
}

const char *bk_cli_setting(const char *option, const char *env) {
    if (option != NULL) {
        return option;
    }
    const char *value = bk_cli_current_board->getenv(env);
    return (value != NULL && value[0] != '\0') ? value : NULL;
}

int bk_cli_exit_code(bk_result r) {
    switch (r) {
    case BK_OK:
        return BK_CLI_EXIT_OK;
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
    case BK_ERR_INVALID_PROXY:
    case BK_ERR_PROXY_CREDENTIALS_TOO_LONG:
    case BK_ERR_CLIENT_CERT:
    case BK_ERR_CLIENT_CERT_PASSWORD:
    case BK_ERR_CLIENT_CERT_CIPHER:
        return BK_CLI_EXIT_USAGE;
    case BK_ERR_AUTH_REFUSED:
    case BK_ERR_ARM_UNAUTHORIZED:
    case BK_ERR_AUTH_CHALLENGE:
    case BK_ERR_ARC_CHALLENGE:
    case BK_ERR_AUTH_PENDING:
        return BK_CLI_EXIT_AUTH;
    case BK_ERR_ARM_REFUSED:
    case BK_ERR_UNEXPECTED_STATUS:
    case BK_ERR_SHARED_KEY_DISABLED:
        return BK_CLI_EXIT_REFUSED;
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
        return BK_CLI_EXIT_ROTATION;
    case BK_ERR_OUTCOME_UNKNOWN:
        return BK_CLI_EXIT_OUTCOME_UNKNOWN;
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
    case BK_ERR_PROXY_REFUSED:
    case BK_ERR_PROXY_ANSWER:
        return BK_CLI_EXIT_NETWORK;
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
        return BK_CLI_EXIT_MALFORMED;
    case BK_ERR_UNSUPPORTED:
    case BK_ERR_ENTROPY:
    case BK_ERR_CRYPTO:
    case BK_ERR_BASE64:
        break;
    }
    return BK_CLI_EXIT_INTERNAL;
}

/* The one line that says what failed, with what TLS said about a failed connection. */
void bk_cli_report(const char *what, bk_result r) {
    char tls[256] = "";
    char proxy[BK_HOST_MAX + 8] = "";
    bk_cli_connection_detail detail = {tls, NULL, 0};
    bk_cli_current_board->tls_describe(tls, sizeof tls);
    if (bk_cli_current_board->proxy_describe != NULL &&
        bk_cli_current_board->proxy_describe(proxy, sizeof proxy, &detail.proxy_status)) {
        detail.proxy = proxy;
    }
    bk_cli_report_failure(what, r, &bk_cli_client, &detail);
}

static int parse_options(int argc, char **argv, bk_cli_options *o) {
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
        OPT_ASSERTION_ALG,
        OPT_PROXY
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
#if BK_CLI_PROXY
        {"proxy", required_argument, NULL, OPT_PROXY},
#endif
        {NULL, 0, NULL, 0}
    };
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
        case OPT_PROXY:
            o->proxy = optarg;
            break;
        case OPT_VERSION:
            printf("batchkey %s (%s)\n", BK_VERSION, bk_cli_current_board->version);
            return -1;
        case ':':
            return bk_cli_usage_error("missing value for", argv[optind - 1]);
        default:
            return bk_cli_usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc) {
        o->command = argv[optind++];
    }
    if (optind < argc) {
        return bk_cli_usage_error("unexpected argument", argv[optind]);
    }
    if (o->command == NULL && !o->help) {
        return bk_cli_usage_error("no command given", NULL);
    }
    return 0;
}

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

static int resolve_account(bk_cli_options *o, bool required);

#if BK_CLI_PROXY
static bk_proxy cli_proxy;
static const char *cli_no_proxy;
static bool cli_proxy_set;

/* The proxy from --proxy, else https_proxy, else HTTPS_PROXY (curl's order); "" means none. The
 * URL may hold a password: it is never printed, and --proxy's copy is wiped once read. */
static int resolve_proxy(bk_cli_options *o) {
    const char *source = "--proxy";
    const char *url = o->proxy;
    if (url == NULL) {
        source = "https_proxy";
        url = bk_cli_setting(NULL, source);
    }
    if (url == NULL) {
        source = "HTTPS_PROXY";
        url = bk_cli_setting(NULL, source);
    }
    if (url == NULL || url[0] == '\0') {
        return 0;
    }
    if (bk_cli_current_board->proxy_set == NULL) {
        return bk_cli_usage_error("this board has no proxy support; unset", source);
    }
    bk_result r = bk_proxy_parse(&cli_proxy, url);
    if (o->proxy != NULL) {
        bk_wipe(o->proxy, strlen(o->proxy));
    }
    if (r != BK_OK) {
        fprintf(stderr, "batchkey: %s: %s (see batchkey --help)\n", source, bk_strerror(r));
        return BK_CLI_EXIT_USAGE;
    }
    cli_no_proxy = bk_cli_setting(NULL, "no_proxy");
    if (cli_no_proxy == NULL) {
        cli_no_proxy = bk_cli_setting(NULL, "NO_PROXY");
    }
    cli_proxy_set = true;
    return 0;
}
#endif

/* Resolves and checks every input; nothing is sent before this passes. */
static int resolve(bk_cli_options *o, bk_cli_command *cmd, bk_cli_format *format,
                   const bk_cli_cloud **cl, bk_cli_time_limits *times) {
    size_t i = 0;
    while (o->command != NULL && i < BK_CLI_CMD_COUNT &&
           strcmp(o->command, commands[i].name) != 0) {
        i++;
    }
    if (o->help) {
        if (o->command == NULL) {
            usage(stdout);
        } else if (i < BK_CLI_CMD_COUNT) {
            command_usage((bk_cli_command)i, stdout);
        } else {
            return bk_cli_usage_error("unknown command", o->command);
        }
        return -1;
    }
    if (i == BK_CLI_CMD_COUNT) {
        return bk_cli_usage_error("unknown command", o->command);
    }
    *cmd = (bk_cli_command)i;
    if (*cmd == BK_CLI_CMD_REGENERATE && o->key == NULL) {
        return bk_cli_usage_error("regenerate needs --key-name primary|secondary", NULL);
    }
    if (*cmd != BK_CLI_CMD_REGENERATE && *cmd != BK_CLI_CMD_KEYS && *cmd != BK_CLI_CMD_ROTATE &&
        o->key != NULL) {
        return bk_cli_usage_error("--key-name goes with keys, regenerate and rotate only", NULL);
    }
    bool rotate_options =
        o->force || o->dry_run || o->retire || o->max_age || o->deploy_hook || o->batch_endpoint;
    if (*cmd != BK_CLI_CMD_ROTATE && rotate_options) {
        return bk_cli_usage_error("--max-age, --force, --dry-run, --retire, --deploy-hook and "
                                  "--batch-endpoint go with rotate only",
                                  NULL);
    }
    if (o->active && (*cmd != BK_CLI_CMD_KEYS || o->key != NULL)) {
        return bk_cli_usage_error(
            "--active goes with keys alone (it prints the rotation's active key)", NULL);
    }
    o->key_name = BK_KEY_PRIMARY;
    if (o->key != NULL && bk_key_name_parse(o->key, &o->key_name) != BK_OK) {
        return bk_cli_usage_error("--key-name must be primary or secondary, not", o->key);
    }
    static const char *const formats[] = {"json", "tsv", "env", "none"};
    const char *output = o->output ? o->output : "json";
    size_t f = 0;
    while (f < 4 && !bk_ascii_ieq(output, strlen(output), formats[f])) {
        f++;
    }
    if (f == 4) {
        return bk_cli_usage_error("--output must be json, tsv, env or none, not", output);
    }
    *format = (bk_cli_format)f;
#if BK_CLI_STATE
    if (*cmd == BK_CLI_CMD_ROTATE || *cmd == BK_CLI_CMD_STATUS || o->active) {
        int rc = bk_cli_resolve_state_dir(o);
        if (rc != 0) {
            return rc;
        }
    }
    if (*cmd == BK_CLI_CMD_STATUS || o->active) {
        return resolve_account(o, false); /* the state alone: no network setting matters */
    }
#else
    if (*cmd == BK_CLI_CMD_ROTATE || *cmd == BK_CLI_CMD_STATUS || *cmd == BK_CLI_CMD_LOGIN ||
        o->active) {
        return bk_cli_usage_error("this board keeps no rotation state or sign-in", NULL);
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
        return bk_cli_usage_error("unknown --cloud", cloud_name);
    }
    o->timeout = bk_cli_setting(o->timeout, "BATCHKEY_TIMEOUT");
    if (!seconds_ok(o->timeout, 3600, &times->timeout_ms)) {
        return bk_cli_usage_error("--timeout must be 1 to 3600 seconds, not", o->timeout);
    }
    o->deadline = bk_cli_setting(o->deadline, "BATCHKEY_DEADLINE");
    if (!seconds_ok(o->deadline, 86400, &times->deadline_ms)) {
        return bk_cli_usage_error("--deadline must be 1 to 86400 seconds, not", o->deadline);
    }
    o->arm_endpoint = bk_cli_setting(o->arm_endpoint, "BATCHKEY_ARM_ENDPOINT");
    o->authority_host = bk_cli_setting(NULL, "AZURE_AUTHORITY_HOST");
    if (bk_endpoint_parse(&bk_cli_client.arm, o->arm_endpoint ? o->arm_endpoint : (*cl)->arm) !=
        BK_OK) {
        return bk_cli_usage_error("the ARM endpoint is not https://host[:port]", o->arm_endpoint);
    }
    if (bk_endpoint_parse(&bk_cli_client.authority,
                          o->authority_host ? o->authority_host : (*cl)->authority) != BK_OK) {
        return bk_cli_usage_error("AZURE_AUTHORITY_HOST is not https://host[:port]",
                                  o->authority_host);
    }
    /* A token is for the cloud's ARM: it goes to another one only when the user names a whole
     * cloud of their own (Azure Stack, a test), its Entra ID too. */
    bk_endpoint cloud_arm;
    if (o->arm_endpoint != NULL && o->authority_host == NULL &&
        bk_endpoint_parse(&cloud_arm, (*cl)->arm) == BK_OK &&
        (cloud_arm.port != bk_cli_client.arm.port ||
         !bk_ascii_ieq(bk_cli_client.arm.host, strlen(bk_cli_client.arm.host), cloud_arm.host))) {
        return bk_cli_usage_error(
            "BATCHKEY_ARM_ENDPOINT is not the cloud's ARM, and a token for the "
            "cloud's ARM would go there; name the cloud's Entra ID too "
            "(AZURE_AUTHORITY_HOST), or choose --cloud",
            o->arm_endpoint);
    }
    o->ca_file = bk_cli_setting(o->ca_file, "BATCHKEY_CA_FILE");
    if (o->ca_file != NULL && !bk_cli_current_board->readable(o->ca_file)) {
        return bk_cli_usage_error(
            "cannot read the CA file (--ca-file or BATCHKEY_CA_FILE: a PEM bundle)", o->ca_file);
    }
#if BK_CLI_PROXY
    int proxy_rc = resolve_proxy(o);
    if (proxy_rc != 0) {
        return proxy_rc;
    }
#endif
#if BK_CLI_STATE
    if (*cmd == BK_CLI_CMD_ROTATE) {
        int rc = bk_cli_resolve_rotate(o);
        if (rc != 0) {
            return rc;
        }
    }
#endif

    if (*cmd == BK_CLI_CMD_LOGIN) {
        o->tenant = bk_cli_setting(NULL, "AZURE_TENANT_ID");
        o->client_id = bk_cli_setting(NULL, "AZURE_CLIENT_ID");
        o->credential = BK_CLI_CREDENTIAL_DEVICE_CODE;
        return bk_cli_resolve_user(o);
    }
    int rc = bk_cli_resolve_credential(o);
    if (rc != 0) {
        return rc;
    }
    if (*cmd == BK_CLI_CMD_TOKEN) {
        return 0;
    }
    return resolve_account(o, true);
}

/* The account: required for the commands that call ARM; for status and keys --active, checked
 * against the state when all three are given. */
static int resolve_account(bk_cli_options *o, bool required) {
    o->subscription = bk_cli_setting(o->subscription, "AZURE_SUBSCRIPTION_ID");
    o->resource_group = bk_cli_setting(o->resource_group, "BATCHKEY_RESOURCE_GROUP");
    o->account = bk_cli_setting(o->account, "BATCHKEY_ACCOUNT");
    if (!required && (o->subscription == NULL || o->resource_group == NULL || o->account == NULL)) {
        o->subscription = o->resource_group = o->account = NULL;
        return 0;
    }
    if (o->subscription == NULL) {
        return bk_cli_usage_error("no subscription: give --subscription or AZURE_SUBSCRIPTION_ID",
                                  NULL);
    }
    if (o->resource_group == NULL) {
        return bk_cli_usage_error(
            "no resource group: give -g/--resource-group or BATCHKEY_RESOURCE_GROUP", NULL);
    }
    if (o->account == NULL) {
        return bk_cli_usage_error("no account: give -n/--account or BATCHKEY_ACCOUNT", NULL);
    }
    if (bk_validate_subscription_id(o->subscription) != BK_OK) {
        return bk_cli_usage_error("the subscription ID is not a GUID", o->subscription);
    }
    if (bk_validate_resource_group(o->resource_group) != BK_OK) {
        return bk_cli_usage_error(
            "invalid resource group name (1-90 letters, digits, - . _ ( ), not "
            "ending in '.')",
            o->resource_group);
    }
    if (bk_validate_account_name(o->account) != BK_OK) {
        return bk_cli_usage_error("invalid account name (3-24 letters and digits)", o->account);
    }
    return 0;
}

static int run(const bk_cli_options *o, bk_cli_command cmd, bk_cli_format format) {
    bk_result r;
    if (cmd == BK_CLI_CMD_TOKEN) {
        r = bk_client_token(&bk_cli_client, NULL);
        if (r == BK_OK) {
            bk_cli_print_token(&bk_cli_client.token, bk_cli_client.credential.name, format);
        } else {
            bk_cli_report("token", r);
        }
        return bk_cli_exit_code(r);
    }
    /* show, and env output of keys, need the account's endpoint: read it first, so that a
     * failure there comes before anything is regenerated. */
    static bk_batch_account account;
    if (cmd == BK_CLI_CMD_SHOW || format == BK_CLI_ENV) {
        r = bk_client_get_account(&bk_cli_client, &account);
        if (r != BK_OK) {
            bk_cli_report(commands[cmd].name, r);
            return bk_cli_exit_code(r);
        }
        if (cmd == BK_CLI_CMD_SHOW) {
            bk_cli_print_account(&account, format);
            return BK_CLI_EXIT_OK;
        }
    }
    static bk_account_keys keys;
    if (cmd == BK_CLI_CMD_KEYS) {
        r = bk_client_list_keys(&bk_cli_client, &keys);
    } else {
        r = bk_client_regenerate_key(&bk_cli_client, o->key_name, &keys);
    }
    if (r == BK_OK || (r == BK_ERR_OUTCOME_UNKNOWN && bk_cli_client.reconcile_result == BK_OK)) {
        bk_cli_print_keys(&keys, o->key_name, account.account_endpoint, format);
    }
    if (r != BK_OK) {
        bk_cli_report(commands[cmd].name, r);
    }
    bk_wipe(&keys, sizeof keys);
    return bk_cli_exit_code(r);
}

static int run_command_line(int argc, char **argv) {
    bk_cli_options o;
    memset(&o, 0, sizeof o);
    int rc = parse_options(argc, argv, &o);
    if (rc != 0) {
        return rc < 0 ? BK_CLI_EXIT_OK : rc;
    }
    bk_cli_command cmd = BK_CLI_CMD_SHOW;
    bk_cli_format format = BK_CLI_JSON;
    const bk_cli_cloud *cl = &clouds[0];
    bk_cli_time_limits limits = {20000, 60000};
    bk_connector placeholder = {NULL, NULL, NULL, NULL};
    bk_client_init(&bk_cli_client, placeholder);
#if BK_CLI_STATE
    bk_cli_state_init();
#endif
    rc = resolve(&o, &cmd, &format, &cl, &limits);
    if (rc != 0) {
        return rc < 0 ? BK_CLI_EXIT_OK : rc; /* -1: help was asked for and printed */
    }
    bk_log_set_level(o.verbose ? BK_LOG_DEBUG : BK_LOG_ERROR);
#if BK_CLI_STATE
    if (cmd == BK_CLI_CMD_STATUS || o.active) {
        rc = bk_cli_run_offline(&o, cmd, format);
        fflush(stdout);
        return rc;
    }
    if ((rc = bk_cli_start_state(&o, cmd, cl, &limits)) != 0) {
        return rc;
    }
#endif
#if BK_CLI_ASSERTIONS
    if (o.credential == BK_CLI_CREDENTIAL_CERTIFICATE && (rc = bk_cli_start_certificate(&o)) != 0) {
        bk_cli_current_board->tls_stop(); /* the crypto library's own state, set up to read it */
        return rc;
    }
#endif
    bk_connector connector;
    bk_result r = bk_cli_current_board->tls_start(o.ca_file, limits.timeout_ms, &connector);
    if (r != BK_OK) {
        bk_cli_stop_credential(&o);
        fprintf(stderr, "batchkey: TLS setup failed: %s", bk_strerror(r));
        if (r == BK_ERR_TLS_CA) {
            fprintf(stderr, " from %s; give a PEM bundle with --ca-file%s",
                    o.ca_file != NULL ? o.ca_file : bk_cli_current_board->default_ca,
                    o.ca_file != NULL ? "" : bk_cli_current_board->default_ca_hint);
        }
        fputc('\n', stderr);
        bk_cli_current_board->tls_stop();
        return bk_cli_exit_code(r);
    }
#if BK_CLI_PROXY
    if (cli_proxy_set) {
        bk_cli_current_board->proxy_set(&cli_proxy, cli_no_proxy);
    }
#endif
    bk_endpoint arm = bk_cli_client.arm;
    bk_endpoint authority = bk_cli_client.authority;
    bk_endpoint batch = bk_cli_client.batch;
    bk_client_init(&bk_cli_client, connector);
    bk_cli_client.batch = batch;
    bk_client_set_deadline(&bk_cli_client, limits.deadline_ms);
    bk_cli_client.arm = arm;
    bk_cli_client.authority = authority;
    bk_cli_client.scope = cl->scope;
    bk_cli_set_credential(&o, cmd);
    bk_cli_client.account.subscription_id = o.subscription;
    bk_cli_client.account.resource_group = o.resource_group;
    bk_cli_client.account.account_name = o.account;

#if BK_CLI_STATE
    bk_cli_sessions_load(&o);
    rc = cmd == BK_CLI_CMD_ROTATE  ? bk_cli_run_rotate(&o, format)
         : cmd == BK_CLI_CMD_LOGIN ? bk_cli_run_login(&o, format)
                                   : run(&o, cmd, format);
    bk_cli_sessions_save();
    bk_cli_state_end();
#else
    rc = run(&o, cmd, format);
#endif

    bk_client_close(&bk_cli_client);
    bk_cli_current_board->tls_stop();
    bk_cli_stop_credential(&o);
    fflush(stdout);
    return rc;
}

/* Wipes a secret the environment holds (the board's getenv gives writable storage), whatever
 * path the command took: early exits (status, a state or certificate that cannot be used) never
 * read it, yet it is in this process's memory. */
static void wipe_setting(const char *name) {
    const char *value = bk_cli_current_board->getenv(name);
    if (value != NULL) {
        bk_wipe((char *)value, strlen(value));
    }
}

int bk_cli_run(int argc, char **argv, const bk_cli_board *the_board) {
    bk_cli_current_board = the_board;
    int rc = run_command_line(argc, argv);
#if BK_CLI_PROXY
    bk_proxy_wipe(&cli_proxy); /* its credentials */
    cli_proxy_set = false;
#endif
    wipe_setting("AZURE_CLIENT_SECRET");
    wipe_setting("AZURE_CLIENT_CERTIFICATE_PASSWORD");
    return rc;
}
