/* error.c - error codes and messages (see error.h). */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ds_strerror(ds_code code)
{
    switch (code) {
    case DS_OK: return "no error";
    case DS_ENOMEM: return "out of memory";
    case DS_EIO: return "input/output error";
    case DS_EFORMAT: return "malformed input";
    case DS_EINVAL: return "invalid argument";
    case DS_ENET: return "network error";
    case DS_ETOOBIG: return "input too large";
    case DS_EUNSUPPORTED: return "not supported";
    case DS_ECHECKSUM: return "checksum mismatch";
    case DS_ENOTFOUND: return "not found";
    case DS_EMEDIA: return "unreadable image";
    case DS_EBUSY: return "busy";
    case DS_ENOSPACE: return "no space left";
    case DS_EEXIST: return "already exists";
    }
    return "unknown error";
}

int ds_fail(ds_err *err, ds_code code, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int ds_wrap(ds_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return -1;
    size_t plen = strlen(prefix), cap = sizeof err->msg - 1;
    size_t mlen = strnlen(err->msg, cap);
    if (plen > cap)
        plen = cap;
    if (mlen > cap - plen)
        mlen = cap - plen; /* the message's tail is cut, never the buffer */
    memmove(err->msg + plen, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + mlen] = '\0';
    return -1;
}

void ds_err_clear(ds_err *err)
{
    if (!err)
        return;
    err->code = DS_OK;
    err->msg[0] = '\0';
}
