/* error.h - one error enum for the whole program, and a caller-owned
 * message buffer.
 *
 * Every fallible function returns 0 on success and -1 on failure; on failure
 * it has filled the ds_err the caller passed in (never a global: a threaded
 * server has one per request). Library messages (libvips, SQLite, libcurl,
 * jansson) are copied into it at once, before another call can overwrite them.
 */
#ifndef DS_ERROR_H
#define DS_ERROR_H

#include <stddef.h>

typedef enum ds_code {
    DS_OK = 0,          /* 0: no error */
    DS_ENOMEM = 1,      /* 1: out of memory */
    DS_EIO = 2,         /* 2: reading or writing a file failed */
    DS_EFORMAT = 3,     /* 3: a file or input is malformed */
    DS_EINVAL = 4,      /* 4: a bad argument or option */
    DS_ENET = 5,        /* 5: a network transfer failed */
    DS_ETOOBIG = 6,     /* 6: an input exceeds a configured limit */
    DS_EUNSUPPORTED = 7,/* 7: valid but not supported by this build */
    DS_ECHECKSUM = 8,   /* 8: content does not match its checksum */
    DS_ENOTFOUND = 9,   /* 9: a named thing does not exist */
    DS_EMEDIA = 10,     /* 10: an image that cannot be decoded (not one, or broken) */
    DS_EBUSY = 11,      /* 11: the resource is in use (e.g. an import is running) */
    DS_ENOSPACE = 12,   /* 12: the storage is full (no space left, quota, file size limit) */
    DS_EEXIST = 13,     /* 13: the name is taken by something else (e.g. other content) */
} ds_code;

typedef struct ds_err {
    ds_code code;
    char msg[1024];
} ds_err;

/* Short, fixed description of a code ("out of memory"). Never NULL. */
const char *ds_strerror(ds_code code);

/* Record an error: code plus a printf-style message. Returns -1 so that
 * callers can write `return ds_fail(err, DS_EIO, "...")`. err may be NULL. */
int ds_fail(ds_err *err, ds_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in err with more context ("loading x: ").
 * Returns -1. */
int ds_wrap(ds_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset err to DS_OK with an empty message. */
void ds_err_clear(ds_err *err);

#endif
