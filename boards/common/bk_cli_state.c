/* SPDX-License-Identifier: MIT */
/* The commands that keep state in a directory: rotate, status, keys --active and login (with
 * --auth device-code's sign-in), their settings and their one-line failures. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bk_cli_internal.h"

#if BK_CLI_STATE
#include "bk_dataplane.h"
#include "bk_device_code.h"
#include "bk_rotate.h"

static bk_rotation rotation;
static bk_store store;
static char key_file[512];      /* the state dir's active.key, for the report and the hook */
static bk_user_sign_in sign_in; /* login, and the device-code credential */

/* rotate's own settings. */
int bk_cli_resolve_rotate(bk_cli_options *o) {
    o->max_age = bk_cli_setting(o->max_age, "BATCHKEY_MAX_AGE");
    if (o->max_age != NULL) {
        char *end = NULL;
        long days = strtol(o->max_age, &end, 10);
        if (end == o->max_age || *end != '\0' || days < 0 || days > 3650) {
            return bk_cli_usage_error("--max-age must be 0 to 3650 days, not", o->max_age);
        }
        rotation.max_age_s = (uint32_t)days * 86400u;
    }
    o->deploy_hook = bk_cli_setting(o->deploy_hook, "BATCHKEY_DEPLOY_HOOK");
    if (o->deploy_hook != NULL && bk_cli_current_board->run_hook == NULL) {
        return bk_cli_usage_error("--deploy-hook: this board cannot run commands", NULL);
    }
    const char *version = bk_cli_setting(NULL, "BATCHKEY_BATCH_API_VERSION");
    if (version != NULL && !bk_dataplane_api_version_ok(version)) {
        return bk_cli_usage_error("BATCHKEY_BATCH_API_VERSION is not YYYY-MM-DD.N.N", version);
    }
    rotation.batch_api_version = version != NULL ? version : BK_BATCH_API_VERSION;
    o->batch_endpoint = bk_cli_setting(o->batch_endpoint, "BATCHKEY_BATCH_ENDPOINT");
    if (o->batch_endpoint != NULL &&
        bk_endpoint_parse(&bk_cli_client.batch, o->batch_endpoint) != BK_OK) {
        return bk_cli_usage_error("the Batch endpoint is not https://host[:port]",
                                  o->batch_endpoint);
    }
    rotation.force = o->force;
    rotation.dry_run = o->dry_run;
    rotation.retire = o->retire;
    rotation.first_active = o->key_name;
    return 0;
}

/* The state directory: --state-dir, BATCHKEY_STATE_DIR, systemd's STATE_DIRECTORY (the first
 * of its list), else the board's default (NULL when it has none). */
static const char *chosen_state_dir(const bk_cli_options *o) {
    static char from_systemd[sizeof key_file - 16];
    const char *dir = bk_cli_setting(o->state_dir, "BATCHKEY_STATE_DIR");
    const char *systemd = bk_cli_setting(NULL, "STATE_DIRECTORY");
    if (dir == NULL && systemd != NULL) {
        size_t len = strcspn(systemd, ":");
        if (len < sizeof from_systemd) {
            memcpy(from_systemd, systemd, len);
            from_systemd[len] = '\0';
            dir = from_systemd;
        }
    }
    return dir != NULL ? dir : bk_cli_current_board->default_state_dir;
}

int bk_cli_resolve_state_dir(bk_cli_options *o) {
    o->state_dir = chosen_state_dir(o);
    if (bk_cli_current_board->store_open == NULL || o->state_dir == NULL) {
        return bk_cli_usage_error("this board keeps no rotation state", NULL);
    }
    if (o->state_dir[0] == '\0' || strlen(o->state_dir) + 16 > sizeof key_file) {
        return bk_cli_usage_error("--state-dir is empty or too long", NULL);
    }
    snprintf(key_file, sizeof key_file, "%s/" BK_ACTIVE_KEY_RECORD, o->state_dir);
    return 0;
}
/* One line about a state that cannot be used, a store that failed, or a step that did not
 * complete: what happened, where, and what to do. */
static void bk_cli_report_state_failure(const char *what, bk_result r, const bk_cli_options *o) {
    char where[300] = "";
    if (bk_cli_current_board->store_describe != NULL) {
        bk_cli_current_board->store_describe(where, sizeof where);
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
                bk_cli_client.call.status);
        if (bk_cli_client.cloud_error.code[0] != '\0') {
            fputc(' ', stderr);
            bk_cli_print_one_line(stderr, bk_cli_client.cloud_error.code, false);
        }
        if (bk_cli_client.call.request_id[0] != '\0') {
            fputs(", request-id: ", stderr);
            bk_cli_print_one_line(stderr, bk_cli_client.call.request_id, false);
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
        bk_cli_report(what, r);
        fputs("batchkey: the rotation state keeps the step; the next run reconciles it with "
              "listKeys\n",
              stderr);
        return;
    }
    bk_cli_report(what, r);
}

