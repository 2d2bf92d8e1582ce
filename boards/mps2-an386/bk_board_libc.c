/* SPDX-License-Identifier: MIT */
/* The C library's output functions for the mps2-an386 firmware, over semihosting: printf and
 * its family, fputs, fputc, putchar, puts, fwrite, fflush on stdout and stderr, exit and time().
 * They replace newlib-nano's at link time, for two reasons: newlib's stdio allocates each
 * stream's buffer with malloc (the firmware links no allocator: `nm` finds no malloc in it), and
 * nano's printf has neither %llu nor %zu, which the command line's output uses.
 *
 * exit() ends the emulation with its status.
 *
 * stdout and stderr are line-buffered in small static buffers: a line reaches the host whole, in
 * one semihosting call. Any other FILE fails (EOF). The formats: flags - 0 + space #, width and
 * precision (digits or *), lengths hh h l ll z j t, conversions d i u x X o c s p %. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bk_board.h"
#include "bk_platform.h"
#include "bk_semihost.h"

#ifndef BK_BOARD_STDIO_BUFFER
#define BK_BOARD_STDIO_BUFFER 128
#endif

typedef void (*sink_fn)(void *ctx, const char *text, size_t len);

/* --- the formatter --- */

typedef struct spec {
    bool left, zero, plus, space, alt;
    int width;
    int precision; /* -1: none */
} spec;

static void pad(sink_fn sink, void *ctx, char c, int count) {
    char run[16];
    memset(run, c, sizeof run);
    while (count > 0) {
        size_t n = count > (int)sizeof run ? sizeof run : (size_t)count;
        sink(ctx, run, n);
        count -= (int)n;
    }
}

/* prefix (sign, 0x), then the digits, fitted to width and precision; the count written. */
static int put_number(sink_fn sink, void *ctx, const spec *s, const char *prefix,
                      unsigned long long value, unsigned base, bool upper) {
    char digits[24];
    int n = 0;
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    /* C: a precision of 0 prints nothing for the value 0. */
    if (!(value == 0 && s->precision == 0)) {
        do {
            digits[n++] = set[value % base];
            value /= base;
        } while (value != 0);
    }
    int zeros = s->precision > n ? s->precision - n : 0;
    int prefix_len = (int)strlen(prefix);
    int body = prefix_len + zeros + n;
    int fill = s->width > body ? s->width - body : 0;
    if (s->zero && !s->left && s->precision < 0) {
        zeros += fill;
        fill = 0;
    }
    if (!s->left) {
        pad(sink, ctx, ' ', fill);
    }
    sink(ctx, prefix, (size_t)prefix_len);
    pad(sink, ctx, '0', zeros);
    while (n > 0) {
        sink(ctx, &digits[--n], 1);
    }
    if (s->left) {
        pad(sink, ctx, ' ', fill);
    }
    return body + fill;
}

static int put_text(sink_fn sink, void *ctx, const spec *s, const char *text, size_t len) {
    int fill = s->width > (int)len ? s->width - (int)len : 0;
    if (!s->left) {
        pad(sink, ctx, ' ', fill);
    }
    sink(ctx, text, len);
    if (s->left) {
        pad(sink, ctx, ' ', fill);
    }
    return (int)len + fill;
}

