/* xml.c - the us-patent-grant document of a sample patent.
 *
 * The element order and attributes follow real design grants of the
 * 2014-2022 DTDs (v4.5 to v4.7; see ipgD0701016.xml and the 2022-10-25
 * weekly file in shared/data/uspto-samples): bibliographic data, drawings,
 * description of the drawings, claim. The DTD version is the one in force
 * on the issue date. Every text and attribute value is escaped.
 */
#include "sample/sample_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- growing strings -------------------------------------------------- */

void sp_buf_free(sp_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int reserve(sp_buf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->n + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void sp_buf_add(sp_buf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void sp_buf_printf(sp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

static void put(sp_buf *b, const char *s) { sp_buf_add(b, s, strlen(s)); }

void sp_buf_esc(sp_buf *b, const char *s)
{
    while (*s) {
        size_t run = strcspn(s, "&<>\"'");
        sp_buf_add(b, s, run);
        s += run;
        switch (*s) {
        case '&': put(b, "&amp;"); break;
        case '<': put(b, "&lt;"); break;
        case '>': put(b, "&gt;"); break;
        case '"': put(b, "&quot;"); break;
        case '\'': put(b, "&apos;"); break;
        default: continue; /* the end */
        }
        s++;
    }
}

/* <tag>escaped text</tag> and a newline. */
static void elem(sp_buf *b, const char *tag, const char *text)
{
    sp_buf_printf(b, "<%s>", tag);
    sp_buf_esc(b, text);
    sp_buf_printf(b, "</%s>\n", tag);
}

/* ---- wording ---------------------------------------------------------------- */

void sp_article(const char *title, char *buf, size_t n)
{
    char lower[128];
    snprintf(lower, sizeof lower, "%s", title);
    lower[0] = (char)tolower((unsigned char)lower[0]);
    snprintf(buf, n, "%s %s", strchr("aeiou", lower[0]) && lower[0] ? "an" : "a", lower);
}

/* The DTD in force on an issue date. */
static void dtd_of(int date, const char **version, const char **file)
{
    if (date >= 20220301) {
        *version = "v4.7 2022-02-17";
        *file = "us-patent-grant-v47-2022-02-17.dtd";
    } else if (date >= 20211001) {
        *version = "v4.6 2021-08-30";
        *file = "us-patent-grant-v46-2021-08-30.dtd";
    } else {
        *version = "v4.5 2014-04-03";
        *file = "us-patent-grant-v45-2014-04-03.dtd";
    }
}

/* USPC as printed: "D" and the class in 2 columns, the subclass in 3. */
static void national(sp_buf *b, int cls, int sub)
{
    sp_buf_printf(b, "<classification-national>\n<country>US</country>\n"
                     "<main-classification>D%2d%3d</main-classification>\n"
                     "</classification-national>\n",
                  cls, sub);
}

static void address(sp_buf *b, const sample_place *at)
{
    put(b, "<address>\n");
    elem(b, "city", at->city);
    if (at->state)
        elem(b, "state", at->state);
    elem(b, "country", at->country);
    put(b, "</address>\n");
}

static void person_book(sp_buf *b, const sample_person *who)
{
    put(b, "<addressbook>\n");
    elem(b, "last-name", who->last);
    elem(b, "first-name", who->first);
    address(b, &who->at);
    put(b, "</addressbook>\n");
}

/* ---- the document ----------------------------------------------------------- */

static void biblio_head(sp_buf *b, const sample_patent *p)
{
    const sample_family *f = &sample_families[p->family];
    const sample_variant *v = &f->variants[p->variant];
    sp_buf_printf(b,
                  "<us-bibliographic-data-grant>\n<publication-reference>\n<document-id>\n"
                  "<country>US</country>\n<doc-number>%s</doc-number>\n<kind>S1</kind>\n"
                  "<date>%08d</date>\n</document-id>\n</publication-reference>\n"
                  "<application-reference appl-type=\"design\">\n<document-id>\n"
                  "<country>US</country>\n<doc-number>%08d</doc-number>\n<date>%08d</date>\n"
                  "</document-id>\n</application-reference>\n"
                  "<us-application-series-code>29</us-application-series-code>\n"
                  "<us-term-of-grant>\n<length-of-grant>15</length-of-grant>\n"
                  "</us-term-of-grant>\n"
                  "<classification-locarno>\n<edition>%s</edition>\n"
                  "<main-classification>%s</main-classification>\n</classification-locarno>\n",
                  p->doc, p->date, p->appl, p->filed, p->date >= 20210101 ? "13" : "12",
                  f->locarno);
    national(b, f->us_class, v->us_sub);
    put(b, "<invention-title id=\"d2e53\">");
    sp_buf_esc(b, v->title);
    put(b, "</invention-title>\n<us-references-cited>\n");
    for (int i = 0; i < p->ncites; i++) {
        sp_buf_printf(b, "<us-citation>\n<patcit num=\"%05d\">\n<document-id>\n"
                         "<country>US</country>\n<doc-number>D%d</doc-number>\n<kind>S</kind>\n",
                      i + 1, p->cites[i].number);
        elem(b, "name", p->cites[i].name);
        sp_buf_printf(b, "<date>%08d</date>\n</document-id>\n</patcit>\n"
                         "<category>cited by examiner</category>\n",
                      p->cites[i].date);
        national(b, f->us_class, v->us_sub);
        put(b, "</us-citation>\n");
    }
    sp_buf_printf(b, "</us-references-cited>\n<number-of-claims>1</number-of-claims>\n"
                     "<us-exemplary-claim>1</us-exemplary-claim>\n"
                     "<us-field-of-classification-search>\n");
    national(b, f->us_class, v->us_sub);
    sp_buf_printf(b, "</us-field-of-classification-search>\n<figures>\n"
                     "<number-of-drawing-sheets>%d</number-of-drawing-sheets>\n"
                     "<number-of-figures>%d</number-of-figures>\n</figures>\n",
                  p->nviews, p->nviews);
}

static void parties(sp_buf *b, const sample_patent *p)
{
    put(b, "<us-parties>\n<us-applicants>\n");
    if (p->org_applicant) {
        put(b, "<us-applicant sequence=\"001\" app-type=\"applicant\" designation=\"us-only\" "
                      "applicant-authority-category=\"assignee\">\n<addressbook>\n");
        elem(b, "orgname", p->org);
        put(b, "<role>02</role>\n");
        address(b, &p->org_at);
        put(b, "</addressbook>\n<residence>\n");
        elem(b, "country", p->org_at.country);
        put(b, "</residence>\n</us-applicant>\n");
    } else {
        for (int i = 0; i < p->ninventors; i++) {
            sp_buf_printf(b, "<us-applicant sequence=\"%03d\" app-type=\"applicant\" "
                             "designation=\"us-only\" applicant-authority-category=\"inventor\">\n",
                          i + 1);
            person_book(b, &p->inventors[i]);
            put(b, "<residence>\n");
            elem(b, "country", p->inventors[i].at.country);
            put(b, "</residence>\n</us-applicant>\n");
        }
    }
    put(b, "</us-applicants>\n<inventors>\n");
    for (int i = 0; i < p->ninventors; i++) {
        sp_buf_printf(b, "<inventor sequence=\"%03d\" designation=\"us-only\">\n", i + 1);
        person_book(b, &p->inventors[i]);
        put(b, "</inventor>\n");
    }
    put(b, "</inventors>\n<agents>\n<agent sequence=\"01\" rep-type=\"attorney\">\n"
                  "<addressbook>\n");
    elem(b, "orgname", p->agent);
    put(b, "<address>\n<country>unknown</country>\n</address>\n</addressbook>\n"
                  "</agent>\n</agents>\n</us-parties>\n");
    if (p->org_applicant) {
        put(b, "<assignees>\n<assignee>\n<addressbook>\n");
        elem(b, "orgname", p->org);
        put(b, "<role>02</role>\n");
        address(b, &p->org_at);
        put(b, "</addressbook>\n</assignee>\n</assignees>\n");
    }
    put(b, "<examiners>\n<primary-examiner>\n");
    elem(b, "last-name", p->exam_last);
    elem(b, "first-name", p->exam_first);
    sp_buf_printf(b, "<department>%d</department>\n</primary-examiner>\n</examiners>\n"
                     "</us-bibliographic-data-grant>\n",
                  p->department);
}

static void drawings(sp_buf *b, const sample_patent *p, int w, int h)
{
    double wi = w * 25.4 / SAMPLE_DPI, he = h * 25.4 / SAMPLE_DPI;
    put(b, "<drawings id=\"DRAWINGS\">\n");
    for (int k = 1; k <= p->nviews; k++)
        sp_buf_printf(b, "<figure id=\"Fig-EMI-D%05d\" num=\"%05d\">\n"
                         "<img id=\"EMI-D%05d\" he=\"%.2fmm\" wi=\"%.2fmm\" "
                         "file=\"%s-D%05d.TIF\" alt=\"embedded image\" img-content=\"drawing\" "
                         "img-format=\"tif\"/>\n</figure>\n",
                      k, k, k, he, wi, p->stem, k);
    put(b, "</drawings>\n");
}

static void description(sp_buf *b, const sample_patent *p, const char *article)
{
    put(b, "<description id=\"description\">\n<?brief-description-of-drawings "
                  "description=\"Brief Description of Drawings\" end=\"lead\"?>\n"
                  "<description-of-drawings>\n");
    for (int k = 0; k < p->nviews; k++) {
        sp_buf_printf(b, "<p id=\"p-%04d\" num=\"%04d\"><figref idref=\"DRAWINGS\">FIG. %d</figref> "
                         "is %s",
                      k + 1, k + 1, k + 1, sp_view_phrase(p->views[k]));
        if (k == 0) {
            put(b, " of ");
            sp_buf_esc(b, article);
            sp_buf_printf(b, " showing %s new design", p->ninventors > 1 ? "our" : "my");
        } else {
            put(b, " thereof");
        }
        const char *end = k + 1 == p->nviews ? "." : k + 2 == p->nviews ? "; and," : ";";
        sp_buf_printf(b, "%s</p>\n", end);
    }
    put(b, "</description-of-drawings>\n<?brief-description-of-drawings "
                  "description=\"Brief Description of Drawings\" end=\"tail\"?>\n</description>\n");
}

int sp_xml(const sample_patent *p, int w, int h, sp_buf *out, ds_err *err)
{
    const char *version, *dtd;
    char article[160];
    dtd_of(p->date, &version, &dtd);
    sp_article(sample_families[p->family].variants[p->variant].title, article, sizeof article);
    sp_buf_printf(out,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<!DOCTYPE us-patent-grant SYSTEM \"%s\" [ ]>\n"
                  "<us-patent-grant lang=\"EN\" dtd-version=\"%s\" file=\"%s.XML\" "
                  "status=\"PRODUCTION\" id=\"us-patent-grant\" country=\"US\" "
                  "date-produced=\"%08d\" date-publ=\"%08d\">\n",
                  dtd, version, p->stem, p->produced, p->date);
    biblio_head(out, p);
    parties(out, p);
    drawings(out, p, w, h);
    description(out, p, article);
    put(out, "<us-claim-statement>CLAIM</us-claim-statement>\n<claims id=\"claims\">\n"
                    "<claim id=\"CLM-00001\" num=\"00001\">\n<claim-text>The ornamental design for ");
    sp_buf_esc(out, article);
    put(out, ", as shown and described.</claim-text>\n</claim>\n</claims>\n"
                    "</us-patent-grant>\n");
    if (out->oom)
        return ds_fail(err, DS_ENOMEM, "sample: out of memory writing the XML of %s", p->doc);
    return 0;
}
