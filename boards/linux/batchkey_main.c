/* SPDX-License-Identifier: MIT */
/* The batchkey CLI on Linux: the shared command line over the process environment, files, and
 * mbedTLS on POSIX sockets; the rotation state in a directory, deploy hooks run with sh. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bk_cli.h"
#include "bk_client_cert.h"
#include "bk_posix_store.h"
#include "bk_tls_connector.h"

extern char **environ;

/* The largest certificate file read: a certificate, its chain and a key. */
#define BK_CERTIFICATE_FILE_MAX 32768

static bk_tls_config tls;
static bk_client_cert client_cert;
static bk_tls_peers peers;
static bk_posix_store state_store;
static char lock_failure[BK_POSIX_STORE_DIR_MAX + 80];

static const char *linux_getenv(const char *name) {
    return getenv(name);
}

static bool linux_readable(const char *path) {
    return access(path, R_OK) == 0;
}

static bk_result linux_tls_start(const char *ca_file, uint32_t timeout_ms, bk_connector *out) {
    bk_result r = bk_tls_config_init(&tls, ca_file);
    if (r == BK_OK) {
        *out = bk_tls_connector(&peers, &tls, timeout_ms);
    }
    return r;
}

static void linux_tls_stop(void) {
    bk_tls_peers_wipe_sessions(&peers);
    bk_tls_config_free(&tls);
    bk_tls_global_free();
}

static void linux_tls_describe(char *buf, size_t cap) {
    buf[0] = '\0';
    if (peers.last_mbedtls_error != 0 || peers.last_verify_flags != 0) {
        bk_tls_describe(peers.last_mbedtls_error, peers.last_verify_flags, buf, cap);
    }
}

static bk_tls_session *linux_tls_session(bk_peer peer) {
    return &peers.sessions[peer];
}

/* The state directory for TLS sessions: only one that exists, and never locked (a rotate may
 * hold it). */
static bk_result linux_cache_open(const char *dir, bk_store *out) {
    static bk_posix_store cache_store;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return BK_ERR_STORE_NOT_FOUND;
    }
    return bk_posix_store_open(&cache_store, dir, out);
}

static void linux_proxy_set(const bk_proxy *proxy, const char *no_proxy) {
    peers.proxy = proxy;
    peers.no_proxy = no_proxy;
}

static bool linux_proxy_describe(char *buf, size_t cap, int *status) {
    *status = peers.last_proxy_status;
    if (!peers.last_via_proxy || peers.proxy == NULL) {
        return false;
    }
    snprintf(buf, cap, "%s:%u", peers.proxy->host, (unsigned)peers.proxy->port);
    return true;
}

/* The state directory, held with an exclusive lock on <dir>/.lock for the life of the process:
 * two runs on one state (a timer and a hand) would each believe their own record. */
static bk_result linux_store_open(const char *dir, bool create, bk_store *out) {
    lock_failure[0] = '\0';
    struct stat st;
    if (!create && stat(dir, &st) != 0 && errno == ENOENT) {
        return BK_ERR_STORE_NOT_FOUND;
    }
    bk_result r = bk_posix_store_open(&state_store, dir, out);
    if (r != BK_OK) {
        return r;
    }
    char path[BK_POSIX_STORE_DIR_MAX + 8];
    snprintf(path, sizeof path, "%s/.lock", state_store.dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && (errno == EROFS || errno == EACCES)) {
        /* A directory we may only read: status still works; a save will say why it cannot. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT) {
            return BK_OK;
        }
    }
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        snprintf(lock_failure, sizeof lock_failure, "%s: %s", path,
                 err == EWOULDBLOCK ? "another batchkey process holds it" : strerror(err));
        if (fd >= 0) {
            close(fd);
        }
        return BK_ERR_STORE_IO;
    }
    /* The descriptor stays open, and the lock held, until the process ends. */
    /* cppcheck-suppress resourceLeak */
    return BK_OK;
}

static void linux_store_describe(char *buf, size_t cap) {
    if (lock_failure[0] != '\0') {
        snprintf(buf, cap, "%s", lock_failure);
    } else {
        bk_posix_store_describe(&state_store, buf, cap);
    }
}

/* Variables the hook must not inherit: it is told where the key is, never a secret. */
static bool secret_variable(const char *entry) {
    static const char *const names[] = {
        "AZURE_CLIENT_SECRET=", "AZURE_CLIENT_CERTIFICATE_PASSWORD=", "AZURE_BATCH_ACCESS_KEY="};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strncmp(entry, names[i], strlen(names[i])) == 0) {
            return true;
        }
    }
    return strncmp(entry, "BATCHKEY_ACCOUNT=", 17) == 0 ||
           strncmp(entry, "BATCHKEY_ACTIVE_SLOT=", 21) == 0 ||
           strncmp(entry, "BATCHKEY_KEY_FILE=", 18) == 0;
}

