/* SPDX-License-Identifier: MIT */
/* The POSIX platform and the mbedTLS port against real peers: openssl s_server processes started
 * here on loopback ports the kernel picks, in-process sockets for the refusing, silent and
 * misbehaving peers, and an mbedTLS server in a thread for the endings s_server cannot script (see
 * "a TLS peer of our own"). The PKI comes from the emulator's make_test_pki.sh:
 *
 *     sh tests/emulator/make_test_pki.sh DIR && build/tests/tls/test_tls DIR
 *
 * One line per case, then "N passed, M failed, K skipped"; exit status 1 if any case failed.
 * Needs openssl on PATH; IPv6 cases are skipped (and say so) when the host has no ::1.
 *
 * Linked with -Wl,--wrap=getaddrinfo: __wrap_getaddrinfo below fakes a stuck resolver for a few
 * names under .invalid, answering them only in a thread with signals blocked, and hands every
 * other lookup to the real one. bk_tcp_send and bk_tcp_recv are wrapped too, to play a polled
 * stack (see "a polled stack"). */
#define _GNU_SOURCE /* POLLRDHUP: the peer's FIN has arrived */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bk_platform.h"
#include "bk_stream.h"
#include "bk_tcp_stream.h"
#include "bk_tls.h"
#include "bk_tls_connector.h"
#include "mbedtls/net_sockets.h" /* MBEDTLS_ERR_NET_* for the peer's socket callbacks */
#include "mbedtls/pk.h"

/* Generous: under valgrind a handshake is some fifty times slower. */
#define TLS_TIMEOUT_MS 20000
/* How far past its deadline a timing-out call may return (scheduling, valgrind). */
#define LATE_SLACK_MS 2500

enum { CASE_FAIL = 0, CASE_PASS = 1, CASE_SKIP = 2 };

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("    line %d: %s\n", __LINE__, #cond);                                          \
            return CASE_FAIL;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_RESULT(actual, expected)                                                             \
    do {                                                                                           \
        bk_result got_ = (bk_result)(actual);                                                      \
        if (got_ != (expected)) {                                                                  \
            printf("    line %d: %s gave %d (%s), expected %s\n", __LINE__, #actual, (int)got_,    \
                   bk_strerror(got_), #expected);                                                  \
            return CASE_FAIL;                                                                      \
        }                                                                                          \
    } while (0)

#define SKIP(why)                                                                                  \
    do {                                                                                           \
        printf("    skipped: %s\n", why);                                                          \
        return CASE_SKIP;                                                                          \
    } while (0)

typedef struct server {
    pid_t pid;
    uint16_t port;
} server;

static struct {
    char ca[512];
    char other_ca[512];
    char cert[512];
    char key[512];
    char dir[400];
    int have_ipv6;
    server rev4; /* s_server -rev on 127.0.0.1: echoes each line reversed */
    server rev6; /* the same on [::1] */
    server www4; /* s_server -www on 127.0.0.1: answers one GET, then closes */
    bk_tls_config trusted;
    int slow_gate[2]; /* a pipe; SLOW_NAME lookups wait until its write end is closed */
    int threads;      /* this process's threads before any case ran */
} fx;

static int passed;
static int failed;
static int skipped;

/* --- a fake resolver for a few names; the platform's lookups all come through here --- */

#define SLOW_NAME     "slow.invalid"     /* blocks until slow_lookups_release(), then 127.0.0.1 */
#define LOOPBACK_NAME "loopback.invalid" /* 127.0.0.1 at once */
#define NXDOMAIN_NAME "nxdomain.invalid" /* does not exist */
/* A cap on the SLOW_NAME wait, so that a broken test cannot hang for ever. */
#define SLOW_MAX_MS 30000

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);

/* Whether the calling thread has the program's usual signals blocked. */
static int signals_blocked(void) {
    sigset_t set;
    return pthread_sigmask(SIG_BLOCK, NULL, &set) == 0 && sigismember(&set, SIGINT) == 1 &&
           sigismember(&set, SIGTERM) == 1 && sigismember(&set, SIGALRM) == 1 &&
           sigismember(&set, SIGPIPE) == 1;
}

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res) {
    /* Like the real resolver, a literals-only lookup never touches DNS. */
    int numeric_only = hints != NULL && (hints->ai_flags & AI_NUMERICHOST) != 0;
    if (node == NULL || numeric_only || strstr(node, ".invalid") == NULL) {
        return __real_getaddrinfo(node, service, hints, res);
    }
    /* A lookup thread must never take a signal meant for the program: refuse to answer one
     * that could. */
    if (!signals_blocked()) {
        return EAI_SYSTEM;
    }
    if (strcmp(node, NXDOMAIN_NAME) == 0) {
        return EAI_NONAME;
    }
    if (strcmp(node, SLOW_NAME) == 0) {
        struct pollfd pfd = {fx.slow_gate[0], POLLIN, 0};
        while (poll(&pfd, 1, SLOW_MAX_MS) < 0 && errno == EINTR) {
        }
        node = "127.0.0.1"; /* a real answer, which an abandoned lookup must free */
    } else if (strcmp(node, LOOPBACK_NAME) == 0) {
        node = "127.0.0.1";
    }
    return __real_getaddrinfo(node, service, hints, res);
}

/* --- a polled stack, played over the POSIX platform ---
 *
 * Linked with -Wl,--wrap=bk_tcp_send,--wrap=bk_tcp_recv: the TCP carrier's calls come through
 * here. While polled.on is set they answer as a polled stack without an OS does (lwIP's raw API):
 * every other call 0 at once ("I polled the interface, nothing yet"), the others at most one byte,
 * after waiting no more than 1 ms, and 0 too when nothing came. So the carrier alone turns waits
 * into BK_ERR_TIMEOUT. The shim also notes any wait it was asked for that would end past
 * polled.deadline. */

static struct {
    int on;
    uint64_t deadline; /* 0: none to watch */
    unsigned calls;
    unsigned zeros;
    int overran; /* a wait asked for would have ended past the deadline */
} polled;

int32_t __real_bk_tcp_send(bk_socket *sock, const uint8_t *data, size_t len, uint32_t timeout_ms);
int32_t __real_bk_tcp_recv(bk_socket *sock, uint8_t *data, size_t len, uint32_t timeout_ms);
int32_t __wrap_bk_tcp_send(bk_socket *sock, const uint8_t *data, size_t len, uint32_t timeout_ms);
int32_t __wrap_bk_tcp_recv(bk_socket *sock, uint8_t *data, size_t len, uint32_t timeout_ms);

/* The shim's turn: 1 when the call answers 0 without touching the socket. */
static int polled_idle_turn(uint32_t timeout_ms) {
    polled.calls++;
    /* 5 ms: the carrier computed the wait a clock tick or so before this reading. */
    if (polled.deadline != 0 && bk_monotonic_ms() + timeout_ms > polled.deadline + 5) {
        polled.overran = 1;
    }
    if (polled.calls % 2 == 1) {
        polled.zeros++;
        return 1;
    }
    return 0;
}

static int32_t polled_answer(int32_t n) {
    if (n == BK_ERR_TIMEOUT) {
        polled.zeros++;
        return 0;
    }
    return n;
}

int32_t __wrap_bk_tcp_send(bk_socket *sock, const uint8_t *data, size_t len, uint32_t timeout_ms) {
    if (!polled.on || len == 0) {
        return __real_bk_tcp_send(sock, data, len, timeout_ms);
    }
    if (polled_idle_turn(timeout_ms)) {
        return 0;
    }
    return polled_answer(__real_bk_tcp_send(sock, data, 1, timeout_ms > 0 ? 1 : 0));
}

int32_t __wrap_bk_tcp_recv(bk_socket *sock, uint8_t *data, size_t len, uint32_t timeout_ms) {
    if (!polled.on || len == 0) {
        return __real_bk_tcp_recv(sock, data, len, timeout_ms);
    }
    if (polled_idle_turn(timeout_ms)) {
        return 0;
    }
    return polled_answer(__real_bk_tcp_recv(sock, data, 1, timeout_ms > 0 ? 1 : 0));
}

static void polled_start(uint64_t deadline) {
    memset(&polled, 0, sizeof polled);
    polled.deadline = deadline;
    polled.on = 1;
}

/* --- helpers --- */

static int join_path(char *out, size_t cap, const char *dir, const char *name) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

/* Runs argv with stdin, stdout and stderr on /dev/null (or stdout/stderr on files); returns the
 * child's pid, or -1. */
static pid_t spawn(char *const argv[], const char *out_path, const char *err_path) {
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    /* Never outlive the test, even if it crashes. */
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path != NULL ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path != NULL ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
        _exit(126);
    }
    execvp(argv[0], argv);
    _exit(127);
}

/* Starts openssl s_server on accept ("127.0.0.1:0", "[::1]:0") with the test certificate and
 * up to four more options (NULL-terminated); waits for its "ACCEPT host:port" line. 1 on
 * success. */
static int server_start(server *s, const char *name, const char *accept,
                        const char *const options[]) {
    char out_path[600];
    char err_path[600];
    char out_name[64];
    char err_name[64];
    (void)snprintf(out_name, sizeof out_name, "%s.out", name);
    (void)snprintf(err_name, sizeof err_name, "%s.err", name);
    if (!join_path(out_path, sizeof out_path, fx.dir, out_name) ||
        !join_path(err_path, sizeof err_path, fx.dir, err_name)) {
        return 0;
    }
    char *argv[16] = {"openssl", "s_server", "-accept", (char *)accept,
                      "-cert",   fx.cert,    "-key",    fx.key};
    for (size_t i = 0; i < 4 && options[i] != NULL; i++) {
        argv[8 + i] = (char *)options[i];
    }
    s->port = 0;
    s->pid = spawn(argv, out_path, err_path);
    if (s->pid < 0) {
        return 0;
    }
    for (int i = 0; i < 200; i++) {
        char text[512];
        FILE *f = fopen(out_path, "r");
        size_t n = 0;
        if (f != NULL) {
            n = fread(text, 1, sizeof text - 1, f);
            fclose(f);
        }
        text[n] = '\0';
        char *line = strstr(text, "ACCEPT ");
        char *end = line != NULL ? strchr(line, '\n') : NULL;
        if (end != NULL) {
            *end = '\0';
            char *colon = strrchr(line, ':');
            long port = colon != NULL ? strtol(colon + 1, NULL, 10) : 0;
            if (port > 0 && port < 65536) {
                s->port = (uint16_t)port;
                return 1;
            }
        }
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            break; /* it exited: wrong options, or the address is not available */
        }
        bk_sleep_ms(50);
    }
    printf("    %s did not start; see %s\n", name, err_path);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    s->pid = -1;
    return 0;
}

static void server_stop(server *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = -1;
}

/* Runs argv to completion; its exit status, or -1. */
static int run_command(char *const argv[]) {
    pid_t pid = spawn(argv, NULL, NULL);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

/* A loopback TCP socket on a port the kernel picks: listening with this backlog, or (backlog < 0)
 * bound but not listening, so that connecting to it is refused. -1 if the family is missing. */
static int loopback_socket(int family, int backlog, uint16_t *port) {
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_storage addr;
    socklen_t len;
    memset(&addr, 0, sizeof addr);
    if (family == AF_INET) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&addr;
        in4->sin_family = AF_INET;
        in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *in4;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        len = sizeof *in6;
    }
    if (bind(fd, (struct sockaddr *)&addr, len) != 0 ||
        (backlog >= 0 && listen(fd, backlog) != 0) ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&addr)->sin_port
                                    : ((struct sockaddr_in6 *)&addr)->sin6_port);
    return fd;
}

static uint64_t elapsed_since(uint64_t start_ms) {
    return bk_monotonic_ms() - start_ms;
}

/* Threads of this process (Linux's /proc/self/task), or -1. */
static int thread_count(void) {
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL) {
        return -1;
    }
    int n = 0;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        n += e->d_name[0] != '.';
    }
    closedir(dir);
    return n;
}

