/* SPDX-License-Identifier: MIT */
/* The store seam (bk_platform.h) over a directory on Linux: one file per record, replaced whole
 * by writing a temporary file, fsync, rename and fsync of the directory.
 *
 *     static bk_posix_store dir_store;
 *     bk_store store;
 *     r = bk_posix_store_open(&dir_store, "/var/lib/batchkey", &store);
 *     r = store.save(store.ctx, "rotation", record, len);
 *     if (r != BK_OK) {
 *         char why[BK_POSIX_STORE_DESCRIBE_MAX];
 *         bk_posix_store_describe(&dir_store, why, sizeof why);
 *         fprintf(stderr, "batchkey: %s (%s)\n", bk_strerror(r), why);
 *         // batchkey: the record could not be read or written
 *         //   (/var/lib/batchkey/.rotation.tmp: Permission denied)
 *     }
 *
 * The directory holds secrets: it is created 0700 (its last component only) and an existing one
 * of ours with group or other bits is tightened to 0700; record files are 0600. A record named
 * `rotation` is the file <dir>/rotation; a save writes <dir>/.rotation.tmp first, so a leftover
 * temporary file (a crash mid-save) is never read, and the next save of that name removes it.
 * Symbolic links at a record's name are never followed, neither read nor written through. */
#ifndef BK_POSIX_STORE_H
#define BK_POSIX_STORE_H

#include <stddef.h>

#include "bk_platform.h"
#include "bk_result.h"

/* The longest directory path, its NUL included; a longer one is BK_ERR_ARGUMENT. 4096 is Linux's
 * PATH_MAX, so every path the kernel takes fits. */
#ifndef BK_POSIX_STORE_DIR_MAX
#define BK_POSIX_STORE_DIR_MAX 4096
#endif

/* A bk_posix_store_describe text that is never cut: the directory, a record's file name and
 * strerror's longest message. */
#define BK_POSIX_STORE_DESCRIBE_MAX (BK_POSIX_STORE_DIR_MAX + 128)

/* What the last failure was about (bk_posix_store_describe). */
typedef enum bk_posix_store_path {
    BK_POSIX_STORE_PATH_NONE,   /* no failure since the last call began */
    BK_POSIX_STORE_PATH_DIR,    /* the directory */
    BK_POSIX_STORE_PATH_RECORD, /* <dir>/<name> */
    BK_POSIX_STORE_PATH_TEMP    /* <dir>/.<name>.tmp */
} bk_posix_store_path;

/* The caller's; bk_posix_store_open fills it. Large (the path): static, or in a long-lived
 * struct, rather than on a small stack. */
typedef struct bk_posix_store {
    char dir[BK_POSIX_STORE_DIR_MAX]; /* the directory, without trailing '/' (but "/" itself) */
    size_t dir_len;
    /* The last call's failure, cleared when a call begins: */
    bk_posix_store_path failed_path;
    char failed_name[33];    /* the record's name, for _RECORD and _TEMP */
    int failed_errno;        /* errno of the failing call, or 0 with failed_text */
    const char *failed_text; /* a failure that is no errno ("not a regular file"), or NULL */
} bk_posix_store;

/* Makes out a store over the directory dir: created (mode 0700) when missing, as its last
 * component only (a missing parent is BK_ERR_STORE_IO); refused (BK_ERR_STORE_IO) when it is not
 * a directory; tightened to 0700 when it is ours and open to group or others. BK_ERR_ARGUMENT
 * for a NULL, empty or too long path. store must outlive out. */
BK_MUST_CHECK bk_result bk_posix_store_open(bk_posix_store *store, const char *dir, bk_store *out);

/* "<path>: <reason>" for the last call's failure ("/var/lib/batchkey/rotation: Permission
 * denied"), or "" when it succeeded; cut to cap bytes (BK_POSIX_STORE_DESCRIBE_MAX is always
 * enough), always NUL-terminated when cap > 0. Not for a concurrent call: strerror's text. */
void bk_posix_store_describe(const bk_posix_store *store, char *buf, size_t cap);

#endif
