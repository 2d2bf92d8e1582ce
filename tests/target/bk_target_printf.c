/* SPDX-License-Identifier: MIT */
/* C99's z and t printf length modifiers for the unit-test images. Debian builds newlib without
 * them (its newlib.h leaves _WANT_IO_C99_FORMATS unset), so "%zu" prints "zu" and the tests' own
 * data built with it (Content-Length: %zu, codes "T%zu") comes out wrong. size_t and ptrdiff_t
 * are int-sized on this target, so dropping the modifier is exact. The test images link with
 * -Wl,--wrap= for each function below: calls from the tests and cmocka come here, newlib's
 * own stay inside newlib. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Compiles only where dropping z and t is exact. */
typedef char bk_size_t_is_int_sized[sizeof(size_t) == sizeof(unsigned) ? 1 : -1];
typedef char bk_ptrdiff_t_is_int_sized[sizeof(ptrdiff_t) == sizeof(int) ? 1 : -1];

int __real_vprintf(const char *format, va_list ap);
int __real_vfprintf(FILE *stream, const char *format, va_list ap);
int __real_vsprintf(char *out, const char *format, va_list ap);
int __real_vsnprintf(char *out, size_t cap, const char *format, va_list ap);

/* format with every z and t length modifier removed, in buf; format itself when it has none or
 * buf is too small. */
static const char *c89_format(const char *format, char *buf, size_t cap) {
    if (strchr(format, '%') == NULL) {
        return format;
    }
    size_t n = 0;
    int changed = 0;
    for (const char *p = format; *p != '\0'; p++) {
        if (n + 1 >= cap) {
            return format;
        }
        buf[n++] = *p;
        if (*p != '%') {
            continue;
        }
        /* Flags, width and precision pass through; then the length modifier. */
        while (p[1] != '\0' && strchr("-+ #0123456789.*", p[1]) != NULL && n + 1 < cap) {
            buf[n++] = *++p;
        }
        if (p[1] == 'z' || p[1] == 't') {
            p++;
            changed = 1;
        } else if (p[1] == '%') {
            if (n + 1 >= cap) {
                return format;
            }
            buf[n++] = *++p;
        }
    }
    buf[n] = '\0';
    return changed ? buf : format;
}

#define FORMAT_MAX 512

int __wrap_vprintf(const char *format, va_list ap) {
    char buf[FORMAT_MAX];
    return __real_vprintf(c89_format(format, buf, sizeof buf), ap);
}

int __wrap_vfprintf(FILE *stream, const char *format, va_list ap) {
    char buf[FORMAT_MAX];
    return __real_vfprintf(stream, c89_format(format, buf, sizeof buf), ap);
}

int __wrap_vsprintf(char *out, const char *format, va_list ap) {
    char buf[FORMAT_MAX];
    return __real_vsprintf(out, c89_format(format, buf, sizeof buf), ap);
}

int __wrap_vsnprintf(char *out, size_t cap, const char *format, va_list ap) {
    char buf[FORMAT_MAX];
    return __real_vsnprintf(out, cap, c89_format(format, buf, sizeof buf), ap);
}

int __wrap_printf(const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = __wrap_vprintf(format, ap);
    va_end(ap);
    return n;
}

int __wrap_fprintf(FILE *stream, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = __wrap_vfprintf(stream, format, ap);
    va_end(ap);
    return n;
}

int __wrap_sprintf(char *out, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = __wrap_vsprintf(out, format, ap);
    va_end(ap);
    return n;
}

int __wrap_snprintf(char *out, size_t cap, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = __wrap_vsnprintf(out, cap, format, ap);
    va_end(ap);
    return n;
}
