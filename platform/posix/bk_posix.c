/* SPDX-License-Identifier: MIT */
/* The POSIX (Linux) platform: BSD sockets whose every wait is a poll() against a deadline,
 * clock_gettime clocks, getrandom entropy and a one-line stderr log.
 *
 * Sockets stay in blocking mode once connected, but every send and recv passes MSG_DONTWAIT and
 * waits in poll() first, so no call outlives its timeout whatever the kernel buffers hold.
 *
 * getaddrinfo has no deadline of its own (glibc's can block for minutes on a dead DNS server), so
 * a host name is resolved in a helper thread that the caller waits for on a CLOCK_MONOTONIC
 * condition variable until its deadline. A lookup still running then is abandoned: its thread
 * finishes on its own, frees its answer and returns its slot to a small static pool. Address
 * literals are parsed at once (AI_NUMERICHOST never blocks). Link with -pthread. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "bk_config.h"
#include "bk_platform.h"

/* Wall-clock readings before this instant (2020-01-01T00:00:00Z) mean the clock was never set:
 * gateways without a battery-backed RTC boot in 1970 and stay there until NTP runs. Token expiry
 * and certificate validity are meaningless against such a clock. */
#ifndef BK_POSIX_CLOCK_VALID_AFTER_S
#define BK_POSIX_CLOCK_VALID_AFTER_S 1577836800
#endif

/* One log line at most; longer messages are cut and end in "...". */
#ifndef BK_POSIX_LOG_LINE_MAX
#define BK_POSIX_LOG_LINE_MAX 1024
#endif

/* Name lookups that may run at once, abandoned ones included. Each holds a thread blocked in
 * the resolver until it gives up on its own. */
#ifndef BK_POSIX_LOOKUPS_MAX
#define BK_POSIX_LOOKUPS_MAX 4
#endif

static uint64_t bk_posix_deadline(uint32_t timeout_ms) {
    return bk_monotonic_ms() + timeout_ms;
}

static uint64_t bk_posix_ms_left(uint64_t deadline_ms) {
    uint64_t now = bk_monotonic_ms();
    return now >= deadline_ms ? 0 : deadline_ms - now;
}

/* Waits until fd reports one of events or the deadline passes (a passed deadline still checks
 * once): 1 ready, 0 timed out, -1 poll failed. */
static int bk_posix_wait(int fd, short events, uint64_t deadline_ms) {
    for (;;) {
        uint64_t left = bk_posix_ms_left(deadline_ms);
        struct pollfd pfd;
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        int n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n > 0) {
            return 1;
        }
        if (n == 0) {
            /* poll's int timeout may have been clamped; only a passed deadline is final. */
            if (bk_posix_ms_left(deadline_ms) == 0) {
                return 0;
            }
            continue;
        }
        if (errno != EINTR) {
            return -1;
        }
    }
}

/* Copies host into out for getaddrinfo, stripping the brackets of an IPv6 literal ("[::1]").
 * *numeric is set for a bracketed literal, which must not go to DNS. */
static bk_result bk_posix_host_name(const char *host, char *out, size_t cap, int *numeric) {
    size_t len = strlen(host);
    *numeric = 0;
    if (host[0] == '[') {
        if (len < 3 || host[len - 1] != ']') {
            return BK_ERR_ARGUMENT;
        }
        host++;
        len -= 2;
        *numeric = 1;
    }
    if (len == 0 || len >= cap) {
        return BK_ERR_ARGUMENT;
    }
    memcpy(out, host, len);
    out[len] = '\0';
    return BK_OK;
}

static void bk_posix_hints(struct addrinfo *hints, int flags) {
    memset(hints, 0, sizeof *hints);
    hints->ai_family = AF_UNSPEC;
    hints->ai_socktype = SOCK_STREAM;
    hints->ai_protocol = IPPROTO_TCP;
    hints->ai_flags = AI_NUMERICSERV | flags;
}

enum { BK_LOOKUP_FREE, BK_LOOKUP_RUNNING, BK_LOOKUP_DONE, BK_LOOKUP_ABANDONED };