/* Lets every SLOW_NAME lookup answer, then waits (10 s at most) until no lookup thread is left.
 * 1 when none is. */
static int slow_lookups_release(void) {
    if (fx.slow_gate[1] >= 0) {
        close(fx.slow_gate[1]);
        fx.slow_gate[1] = -1;
    }
    for (int i = 0; i < 1000 && thread_count() != fx.threads; i++) {
        bk_sleep_ms(10);
    }
    return thread_count() == fx.threads;
}

static void print_tls_error(const bk_tls_conn *c) {
    char text[512];
    bk_tls_describe(bk_tls_last_error(c), bk_tls_verify_flags(c), text, sizeof text);
    printf("    (%s)\n", text);
}

/* Sends a line to an s_server -rev peer and expects it back reversed. */
static int rev_round_trip(bk_tls_conn *c) {
    static const char line[] = "batchkey round trip: 0123456789\n";
    const size_t text_len = sizeof line - 2;
    char expected[sizeof line];
    for (size_t i = 0; i < text_len; i++) {
        expected[i] = line[text_len - 1 - i];
    }
    expected[text_len] = '\n';

    bk_stream s = bk_tls_stream(c);
    CHECK_RESULT(bk_stream_send_all(&s, (const uint8_t *)line, sizeof line - 1, NULL), BK_OK);
    char got[128];
    size_t n = 0;
    for (int calls = 0; n < sizeof line - 1 && calls < 1000; calls++) {
        int32_t k = s.recv(s.ctx, (uint8_t *)got + n, sizeof got - n);
        if (k < 0) {
            CHECK_RESULT(k, BK_OK);
        }
        n += (size_t)k;
    }
    CHECK(n == sizeof line - 1);
    CHECK(memcmp(got, expected, n) == 0);
    return CASE_PASS;
}

/* --- a TLS peer of our own, for the endings openssl s_server cannot script ---
 *
 * s_server always ends with close_notify and speaks only when spoken to, and killing it after it
 * wrote would be a race. This peer is an mbedTLS server over the test certificate in a thread of
 * this process: no timing decides what it sends, the sanitizers and valgrind watch both ends,
 * and there is no process to reap. It accepts one connection, completes the handshake and plays
 * its script on a plain socket: a bare FIN is a shutdown(SHUT_WR) that no close_notify precedes,
 * exactly what a server that drops the TCP connection sends. Every wait of the peer ends after
 * PEER_MAX_MS, so a broken case cannot hang the run. */

#define PEER_MAX_MS 10000
#define TRICKLE_MS  100
#define TRICKLE_MAX 50 /* bytes: 5 s of trickle, far longer than any deadline below */

static const char peer_greeting[] = "batchkey greeting\n";

typedef enum peer_script {
    PEER_CLOSE_NOTIFY, /* [greeting], close_notify, FIN; then waits for the client to close */
    PEER_BARE_FIN,     /* [greeting], FIN without close_notify; then waits likewise */
    PEER_TRICKLE,      /* one byte every TRICKLE_MS until told to stop or the client is gone */
    PEER_LISTEN,       /* [greeting], then reads until the client ends, noting how it ended */
} peer_script;

typedef struct tls_peer {
    peer_script script;
    int greet; /* the script starts with peer_greeting, as one record */
    int listener;
    uint16_t port;
    int stop[2]; /* closing stop[1] ends the wait for the client and the trickle */
    pthread_t thread;
    int running;
    int fd;
    /* What the peer saw: read after tls_peer_end. */
    int handshake_ret;
    size_t bytes_read; /* application bytes from the client */
    int end_ret;       /* PEER_LISTEN: how the client's side ended (mbedtls_ssl_read) */
    size_t trickled;
} tls_peer;

static struct {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_ssl_config conf;
    int ready;
} peer_tls;

static int peer_config_init(void) {
    static const unsigned char personalization[] = "batchkey test peer";
    mbedtls_entropy_init(&peer_tls.entropy);
    mbedtls_ctr_drbg_init(&peer_tls.drbg);
    mbedtls_x509_crt_init(&peer_tls.cert);
    mbedtls_pk_init(&peer_tls.key);
    mbedtls_ssl_config_init(&peer_tls.conf);
    peer_tls.ready = 1;
    int ret = mbedtls_ctr_drbg_seed(&peer_tls.drbg, mbedtls_entropy_func, &peer_tls.entropy,
                                    personalization, sizeof personalization - 1);
    if (ret == 0) {
        ret = mbedtls_x509_crt_parse_file(&peer_tls.cert, fx.cert);
    }
    if (ret == 0) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
        ret = mbedtls_pk_parse_keyfile(&peer_tls.key, fx.key, NULL, mbedtls_ctr_drbg_random,
                                       &peer_tls.drbg);
#else
        ret = mbedtls_pk_parse_keyfile(&peer_tls.key, fx.key, NULL);
#endif
    }
    if (ret == 0) {
        ret = mbedtls_ssl_config_defaults(&peer_tls.conf, MBEDTLS_SSL_IS_SERVER,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    }
    if (ret == 0) {
        mbedtls_ssl_conf_rng(&peer_tls.conf, mbedtls_ctr_drbg_random, &peer_tls.drbg);
        ret = mbedtls_ssl_conf_own_cert(&peer_tls.conf, &peer_tls.cert, &peer_tls.key);
    }
    if (ret != 0) {
        printf("test peer: mbedTLS -0x%04X\n", (unsigned)-ret);
    }
    return ret == 0;
}

static void peer_config_free(void) {
    if (peer_tls.ready) {
        mbedtls_ssl_config_free(&peer_tls.conf);
        mbedtls_pk_free(&peer_tls.key);
        mbedtls_x509_crt_free(&peer_tls.cert);
        mbedtls_ctr_drbg_free(&peer_tls.drbg);
        mbedtls_entropy_free(&peer_tls.entropy);
        peer_tls.ready = 0;
    }
}

/* Waits until fd is ready for events (or, when stoppable, until the test says stop); 1 if it is
 * ready. */
static int peer_wait(const tls_peer *p, int fd, short events, int stoppable) {
    struct pollfd pfd[2] = {{fd, events, 0}, {p->stop[0], POLLIN, 0}};
    int n;
    do {
        n = poll(pfd, stoppable ? 2 : 1, PEER_MAX_MS);
    } while (n < 0 && errno == EINTR);
    return n > 0 && pfd[0].revents != 0 && (!stoppable || pfd[1].revents == 0);
}

static int peer_bio_send(void *ctx, const unsigned char *buf, size_t len) {
    tls_peer *p = ctx;
    if (!peer_wait(p, p->fd, POLLOUT, 0)) {
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    ssize_t n = send(p->fd, buf, len, MSG_NOSIGNAL);
    return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)n;
}

