/* form.c - query strings and multipart/form-data (see form.h). */
#include "http/form.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PART_HEADER_MAX 8192

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..len) into a new string ('+' is a space). */
static char *decode(const char *s, size_t len, ds_err *err)
{
    char *out = malloc(len + 1), *o = out;
    if (!out)
        return ds_fail(err, DS_ENOMEM, "out of memory"), NULL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] != '%') {
            *o++ = s[i];
        } else if (i + 2 < len + 0 && hexval((unsigned char)s[i + 1]) >= 0 &&
                   hexval((unsigned char)s[i + 2]) >= 0) {
            char c = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            if (c == '\0') {
                free(out);
                return ds_fail(err, DS_EFORMAT, "query string: %%00 is not allowed"), NULL;
            }
            *o++ = c;
            i += 2;
        } else {
            free(out);
            return ds_fail(err, DS_EFORMAT, "query string: malformed %%-escape"), NULL;
        }
    }
    *o = '\0';
    return out;
}

void http_params_free(http_params *p)
{
    for (size_t i = 0; p && i < p->count; i++) {
        free(p->items[i].name);
        free(p->items[i].value);
    }
    if (p) {
        free(p->items);
        p->items = NULL;
        p->count = 0;
    }
}

int http_parse_query(const char *s, size_t len, size_t max_params, http_params *out, ds_err *err)
{
    *out = (http_params){0};
    size_t start = 0;
    while (start <= len && len > 0) {
        const char *amp = memchr(s + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - s) : len;
        if (end > start) {
            if (out->count == max_params) {
                http_params_free(out);
                return ds_fail(err, DS_ETOOBIG, "query string: more than %zu parameters",
                               max_params);
            }
            const char *eq = memchr(s + start, '=', end - start);
            size_t name_end = eq ? (size_t)(eq - s) : end;
            http_param p = {decode(s + start, name_end - start, err), NULL};
            if (p.name)
                p.value = eq ? decode(eq + 1, end - name_end - 1, err) : decode("", 0, err);
            http_param *grown = p.value ? realloc(out->items, sizeof *grown * (out->count + 1))
                                        : NULL;
            if (!grown) {
                if (p.value)
                    ds_fail(err, DS_ENOMEM, "out of memory");
                free(p.name);
                free(p.value);
                http_params_free(out);
                return -1;
            }
            out->items = grown;
            out->items[out->count++] = p;
        }
        if (!amp)
            break;
        start = end + 1;
    }
    return 0;
}

const char *http_params_get(const http_params *p, const char *name)
{
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].name, name) == 0)
            return p->items[i].value;
    return NULL;
}

int http_multipart_boundary(const char *ct, char *out, size_t n, ds_err *err)
{
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
        return ds_fail(err, DS_EINVAL, "expected Content-Type multipart/form-data");
    const char *b = strcasestr(ct, "boundary=");
    if (!b)
        return ds_fail(err, DS_EFORMAT, "multipart/form-data without a boundary");
    b += 9;
    size_t len;
    if (*b == '"') {
        const char *close = strchr(++b, '"');
        if (!close)
            return ds_fail(err, DS_EFORMAT, "multipart boundary: unterminated quote");
        len = (size_t)(close - b);
    } else {
        len = strcspn(b, "; \t");
    }
    if (len == 0 || len > 70 || len >= n)
        return ds_fail(err, DS_EFORMAT, "multipart boundary must be 1 to 70 characters");
    memcpy(out, b, len);
    out[len] = '\0';
    return 0;
}

/* The value of parameter `key` in a header like
 * `form-data; name="file"; filename="a.png"`, as a new string, or NULL. */
static char *header_param(const char *h, size_t hlen, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 1 <= hlen; i++) {
        /* The key must start a parameter: after ';' and optional spaces. */
        if (i > 0 && h[i - 1] != ';' && h[i - 1] != ' ' && h[i - 1] != '\t')
            continue;
        if (strncasecmp(h + i, key, klen) != 0 || h[i + klen] != '=')
            continue;
        const char *v = h + i + klen + 1, *end = h + hlen;
        size_t vlen;
        if (v < end && *v == '"') {
            v++;
            const char *close = memchr(v, '"', (size_t)(end - v));
            if (!close)
                return NULL;
            vlen = (size_t)(close - v);
        } else {
            vlen = 0;
            while (v + vlen < end && v[vlen] != ';' && v[vlen] != ' ' && v[vlen] != '\t')
                vlen++;
        }
        if (memchr(v, '\0', vlen))
            return NULL;
        return strndup(v, vlen);
    }
    return NULL;
}

