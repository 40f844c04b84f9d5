/* text.c - finding elements and reading their text, for grant.c and
 * patdoc.c. */
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "uspto/uspto_internal.h"

static int is_element(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

xmlNodePtr us__next(xmlNodePtr n, const char *name)
{
    for (n = n ? n->next : NULL; n; n = n->next)
        if (is_element(n, name))
            return n;
    return NULL;
}

xmlNodePtr us__child(xmlNodePtr parent, const char *name)
{
    if (!parent)
        return NULL;
    for (xmlNodePtr n = parent->children; n; n = n->next)
        if (is_element(n, name))
            return n;
    return NULL;
}

xmlNodePtr us__path(xmlNodePtr parent, const char *path)
{
    char step[64];
    while (parent && *path) {
        size_t k = strcspn(path, "/");
        if (k >= sizeof step)
            return NULL;
        memcpy(step, path, k);
        step[k] = '\0';
        parent = us__child(parent, step);
        path += k + (path[k] == '/');
    }
    return parent;
}

xmlNodePtr us__find(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_element(c, name))
            return c;
        xmlNodePtr hit = us__find(c, name); /* depth is bounded by US_MAX_DEPTH */
        if (hit)
            return hit;
    }
    return NULL;
}

char *us__dup(us_x *x, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        x->oom = 1;
    return d;
}

/* ---- flattening ------------------------------------------------------------ */

typedef struct tbuf {
    char *s;
    size_t len, cap;
    int oom;
} tbuf;