/* One lookup slot. state, list and error change only under lookup_lock; name and service stay
 * fixed from the start of a lookup until its slot is free again. */
typedef struct bk_posix_lookup {
    pthread_t thread;
    struct addrinfo *list;
    int state;
    int error;
    char service[8];
    char name[BK_HOST_MAX + 1];
} bk_posix_lookup;

static bk_posix_lookup lookups[BK_POSIX_LOOKUPS_MAX];
static pthread_mutex_t lookup_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lookup_done; /* broadcast whenever a lookup finishes */
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;
static int lookup_ready;

/* The deadline is on CLOCK_MONOTONIC, so the wait must be too: the default wall clock can be
 * stepped by NTP, which would stretch or cut the wait. */
static void bk_posix_lookup_init(void) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) {
        return;
    }
    lookup_ready = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
                   pthread_cond_init(&lookup_done, &attr) == 0;
    (void)pthread_condattr_destroy(&attr);
}

static void *bk_posix_lookup_run(void *arg) {
    bk_posix_lookup *l = arg;
    struct addrinfo hints;
    bk_posix_hints(&hints, 0);
    struct addrinfo *list = NULL;
    int error = getaddrinfo(l->name, l->service, &hints, &list);
    pthread_mutex_lock(&lookup_lock);
    int abandoned = l->state == BK_LOOKUP_ABANDONED;
    if (abandoned) {
        l->state = BK_LOOKUP_FREE;
    } else {
        l->list = list;
        l->error = error;
        l->state = BK_LOOKUP_DONE;
        pthread_cond_broadcast(&lookup_done);
    }
    pthread_mutex_unlock(&lookup_lock);
    if (abandoned && error == 0) {
        freeaddrinfo(list);
    }
    return NULL;
}

/* Resolves name in a helper thread, waiting for it until deadline_ms at most. */
static bk_result bk_posix_lookup_name(const char *name, const char *service, uint64_t deadline_ms,
                                      struct addrinfo **list) {
    if (pthread_once(&lookup_once, bk_posix_lookup_init) != 0 || !lookup_ready) {
        return BK_ERR_DNS;
    }
    pthread_mutex_lock(&lookup_lock);
    bk_posix_lookup *l = NULL;
    for (size_t i = 0; i < BK_POSIX_LOOKUPS_MAX && l == NULL; i++) {
        l = lookups[i].state == BK_LOOKUP_FREE ? &lookups[i] : NULL;
    }
    if (l == NULL) {
        /* Every slot holds a lookup, as a rule ones that outlived their callers: the resolver
         * is not answering, and one more lookup would not finish in time either. */
        pthread_mutex_unlock(&lookup_lock);
        return BK_ERR_TIMEOUT;
    }
    memcpy(l->name, name, strlen(name) + 1);
    memcpy(l->service, service, sizeof l->service);
    /* The helper starts with every signal blocked, so it never takes one meant for the
     * program's own threads; blocking them in the helper itself would leave a window. */
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int started = pthread_create(&l->thread, NULL, bk_posix_lookup_run, l) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!started) {
        pthread_mutex_unlock(&lookup_lock);
        return BK_ERR_DNS;
    }
    l->state = BK_LOOKUP_RUNNING;
    struct timespec until;
    until.tv_sec = (time_t)(deadline_ms / 1000u);
    until.tv_nsec = (long)(deadline_ms % 1000u) * 1000000L;
    int waited = 0;
    /* The lookup's thread changes state while the wait releases lookup_lock. */
    /* cppcheck-suppress knownConditionTrueFalse */
    while (l->state == BK_LOOKUP_RUNNING && waited == 0) {
        waited = pthread_cond_timedwait(&lookup_done, &lookup_lock, &until);
    }
    /* cppcheck-suppress knownConditionTrueFalse ; the same */
    if (l->state == BK_LOOKUP_RUNNING) {
        l->state = BK_LOOKUP_ABANDONED;
        pthread_detach(l->thread);
        pthread_mutex_unlock(&lookup_lock);
        return BK_ERR_TIMEOUT;
    }
    pthread_t thread = l->thread;
    int error = l->error;
    *list = error == 0 ? l->list : NULL;
    l->state = BK_LOOKUP_FREE;
    pthread_mutex_unlock(&lookup_lock);
    /* The helper has only to return: the join is immediate and leaves no thread behind. */
    pthread_join(thread, NULL);
    return error == 0 && *list != NULL ? BK_OK : BK_ERR_DNS;
}

