/* SPDX-License-Identifier: MIT */
/* The directory store on Linux (platform/posix/bk_posix_store.c), in a fresh temporary directory
 * per test: records round trip, modes 0600/0700 whatever the umask, no temporary file left, the
 * old record intact after any failed save, symbolic links and other non-files at a record's name
 * never followed or read. Host only (POSIX): not built for the board. A full disk (ENOSPC) is the
 * integration tests' business (tmpfs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/types.h>
#include <unistd.h>

#include "bk_ascii.h"
#include "bk_posix_store.h"

/* The test's directory, made by setup and removed with all it holds by teardown. */
static char root[64];
static bk_posix_store dir_store;
static uint8_t big_in[200000];
static uint8_t big_out[200000];

/* root/rel into a static buffer. */
static const char *at(const char *rel) {
    static char path[2][256];
    static int next;
    char *p = path[next++ % 2];
    snprintf(p, sizeof path[0], "%s/%s", root, rel);
    return p;
}

static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
                    continue;
                }
                char child[512];
                snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                remove_tree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int setup(void **state) {
    (void)state;
    strcpy(root, "/tmp/bk_store_test_XXXXXX");
    return mkdtemp(root) == NULL ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    remove_tree(root);
    return 0;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* The whole file at path, NUL-terminated, in a static buffer. */
static const char *read_text(const char *path) {
    static char text[4096];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static mode_t mode_of(const char *path) {
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* How many entries the directory holds, "." and ".." aside. */
static int entries(const char *path) {
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return n;
}

static bk_store open_store(const char *rel) {
    bk_store store;
    assert_int_equal(bk_posix_store_open(&dir_store, at(rel), &store), BK_OK);
    return store;
}

static void assert_loads_text(bk_store store, const char *name, const char *want) {
    uint8_t buf[256];
    size_t len = 0;
    assert_int_equal(store.load(store.ctx, name, buf, sizeof buf, &len), BK_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
}

static void save_text(bk_store store, const char *name, const char *text) {
    assert_int_equal(store.save(store.ctx, name, (const uint8_t *)text, strlen(text)), BK_OK);
}

static const char *describe(void) {
    static char text[BK_POSIX_STORE_DESCRIBE_MAX];
    bk_posix_store_describe(&dir_store, text, sizeof text);
    return text;
}

static void assert_describes(const char *rel, const char *why) {
    char want[512];
    snprintf(want, sizeof want, "%s: %s", at(rel), why);
    assert_string_equal(describe(), want);
}

static void test_round_trip(void **state) {
    (void)state;
    bk_store store = open_store("state");
    static const size_t lengths[] = {0, 1, 4096, 65537, sizeof big_in};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        for (size_t j = 0; j < lengths[i]; j++) {
            big_in[j] = (uint8_t)(j * 31 + i);
        }
        assert_int_equal(store.save(store.ctx, "rotation", big_in, lengths[i]), BK_OK);
        size_t len = 0;
        assert_int_equal(store.load(store.ctx, "rotation", big_out, sizeof big_out, &len), BK_OK);
        assert_int_equal(len, lengths[i]);
        assert_memory_equal(big_out, big_in, len);
        assert_string_equal(describe(), "");
    }
    /* A shorter record replaces a longer one whole. */
    save_text(store, "rotation", "short");
    assert_loads_text(store, "rotation", "short");
    assert_string_equal(read_text(at("state/rotation")), "short");
    /* Each name its own file. */
    save_text(store, "key.v1", "other");
    assert_loads_text(store, "rotation", "short");
    assert_loads_text(store, "key.v1", "other");
    assert_int_equal(entries(at("state")), 2);
    /* A second store over the same directory (a later run) reads them. */
    bk_posix_store again;
    bk_store store2;
    assert_int_equal(bk_posix_store_open(&again, at("state/"), &store2), BK_OK);
    assert_string_equal(again.dir, at("state"));
    assert_loads_text(store2, "rotation", "short");
}

static void test_modes(void **state) {
    (void)state;
    /* Whatever the umask: a loose one, and one that takes the owner's bits too. */
    static const mode_t masks[] = {0, 022, 0277};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        char rel[16];
        snprintf(rel, sizeof rel, "d%zu", i);
        mode_t old = umask(masks[i]);
        bk_store store;
        bk_result r = bk_posix_store_open(&dir_store, at(rel), &store);
        bk_result saved = r == BK_OK ? store.save(store.ctx, "rec", (const uint8_t *)"x", 1) : r;
        umask(old);
        assert_int_equal(r, BK_OK);
        assert_int_equal(saved, BK_OK);
        assert_int_equal(mode_of(at(rel)), 0700);
        char file[32];
        snprintf(file, sizeof file, "%s/rec", rel);
        assert_int_equal(mode_of(at(file)), 0600);
    }

    /* An existing directory of ours open to others is tightened; a tight one left alone. */
    assert_int_equal(mkdir(at("open"), 0700), 0);
    assert_int_equal(chmod(at("open"), 0777), 0);
    open_store("open");
    assert_int_equal(mode_of(at("open")), 0700);
    assert_int_equal(mkdir(at("group"), 0700), 0);
    assert_int_equal(chmod(at("group"), 0750), 0);
    open_store("group");
    assert_int_equal(mode_of(at("group")), 0700);
    assert_int_equal(mkdir(at("readonly"), 0500), 0);
    assert_int_equal(chmod(at("readonly"), 0500), 0);
    open_store("readonly");
    assert_int_equal(mode_of(at("readonly")), 0500); /* tightened only, never loosened */

    /* A record file someone loosened is 0600 again after the next save. */
    bk_store store = open_store("open");
    save_text(store, "rec", "one");
    assert_int_equal(chmod(at("open/rec"), 0644), 0);
    save_text(store, "rec", "two");
    assert_int_equal(mode_of(at("open/rec")), 0600);
}

static void test_no_temporary_file_left(void **state) {
    (void)state;
    bk_store store = open_store("state");
    save_text(store, "rotation", "first");
    assert_int_equal(access(at("state/.rotation.tmp"), F_OK), -1);
    assert_int_equal(entries(at("state")), 1);

    /* A leftover of a save that stopped half-way is ignored by load and removed by save. */
    write_file(at("state/.rotation.tmp"), "half");
    assert_loads_text(store, "rotation", "first");
    save_text(store, "rotation", "second");
    assert_int_equal(entries(at("state")), 1);
    assert_loads_text(store, "rotation", "second");

    /* Even a symbolic link there: removed, its target untouched. */
    write_file(at("victim"), "not yours");
    assert_int_equal(symlink(at("victim"), at("state/.rotation.tmp")), 0);
    save_text(store, "rotation", "third");
    assert_string_equal(read_text(at("victim")), "not yours");
    assert_int_equal(entries(at("state")), 1);
    assert_loads_text(store, "rotation", "third");
}

/* The refused save itself, as a user the mode binds; its exit status says which check failed. */
static int refused_save(bk_store store) {
    if (chmod(at("state"), 0500) != 0) {
        return 10;
    }
    if (store.save(store.ctx, "rotation", (const uint8_t *)"new", 3) != BK_ERR_STORE_IO) {
        return 11;
    }
    return chmod(at("state"), 0700) == 0 ? 0 : 12;
}

static void test_unwritable_directory(void **state) {
    (void)state;
    bk_store store = open_store("state");
    save_text(store, "rotation", "old");
    if (geteuid() != 0) {
        assert_int_equal(refused_save(store), 0);
        assert_describes("state/.rotation.tmp", "Permission denied");
    } else {
        /* Root writes through any mode: the save runs in a child that became nobody. */
        assert_int_equal(chown(root, 65534, 65534), 0);
        assert_int_equal(chown(at("state"), 65534, 65534), 0);
        assert_int_equal(chown(at("state/rotation"), 65534, 65534), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            _exit(setgid(65534) != 0 || setuid(65534) != 0 ? 9 : refused_save(store));
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_loads_text(store, "rotation", "old");
    assert_int_equal(entries(at("state")), 1);
}

static void test_failed_saves_keep_the_old_record(void **state) {
    (void)state;
    bk_store store = open_store("state");
    save_text(store, "rotation", "old");

    /* The temporary name taken by a directory: nothing written. */
    assert_int_equal(mkdir(at("state/.rotation.tmp"), 0700), 0);
    write_file(at("state/.rotation.tmp/x"), "x");
    assert_int_equal(store.save(store.ctx, "rotation", (const uint8_t *)"new", 3), BK_ERR_STORE_IO);
    assert_describes("state/.rotation.tmp", "Is a directory");
    assert_loads_text(store, "rotation", "old");
    remove_tree(at("state/.rotation.tmp"));

    /* Writing fails half-way (a file size limit, which binds root too): the temporary file goes,
     * the old record stays. */
    for (size_t i = 0; i < 5000; i++) {
        big_in[i] = (uint8_t)i;
    }
    struct rlimit saved_limit;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_limit), 0);
    struct rlimit limit = saved_limit;
    limit.rlim_cur = 1000;
    void (*saved_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limit), 0);
    bk_result r = store.save(store.ctx, "rotation", big_in, 5000);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved_limit), 0);
    signal(SIGXFSZ, saved_handler);
    assert_int_equal(r, BK_ERR_STORE_IO);
    assert_describes("state/.rotation.tmp", strerror(EFBIG));
    assert_loads_text(store, "rotation", "old");
    assert_int_equal(entries(at("state")), 1);

    /* The rename refused (a directory at the record's name): the temporary file goes. */
    assert_int_equal(mkdir(at("state/taken"), 0700), 0);
    write_file(at("state/taken/x"), "x");
    assert_int_equal(store.save(store.ctx, "taken", (const uint8_t *)"new", 3), BK_ERR_STORE_IO);
    assert_describes("state/taken", "Is a directory");
    assert_int_equal(access(at("state/.taken.tmp"), F_OK), -1);
    assert_string_equal(read_text(at("state/taken/x")), "x");

    /* And then a clean save works. */
    save_text(store, "rotation", "new");
    assert_loads_text(store, "rotation", "new");
}

