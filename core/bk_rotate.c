/* SPDX-License-Identifier: MIT */
/* Crash-safe key rotation: the record, its format, and the steps (see bk_rotate.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bk_ascii.h"
#include "bk_crypto.h"
#include "bk_platform.h"
#include "bk_rotate.h"
#include "bk_store.h"
#include "bk_writer.h"

static const char *const step_names[BK_STEP_COUNT] = {"idle", "regenerating", "pending",
                                                      "publishing", "retiring"};

const char *bk_rotation_step_name(bk_rotation_step step) {
    return (unsigned)step < BK_STEP_COUNT ? step_names[step] : "unknown";
}

const char *bk_key_name_text(bk_key_name key) {
    return key == BK_KEY_SECONDARY ? "secondary" : "primary";
}

static bk_key_name other_slot(bk_key_name key) {
    return key == BK_KEY_PRIMARY ? BK_KEY_SECONDARY : BK_KEY_PRIMARY;
}

/* --- the record: "name value" lines in a fixed order, a CRC-32 line last --- */

#define MAGIC_LINE "batchkey-rotation "

static void write_line(bk_writer *w, const char *name, const char *value) {
    bk_write_str(w, name);
    bk_write_str(w, " ");
    bk_write_str(w, value);
    bk_write_str(w, "\n");
}

static void write_number(bk_writer *w, const char *name, uint64_t value) {
    bk_write_str(w, name);
    bk_write_str(w, " ");
    bk_write_uint(w, value);
    bk_write_str(w, "\n");
}

static uint64_t time_field(int64_t seconds) {
    return seconds > 0 ? (uint64_t)seconds : 0;
}

bk_result bk_rotation_serialize(const bk_rotation_state *s, uint8_t *buf, size_t cap,
                                size_t *out_len) {
    if (s == NULL || buf == NULL || out_len == NULL || (unsigned)s->step >= BK_STEP_COUNT) {
        return BK_ERR_ARGUMENT;
    }
    bk_writer w;
    bk_writer_init(&w, (char *)buf, cap);
    write_number(&w, "batchkey-rotation", BK_ROTATION_FORMAT);
    write_number(&w, "sequence", s->sequence);
    write_number(&w, "updated", time_field(s->updated_s));
    write_line(&w, "subscription", s->subscription_id);
    write_line(&w, "resource-group", s->resource_group);
    write_line(&w, "account", s->account_name);
    write_line(&w, "endpoint", s->account_endpoint);
    write_line(&w, "active", bk_key_name_text(s->active));
    write_line(&w, "step", bk_rotation_step_name(s->step));
    write_number(&w, "rotations", s->rotations);
    write_number(&w, "last-rotation", time_field(s->last_rotation_s));
    write_number(&w, "primary-since", time_field(s->since_s[BK_KEY_PRIMARY]));
    write_number(&w, "secondary-since", time_field(s->since_s[BK_KEY_SECONDARY]));
    write_line(&w, "primary-key", s->keys[BK_KEY_PRIMARY]);
    write_line(&w, "secondary-key", s->keys[BK_KEY_SECONDARY]);
    uint32_t crc = w.overflow ? 0 : bk_crc32(0, buf, w.len);
    static const char hex[] = "0123456789abcdef";
    char crc_text[9];
    for (int i = 0; i < 8; i++) {
        crc_text[i] = hex[(crc >> (28 - 4 * i)) & 0xfu];
    }
    crc_text[8] = '\0';
    write_line(&w, "crc32", crc_text);
    bk_result r = bk_writer_finish(&w, out_len);
    if (r != BK_OK) {
        bk_wipe(buf, cap); /* a cut record may still hold a key */
        return BK_ERR_STORE_TOO_LARGE;
    }
    return BK_OK;
}

typedef struct cursor {
    const char *text;
    size_t len;
    size_t pos;
} cursor;

/* The next line, which must be "name value" (value may be empty only where allowed); *value
 * points into the record. */
