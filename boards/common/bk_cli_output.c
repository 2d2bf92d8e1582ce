/* SPDX-License-Identifier: MIT */
/* The batchkey CLI's output: keys, account and token in json, tsv or env form, and service text
 * made safe for one line of a terminal or log. */
#include "bk_cli_output.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void bk_cli_print_one_line(FILE *out, const char *text, bool first_line_only) {
    for (const char *p = text; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (first_line_only && (c == '\r' || c == '\n')) {
            break;
        }
        fputc((c < 0x20 || c == 0x7f) ? ' ' : c, out);
    }
}

static void print_json_string(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            printf("\\%c", *p);
        } else if (*p < 0x20) {
            printf("\\u%04x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

/* export NAME=value, single-quoted when the value holds anything a shell would read: the lines
 * are meant for eval, and what eval sets must reach the programs started next. */
static void print_env(const char *name, const char *value) {
    bool plain = value[0] != '\0';
    for (const char *p = value; *p != '\0'; p++) {
        plain = plain && (strchr("+/=._:-", *p) != NULL || (*p >= '0' && *p <= '9') ||
                          (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'));
    }
    if (plain) {
        printf("export %s=%s\n", name, value);
        return;
    }
    printf("export %s='", name);
    for (const char *p = value; *p != '\0'; p++) {
        if (*p == '\'') {
            fputs("'\\''", stdout);
        } else {
            putchar(*p);
        }
    }
    puts("'");
}

/* "https://" and the account endpoint, as the Batch tools want AZURE_BATCH_ENDPOINT. */
static void print_endpoint_env(const char *account_endpoint) {
    char url[BK_HOST_MAX + 16];
    snprintf(url, sizeof url, "https://%s", account_endpoint);
    print_env("AZURE_BATCH_ENDPOINT", url);
}

void bk_cli_print_keys(const bk_account_keys *keys, bk_key_name access_key,
                       const char *account_endpoint, bk_cli_format format) {
    if (format == BK_CLI_NONE) {
        return;
    }
    if (format == BK_CLI_TSV) {
        printf("%s\t%s\t%s\n", keys->account_name, keys->primary, keys->secondary);
    } else if (format == BK_CLI_ENV) {
        print_env("AZURE_BATCH_ACCOUNT", keys->account_name);
        print_endpoint_env(account_endpoint);
        print_env("AZURE_BATCH_ACCESS_KEY",
                  access_key == BK_KEY_PRIMARY ? keys->primary : keys->secondary);
    } else {
        fputs("{\n  \"accountName\": ", stdout);
        print_json_string(keys->account_name);
        fputs(",\n  \"primary\": ", stdout);
        print_json_string(keys->primary);
        fputs(",\n  \"secondary\": ", stdout);
        print_json_string(keys->secondary);
        fputs("\n}\n", stdout);
    }
}

static const struct {
    unsigned bit;
    const char *name;
} auth_mode_names[] = {{BK_AUTH_MODE_SHARED_KEY, "SharedKey"},
                       {BK_AUTH_MODE_AAD, "AAD"},
                       {BK_AUTH_MODE_TASK_TOKEN, "TaskAuthenticationToken"}};

static void print_auth_modes(const bk_batch_account *a, const char *separator, bool quoted) {
    bool first = true;
    for (size_t i = 0; i < sizeof auth_mode_names / sizeof auth_mode_names[0]; i++) {
        if (a->auth_modes & auth_mode_names[i].bit) {
            printf("%s%s%s%s", first ? "" : separator, quoted ? "\"" : "", auth_mode_names[i].name,
                   quoted ? "\"" : "");
            first = false;
        }
    }
}

void bk_cli_print_account(const bk_batch_account *a, bk_cli_format format) {
    if (format == BK_CLI_NONE) {
        return;
    }
    if (format == BK_CLI_TSV) {
        printf("%s\t%s\t%s\t%s\t", a->name, a->location, a->account_endpoint,
               a->provisioning_state);
        print_auth_modes(a, ",", false);
        putchar('\n');
    } else if (format == BK_CLI_ENV) {
        print_env("AZURE_BATCH_ACCOUNT", a->name);
        print_endpoint_env(a->account_endpoint);
    } else {
        fputs("{\n  \"name\": ", stdout);
        print_json_string(a->name);
        fputs(",\n  \"location\": ", stdout);
        print_json_string(a->location);
        fputs(",\n  \"properties\": {\n    \"accountEndpoint\": ", stdout);
        print_json_string(a->account_endpoint);
        fputs(",\n    \"provisioningState\": ", stdout);
        print_json_string(a->provisioning_state);
        if (a->auth_modes_present) {
            fputs(",\n    \"allowedAuthenticationModes\": [", stdout);
            print_auth_modes(a, ", ", true);
            putchar(']');
        }
        fputs("\n  }\n}\n", stdout);
    }
}

/* "2026-12-02T14:18:04Z", or "" for an unknown time (0). */
static void format_time(int64_t unix_s, char *out, size_t cap) {
    out[0] = '\0';
    time_t at = (time_t)unix_s;
    struct tm tm;
    if (unix_s > 0 && gmtime_r(&at, &tm) != NULL) {
        snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
}

/* A JSON string, or null when empty. */
static void print_json_text_or_null(const char *s) {
    if (s[0] == '\0') {
        fputs("null", stdout);
    } else {
        print_json_string(s);
    }
}

static void print_json_age(int64_t age_s) {
    if (age_s < 0) {
        fputs("null", stdout);
    } else {
        printf("%lld", (long long)age_s);
    }
}

static const char *action_name(bk_rotation_action action) {
    switch (action) {
    case BK_ROTATION_SKIPPED:
        return "skipped";
    case BK_ROTATION_CHECKED:
        return "checked";
    case BK_ROTATION_ROTATED:
        return "rotated";
    case BK_ROTATION_NONE:
        break;
    }
    return "none";
}

void bk_cli_print_rotation(const bk_rotation *rot, const char *key_file, bk_cli_format format) {
    const bk_rotation_report *rep = &rot->report;
    const bk_rotation_state *st = &rot->state;
    const char *active = bk_key_name_text(st->active);
    long long age_days = rep->active_age_s >= 0 ? (long long)(rep->active_age_s / 86400) : -1;
    if (format == BK_CLI_NONE) {
        return;
    }
    if (format == BK_CLI_TSV) {
        printf("%s\t%s\t%s\t%lld\t%d\t%s\t%s\n", st->account_name, action_name(rep->action), active,
               age_days, rep->proof_status, rep->proof_request_id[0] ? rep->proof_request_id : "-",
               rep->regenerate_request_id[0] ? rep->regenerate_request_id : "-");
        return;
    }
    if (format == BK_CLI_ENV) {
        print_env("BATCHKEY_ACCOUNT", st->account_name);
        print_env("BATCHKEY_ROTATE_ACTION", action_name(rep->action));
        print_env("BATCHKEY_ACTIVE_SLOT", active);
        printf("export BATCHKEY_ACTIVE_KEY_AGE_DAYS=%lld\n", age_days);
        print_env("BATCHKEY_KEY_FILE", key_file);
        return;
    }
    fputs("{\n  \"account\": ", stdout);
    print_json_string(st->account_name);
    printf(",\n  \"action\": \"%s\",\n  \"activeSlot\": \"%s\"", action_name(rep->action), active);
    if (rep->switched) {
        printf(",\n  \"previousSlot\": \"%s\"", bk_key_name_text(rep->previous));
    }
    fputs(",\n  \"activeKeyAgeSeconds\": ", stdout);
    print_json_age(rep->active_age_s);
    fputs(",\n  \"activeKeyAgeDays\": ", stdout);
    print_json_age(age_days);
    printf(",\n  \"step\": \"%s\"", bk_rotation_step_name(st->step));
    printf(",\n  \"adopted\": %s,\n  \"resumed\": %s,\n  \"retired\": %s,\n"
           "  \"changedOutside\": %s",
           rep->adopted ? "true" : "false", rep->resumed ? "true" : "false",
           rep->retired ? "true" : "false", rep->changed_outside ? "true" : "false");
    fputs(",\n  \"dataPlaneProof\": ", stdout);
    if (rep->proof_attempts == 0) {
        fputs("null", stdout);
    } else {
        printf("{\"status\": %d, \"attempts\": %u, \"requestId\": ", rep->proof_status,
               (unsigned)rep->proof_attempts);
        print_json_text_or_null(rep->proof_request_id);
        putchar('}');
    }
    printf(",\n  \"regenerateKeysSent\": %u", (unsigned)rep->regenerates_sent);
    fputs(",\n  \"regenerateRequestId\": ", stdout);
    print_json_text_or_null(rep->regenerate_request_id);
    fputs(",\n  \"retireRequestId\": ", stdout);
    print_json_text_or_null(rep->retire_request_id);
    fputs(",\n  \"keyFile\": ", stdout);
    print_json_string(key_file);
    printf(",\n  \"keyFilePublished\": %s", rep->published ? "true" : "false");
    if (rep->action == BK_ROTATION_CHECKED) {
        printf(",\n  \"keyFileCurrent\": %s", rep->key_file_stale ? "false" : "true");
    }
    fputs("\n}\n", stdout);
}

void bk_cli_print_status(const bk_rotation_state *st, int64_t now_s, bk_cli_format format) {
    int64_t since = st->since_s[st->active];
    int64_t age = since > 0 && now_s >= since ? now_s - since : -1;
    long long age_days = age >= 0 ? (long long)(age / 86400) : -1;
    char since_text[80]; /* room for any int fields: snprintf never cuts */
    char last_text[80];
    char updated_text[80];
    format_time(since, since_text, sizeof since_text);
    format_time(st->last_rotation_s, last_text, sizeof last_text);
    format_time(st->updated_s, updated_text, sizeof updated_text);
    const char *active = bk_key_name_text(st->active);
    const char *step = bk_rotation_step_name(st->step);
    if (format == BK_CLI_NONE) {
        return;
    }
    if (format == BK_CLI_TSV) {
        printf("%s\t%s\t%lld\t%s\t%s\n", st->account_name, active, age_days,
               last_text[0] ? last_text : "-", step);
        return;
    }
    if (format == BK_CLI_ENV) {
        print_env("BATCHKEY_ACCOUNT", st->account_name);
        print_env("BATCHKEY_ACTIVE_SLOT", active);
        printf("export BATCHKEY_ACTIVE_KEY_AGE_DAYS=%lld\n", age_days);
        printf("export BATCHKEY_LAST_ROTATION=%s\n", last_text[0] ? last_text : "never");
        print_env("BATCHKEY_STEP", step);
        return;
    }
    fputs("{\n  \"account\": ", stdout);
    print_json_string(st->account_name);
    fputs(",\n  \"subscription\": ", stdout);
    print_json_string(st->subscription_id);
    fputs(",\n  \"resourceGroup\": ", stdout);
    print_json_string(st->resource_group);
    fputs(",\n  \"accountEndpoint\": ", stdout);
    print_json_string(st->account_endpoint);
    printf(",\n  \"activeSlot\": \"%s\",\n  \"activeKeySince\": ", active);
    print_json_text_or_null(since_text);
    fputs(",\n  \"activeKeyAgeSeconds\": ", stdout);
    print_json_age(age);
    fputs(",\n  \"activeKeyAgeDays\": ", stdout);
    print_json_age(age_days);
    fputs(",\n  \"lastRotation\": ", stdout);
    print_json_text_or_null(last_text);
    printf(",\n  \"rotations\": %u,\n  \"step\": \"%s\",\n  \"pendingStep\": ",
           (unsigned)st->rotations, step);
    if (st->step == BK_STEP_IDLE) {
        fputs("null", stdout);
    } else {
        print_json_string(step);
    }
    printf(",\n  \"sequence\": %u,\n  \"updated\": ", (unsigned)st->sequence);
    print_json_text_or_null(updated_text);
    fputs("\n}\n", stdout);
}

void bk_cli_print_active_key(const bk_rotation_state *st, bk_cli_format format) {
    const char *key = st->keys[st->active];
    const char *slot = bk_key_name_text(st->active);
    if (format == BK_CLI_NONE) {
        return;
    }
    if (format == BK_CLI_TSV) {
        printf("%s\t%s\t%s\n", st->account_name, slot, key);
    } else if (format == BK_CLI_ENV) {
        print_env("AZURE_BATCH_ACCOUNT", st->account_name);
        print_endpoint_env(st->account_endpoint);
        print_env("AZURE_BATCH_ACCESS_KEY", key);
    } else {
        fputs("{\n  \"accountName\": ", stdout);
        print_json_string(st->account_name);
        fputs(",\n  \"accountEndpoint\": ", stdout);
        print_json_string(st->account_endpoint);
        printf(",\n  \"slot\": \"%s\",\n  \"key\": ", slot);
        print_json_string(key);
        fputs("\n}\n", stdout);
    }
}

void bk_cli_print_token(const bk_token *t, const char *credential, bk_cli_format format) {
    char expires_on[80] = ""; /* room for any int fields: snprintf never cuts */
    time_t at = time(NULL) + (time_t)t->expires_in_s;
    struct tm tm;
    if (gmtime_r(&at, &tm) != NULL) {
        /* Not strftime: newlib's brings its time-zone code along, which allocates. */
        snprintf(expires_on, sizeof expires_on, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    unsigned long long expires_in = (unsigned long long)t->expires_in_s;
    if (format == BK_CLI_NONE) {
        return;
    }
    if (format == BK_CLI_TSV) {
        printf("%s\t%llu\t%s\t%zu\t%s\n", t->token_type, expires_in, expires_on,
               t->access_token_len, credential);
    } else if (format == BK_CLI_ENV) {
        print_env("AZURE_TOKEN_CREDENTIAL", credential);
        print_env("AZURE_TOKEN_TYPE", t->token_type);
        printf("export AZURE_TOKEN_EXPIRES_IN=%llu\n", expires_in);
        print_env("AZURE_TOKEN_EXPIRES_ON", expires_on);
        printf("export AZURE_TOKEN_LENGTH=%zu\n", t->access_token_len);
    } else {
        fputs("{\n  \"token_type\": ", stdout);
        print_json_string(t->token_type);
        printf(",\n  \"expires_in\": %llu,\n  \"expires_on\": ", expires_in);
        print_json_string(expires_on);
        printf(",\n  \"access_token_length\": %zu,\n  \"credential\": ", t->access_token_len);
        print_json_string(credential);
        fputs("\n}\n", stdout);
    }
}

/* " (x-ms-request-id: R)", or the client request id when no answer named one. */
static void print_ids(const char *label, const bk_call_record *rec) {
    fprintf(stderr, " (%s", label);
    if (rec->request_id[0] != '\0') {
        fputs("x-ms-request-id: ", stderr);
        bk_cli_print_one_line(stderr, rec->request_id, false);
        if (rec->client_request_id[0] != '\0') {
            fputs(", ", stderr);
        }
    }
    if (rec->client_request_id[0] != '\0') {
        fprintf(stderr, "x-ms-client-request-id: %s", rec->client_request_id);
    }
    fputc(')', stderr);
}

/* "HTTP 503 ServiceUnavailable", "no answer: timed out", "HTTP 200, then: <failure>". */
static void print_answer(const bk_call_record *rec) {
    if (rec->status == 0) {
        fprintf(stderr, "no answer: %s", bk_strerror(rec->failure));
        return;
    }
    fprintf(stderr, "HTTP %d", rec->status);
    if (rec->error_code[0] != '\0') {
        fputc(' ', stderr);
        bk_cli_print_one_line(stderr, rec->error_code, false);
    }
    if (rec->failure != BK_OK) {
        fprintf(stderr, ", then: %s", bk_strerror(rec->failure));
    }
}

static void report_outcome_unknown(const bk_client *client) {
    const bk_call_record *regen = &client->regenerate;
    fputs(": ", stderr);
    print_answer(regen);
    /* cloud_error still holds the regenerate's answer unless the listKeys was refused too. */
    if (client->reconcile_result == BK_OK && regen->error_code[0] != '\0' &&
        client->cloud_error.message[0] != '\0') {
        fputs(": ", stderr);
        bk_cli_print_one_line(stderr, client->cloud_error.message, false);
    }
    print_ids("regenerateKeys ", regen);
    if (client->reconcile_result == BK_OK) {
        fputs("; listKeys read the keys the service holds now, printed on stdout", stderr);
    } else {
        fprintf(stderr, "; listKeys failed too: %s: ", bk_strerror(client->reconcile_result));
        print_answer(&client->call);
    }
    print_ids("listKeys ", &client->call);
}

/* What went wrong before any answer came, saying where: "host name lookup failed for HOST",
 * "TCP connect to HOST:PORT failed", "TLS handshake with HOST:PORT failed: ...", and for a
 * connection through a proxy, whether the proxy or the tunnel failed. */
static void print_no_answer(bk_result r, const bk_call_record *rec,
                            const bk_cli_connection_detail *detail) {
    const bk_endpoint *ep = rec->endpoint;
    if (ep == NULL) {
        fputs(bk_strerror(r), stderr);
        return;
    }
    const char *proxy =
        detail != NULL && detail->proxy != NULL && detail->proxy[0] != '\0' ? detail->proxy : NULL;
    const char *tls_detail = detail != NULL ? detail->tls : NULL;
    int status = detail != NULL ? detail->proxy_status : 0;
    switch (r) {
    case BK_ERR_DNS:
        if (proxy != NULL) {
            fprintf(stderr, "host name lookup failed for the proxy %s", proxy);
        } else {
            fprintf(stderr, "host name lookup failed for %s", ep->host);
        }
        return;
    case BK_ERR_CONNECT:
        if (proxy != NULL) {
            fprintf(stderr, "TCP connect to the proxy %s failed", proxy);
            return;
        }
        fprintf(stderr, "TCP connect to %s:%u failed", ep->host, (unsigned)ep->port);
        break;
    case BK_ERR_PROXY_REFUSED:
    case BK_ERR_PROXY_ANSWER:
        fprintf(stderr, "the proxy %s, asked for a tunnel to %s:%u: ", proxy ? proxy : "?",
                ep->host, (unsigned)ep->port);
        if (r == BK_ERR_PROXY_ANSWER) {
            fputs(bk_strerror(r), stderr);
        } else {
            fprintf(stderr, "refused it: HTTP %d", status);
        }
        if (status == 407) {
            fputs(" (proxy authentication required: check the user and password in --proxy "
                  "or HTTPS_PROXY)",
                  stderr);
        }
        return;
    case BK_ERR_TLS_HANDSHAKE:
    case BK_ERR_TLS_VERIFY:
        fprintf(stderr, "TLS handshake with %s:%u failed: %s", ep->host, (unsigned)ep->port,
                bk_strerror(r));
        break;
    default:
        fprintf(stderr, "%s to %s:%u: %s", rec->operation != NULL ? rec->operation : "request",
                ep->host, (unsigned)ep->port, bk_strerror(r));
        break;
    }
    if (proxy != NULL) {
        fprintf(stderr, " (through the proxy %s)", proxy);
    }
    if (tls_detail != NULL && tls_detail[0] != '\0') {
        fprintf(stderr, " (%s)", tls_detail);
    }
    if (r == BK_ERR_TLS_VERIFY) {
        fputs("; if the server's certificate comes from a private CA, give that CA with "
              "--ca-file",
              stderr);
    }
}

void bk_cli_report_failure(const char *what, bk_result r, const bk_client *client,
                           const bk_cli_connection_detail *detail) {
    if (r == BK_ERR_OUTCOME_UNKNOWN) {
        fprintf(stderr, "batchkey: %s outcome unknown, it may have acted", what);
        report_outcome_unknown(client);
        fputc('\n', stderr);
        return;
    }
    const bk_call_record *rec = &client->call;
    fprintf(stderr, "batchkey: %s failed: ", what);
    if (r == BK_ERR_AUTH_REFUSED) {
        if (rec->endpoint == &client->authority) {
            fprintf(stderr, "%s: HTTP %d ", bk_strerror(r), rec->status);
        } else { /* a managed identity endpoint, not Entra ID */
            fprintf(stderr, "%s refused: HTTP %d ", client->credential.name, rec->status);
        }
        bk_cli_print_one_line(stderr, client->entra_error.error, false);
        fputs(": ", stderr);
        bk_cli_print_one_line(stderr, client->entra_error.error_description, true);
        if (strcmp(client->entra_error.error, "invalid_grant") == 0) {
            fputs(" (the sign-in is no longer valid: batchkey login again)", stderr);
        }
        if (client->entra_error.trace_id[0] != '\0') {
            fputs(" (trace_id: ", stderr);
            bk_cli_print_one_line(stderr, client->entra_error.trace_id, false);
            fputs(", correlation_id: ", stderr);
            bk_cli_print_one_line(stderr, client->entra_error.correlation_id, false);
            fputc(')', stderr);
        }
    } else if (rec->status != 0 && rec->failure == BK_OK) {
        /* A whole answer came: what the service said, in its own words. */
        fprintf(stderr, "%s: HTTP %d", bk_strerror(r), rec->status);
        if (rec->endpoint == &client->authority) {
            fputs(" from the token endpoint", stderr);
        } else if (client->cloud_error.code[0] != '\0') {
            fputc(' ', stderr);
            bk_cli_print_one_line(stderr, client->cloud_error.code, false);
            fputs(": ", stderr);
            bk_cli_print_one_line(stderr, client->cloud_error.message, false);
        }
    } else {
        print_no_answer(r, rec, detail);
    }
    if (rec->request_id[0] != '\0' || rec->attempts > 0) {
        print_ids("", rec);
    }
    fputc('\n', stderr);
}
