/* SPDX-License-Identifier: MIT */
/* What the parts of the command line share: bk_cli.c (options, checks, the commands that call
 * Azure), bk_cli_credential.c (which credential, and its setup) and bk_cli_state.c (the commands
 * that keep state in a directory). Internal to boards/common. */
#ifndef BK_CLI_INTERNAL_H
#define BK_CLI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bk_cli.h"
#include "bk_cli_output.h"
#include "bk_client.h"

/* What a board builds in; one without a use for a part sets it to 0 (bk_config_board.h) and
 * spends neither flash nor RAM on it. */
#ifndef BK_CLI_STATE /* rotate, status, keys --active, login and --auth device-code */
#define BK_CLI_STATE 1
#endif
#ifndef BK_CLI_ASSERTIONS /* the certificate and workload identity credentials */
#define BK_CLI_ASSERTIONS 1
#endif
#ifndef BK_CLI_MANAGED_IDENTITY /* App Service, Azure Arc, IMDS */
#define BK_CLI_MANAGED_IDENTITY 1
#endif
#ifndef BK_CLI_PROXY /* --proxy, HTTPS_PROXY and NO_PROXY */
#define BK_CLI_PROXY 1
#endif

enum bk_cli_exit {
    BK_CLI_EXIT_OK = 0,
    BK_CLI_EXIT_INTERNAL = 1,
    BK_CLI_EXIT_USAGE = 2,
    BK_CLI_EXIT_AUTH = 3,
    BK_CLI_EXIT_REFUSED = 4,
    BK_CLI_EXIT_NETWORK = 5,
    BK_CLI_EXIT_MALFORMED = 6,
    BK_CLI_EXIT_ROTATION = 7,
    BK_CLI_EXIT_OUTCOME_UNKNOWN = 8
};

typedef struct bk_cli_cloud {
    const char *name;
    const char *arm;
    const char *authority;
    const char *scope;
} bk_cli_cloud;

typedef enum bk_cli_credential_kind {
    BK_CLI_CREDENTIAL_SECRET,
    BK_CLI_CREDENTIAL_CERTIFICATE,
    BK_CLI_CREDENTIAL_WORKLOAD,
    BK_CLI_CREDENTIAL_MANAGED_IDENTITY,
    BK_CLI_CREDENTIAL_DEVICE_CODE /* the refresh token of a `batchkey login` */
} bk_cli_credential_kind;

typedef struct bk_cli_options {
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
    bk_cli_credential_kind credential;
    const char *scope; /* the cloud's ARM scope */
    const char *batch_endpoint;
    const char *max_age;
    const char *deploy_hook;
    char *proxy; /* --proxy: wiped once read, since it may hold a password */
    bool force;
    bool dry_run;
    bool retire;
    bool active;
    bool verbose;
    bool help;
    bk_key_name key_name; /* --key-name, parsed */
} bk_cli_options;

typedef enum bk_cli_command {
    BK_CLI_CMD_SHOW,
    BK_CLI_CMD_KEYS,
    BK_CLI_CMD_REGENERATE,
    BK_CLI_CMD_TOKEN,
    BK_CLI_CMD_ROTATE,
    BK_CLI_CMD_STATUS,
    BK_CLI_CMD_LOGIN,
    BK_CLI_CMD_COUNT
} bk_cli_command;

/* Time limits: of one connect or wait for the network, and of the whole command. */
typedef struct bk_cli_time_limits {
    uint32_t timeout_ms;  /* one connect or one wait for the network */
    uint32_t deadline_ms; /* the whole command */
} bk_cli_time_limits;

extern bk_client bk_cli_client;
extern const bk_cli_board *bk_cli_current_board;

/* bk_cli.c: one line naming what is wrong with the input (exit 2); a setting from its option,
 * else its variable; the exit code of a result; one line on what failed. */
int bk_cli_usage_error(const char *what, const char *detail);
const char *bk_cli_setting(const char *option, const char *env);
int bk_cli_exit_code(bk_result r);
void bk_cli_report(const char *what, bk_result r);

/* bk_cli_credential.c: the credential from the environment (--auth), checked; a person's
 * sign-in (login, device-code); the certificate's key, loaded once every input passed; the
 * client's credential; and its end (the key freed, the secret wiped). */
int bk_cli_resolve_credential(bk_cli_options *o);
int bk_cli_resolve_user(bk_cli_options *o);
int bk_cli_start_certificate(const bk_cli_options *o);
void bk_cli_set_credential(const bk_cli_options *o, bk_cli_command cmd);
void bk_cli_stop_credential(const bk_cli_options *o);

#if BK_CLI_STATE
/* bk_cli_state.c: rotate's settings; the state directory; the state's store opened before
 * anything is sent (rotate) and the sign-in read; the commands; their one-line failures. */
int bk_cli_resolve_rotate(bk_cli_options *o);
int bk_cli_resolve_state_dir(bk_cli_options *o);
void bk_cli_state_init(void);
int bk_cli_start_state(const bk_cli_options *o, bk_cli_command cmd, const bk_cli_cloud *cl,
                       bk_cli_time_limits *limits);
void bk_cli_state_end(void);
/* TLS sessions from the state directory (when it exists) into the connector, and back. */
void bk_cli_sessions_load(const bk_cli_options *o);
void bk_cli_sessions_save(void);
struct bk_user_sign_in *bk_cli_sign_in(void); /* login's, and --auth device-code's */
int bk_cli_run_offline(const bk_cli_options *o, bk_cli_command cmd, bk_cli_format format);
int bk_cli_run_rotate(const bk_cli_options *o, bk_cli_format format);
int bk_cli_run_login(const bk_cli_options *o, bk_cli_format format);
#endif

#endif