static bool next_field(cursor *c, const char *name, const char **value, size_t *value_len) {
    size_t name_len = strlen(name);
    const char *line = c->text + c->pos;
    size_t left = c->len - c->pos;
    if (left < name_len + 2 || memcmp(line, name, name_len) != 0 || line[name_len] != ' ') {
        return false;
    }
    size_t end = name_len + 1;
    while (end < left && line[end] != '\n') {
        unsigned char ch = (unsigned char)line[end];
        if (ch < 0x20 || ch == 0x7f) {
            return false;
        }
        end++;
    }
    if (end == left) {
        return false; /* no newline: cut short */
    }
    *value = line + name_len + 1;
    *value_len = end - name_len - 1;
    c->pos += end + 1;
    return true;
}

static bool copy_text(char *out, size_t cap, const char *value, size_t len) {
    if (len >= cap) {
        return false;
    }
    memcpy(out, value, len);
    out[len] = '\0';
    return true;
}

static bool read_text(cursor *c, const char *name, char *out, size_t cap, bool may_be_empty) {
    const char *v;
    size_t len;
    return next_field(c, name, &v, &len) && (len > 0 || may_be_empty) &&
           copy_text(out, cap, v, len);
}

static bool read_number(cursor *c, const char *name, uint64_t max, uint64_t *out) {
    const char *v;
    size_t len;
    return next_field(c, name, &v, &len) && len <= 20 &&
           bk_ascii_decimal(v, len, max, out) == BK_DECIMAL_OK;
}

static bool read_time(cursor *c, const char *name, int64_t *out) {
    uint64_t n = 0;
    if (!read_number(c, name, (uint64_t)INT64_MAX, &n)) {
        return false;
    }
    *out = (int64_t)n;
    return true;
}

