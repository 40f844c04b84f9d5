/* str.h - formatting into fixed buffers without silent truncation. */
#ifndef DS_STR_H
#define DS_STR_H

#include <stddef.h>

#include "base/error.h"

/* snprintf into buf[cap] that fails instead of cutting: a cut path, key or
 * name is another, valid-looking one (two long names cut to the same key
 * overwrite each other). Returns 0, or -1 with DS_EINVAL in err (may be
 * NULL) saying how long the text was and buf set to "" so that no cut text
 * is used by mistake. cap must be > 0. */
int ds_snprintf(char *buf, size_t cap, ds_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A growing string for the builders of queries and expressions: an append
 * that cannot get memory sets nomem and the appends after it do nothing, so
 * a builder checks once, at the end. data is NUL-terminated once anything
 * was appended (NULL before); the owner frees it. */
typedef struct ds_buf {
    char *data;
    size_t len, cap;
    int nomem;
} ds_buf;
void ds_buf_put(ds_buf *b, const char *s, size_t n);
void ds_buf_puts(ds_buf *b, const char *s);

#endif
