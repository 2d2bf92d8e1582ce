/* SPDX-License-Identifier: MIT */
/* The directory store of bk_posix_store.h.
 *
 * A save writes <dir>/.<name>.tmp (created exclusively, never through a symbolic link, 0600 even
 * under a loose umask), fsyncs it, renames it over <dir>/<name> and fsyncs the directory, so
 * that after a crash the name holds the old file or the new one, whole. Until the rename nothing
 * touches the old record: a failure before it removes the temporary file and leaves the record
 * as it was. The directory's fsync comes after the rename: when it alone fails, the new record
 * is already in place but may not survive a power cut, and the save still answers
 * BK_ERR_STORE_IO (the caller must not count on it). No heap: paths are built in stack buffers
 * of the directory's fixed size. */
#include "bk_posix_store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "bk_ascii.h"

/* A record's file path: the directory, "/.", the name (32), ".tmp" and the NUL. */
#define BK_POSIX_STORE_FILE_MAX (BK_POSIX_STORE_DIR_MAX + 40)

static const char bk_posix_store_not_regular[] = "not a regular file";
static const char bk_posix_store_symlink[] = "a symbolic link (not followed)";
static const char bk_posix_store_too_large[] = "larger than the buffer it is read into";

static void bk_posix_store_clear(bk_posix_store *store) {
    store->failed_path = BK_POSIX_STORE_PATH_NONE;
    store->failed_name[0] = '\0';
    store->failed_errno = 0;
    store->failed_text = NULL;
}

/* Remembers a failure for bk_posix_store_describe and tells what it means for the caller. */
static bk_result bk_posix_store_fail(bk_posix_store *store, bk_posix_store_path path,
                                     const char *name, int err, const char *text) {
    store->failed_path = path;
    if (name != NULL) {
        size_t n = strlen(name);
        if (n >= sizeof store->failed_name) {
            n = sizeof store->failed_name - 1;
        }
        memcpy(store->failed_name, name, n);
        store->failed_name[n] = '\0';
    } else {
        store->failed_name[0] = '\0';
    }
    store->failed_errno = err;
    store->failed_text = text;
    if (text == NULL && err == ENOSPC) {
        return BK_ERR_STORE_FULL;
    }
#ifdef EDQUOT
    if (text == NULL && err == EDQUOT) {
        return BK_ERR_STORE_FULL;
    }
#endif
    return BK_ERR_STORE_IO;
}

/* The path of which (the directory, a record or its temporary file) into out. */
static void bk_posix_store_path_of(const bk_posix_store *store, bk_posix_store_path which,
                                   const char *name, char *out, size_t cap) {
    /* No doubled '/' after the root directory. */
    const char *sep = store->dir_len == 1 && store->dir[0] == '/' ? "" : "/";
    switch (which) {
    case BK_POSIX_STORE_PATH_RECORD:
        snprintf(out, cap, "%s%s%s", store->dir, sep, name);
        break;
    case BK_POSIX_STORE_PATH_TEMP:
        snprintf(out, cap, "%s%s.%s.tmp", store->dir, sep, name);
        break;
    case BK_POSIX_STORE_PATH_DIR:
    case BK_POSIX_STORE_PATH_NONE:
    default:
        snprintf(out, cap, "%s", store->dir);
        break;
    }
}

/* Writes all len bytes, through interruptions and short writes; 0 or an errno. */
static int bk_posix_store_write_all(int fd, const uint8_t *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (n == 0) {
            return EIO; /* no progress and no reason: do not spin */
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int bk_posix_store_fsync(int fd) {
    while (fsync(fd) != 0) {
        if (errno != EINTR) {
            return errno;
        }
    }
    return 0;
}

/* Makes the rename durable. A file system that cannot sync a directory (EINVAL) has nothing to
 * sync: not a failure. */
static bk_result bk_posix_store_sync_dir(bk_posix_store *store) {
    int fd = open(store->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_DIR, NULL, errno, NULL);
    }
    int err = bk_posix_store_fsync(fd);
    close(fd);
    if (err != 0 && err != EINVAL) {
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_DIR, NULL, err, NULL);
    }
    return BK_OK;
}

static bk_result bk_posix_store_save(void *ctx, const char *name, const uint8_t *data, size_t len) {
    bk_posix_store *store = ctx;
    if (store == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_posix_store_clear(store);
    if (!bk_store_name_ok(name) || (data == NULL && len > 0)) {
        return BK_ERR_ARGUMENT;
    }
    char temp[BK_POSIX_STORE_FILE_MAX];
    char path[BK_POSIX_STORE_FILE_MAX];
    bk_posix_store_path_of(store, BK_POSIX_STORE_PATH_TEMP, name, temp, sizeof temp);
    bk_posix_store_path_of(store, BK_POSIX_STORE_PATH_RECORD, name, path, sizeof path);

    /* A leftover of a save that stopped half-way; whatever it is, it is not read. */
    if (unlink(temp) != 0 && errno != ENOENT) {
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_TEMP, name, errno, NULL);
    }
    int fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_TEMP, name, errno, NULL);
    }
    int err = 0;
    if (fchmod(fd, 0600) != 0) { /* against a umask that took more than group and other */
        err = errno;
    }
    if (err == 0) {
        err = bk_posix_store_write_all(fd, data, len);
    }
    if (err == 0) {
        err = bk_posix_store_fsync(fd);
    }
    /* close may report a delayed write error (NFS); EINTR still closed it (Linux). */
    if (close(fd) != 0 && err == 0 && errno != EINTR) {
        err = errno;
    }
    if (err == 0 && rename(temp, path) != 0) {
        err = errno;
        unlink(temp);
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_RECORD, name, err, NULL);
    }
    if (err != 0) {
        unlink(temp);
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_TEMP, name, err, NULL);
    }
    return bk_posix_store_sync_dir(store);
}

