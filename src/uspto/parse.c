/* parse.c - one document: the prolog check, the safe parse, then the
 * reader for its root element (see uspto.h). */
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uspto/uspto_internal.h"

const char *us_type_name(us_type t)
{
    switch (t) {
    case US_DESIGN: return "design";
    case US_UTILITY: return "utility";
    case US_PLANT: return "plant";
    case US_REISSUE: return "reissue";
    case US_OTHER: return "other";
    }
    return "other";
}

void us_grant_clear(us_grant *g)
{
    if (!g)
        return;
    char **strings[] = {&g->format, &g->patent_id, &g->kind, &g->title, &g->loc_class,
                        &g->loc_edition, &g->pub_date, &g->filing_date, &g->applicant_name,
                        &g->applicant_country, &g->inventor_names, &g->assignee_name,
                        &g->claim_text};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        free(*strings[i]);
    for (int i = 0; i < g->n_figures; i++)
        free(g->figures[i]);
    free(g->figures);
    memset(g, 0, sizeof *g);
}

/* The 2001 files are DTD 2.4 SGML: empty elements are not closed, so most
 * of them are not XML. Say so rather than only what libxml2 tripped on. */
static int sgml_patdoc(const us_prolog *p, ds_err *err)
{
    if (strcmp(p->root, "PATDOC") != 0 || !p->dtd[0] || strtod(p->dtd, NULL) >= 2.5)
        return -1;
    ds_wrap(err, "PATDOC v%s is SGML, read only when it is well-formed XML: ", p->dtd);
    if (err)
        err->code = DS_EUNSUPPORTED;
    return -1;
}

static int parse_doc(const char *xml, size_t len, us_grant *out, char *root, size_t n, ds_err *err)
{
    if (root && n)
        root[0] = '\0';
    us_prolog p;
    xmlDocPtr doc;
    if (us__prolog_scan(xml, len, &p, err) < 0)
        return -1;
    /* The root as the start tag shows it: a sequence listing too big or
     * broken to parse is still known for one. */
    if (root && n)
        snprintf(root, n, "%s", p.root);
    if (len > US_MAX_DOC_BYTES)
        return ds_fail(err, DS_ETOOBIG, "document of %zu bytes (at most %u)", len,
                       US_MAX_DOC_BYTES);
    if (us__xml_read(xml, len, &p, &doc, err) < 0)
        return sgml_patdoc(&p, err);
    xmlNodePtr r = xmlDocGetRootElement(doc);
    const char *name = r ? (const char *)r->name : "";
    if (root && n)
        snprintf(root, n, "%s", name);
    us_x x = {out, 0};
    int rc;
    if (strcmp(name, "us-patent-grant") == 0)
        rc = us__grant_v4(&x, r, err);
    else if (strcmp(name, "PATDOC") == 0)
        rc = us__patdoc(&x, r, &p, err);
    else
        rc = ds_fail(err, DS_EUNSUPPORTED, "root element <%.60s> is not a patent grant "
                                           "(us-patent-grant or PATDOC)", name);
    if (rc == 0 && x.oom)
        rc = ds_fail(err, DS_ENOMEM, "out of memory reading a grant");
    if (rc < 0)
        us_grant_clear(out);
    xmlFreeDoc(doc);
    return rc;
}

int us__parse_doc(const char *xml, size_t len, us_grant *out, char *root, size_t n, ds_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = parse_doc(xml, len, out, root, n, err);
    if (rc < 0 && err)
        us__utf8_clean(err->msg);
    if (root && n)
        us__utf8_clean(root);
    return rc;
}

int us_parse_doc(const char *xml, size_t len, us_grant *out, ds_err *err)
{
    return us__parse_doc(xml, len, out, NULL, 0, err);
}
