/* name.c - the one check every archive member name passes before it is
 * used, and the quoting of hostile names for messages. */
#include "arc/arc_internal.h"

#include <string.h>

void arc__quote(const char *s, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t j = 0;
    for (size_t i = 0; i < n && j + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= ARC_QUOTE_MAX) {
            memcpy(out + j, "...", 3);
            j += 3;
            break;
        }
        if (c >= 0x20 && c != 0x7f && c != '\\' && c != '"') {
            out[j++] = (char)c;
        } else {
            out[j++] = '\\', out[j++] = 'x';
            out[j++] = hex[c >> 4], out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
}

/* Both separators count: a name from a Windows zip ("a\..\..\b") is as
 * dangerous to whoever later hands it to a tool that accepts either. */
static int is_sep(char c)
{
    return c == '/' || c == '\\';
}

/* The component s[0..n) at byte offset at. */
static int component_check(const char *s, size_t n, size_t at, ds_err *err)
{
    if (n == 2 && s[0] == '.' && s[1] == '.')
        return ds_fail(err, DS_EINVAL, "member name has a \"..\" component at byte %zu (path "
                       "traversal)", at);
    return 0;
}

int arc_name_check_n(const char *name, size_t len, ds_err *err)
{
    if (!name || len == 0)
        return ds_fail(err, DS_EINVAL, "member name is empty");
    if (len > ARC_NAME_MAX)
        return ds_fail(err, DS_EINVAL, "member name is %zu bytes long, over the limit of %d",
                       len, ARC_NAME_MAX);
    if (is_sep(name[0]))
        return ds_fail(err, DS_EINVAL, "member name is an absolute path");
    /* "C:..." is absolute (or drive-relative) on Windows. */
    if (len >= 2 && name[1] == ':' &&
        ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        return ds_fail(err, DS_EINVAL, "member name starts with a drive letter");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '\0')
            return ds_fail(err, DS_EINVAL, "member name contains a NUL byte at byte %zu", i);
        if (c < 0x20 || c == 0x7f)
            return ds_fail(err, DS_EINVAL, "member name contains the control character 0x%02x "
                           "at byte %zu", c, i);
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && !is_sep(name[i]))
            continue;
        if (component_check(name + start, i - start, start, err) != 0)
            return -1;
        start = i + 1;
    }
    return 0;
}

int arc_name_check(const char *name, ds_err *err)
{
    return arc_name_check_n(name, name ? strlen(name) : 0, err);
}