static bool read_choice(cursor *c, const char *name, const char *const *choices, unsigned count,
                        unsigned *out) {
    const char *v;
    size_t len;
    if (!next_field(c, name, &v, &len)) {
        return false;
    }
    for (unsigned i = 0; i < count; i++) {
        if (strlen(choices[i]) == len && memcmp(choices[i], v, len) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

static bool base64_key_ok(const char *key) {
    size_t len = strlen(key);
    for (size_t i = 0; i < len; i++) {
        char ch = key[i];
        if (!bk_ascii_is_alnum(ch) && ch != '+' && ch != '/' && ch != '=') {
            return false;
        }
    }
    return len > 0;
}

static bool read_fields(cursor *c, bk_rotation_state *s) {
    static const char *const slots[] = {"primary", "secondary"};
    uint64_t n = 0;
    unsigned active = 0;
    unsigned step = 0;
    bool ok = read_number(c, "sequence", UINT32_MAX, &n);
    s->sequence = (uint32_t)n;
    ok = ok && read_time(c, "updated", &s->updated_s) &&
         read_text(c, "subscription", s->subscription_id, sizeof s->subscription_id, false) &&
         read_text(c, "resource-group", s->resource_group, sizeof s->resource_group, false) &&
         read_text(c, "account", s->account_name, sizeof s->account_name, false) &&
         read_text(c, "endpoint", s->account_endpoint, sizeof s->account_endpoint, true) &&
         read_choice(c, "active", slots, 2, &active) &&
         read_choice(c, "step", step_names, BK_STEP_COUNT, &step) &&
         read_number(c, "rotations", UINT32_MAX, &n);
    s->rotations = (uint32_t)n;
    s->active = (bk_key_name)active;
    s->step = (bk_rotation_step)step;
    ok = ok && read_time(c, "last-rotation", &s->last_rotation_s) &&
         read_time(c, "primary-since", &s->since_s[BK_KEY_PRIMARY]) &&
         read_time(c, "secondary-since", &s->since_s[BK_KEY_SECONDARY]) &&
         read_text(c, "primary-key", s->keys[BK_KEY_PRIMARY], sizeof s->keys[0], false) &&
         read_text(c, "secondary-key", s->keys[BK_KEY_SECONDARY], sizeof s->keys[0], false);
    return ok && bk_validate_subscription_id(s->subscription_id) == BK_OK &&
           bk_validate_resource_group(s->resource_group) == BK_OK &&
           bk_validate_account_name(s->account_name) == BK_OK &&
           base64_key_ok(s->keys[BK_KEY_PRIMARY]) && base64_key_ok(s->keys[BK_KEY_SECONDARY]);
}

bk_result bk_rotation_parse(const uint8_t *buf, size_t len, bk_rotation_state *out) {
    if (buf == NULL || out == NULL) {
        return BK_ERR_ARGUMENT;
    }
    memset(out, 0, sizeof *out);
    const char *text = (const char *)buf;
    /* The last line is "crc32 xxxxxxxx\n" over everything before it. */
    static const size_t crc_line = 15;
    if (len < crc_line + sizeof MAGIC_LINE || memchr(text, '\0', len) != NULL ||
        memcmp(text + len - crc_line, "crc32 ", 6) != 0 || text[len - 1] != '\n') {
        return BK_ERR_STATE_CORRUPT;
    }
    uint32_t stated = 0;
    for (size_t i = len - crc_line + 6; i < len - 1; i++) {
        int digit = bk_ascii_hex_value(text[i]);
        if (digit < 0 || (text[i] >= 'A' && text[i] <= 'F')) {
            return BK_ERR_STATE_CORRUPT;
        }
        stated = stated << 4 | (uint32_t)digit;
    }
    if (bk_crc32(0, buf, len - crc_line) != stated) {
        return BK_ERR_STATE_CORRUPT;
    }
    cursor c = {text, len - crc_line, 0};
    uint64_t version = 0;
    if (!read_number(&c, "batchkey-rotation", UINT32_MAX, &version)) {
        return BK_ERR_STATE_CORRUPT;
    }
    if (version != BK_ROTATION_FORMAT) {
        return BK_ERR_STATE_VERSION;
    }
    if (!read_fields(&c, out) || c.pos != c.len) {
        bk_wipe(out, sizeof *out);
        return BK_ERR_STATE_CORRUPT;
    }
    return BK_OK;
}

static bool text_ieq(const char *a, const char *b) {
    return bk_ascii_ieq(a, strlen(a), b);
}

bk_result bk_rotation_check_account(const bk_rotation_state *s, const bk_account_ref *account) {
    if (s == NULL || account == NULL || account->subscription_id == NULL ||
        account->resource_group == NULL || account->account_name == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bool same = text_ieq(s->subscription_id, account->subscription_id) &&
                text_ieq(s->resource_group, account->resource_group) &&
                text_ieq(s->account_name, account->account_name);
    return same ? BK_OK : BK_ERR_STATE_FOREIGN;
}

bk_result bk_rotation_load(bk_store store, const bk_account_ref *account, uint8_t *buf, size_t cap,
                           bk_rotation_state *out) {
    size_t len = 0;
    bk_result r = store.load(store.ctx, BK_ROTATION_RECORD, buf, cap, &len);
    if (r == BK_OK) {
        r = bk_rotation_parse(buf, len, out);
    }
    bk_wipe(buf, cap);
    if (r == BK_OK && account != NULL) {
        r = bk_rotation_check_account(out, account);
    }
    return r;
}

/* --- the steps --- */

void bk_rotation_init(bk_rotation *rot, bk_client *client, bk_store store) {
    memset(rot, 0, sizeof *rot);
    rot->client = client;
    rot->store = store;
    rot->max_age_s = 30u * 86400u;
    rot->first_active = BK_KEY_PRIMARY;
    rot->batch_api_version = BK_BATCH_API_VERSION;
    rot->proof_wait_ms = 2000;
    rot->proof_wait_max_ms = 30000;
}

void bk_rotation_wipe(bk_rotation *rot) {
    bk_wipe(&rot->state, sizeof rot->state);
    bk_wipe(&rot->keys, sizeof rot->keys);
    bk_wipe(rot->record, sizeof rot->record);
}

static void checkpoint(bk_rotation *rot, bk_rotation_point point) {
    if (rot->checkpoint != NULL) {
        rot->checkpoint(rot->checkpoint_ctx, point);
    }
}

static void log_text(bk_log_level level, const char *a, const char *b) {
    char line[200];
    bk_writer w;
    bk_writer_init(&w, line, sizeof line - 1);
    bk_write_str(&w, a);
    bk_write_str(&w, b);
    line[w.len] = '\0';
    bk_log(level, line);
}

static const char *service_key(const bk_account_keys *keys, bk_key_name slot) {
    return slot == BK_KEY_PRIMARY ? keys->primary : keys->secondary;
}

static void set_key(bk_rotation *rot, bk_key_name slot, const char *key) {
    memcpy(rot->state.keys[slot], key, strlen(key) + 1);
    rot->state.since_s[slot] = rot->now_s > 0 ? rot->now_s : 0;
}

static bk_result save_state(bk_rotation *rot) {
    rot->state.sequence++;
    rot->state.updated_s = rot->now_s > 0 ? rot->now_s : 0;
    size_t len = 0;
    bk_result r = bk_rotation_serialize(&rot->state, rot->record, sizeof rot->record, &len);
    if (r == BK_OK) {
        r = rot->store.save(rot->store.ctx, BK_ROTATION_RECORD, rot->record, len);
    }
    bk_wipe(rot->record, sizeof rot->record);
    if (r != BK_OK) {
        rot->state.sequence--;
        log_text(BK_LOG_DEBUG, "saving the rotation state failed: ", bk_strerror(r));
    }
    return r;
}

/* Whether the key file holds the active key (and its newline). */
static bool key_file_current(bk_rotation *rot) {
    size_t len = 0;
    const char *key = rot->state.keys[rot->state.active];
    size_t key_len = strlen(key);
    bk_result r = rot->store.load(rot->store.ctx, BK_ACTIVE_KEY_RECORD, rot->record,
                                  sizeof rot->record, &len);
    bool current = r == BK_OK && len == key_len + 1 && memcmp(rot->record, key, key_len) == 0 &&
                   rot->record[key_len] == '\n';
    bk_wipe(rot->record, sizeof rot->record);
    return current;
}

static bk_result publish(bk_rotation *rot) {
    const char *key = rot->state.keys[rot->state.active];
    size_t len = strlen(key);
    memcpy(rot->record, key, len);
    rot->record[len] = '\n';
    bk_result r = rot->store.save(rot->store.ctx, BK_ACTIVE_KEY_RECORD, rot->record, len + 1);
    bk_wipe(rot->record, sizeof rot->record);
    if (r != BK_OK) {
        return r;
    }
    rot->report.published = true;
    log_text(BK_LOG_INFO, "published the active key: ", bk_key_name_text(rot->state.active));
    return BK_OK;
}

static bool due(const bk_rotation *rot) {
    int64_t since = rot->state.since_s[rot->state.active];
    if (rot->force || since <= 0 || rot->now_s < 0) {
        return true; /* an unknown age is due */
    }
    return rot->now_s - since >= (int64_t)rot->max_age_s;
}

static void note_age(bk_rotation *rot) {
    int64_t since = rot->state.since_s[rot->state.active];
    if (since <= 0 || rot->now_s < 0) {
        rot->report.active_age_s = -1; /* adopted, or no clock */
    } else {
        rot->report.active_age_s = rot->now_s > since ? rot->now_s - since : 0;
    }
}

/* The account: it must allow SharedKey; its endpoint is the data plane's unless one was given. */
static bk_result check_account(bk_rotation *rot) {
    bk_client *c = rot->client;
    bk_result r = bk_client_get_account(c, &rot->account);
    if (r != BK_OK) {
        return r;
    }
    if (rot->now_s < 0) {
        rot->now_s = c->response_date_s; /* no wall clock: the service's Date */
    }
    if (rot->account.auth_modes_present && !(rot->account.auth_modes & BK_AUTH_MODE_SHARED_KEY)) {
        return BK_ERR_SHARED_KEY_DISABLED;
    }
    if (!rot->batch_given) {
        char url[BK_HOST_MAX + 9];
        bk_writer w;
        bk_writer_init(&w, url, sizeof url - 1);
        bk_write_str(&w, "https://");
        bk_write_str(&w, rot->account.account_endpoint);
        url[w.len] = '\0';
        if (w.overflow || rot->account.account_endpoint[0] == '\0' ||
            bk_endpoint_parse(&c->batch, url) != BK_OK) {
            return BK_ERR_JSON_TYPE; /* an accountEndpoint that is no host name */
        }
    }
    return BK_OK;
}

/* listKeys showed keys: an active key the record does not hold was changed outside batchkey
 * (the device's key is dead then); take the service's, so the device gets a key that works. */
static void check_active_key(bk_rotation *rot) {
    bk_key_name a = rot->state.active;
    const char *now_held = service_key(&rot->keys, a);
    if (strcmp(now_held, rot->state.keys[a]) != 0) {
        rot->report.changed_outside = true;
        set_key(rot, a, now_held);
        log_text(BK_LOG_WARN,
                 "the active key was changed outside batchkey (another rotator on this account?): "
                 "adopting the ",
                 bk_key_name_text(a));
    }
}

/* No record: the service's keys, with the slot the key file names (or first_active) active. */
static bk_result adopt(bk_rotation *rot) {
    bk_result r = bk_client_list_keys(rot->client, &rot->keys);
    if (r != BK_OK) {
        return r;
    }
    bk_rotation_state *s = &rot->state;
    const bk_account_ref *a = &rot->client->account;
    memset(s, 0, sizeof *s);
    bool fits = copy_text(s->subscription_id, sizeof s->subscription_id, a->subscription_id,
                          strlen(a->subscription_id)) &&
                copy_text(s->resource_group, sizeof s->resource_group, a->resource_group,
                          strlen(a->resource_group)) &&
                copy_text(s->account_name, sizeof s->account_name, a->account_name,
                          strlen(a->account_name));
    if (!fits) {
        return BK_ERR_ARGUMENT;
    }
    memcpy(s->account_endpoint, rot->account.account_endpoint, sizeof s->account_endpoint);
    memcpy(s->keys[BK_KEY_PRIMARY], rot->keys.primary, sizeof s->keys[0]);
    memcpy(s->keys[BK_KEY_SECONDARY], rot->keys.secondary, sizeof s->keys[0]);
    s->active = rot->first_active;
    for (int slot = 0; slot < 2; slot++) {
        s->active = (bk_key_name)slot;
        if (key_file_current(rot)) {
            break; /* the device already uses this one */
        }
        s->active = rot->first_active;
    }
    s->step = BK_STEP_IDLE;
    rot->report.adopted = true;
    rot->report.previous = s->active;
    log_text(BK_LOG_INFO, "no rotation state: adopted the service's keys, active: ",
             bk_key_name_text(s->active));
    return rot->dry_run ? BK_OK : save_state(rot);
}

/* A step in flight: what the service holds tells whether it happened. */
static bk_result resume(bk_rotation *rot) {
    bk_rotation_state *s = &rot->state;
    rot->report.resumed = true;
    log_text(BK_LOG_INFO, "continuing an interrupted rotation at step ",
             bk_rotation_step_name(s->step));
    if (s->step == BK_STEP_PUBLISHING) {
        return BK_OK;
    }
    bk_result r = bk_client_list_keys(rot->client, &rot->keys);
    if (r != BK_OK) {
        return r;
    }
    check_active_key(rot);
    bk_key_name t = other_slot(s->active);
    const char *held = service_key(&rot->keys, t);
    bool changed = strcmp(held, s->keys[t]) != 0;
    if (changed) {
        set_key(rot, t, held);
    }
    if (s->step == BK_STEP_REGENERATING) {
        s->step = changed ? BK_STEP_PENDING : BK_STEP_IDLE;
        log_text(BK_LOG_INFO,
                 changed ? "the interrupted regenerateKeys acted: new key pending"
                         : "the interrupted regenerateKeys did not act",
                 "");
    } else if (s->step == BK_STEP_PENDING) {
        if (changed) {
            rot->report.changed_outside = true;
            log_text(BK_LOG_WARN,
                     "the pending key was changed outside batchkey: proving the "
                     "service's",
                     "");
        }
    } else if (s->step == BK_STEP_RETIRING) {
        rot->report.retired = changed;
        s->step = changed ? BK_STEP_IDLE : BK_STEP_PUBLISHING;
        rot->skip_publish = !changed;
    }
    return save_state(rot);
}

/* Sends regenerateKeys for slot and settles what it did: BK_OK with the new key in the record
 * when it acted, BK_ERR_ROTATION_INCOMPLETE when it surely did not, BK_ERR_OUTCOME_UNKNOWN when
 * that cannot be told now (the record keeps the step in flight for the next run). */
static bk_result regenerate(bk_rotation *rot, bk_key_name slot, char *request_id) {
    bk_client *c = rot->client;
    bk_result r = bk_client_regenerate_key(c, slot, &rot->keys);
    rot->report.regenerates_sent += c->regenerate.attempts;
    memcpy(request_id, c->regenerate.request_id, sizeof c->regenerate.request_id);
    bool keys_known = r == BK_OK || (r == BK_ERR_OUTCOME_UNKNOWN && c->reconcile_result == BK_OK);
    if (!keys_known) {
        return r;
    }
    check_active_key(rot);
    const char *held = service_key(&rot->keys, slot);
    if (strcmp(held, rot->state.keys[slot]) == 0) {
        log_text(BK_LOG_WARN, "regenerateKeys did not change the key: ", bk_key_name_text(slot));
        return BK_ERR_ROTATION_INCOMPLETE;
    }
    set_key(rot, slot, held);
    return BK_OK;
}

static bk_result regenerate_standby(bk_rotation *rot) {
    bk_rotation_state *s = &rot->state;
    bk_key_name t = other_slot(s->active);
    s->step = BK_STEP_REGENERATING;
    bk_result r = save_state(rot);
    if (r != BK_OK) {
        s->step = BK_STEP_IDLE;
        return r;
    }
    checkpoint(rot, BK_AT_BEFORE_REGENERATE);
    r = regenerate(rot, t, rot->report.regenerate_request_id);
    if (r == BK_ERR_OUTCOME_UNKNOWN) {
        return r; /* the record says REGENERATING: the next run reconciles */
    }
    if (r != BK_OK) {
        /* Refused, never sent, or reconciled as not acted: nothing is in flight. */
        s->step = BK_STEP_IDLE;
        bk_result saved = save_state(rot);
        return saved == BK_OK ? r : saved;
    }
    checkpoint(rot, BK_AT_AFTER_REGENERATE);
    s->step = BK_STEP_PENDING;
    r = save_state(rot);
    if (r == BK_OK) {
        checkpoint(rot, BK_AT_PENDING_SAVED);
    }
    return r;
}

static uint64_t deadline_of(const bk_client *c) {
    return c->deadline_ms != 0 ? c->deadline_ms : bk_monotonic_ms() + BK_CALL_BUDGET_MS;
}

/* One proof of key, no waiting. */
static bk_result prove_once(bk_rotation *rot, const char *key) {
    bk_client *c = rot->client;
    bk_result r = bk_client_prove_key(c, key, rot->batch_api_version);
    rot->report.proof_attempts++;
    rot->report.proof_status = c->call.status;
    memcpy(rot->report.proof_request_id, c->call.request_id, sizeof c->call.request_id);
    return r;
}

/* Proves the pending key, waiting for it to propagate while the deadline allows, then makes it
 * the active one. */
static bk_result prove_and_switch(bk_rotation *rot) {
    bk_rotation_state *s = &rot->state;
    bk_key_name t = other_slot(s->active);
    uint64_t deadline = deadline_of(rot->client);
    uint32_t wait = rot->proof_wait_ms;
    bk_result r;
    for (;;) {
        r = prove_once(rot, s->keys[t]);
        if (rot->report.proof_attempts == 1) {
            checkpoint(rot, BK_AT_PROVING);
        }
        uint64_t now = bk_monotonic_ms();
        if (r != BK_ERR_KEY_REJECTED || now >= deadline ||
            deadline - now < (uint64_t)wait + rot->client->retry.min_attempt_ms) {
            break;
        }
        log_text(BK_LOG_INFO,
                 "the new key is not accepted yet (it may still be propagating); "
                 "trying again",
                 "");
        bk_sleep_ms(wait);
        wait = wait > rot->proof_wait_max_ms / 2 ? rot->proof_wait_max_ms : wait * 2;
    }
    if (r != BK_OK) {
        return r; /* the record stays PENDING: the next run proves it again */
    }
    rot->report.previous = s->active;
    s->active = t;
    s->rotations++;
    s->last_rotation_s = rot->now_s > 0 ? rot->now_s : 0;
    s->step = BK_STEP_PUBLISHING;
    r = save_state(rot);
    if (r != BK_OK) {
        s->active = other_slot(t);
        s->step = BK_STEP_PENDING;
        return r;
    }
    rot->report.switched = true;
    log_text(BK_LOG_INFO, "switched to the new key: ", bk_key_name_text(t));
    checkpoint(rot, BK_AT_SWITCHED);
    return BK_OK;
}

static bk_result dry_run(bk_rotation *rot, bool have_state) {
    if (!have_state) {
        return BK_ERR_STORE_NOT_FOUND; /* nothing to prove without a listKeys, a POST */
    }
    bk_result r = check_account(rot);
    if (r == BK_OK) {
        r = prove_once(rot, rot->state.keys[rot->state.active]);
    }
    if (r == BK_OK) {
        rot->report.key_file_stale = !key_file_current(rot);
        rot->report.action = BK_ROTATION_CHECKED;
        note_age(rot);
    }
    return r;
}

bk_result bk_rotate_run(bk_rotation *rot) {
    bk_rotation_state *s = &rot->state;
    memset(&rot->report, 0, sizeof rot->report);
    rot->report.active_age_s = -1;
    rot->skip_publish = false;
    rot->now_s = bk_wall_clock_s();
    bk_result r =
        bk_rotation_load(rot->store, &rot->client->account, rot->record, sizeof rot->record, s);
    bool have_state = r == BK_OK;
    if (r != BK_OK && r != BK_ERR_STORE_NOT_FOUND) {
        return r;
    }
    rot->report.previous = s->active;
    if (rot->dry_run) {
        return dry_run(rot, have_state);
    }
    /* Nothing in flight and not due: no network at all (a daily timer's usual run). */
    if (have_state && s->step == BK_STEP_IDLE && !due(rot)) {
        r = key_file_current(rot) ? BK_OK : publish(rot);
        rot->report.action = BK_ROTATION_SKIPPED;
        note_age(rot);
        return r;
    }
    r = check_account(rot);
    if (r == BK_OK) {
        r = have_state ? BK_OK : adopt(rot);
    }
    if (r == BK_OK && strcmp(s->account_endpoint, rot->account.account_endpoint) != 0) {
        memcpy(s->account_endpoint, rot->account.account_endpoint, sizeof s->account_endpoint);
    }
    if (r == BK_OK && s->step != BK_STEP_IDLE) {
        r = resume(rot);
    }
    if (r == BK_OK && s->step == BK_STEP_IDLE) {
        if (!key_file_current(rot)) {
            r = publish(rot); /* adopted, or changed outside: the device needs it first */
        }
        if (r == BK_OK && !due(rot)) {
            rot->report.action = BK_ROTATION_SKIPPED;
            note_age(rot);
            return BK_OK;
        }
        if (r == BK_OK) {
            r = regenerate_standby(rot);
        }
    }
    if (r == BK_OK && s->step == BK_STEP_PENDING) {
        r = prove_and_switch(rot);
    }
    if (r == BK_OK && s->step == BK_STEP_PUBLISHING && !rot->skip_publish) {
        r = publish(rot);
        if (r == BK_OK) {
            checkpoint(rot, BK_AT_PUBLISHED);
        }
    }
    if (r == BK_OK) {
        rot->report.action = BK_ROTATION_ROTATED;
    }
    note_age(rot);
    return r;
}

bk_result bk_rotate_finish(bk_rotation *rot) {
    bk_rotation_state *s = &rot->state;
    if (rot->dry_run || s->step != BK_STEP_PUBLISHING) {
        return BK_OK;
    }
    if (!rot->retire) {
        s->step = BK_STEP_IDLE;
        return save_state(rot);
    }
    bk_key_name old = other_slot(s->active);
    s->step = BK_STEP_RETIRING;
    bk_result r = save_state(rot);
    if (r != BK_OK) {
        s->step = BK_STEP_PUBLISHING;
        return r;
    }
    r = regenerate(rot, old, rot->report.retire_request_id);
    if (r == BK_ERR_OUTCOME_UNKNOWN) {
        return r;
    }
    rot->report.retired = r == BK_OK;
    s->step = BK_STEP_IDLE;
    bk_result saved = save_state(rot);
    return r != BK_OK ? r : saved;
}