static int linux_run_hook(const char *command, const char *account, const char *slot,
                          const char *key_file) {
    enum { ENV_MAX = 512 };
    static char *child_env[ENV_MAX + 4];
    static char account_var[64];
    static char slot_var[48];
    static char file_var[BK_POSIX_STORE_DIR_MAX + 48];
    size_t n = 0;
    for (char **e = environ; e != NULL && *e != NULL && n < ENV_MAX; e++) {
        if (!secret_variable(*e)) {
            child_env[n++] = *e;
        }
    }
    snprintf(account_var, sizeof account_var, "BATCHKEY_ACCOUNT=%s", account);
    snprintf(slot_var, sizeof slot_var, "BATCHKEY_ACTIVE_SLOT=%s", slot);
    snprintf(file_var, sizeof file_var, "BATCHKEY_KEY_FILE=%s", key_file);
    child_env[n++] = account_var;
    child_env[n++] = slot_var;
    child_env[n++] = file_var;
    child_env[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, child_env) != 0) {
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static bk_result linux_read_file(const char *path, char *buf, size_t cap, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return BK_ERR_STORE_IO;
    }
    size_t n = fread(buf, 1, cap, f);
    bool complete = n < cap && feof(f) && !ferror(f);
    fclose(f);
    if (!complete) {
        bk_wipe(buf, cap);
        return n == cap ? BK_ERR_STORE_TOO_LARGE : BK_ERR_STORE_IO;
    }
    buf[n] = '\0';
    *len = n;
    return BK_OK;
}

static bk_result linux_certificate_start(const char *path, const char *password,
                                         bk_certificate *out) {
    static char pem[BK_CERTIFICATE_FILE_MAX];
    size_t len = 0;
    bk_result r = linux_read_file(path, pem, sizeof pem, &len);
    r = r == BK_OK ? bk_client_cert_start(&client_cert, pem, len, password, out)
                   : BK_ERR_CLIENT_CERT;
    bk_wipe(pem, sizeof pem); /* the private key, maybe in clear */
    return r;
}

static void linux_certificate_stop(void) {
    bk_client_cert_free(&client_cert);
}

/* Azure Arc's challenge file: a regular file (a symbolic link is refused, not followed), read
 * whole only when it fits. */
static bk_result linux_read_arc_secret(void *ctx, const char *path, char *buf, size_t cap,
                                       size_t *len) {
    (void)ctx;
    *len = 0;
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (size_t)st.st_size >= cap) {
        return BK_ERR_ARC_CHALLENGE;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        return BK_ERR_ARC_CHALLENGE;
    }
    ssize_t n = read(fd, buf, cap - 1);
    char extra;
    bool whole = n >= 0 && read(fd, &extra, 1) == 0;
    close(fd);
    if (!whole) {
        bk_wipe(buf, cap);
        return BK_ERR_ARC_CHALLENGE;
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return BK_OK;
}

static const bk_cli_board linux_board = {.getenv = linux_getenv,
                                         .readable = linux_readable,
                                         .tls_start = linux_tls_start,
                                         .tls_stop = linux_tls_stop,
                                         .tls_describe = linux_tls_describe,
                                         .store_open = linux_store_open,
                                         .store_describe = linux_store_describe,
                                         .run_hook = linux_run_hook,
                                         .default_state_dir = "/var/lib/batchkey",
                                         .read_file = linux_read_file,
                                         .certificate_start = linux_certificate_start,
                                         .certificate_stop = linux_certificate_stop,
                                         .read_arc_secret = linux_read_arc_secret,
                                         .tls_session = linux_tls_session,
                                         .cache_open = linux_cache_open,
                                         .proxy_set = linux_proxy_set,
                                         .proxy_describe = linux_proxy_describe,
                                         .version = MBEDTLS_VERSION_STRING_FULL,
                                         .default_ca = BK_TLS_SYSTEM_CA_FILE,
                                         .default_ca_hint =
                                             ", or install Debian's ca-certificates"};

int main(int argc, char **argv) {
    return bk_cli_run(argc, argv, &linux_board);
}
