/* grant.c - the us-patent-grant documents of DTD v4.0 (2005) to v4.7.
 *
 * Where the versions differ:
 *  - parties: v4.0-v4.2 have parties/applicants/applicant, whose app-type
 *    "applicant-inventor" marks the inventors (parties/inventors holds only
 *    inventors who are not applicants); v4.3 on have
 *    us-parties/us-applicants/us-applicant and us-parties/inventors;
 *  - an assignee's name is in assignee/addressbook, or straight in assignee
 *    (v4.0);
 *  - dtd-version reads "v4.2 2006-08-23", or "v40 2004-12-02" in v4.0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uspto/uspto_internal.h"

/* "us-patent-grant v4.4" from dtd-version="v4.4 2013-05-16" or "v40 ...". */
static char *format_of(us_x *x, xmlNodePtr root)
{
    char *v = us__attr(x, root, "dtd-version");
    char out[64] = "us-patent-grant";
    if (v) {
        size_t k = strcspn(v, " ");
        v[k] = '\0';
        if (k == 3 && v[0] == 'v' && v[1] >= '0' && v[1] <= '9' && v[2] >= '0' && v[2] <= '9')
            snprintf(out, sizeof out, "us-patent-grant v%c.%c", v[1], v[2]);
        else
            snprintf(out, sizeof out, "us-patent-grant %.40s", v);
        free(v);
    }
    return us__dup(x, out);
}

/* A party's name: its organisation, else "First Last". The name lives in
 * an addressbook, or (v4.0 assignees) straight in the party. */
static char *party_name(us_x *x, xmlNodePtr party)
{
    xmlNodePtr book = us__child(party, "addressbook");
    if (!book)
        book = party;
    char *name = us__text(x, us__child(book, "orgname"));
    if (name)
        return name;
    char *first = us__text(x, us__child(book, "first-name"));
    char *last = us__text(x, us__child(book, "last-name"));
    name = us__person(x, first, last);
    free(first);
    free(last);
    return name ? name : us__text(x, us__child(book, "name"));
}

/* The address's country, else the residence's (older documents give a
 * country only there); "omitted" and "unknown" do not count. */
static char *party_country(us_x *x, xmlNodePtr party)
{
    const char *paths[] = {"addressbook/address/country", "address/country", "residence/country"};
    for (int i = 0; i < 3; i++) {
        char *c = us__text(x, us__path(party, paths[i]));
        if (us__country_ok(c))
            return c;
        free(c);
    }
    return NULL;
}

/* Calls fn for each party element `item` in every parties/us-parties
 * container's `list` (e.g. applicants/applicant). */
typedef void (*party_fn)(us_x *x, xmlNodePtr party, void *ctx);

static void each_party(us_x *x, xmlNodePtr bib, const char *list, const char *item, party_fn fn,
                       void *ctx)
{
    static const char *const containers[] = {"us-parties", "parties"};
    for (int i = 0; i < 2; i++)
        for (xmlNodePtr l = us__child(us__child(bib, containers[i]), list); l;
             l = us__next(l, list))
            for (xmlNodePtr p = us__child(l, item); p; p = us__next(p, item))
                fn(x, p, ctx);
}

static void first_applicant(us_x *x, xmlNodePtr party, void *ctx)
{
    (void)ctx;
    us_grant *g = x->g;
    if (g->applicant_name)
        return;
    g->applicant_name = party_name(x, party);
    g->applicant_country = party_country(x, party);
}

/* Add a name once: the same person may be both an applicant-inventor and
 * in an inventors list. */
static void add_inventor(us_x *x, xmlNodePtr party, void *ctx)
{
    char *name = party_name(x, party);
    if (name && !us__list_has(ctx, name, ", "))
        us__list_add(x, ctx, name, ", ");
    free(name);
}

static void add_applicant_inventor(us_x *x, xmlNodePtr party, void *ctx)
{
    char *type = us__attr(x, party, "app-type");
    if (type && strcmp(type, "applicant-inventor") == 0)
        add_inventor(x, party, ctx);
    free(type);
}

static void parties(us_x *x, xmlNodePtr bib)
{
    each_party(x, bib, "us-applicants", "us-applicant", first_applicant, NULL);
    each_party(x, bib, "applicants", "applicant", first_applicant, NULL);
    /* Up to v4.2 the inventors are the applicants of type
     * "applicant-inventor", and an inventors list names only those who are
     * not applicants; from v4.3 the inventors list names them all. */
    us_list inv = {0};
    each_party(x, bib, "us-applicants", "us-applicant", add_applicant_inventor, &inv);
    each_party(x, bib, "applicants", "applicant", add_applicant_inventor, &inv);
    each_party(x, bib, "inventors", "inventor", add_inventor, &inv);
    x->g->inventor_names = inv.s;
    for (xmlNodePtr a = us__path(bib, "assignees/assignee"); a && !x->g->assignee_name;
         a = us__next(a, "assignee"))
        x->g->assignee_name = party_name(x, a);
}

/* Every claim's text, in order, joined by a space. */
static void claims(us_x *x, xmlNodePtr root)
{
    us_list all = {0};
    for (xmlNodePtr c = us__path(root, "claims/claim"); c; c = us__next(c, "claim"))
        for (xmlNodePtr t = us__child(c, "claim-text"); t; t = us__next(t, "claim-text")) {
            char *text = us__text(x, t);
            us__list_add(x, &all, text, " ");
            free(text);
        }
    x->g->claim_text = all.s;
}

static void figures(us_x *x, xmlNodePtr root)
{
    for (xmlNodePtr f = us__path(root, "drawings/figure"); f; f = us__next(f, "figure"))
        for (xmlNodePtr img = us__child(f, "img"); img; img = us__next(img, "img")) {
            char *file = us__attr(x, img, "file");
            if (file)
                us__figure_add(x, file);
            free(file);
        }
}

int us__grant_v4(us_x *x, xmlNodePtr root, ds_err *err)
{
    us_grant *g = x->g;
    xmlNodePtr bib = us__child(root, "us-bibliographic-data-grant");
    if (!bib)
        return ds_fail(err, DS_EFORMAT, "us-patent-grant without us-bibliographic-data-grant");
    g->format = format_of(x, root);
    xmlNodePtr pub = us__path(bib, "publication-reference/document-id");
    xmlNodePtr app = us__child(bib, "application-reference");
    xmlNodePtr loc = us__child(bib, "classification-locarno");
    g->patent_id = us__field(x, us__child(pub, "doc-number"), NULL);
    g->kind = us__field(x, us__child(pub, "kind"), NULL);
    g->pub_date = us__field(x, us__child(pub, "date"), us__iso_date);
    g->filing_date = us__field(x, us__path(app, "document-id/date"), us__iso_date);
    char *raw = us__text(x, us__path(bib, "us-term-of-grant/length-of-grant"));
    g->grant_term = us__years(raw);
    free(raw);
    g->loc_class = us__field(x, us__child(loc, "main-classification"), us__locarno);
    g->loc_edition = us__field(x, us__child(loc, "edition"), NULL);
    g->title = us__field(x, us__child(bib, "invention-title"), NULL);
    parties(x, bib);
    claims(x, root);
    figures(x, root);
    char *appl_type = us__attr(x, app, "appl-type");
    g->type = us__type(g->kind, appl_type);
    free(appl_type);
    if (!g->patent_id && !x->oom)
        return ds_fail(err, DS_EFORMAT, "us-patent-grant without a publication-reference "
                                        "doc-number");
    return 0;
}