/* status and keys --active: the state alone, no credential, nothing sent. */
int bk_cli_run_offline(const bk_cli_options *o, bk_cli_command cmd, bk_cli_format format) {
    bk_result r = bk_cli_current_board->store_open(o->state_dir, false, &store);
    bk_account_ref account = {o->subscription, o->resource_group, o->account};
    if (r == BK_OK) {
        r = bk_rotation_load(store, o->account != NULL ? &account : NULL, rotation.record,
                             sizeof rotation.record, &rotation.state);
    }
    if (r != BK_OK) {
        bk_cli_report_state_failure(cmd == BK_CLI_CMD_STATUS ? "status" : "keys --active", r, o);
        bk_rotation_wipe(&rotation);
        return bk_cli_exit_code(r);
    }
    if (cmd == BK_CLI_CMD_STATUS) {
        bk_cli_print_status(&rotation.state, bk_wall_clock_s(), format);
    } else {
        bk_cli_print_active_key(&rotation.state, format);
    }
    bk_rotation_wipe(&rotation);
    return BK_CLI_EXIT_OK;
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
static int bk_cli_start_sign_in(const bk_cli_options *o, bk_cli_command cmd,
                                const bk_cli_cloud *cl) {
    static char user_scope[160];
    size_t base = strlen(cl->scope) - strlen("/.default");
    snprintf(user_scope, sizeof user_scope, "%.*s/user_impersonation", (int)base, cl->scope);
    bk_result r =
        cmd == BK_CLI_CMD_ROTATE
            ? BK_OK
            : bk_cli_current_board->store_open(o->state_dir, cmd == BK_CLI_CMD_LOGIN, &store);
    bk_user_sign_in_init(&sign_in, &bk_cli_client.authority, o->tenant, o->client_id, user_scope,
                         store);
    sign_in.prompt = show_device_code;
    if (r == BK_OK && cmd != BK_CLI_CMD_LOGIN) {
        r = bk_user_sign_in_load(&sign_in);
    }
    if (r == BK_ERR_STORE_NOT_FOUND) {
        fprintf(stderr,
                "batchkey: no sign-in in %s for this tenant and client: run batchkey login "
                "first\n",
                o->state_dir);
        return BK_CLI_EXIT_AUTH;
    }
    if (r == BK_ERR_STATE_FOREIGN) {
        fprintf(stderr,
                "batchkey: the sign-in in %s/" BK_REFRESH_TOKEN_RECORD " is of another tenant "
                "or client; run batchkey login for this one, or use another --state-dir\n",
                o->state_dir);
        return BK_CLI_EXIT_AUTH;
    }
    if (r != BK_OK) {
        bk_cli_report_state_failure(cmd == BK_CLI_CMD_LOGIN ? "login" : "sign-in", r, o);
        return bk_cli_exit_code(r);
    }
    return 0;
}

int bk_cli_run_login(const bk_cli_options *o, bk_cli_format format) {
    bk_result r = bk_client_token(&bk_cli_client, NULL);
    if (r != BK_OK) {
        bk_cli_report("login", r);
        return bk_cli_exit_code(r);
    }
    bk_cli_print_token(&bk_cli_client.token, bk_cli_client.credential.name, format);
    fprintf(stderr,
            "batchkey: signed in; the refresh token is kept in %s/" BK_REFRESH_TOKEN_RECORD
            " for --auth device-code\n",
            o->state_dir);
    return BK_CLI_EXIT_OK;
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

int bk_cli_run_rotate(const bk_cli_options *o, bk_cli_format format) {
    rotation.store = store;
    rotation.batch_given = o->batch_endpoint != NULL;
#ifdef BK_CLI_CRASH_POINTS
    rotation.checkpoint = crash_point;
    rotation.checkpoint_ctx = (void *)bk_cli_setting(NULL, "BATCHKEY_CRASH_AT");
#endif
    bk_result r = bk_rotate_run(&rotation);
    int hook_status = 0;
    if (r == BK_OK && rotation.report.published && o->deploy_hook != NULL) {
        hook_status = bk_cli_current_board->run_hook(
            o->deploy_hook, o->account, bk_key_name_text(rotation.state.active), key_file);
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
        bk_cli_report_state_failure("rotate", r, o);
    }
    bk_rotation_wipe(&rotation);
    if (r != BK_OK) {
        return bk_cli_exit_code(r);
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
        return BK_CLI_EXIT_ROTATION;
    }
    return BK_CLI_EXIT_OK;
}

void bk_cli_state_init(void) {
    bk_rotation_init(&rotation, &bk_cli_client, store);
}

int bk_cli_start_state(const bk_cli_options *o, bk_cli_command cmd, const bk_cli_cloud *cl,
                       bk_cli_time_limits *limits) {
    int rc = 0;
    if (cmd == BK_CLI_CMD_ROTATE) {
        /* The state first: a directory that cannot be used stops the run before any request. */
        bk_result opened = bk_cli_current_board->store_open(o->state_dir, true, &store);
        if (opened != BK_OK) {
            bk_cli_report_state_failure("rotate", opened, o);
            return bk_cli_exit_code(opened);
        }
        if (o->deadline == NULL) {
            limits->deadline_ms = 600000; /* room for a new key to propagate */
        }
    }
    if (o->credential == BK_CLI_CREDENTIAL_DEVICE_CODE &&
        (rc = bk_cli_start_sign_in(o, cmd, cl)) != 0) {
        return rc;
    }
    if (cmd == BK_CLI_CMD_LOGIN && o->deadline == NULL) {
        limits->deadline_ms = 960000; /* a device code lives 15 minutes */
    }
    return 0;
}

struct bk_user_sign_in *bk_cli_sign_in(void) {
    return &sign_in;
}

void bk_cli_state_end(void) {
    bk_user_sign_in_wipe(&sign_in);
}

/* TLS sessions, one record per peer in the state directory when it exists: a later run resumes
 * them instead of a full handshake. Nothing here fails a command: a record that cannot be read
 * or written costs a full handshake, and -v says why. */
static const char *const session_records[BK_PEER_COUNT] = {"tls-authority", "tls-arm", "tls-batch"};
static bk_store session_store;
static uint8_t session_record[BK_TLS_SESSION_RECORD_MAX];

static void session_note(const char *what, const char *name, bk_result r) {
    char line[160];
    snprintf(line, sizeof line, "TLS session %s %s: %s; the next handshake is a full one", name,
             what, bk_strerror(r));
    bk_log(BK_LOG_DEBUG, line);
}

void bk_cli_sessions_load(const bk_cli_options *o) {
    const bk_cli_board *board = bk_cli_current_board;
    memset(&session_store, 0, sizeof session_store);
    if (board->tls_session == NULL) {
        return;
    }
    if (store.load != NULL) {
        session_store = store; /* rotate's, or a sign-in's, already open */
    } else {
        const char *dir = chosen_state_dir(o);
        bk_result r = dir != NULL && board->cache_open != NULL
                          ? board->cache_open(dir, &session_store)
                          : BK_ERR_STORE_NOT_FOUND;
        if (r != BK_OK) {
            memset(&session_store, 0, sizeof session_store);
            bk_log(BK_LOG_DEBUG, "no state directory: TLS sessions are kept for this run only");
            return;
        }
    }
    for (size_t i = 0; i < BK_PEER_COUNT; i++) {
        size_t len = 0;
        bk_result r = session_store.load(session_store.ctx, session_records[i], session_record,
                                         sizeof session_record, &len);
        if (r == BK_OK) {
            r = bk_tls_session_decode(board->tls_session((bk_peer)i), session_record, len);
        }
        if (r != BK_OK && r != BK_ERR_STORE_NOT_FOUND) {
            session_note("not read", session_records[i], r);
        }
        bk_wipe(session_record, sizeof session_record);
    }
}

void bk_cli_sessions_save(void) {
    const bk_cli_board *board = bk_cli_current_board;
    if (board->tls_session == NULL || session_store.save == NULL) {
        return;
    }
    for (size_t i = 0; i < BK_PEER_COUNT; i++) {
        bk_tls_session *s = board->tls_session((bk_peer)i);
        size_t len = 0;
        if (!s->fresh) {
            continue;
        }
        bk_result r = bk_tls_session_encode(s, session_record, sizeof session_record, &len);
        if (r == BK_OK) {
            r = session_store.save(session_store.ctx, session_records[i], session_record, len);
        }
        if (r != BK_OK) {
            session_note("not saved", session_records[i], r);
        }
        bk_wipe(session_record, sizeof session_record);
    }
}
#endif