static void test_symlink_not_followed(void **state) {
    (void)state;
    bk_store store = open_store("state");
    write_file(at("victim"), "secret");
    assert_int_equal(symlink(at("victim"), at("state/rotation")), 0);
    uint8_t buf[64];
    size_t len = 99;
    assert_int_equal(store.load(store.ctx, "rotation", buf, sizeof buf, &len), BK_ERR_STORE_IO);
    assert_int_equal(len, 0);
    assert_describes("state/rotation", "a symbolic link (not followed)");

    /* A save replaces the link itself, not its target. */
    save_text(store, "rotation", "mine");
    assert_string_equal(read_text(at("victim")), "secret");
    assert_int_equal(mode_of(at("state/rotation")), 0600); /* lstat: a regular file now */
    assert_loads_text(store, "rotation", "mine");

    /* A dangling link is no "not found" either. */
    assert_int_equal(symlink(at("nowhere"), at("state/dangling")), 0);
    assert_int_equal(store.load(store.ctx, "dangling", buf, sizeof buf, &len), BK_ERR_STORE_IO);
}

static void test_not_a_regular_file(void **state) {
    (void)state;
    bk_store store = open_store("state");
    uint8_t buf[64];
    size_t len;
    /* A FIFO: refused at once, no wait for a writer (a hang ends the test by SIGALRM). */
    assert_int_equal(mkfifo(at("state/fifo"), 0600), 0);
    alarm(10);
    bk_result r = store.load(store.ctx, "fifo", buf, sizeof buf, &len);
    alarm(0);
    assert_int_equal(r, BK_ERR_STORE_IO);
    assert_describes("state/fifo", "not a regular file");
    assert_int_equal(mkdir(at("state/dir"), 0700), 0);
    assert_int_equal(store.load(store.ctx, "dir", buf, sizeof buf, &len), BK_ERR_STORE_IO);
    assert_describes("state/dir", "not a regular file");
}