static int format(sink_fn sink, void *ctx, const char *fmt, va_list ap) {
    int count = 0;
    const char *p = fmt;
    while (*p != '\0') {
        if (*p != '%') {
            const char *run = p;
            while (*p != '\0' && *p != '%') {
                p++;
            }
            sink(ctx, run, (size_t)(p - run));
            count += (int)(p - run);
            continue;
        }
        const char *start = p++;
        spec s = {false, false, false, false, false, 0, -1};
        for (;; p++) {
            if (*p == '-') {
                s.left = true;
            } else if (*p == '0') {
                s.zero = true;
            } else if (*p == '+') {
                s.plus = true;
            } else if (*p == ' ') {
                s.space = true;
            } else if (*p == '#') {
                s.alt = true;
            } else {
                break;
            }
        }
        if (*p == '*') {
            s.width = va_arg(ap, int);
            if (s.width < 0) {
                s.left = true;
                s.width = -s.width;
            }
            p++;
        } else {
            while (*p >= '0' && *p <= '9') {
                s.width = s.width * 10 + (*p++ - '0');
            }
        }
        if (*p == '.') {
            p++;
            s.precision = 0;
            if (*p == '*') {
                s.precision = va_arg(ap, int);
                p++;
            } else {
                while (*p >= '0' && *p <= '9') {
                    s.precision = s.precision * 10 + (*p++ - '0');
                }
            }
        }
        int longs = 0; /* 1: l, 2: ll or j; z, t, h and hh read an int-sized value here */
        bool half = false, byte = false;
        for (;; p++) {
            if (*p == 'l') {
                longs++;
            } else if (*p == 'j') {
                longs = 2;
            } else if (*p == 'h') {
                byte = half;
                half = true;
            } else if (*p != 'z' && *p != 't') {
                break;
            }
        }
        char conv = *p;
        if (conv == '\0') {
            break;
        }
        p++;
        switch (conv) {
        case 'd':
        case 'i': {
            long long v = longs >= 2   ? va_arg(ap, long long)
                          : longs == 1 ? (long long)va_arg(ap, long)
                                       : (long long)va_arg(ap, int);
            if (byte) {
                v = (signed char)v;
            } else if (half) {
                v = (short)v;
            }
            unsigned long long magnitude =
                v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            const char *sign = v < 0 ? "-" : s.plus ? "+" : s.space ? " " : "";
            count += put_number(sink, ctx, &s, sign, magnitude, 10, false);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            unsigned long long v = longs >= 2   ? va_arg(ap, unsigned long long)
                                   : longs == 1 ? (unsigned long long)va_arg(ap, unsigned long)
                                                : (unsigned long long)va_arg(ap, unsigned);
            if (byte) {
                v = (unsigned char)v;
            } else if (half) {
                v = (unsigned short)v;
            }
            unsigned base = conv == 'u' ? 10u : conv == 'o' ? 8u : 16u;
            const char *prefix = s.alt && v != 0 && base == 16u ? (conv == 'X' ? "0X" : "0x")
                                 : s.alt && base == 8u          ? "0"
                                                                : "";
            count += put_number(sink, ctx, &s, prefix, v, base, conv == 'X');
            break;
        }
        case 'p':
            s.precision = -1;
            count += put_number(sink, ctx, &s, "0x", (uintptr_t)va_arg(ap, void *), 16, false);
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            count += put_text(sink, ctx, &s, &c, 1);
            break;
        }
        case 's': {
            const char *text = va_arg(ap, const char *);
            if (text == NULL) {
                text = "(null)";
            }
            size_t len = 0;
            while (text[len] != '\0' && (s.precision < 0 || len < (size_t)s.precision)) {
                len++;
            }
            count += put_text(sink, ctx, &s, text, len);
            break;
        }
        case '%':
            sink(ctx, "%", 1);
            count++;
            break;
        default: /* not a conversion this knows: written as it stands */
            sink(ctx, start, (size_t)(p - start));
            count += (int)(p - start);
            break;
        }
    }
    return count;
}

/* --- strings --- */

typedef struct string_sink {
    char *buf;
    size_t cap;
    size_t len;
} string_sink;

static void to_string(void *ctx, const char *text, size_t len) {
    string_sink *s = ctx;
    if (s->len < s->cap) {
        size_t room = s->cap - s->len;
        memcpy(&s->buf[s->len], text, len < room ? len : room);
    }
    s->len += len;
}

int vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap) {
    string_sink s = {buf, cap > 0 ? cap - 1 : 0, 0};
    int n = format(to_string, &s, fmt, ap);
    if (cap > 0) {
        buf[s.len < s.cap ? s.len : s.cap] = '\0';
    }
    return n;
}

int snprintf(char *buf, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

/* --- stdout and stderr --- */

typedef struct line_buffer {
    int32_t fd;
    size_t len;
    bool failed;
    char buf[BK_BOARD_STDIO_BUFFER];
} line_buffer;

static line_buffer out_buffer = {BK_SEMIHOST_STDOUT, 0, false, {0}};
static line_buffer err_buffer = {BK_SEMIHOST_STDERR, 0, false, {0}};

/* newlib-nano leaves stdout and stderr NULL until its own stdio starts, which never happens here:
 * they get distinct addresses, those of the buffers, used only to tell the two apart (nothing
 * reads a FILE through them: every function that would is replaced here). */
void bk_board_stdio_start(void) {
    stdout = (FILE *)(void *)&out_buffer;
    stderr = (FILE *)(void *)&err_buffer;
}

static line_buffer *buffer_of(const FILE *f) {
    if (f == NULL) {
        return NULL;
    }
    return f == stdout ? &out_buffer : f == stderr ? &err_buffer : NULL;
}

static void flush_buffer(line_buffer *b) {
    if (b->len > 0 && bk_semihost_write(b->fd, b->buf, b->len) != 0) {
        b->failed = true;
    }
    b->len = 0;
}

static void to_stream(void *ctx, const char *text, size_t len) {
    line_buffer *b = ctx;
    bool newline = false;
    for (size_t i = 0; i < len; i++) {
        if (b->len == sizeof b->buf) {
            flush_buffer(b);
        }
        b->buf[b->len++] = text[i];
        newline = newline || text[i] == '\n';
    }
    if (newline) {
        flush_buffer(b);
    }
}

int vfprintf(FILE *f, const char *fmt, va_list ap) {
    line_buffer *b = buffer_of(f);
    if (b == NULL) {
        return EOF;
    }
    b->failed = false;
    int n = format(to_stream, b, fmt, ap);
    return b->failed ? EOF : n;
}

int fprintf(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

int vprintf(const char *fmt, va_list ap) {
    return vfprintf(stdout, fmt, ap);
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}

size_t fwrite(const void *data, size_t size, size_t count, FILE *f) {
    line_buffer *b = buffer_of(f);
    if (b == NULL || size == 0) {
        return 0;
    }
    b->failed = false;
    to_stream(b, data, size * count);
    return b->failed ? 0 : count;
}

int fputs(const char *text, FILE *f) {
    return fwrite(text, 1, strlen(text), f) == strlen(text) ? 0 : EOF;
}

int fputc(int c, FILE *f) {
    char ch = (char)c;
    return fwrite(&ch, 1, 1, f) == 1 ? (unsigned char)ch : EOF;
}

int putchar(int c) {
    return fputc(c, stdout);
}

int puts(const char *text) {
    return fputs(text, stdout) == 0 && fputc('\n', stdout) != EOF ? 0 : EOF;
}

int fflush(FILE *f) {
    if (f == NULL) {
        flush_buffer(&out_buffer);
        flush_buffer(&err_buffer);
        return out_buffer.failed || err_buffer.failed ? EOF : 0;
    }
    line_buffer *b = buffer_of(f);
    if (b == NULL) {
        return EOF;
    }
    b->failed = false;
    flush_buffer(b);
    return b->failed ? EOF : 0;
}

/* --- exit and the clock --- */

/* The end of the emulation (mbedTLS's allocator calls exit on a corrupted heap). */
void exit(int status) {
    (void)fflush(NULL);
    bk_board_exit(status);
}

time_t time(time_t *now) {
    int64_t seconds = bk_wall_clock_s();
    time_t t = seconds < 0 ? (time_t)-1 : (time_t)seconds;
    if (now != NULL) {
        *now = t;
    }
    return t;
}
