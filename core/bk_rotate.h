/* SPDX-License-Identifier: MIT */
/* Crash-safe rotation of a Batch account's two shared keys (DESIGN.md, Rotation).
 *
 *     static bk_rotation rot;                      // large: keep it out of small stacks
 *     bk_rotation_init(&rot, &client, store);      // client: endpoints, credential, account set
 *     rot.max_age_s = 30 * 86400;
 *     r = bk_rotate_run(&rot);                     // check, regenerate, prove, switch, publish
 *     if (r == BK_OK && rot.report.published) run_deploy_hook();
 *     if (r == BK_OK) r = bk_rotate_finish(&rot);  // --retire, then the step back to idle
 *
 * Every step is first written to the store as a record ("rotation"), then acted on, so a run
 * that finds a step in flight continues it instead of repeating it: a regenerate that may have
 * gone out is reconciled with listKeys against the key the record holds (changed: it acted, the
 * new key is adopted as pending; unchanged: it did not), never sent a second time. The device's
 * key is published as the record "active.key" (the key and a newline). */
#ifndef BK_ROTATE_H
#define BK_ROTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bk_arm.h"
#include "bk_client.h"
#include "bk_config.h"
#include "bk_json.h"
#include "bk_platform.h"
#include "bk_result.h"

#define BK_ROTATION_RECORD   "rotation"
#define BK_ACTIVE_KEY_RECORD "active.key"
#define BK_ROTATION_FORMAT   1

/* Where a run stands; persisted before the step it names is acted on. */
typedef enum bk_rotation_step {
    BK_STEP_IDLE,         /* the active key is in use; nothing in flight */
    BK_STEP_REGENERATING, /* regenerateKeys of the standby slot may have gone out */
    BK_STEP_PENDING,      /* the standby slot holds a new key, not yet proven */
    BK_STEP_PUBLISHING,   /* the new key is active; its file and the deploy hook are to do */
    BK_STEP_RETIRING,     /* --retire: regenerateKeys of the old slot may have gone out */
    BK_STEP_COUNT
} bk_rotation_step;

/* The persisted record. since_s: when batchkey first saw a key value (Unix seconds; 0 when
 * unknown, as for keys adopted on a first run: an unknown age is due). */
typedef struct bk_rotation_state {
    uint32_t sequence; /* one more at every save */
    int64_t updated_s;
    char subscription_id[37];
    char resource_group[4 * 90 + 1]; /* 90 characters of up to 4 UTF-8 bytes */
    char account_name[25];
    char account_endpoint[BK_HOST_MAX + 1];
    bk_key_name active;
    bk_rotation_step step;
    uint32_t rotations;      /* switches made */
    int64_t last_rotation_s; /* the last switch; 0 never */
    int64_t since_s[2];      /* per bk_key_name */
    char keys[2][BK_KEY_MAX + 1];
} bk_rotation_state;

/* Where a test may stop a run (bk_rotation.checkpoint), in order. */
typedef enum bk_rotation_point {
    BK_AT_BEFORE_REGENERATE, /* REGENERATING saved, nothing sent yet */
    BK_AT_AFTER_REGENERATE,  /* the answer read, PENDING not saved yet */
    BK_AT_PENDING_SAVED,     /* PENDING saved, no proof tried */
    BK_AT_PROVING,           /* the first proof attempt answered */
    BK_AT_SWITCHED,          /* PUBLISHING saved, the key file not written */
    BK_AT_PUBLISHED,         /* the key file written, the run not finished */
    BK_AT_COUNT
} bk_rotation_point;

typedef enum bk_rotation_action {
    BK_ROTATION_NONE,    /* failed before deciding */
    BK_ROTATION_SKIPPED, /* the active key is younger than max_age_s: nothing sent at all */
    BK_ROTATION_CHECKED, /* dry run: every check passed and the active key was proven */
    BK_ROTATION_ROTATED  /* a new key was proven and made active */
} bk_rotation_action;