static bk_result bk_posix_store_load(void *ctx, const char *name, uint8_t *buf, size_t cap,
                                     size_t *len) {
    bk_posix_store *store = ctx;
    if (len != NULL) {
        *len = 0;
    }
    if (store == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_posix_store_clear(store);
    if (!bk_store_name_ok(name) || len == NULL || (buf == NULL && cap > 0)) {
        return BK_ERR_ARGUMENT;
    }
    char path[BK_POSIX_STORE_FILE_MAX];
    bk_posix_store_path_of(store, BK_POSIX_STORE_PATH_RECORD, name, path, sizeof path);
    /* O_NONBLOCK: a FIFO at the name must not hang the open; it is refused below. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int err = errno;
        bk_result r = bk_posix_store_fail(store, BK_POSIX_STORE_PATH_RECORD, name, err,
                                          err == ELOOP ? bk_posix_store_symlink : NULL);
        return err == ENOENT ? BK_ERR_STORE_NOT_FOUND : r;
    }
    struct stat st;
    bk_result r = BK_OK;
    if (fstat(fd, &st) != 0) {
        r = bk_posix_store_fail(store, BK_POSIX_STORE_PATH_RECORD, name, errno, NULL);
    } else if (!S_ISREG(st.st_mode)) {
        r = bk_posix_store_fail(store, BK_POSIX_STORE_PATH_RECORD, name, 0,
                                bk_posix_store_not_regular);
    } else if (st.st_size < 0 || (uintmax_t)st.st_size > cap) {
        /* What it would take. */
        uintmax_t size = st.st_size < 0 ? 0 : (uintmax_t)st.st_size;
        *len = size <= SIZE_MAX ? (size_t)size : SIZE_MAX;
        bk_posix_store_fail(store, BK_POSIX_STORE_PATH_RECORD, name, 0, bk_posix_store_too_large);
        r = BK_ERR_STORE_TOO_LARGE;
    }
    size_t got = 0;
    while (r == BK_OK) {
        uint8_t extra = 0;
        /* Up to cap, then one byte more to see the end: a file that grew since fstat. */
        uint8_t *to = got < cap ? buf + got : &extra;
        size_t room = got < cap ? cap - got : 1;
        ssize_t n = read(fd, to, room);
        if (n < 0) {
            if (errno != EINTR) {
                r = bk_posix_store_fail(store, BK_POSIX_STORE_PATH_RECORD, name, errno, NULL);
            }
            continue;
        }
        if (n == 0) {
            break;
        }
        if (got == cap) {
            bk_posix_store_fail(store, BK_POSIX_STORE_PATH_RECORD, name, 0,
                                bk_posix_store_too_large);
            r = BK_ERR_STORE_TOO_LARGE;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (r == BK_OK) {
        *len = got;
    }
    return r;
}

bk_result bk_posix_store_open(bk_posix_store *store, const char *dir, bk_store *out) {
    if (store == NULL || dir == NULL || out == NULL) {
        return BK_ERR_ARGUMENT;
    }
    bk_posix_store_clear(store);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') {
        len--;
    }
    if (len == 0 || len >= sizeof store->dir) {
        return BK_ERR_ARGUMENT;
    }
    memcpy(store->dir, dir, len);
    store->dir[len] = '\0';
    store->dir_len = len;

    bool created = mkdir(store->dir, 0700) == 0;
    if (!created && errno != EEXIST) {
        /* ENOENT: a missing parent, which is not made here. */
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_DIR, NULL, errno, NULL);
    }
    /* Followed if a symbolic link: the state directory may well live elsewhere. */
    int fd = open(store->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_DIR, NULL, errno, NULL);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_DIR, NULL, err, NULL);
    }
    /* Made now: exactly 0700, whatever the umask took away. Ours and open to others: tightened
     * (only bits taken away, none added). Someone else's is theirs to set. */
    mode_t mode = st.st_mode & 07777;
    mode_t want = mode;
    if (created) {
        want = 0700;
    } else if (st.st_uid == geteuid() && (mode & 077) != 0) {
        want = mode & 0700;
    }
    if (want != mode && fchmod(fd, want) != 0) {
        int err = errno;
        close(fd);
        return bk_posix_store_fail(store, BK_POSIX_STORE_PATH_DIR, NULL, err, NULL);
    }
    close(fd);

    out->save = bk_posix_store_save;
    out->load = bk_posix_store_load;
    out->ctx = store;
    return BK_OK;
}

void bk_posix_store_describe(const bk_posix_store *store, char *buf, size_t cap) {
    if (buf == NULL || cap == 0) {
        return;
    }
    buf[0] = '\0';
    if (store == NULL || store->failed_path == BK_POSIX_STORE_PATH_NONE) {
        return;
    }
    char path[BK_POSIX_STORE_FILE_MAX];
    bk_posix_store_path_of(store, store->failed_path, store->failed_name, path, sizeof path);
    const char *why =
        store->failed_text != NULL ? store->failed_text : strerror(store->failed_errno);
    char text[BK_POSIX_STORE_DESCRIBE_MAX];
    int n = snprintf(text, sizeof text, "%s: %s", path, why);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
    if (cap > BK_CUT_MARK_LEN) {
        bk_cut_copy(buf, cap, text, len);
    } else {
        memcpy(buf, text, len < cap - 1 ? len : cap - 1);
        buf[len < cap - 1 ? len : cap - 1] = '\0';
    }
}