static void test_names(void **state) {
    (void)state;
    bk_store store = open_store("state");
    static const char *const bad[] = {
        "",          ".",          "..",
        ".rotation", "../escape",  "a/b",
        "Rotation",  "rotation\n", "abcdefghijklmnopqrstuvwxyz0123456", /* 33 */
    };
    uint8_t buf[8];
    size_t len;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(store.save(store.ctx, bad[i], (const uint8_t *)"x", 1), BK_ERR_ARGUMENT);
        assert_int_equal(store.load(store.ctx, bad[i], buf, sizeof buf, &len), BK_ERR_ARGUMENT);
    }
    assert_int_equal(store.save(store.ctx, NULL, (const uint8_t *)"x", 1), BK_ERR_ARGUMENT);
    assert_int_equal(store.save(store.ctx, "rec", NULL, 1), BK_ERR_ARGUMENT);
    assert_int_equal(store.load(store.ctx, "rec", buf, sizeof buf, NULL), BK_ERR_ARGUMENT);
    assert_int_equal(store.load(store.ctx, "rec", NULL, 1, &len), BK_ERR_ARGUMENT);
    assert_int_equal(entries(at("state")), 0);
    assert_int_equal(entries(root), 1);
    save_text(store, "abcdefghijklmnopqrstuvwxyz012345", "32"); /* the longest name */
    assert_loads_text(store, "abcdefghijklmnopqrstuvwxyz012345", "32");
}