/* What a run did, for the report; never a key. */
typedef struct bk_rotation_report {
    bk_rotation_action action;
    bool adopted;         /* there was no record: the service's keys were adopted */
    bool resumed;         /* an interrupted step was continued */
    bool changed_outside; /* listKeys showed a key batchkey did not make (another rotator?) */
    bool switched;
    bool published; /* the key file was written: the deploy hook is due */
    bool retired;
    bool key_file_stale;       /* dry run: the key file does not hold the active key */
    bk_key_name previous;      /* the active slot before the run */
    int64_t active_age_s;      /* of the active key after the run; -1 unknown */
    uint32_t regenerates_sent; /* regenerateKeys requests this run sent (429 retries included) */
    uint32_t proof_attempts;
    int proof_status; /* the last proof's HTTP status; 0 none */
    char proof_request_id[BK_HTTP_ID_MAX + 1];
    char regenerate_request_id[BK_HTTP_ID_MAX + 1];
    char retire_request_id[BK_HTTP_ID_MAX + 1];
} bk_rotation_report;

typedef struct bk_rotation {
    /* Set by the caller (bk_rotation_init gives the defaults). */
    bk_client *client;  /* endpoints, credential and account set; client->batch too when */
    bool batch_given;   /* ... the data plane's endpoint is given, not read from the account */
    bk_store store;     /* where the record and the key file go */
    uint32_t max_age_s; /* the active key's age that makes it due; 30 days */
    bool force;         /* due whatever its age */
    bool dry_run;       /* check and prove the active key; no regenerate, no write at all */
    bool retire;        /* after a switch, regenerate the old key too */
    bk_key_name first_active;      /* with no record and no key file: the slot in use */
    const char *batch_api_version; /* BK_BATCH_API_VERSION */
    uint32_t proof_wait_ms;        /* first wait after a refused proof (doubles); 2 s */
    uint32_t proof_wait_max_ms;    /* longest wait between proofs; 30 s */
    /* Called at each bk_rotation_point (tests stop the process there); may be NULL. */
    void (*checkpoint)(void *ctx, bk_rotation_point point);
    void *checkpoint_ctx;

    /* After a run. */
    bk_rotation_state state;
    bk_rotation_report report;
    bk_batch_account account; /* the GET's answer, when one was made */

    /* Internal. */
    bk_account_keys keys; /* the last listKeys or regenerateKeys answer */
    uint8_t record[BK_STATE_RECORD_MAX];
    int64_t now_s;     /* the run's time: the wall clock, or the service's Date; -1 unknown */
    bool skip_publish; /* a retire resumed: the key file was published before */
} bk_rotation;

void bk_rotation_init(bk_rotation *rot, bk_client *client, bk_store store);
BK_MUST_CHECK bk_result bk_rotate_run(bk_rotation *rot);
/* After bk_rotate_run returned BK_OK and any deploy hook ran: --retire's regenerate of the old
 * slot, then the record back to idle. Does nothing when no switch or publish is in flight. */
BK_MUST_CHECK bk_result bk_rotate_finish(bk_rotation *rot);
/* Wipes the keys the rotation holds (the record buffer, the state, the last listKeys). */
void bk_rotation_wipe(bk_rotation *rot);

/* Reads the record from store into out without touching the network (`batchkey status`,
 * `batchkey keys --active`). account, when not NULL, must match (BK_ERR_STATE_FOREIGN). */
BK_MUST_CHECK bk_result bk_rotation_load(bk_store store, const bk_account_ref *account,
                                         uint8_t *buf, size_t cap, bk_rotation_state *out);

/* The record format: text lines "name value", a format version first and a CRC-32 last. */
BK_MUST_CHECK bk_result bk_rotation_serialize(const bk_rotation_state *state, uint8_t *buf,
                                              size_t cap, size_t *out_len);
/* BK_ERR_STATE_CORRUPT for a record that fails its checksum or does not parse,
 * BK_ERR_STATE_VERSION for another format version. */
BK_MUST_CHECK bk_result bk_rotation_parse(const uint8_t *buf, size_t len, bk_rotation_state *out);
/* BK_OK when the record is the account's (names compared as Azure does, ignoring case). */
BK_MUST_CHECK bk_result bk_rotation_check_account(const bk_rotation_state *state,
                                                  const bk_account_ref *account);

/* "idle", "regenerating", "pending", "publishing", "retiring". */
const char *bk_rotation_step_name(bk_rotation_step step);
const char *bk_key_name_text(bk_key_name key); /* "primary", "secondary" */

#endif
