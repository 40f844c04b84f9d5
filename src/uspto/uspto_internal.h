/* uspto_internal.h - what the uspto_ files share: the prolog check that runs
 * before libxml2, the safe reader, and the helpers that pull text out of the
 * tree. Not for use outside src/uspto/. */
#ifndef DS_USPTO_INTERNAL_H
#define DS_USPTO_INTERNAL_H

#include <libxml/tree.h>

#include "uspto/uspto.h"

/* ---- prolog.c: what the bytes before the root element say ---------------- */

typedef struct us_prolog {
    const char *encoding;  /* forced on libxml2: "UTF-8" or "ISO-8859-1" */
    size_t subset_open;    /* offsets of the internal subset's '[' and ']', */
    size_t subset_close;   /* both 0 when there is none */
    int subset_blank;      /* 1: the subset holds declarations to blank out */
    size_t root_at;        /* offset of the root element's '<' (len: not seen) */
    char root[64];         /* the root element's name, "" when not seen */
    char dtd[16];          /* a PATDOC root's DTD attribute ("2.5"), else "" */
} us_prolog;

/* Read the XML declaration, comments, PIs and the DOCTYPE up to the root
 * element, without libxml2. Refuses (-1, DS_EFORMAT) an internal subset that
 * declares a parsed entity (general or parameter, internal or external: the
 * ways to billion laughs and XXE) or that does not end; an unparsed entity
 * (`<!ENTITY x SYSTEM "f.tif" NDATA TIF>`, how PATDOC names its drawings)
 * is allowed, as nothing can expand it, and is blanked out with the rest of
 * the subset before libxml2 sees it. DS_EUNSUPPORTED for an encoding other
 * than UTF-8, ASCII or Latin-1. O(prolog length), no allocation. */
int us__prolog_scan(const char *xml, size_t len, us_prolog *p, ds_err *err);

/* ---- xml.c: libxml2, safely ------------------------------------------------ */

/* Parse one document into a tree: no network, no DTD, no entity expansion
 * (the prolog was checked by us__prolog_scan), depth at most US_MAX_DEPTH,
 * no output on stderr. Returns 0 with *out (free with xmlFreeDoc), or -1
 * with err: DS_EFORMAT with libxml2's first error and its line, DS_ENOMEM.
 * Thread-safe. */
int us__xml_read(const char *xml, size_t len, const us_prolog *p, xmlDocPtr *out, ds_err *err);

/* ---- text.c: elements and their text ------------------------------------- */

/* One extraction in progress: the grant being filled, and whether an
 * allocation failed on the way (checked once, at the end). */
typedef struct us_x {
    us_grant *g;
    int oom;
} us_x;

/* The first child element called name; NULL when none (or parent NULL). */
xmlNodePtr us__child(xmlNodePtr parent, const char *name);
/* The next sibling element after n called name, or NULL. */
xmlNodePtr us__next(xmlNodePtr n, const char *name);
/* Follow "a/b/c" from parent, taking the first child of each name. */
xmlNodePtr us__path(xmlNodePtr parent, const char *path);
/* The first element called name below n, depth first (n excluded). */
xmlNodePtr us__find(xmlNodePtr n, const char *name);

/* All the text under n, inline markup flattened, whitespace runs collapsed
 * to one space and trimmed. Entity references are never followed: one with
 * a well-known name (&mdash;) gives its character, others give nothing.
 * Returns a malloc'ed string, or NULL when n is NULL or holds no text (or
 * on out of memory, which sets x->oom). */
char *us__text(us_x *x, xmlNodePtr n);
/* us__text, then made into the seed's form by conv (us__iso_date, ...;
 * NULL: as it is). */
char *us__field(us_x *x, xmlNodePtr n, char *(*conv)(us_x *x, const char *raw));
/* An attribute's value, trimmed; malloc'ed, NULL when absent or empty. */
char *us__attr(us_x *x, xmlNodePtr n, const char *name);
/* strdup that records a failure in x. NULL s gives NULL. */
char *us__dup(us_x *x, const char *s);

/* A growing string of items joined by a separator ("A, B", claims). */
typedef struct us_list {
    char *s;  /* NULL until an item is added */
    size_t len, cap;
} us_list;
/* Append item (nothing when NULL or empty), after sep unless first. */
void us__list_add(us_x *x, us_list *l, const char *item, const char *sep);
/* Whether item is one of the items of l. */
int us__list_has(const us_list *l, const char *item, const char *sep);

/* Make s valid UTF-8 without control characters, in place: each byte of a
 * bad or cut sequence becomes '?'. Error messages quote the document and
 * are cut to fit, yet may end up in JSON. */
void us__utf8_clean(char *s);

/* Append to g->figures. */
void us__figure_add(us_x *x, const char *file);

/* ---- fields.c: values as the seed stores them ---------------------------- */

/* "20140318" -> "2014-03-18"; NULL unless eight digits making a date. */
char *us__iso_date(us_x *x, const char *raw);
/* Locarno class "0101", "1201", "12 01", "12-01", "301" -> "NN-NN"; other
 * text is kept as it is (trimmed). */
char *us__locarno(us_x *x, const char *raw);
/* Leading decimal integer of raw, 0 when none or absurd. */
int us__years(const char *raw);
/* A two-letter country code (upper case), not "omitted" or "unknown". */
int us__country_ok(const char *s);
/* "First Last" from the parts (either may be NULL); NULL when both are. */
char *us__person(us_x *x, const char *first, const char *last);
/* The kind of grant from its kind code ("S1", "B2", "E", "PP3", ...) and,
 * for us-patent-grant, the application's appl-type (NULL for PATDOC). */
us_type us__type(const char *kind, const char *appl_type);

/* ---- grant.c, patdoc.c: one format each ------------------------------------ */

/* Fill x->g from the root of a us-patent-grant or a PATDOC document.
 * Returns 0, or -1 with err (DS_EFORMAT: no patent number). */
int us__grant_v4(us_x *x, xmlNodePtr root, ds_err *err);
int us__patdoc(us_x *x, xmlNodePtr root, const us_prolog *p, ds_err *err);

/* ---- parse.c ----------------------------------------------------------------- */

/* us_parse_doc, also giving the root element's name (root, size n: "" when
 * neither the prolog check nor libxml2 got as far as the root). */
int us__parse_doc(const char *xml, size_t len, us_grant *out, char *root, size_t n, ds_err *err);

#endif
