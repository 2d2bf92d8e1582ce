/* The batchkey command-line tool: the Linux board's application. */
#define _GNU_SOURCE /* getopt_long */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bk_client.h"
#include "bk_crypto.h"
#include "bk_platform.h"
#include "bk_cli_output.h"
#include "bk_tls_connector.h"
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
    bool verbose;
    bk_key_name key_name; /* --key, parsed */
} options;

static bk_client client;
static bk_tls_config tls;
static bk_tls_peers peers;

static void usage(FILE *out) {
    fputs("usage: batchkey [options] show | keys | regenerate --key primary|secondary | token\n"
          "\n"
          "  show                    the Batch account: endpoint, state, authentication modes\n"
          "  keys                    the account's shared keys (listKeys)\n"
          "  regenerate --key K      regenerate the primary or secondary key; prints the new keys\n"
          "  token                   acquire an access token; prints its expiry and length only\n"
          "\n"
          "options (environment variable in brackets):\n"
          "  --subscription ID       [AZURE_SUBSCRIPTION_ID]\n"
          "  --resource-group RG     [BATCHKEY_RESOURCE_GROUP]\n"
          "  --account NAME          [BATCHKEY_ACCOUNT]\n"
          "  --cloud NAME            AzureCloud (default), AzureChinaCloud, AzureUSGovernment\n"
          "  --arm-endpoint URL      [BATCHKEY_ARM_ENDPOINT] https://host[:port]\n"
          "  --ca-file PATH          [BATCHKEY_CA_FILE] default: the system CA bundle\n"
          "  --state-dir DIR         [BATCHKEY_STATE_DIR] rotation state\n"
          "  --deadline SECONDS      [BATCHKEY_DEADLINE] the whole command, retries and waits\n"
          "                          included, default 60\n"
          "  --timeout SECONDS       [BATCHKEY_TIMEOUT] the longest one connect or wait for the\n"
          "                          network may take, default 20\n"
          "  --output json|tsv|env   json (default) uses the service's field names\n"
          "  -v, --verbose           diagnostics on stderr, secrets redacted\n"
          "  -h, --help, --version\n"
          "\n"
          "credentials: AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET;\n"
          "AZURE_AUTHORITY_HOST https://host[:port] overrides the cloud's Entra ID endpoint.\n"
          "\n"
          "exit codes: 0 ok, 1 internal error, 2 usage or invalid input (nothing sent),\n"
          "3 authentication failed, 4 Azure refused the operation, 5 network/TLS/timeout,\n"
          "6 malformed or oversized response, 7 rotation incomplete, 8 outcome unknown.\n",
          out);
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
    const char *value = getenv(env);
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
        return EXIT_USAGE;
    case BK_ERR_AUTH_REFUSED:
    case BK_ERR_ARM_UNAUTHORIZED:
        return EXIT_AUTH;
    case BK_ERR_ARM_REFUSED:
    case BK_ERR_UNEXPECTED_STATUS:
        return EXIT_REFUSED;
    case BK_ERR_OUTCOME_UNKNOWN:
        return EXIT_OUTCOME_UNKNOWN;
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
    if (peers.last_mbedtls_error != 0 || peers.last_verify_flags != 0) {
        bk_tls_describe(peers.last_mbedtls_error, peers.last_verify_flags, detail, sizeof detail);
    }
    bk_cli_report_failure(what, r, &client, detail);
}

