/* str.c - see str.h. */
#include "base/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ds_snprintf(char *buf, size_t cap, ds_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < cap)
        return 0;
    buf[0] = '\0';
    if (n < 0)
        return ds_fail(err, DS_EINVAL, "cannot format \"%s\"", fmt);
    /* The start of the text says which one it was. */
    va_start(ap, fmt);
    char head[64];
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    return ds_fail(err, DS_EINVAL, "\"%s%s\" is %d bytes long, over the limit of %zu", head,
                   (size_t)n >= sizeof head ? "..." : "", n, cap - 1);
}

void ds_buf_put(ds_buf *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->nomem = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ds_buf_puts(ds_buf *b, const char *s) { ds_buf_put(b, s, strlen(s)); }