static int peer_bio_recv(void *ctx, unsigned char *buf, size_t len) {
    tls_peer *p = ctx;
    if (!peer_wait(p, p->fd, POLLIN, 0)) {
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    ssize_t n = recv(p->fd, buf, len, 0);
    return n < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : (int)n;
}

static int peer_write(mbedtls_ssl_context *ssl, const char *data, size_t len) {
    while (len > 0) {
        int n = mbedtls_ssl_write(ssl, (const unsigned char *)data, len);
        if (n <= 0) {
            return 0;
        }
        data += n;
        len -= (size_t)n;
    }
    return 1;
}

static void peer_play(tls_peer *p, mbedtls_ssl_context *ssl) {
    if (p->greet && !peer_write(ssl, peer_greeting, sizeof peer_greeting - 1)) {
        return;
    }
    if (p->script == PEER_TRICKLE) {
        /* The pause is a wait on the stop pipe: told to stop, the peer ends at once. */
        while (p->trickled < TRICKLE_MAX && peer_write(ssl, "t", 1)) {
            p->trickled++;
            struct pollfd stop = {p->stop[0], POLLIN, 0};
            if (poll(&stop, 1, TRICKLE_MS) != 0) {
                break;
            }
        }
        return;
    }
    if (p->script == PEER_LISTEN) {
        unsigned char buf[256];
        int n;
        while ((n = mbedtls_ssl_read(ssl, buf, sizeof buf)) > 0) {
            p->bytes_read += (size_t)n;
        }
        p->end_ret = n;
        return;
    }
    if (p->script == PEER_CLOSE_NOTIFY) {
        (void)mbedtls_ssl_close_notify(ssl);
    }
    (void)shutdown(p->fd, SHUT_WR);
    /* Closing only once the client has: a close with its bytes unread would send an RST,
     * which may discard what the client has not read yet. */
    char buf[256];
    while (peer_wait(p, p->fd, POLLIN, 0) && recv(p->fd, buf, sizeof buf, 0) > 0) {
    }
}

static void *peer_main(void *arg) {
    tls_peer *p = arg;
    if (!peer_wait(p, p->listener, POLLIN, 1)) {
        return NULL;
    }
    p->fd = accept(p->listener, NULL, NULL);
    if (p->fd < 0) {
        return NULL;
    }
    mbedtls_ssl_context ssl;
    mbedtls_ssl_init(&ssl);
    int ret = mbedtls_ssl_setup(&ssl, &peer_tls.conf);
    if (ret == 0) {
        mbedtls_ssl_set_bio(&ssl, p, peer_bio_send, peer_bio_recv, NULL);
        ret = mbedtls_ssl_handshake(&ssl);
    }
    p->handshake_ret = ret;
    if (ret == 0) {
        peer_play(p, &ssl);
    }
    mbedtls_ssl_free(&ssl);
    close(p->fd);
    p->fd = -1;
    return NULL;
}

/* Tells the peer to stop waiting for a client or trickling, and waits for its thread to end
 * (a script waiting for the client's close ends when the client has closed). */
static void tls_peer_end(tls_peer *p) {
    if (p->stop[1] >= 0) {
        close(p->stop[1]);
    }
    if (p->running) {
        pthread_join(p->thread, NULL);
    }
    if (p->stop[0] >= 0) {
        close(p->stop[0]);
    }
    if (p->listener >= 0) {
        close(p->listener);
    }
    p->running = 0;
    p->stop[0] = p->stop[1] = p->listener = -1;
}

/* Listens on 127.0.0.1 and starts the peer's thread; 1 on success. */
static int tls_peer_start(tls_peer *p, peer_script script, int greet) {
    memset(p, 0, sizeof *p);
    p->script = script;
    p->greet = greet;
    p->fd = -1;
    p->stop[0] = p->stop[1] = -1;
    p->listener = loopback_socket(AF_INET, 1, &p->port);
    if (p->listener < 0 || pipe(p->stop) != 0 || fcntl(p->stop[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(p->stop[1], F_SETFD, FD_CLOEXEC) != 0 ||
        pthread_create(&p->thread, NULL, peer_main, p) != 0) {
        printf("    cannot start the test peer: %s\n", strerror(errno));
        tls_peer_end(p);
        return 0;
    }
    p->running = 1;
    return 1;
}

static bk_result tls_peer_connect(bk_tls_conn *c, const tls_peer *p) {
    return bk_tls_connect_as(c, &fx.trusted, "127.0.0.1", p->port, "localhost", TLS_TIMEOUT_MS);
}

/* Waits (PEER_MAX_MS at most) until the peer's FIN has reached fd: whatever the peer sent
 * before it is then waiting there too. */
static int wait_for_fin(int fd) {
    struct pollfd pfd = {fd, POLLRDHUP, 0};
    int n;
    do {
        n = poll(&pfd, 1, PEER_MAX_MS);
    } while (n < 0 && errno == EINTR);
    return n == 1 && (pfd.revents & POLLRDHUP) != 0;
}

/* Waits (PEER_MAX_MS at most) until fd has bytes to read. */
static int wait_readable(int fd) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int n;
    do {
        n = poll(&pfd, 1, PEER_MAX_MS);
    } while (n < 0 && errno == EINTR);
    return n == 1;
}

/* Bytes waiting in fd's receive queue, which no read has taken; -1 on error. */
static int unread_bytes(int fd) {
    int n = -1;
    return ioctl(fd, FIONREAD, &n) == 0 ? n : -1;
}

/* --- the POSIX platform --- */

static int test_posix_entropy(void) {
    uint8_t a[32];
    uint8_t b[32];
    static const uint8_t zero[32];
    static uint8_t big[70000]; /* more than one getrandom call may deliver at once */
    CHECK_RESULT(bk_entropy(a, sizeof a), BK_OK);
    CHECK_RESULT(bk_entropy(b, sizeof b), BK_OK);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(memcmp(a, zero, sizeof a) != 0);
    CHECK_RESULT(bk_entropy(big, sizeof big), BK_OK);
    CHECK(memcmp(big + sizeof big - 32, zero, 32) != 0);
    CHECK_RESULT(bk_entropy(NULL, 0), BK_OK);
    CHECK_RESULT(bk_entropy(NULL, 1), BK_ERR_ARGUMENT);
    return CASE_PASS;
}

static int test_posix_clocks(void) {
    uint64_t start = bk_monotonic_ms();
    bk_sleep_ms(60);
    uint64_t slept = elapsed_since(start);
    CHECK(slept >= 60 && slept < 60 + LATE_SLACK_MS);
    bk_sleep_ms(0);
    CHECK(bk_wall_clock_s() > 1577836800); /* this machine's clock is set */
    return CASE_PASS;
}

static int test_posix_log_one_line(void) {
    char path[600];
    CHECK(join_path(path, sizeof path, fx.dir, "log.txt"));
    int file = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(file >= 0);
    fflush(stderr);
    int saved = dup(2);
    CHECK(saved >= 0 && dup2(file, 2) == 2);
    bk_log(BK_LOG_DEBUG, "dropped at the default level");
    bk_log(BK_LOG_WARN, "two\nlines\x1b[31m");
    bk_log_set_level(BK_LOG_DEBUG);
    bk_log(BK_LOG_DEBUG, NULL);
    bk_log_set_level(BK_LOG_WARN);
    char long_message[3000];
    memset(long_message, 'x', sizeof long_message - 1);
    long_message[sizeof long_message - 1] = '\0';
    bk_log(BK_LOG_ERROR, long_message);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    char text[4096];
    ssize_t n = pread(file, text, sizeof text - 1, 0);
    close(file);
    CHECK(n > 0);
    text[n] = '\0';
    static const char expected[] = "batchkey: warn: two?lines?[31m\nbatchkey: debug: (null)\n"
                                   "batchkey: error: xxx";
    CHECK(strncmp(text, expected, sizeof expected - 1) == 0);
    const char *third = text + sizeof expected - 1 - strlen("batchkey: error: xxx");
    CHECK(strchr(third, '\n') == text + n - 1); /* the long one is cut, still one line */
    CHECK(strstr(third, "...\n") != NULL);
    return CASE_PASS;
}

static int test_tcp_bad_hosts(void) {
    bk_socket s = {123};
    CHECK_RESULT(bk_tcp_connect(&s, "[::1", 443, 1000), BK_ERR_ARGUMENT);
    CHECK(s.handle == -1);
    CHECK_RESULT(bk_tcp_connect(&s, "[]", 443, 1000), BK_ERR_ARGUMENT);
    CHECK_RESULT(bk_tcp_connect(&s, "", 443, 1000), BK_ERR_ARGUMENT);
    CHECK_RESULT(bk_tcp_connect(&s, NULL, 443, 1000), BK_ERR_ARGUMENT);
    CHECK_RESULT(bk_tcp_connect(&s, "127.0.0.1", 0, 1000), BK_ERR_ARGUMENT);
    CHECK_RESULT(bk_tcp_connect(NULL, "127.0.0.1", 443, 1000), BK_ERR_ARGUMENT);
    /* A bracketed host must be a literal: it never goes to DNS. */
    CHECK_RESULT(bk_tcp_connect(&s, "[::zz]", 443, 1000), BK_ERR_DNS);
    CHECK_RESULT(bk_tcp_connect(&s, "[localhost]", 443, 1000), BK_ERR_DNS);
    CHECK(s.handle == -1);
    uint8_t byte = 0;
    CHECK_RESULT(bk_tcp_send(&s, &byte, 1, 10), BK_ERR_ARGUMENT);
    CHECK_RESULT(bk_tcp_recv(&s, &byte, 1, 10), BK_ERR_ARGUMENT);
    bk_tcp_close(&s);
    bk_tcp_close(NULL);
    return CASE_PASS;
}

static int refused(const char *host, int family) {
    uint16_t port = 0;
    int fd = loopback_socket(family, -1, &port);
    CHECK(fd >= 0);
    bk_socket s;
    uint64_t start = bk_monotonic_ms();
    bk_result r = bk_tcp_connect(&s, host, port, 5000);
    close(fd);
    CHECK_RESULT(r, BK_ERR_CONNECT);
    CHECK(s.handle == -1);
    CHECK(elapsed_since(start) < 1000); /* a refusal is immediate, not a timeout */
    return CASE_PASS;
}

static int test_tcp_refused_ipv4(void) {
    return refused("127.0.0.1", AF_INET);
}

static int test_tcp_refused_ipv6(void) {
    if (!fx.have_ipv6) {
        SKIP("no IPv6 loopback (::1) on this host");
    }
    return refused("[::1]", AF_INET6);
}

/* A listener whose accept queue is full drops further SYNs: the connect must time out. */
static int test_tcp_connect_timeout(void) {
    uint16_t port = 0;
    int fd = loopback_socket(AF_INET, 0, &port);
    CHECK(fd >= 0);
    bk_socket held[16];
    size_t held_count = 0;
    int timed_out = 0;
    uint64_t took = 0;
    while (held_count < 16 && !timed_out) {
        uint64_t start = bk_monotonic_ms();
        bk_result r = bk_tcp_connect(&held[held_count], "127.0.0.1", port, 300);
        took = elapsed_since(start);
        if (r == BK_ERR_TIMEOUT) {
            timed_out = 1;
        } else if (r == BK_OK) {
            held_count++;
        } else {
            break;
        }
    }
    for (size_t i = 0; i < held_count; i++) {
        bk_tcp_close(&held[i]);
    }
    close(fd);
    if (!timed_out) {
        SKIP("the kernel kept accepting connections into a full backlog");
    }
    CHECK(took >= 290 && took < 300 + LATE_SLACK_MS);
    return CASE_PASS;
}

static int socket_options_ok(int fd) {
    int fd_flags = fcntl(fd, F_GETFD);
    int fl_flags = fcntl(fd, F_GETFL);
    int nodelay = 0;
    socklen_t len = sizeof nodelay;
    CHECK(fd_flags >= 0 && (fd_flags & FD_CLOEXEC) != 0);
    CHECK(fl_flags >= 0 && (fl_flags & O_NONBLOCK) == 0); /* back to blocking after connect */
    CHECK(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) == 0 && nodelay != 0);
    return CASE_PASS;
}

/* Bytes both ways, receive timeout, orderly close, and a send to a vanished peer that must be
 * an error, not a SIGPIPE (which would kill this process). */
static int tcp_exchange(const char *host, int family) {
    uint16_t port = 0;
    int listener = loopback_socket(family, 4, &port);
    CHECK(listener >= 0);
    bk_socket s;
    CHECK_RESULT(bk_tcp_connect(&s, host, port, 2000), BK_OK);
    CHECK(socket_options_ok(s.handle) == CASE_PASS);
    int peer = accept(listener, NULL, NULL);
    close(listener);
    CHECK(peer >= 0);

    uint8_t buf[64];
    CHECK(bk_tcp_send(&s, (const uint8_t *)"ping", 4, 1000) == 4);
    CHECK(read(peer, buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
    uint64_t start = bk_monotonic_ms();
    CHECK_RESULT(bk_tcp_recv(&s, buf, sizeof buf, 150), BK_ERR_TIMEOUT);
    CHECK(elapsed_since(start) >= 145 && elapsed_since(start) < 150 + LATE_SLACK_MS);
    CHECK(write(peer, "pong", 4) == 4);
    CHECK(bk_tcp_recv(&s, buf, sizeof buf, 1000) == 4 && memcmp(buf, "pong", 4) == 0);

    /* The peer stops reading: sends eventually time out instead of blocking. */
    static uint8_t chunk[65536];
    int32_t n = 0;
    for (int i = 0; i < 4096 && n >= 0; i++) {
        n = bk_tcp_send(&s, chunk, sizeof chunk, 100);
    }
    CHECK_RESULT(n, BK_ERR_TIMEOUT);

    close(peer);
    /* What was queued towards the peer is lost; the close shows as an error or an EOF. */
    int32_t r = bk_tcp_recv(&s, buf, sizeof buf, 1000);
    CHECK(r == BK_ERR_STREAM_CLOSED || r == BK_ERR_STREAM_RECV);
    for (int i = 0; i < 50 && n != BK_ERR_STREAM_SEND; i++) {
        n = bk_tcp_send(&s, buf, 4, 1000);
        bk_sleep_ms(5);
    }
    CHECK_RESULT(n, BK_ERR_STREAM_SEND);
    bk_tcp_close(&s);
    CHECK(s.handle == -1);
    bk_tcp_close(&s);
    return CASE_PASS;
}

static int test_tcp_exchange_ipv4(void) {
    return tcp_exchange("127.0.0.1", AF_INET);
}

static int test_tcp_exchange_ipv6_bracketed(void) {
    if (!fx.have_ipv6) {
        SKIP("no IPv6 loopback (::1) on this host");
    }
    return tcp_exchange("[::1]", AF_INET6);
}

/* An orderly close with nothing lost: recv reports BK_ERR_STREAM_CLOSED. */
static int test_tcp_orderly_close(void) {
    uint16_t port = 0;
    int listener = loopback_socket(AF_INET, 4, &port);
    CHECK(listener >= 0);
    bk_socket s;
    CHECK_RESULT(bk_tcp_connect(&s, "127.0.0.1", port, 2000), BK_OK);
    int peer = accept(listener, NULL, NULL);
    close(listener);
    CHECK(peer >= 0);
    CHECK(write(peer, "bye", 3) == 3);
    close(peer);
    uint8_t buf[8];
    CHECK(bk_tcp_recv(&s, buf, sizeof buf, 1000) == 3);
    CHECK_RESULT(bk_tcp_recv(&s, buf, sizeof buf, 1000), BK_ERR_STREAM_CLOSED);
    bk_tcp_close(&s);
    return CASE_PASS;
}

/* Connects to LOOPBACK_NAME, which the fake resolver answers at once, on a local listener. */
static int connect_by_name_ok(void) {
    uint16_t port = 0;
    int listener = loopback_socket(AF_INET, 4, &port);
    CHECK(listener >= 0);
    bk_socket s;
    bk_result r = bk_tcp_connect(&s, LOOPBACK_NAME, port, 2000);
    bk_tcp_close(&s);
    close(listener);
    CHECK_RESULT(r, BK_OK);
    return CASE_PASS;
}

/* A literal connects at once, without a lookup thread, on a listener of its own. */
static int connect_literal_ok(const char *host, int family) {
    uint16_t port = 0;
    int listener = loopback_socket(family, 4, &port);
    CHECK(listener >= 0);
    bk_socket s;
    bk_result r = bk_tcp_connect(&s, host, port, 2000);
    bk_tcp_close(&s);
    close(listener);
    CHECK_RESULT(r, BK_OK);
    return CASE_PASS;
}

/* A resolver that never answers must not hold the caller past its deadline. The bound on the
 * time taken is one of correctness (the call returned, and near its deadline), not a
 * performance goal: the slack allows for valgrind. */
static int test_tcp_resolve_deadline(void) {
    CHECK(thread_count() == fx.threads);
    bk_socket s = {123};
    uint64_t start = bk_monotonic_ms();
    bk_result r = bk_tcp_connect(&s, SLOW_NAME, 443, 300);
    uint64_t took = elapsed_since(start);
    printf("    (%s: %s after %llu ms)\n", SLOW_NAME, bk_strerror(r), (unsigned long long)took);
    CHECK_RESULT(r, BK_ERR_TIMEOUT);
    CHECK(s.handle == -1);
    CHECK(took >= 290 && took < 300 + LATE_SLACK_MS);
    /* The abandoned lookup still waits in the resolver; other lookups go on beside it. */
    CHECK(thread_count() == fx.threads + 1);
    CHECK(connect_by_name_ok() == CASE_PASS);
    start = bk_monotonic_ms();
    CHECK_RESULT(bk_tcp_connect(&s, NXDOMAIN_NAME, 443, 5000), BK_ERR_DNS);
    CHECK(elapsed_since(start) < 1000);
    CHECK(connect_literal_ok("127.0.0.1", AF_INET) == CASE_PASS);
    if (fx.have_ipv6) {
        CHECK(connect_literal_ok("[::1]", AF_INET6) == CASE_PASS);
        CHECK(connect_literal_ok("::1", AF_INET6) == CASE_PASS);
    }
    CHECK(thread_count() == fx.threads + 1); /* the lookups that finished left no thread */
    return CASE_PASS;
}

/* Lookups that outlive their callers hold a slot each; once all are taken, further names fail
 * at once while literals still connect. When the resolver answers, the slots come back and no
 * thread stays behind. Runs after test_tcp_resolve_deadline, whose lookup may still hold a slot. */
static int test_tcp_resolve_pool(void) {
    int threads = thread_count();
    CHECK(threads >= fx.threads);
    bk_socket s;
    int stuck = 0;
    uint64_t took = 0;
    bk_result r = BK_ERR_TIMEOUT;
    for (; stuck < 16 && r == BK_ERR_TIMEOUT; stuck++) {
        uint64_t start = bk_monotonic_ms();
        r = bk_tcp_connect(&s, SLOW_NAME, 443, 200);
        took = elapsed_since(start);
        if (took < 100) {
            break; /* no lookup was started: the pool is full */
        }
    }
    printf("    (%d more stuck lookups fill the pool; the next fails after %llu ms)\n", stuck,
           (unsigned long long)took);
    CHECK_RESULT(r, BK_ERR_TIMEOUT);
    CHECK(took < 100);
    CHECK(thread_count() == threads + stuck);
    uint64_t start = bk_monotonic_ms();
    CHECK_RESULT(bk_tcp_connect(&s, LOOPBACK_NAME, 443, 5000), BK_ERR_TIMEOUT);
    CHECK(elapsed_since(start) < 100);
    CHECK(connect_literal_ok("127.0.0.1", AF_INET) == CASE_PASS);
    CHECK(slow_lookups_release());
    CHECK(connect_by_name_ok() == CASE_PASS);
    CHECK(thread_count() == fx.threads);
    return CASE_PASS;
}

/* --- the TCP carrier (core/bk_tcp_stream.c) over the POSIX platform --- */

/* The carrier's limits: the per-wait timeout, the deadline that cuts it, the probe that does not
 * wait, no I/O past the deadline, the peer's FIN, and a connect that does not start past the
 * deadline. */
static int test_tcp_stream_limits(void) {
    uint16_t port = 0;
    int listener = loopback_socket(AF_INET, 4, &port);
    CHECK(listener >= 0);
    bk_tcp_stream ts;
    bk_result r = bk_tcp_stream_connect(&ts, "127.0.0.1", port, 2000, 0);
    int peer = r == BK_OK ? accept(listener, NULL, NULL) : -1;
    bk_stream s = bk_tcp_stream_of(&ts);
    uint8_t buf[16];
    CHECK_RESULT(r, BK_OK);
    CHECK(peer >= 0);

    /* the per-wait timeout, then the deadline cutting a longer one */
    bk_tcp_stream_set_timeout(&ts, 150);
    uint64_t start = bk_monotonic_ms();
    int32_t n = s.recv(s.ctx, buf, sizeof buf);
    uint64_t took = elapsed_since(start);
    CHECK_RESULT(n, BK_ERR_TIMEOUT);
    CHECK(took >= 145 && took < 150 + LATE_SLACK_MS);
    bk_tcp_stream_set_timeout(&ts, 5000);
    start = bk_monotonic_ms();
    bk_tcp_stream_set_deadline(&ts, start + 100, true);
    n = s.recv(s.ctx, buf, sizeof buf);
    took = elapsed_since(start);
    CHECK_RESULT(n, BK_ERR_TIMEOUT);
    CHECK(took >= 95 && took < 100 + LATE_SLACK_MS);

    /* the probe: 0 at once for nothing, whatever the deadline; bytes when there are some */
    bk_tcp_stream_set_deadline(&ts, bk_monotonic_ms() - 1, false);
    start = bk_monotonic_ms();
    CHECK_RESULT(s.recv(s.ctx, buf, sizeof buf), BK_OK);
    CHECK(elapsed_since(start) < 100);
    CHECK(write(peer, "ab", 2) == 2);
    CHECK(wait_readable(ts.socket.handle));
    CHECK(s.recv(s.ctx, buf, sizeof buf) == 2 && memcmp(buf, "ab", 2) == 0);

    /* past the deadline: no I/O either way */
    CHECK(write(peer, "cd", 2) == 2);
    CHECK(wait_readable(ts.socket.handle));
    bk_tcp_stream_set_deadline(&ts, bk_monotonic_ms() - 1, true);
    start = bk_monotonic_ms();
    CHECK_RESULT(s.recv(s.ctx, buf, sizeof buf), BK_ERR_TIMEOUT);
    CHECK_RESULT(s.send(s.ctx, (const uint8_t *)"x", 1), BK_ERR_TIMEOUT);
    CHECK(elapsed_since(start) < 100);
    CHECK(unread_bytes(ts.socket.handle) == 2);
    CHECK(unread_bytes(peer) == 0);

    /* no deadline: what waits, then the peer's FIN as an orderly close */
    bk_tcp_stream_set_deadline(&ts, 0, true);
    CHECK(s.recv(s.ctx, buf, sizeof buf) == 2 && memcmp(buf, "cd", 2) == 0);
    CHECK(s.send(s.ctx, (const uint8_t *)"ef", 2) == 2);
    CHECK(read(peer, buf, sizeof buf) == 2);
    close(peer);
    CHECK_RESULT(s.recv(s.ctx, buf, sizeof buf), BK_ERR_STREAM_CLOSED);
    CHECK_RESULT(s.recv(s.ctx, buf, 0), BK_OK);
    bk_tcp_stream_close(&ts);
    CHECK(ts.socket.handle == -1);
    bk_tcp_stream_close(&ts);

    /* a connect past its deadline starts nothing */
    start = bk_monotonic_ms();
    r = bk_tcp_stream_connect(&ts, "127.0.0.1", port, 5000, start - 1);
    struct pollfd knock = {listener, POLLIN, 0};
    int knocked = poll(&knock, 1, 50);
    close(listener);
    CHECK_RESULT(r, BK_ERR_TIMEOUT);
    CHECK(ts.socket.handle == -1);
    CHECK(knocked == 0);
    return CASE_PASS;
}

/* --- TLS configuration --- */

static int test_tls_config_errors(void) {
    bk_tls_config cfg;
    char path[600];
    CHECK(join_path(path, sizeof path, fx.dir, "missing-ca.pem"));
    CHECK_RESULT(bk_tls_config_init(&cfg, path), BK_ERR_TLS_CA);
    CHECK(cfg.last_mbedtls_error != 0);
    CHECK(!cfg.ready);
    bk_tls_config_free(&cfg); /* harmless after a failed init */

    /* A PEM file without a single certificate in it. */
    CHECK_RESULT(bk_tls_config_init(&cfg, fx.key), BK_ERR_TLS_CA);
    CHECK_RESULT(bk_tls_config_init(NULL, fx.ca), BK_ERR_ARGUMENT);
    CHECK_RESULT(bk_tls_config_init_ca(&cfg, NULL, 10), BK_ERR_ARGUMENT);

    bk_tls_conn c;
    CHECK_RESULT(bk_tls_connect(&c, &cfg, "localhost", fx.rev4.port, 1000), BK_ERR_ARGUMENT);
    bk_tls_close(&c);
    return CASE_PASS;
}

static int test_tls_system_bundle(void) {
    if (access(BK_TLS_SYSTEM_CA_FILE, R_OK) != 0) {
        SKIP("no system CA bundle at " BK_TLS_SYSTEM_CA_FILE);
    }
    bk_tls_config cfg;
    CHECK_RESULT(bk_tls_config_init(&cfg, NULL), BK_OK);
    /* Public roots do not vouch for the test server. */
    bk_tls_conn c;
    bk_result r =
        bk_tls_connect_as(&c, &cfg, "127.0.0.1", fx.rev4.port, "localhost", TLS_TIMEOUT_MS);
    uint32_t flags = bk_tls_verify_flags(&c);
    bk_tls_close(&c);
    bk_tls_config_free(&cfg);
    bk_tls_config_free(&cfg); /* twice is harmless */
    CHECK_RESULT(r, BK_ERR_TLS_VERIFY);
    CHECK((flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0);
    return CASE_PASS;
}

/* --- TLS connections --- */

static int test_tls_trusted_ipv4(void) {
    bk_tls_conn c;
    CHECK_RESULT(
        bk_tls_connect_as(&c, &fx.trusted, "127.0.0.1", fx.rev4.port, "localhost", TLS_TIMEOUT_MS),
        BK_OK);
    printf("    (%s, %s)\n", mbedtls_ssl_get_version(&c.ssl), mbedtls_ssl_get_ciphersuite(&c.ssl));
    CHECK(bk_tls_verify_flags(&c) == 0);
    CHECK(bk_tls_is_reusable(&c) == 1);
    CHECK(rev_round_trip(&c) == CASE_PASS);
    CHECK(bk_tls_is_reusable(&c) == 1);
    CHECK(rev_round_trip(&c) == CASE_PASS); /* the probe left the connection intact */
    bk_tls_close(&c);
    CHECK(c.tcp.socket.handle == -1);
    CHECK(c.state == BK_TLS_CLOSED);
    bk_tls_close(&c);
    bk_stream s = bk_tls_stream(&c);
    CHECK_RESULT(s.send(s.ctx, (const uint8_t *)"x", 1), BK_ERR_ARGUMENT);
    return CASE_PASS;
}

static int test_tls_trusted_ipv6(void) {
    if (!fx.have_ipv6) {
        SKIP("no IPv6 loopback (::1) on this host");
    }
    bk_tls_conn c;
    CHECK_RESULT(
        bk_tls_connect_as(&c, &fx.trusted, "[::1]", fx.rev6.port, "localhost", TLS_TIMEOUT_MS),
        BK_OK);
    int ok = rev_round_trip(&c);
    bk_tls_close(&c);
    CHECK(ok == CASE_PASS);
    return CASE_PASS;
}

/* The everyday call: the host is both what is resolved and what is verified. */
static int test_tls_connect_by_name(void) {
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo("localhost", NULL, &hints, &list) != 0) {
        SKIP("\"localhost\" does not resolve here");
    }
    freeaddrinfo(list);
    bk_tls_conn c;
    CHECK_RESULT(bk_tls_connect(&c, &fx.trusted, "localhost", fx.rev4.port, TLS_TIMEOUT_MS), BK_OK);
    int ok = rev_round_trip(&c);
    bk_tls_close(&c);
    CHECK(ok == CASE_PASS);
    return CASE_PASS;
}

static int test_tls_ca_from_memory(void) {
    static uint8_t pem[8192];
    FILE *f = fopen(fx.ca, "rb");
    CHECK(f != NULL);
    size_t n = fread(pem, 1, sizeof pem - 1, f);
    fclose(f);
    CHECK(n > 0);
    pem[n] = '\0';
    bk_tls_config cfg;
    CHECK_RESULT(bk_tls_config_init_ca(&cfg, pem, n + 1), BK_OK);
    bk_tls_conn c;
    bk_result r =
        bk_tls_connect_as(&c, &cfg, "127.0.0.1", fx.rev4.port, "localhost", TLS_TIMEOUT_MS);
    int ok = r == BK_OK ? rev_round_trip(&c) : CASE_FAIL;
    bk_tls_close(&c);
    bk_tls_config_free(&cfg);
    CHECK_RESULT(r, BK_OK);
    CHECK(ok == CASE_PASS);
    return CASE_PASS;
}

static int test_tls_untrusted_ca(void) {
    bk_tls_config cfg;
    CHECK_RESULT(bk_tls_config_init(&cfg, fx.other_ca), BK_OK);
    bk_tls_conn c;
    bk_result r =
        bk_tls_connect_as(&c, &cfg, "127.0.0.1", fx.rev4.port, "localhost", TLS_TIMEOUT_MS);
    print_tls_error(&c);
    uint32_t flags = bk_tls_verify_flags(&c);
    int raw = bk_tls_last_error(&c);
    int socket_left_open = c.tcp.socket.handle != -1;
    bk_tls_close(&c);
    bk_tls_config_free(&cfg);
    CHECK_RESULT(r, BK_ERR_TLS_VERIFY);
    CHECK((flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) != 0);
    CHECK(raw == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    CHECK(!socket_left_open);
    return CASE_PASS;
}

static int test_tls_wrong_host_name(void) {
    bk_tls_conn c;
    bk_result r = bk_tls_connect_as(&c, &fx.trusted, "127.0.0.1", fx.rev4.port, "wronghost.example",
                                    TLS_TIMEOUT_MS);
    print_tls_error(&c);
    uint32_t flags = bk_tls_verify_flags(&c);
    bk_tls_close(&c);
    CHECK_RESULT(r, BK_ERR_TLS_VERIFY);
    CHECK((flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0);
    CHECK((flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) == 0);
    return CASE_PASS;
}

/* An IP literal is still a name to verify: the certificate names only "localhost". */
static int test_tls_ip_literal_verified(void) {
    bk_tls_conn c;
    bk_result r = bk_tls_connect(&c, &fx.trusted, "127.0.0.1", fx.rev4.port, TLS_TIMEOUT_MS);
    uint32_t flags = bk_tls_verify_flags(&c);
    bk_tls_close(&c);
    CHECK_RESULT(r, BK_ERR_TLS_VERIFY);
    CHECK((flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0);
    if (fx.have_ipv6) {
        r = bk_tls_connect(&c, &fx.trusted, "[::1]", fx.rev6.port, TLS_TIMEOUT_MS);
        flags = bk_tls_verify_flags(&c);
        bk_tls_close(&c);
        CHECK_RESULT(r, BK_ERR_TLS_VERIFY);
        CHECK((flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) != 0);
    }
    return CASE_PASS;
}

static int test_tls_refuses_tls11(void) {
    server old;
    static const char *const options[] = {"-www", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", NULL};
    if (!server_start(&old, "tls11", "127.0.0.1:0", options)) {
        SKIP("openssl s_server cannot run TLS 1.1 only");
    }
    /* Prove the server really speaks TLS 1.1, so that the refusal below means something. */
    char accept[32];
    (void)snprintf(accept, sizeof accept, "127.0.0.1:%u", (unsigned)old.port);
    char *probe[] = {"openssl", "s_client", "-connect",           accept,
                     "-tls1_1", "-cipher",  "DEFAULT@SECLEVEL=0", NULL};
    if (run_command(probe) != 0) {
        server_stop(&old);
        SKIP("openssl s_client could not complete a TLS 1.1 handshake with it");
    }
#if defined(MBEDTLS_SSL_PROTO_TLS1_1)
    printf("    (this mbedTLS has TLS 1.1 compiled in: the refusal is the configured minimum)\n");
#endif
    bk_tls_conn c;
    bk_result r =
        bk_tls_connect_as(&c, &fx.trusted, "127.0.0.1", old.port, "localhost", TLS_TIMEOUT_MS);
    print_tls_error(&c);
    bk_tls_close(&c);
    server_stop(&old);
    CHECK_RESULT(r, BK_ERR_TLS_HANDSHAKE);
    return CASE_PASS;
}

static int test_tls_refused(void) {
    uint16_t port = 0;
    int fd = loopback_socket(AF_INET, -1, &port);
    CHECK(fd >= 0);
    bk_tls_conn c;
    bk_result r = bk_tls_connect_as(&c, &fx.trusted, "127.0.0.1", port, "localhost", 5000);
    bk_tls_close(&c);
    close(fd);
    CHECK_RESULT(r, BK_ERR_CONNECT);
    if (fx.have_ipv6) {
        fd = loopback_socket(AF_INET6, -1, &port);
        CHECK(fd >= 0);
        r = bk_tls_connect(&c, &fx.trusted, "[::1]", port, 5000);
        bk_tls_close(&c);
        close(fd);
        CHECK_RESULT(r, BK_ERR_CONNECT);
    }
    CHECK_RESULT(bk_tls_connect(&c, &fx.trusted, "[::zz]", 443, 5000), BK_ERR_DNS);
    bk_tls_close(&c);
    return CASE_PASS;
}

/* The kernel completes the TCP handshake for a listener that never accepts; the ClientHello
 * then meets silence and the whole connect must end at its deadline. */
static int test_tls_handshake_timeout(void) {
    uint16_t port = 0;
    int fd = loopback_socket(AF_INET, 4, &port);
    CHECK(fd >= 0);
    bk_tls_conn c;
    uint64_t start = bk_monotonic_ms();
    bk_result r = bk_tls_connect_as(&c, &fx.trusted, "127.0.0.1", port, "localhost", 700);
    uint64_t took = elapsed_since(start);
    bk_tls_close(&c);
    close(fd);
    printf("    (returned after %llu ms)\n", (unsigned long long)took);
    CHECK_RESULT(r, BK_ERR_TIMEOUT);
    CHECK(took >= 690 && took < 700 + LATE_SLACK_MS);
    return CASE_PASS;
}

/* After the handshake a quiet peer makes recv time out; the connection is then spent. */
static int test_tls_recv_timeout(void) {
    bk_tls_conn c;
    CHECK_RESULT(
        bk_tls_connect_as(&c, &fx.trusted, "127.0.0.1", fx.www4.port, "localhost", TLS_TIMEOUT_MS),
        BK_OK);
    bk_tls_set_timeout(&c, 300);
    bk_stream s = bk_tls_stream(&c);
    uint8_t buf[64];
    uint64_t start = bk_monotonic_ms();
    int32_t n = s.recv(s.ctx, buf, sizeof buf);
    uint64_t took = elapsed_since(start);
    bk_tls_state state = c.state;
    int reusable = bk_tls_is_reusable(&c);
    int32_t after = s.send(s.ctx, (const uint8_t *)"x", 1);
    bk_tls_close(&c);
    CHECK_RESULT(n, BK_ERR_TIMEOUT);
    CHECK(took >= 290 && took < 300 + LATE_SLACK_MS);
    CHECK(state == BK_TLS_FAILED);
    CHECK(!reusable);
    CHECK_RESULT(after, BK_ERR_TLS_IO);
    return CASE_PASS;
}

/* s_server -www answers one GET and closes: recv reports BK_ERR_STREAM_CLOSED, the connection
 * is no longer reusable, and later calls keep saying so. */
static int test_tls_peer_close(void) {
    bk_tls_conn c;
    CHECK_RESULT(
        bk_tls_connect_as(&c, &fx.trusted, "127.0.0.1", fx.www4.port, "localhost", TLS_TIMEOUT_MS),
        BK_OK);
    CHECK(bk_tls_is_reusable(&c) == 1);
    bk_stream s = bk_tls_stream(&c);
    static const char request[] = "GET / HTTP/1.0\r\n\r\n";
    CHECK_RESULT(bk_stream_send_all(&s, (const uint8_t *)request, sizeof request - 1, NULL), BK_OK);
    static uint8_t answer[65536];
    size_t len = 0;
    int32_t n = 0;
    for (int calls = 0; calls < 10000 && len < sizeof answer; calls++) {
        n = s.recv(s.ctx, answer + len, sizeof answer - len);
        if (n < 0) {
            break;
        }
        len += (size_t)n;
    }
    printf("    (%zu bytes, then %s: mbedTLS %d)\n", len, bk_strerror((bk_result)n),
           bk_tls_last_error(&c));
    CHECK_RESULT(n, BK_ERR_STREAM_CLOSED);
    CHECK(len > 15 && memcmp(answer, "HTTP/1.0 200 ok", 15) == 0);
    CHECK(c.state == BK_TLS_PEER_CLOSED);
    CHECK(!bk_tls_is_reusable(&c));
    CHECK_RESULT(s.recv(s.ctx, answer, sizeof answer), BK_ERR_STREAM_CLOSED);
    CHECK_RESULT(s.send(s.ctx, answer, 1), BK_ERR_STREAM_CLOSED);
    bk_tls_close(&c);
    CHECK(c.tcp.socket.handle == -1);
    return CASE_PASS;
}

/* Bytes waiting on an idle connection (here an answer nobody read) make it unfit for reuse. */
static int test_tls_unread_answer_not_reusable(void) {
    bk_tls_conn c;
    CHECK_RESULT(
        bk_tls_connect_as(&c, &fx.trusted, "127.0.0.1", fx.www4.port, "localhost", TLS_TIMEOUT_MS),
        BK_OK);
    bk_stream s = bk_tls_stream(&c);
    static const char request[] = "GET / HTTP/1.0\r\n\r\n";
    CHECK_RESULT(bk_stream_send_all(&s, (const uint8_t *)request, sizeof request - 1, NULL), BK_OK);
    bk_sleep_ms(500);
    int reusable = bk_tls_is_reusable(&c);
    bk_tls_close(&c);
    CHECK(!reusable);
    return CASE_PASS;
}

/* Reads from s until it answers an error, which it returns; the bytes go to buf. */
static int32_t read_to_end(const bk_stream *s, uint8_t *buf, size_t cap, size_t *len) {
    int32_t n = 0;
    *len = 0;
    for (int calls = 0; calls < 1000 && *len < cap; calls++) {
        n = s->recv(s->ctx, buf + *len, cap - *len);
        if (n < 0) {
            return n;
        }
        *len += (size_t)n;
    }
    return 0; /* never ended */
}

/* The peer ends by script, after its greeting: recv gives the greeting, then `expected`, and
 * keeps giving it. */
static int peer_ends_after_data(peer_script script, bk_result expected) {
    tls_peer p;
    CHECK(tls_peer_start(&p, script, 1));
    bk_tls_conn c;
    bk_result r = tls_peer_connect(&c, &p);
    bk_stream s = bk_tls_stream(&c);
    uint8_t got[64];
    size_t len = 0;
    int32_t end = r == BK_OK ? read_to_end(&s, got, sizeof got, &len) : r;
    int reusable = bk_tls_is_reusable(&c);
    int32_t again = s.recv(s.ctx, got, sizeof got);
    int32_t sent = s.send(s.ctx, (const uint8_t *)"x", 1);
    int raw = bk_tls_last_error(&c);
    const char *version = r == BK_OK ? mbedtls_ssl_get_version(&c.ssl) : "no handshake";
    bk_tls_close(&c);
    tls_peer_end(&p);
    printf("    (%s: %zu bytes, then %s: mbedTLS %d)\n", version, len, bk_strerror((bk_result)end),
           raw);
    CHECK_RESULT(r, BK_OK);
    CHECK(len == sizeof peer_greeting - 1 && memcmp(got, peer_greeting, len) == 0);
    CHECK_RESULT(end, expected);
    CHECK(!reusable);
    CHECK_RESULT(again, expected);
    CHECK_RESULT(sent, expected);
    return CASE_PASS;
}

/* The peer ends an idle connection by script: bk_tls_is_reusable sees it, and send and recv then
 * answer `expected`, as they would had they seen it themselves. */
static int peer_ends_while_idle(peer_script script, bk_result expected) {
    tls_peer p;
    CHECK(tls_peer_start(&p, script, 0));
    bk_tls_conn c;
    bk_result r = tls_peer_connect(&c, &p);
    int fin = r == BK_OK && wait_for_fin(c.tcp.socket.handle);
    int reusable = bk_tls_is_reusable(&c);
    bk_stream s = bk_tls_stream(&c);
    uint8_t got[16];
    int32_t received = s.recv(s.ctx, got, sizeof got);
    int32_t sent = s.send(s.ctx, (const uint8_t *)"x", 1);
    bk_tls_close(&c);
    tls_peer_end(&p);
    CHECK_RESULT(r, BK_OK);
    CHECK(fin);
    CHECK(reusable == 0);
    CHECK_RESULT(received, expected);
    CHECK_RESULT(sent, expected);
    return CASE_PASS;
}

static int test_tls_close_notify(void) {
    CHECK(peer_ends_after_data(PEER_CLOSE_NOTIFY, BK_ERR_STREAM_CLOSED) == CASE_PASS);
    CHECK(peer_ends_while_idle(PEER_CLOSE_NOTIFY, BK_ERR_STREAM_CLOSED) == CASE_PASS);
    return CASE_PASS;
}

/* A FIN with no close_notify may have cut the data short: never an orderly close. */
static int test_tls_bare_fin(void) {
    CHECK(peer_ends_after_data(PEER_BARE_FIN, BK_ERR_STREAM_UNCLEAN_CLOSE) == CASE_PASS);
    CHECK(peer_ends_while_idle(PEER_BARE_FIN, BK_ERR_STREAM_UNCLEAN_CLOSE) == CASE_PASS);
    return CASE_PASS;
}

/* The deadline cuts the per-wait timeout: against a silent peer (s_server -www waits for a
 * request) recv ends at the deadline, not after 5 s, and later calls answer the same at once. */
static int test_tls_deadline_recv(void) {
    bk_tls_conn c;
    CHECK_RESULT(
        bk_tls_connect_as(&c, &fx.trusted, "127.0.0.1", fx.www4.port, "localhost", TLS_TIMEOUT_MS),
        BK_OK);
    bk_tls_set_timeout(&c, 5000);
    uint64_t start = bk_monotonic_ms();
    bk_tls_set_deadline(&c, start + 300);
    bk_stream s = bk_tls_stream(&c);
    uint8_t buf[64];
    int32_t n = s.recv(s.ctx, buf, sizeof buf);
    uint64_t took = elapsed_since(start);
    uint64_t after_start = bk_monotonic_ms();
    int32_t again = s.recv(s.ctx, buf, sizeof buf);
    int32_t sent = s.send(s.ctx, (const uint8_t *)"x", 1);
    uint64_t after = elapsed_since(after_start);
    int reusable = bk_tls_is_reusable(&c);
    bk_tls_close(&c);
    printf("    (BK_ERR_TIMEOUT after %llu ms; then %llu ms for two more calls)\n",
           (unsigned long long)took, (unsigned long long)after);
    CHECK_RESULT(n, BK_ERR_TIMEOUT);
    CHECK(took >= 290 && took < 300 + LATE_SLACK_MS);
    CHECK_RESULT(again, BK_ERR_TIMEOUT);
    CHECK_RESULT(sent, BK_ERR_TIMEOUT);
    CHECK(after < 100);
    CHECK(!reusable);
    return CASE_PASS;
}

/* A peer that keeps sending, a byte at a time, cannot hold recv past the deadline either. */
static int test_tls_deadline_trickle(void) {
    tls_peer p;
    CHECK(tls_peer_start(&p, PEER_TRICKLE, 0));
    bk_tls_conn c;
    bk_result r = tls_peer_connect(&c, &p);
    size_t bytes = 0;
    int calls = 0;
    int singles = 1;
    int32_t n = r;
    int32_t again = r;
    uint64_t took = 0;
    if (r == BK_OK) {
        bk_tls_set_timeout(&c, 5000);
        uint64_t start = bk_monotonic_ms();
        bk_tls_set_deadline(&c, start + 500);
        bk_stream s = bk_tls_stream(&c);
        uint8_t buf[64];
        for (; calls < 10000; calls++) {
            n = s.recv(s.ctx, buf, sizeof buf);
            if (n < 0) {
                break;
            }
            bytes += (size_t)n;
            singles = singles && n <= 1 && (n == 0 || buf[0] == 't');
        }
        took = elapsed_since(start);
        again = s.recv(s.ctx, buf, sizeof buf);
    }
    bk_tls_close(&c);
    tls_peer_end(&p);
    printf("    (%zu bytes in %d calls, then %s after %llu ms; the peer sent %zu)\n", bytes, calls,
           bk_strerror((bk_result)n), (unsigned long long)took, p.trickled);
    CHECK_RESULT(r, BK_OK);
    CHECK_RESULT(n, BK_ERR_TIMEOUT);
    CHECK(singles);
    CHECK(bytes >= 2);
    CHECK(took >= 490 && took < 500 + LATE_SLACK_MS);
    CHECK_RESULT(again, BK_ERR_TIMEOUT);
    return CASE_PASS;
}

/* Once the deadline has passed, send and recv answer at once without touching the socket, and
 * bk_tls_close sends no close_notify. The peer tells what reached it; for contrast, a close
 * before the deadline does send close_notify. */
static int test_tls_deadline_passed(void) {
    tls_peer p;
    bk_tls_conn c;
    bk_stream s = bk_tls_stream(&c);
    uint8_t buf[64];

    /* send first: nothing leaves */
    CHECK(tls_peer_start(&p, PEER_LISTEN, 0));
    bk_result r = tls_peer_connect(&c, &p);
    bk_tls_set_deadline(&c, bk_monotonic_ms() - 1);
    uint64_t start = bk_monotonic_ms();
    int32_t sent = s.send(s.ctx, (const uint8_t *)"x", 1);
    int32_t received = s.recv(s.ctx, buf, sizeof buf);
    bk_tls_close(&c);
    uint64_t took = elapsed_since(start);
    tls_peer_end(&p);
    printf("    (send, recv and close took %llu ms)\n", (unsigned long long)took);
    CHECK_RESULT(r, BK_OK);
    CHECK_RESULT(sent, BK_ERR_TIMEOUT);
    CHECK_RESULT(received, BK_ERR_TIMEOUT);
    CHECK(took < 100);
    CHECK(p.handshake_ret == 0 && p.bytes_read == 0);
    CHECK(p.end_ret == 0 || p.end_ret == MBEDTLS_ERR_SSL_CONN_EOF);

    /* recv first: what waits in the socket stays there */
    CHECK(tls_peer_start(&p, PEER_LISTEN, 1));
    r = tls_peer_connect(&c, &p);
    int readable = r == BK_OK && wait_readable(c.tcp.socket.handle);
    int before = unread_bytes(c.tcp.socket.handle);
    bk_tls_set_deadline(&c, bk_monotonic_ms() - 1);
    start = bk_monotonic_ms();
    received = s.recv(s.ctx, buf, sizeof buf);
    sent = s.send(s.ctx, (const uint8_t *)"x", 1);
    took = elapsed_since(start);
    int after = unread_bytes(c.tcp.socket.handle);
    bk_tls_close(&c);
    tls_peer_end(&p);
    CHECK_RESULT(r, BK_OK);
    CHECK(readable);
    CHECK_RESULT(received, BK_ERR_TIMEOUT);
    CHECK_RESULT(sent, BK_ERR_TIMEOUT);
    CHECK(took < 100);
    CHECK(before > 0 && after >= before);

    /* close alone: a bare FIN past the deadline, close_notify before it */
    for (int past = 1; past >= 0; past--) {
        CHECK(tls_peer_start(&p, PEER_LISTEN, 0));
        r = tls_peer_connect(&c, &p);
        if (past) {
            bk_tls_set_deadline(&c, bk_monotonic_ms() - 1);
        }
        start = bk_monotonic_ms();
        bk_tls_close(&c);
        took = elapsed_since(start);
        tls_peer_end(&p);
        CHECK_RESULT(r, BK_OK);
        CHECK(took < 100);
        if (past) {
            CHECK(p.end_ret == 0 || p.end_ret == MBEDTLS_ERR_SSL_CONN_EOF);
        } else {
            CHECK(p.end_ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
        }
    }
    return CASE_PASS;
}

/* --- TLS over other carriers --- */

/* The TCP carrier over a polled stack (the shim above): the handshake, the data both ways, the
 * probe and close_notify go through calls that mostly answer 0; a silent peer then makes recv
 * end at the per-wait timeout, and at the deadline when that comes first, and no wait asked of
 * the stack ever reached past the deadline. */
static int test_tls_polled_stack(void) {
    tls_peer p;
    bk_tls_conn c;
    bk_stream s = bk_tls_stream(&c);
    uint8_t got[64];
    size_t len = 0;

    CHECK(tls_peer_start(&p, PEER_LISTEN, 1));
    polled_start(0);
    bk_result r = tls_peer_connect(&c, &p);
    unsigned handshake_calls = polled.calls;
    unsigned handshake_zeros = polled.zeros;
    bk_tls_set_deadline(&c, bk_monotonic_ms() + TLS_TIMEOUT_MS);
    int32_t n = 0;
    for (int calls = 0; r == BK_OK && len < sizeof peer_greeting - 1 && calls < 100; calls++) {
        n = s.recv(s.ctx, got + len, sizeof got - len);
        if (n <= 0) {
            break; /* with a deadline, a polled "nothing yet" never reaches the caller */
        }
        len += (size_t)n;
    }
    int reusable = bk_tls_is_reusable(&c);
    bk_result sent = bk_stream_send_all(&s, (const uint8_t *)"hello\n", 6, NULL);
    bk_tls_close(&c);
    polled.on = 0;
    tls_peer_end(&p);
    printf("    (handshake: %u calls to the stack, %u of them answered 0)\n", handshake_calls,
           handshake_zeros);
    CHECK_RESULT(r, BK_OK);
    CHECK(handshake_zeros > 100);
    CHECK(n > 0);
    CHECK(len == sizeof peer_greeting - 1 && memcmp(got, peer_greeting, len) == 0);
    CHECK(reusable == 1);
    CHECK_RESULT(sent, BK_OK);
    CHECK(p.bytes_read == 6);
    CHECK(p.end_ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);

    /* A silent peer: the per-wait timeout, then the deadline cutting a longer one. */
    for (int by_deadline = 0; by_deadline <= 1; by_deadline++) {
        CHECK(tls_peer_start(&p, PEER_LISTEN, 0));
        polled_start(0);
        r = tls_peer_connect(&c, &p);
        uint64_t start = bk_monotonic_ms();
        if (by_deadline) {
            bk_tls_set_timeout(&c, 5000);
            bk_tls_set_deadline(&c, start + 300);
            polled_start(start + 300);
        } else {
            bk_tls_set_timeout(&c, 300);
            polled_start(0);
        }
        n = r == BK_OK ? s.recv(s.ctx, got, sizeof got) : r;
        uint64_t took = elapsed_since(start);
        polled.on = 0;
        bk_tls_close(&c);
        tls_peer_end(&p);
        printf("    (%s: %s after %llu ms, %u calls to the stack, %u answered 0)\n",
               by_deadline ? "deadline" : "timeout", bk_strerror((bk_result)n),
               (unsigned long long)took, polled.calls, polled.zeros);
        CHECK_RESULT(r, BK_OK);
        CHECK_RESULT(n, BK_ERR_TIMEOUT);
        CHECK(took >= 290 && took < 300 + LATE_SLACK_MS);
        CHECK(polled.zeros > 10);
        CHECK(!polled.overran);
    }
    return CASE_PASS;
}

/* A carrier of the test's own, given to bk_tls_start: a plain TCP socket that never waits and
 * moves one byte in three calls at most, answering 0 otherwise (a modem's UART polled by a
 * main loop behaves alike). It has no deadline function: TLS alone bounds the polling. */
typedef struct poll_carrier {
    int fd;
    unsigned calls;
    unsigned zeros;
} poll_carrier;

static int32_t poll_carrier_io(poll_carrier *pc, const uint8_t *data, uint8_t *buf) {
    if (pc->calls++ % 3 != 2) {
        pc->zeros++;
        return 0;
    }
    ssize_t n = data != NULL ? send(pc->fd, data, 1, MSG_DONTWAIT | MSG_NOSIGNAL)
                             : recv(pc->fd, buf, 1, MSG_DONTWAIT);
    if (n > 0) {
        return (int32_t)n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        pc->zeros++;
        sched_yield(); /* the peer is a thread of this process (and valgrind runs one at a time) */
        return 0;
    }
    if (n == 0 && data == NULL) {
        return BK_ERR_STREAM_CLOSED;
    }
    return data != NULL ? BK_ERR_STREAM_SEND : BK_ERR_STREAM_RECV;
}

static int32_t poll_carrier_send(void *ctx, const uint8_t *data, size_t len) {
    return len == 0 ? 0 : poll_carrier_io(ctx, data, NULL);
}

static int32_t poll_carrier_recv(void *ctx, uint8_t *data, size_t len) {
    return len == 0 ? 0 : poll_carrier_io(ctx, NULL, data);
}

/* A connected loopback socket to port, or -1. */
static int connect_loopback(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* TLS over the polling carrier: handshake, both ways, the probe, "no progress yet" without a
 * deadline, close_notify, and the carrier still the caller's after bk_tls_close. Then the
 * deadline against a silent peer and a silent listener: the polling stops there. */
static int test_tls_over_polling_carrier(void) {
    tls_peer p;
    bk_tls_conn c;
    bk_stream s = bk_tls_stream(&c);
    uint8_t got[64];
    size_t len = 0;

    CHECK(tls_peer_start(&p, PEER_LISTEN, 1));
    poll_carrier pc = {connect_loopback(p.port), 0, 0};
    bk_stream carrier = {poll_carrier_send, poll_carrier_recv, &pc};
    bk_result r = pc.fd >= 0 ? bk_tls_start(&c, &fx.trusted, &carrier, NULL, "localhost",
                                            bk_monotonic_ms() + TLS_TIMEOUT_MS)
                             : BK_ERR_CONNECT;
    unsigned handshake_zeros = pc.zeros;
    bk_tls_set_deadline(&c, bk_monotonic_ms() + TLS_TIMEOUT_MS);
    int32_t n = 0;
    for (int calls = 0; r == BK_OK && len < sizeof peer_greeting - 1 && calls < 100; calls++) {
        n = s.recv(s.ctx, got + len, sizeof got - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    int reusable = bk_tls_is_reusable(&c);
    bk_result sent = bk_stream_send_all(&s, (const uint8_t *)"hello\n", 6, NULL);
    bk_tls_set_deadline(&c, 0);
    uint64_t start = bk_monotonic_ms();
    int32_t idle = r == BK_OK ? s.recv(s.ctx, got, sizeof got) : r;
    uint64_t idle_took = elapsed_since(start);
    bk_tls_close(&c);
    int carrier_open = pc.fd >= 0 && fcntl(pc.fd, F_GETFD) >= 0;
    if (pc.fd >= 0) {
        close(pc.fd);
    }
    tls_peer_end(&p);
    printf("    (handshake: %u carrier calls answered 0)\n", handshake_zeros);
    CHECK_RESULT(r, BK_OK);
    CHECK(handshake_zeros > 100);
    CHECK(len == sizeof peer_greeting - 1 && memcmp(got, peer_greeting, len) == 0);
    CHECK(reusable == 1);
    CHECK_RESULT(sent, BK_OK);
    CHECK_RESULT(idle, BK_OK); /* no deadline: "no progress yet" goes up at once */
    CHECK(idle_took < 100);
    CHECK(carrier_open);
    CHECK(p.bytes_read == 6);
    CHECK(p.end_ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);

    /* A silent peer: recv polls until the deadline, then every call times out at once. */
    CHECK(tls_peer_start(&p, PEER_LISTEN, 0));
    pc = (poll_carrier){connect_loopback(p.port), 0, 0};
    r = pc.fd >= 0 ? bk_tls_start(&c, &fx.trusted, &carrier, NULL, "localhost",
                                  bk_monotonic_ms() + TLS_TIMEOUT_MS)
                   : BK_ERR_CONNECT;
    start = bk_monotonic_ms();
    bk_tls_set_deadline(&c, start + 300);
    unsigned before = pc.zeros;
    n = r == BK_OK ? s.recv(s.ctx, got, sizeof got) : r;
    uint64_t took = elapsed_since(start);
    unsigned polls = pc.zeros - before;
    start = bk_monotonic_ms();
    int32_t again = s.recv(s.ctx, got, sizeof got);
    uint64_t again_took = elapsed_since(start);
    bk_tls_close(&c);
    if (pc.fd >= 0) {
        close(pc.fd);
    }
    tls_peer_end(&p);
    printf("    (silent peer: %s after %llu ms and %u polls)\n", bk_strerror((bk_result)n),
           (unsigned long long)took, polls);
    CHECK_RESULT(r, BK_OK);
    CHECK_RESULT(n, BK_ERR_TIMEOUT);
    CHECK(took >= 290 && took < 300 + LATE_SLACK_MS);
    CHECK(polls > 10);
    CHECK_RESULT(again, BK_ERR_TIMEOUT);
    CHECK(again_took < 100);
    CHECK(p.end_ret == 0 || p.end_ret == MBEDTLS_ERR_SSL_CONN_EOF); /* no close_notify */

    /* A listener that never answers the handshake: it ends at its deadline. */
    uint16_t port = 0;
    int listener = loopback_socket(AF_INET, 4, &port);
    CHECK(listener >= 0);
    pc = (poll_carrier){connect_loopback(port), 0, 0};
    start = bk_monotonic_ms();
    r = pc.fd >= 0 ? bk_tls_start(&c, &fx.trusted, &carrier, NULL, "localhost", start + 300)
                   : BK_ERR_CONNECT;
    took = elapsed_since(start);
    int raw = bk_tls_last_error(&c);
    bk_tls_close(&c);
    if (pc.fd >= 0) {
        close(pc.fd);
    }
    close(listener);
    printf("    (silent listener: %s after %llu ms)\n", bk_strerror(r), (unsigned long long)took);
    CHECK_RESULT(r, BK_ERR_TIMEOUT);
    CHECK(took >= 290 && took < 300 + LATE_SLACK_MS);
    CHECK(raw == MBEDTLS_ERR_SSL_TIMEOUT);

    /* bk_tls_start's own refusals. */
    CHECK_RESULT(bk_tls_start(&c, &fx.trusted, &carrier, NULL, "localhost", 0), BK_ERR_ARGUMENT);
    CHECK_RESULT(bk_tls_start(&c, &fx.trusted, &carrier, NULL, "", 1), BK_ERR_ARGUMENT);
    CHECK_RESULT(bk_tls_start(&c, &fx.trusted, NULL, NULL, "localhost", 1), BK_ERR_ARGUMENT);
    bk_tls_close(&c);
    return CASE_PASS;
}

/* --- the connector (bk_tls_connector.c) --- */

static bk_tls_peers connector_peers;

/* A connect ends by the deadline it is given, however long the per-wait timeout; one already
 * past does not even start. Against a listener that accepts TCP and never answers the
 * handshake. */
static int test_tls_connector_open_deadline(void) {
    uint16_t port = 0;
    int fd = loopback_socket(AF_INET, 4, &port);
    CHECK(fd >= 0);
    bk_connector connector = bk_tls_connector(&connector_peers, &fx.trusted, 5000);
    bk_endpoint ep;
    memset(&ep, 0, sizeof ep);
    strcpy(ep.host, "127.0.0.1"); /* the handshake never gets as far as the name */
    ep.port = port;
    bk_stream s;

    uint64_t start = bk_monotonic_ms();
    bk_result past = connector.open(connector.ctx, BK_PEER_ARM, &ep, start - 1, &s);
    uint64_t took_past = elapsed_since(start);
    struct pollfd knock = {fd, POLLIN, 0};
    int connected = poll(&knock, 1, 0); /* a connection waiting in the listener's queue */

    start = bk_monotonic_ms();
    bk_result r = connector.open(connector.ctx, BK_PEER_ARM, &ep, start + 300, &s);
    uint64_t took = elapsed_since(start);
    int left_open = connector_peers.conns[BK_PEER_ARM].tcp.socket.handle != -1;
    connector.close(connector.ctx, BK_PEER_ARM);
    close(fd);
    printf("    (past deadline: %llu ms; 300 ms away: %s after %llu ms)\n",
           (unsigned long long)took_past, bk_strerror(r), (unsigned long long)took);
    CHECK_RESULT(past, BK_ERR_TIMEOUT);
    CHECK(took_past < 100);
    CHECK(connected == 0);
    CHECK_RESULT(r, BK_ERR_TIMEOUT);
    CHECK(took >= 290 && took < 300 + LATE_SLACK_MS);
    CHECK(!left_open);
    return CASE_PASS;
}

/* reuse hands a kept connection its new deadline, which the stream then keeps. */
static int test_tls_connector_reuse_deadline(void) {
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo("localhost", NULL, &hints, &list) != 0) {
        SKIP("\"localhost\" does not resolve here");
    }
    freeaddrinfo(list);
    bk_connector connector = bk_tls_connector(&connector_peers, &fx.trusted, TLS_TIMEOUT_MS);
    bk_endpoint ep;
    memset(&ep, 0, sizeof ep);
    strcpy(ep.host, "localhost");
    ep.port = fx.rev4.port;
    bk_stream s;
    bk_tls_conn *c = &connector_peers.conns[BK_PEER_ARM];
    uint64_t deadline = bk_monotonic_ms() + TLS_TIMEOUT_MS / 2; /* cuts the connect's budget */
    bk_result r = connector.open(connector.ctx, BK_PEER_ARM, &ep, deadline, &s);
    /* The stream keeps the open's deadline, and passes it down to its TCP carrier, which waits
     * up to the per-wait timeout the connect was cut from. */
    int opened_with = c->end_ms == deadline && c->tcp.deadline_ms == deadline &&
                      c->tcp.timeout_ms == TLS_TIMEOUT_MS;
    int round_trip = r == BK_OK ? rev_round_trip(c) : CASE_FAIL;
    uint64_t start = bk_monotonic_ms();
    bool reused = connector.reuse(connector.ctx, BK_PEER_ARM, start + 300);
    int reused_with = c->end_ms == start + 300 && c->tcp.deadline_ms == start + 300 && c->tcp.wait;
    uint8_t buf[64];
    int32_t n = r == BK_OK ? s.recv(s.ctx, buf, sizeof buf) : r; /* -rev says nothing unasked */
    uint64_t took = elapsed_since(start);
    bool reused_again = connector.reuse(connector.ctx, BK_PEER_ARM, bk_monotonic_ms() + 60000);
    connector.close(connector.ctx, BK_PEER_ARM);
    printf("    (recv: %s after %llu ms)\n", bk_strerror((bk_result)n), (unsigned long long)took);
    CHECK_RESULT(r, BK_OK);
    CHECK(s.ctx == c);
    CHECK(opened_with);
    CHECK(round_trip == CASE_PASS);
    CHECK(reused);
    CHECK(reused_with);
    CHECK_RESULT(n, BK_ERR_TIMEOUT);
    CHECK(took >= 290 && took < 300 + LATE_SLACK_MS);
    CHECK(!reused_again); /* the answer was cut short: the connection is spent */
    CHECK(c->tcp.socket.handle == -1);
    return CASE_PASS;
}

/* max_open = 1: opening one peer first closes the other's connection, whose reuse then answers
 * false; the default keeps one per peer. s_server serves one connection at a time, so the second
 * -rev handshake completes only because the first connection was closed. */
static int test_tls_connector_max_open(void) {
    struct addrinfo hints;
    struct addrinfo *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo("localhost", NULL, &hints, &list) != 0) {
        SKIP("\"localhost\" does not resolve here");
    }
    freeaddrinfo(list);
    bk_connector connector = bk_tls_connector(&connector_peers, &fx.trusted, TLS_TIMEOUT_MS);
    CHECK(connector_peers.max_open == BK_PEER_COUNT);
    bk_endpoint rev;
    bk_endpoint www;
    memset(&rev, 0, sizeof rev);
    strcpy(rev.host, "localhost");
    rev.port = fx.rev4.port;
    www = rev;
    www.port = fx.www4.port;
    bk_tls_conn *arm = &connector_peers.conns[BK_PEER_ARM];
    bk_tls_conn *authority = &connector_peers.conns[BK_PEER_AUTHORITY];
    bk_stream s_arm;
    bk_stream s_authority;
    uint64_t deadline = bk_monotonic_ms() + TLS_TIMEOUT_MS;

    /* The default: both stay open. */
    bk_result r1 = connector.open(connector.ctx, BK_PEER_ARM, &rev, deadline, &s_arm);
    bk_result r2 = connector.open(connector.ctx, BK_PEER_AUTHORITY, &www, deadline, &s_authority);
    bool both = connector.reuse(connector.ctx, BK_PEER_ARM, deadline) &&
                connector.reuse(connector.ctx, BK_PEER_AUTHORITY, deadline);
    connector.close(connector.ctx, BK_PEER_ARM);
    connector.close(connector.ctx, BK_PEER_AUTHORITY);
    CHECK_RESULT(r1, BK_OK);
    CHECK_RESULT(r2, BK_OK);
    CHECK(both);

    /* One at a time. */
    connector = bk_tls_connector(&connector_peers, &fx.trusted, TLS_TIMEOUT_MS);
    connector_peers.max_open = 1;
    r1 = connector.open(connector.ctx, BK_PEER_ARM, &rev, deadline, &s_arm);
    int arm_trip = r1 == BK_OK ? rev_round_trip(arm) : CASE_FAIL;
    r2 = connector.open(connector.ctx, BK_PEER_AUTHORITY, &rev, deadline, &s_authority);
    int arm_closed = arm->state == BK_TLS_CLOSED && arm->tcp.socket.handle == -1;
    bool arm_reused = connector.reuse(connector.ctx, BK_PEER_ARM, deadline);
    int authority_trip = r2 == BK_OK ? rev_round_trip(authority) : CASE_FAIL;
    bool authority_reused = connector.reuse(connector.ctx, BK_PEER_AUTHORITY, deadline);
    connector.close(connector.ctx, BK_PEER_ARM); /* what the client does after a false reuse */
    bk_result r3 = connector.open(connector.ctx, BK_PEER_ARM, &rev, deadline, &s_arm);
    int authority_closed = authority->state == BK_TLS_CLOSED;
    bool authority_reused_after = connector.reuse(connector.ctx, BK_PEER_AUTHORITY, deadline);
    int arm_trip_again = r3 == BK_OK ? rev_round_trip(arm) : CASE_FAIL;
    connector.close(connector.ctx, BK_PEER_ARM);
    connector.close(connector.ctx, BK_PEER_AUTHORITY);
    CHECK_RESULT(r1, BK_OK);
    CHECK(arm_trip == CASE_PASS);
    CHECK_RESULT(r2, BK_OK);
    CHECK(arm_closed);
    CHECK(!arm_reused);
    CHECK(authority_trip == CASE_PASS);
    CHECK(authority_reused);
    CHECK_RESULT(r3, BK_OK);
    CHECK(authority_closed);
    CHECK(!authority_reused_after);
    CHECK(arm_trip_again == CASE_PASS);
    CHECK(arm->tcp.socket.handle == -1 && authority->tcp.socket.handle == -1);
    return CASE_PASS;
}

static int test_tls_describe(void) {
    char text[512];
    bk_tls_describe(MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, MBEDTLS_X509_BADCERT_CN_MISMATCH, text,
                    sizeof text);
    printf("    (%s)\n", text);
    CHECK(strncmp(text, "mbedTLS -0x2700", 15) == 0);
    CHECK(strstr(text, "certificate:") != NULL);
    CHECK(strchr(text, '\n') == NULL);
    char tiny[8];
    memset(tiny, 'z', sizeof tiny);
    bk_tls_describe(MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, MBEDTLS_X509_BADCERT_CN_MISMATCH, tiny,
                    sizeof tiny);
    CHECK(tiny[sizeof tiny - 1] == '\0');
    bk_tls_describe(0, 0, text, sizeof text);
    CHECK(text[0] == '\0');
    bk_tls_describe(0, UINT32_MAX, text, sizeof text); /* "no result" is not a failure */
    CHECK(text[0] == '\0');
    return CASE_PASS;
}

static void run(const char *name, int (*test)(void)) {
    printf("%s\n", name);
    int outcome = test();
    if (outcome == CASE_PASS) {
        passed++;
        printf("  pass\n");
    } else if (outcome == CASE_SKIP) {
        skipped++;
        printf("  skip\n");
    } else {
        failed++;
        printf("  FAIL\n");
    }
}

static int fixture_setup(const char *dir) {
    fx.slow_gate[0] = fx.slow_gate[1] = -1;
    if (strlen(dir) >= sizeof fx.dir || !join_path(fx.ca, sizeof fx.ca, dir, "ca.crt") ||
        !join_path(fx.other_ca, sizeof fx.other_ca, dir, "untrusted-ca.crt") ||
        !join_path(fx.cert, sizeof fx.cert, dir, "server.crt") ||
        !join_path(fx.key, sizeof fx.key, dir, "server.key")) {
        printf("certificate directory path too long\n");
        return 0;
    }
    strcpy(fx.dir, dir);
    fx.rev4.pid = fx.rev6.pid = fx.www4.pid = -1;
    fx.threads = thread_count();
    if (fx.threads <= 0) {
        printf("cannot count threads in /proc/self/task\n");
        return 0;
    }
    /* Close-on-exec: a server started here must not hold the write end open. */
    if (pipe(fx.slow_gate) != 0 || fcntl(fx.slow_gate[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fx.slow_gate[1], F_SETFD, FD_CLOEXEC) != 0) {
        printf("pipe: %s\n", strerror(errno));
        return 0;
    }

    uint16_t port = 0;
    int fd = loopback_socket(AF_INET6, -1, &port);
    fx.have_ipv6 = fd >= 0;
    if (fd >= 0) {
        close(fd);
    } else {
        printf("NOTE: no IPv6 loopback (::1) on this host: IPv6 cases are skipped\n");
    }
    static const char *const rev[] = {"-rev", NULL};
    static const char *const www[] = {"-www", NULL};
    if (!server_start(&fx.rev4, "rev4", "127.0.0.1:0", rev) ||
        !server_start(&fx.www4, "www4", "127.0.0.1:0", www) ||
        (fx.have_ipv6 && !server_start(&fx.rev6, "rev6", "[::1]:0", rev))) {
        return 0;
    }
    bk_result r = bk_tls_config_init(&fx.trusted, fx.ca);
    if (r != BK_OK) {
        printf("cannot load %s: %s\n", fx.ca, bk_strerror(r));
        return 0;
    }
    return peer_config_init(); /* after the client's: on 3.x that one started PSA */
}

static void fixture_teardown(void) {
    if (fx.slow_gate[1] >= 0) {
        close(fx.slow_gate[1]); /* a failed case may have left lookups waiting */
    }
    bk_tls_config_free(&fx.trusted);
    peer_config_free();
    bk_tls_global_free();
    server_stop(&fx.rev4);
    server_stop(&fx.rev6);
    server_stop(&fx.www4);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s CERT_DIR (made by tests/emulator/make_test_pki.sh)\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* The default action, whatever the caller set: a send without MSG_NOSIGNAL would kill us. */
    signal(SIGPIPE, SIG_DFL);
    if (!fixture_setup(argv[1])) {
        fixture_teardown();
        printf("0 passed, 1 failed, 0 skipped (setup)\n");
        return 1;
    }

    run("posix: entropy from getrandom", test_posix_entropy);
    run("posix: monotonic clock, sleep, wall clock", test_posix_clocks);
    run("posix: log writes one sanitized line", test_posix_log_one_line);
    run("posix: malformed hosts and bad arguments", test_tcp_bad_hosts);
    run("posix: connection refused (IPv4)", test_tcp_refused_ipv4);
    run("posix: connection refused ([::1])", test_tcp_refused_ipv6);
    run("posix: connect timeout against a full backlog", test_tcp_connect_timeout);
    run("posix: exchange, timeouts, vanished peer (IPv4)", test_tcp_exchange_ipv4);
    run("posix: exchange, timeouts, vanished peer ([::1])", test_tcp_exchange_ipv6_bracketed);
    run("posix: orderly close", test_tcp_orderly_close);
    run("posix: a stuck name lookup ends at the deadline; others go on", test_tcp_resolve_deadline);
    run("posix: stuck lookups fill the pool, then give it back", test_tcp_resolve_pool);
    run("tcp stream: timeout, deadline, probe, no I/O past the deadline, FIN",
        test_tcp_stream_limits);
    run("tls: configuration errors", test_tls_config_errors);
    run("tls: system bundle loads and does not trust the test CA", test_tls_system_bundle);
    run("tls: trusted CA, 127.0.0.1 verified as localhost, round trip", test_tls_trusted_ipv4);
    run("tls: trusted CA, [::1] verified as localhost, round trip", test_tls_trusted_ipv6);
    run("tls: bk_tls_connect by name (localhost)", test_tls_connect_by_name);
    run("tls: CA certificates from memory", test_tls_ca_from_memory);
    run("tls: untrusted CA -> BK_ERR_TLS_VERIFY", test_tls_untrusted_ca);
    run("tls: wrong host name -> BK_ERR_TLS_VERIFY", test_tls_wrong_host_name);
    run("tls: IP literal host is verified too", test_tls_ip_literal_verified);
    run("tls: TLS 1.1-only server refused", test_tls_refuses_tls11);
    run("tls: refused port -> BK_ERR_CONNECT, bad literal -> BK_ERR_DNS", test_tls_refused);
    run("tls: silent listener -> BK_ERR_TIMEOUT within the deadline", test_tls_handshake_timeout);
    run("tls: recv timeout after the handshake", test_tls_recv_timeout);
    run("tls: peer close -> BK_ERR_STREAM_CLOSED, not reusable", test_tls_peer_close);
    run("tls: unread answer -> not reusable", test_tls_unread_answer_not_reusable);
    run("tls: close_notify -> BK_ERR_STREAM_CLOSED, after data and while idle",
        test_tls_close_notify);
    run("tls: bare FIN -> BK_ERR_STREAM_UNCLEAN_CLOSE, after data and while idle",
        test_tls_bare_fin);
    run("tls: deadline cuts a recv wait; later calls time out at once", test_tls_deadline_recv);
    run("tls: deadline ends a trickle", test_tls_deadline_trickle);
    run("tls: deadline passed: no I/O, close without close_notify", test_tls_deadline_passed);
    run("tls: over a polled stack (lwIP-like 0s): handshake, data, probe, timeout, deadline",
        test_tls_polled_stack);
    run("tls: bk_tls_start over a polling carrier of our own, bounded by the deadline",
        test_tls_over_polling_carrier);
    run("tls: connector open bounded by the deadline", test_tls_connector_open_deadline);
    run("tls: connector reuse sets the new deadline", test_tls_connector_reuse_deadline);
    run("tls: connector max_open = 1 closes the other peer first", test_tls_connector_max_open);
    run("tls: describe", test_tls_describe);

    fixture_teardown();
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed == 0 ? 0 : 1;
}
