/* patdoc.c - the grants of 2001 to 2004: ST.32 XML, root PATDOC (DTD 2.5
 * from 2002; the 2001 files are DTD 2.4 SGML, which parse only when they
 * happen to be well-formed XML).
 *
 * Elements are WIPO ST.32 tag codes, text is always in PDAT elements (in
 * STEXT for free text, styled with HIL/BOLD/ITALIC...):
 *   SDOBI   bibliographic data:
 *     B110/DNUM patent number, B130 kind, B140/DATE issue date;
 *     B210/DNUM application number, B211US series code ("29": a design
 *     application), B220/DATE filing date;
 *     B400/B472/B474 term of grant, years;
 *     B510: B511 main classification (Locarno for a design, IPC otherwise),
 *     B516 its edition; B540 title;
 *     B700: B720/B721 inventors, B730/B731 assignees (one B730 each), each
 *     a PARTY-US with NAM (FNM + SNM/STEXT, or ONM/STEXT) and ADR (CITY,
 *     STATE for a US address, CTRY otherwise);
 *   SDOCL/CL/CLM  the claims;
 *   SDODR/EMI     the drawings, FILE= naming each TIFF.
 * There is no applicant element: before 2012 the inventors were the
 * applicants, so the first inventor is reported as the applicant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uspto/uspto_internal.h"

/* The element of a B721/B731 that carries NAM (PARTY-US in practice). */
static xmlNodePtr party_of(xmlNodePtr holder)
{
    for (xmlNodePtr c = holder ? holder->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && us__child(c, "NAM"))
            return c;
    return NULL;
}

static char *party_name(us_x *x, xmlNodePtr party)
{
    xmlNodePtr nam = us__child(party, "NAM");
    char *name = us__text(x, us__child(nam, "ONM"));
    if (name)
        return name;
    char *first = us__text(x, us__child(nam, "FNM"));
    char *last = us__text(x, us__child(nam, "SNM"));
    name = us__person(x, first, last);
    free(first);
    free(last);
    return name;
}

/* CTRY, else "US" for an address with a STATE and no country: ST.32
 * grants name no country for US residents. */
static char *party_country(us_x *x, xmlNodePtr party)
{
    xmlNodePtr adr = us__child(party, "ADR");
    char *c = us__text(x, us__child(adr, "CTRY"));
    if (us__country_ok(c))
        return c;
    free(c);
    return us__child(adr, "STATE") ? us__dup(x, "US") : NULL;
}

static void parties(us_x *x, xmlNodePtr sdobi)
{
    us_grant *g = x->g;
    xmlNodePtr b700 = us__child(sdobi, "B700");
    us_list inv = {0};
    for (xmlNodePtr b720 = us__child(b700, "B720"); b720; b720 = us__next(b720, "B720"))
        for (xmlNodePtr b721 = us__child(b720, "B721"); b721; b721 = us__next(b721, "B721")) {
            xmlNodePtr party = party_of(b721);
            char *name = party ? party_name(x, party) : NULL;
            if (name && !g->applicant_name) {
                g->applicant_name = us__dup(x, name);
                g->applicant_country = party_country(x, party);
            }
            us__list_add(x, &inv, name, ", ");
            free(name);
        }
    g->inventor_names = inv.s;
    for (xmlNodePtr b730 = us__child(b700, "B730"); b730 && !g->assignee_name;
         b730 = us__next(b730, "B730"))
        for (xmlNodePtr b731 = us__child(b730, "B731"); b731 && !g->assignee_name;
             b731 = us__next(b731, "B731")) {
            xmlNodePtr party = party_of(b731);
            if (party)
                g->assignee_name = party_name(x, party);
        }
}

static void claims(us_x *x, xmlNodePtr root)
{
    us_list all = {0};
    for (xmlNodePtr cl = us__path(root, "SDOCL/CL"); cl; cl = us__next(cl, "CL"))
        for (xmlNodePtr clm = us__child(cl, "CLM"); clm; clm = us__next(clm, "CLM")) {
            char *text = us__text(x, clm);
            us__list_add(x, &all, text, " ");
            free(text);
        }
    x->g->claim_text = all.s;
}

/* Every EMI with a FILE under n, in document order. */
static void drawings(us_x *x, xmlNodePtr n)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)c->name, "EMI") == 0) {
            char *file = us__attr(x, c, "FILE");
            if (file)
                us__figure_add(x, file);
            free(file);
        } else
            drawings(x, c); /* depth is bounded by US_MAX_DEPTH */
    }
}

int us__patdoc(us_x *x, xmlNodePtr root, const us_prolog *p, ds_err *err)
{
    us_grant *g = x->g;
    xmlNodePtr sdobi = us__child(root, "SDOBI");
    if (!sdobi)
        return ds_fail(err, DS_EFORMAT, "PATDOC without SDOBI (bibliographic data)");
    char *dtd = us__attr(x, root, "DTD"), format[48];
    snprintf(format, sizeof format, "PATDOC v%.20s", dtd ? dtd : p->dtd[0] ? p->dtd : "?");
    free(dtd);
    g->format = us__dup(x, format);
    xmlNodePtr b100 = us__child(sdobi, "B100"), b200 = us__child(sdobi, "B200");
    g->patent_id = us__field(x, us__path(b100, "B110/DNUM"), NULL);
    g->kind = us__field(x, us__child(b100, "B130"), NULL);
    g->pub_date = us__field(x, us__path(b100, "B140/DATE"), us__iso_date);
    g->filing_date = us__field(x, us__path(b200, "B220/DATE"), us__iso_date);
    xmlNodePtr term = us__path(sdobi, "B400/B472/B474");
    char *raw = us__text(x, term ? term : us__find(sdobi, "B474"));
    g->grant_term = us__years(raw);
    free(raw);
    raw = us__text(x, us__child(b200, "B211US"));
    g->type = us__type(g->kind, raw && strcmp(raw, "29") == 0 ? "design" : NULL);
    free(raw);
    xmlNodePtr b500 = us__child(sdobi, "B500"), b510 = us__child(b500, "B510");
    if (g->type == US_DESIGN) { /* B511 is an IPC class for the others */
        g->loc_class = us__field(x, us__child(b510, "B511"), us__locarno);
        g->loc_edition = us__field(x, us__child(b510, "B516"), NULL);
    }
    g->title = us__field(x, us__child(b500, "B540"), NULL);
    parties(x, sdobi);
    claims(x, root);
    drawings(x, us__child(root, "SDODR"));
    if (!g->patent_id && !x->oom)
        return ds_fail(err, DS_EFORMAT, "PATDOC without a patent number (B110/DNUM)");
    return 0;
}
