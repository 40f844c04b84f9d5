/* prolog.c - the bytes before the root element, read before libxml2 sees
 * them: the encoding, the DOCTYPE's internal subset and the root's name.
 *
 * libxml2 has its own guards against entity expansion, but they are limits
 * on amounts, not a refusal, and they have had holes. Real grants never
 * declare an entity that expands (their subset is `[ ]`, or PATDOC's list
 * of drawings as unparsed NDATA entities), so a document that does is
 * refused here, before any parser could act on it. */
#include <string.h>

#include "uspto/uspto_internal.h"

typedef struct scan {
    const char *s;
    size_t len, i;
} scan;

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static int at(const scan *c, const char *lit)
{
    size_t n = strlen(lit);
    return c->len - c->i >= n && memcmp(c->s + c->i, lit, n) == 0;
}

static void skip_space(scan *c)
{
    while (c->i < c->len && is_space(c->s[c->i]))
        c->i++;
}

/* Move past the next lit; 0 (and at the end) when there is none. */
static int skip_past(scan *c, const char *lit)
{
    size_t n = strlen(lit);
    const char *hit = memmem(c->s + c->i, c->len - c->i, lit, n);
    if (!hit) {
        c->i = c->len;
        return 0;
    }
    c->i = (size_t)(hit - c->s) + n;
    return 1;
}

/* Move past the quoted literal that starts at c->i. */
static int skip_quoted(scan *c)
{
    char q = c->s[c->i++];
    const char *end = memchr(c->s + c->i, q, c->len - c->i);
    if (!end) {
        c->i = c->len;
        return 0;
    }
    c->i = (size_t)(end - c->s) + 1;
    return 1;
}

/* Copy the name at c->i (up to space, '>', '/', '[', quotes) into out. */
static void read_name(scan *c, char *out, size_t n)
{
    size_t k = 0;
    while (c->i < c->len) {
        char ch = c->s[c->i];
        if (is_space(ch) || ch == '>' || ch == '/' || ch == '[' || ch == '"' || ch == '\'' ||
            ch == ';')
            break;
        if (k + 1 < n)
            out[k++] = ch;
        c->i++;
    }
    out[k] = '\0';
}

static long line_of(const scan *c, size_t at_byte)
{
    long line = 1;
    for (const char *p = c->s, *end = c->s + at_byte; (p = memchr(p, '\n', (size_t)(end - p)));
         p++)
        line++;
    return line;
}

/* The encoding="..." of the XML declaration decides how libxml2 decodes;
 * only encodings in which our byte scan sees the same '<' and names are
 * allowed, and libxml2 is then told to ignore the declaration. */
static int read_encoding(scan *c, us_prolog *p, ds_err *err)
{
    size_t start = c->i;
    if (!skip_past(c, "?>"))
        return 0; /* libxml2 will say what is wrong */
    const char *decl = c->s + start, *enc = memmem(decl, c->i - start, "encoding", 8);
    if (!enc)
        return 0;
    scan e = {c->s, c->i, (size_t)(enc - c->s) + 8};
    skip_space(&e);
    if (e.i >= e.len || c->s[e.i] != '=')
        return 0;
    e.i++;
    skip_space(&e);
    if (e.i >= e.len || (c->s[e.i] != '"' && c->s[e.i] != '\''))
        return 0;
    char q = c->s[e.i++], name[32];
    size_t k = 0;
    while (e.i < e.len && c->s[e.i] != q && k + 1 < sizeof name)
        name[k++] = c->s[e.i++];
    name[k] = '\0';
    static const char *const utf8[] = {"UTF-8", "UTF8", "US-ASCII", "ASCII", NULL};
    static const char *const latin1[] = {"ISO-8859-1", "ISO_8859-1", "LATIN1", "LATIN-1",
                                         "ISO-LATIN-1", NULL};
    for (int i = 0; utf8[i]; i++)
        if (strcasecmp(name, utf8[i]) == 0)
            return 0;
    for (int i = 0; latin1[i]; i++)
        if (strcasecmp(name, latin1[i]) == 0) {
            p->encoding = "ISO-8859-1";
            return 0;
        }
    return ds_fail(err, DS_EUNSUPPORTED, "encoding '%s' is not supported (UTF-8, ASCII or "
                                         "ISO-8859-1)", name);
}

/* Skip S? "literal"; 0 when there is no literal there or it never ends. */
static int literal(scan *c)
{
    skip_space(c);
    return c->i < c->len && (c->s[c->i] == '"' || c->s[c->i] == '\'') && skip_quoted(c);
}

/* <!ENTITY ...> at c->i. Only an unparsed entity passes:
 * <!ENTITY name (SYSTEM "uri" | PUBLIC "id" "uri") NDATA notation> */
static int entity_decl(scan *c, ds_err *err)
{
    size_t start = c->i;
    long line = line_of(c, start);
    c->i += 8;
    skip_space(c);
    if (c->i < c->len && c->s[c->i] == '%')
        return ds_fail(err, DS_EFORMAT, "line %ld: the DOCTYPE declares a parameter entity "
                       "(refused: entities could expand without bound or read files)", line);
    char name[48], notation[48];
    read_name(c, name, sizeof name);
    skip_space(c);
    int external = 0;
    if (at(c, "SYSTEM")) {
        c->i += 6;
        external = literal(c);
    } else if (at(c, "PUBLIC")) {
        c->i += 6;
        external = literal(c) && literal(c);
    }
    skip_space(c);
    if (external && at(c, "NDATA")) {
        c->i += 5;
        skip_space(c);
        read_name(c, notation, sizeof notation);
        skip_space(c);
        if (notation[0] && c->i < c->len && c->s[c->i] == '>') {
            c->i++;
            return 0;
        }
    }
    return ds_fail(err, DS_EFORMAT, "line %ld: the DOCTYPE declares entity '%s' (refused: "
                   "entities could expand without bound or read files)", line, name);
}

