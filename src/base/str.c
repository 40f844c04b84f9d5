/* str.c - see str.h. */
#include "base/str.h"

#include <stdarg.h>
#include <stdio.h>

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