/* Resolves name into *list by deadline_ms: an address literal at once, anything else in a helper
 * thread. numeric (a bracketed host) allows only a literal. */
static bk_result bk_posix_resolve(const char *name, const char *service, int numeric,
                                  uint64_t deadline_ms, struct addrinfo **list) {
    struct addrinfo hints;
    bk_posix_hints(&hints, AI_NUMERICHOST);
    *list = NULL;
    int error = getaddrinfo(name, service, &hints, list);
    if (error == EAI_NONAME && !numeric) {
        return bk_posix_lookup_name(name, service, deadline_ms, list);
    }
    return error == 0 && *list != NULL ? BK_OK : BK_ERR_DNS;
}

/* One connection attempt to one address within slice_deadline_ms: the connected descriptor, or
 * -1 with *timed_out set when the attempt ran out of time. */
static int bk_posix_try_connect(const struct addrinfo *ai, uint64_t slice_deadline_ms,
                                int *timed_out) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        /* EINTR leaves a non-blocking connect running, exactly like EINPROGRESS. */
        if (errno != EINPROGRESS && errno != EINTR) {
            close(fd);
            return -1;
        }
        int ready = bk_posix_wait(fd, POLLOUT, slice_deadline_ms);
        int error = 0;
        socklen_t error_len = sizeof error;
        if (ready == 0) {
            *timed_out = 1;
        }
        if (ready <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) != 0 ||
            error != 0) {
            close(fd);
            return -1;
        }
    }
    /* Back to blocking mode: send and recv wait in poll() and pass MSG_DONTWAIT themselves. */
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        close(fd);
        return -1;
    }
    /* Requests go out in one write and are answered at once: no Nagle delay. A socket that
     * refuses the option still works, so a failure here is not fatal. */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bk_result bk_tcp_connect(bk_socket *sock, const char *host, uint16_t port, uint32_t timeout_ms) {
    if (sock == NULL) {
        return BK_ERR_ARGUMENT;
    }
    sock->handle = -1;
    if (host == NULL || port == 0) {
        return BK_ERR_ARGUMENT;
    }
    char name[BK_HOST_MAX + 1];
    int numeric = 0;
    bk_result r = bk_posix_host_name(host, name, sizeof name, &numeric);
    if (r != BK_OK) {
        return r;
    }
    char service[8];
    (void)snprintf(service, sizeof service, "%u", (unsigned)port);

    uint64_t deadline = bk_posix_deadline(timeout_ms);
    struct addrinfo *list = NULL;
    r = bk_posix_resolve(name, service, numeric, deadline, &list);
    if (r != BK_OK) {
        return r;
    }

    size_t remaining = 0;
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        remaining++;
    }
    /* Each address gets an equal share of the time left, so one black-holed address (a broken
     * IPv6 route, say) cannot eat the whole deadline; the last one gets all that remains. */
    int timed_out = 0;
    int fd = -1;
    for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next, remaining--) {
        uint64_t left = bk_posix_ms_left(deadline);
        if (left == 0) {
            timed_out = 1;
            break;
        }
        fd = bk_posix_try_connect(ai, bk_monotonic_ms() + left / remaining, &timed_out);
    }
    freeaddrinfo(list);
    if (fd < 0) {
        return timed_out ? BK_ERR_TIMEOUT : BK_ERR_CONNECT;
    }
    sock->handle = fd;
    return BK_OK;
}