static void tb_add(tbuf *b, const char *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *bigger = realloc(b->s, cap);
        if (!bigger) {
            b->oom = 1;
            return;
        }
        b->s = bigger;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Entities the grant DTDs take from the ISO sets. The DTD is never loaded,
 * so a reference reaches us as a bare name; these common ones still read
 * as their character (a title with "&mdash;" keeps its dash). */
static const struct {
    const char *name, *text;
} known_entities[] = {
    {"mdash", "\u2014"},  {"ndash", "\u2013"},  {"lsquo", "\u2018"},  {"rsquo", "\u2019"},
    {"ldquo", "\u201c"},  {"rdquo", "\u201d"},  {"hellip", "\u2026"}, {"bull", "\u2022"},
    {"middot", "\u00b7"}, {"deg", "\u00b0"},    {"plusmn", "\u00b1"}, {"times", "\u00d7"},
    {"divide", "\u00f7"}, {"micro", "\u00b5"},  {"frac12", "\u00bd"}, {"frac14", "\u00bc"},
    {"frac34", "\u00be"}, {"sup2", "\u00b2"},   {"sup3", "\u00b3"},   {"copy", "\u00a9"},
    {"reg", "\u00ae"},    {"trade", "\u2122"},  {"nbsp", " "},        {"prime", "\u2032"},
    {"Prime", "\u2033"},  {"le", "\u2264"},     {"ge", "\u2265"},     {"ne", "\u2260"},
    {"infin", "\u221e"},  {"agr", "\u03b1"},    {"bgr", "\u03b2"},    {"ggr", "\u03b3"},
    {"dgr", "\u03b4"},    {"egr", "\u03b5"},    {"thgr", "\u03b8"},   {"lgr", "\u03bb"},
    {"mgr", "\u03bc"},    {"pgr", "\u03c0"},    {"sgr", "\u03c3"},    {"ohgr", "\u03c9"},
    {"alpha", "\u03b1"},  {"beta", "\u03b2"},   {"gamma", "\u03b3"},  {"delta", "\u03b4"},
    {"mu", "\u03bc"},     {"pi", "\u03c0"},     {"Omega", "\u03a9"},  {"eacute", "\u00e9"},
    {"egrave", "\u00e8"}, {"aacute", "\u00e1"}, {"agrave", "\u00e0"}, {"iacute", "\u00ed"},
    {"oacute", "\u00f3"}, {"uacute", "\u00fa"}, {"auml", "\u00e4"},   {"ouml", "\u00f6"},
    {"uuml", "\u00fc"},   {"Auml", "\u00c4"},   {"Ouml", "\u00d6"},   {"Uuml", "\u00dc"},
    {"szlig", "\u00df"},  {"ccedil", "\u00e7"}, {"ntilde", "\u00f1"}, {"oslash", "\u00f8"},
    {"aring", "\u00e5"},  {"Aring", "\u00c5"},  {"angst", "\u00c5"},
};

static const char *known_entity(const xmlChar *name)
{
    for (size_t i = 0; i < sizeof known_entities / sizeof known_entities[0]; i++)
        if (strcmp(known_entities[i].name, (const char *)name) == 0)
            return known_entities[i].text;
    return NULL;
}

/* Elements that end a word: their text never runs into a neighbour's. */
static int is_block(const xmlChar *name)
{
    static const char *const blocks[] = {"claim-text", "p", "PARA", "CLMSTEP", "br", "li",
                                         "entry", "row", "heading", NULL};
    for (int i = 0; blocks[i]; i++)
        if (strcmp(blocks[i], (const char *)name) == 0)
            return 1;
    return 0;
}

static void flatten(tbuf *b, xmlNodePtr n)
{
    for (; n; n = n->next) {
        switch (n->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (n->content)
                tb_add(b, (const char *)n->content, strlen((const char *)n->content));
            break;
        case XML_ENTITY_REF_NODE: { /* never n->children: that is the expansion */
            const char *text = known_entity(n->name);
            if (text)
                tb_add(b, text, strlen(text));
            break;
        }
        case XML_ELEMENT_NODE: {
            int block = is_block(n->name);
            if (block)
                tb_add(b, " ", 1);
            flatten(b, n->children); /* depth is bounded by US_MAX_DEPTH */
            if (block)
                tb_add(b, " ", 1);
            break;
        }
        default: break; /* comments, processing instructions */
        }
    }
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Collapse runs of ASCII white space to one space and trim, in place;
 * returns the new length. UTF-8 sequences never contain these bytes. */
static size_t collapse(char *s, size_t len)
{
    size_t w = 0;
    int pending = 0;
    for (size_t r = 0; r < len; r++) {
        if (is_space(s[r])) {
            pending = w > 0;
            continue;
        }
        if (pending)
            s[w++] = ' ';
        pending = 0;
        s[w++] = s[r];
    }
    s[w] = '\0';
    return w;
}

char *us__text(us_x *x, xmlNodePtr n)
{
    if (!n)
        return NULL;
    tbuf b = {0};
    flatten(&b, n->children);
    if (b.oom) {
        x->oom = 1;
        free(b.s);
        return NULL;
    }
    if (!b.s || collapse(b.s, b.len) == 0) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *us__field(us_x *x, xmlNodePtr n, char *(*conv)(us_x *, const char *))
{
    char *raw = us__text(x, n);
    if (!conv || !raw)
        return raw;
    char *v = conv(x, raw);
    free(raw);
    return v;
}

char *us__attr(us_x *x, xmlNodePtr n, const char *name)
{
    xmlChar *v = n ? xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;
    if (!v)
        return NULL;
    size_t len = strlen((const char *)v);
    char *s = malloc(len + 1);
    if (s) {
        memcpy(s, v, len + 1);
        if (collapse(s, len) == 0) {
            free(s);
            s = NULL;
        }
    } else
        x->oom = 1;
    xmlFree(v);
    return s;
}

void us__list_add(us_x *x, us_list *l, const char *item, const char *sep)
{
    if (!item || !*item)
        return;
    size_t n = strlen(item), k = l->len ? strlen(sep) : 0;
    if (l->len + k + n + 1 > l->cap) { /* doubling: a million claims stay linear */
        size_t cap = l->cap ? l->cap : 64;
        while (cap < l->len + k + n + 1)
            cap *= 2;
        char *bigger = realloc(l->s, cap);
        if (!bigger) {
            x->oom = 1;
            return;
        }
        l->s = bigger;
        l->cap = cap;
    }
    memcpy(l->s + l->len, sep, k);
    memcpy(l->s + l->len + k, item, n + 1);
    l->len += k + n;
}

int us__list_has(const us_list *l, const char *item, const char *sep)
{
    size_t n = strlen(item), k = strlen(sep);
    if (n == 0)
        return 0;
    for (const char *p = l->s; p && (p = strstr(p, item)); p++) {
        int starts = p == l->s || ((size_t)(p - l->s) >= k && memcmp(p - k, sep, k) == 0);
        int ends = p[n] == '\0' || strncmp(p + n, sep, k) == 0;
        if (starts && ends)
            return 1;
    }
    return 0;
}

void us__figure_add(us_x *x, const char *file)
{
    us_grant *g = x->g;
    int n = g->n_figures;
    /* The capacity is the next power of two: grow when n is one (or 0). */
    if ((n & (n - 1)) == 0) {
        char **bigger = realloc(g->figures, sizeof *bigger * (size_t)(n ? 2 * n : 1));
        if (!bigger) {
            x->oom = 1;
            return;
        }
        g->figures = bigger;
    }
    char *copy = us__dup(x, file);
    if (copy)
        g->figures[g->n_figures++] = copy;
}

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0. */
static int utf8_len(const unsigned char *p)
{
    if (*p < 0x80)
        return 1;
    int n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
    for (int k = 1; k < n; k++)
        if ((p[k] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL of a cut sequence */
    if ((n == 2 && p[0] < 0xc2) || (n == 3 && p[0] == 0xe0 && p[1] < 0xa0) ||
        (n == 3 && p[0] == 0xed && p[1] > 0x9f) || (n == 4 && p[0] == 0xf0 && p[1] < 0x90) ||
        (n == 4 && (p[0] > 0xf4 || (p[0] == 0xf4 && p[1] > 0x8f))))
        return 0; /* overlong, a surrogate, or past U+10FFFF */
    return n;
}

void us__utf8_clean(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = utf8_len(p);
        if (n == 0 || (*p < 0x20 && *p != '\t') || *p == 0x7f)
            *p++ = '?';
        else
            p += n;
    }
}