static int parse_options(int argc, char **argv, options *o) {
    enum {
        OPT_SUBSCRIPTION = 256,
        OPT_RG,
        OPT_ACCOUNT,
        OPT_CLOUD,
        OPT_ARM,
        OPT_CA,
        OPT_STATE,
        OPT_OUTPUT,
        OPT_KEY,
        OPT_TIMEOUT,
        OPT_DEADLINE,
        OPT_VERSION
    };
    static const struct option long_options[] = {
        {"subscription", required_argument, NULL, OPT_SUBSCRIPTION},
        {"resource-group", required_argument, NULL, OPT_RG},
        {"account", required_argument, NULL, OPT_ACCOUNT},
        {"cloud", required_argument, NULL, OPT_CLOUD},
        {"arm-endpoint", required_argument, NULL, OPT_ARM},
        {"ca-file", required_argument, NULL, OPT_CA},
        {"state-dir", required_argument, NULL, OPT_STATE},
        {"output", required_argument, NULL, OPT_OUTPUT},
        {"key", required_argument, NULL, OPT_KEY},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"deadline", required_argument, NULL, OPT_DEADLINE},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    int c;
    /* GNU getopt permutes argv, so options may come before or after the command. */
    while ((c = getopt_long(argc, argv, ":vh", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_SUBSCRIPTION:
            o->subscription = optarg;
            break;
        case OPT_RG:
            o->resource_group = optarg;
            break;
        case OPT_ACCOUNT:
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
        case OPT_OUTPUT:
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
            usage(stdout);
            return -1;
        case OPT_VERSION:
            printf("batchkey %s (%s)\n", BK_VERSION, MBEDTLS_VERSION_STRING_FULL);
            return -1;
        case ':':
            return usage_error("missing value for", argv[optind - 1]);
        default:
            return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        return usage_error("no command given", NULL);
    }
    o->command = argv[optind++];
    if (optind < argc) {
        return usage_error("unexpected argument", argv[optind]);
    }
    return 0;
}

typedef enum command { CMD_SHOW, CMD_KEYS, CMD_REGENERATE, CMD_TOKEN } command;

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

/* Resolves and checks every input; nothing is sent before this passes. */
static int resolve(options *o, command *cmd, bk_cli_format *format, const cloud **cl,
                   time_limits *times) {
    static const char *const names[] = {"show", "keys", "regenerate", "token"};
    size_t i = 0;
    while (i < 4 && strcmp(o->command, names[i]) != 0) {
        i++;
    }
    if (i == 4) {
        return usage_error("unknown command", o->command);
    }
    *cmd = (command)i;
    if (*cmd == CMD_REGENERATE && o->key == NULL) {
        return usage_error("regenerate needs --key primary|secondary", NULL);
    }
    if (*cmd != CMD_REGENERATE && o->key != NULL) {
        return usage_error("--key goes with regenerate only", NULL);
    }
    if (o->key != NULL && bk_key_name_parse(o->key, &o->key_name) != BK_OK) {
        return usage_error("--key must be primary or secondary, not", o->key);
    }
    const char *output = o->output ? o->output : "json";
    if (strcmp(output, "json") == 0) {
        *format = BK_CLI_JSON;
    } else if (strcmp(output, "tsv") == 0) {
        *format = BK_CLI_TSV;
    } else if (strcmp(output, "env") == 0) {
        *format = BK_CLI_ENV;
    } else {
        return usage_error("--output must be json, tsv or env, not", output);
    }
    const char *cloud_name = o->cloud_name ? o->cloud_name : "AzureCloud";
    *cl = NULL;
    for (size_t c = 0; c < sizeof clouds / sizeof clouds[0]; c++) {
        if (strcasecmp(cloud_name, clouds[c].name) == 0) {
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
    o->ca_file = option_or_env(o->ca_file, "BATCHKEY_CA_FILE");
    if (o->ca_file != NULL && access(o->ca_file, R_OK) != 0) {
        return usage_error("cannot read the CA file", o->ca_file);
    }
    o->state_dir = option_or_env(o->state_dir, "BATCHKEY_STATE_DIR");

    o->tenant = option_or_env(NULL, "AZURE_TENANT_ID");
    o->client_id = option_or_env(NULL, "AZURE_CLIENT_ID");
    o->client_secret = option_or_env(NULL, "AZURE_CLIENT_SECRET");
    if (o->tenant == NULL || o->client_id == NULL || o->client_secret == NULL) {
        return usage_error("credentials missing: set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                           "AZURE_CLIENT_SECRET",
                           NULL);
    }
    if (bk_validate_tenant_id(o->tenant) != BK_OK) {
        return usage_error("AZURE_TENANT_ID is not a GUID or domain name", o->tenant);
    }
    if (!bk_guid_ok(o->client_id)) {
        return usage_error("AZURE_CLIENT_ID is not a GUID", o->client_id);
    }
    if (!bk_header_value_ok(o->client_secret, strlen(o->client_secret))) {
        return usage_error("AZURE_CLIENT_SECRET holds a control character", NULL);
    }
    if (*cmd == CMD_TOKEN) {
        return 0;
    }
    o->subscription = option_or_env(o->subscription, "AZURE_SUBSCRIPTION_ID");
    o->resource_group = option_or_env(o->resource_group, "BATCHKEY_RESOURCE_GROUP");
    o->account = option_or_env(o->account, "BATCHKEY_ACCOUNT");
    if (o->subscription == NULL) {
        return usage_error("no subscription: give --subscription or AZURE_SUBSCRIPTION_ID", NULL);
    }
    if (o->resource_group == NULL) {
        return usage_error("no resource group: give --resource-group or BATCHKEY_RESOURCE_GROUP",
                           NULL);
    }
    if (o->account == NULL) {
        return usage_error("no account: give --account or BATCHKEY_ACCOUNT", NULL);
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
            bk_cli_print_token(&client.token, format);
        } else {
            report_failure("token request", r);
        }
    } else if (cmd == CMD_SHOW) {
        bk_batch_account account;
        r = bk_client_get_account(&client, &account);
        if (r == BK_OK) {
            bk_cli_print_account(&account, format);
        } else {
            report_failure("get account", r);
        }
    } else {
        static bk_account_keys keys;
        if (cmd == CMD_KEYS) {
            r = bk_client_list_keys(&client, &keys);
        } else {
            r = bk_client_regenerate_key(&client, o->key_name, &keys);
        }
        if (r == BK_OK || (r == BK_ERR_OUTCOME_UNKNOWN && client.reconcile_result == BK_OK)) {
            bk_cli_print_keys(&keys, format);
        }
        if (r != BK_OK) {
            report_failure(cmd == CMD_KEYS ? "listKeys" : "regenerateKeys", r);
        }
        bk_wipe(&keys, sizeof keys);
    }
    return exit_code_for(r);
}

int main(int argc, char **argv) {
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
    rc = resolve(&o, &cmd, &format, &cl, &limits);
    if (rc != 0) {
        return rc;
    }
    bk_log_set_level(o.verbose ? BK_LOG_DEBUG : BK_LOG_ERROR);
    bk_result r = bk_tls_config_init(&tls, o.ca_file);
    if (r != BK_OK) {
        fprintf(stderr, "batchkey: TLS setup failed: %s\n", bk_strerror(r));
        bk_tls_global_free();
        return exit_code_for(r);
    }
    bk_endpoint arm = client.arm;
    bk_endpoint authority = client.authority;
    bk_client_init(&client, bk_tls_connector(&peers, &tls, limits.timeout_ms));
    bk_client_set_deadline(&client, limits.deadline_ms);
    client.arm = arm;
    client.authority = authority;
    client.scope = cl->scope;
    client.credential.kind = BK_CREDENTIAL_CLIENT_SECRET;
    client.credential.tenant_id = o.tenant;
    client.credential.client_id = o.client_id;
    client.credential.client_secret = o.client_secret;
    client.account.subscription_id = o.subscription;
    client.account.resource_group = o.resource_group;
    client.account.account_name = o.account;

    rc = run(&o, cmd, format);

    bk_client_close(&client);
    bk_tls_config_free(&tls);
    bk_tls_global_free();
    /* The secret lives in this process's environment block; it is not needed any more. */
    bk_wipe((char *)o.client_secret, strlen(o.client_secret));
    fflush(stdout);
    return rc;
}