int32_t bk_tcp_send(bk_socket *sock, const uint8_t *data, size_t len, uint32_t timeout_ms) {
    if (sock == NULL || sock->handle < 0 || (data == NULL && len > 0)) {
        return BK_ERR_ARGUMENT;
    }
    if (len == 0) {
        return 0;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    uint64_t deadline = bk_posix_deadline(timeout_ms);
    for (;;) {
        /* MSG_NOSIGNAL: a peer that has gone away is an error to report, not a SIGPIPE. */
        ssize_t n = send(sock->handle, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            return (int32_t)n;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int ready = bk_posix_wait(sock->handle, POLLOUT, deadline);
            if (ready == 0) {
                return BK_ERR_TIMEOUT;
            }
            if (ready < 0) {
                return BK_ERR_STREAM_SEND;
            }
            continue;
        }
        return BK_ERR_STREAM_SEND;
    }
}

int32_t bk_tcp_recv(bk_socket *sock, uint8_t *data, size_t len, uint32_t timeout_ms) {
    if (sock == NULL || sock->handle < 0 || (data == NULL && len > 0)) {
        return BK_ERR_ARGUMENT;
    }
    if (len == 0) {
        return 0;
    }
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    uint64_t deadline = bk_posix_deadline(timeout_ms);
    for (;;) {
        ssize_t n = recv(sock->handle, data, len, MSG_DONTWAIT);
        if (n > 0) {
            return (int32_t)n;
        }
        if (n == 0) {
            return BK_ERR_STREAM_CLOSED;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int ready = bk_posix_wait(sock->handle, POLLIN, deadline);
            if (ready == 0) {
                return BK_ERR_TIMEOUT;
            }
            if (ready < 0) {
                return BK_ERR_STREAM_RECV;
            }
            continue;
        }
        return BK_ERR_STREAM_RECV;
    }
}

void bk_tcp_close(bk_socket *sock) {
    if (sock == NULL || sock->handle < 0) {
        return;
    }
    /* No retry on EINTR: Linux releases the descriptor even then, and a retry could close a
     * descriptor another thread has just been given. */
    (void)close(sock->handle);
    sock->handle = -1;
}

uint64_t bk_monotonic_ms(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t bk_wall_clock_s(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < BK_POSIX_CLOCK_VALID_AFTER_S) {
        return -1;
    }
    return (int64_t)ts.tv_sec;
}

bk_result bk_entropy(uint8_t *buf, size_t len) {
    if (buf == NULL && len > 0) {
        return BK_ERR_ARGUMENT;
    }
    while (len > 0) {
        /* Flags 0: the urandom pool, blocking only until it is first seeded at boot. Large
         * requests may come back short; keep asking. */
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return BK_ERR_ENTROPY;
        }
        if (n == 0) {
            return BK_ERR_ENTROPY;
        }
        buf += n;
        len -= (size_t)n;
    }
    return BK_OK;
}

void bk_sleep_ms(uint32_t ms) {
    struct timespec request;
    struct timespec remaining;
    request.tv_sec = (time_t)(ms / 1000u);
    request.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&request, &remaining) != 0 && errno == EINTR) {
        request = remaining;
    }
}

static const char *bk_posix_level_name(bk_log_level level) {
    switch (level) {
    case BK_LOG_ERROR:
        return "error";
    case BK_LOG_WARN:
        return "warn";
    case BK_LOG_INFO:
        return "info";
    case BK_LOG_DEBUG:
        return "debug";
    }
    return "log";
}

static bk_log_level log_max_level = BK_LOG_WARN;

void bk_log_set_level(bk_log_level max_level) {
    log_max_level = max_level;
}

void bk_log(bk_log_level level, const char *message) {
    if (level > log_max_level) {
        return;
    }
    char line[BK_POSIX_LOG_LINE_MAX];
    int head = snprintf(line, sizeof line, "batchkey: %s: ", bk_posix_level_name(level));
    if (head < 0) {
        return;
    }
    size_t pos = (size_t)head;
    const char *p = message != NULL ? message : "(null)";
    /* Control bytes become '?': a message can never forge a second line or a terminal escape. */
    for (; *p != '\0' && pos < sizeof line - 1; p++) {
        unsigned char c = (unsigned char)*p;
        line[pos++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (*p != '\0') {
        memcpy(&line[pos - 3], "...", 3);
    }
    line[pos++] = '\n';
    /* One fwrite on unbuffered stderr is one write(): lines from threads do not interleave. */
    (void)fwrite(line, 1, pos, stderr);
}
