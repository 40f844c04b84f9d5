/* split.c - a weekly file is many documents back to back, each starting
 * with its own `<?xml ...?>` at the start of a line (LF or CRLF). Cut there
 * and parse each piece; one bad piece costs only itself. */
#include <string.h>

#include "uspto/uspto_internal.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Offset of the first `<?xml` + white space at the start of a line (or
 * of the UTF-8 BOM just before it, which stays with its document), at or
 * after from; len when there is none. `<?xml-stylesheet` does not count. */
static size_t next_start(const char *buf, size_t len, size_t from)
{
    while (from + 6 <= len) {
        const char *hit = memmem(buf + from, len - from, "<?xml", 5);
        if (!hit)
            break;
        size_t at = (size_t)(hit - buf), start = at;
        if (at >= 3 && memcmp(buf + (at - 3), "\xEF\xBB\xBF", 3) == 0)
            start = at - 3;
        int line_start = start == 0 || buf[start - 1] == '\n' || buf[start - 1] == '\r';
        if (line_start && at + 5 < len && is_space(buf[at + 5]))
            return start;
        from = at + 5;
    }
    return len;
}

/* Whether buf[0..n) holds anything but white space (and a UTF-8 BOM). */
static int has_content(const char *buf, size_t n)
{
    size_t i = n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    for (; i < n; i++)
        if (!is_space(buf[i]))
            return 1;
    return 0;
}

/* The first non-blank byte of buf[0..n) is '<' (a document without an XML
 * declaration, which is still XML). */
static int starts_like_xml(const char *buf, size_t n)
{
    size_t i = n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < n && is_space(buf[i]))
        i++;
    return i < n && buf[i] == '<';
}

int us_doc_passed_over(const us_doc *d)
{
    return !d->grant && d->root &&
           (strcmp(d->root, "sequence-cwu") == 0 || strcmp(d->root, "ST26SequenceListing") == 0);
}

int us_parse_buffer(const char *buf, size_t len, us_doc_fn fn, void *ctx, ds_err *err)
{
    if (!buf)
        len = 0;
    size_t first = next_start(buf, len, 0);
    /* Text before the first declaration is a document of its own when it
     * holds anything: reported, never silently dropped. */
    int lead = first > 0 && has_content(buf, first);
    if (first == len && !(lead && starts_like_xml(buf, len)))
        return ds_fail(err, DS_EFORMAT, "no XML here: no <?xml declaration, and the data does "
                                        "not start with '<'");
    int total = lead;
    for (size_t at = first; at < len; at = next_start(buf, len, at + 5))
        total++;
    size_t at = lead ? 0 : first;
    for (int i = 0; i < total; i++) {
        size_t end = i == 0 && lead ? first : next_start(buf, len, at + 5);
        us_grant g;
        ds_err derr = {0};
        char root[64];
        int rc = us__parse_doc(buf + at, end - at, &g, root, sizeof root, &derr);
        us_doc d = {.index = i,
                    .offset = at,
                    .grant = rc == 0 ? &g : NULL,
                    .error = rc == 0 ? NULL : &derr,
                    .total = total,
                    .root = root[0] ? root : NULL};
        int stop = fn ? fn(ctx, &d) : 0;
        us_grant_clear(&g);
        if (stop)
            return ds_fail(err, DS_EINVAL, "stopped by the caller at document %d of %d", i + 1,
                           total);
        at = end;
    }
    return total;
}