static void test_too_large(void **state) {
    (void)state;
    bk_store store = open_store("state");
    for (size_t i = 0; i < 100; i++) {
        big_in[i] = (uint8_t)(i + 1);
    }
    assert_int_equal(store.save(store.ctx, "rec", big_in, 100), BK_OK);
    size_t len = 0;
    assert_int_equal(store.load(store.ctx, "rec", big_out, 99, &len), BK_ERR_STORE_TOO_LARGE);
    assert_int_equal(len, 100); /* what it would take */
    assert_describes("state/rec", "larger than the buffer it is read into");
    assert_int_equal(store.load(store.ctx, "rec", NULL, 0, &len), BK_ERR_STORE_TOO_LARGE);
    assert_int_equal(store.load(store.ctx, "rec", big_out, 100, &len), BK_OK);
    assert_int_equal(len, 100);
    assert_memory_equal(big_out, big_in, 100);
    /* An empty record needs no buffer. */
    assert_int_equal(store.save(store.ctx, "empty", NULL, 0), BK_OK);
    assert_int_equal(store.load(store.ctx, "empty", NULL, 0, &len), BK_OK);
    assert_int_equal(len, 0);
}

static void test_not_found(void **state) {
    (void)state;
    bk_store store = open_store("state");
    uint8_t buf[8];
    size_t len = 99;
    assert_int_equal(store.load(store.ctx, "rotation", buf, sizeof buf, &len),
                     BK_ERR_STORE_NOT_FOUND);
    assert_int_equal(len, 0);
    assert_describes("state/rotation", "No such file or directory");
    /* A temporary file alone is no record. */
    write_file(at("state/.rotation.tmp"), "half");
    assert_int_equal(store.load(store.ctx, "rotation", buf, sizeof buf, &len),
                     BK_ERR_STORE_NOT_FOUND);
}

static void test_open(void **state) {
    (void)state;
    bk_store store;
    /* Only the last component is made. */
    assert_int_equal(bk_posix_store_open(&dir_store, at("missing/state"), &store), BK_ERR_STORE_IO);
    assert_describes("missing/state", "No such file or directory");
    assert_int_equal(access(at("missing"), F_OK), -1);
    /* Not a directory. */
    write_file(at("file"), "x");
    assert_int_equal(bk_posix_store_open(&dir_store, at("file"), &store), BK_ERR_STORE_IO);
    assert_describes("file", "Not a directory");
    assert_int_equal(symlink(at("file"), at("link")), 0);
    assert_int_equal(bk_posix_store_open(&dir_store, at("link"), &store), BK_ERR_STORE_IO);
    /* A link to a directory is the directory. */
    assert_int_equal(mkdir(at("real"), 0700), 0);
    assert_int_equal(symlink(at("real"), at("alias")), 0);
    store = open_store("alias");
    save_text(store, "rec", "via alias");
    assert_string_equal(read_text(at("real/rec")), "via alias");
    /* Arguments. */
    assert_int_equal(bk_posix_store_open(&dir_store, "", &store), BK_ERR_ARGUMENT);
    assert_int_equal(bk_posix_store_open(&dir_store, NULL, &store), BK_ERR_ARGUMENT);
    assert_int_equal(bk_posix_store_open(NULL, root, &store), BK_ERR_ARGUMENT);
    assert_int_equal(bk_posix_store_open(&dir_store, root, NULL), BK_ERR_ARGUMENT);
    static char long_path[BK_POSIX_STORE_DIR_MAX + 1];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[0] = '/';
    assert_int_equal(bk_posix_store_open(&dir_store, long_path, &store), BK_ERR_ARGUMENT);
    long_path[BK_POSIX_STORE_DIR_MAX - 1] = '\0'; /* the longest that fits: the kernel decides */
    assert_int_equal(bk_posix_store_open(&dir_store, long_path, &store), BK_ERR_STORE_IO);
    assert_string_equal(describe() + BK_POSIX_STORE_DIR_MAX - 1, ": File name too long");
}

static void test_describe(void **state) {
    (void)state;
    bk_store store = open_store("state");
    uint8_t buf[8];
    size_t len;
    assert_int_equal(store.load(store.ctx, "rotation", buf, sizeof buf, &len),
                     BK_ERR_STORE_NOT_FOUND);
    char full[512];
    snprintf(full, sizeof full, "%s: No such file or directory", at("state/rotation"));
    /* Cut to fit and marked; never more than cap bytes. */
    char small[20];
    memset(small, '#', sizeof small);
    bk_posix_store_describe(&dir_store, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, full, sizeof small - 1 - BK_CUT_MARK_LEN);
    assert_string_equal(small + sizeof small - 1 - BK_CUT_MARK_LEN, BK_CUT_MARK);
    char tiny[3] = {'#', '#', '#'};
    bk_posix_store_describe(&dir_store, tiny, sizeof tiny);
    assert_string_equal(tiny, "/t");
    char none = '#';
    bk_posix_store_describe(&dir_store, &none, 0);
    assert_int_equal(none, '#');
    /* A success clears it. */
    save_text(store, "rotation", "x");
    assert_string_equal(describe(), "");
    assert_loads_text(store, "rotation", "x");
    assert_string_equal(describe(), "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_temporary_file_left, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_saves_keep_the_old_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