/* Any other <!...> declaration: to its '>', quotes honoured. */
static int other_decl(scan *c)
{
    while (c->i < c->len && c->s[c->i] != '>') {
        if (c->s[c->i] == '"' || c->s[c->i] == '\'') {
            if (!skip_quoted(c))
                return 0;
        } else
            c->i++;
    }
    if (c->i >= c->len)
        return 0;
    c->i++;
    return 1;
}

/* The internal subset, c->i just past '['. */
static int subset(scan *c, us_prolog *p, ds_err *err)
{
    size_t open = c->i - 1;
    for (;;) {
        skip_space(c);
        size_t here = c->i;
        int ok = 1;
        if (c->i >= c->len)
            ok = 0;
        else if (c->s[c->i] == ']') {
            p->subset_open = open;
            p->subset_close = c->i++;
            skip_space(c);
            if (c->i >= c->len || c->s[c->i] != '>')
                return ds_fail(err, DS_EFORMAT, "line %ld: expected '>' after the DOCTYPE's ']'",
                               line_of(c, c->i < c->len ? c->i : c->len));
            c->i++;
            return 0;
        } else if (at(c, "<!--"))
            ok = skip_past(c, "-->");
        else if (at(c, "<?"))
            ok = skip_past(c, "?>");
        else if (at(c, "<!ENTITY")) {
            if (entity_decl(c, err) < 0)
                return -1;
        } else if (at(c, "<!"))
            ok = other_decl(c); /* ELEMENT, ATTLIST, NOTATION */
        else if (c->s[c->i] == '%')
            return ds_fail(err, DS_EFORMAT, "line %ld: parameter entity reference in the DOCTYPE "
                           "(refused)", line_of(c, here));
        else
            return ds_fail(err, DS_EFORMAT, "line %ld: unexpected byte 0x%02x in the DOCTYPE's "
                           "internal subset", line_of(c, here), (unsigned char)c->s[c->i]);
        if (!ok)
            return ds_fail(err, DS_EFORMAT, "line %ld: the DOCTYPE's internal subset never ends",
                           line_of(c, open));
        p->subset_blank = 1; /* all of it goes, comments and PIs too */
    }
}

static int doctype(scan *c, us_prolog *p, ds_err *err)
{
    size_t start = c->i;
    c->i += 9;
    while (c->i < c->len) {
        char ch = c->s[c->i];
        if (ch == '"' || ch == '\'')
            skip_quoted(c);
        else if (ch == '>') {
            c->i++;
            return 0;
        } else if (ch == '[') {
            c->i++;
            return subset(c, p, err);
        } else
            c->i++;
    }
    return ds_fail(err, DS_EFORMAT, "line %ld: the DOCTYPE never ends", line_of(c, start));
}

/* The root's name, and a PATDOC's DTD="2.5" (its format version). */
static void root_tag(scan *c, us_prolog *p)
{
    p->root_at = c->i++;
    read_name(c, p->root, sizeof p->root);
    if (strcmp(p->root, "PATDOC") != 0)
        return;
    size_t end = c->i;
    while (end < c->len && c->s[end] != '>')
        end++;
    const char *dtd = memmem(c->s + c->i, end - c->i, "DTD", 3);
    if (!dtd)
        return;
    scan v = {c->s, end, (size_t)(dtd - c->s) + 3};
    skip_space(&v);
    if (v.i >= v.len || c->s[v.i] != '=')
        return;
    v.i++;
    skip_space(&v);
    if (v.i >= v.len || (c->s[v.i] != '"' && c->s[v.i] != '\''))
        return;
    char q = c->s[v.i++];
    size_t k = 0;
    while (v.i < v.len && c->s[v.i] != q && k + 1 < sizeof p->dtd)
        p->dtd[k++] = c->s[v.i++];
    p->dtd[k] = '\0';
}

int us__prolog_scan(const char *xml, size_t len, us_prolog *p, ds_err *err)
{
    memset(p, 0, sizeof *p);
    p->encoding = "UTF-8";
    p->root_at = len;
    scan c = {xml, len, 0};
    if (at(&c, "\xEF\xBB\xBF"))
        c.i = 3;
    skip_space(&c);
    if (c.i >= len || xml[c.i] != '<')
        return ds_fail(err, DS_EFORMAT, "not XML: the document does not start with '<' (or is "
                                        "not in UTF-8)");
    if (at(&c, "<?xml") && c.i + 5 < len && is_space(xml[c.i + 5]) &&
        read_encoding(&c, p, err) < 0)
        return -1;
    int doctypes = 0;
    for (;;) {
        skip_space(&c);
        if (c.i >= len)
            return 0;
        if (at(&c, "<?"))
            skip_past(&c, "?>");
        else if (at(&c, "<!--"))
            skip_past(&c, "-->");
        else if (at(&c, "<!DOCTYPE")) {
            if (doctypes++)
                return ds_fail(err, DS_EFORMAT, "line %ld: a second DOCTYPE", line_of(&c, c.i));
            if (doctype(&c, p, err) < 0)
                return -1;
        } else if (xml[c.i] == '<' && c.i + 1 < len && xml[c.i + 1] != '!') {
            root_tag(&c, p);
            return 0;
        } else
            return 0; /* not well-formed: libxml2 says where */
    }
}