/* Parse the header block of one part (lines separated by CRLF). */
static int parse_part_headers(const char *h, size_t len, http_part *p, ds_err *err)
{
    size_t pos = 0;
    while (pos < len) {
        const char *eol = memmem(h + pos, len - pos, "\r\n", 2);
        size_t line_end = eol ? (size_t)(eol - h) : len;
        const char *line = h + pos;
        size_t llen = line_end - pos;
        if (llen > 20 && strncasecmp(line, "Content-Disposition:", 20) == 0) {
            free(p->name);
            free(p->filename);
            p->name = header_param(line + 20, llen - 20, "name");
            p->filename = header_param(line + 20, llen - 20, "filename");
        } else if (llen > 13 && strncasecmp(line, "Content-Type:", 13) == 0) {
            const char *v = line + 13;
            size_t vlen = llen - 13;
            while (vlen && (*v == ' ' || *v == '\t'))
                v++, vlen--;
            free(p->content_type);
            p->content_type = memchr(v, '\0', vlen) ? NULL : strndup(v, vlen);
        }
        pos = line_end + 2;
    }
    if (!p->name)
        return ds_fail(err, DS_EFORMAT, "multipart part without a Content-Disposition name");
    return 0;
}

static void part_free(http_part *p)
{
    free(p->name);
    free(p->filename);
    free(p->content_type);
    free(p->data);
}

void http_form_free(http_form *f)
{
    for (size_t i = 0; f && i < f->count; i++)
        part_free(&f->parts[i]);
    if (f) {
        free(f->parts);
        f->parts = NULL;
        f->count = 0;
    }
}

/* Append one part whose headers are hdr[0..hlen) and body data[0..dlen). */
static int add_part(http_form *f, const char *hdr, size_t hlen, const unsigned char *data,
                    size_t dlen, ds_err *err)
{
    http_part p = {0};
    if (hlen > PART_HEADER_MAX)
        return ds_fail(err, DS_ETOOBIG, "multipart part headers over %d bytes", PART_HEADER_MAX);
    if (parse_part_headers(hdr, hlen, &p, err) != 0) {
        part_free(&p);
        return -1;
    }
    p.data = malloc(dlen ? dlen : 1);
    http_part *grown = p.data ? realloc(f->parts, sizeof *grown * (f->count + 1)) : NULL;
    if (!grown) {
        part_free(&p);
        return ds_fail(err, DS_ENOMEM, "out of memory");
    }
    memcpy(p.data, data, dlen);
    p.len = dlen;
    f->parts = grown;
    f->parts[f->count++] = p;
    return 0;
}

/* The next real delimiter at or after p: "\r\n--boundary" followed by CRLF
 * or "--". A lookalike inside the data ("\r\n--boundaryX") is skipped. */
static const unsigned char *find_delim(const unsigned char *p, const unsigned char *end,
                                       const char *delim, size_t dlen)
{
    while (p < end) {
        const unsigned char *d = memmem(p, (size_t)(end - p), delim, dlen);
        if (!d)
            return NULL;
        const unsigned char *after = d + dlen;
        if (end - after >= 2 && ((after[0] == '\r' && after[1] == '\n') ||
                                 (after[0] == '-' && after[1] == '-')))
            return d;
        p = d + 1;
    }
    return NULL;
}

int http_parse_multipart(const unsigned char *body, size_t len, const char *boundary,
                         size_t max_parts, http_form *out, ds_err *err)
{
    *out = (http_form){0};
    char delim[80];
    if (!boundary[0] || strlen(boundary) > 70)
        return ds_fail(err, DS_EFORMAT, "multipart boundary must be 1 to 70 characters");
    size_t dlen = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    /* The first delimiter may start the body without its CRLF. */
    const unsigned char *p = NULL;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
        p = body + dlen - 2;
    else if ((p = find_delim(body, body + len, delim, dlen)))
        p += dlen;
    if (!p)
        return ds_fail(err, DS_EFORMAT, "multipart body has no boundary line");
    const unsigned char *end = body + len;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return 0; /* closing delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            break;
        p += 2;
        const unsigned char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        const unsigned char *next = hend ? find_delim(hend + 4, end, delim, dlen) : NULL;
        if (!next)
            break;
        if (out->count == max_parts) {
            http_form_free(out);
            return ds_fail(err, DS_ETOOBIG, "multipart body has more than %zu parts", max_parts);
        }
        if (add_part(out, (const char *)p, (size_t)(hend + 2 - p), hend + 4,
                     (size_t)(next - hend - 4), err) != 0) {
            http_form_free(out);
            return -1;
        }
        p = next + dlen;
    }
    http_form_free(out);
    return ds_fail(err, DS_EFORMAT, "multipart body is truncated (no closing boundary)");
}

const http_part *http_form_get(const http_form *f, const char *name)
{
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->parts[i].name, name) == 0)
            return &f->parts[i];
    return NULL;
}
