/* test_uspto.c - the uspto suite: the grant XML parser on the real USPTO
 * samples in ../shared/data/uspto-samples (every field, read from the files
 * by hand), on a PATDOC fixture, on hostile input (XXE, billion laughs,
 * depth, size), and the `dinoseek uspto parse` command. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "../suites.h"
#include "uspto/uspto.h"

#define PATDOC_FIXTURE "tests/fixtures/uspto/patdoc_design.xml"

/* ---- collecting what us_parse_buffer reports ------------------------------- */

typedef struct doc_rec {
    json_t *j;          /* the grant as JSON, NULL when it failed */
    ds_code code;
    char msg[1024];
    char root[64];
    size_t offset;
} doc_rec;

typedef struct docs {
    doc_rec d[64];
    int n, total, stop_at; /* stop_at: return 1 at that index (-1 never) */
} docs;

/* Checks made on the C struct itself, for every grant seen. */
static void check_struct(const us_grant *g)
{
    CHECK(g->n_figures >= 0 && (g->n_figures == 0 || g->figures));
    for (int i = 0; i < g->n_figures; i++)
        CHECK(g->figures[i] && g->figures[i][0]);
    CHECK(g->format != NULL);
}

static int collect(void *ctx, const us_doc *d)
{
    docs *all = ctx;
    CHECK(d->index == all->n && d->total > 0);
    all->total = d->total;
    if (all->n == 64)
        return 1;
    doc_rec *r = &all->d[all->n++];
    memset(r, 0, sizeof *r);
    r->offset = d->offset;
    if (d->root)
        snprintf(r->root, sizeof r->root, "%s", d->root);
    CHECK((d->grant == NULL) != (d->error == NULL));
    if (d->grant) {
        check_struct(d->grant);
        r->j = us_grant_json(d->grant, NULL);
        CHECK(r->j != NULL);
    } else {
        r->code = d->error->code;
        snprintf(r->msg, sizeof r->msg, "%s", d->error->msg);
    }
    return d->index == all->stop_at;
}

static void docs_free(docs *all)
{
    for (int i = 0; i < all->n; i++)
        json_decref(all->d[i].j);
    all->n = 0;
}

static int parse_buf(const char *buf, size_t len, docs *all, ds_err *err)
{
    memset(all, 0, sizeof *all);
    all->stop_at = -1;
    return us_parse_buffer(buf, len, collect, all, err);
}

/* Parse a file; returns the document count, -1 on a parse error, -2 when
 * the file cannot be read. */
static int parse_path(const char *path, docs *all)
{
    size_t n;
    char *buf = ds_test_read_file(path, &n);
    if (!buf)
        return -2;
    ds_err err = {0};
    int count = parse_buf(buf, n, all, &err);
    CHECKF(count >= 0, "%s: %s", path, err.msg);
    free(buf);
    return count;
}

/* A file of the shared samples, or NULL (the test then skips). */
static const char *sample(const char *name)
{
    static char path[4096];
    const char *shared = ds_test_shared_dir();
    if (!shared)
        return NULL;
    snprintf(path, sizeof path, "%s/data/uspto-samples/%s", shared, name);
    return access(path, R_OK) == 0 ? path : NULL;
}

#define SAMPLE_OR_SKIP(var, name)                                                             \
    const char *var = sample(name);                                                           \
    if (!var)                                                                                 \
    SKIP("../shared/data/uspto-samples/%s is not here (set DINOSEEK_SHARED)", name)

/* ---- expected grants --------------------------------------------------------- */

typedef struct want {
    const char *patent_id, *kind, *type, *title, *loc_class, *loc_edition, *pub_date,
        *filing_date;
    int grant_term; /* 0: null */
    const char *applicant_name, *applicant_country, *inventor_names, *assignee_name;
    const char *claim_start; /* NULL: claim_text is null */
    int n_figures;
    const char *first_figure, *last_figure;
} want;

static const char *field(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = s ? strlen(s) : 0, k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

static void check_key(json_t *j, const char *key, const char *want_value, const char *id)
{
    json_t *v = json_object_get(j, key);
    const char *got = json_string_value(v);
    if (!want_value)
        CHECKF(json_is_null(v), "%s %s: got \"%s\", want null", id, key, got ? got : "?");
    else
        CHECKF(got && strcmp(got, want_value) == 0, "%s %s: got \"%s\", want \"%s\"", id, key,
               got ? got : "(null)", want_value);
}

static void check_grant(json_t *j, const want *w)
{
    CHECK(j != NULL);
    if (!j)
        return;
    const char *id = w->patent_id;
    check_key(j, "patent_id", w->patent_id, id);
    check_key(j, "kind", w->kind, id);
    check_key(j, "type", w->type, id);
    check_key(j, "title", w->title, id);
    check_key(j, "loc_class", w->loc_class, id);
    check_key(j, "loc_edition", w->loc_edition, id);
    check_key(j, "pub_date", w->pub_date, id);
    check_key(j, "filing_date", w->filing_date, id);
    json_t *term = json_object_get(j, "grant_term");
    if (w->grant_term)
        CHECKF(json_integer_value(term) == w->grant_term, "%s grant_term %lld", id,
               (long long)json_integer_value(term));
    else
        CHECKF(json_is_null(term), "%s grant_term should be null", id);
    check_key(j, "applicant_name", w->applicant_name, id);
    check_key(j, "applicant_country", w->applicant_country, id);
    check_key(j, "inventor_names", w->inventor_names, id);
    check_key(j, "assignee_name", w->assignee_name, id);
    const char *claim = field(j, "claim_text");
    if (w->claim_start)
        CHECKF(claim && strncmp(claim, w->claim_start, strlen(w->claim_start)) == 0,
               "%s claim_text \"%.120s\"", id, claim ? claim : "(null)");
    else
        CHECKF(json_is_null(json_object_get(j, "claim_text")), "%s claim_text not null", id);
    json_t *figs = json_object_get(j, "figures");
    CHECKF(json_integer_value(json_object_get(j, "image_count")) == w->n_figures &&
               (int)json_array_size(figs) == w->n_figures,
           "%s: %zu figures, want %d", id, json_array_size(figs), w->n_figures);
    if (w->n_figures && json_array_size(figs) == (size_t)w->n_figures) {
        const char *first = json_string_value(json_array_get(figs, 0));
        const char *last = json_string_value(json_array_get(figs, (size_t)w->n_figures - 1));
        CHECKF(first && strcmp(first, w->first_figure) == 0, "%s first figure %s", id, first);
        CHECKF(last && strcmp(last, w->last_figure) == 0, "%s last figure %s", id, last);
    }
}

/* ---- the real samples -------------------------------------------------------- */

static void test_v44_design(void)
{
    SAMPLE_OR_SKIP(path, "ipgD0701016.xml");
    docs all;
    CHECK(parse_path(path, &all) == 1);
    want w = {"D0701016", "S1", "design", "Cheese in form of a triangular pyramid", "01-01",
              "10", "2014-03-18", "2012-02-29", 14, "Ludwig Rupp", "AT", "Ludwig Rupp",
              "Rupp AG",
              "The ornamental design for cheese in form of a triangular pyramid, as shown and "
              "described.",
              5, "USD0701016-20140318-D00000.TIF", "USD0701016-20140318-D00004.TIF"};
    check_grant(all.d[0].j, &w);
    CHECK(strcmp(all.d[0].root, "us-patent-grant") == 0);
    /* the claim is exactly the one claim, nothing after it */
    CHECK(ends_with(field(all.d[0].j, "claim_text"), "pyramid, as shown and described."));
    /* the format, from the struct (JSON does not carry it) */
    size_t n;
    char *buf = ds_test_read_file(path, &n);
    us_grant g;
    ds_err err = {0};
    CHECK(buf && us_parse_doc(buf, n, &g, &err) == 0);
    CHECKF(g.format && strcmp(g.format, "us-patent-grant v4.4") == 0, "%s", g.format);
    CHECK(g.type == US_DESIGN && g.grant_term == 14 && g.n_figures == 5);
    us_grant_clear(&g);
    CHECK(g.patent_id == NULL && g.figures == NULL && g.n_figures == 0);
    us_grant_clear(&g); /* twice is harmless */
    free(buf);
    docs_free(&all);
}

static void test_v42_design(void)
{
    SAMPLE_OR_SKIP(path, "2011_1.xml");
    docs all;
    CHECK(parse_path(path, &all) == 1);
    /* v4.2: the inventor is an applicant of app-type applicant-inventor, no
     * assignee, address and residence both US */
    want w = {"D0631636", "S1", "design", "Animal chew", "01-01", "9", "2011-02-01",
              "2010-03-10", 14, "Frank Jay Hague", "US", "Frank Jay Hague", NULL,
              "The ornamental design for an animal chew, as shown and described.", 3,
              "USD0631636-20110201-D00000.TIF", "USD0631636-20110201-D00002.TIF"};
    check_grant(all.d[0].j, &w);
    docs_free(&all);
}

static void test_two_designs(void)
{
    SAMPLE_OR_SKIP(path, "ipg120327.two.xml");
    docs all;
    CHECK(parse_path(path, &all) == 2 && all.n == 2);
    want w0 = {"D0656308", "S1", "design", "Replaceable cartridge for a pain management system",
               "03-01", "9", "2012-03-27", "2010-11-18", 14, "Kin-Joe Sham", "US",
               "Kin-Joe Sham", "OrthoCor Medical, Inc.",
               "The ornamental design for the replaceable cartridge for a pain management "
               "system, as shown and described.",
               9, "USD0656308-20120327-D00000.TIF", "USD0656308-20120327-D00008.TIF"};
    want w1 = {"D0656309", "S1", "design",
               "Universal remote control accessory for a mobile device", "03-01", "9",
               "2012-03-27", "2011-05-03", 14, "Oliver Renelt", "DE",
               "Oliver Renelt, Alexander Gruber", "Zero1.tv GmbH",
               "The ornamental design for a universal remote control accessory for a mobile "
               "device, as shown and described.",
               4, "USD0656309-20120327-D00000.TIF", "USD0656309-20120327-D00003.TIF"};
    check_grant(all.d[0].j, &w0);
    check_grant(all.d[1].j, &w1);
    CHECK(all.d[0].offset == 0 && all.d[1].offset > 10000);
    docs_free(&all);
}

static void test_v43_weekly(void)
{
    SAMPLE_OR_SKIP(path, "ipg130416.small.xml");
    docs all;
    CHECK(parse_path(path, &all) == 27 && all.n == 27);
    int design = 0, utility = 0, sequences = 0;
    for (int i = 0; i < all.n; i++) {
        const char *type = all.d[i].j ? field(all.d[i].j, "type") : NULL;
        if (type && strcmp(type, "design") == 0)
            design++;
        else if (type && strcmp(type, "utility") == 0)
            utility++;
        else if (!all.d[i].j && strcmp(all.d[i].root, "sequence-cwu") == 0 &&
                 all.d[i].code == DS_EUNSUPPORTED)
            sequences++;
        else
            CHECKF(0, "document %d: %s", i, all.d[i].msg);
    }
    CHECKF(design == 2 && utility == 23 && sequences == 2, "%d design, %d utility, %d seq",
           design, utility, sequences);
    CHECK(!all.d[12].j && !all.d[14].j && strstr(all.d[12].msg, "sequence-cwu"));
    want w0 = {"D0680087", "S1", "design", "Television set", "14-03", "9", "2013-04-16",
               "2012-01-03", 14, "Yoshito Fujii", "JP",
               "Yoshito Fujii, Katsuhiro Iida, Tohru Ohtani, Hiroshi Gomi",
               "Sharp Kabushiki Kaisha",
               "The ornamental design for \u201ctelevision set,\u201d as shown and described.", 6,
               "USD0680087-20130416-D00000.TIF", "USD0680087-20130416-D00005.TIF"};
    want w1 = {"D0680199", "S1", "design", "Faucet spout", "23-01", "9", "2013-04-16",
               "2012-03-15", 14, "Celine Kwok", "US", "Celine Kwok",
               "Masco Corporation of Indiana",
               "The ornamental design for a faucet spout, as shown and described.", 2,
               "USD0680199-20130416-D00000.TIF", "USD0680199-20130416-D00001.TIF"};
    check_grant(all.d[0].j, &w0);
    check_grant(all.d[1].j, &w1);
    /* a utility grant in the same file: recognised, its numbers read */
    CHECK(all.d[2].j && strcmp(field(all.d[2].j, "patent_id"), "08418361") == 0 &&
          json_integer_value(json_object_get(all.d[2].j, "image_count")) == 10);
    CHECK(all.d[19].j && json_integer_value(json_object_get(all.d[19].j, "image_count")) == 0);
    docs_free(&all);
}

static void test_v45_utility(void)
{
    SAMPLE_OR_SKIP(path, "US08930553.xml");
    docs all;
    CHECK(parse_path(path, &all) == 1);
    /* no length-of-grant (only a term extension), no Locarno class; the
     * applicant is the assignee company; claims nest claim-text */
    want w = {"08930553", "B2", "utility",
              "Managing mid-dialog session initiation protocol (SIP) messages", NULL, NULL,
              "2015-01-06", "2012-10-09", 0, "International Business Machines Corporation",
              "US", "Nitzan Nissim, Brian Pulito, Asaf Zinger",
              "International Business Machines Corporation",
              "1. A system for processing mid-dialog SIP messages, the system comprising: an "
              "incoming message hardware processor configured to receive a mid-dialog SIP "
              "message from a SIP user agent client; and an unknown message hardware processor "
              "configured to create a new SIP session,",
              6, "US08930553-20150106-D00000.TIF", "US08930553-20150106-D00005.TIF"};
    check_grant(all.d[0].j, &w);
    const char *claim = field(all.d[0].j, "claim_text");
    CHECK(claim && strstr(claim, "will accept the mid-dialog SIP message. 2. The system "
                                 "according to claim 1 wherein the unknown"));
    CHECK(claim && strstr(claim, " 8. ") && !strstr(claim, "  ") && !strchr(claim, '\n'));
    CHECK(ends_with(claim, "to the application the mid-dialog SIP message in the context of "
                           "the new SIP session."));
    docs_free(&all);
}

static void test_v47_zip(void)
{
    SAMPLE_OR_SKIP(zip, "ipgb20221025_wk43.zip");
    char cmd[12000], xml[600];
    snprintf(cmd, sizeof cmd,
             "unzip -o -q '%s' ipgb20221025.xml -d '%s' || python3 -c 'import zipfile,sys; "
             "zipfile.ZipFile(sys.argv[1]).extract(\"ipgb20221025.xml\", sys.argv[2])' '%s' '%s'",
             zip, ds_test_tmpdir, zip, ds_test_tmpdir);
    CHECK(ds_test_run(cmd, NULL, NULL) == 0);
    snprintf(xml, sizeof xml, "%s/ipgb20221025.xml", ds_test_tmpdir);
    docs all;
    CHECK(parse_path(xml, &all) == 11 && all.n == 11);
    const char *types[] = {"utility", "design", "design", "plant", "reissue", "reissue",
                           "reissue", "utility", "utility", "utility", "utility"};
    for (int i = 0; i < all.n && i < 11; i++)
        CHECKF(all.d[i].j && strcmp(field(all.d[i].j, "type"), types[i]) == 0, "doc %d: %s", i,
               all.d[i].j ? field(all.d[i].j, "type") : all.d[i].msg);
    /* the bibliographic file has no drawings and no claims */
    want w = {"D0967598", "S1", "design", "Home plate shaped waffle", "01-01", "13",
              "2022-10-25", "2018-12-21", 15, "Justin A Mark", "US", "Justin A Mark", NULL,
              NULL, 0, NULL, NULL};
    check_grant(all.d[1].j, &w);
    check_grant(all.d[2].j, &w); /* the file carries it twice */
    /* the plant title has inline <i> and character references */
    CHECK(all.d[3].j && strcmp(field(all.d[3].j, "title"),
                               "Portulaca plant named \u2018DPORMPZPUP\u2019") == 0);
    CHECK(all.d[3].j && strcmp(field(all.d[3].j, "patent_id"), "PP034694") == 0 &&
          strcmp(field(all.d[3].j, "kind"), "P2") == 0);
    CHECK(all.d[4].j && strcmp(field(all.d[4].j, "patent_id"), "RE049257") == 0);
    docs_free(&all);
}

/* LF -> CRLF (a copy; caller frees). */
static char *to_crlf(const char *s, size_t n, size_t *out_n)
{
    char *out = malloc(2 * n + 1);
    size_t k = 0;
    for (size_t i = 0; out && i < n; i++) {
        if (s[i] == '\n')
            out[k++] = '\r';
        out[k++] = s[i];
    }
    *out_n = k;
    return out;
}

/* The same file with LF and with CRLF endings gives equal grants. */
static void same_with_crlf(const char *path, int want_docs)
{
    size_t n, crn;
    char *lf = ds_test_read_file(path, &n);
    char *crlf = lf ? to_crlf(lf, n, &crn) : NULL;
    CHECK(crlf != NULL);
    if (!crlf) {
        free(lf);
        return;
    }
    CHECK(memchr(crlf, '\r', crn) != NULL);
    docs a, b;
    ds_err err = {0};
    CHECK(parse_buf(lf, n, &a, &err) == want_docs);
    CHECKF(parse_buf(crlf, crn, &b, &err) == want_docs, "%s", err.msg);
    for (int i = 0; i < a.n && i < b.n; i++)
        CHECKF(a.d[i].j && b.d[i].j && json_equal(a.d[i].j, b.d[i].j), "%s document %d", path,
               i);
    docs_free(&a);
    docs_free(&b);
    free(lf);
    free(crlf);
}

static void test_crlf(void)
{
    same_with_crlf(PATDOC_FIXTURE, 1);
    SAMPLE_OR_SKIP(path, "ipg120327.two.xml");
    same_with_crlf(path, 2);
}

/* ---- PATDOC -------------------------------------------------------------------- */

static void test_patdoc_fixture(void)
{
    docs all;
    CHECK(parse_path(PATDOC_FIXTURE, &all) == 1);
    CHECK(strcmp(all.d[0].root, "PATDOC") == 0);
    /* the first inventor's US address has a STATE and no CTRY; names carry
     * &uuml; (from the DTD never loaded); the title has HIL/ITALIC markup */
    want w = {"D0478211", "S1", "design", "Watering can with rose spout", "07-04", "7",
              "2003-08-12", "2002-07-16", 14, "Margaret A. Holloway", "US",
              "Margaret A. Holloway, J\u00fcrgen M\u00fcller", "Greenleaf Garden Products, Inc.",
              "The ornamental design for a watering can, as shown and described.", 4,
              "USD0478211-20030812-D00000.TIF", "USD0478211-20030812-D00003.TIF"};
    check_grant(all.d[0].j, &w);
    size_t n;
    char *buf = ds_test_read_file(PATDOC_FIXTURE, &n);
    us_grant g;
    ds_err err = {0};
    CHECK(buf && us_parse_doc(buf, n, &g, &err) == 0);
    CHECKF(g.format && strcmp(g.format, "PATDOC v2.5") == 0, "%s", g.format);
    us_grant_clear(&g);
    free(buf);
    docs_free(&all);
}

static void test_patdoc_sgml(void)
{
    /* DTD 2.4 (2001) is SGML: <CITED-BY-EXAMINER> is never closed */
    const char *sgml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<PATDOC DTD=\"2.4\" STATUS=\"BUILD 20010518\">\n<SDOBI>\n<B100>\n"
        "<B110><DNUM><PDAT>D0400001</PDAT></DNUM></B110>\n<B130><PDAT>S</PDAT></B130>\n"
        "</B100>\n<B500><B560><B561><PCIT></PCIT><CITED-BY-EXAMINER>\n</B561></B560></B500>\n"
        "</SDOBI>\n</PATDOC>\n";
    us_grant g;
    ds_err err = {0};
    CHECK(us_parse_doc(sgml, strlen(sgml), &g, &err) == -1);
    CHECK(err.code == DS_EUNSUPPORTED);
    CHECK_MSG(err, "PATDOC v2.4 is SGML");
    CHECK_MSG(err, "line");
    /* a 2.4 document that is well-formed XML is read (kind "S": a design) */
    const char *xml = "<?xml version=\"1.0\"?>\n<PATDOC DTD=\"2.4\"><SDOBI><B100><B110><DNUM>"
                      "<PDAT>D0400002</PDAT></DNUM></B110><B130><PDAT>S</PDAT></B130></B100>"
                      "</SDOBI></PATDOC>\n";
    CHECKF(us_parse_doc(xml, strlen(xml), &g, &err) == 0, "%s", err.msg);
    CHECK(g.type == US_DESIGN && g.patent_id && strcmp(g.patent_id, "D0400002") == 0);
    CHECK(g.format && strcmp(g.format, "PATDOC v2.4") == 0);
    us_grant_clear(&g);
}

/* ---- hostile and broken input ------------------------------------------------- */

/* A small valid design grant, numbered id. Caller frees. */
static char *tiny_grant(const char *id, const char *title)
{
    const char *fmt =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE us-patent-grant SYSTEM \"us-patent-grant-v44-2013-05-16.dtd\" [ ]>\n"
        "<us-patent-grant lang=\"EN\" dtd-version=\"v4.4 2013-05-16\">\n"
        "<us-bibliographic-data-grant>\n<publication-reference><document-id>"
        "<country>US</country><doc-number>%s</doc-number><kind>S1</kind>"
        "<date>20140318</date></document-id></publication-reference>\n"
        "<invention-title id=\"t\">%s</invention-title>\n"
        "</us-bibliographic-data-grant>\n</us-patent-grant>\n";
    size_t n = strlen(fmt) + strlen(id) + strlen(title) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, fmt, id, title);
    return s;
}

static void test_malformed(void)
{
    char *good = tiny_grant("D0000002", "Lamp");
    const char *bad = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<us-patent-grant>\n<us-bibliographic-data-grant>\n"
                      "<invention-title>Chair</title>\n"
                      "</us-bibliographic-data-grant>\n</us-patent-grant>\n";
    size_t n = strlen(bad) + strlen(good) + 1;
    char *buf = malloc(n);
    snprintf(buf, n, "%s%s", bad, good);
    docs all;
    ds_err err = {0};
    CHECK(parse_buf(buf, strlen(buf), &all, &err) == 2);
    CHECK(all.d[0].j == NULL && all.d[0].code == DS_EFORMAT);
    CHECKF(strstr(all.d[0].msg, "line 4") && strstr(all.d[0].msg, "mismatch"), "%s",
           all.d[0].msg);
    CHECK(all.d[1].j && strcmp(field(all.d[1].j, "title"), "Lamp") == 0);
    CHECK(all.d[1].offset == strlen(bad));
    docs_free(&all);
    /* the callback can stop the run */
    memset(&all, 0, sizeof all);
    all.stop_at = 0;
    CHECK(us_parse_buffer(buf, strlen(buf), collect, &all, &err) == -1 && all.n == 1);
    CHECK_MSG(err, "stopped");
    docs_free(&all);
    /* a grant without a number */
    const char *nonum = "<?xml version=\"1.0\"?>\n<us-patent-grant><us-bibliographic-data-grant>"
                        "<invention-title>X</invention-title></us-bibliographic-data-grant>"
                        "</us-patent-grant>";
    us_grant g;
    CHECK(us_parse_doc(nonum, strlen(nonum), &g, &err) == -1 && err.code == DS_EFORMAT);
    CHECK_MSG(err, "doc-number");
    /* truncated, empty, and not XML */
    CHECK(us_parse_doc(good, strlen(good) / 2, &g, &err) == -1 && err.code == DS_EFORMAT);
    CHECK(us_parse_doc("", 0, &g, &err) == -1 && err.code == DS_EFORMAT);
    CHECK(us_parse_doc("PK\3\4", 4, &g, &err) == -1);
    CHECK_MSG(err, "not XML");
    /* UTF-16 is refused, whatever it declares */
    const char *u16 = "\xff\xfe<\0?\0x\0m\0l\0";
    CHECK(us_parse_doc(u16, 12, &g, &err) == -1);
    const char *utf7 = "<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n<us-patent-grant/>";
    CHECK(us_parse_doc(utf7, strlen(utf7), &g, &err) == -1 && err.code == DS_EUNSUPPORTED);
    CHECK_MSG(err, "UTF-7");
    /* messages quote the document, yet stay UTF-8 (they may go into JSON) */
    const char *latin = "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY caf\xe9\x01 \"x\">]>"
                        "<x/>";
    CHECK(us_parse_doc(latin, strlen(latin), &g, &err) == -1 && err.code == DS_EFORMAT);
    CHECK_MSG(err, "entity 'caf?" "?'"); /* split: no trigraph */
    json_t *js = json_string(err.msg);
    CHECK(js != NULL);
    json_decref(js);
    free(buf);
    free(good);
}

/* Whether the inotify descriptor saw anything (the watched file opened). */
static int file_touched(int fd)
{
    char ev[4096];
    ssize_t n = read(fd, ev, sizeof ev);
    return n > 0;
}

static void test_xxe(void)
{
    const char *marker = "SECRET-MARKER-c81f2";
    char secret[600];
    snprintf(secret, sizeof secret, "%s/secret.txt", ds_test_tmpdir);
    CHECK(ds_test_write_file(secret, marker, strlen(marker)) == 0);
    int ino = inotify_init1(IN_NONBLOCK);
    CHECK(ino >= 0 && inotify_add_watch(ino, secret, IN_OPEN | IN_ACCESS) >= 0);
    const char *attacks[] = {
        /* external general entity */
        "<!DOCTYPE us-patent-grant [<!ENTITY xxe SYSTEM \"file://%s\">]>\n"
        "<us-patent-grant><us-bibliographic-data-grant><publication-reference><document-id>"
        "<doc-number>D1</doc-number></document-id></publication-reference>"
        "<invention-title>a &xxe; b</invention-title></us-bibliographic-data-grant>"
        "</us-patent-grant>\n",
        /* external parameter entity */
        "<!DOCTYPE us-patent-grant [<!ENTITY %% p SYSTEM \"file://%s\"> %%p;]>\n"
        "<us-patent-grant/>\n",
        /* PUBLIC external entity, single quotes */
        "<!DOCTYPE us-patent-grant [ <!ENTITY xxe PUBLIC '-//x//y' 'file://%s' > ]>\n"
        "<us-patent-grant>&xxe;</us-patent-grant>\n",
    };
    const char *allowed[] = {
        /* the DTD itself named as the secret: never loaded */
        "<!DOCTYPE us-patent-grant SYSTEM \"file://%s\" [ ]>\n"
        "<us-patent-grant><us-bibliographic-data-grant><publication-reference><document-id>"
        "<doc-number>D2</doc-number></document-id></publication-reference>"
        "<invention-title>a &xxe; b</invention-title></us-bibliographic-data-grant>"
        "</us-patent-grant>\n",
        /* an unparsed (NDATA) entity, as PATDOC declares its drawings: nothing
         * expands it, and a reference to it gives nothing */
        "<!DOCTYPE us-patent-grant SYSTEM \"x.dtd\" [\n"
        "<!ENTITY pic SYSTEM \"file://%s\" NDATA TIF>\n]>\n"
        "<us-patent-grant><us-bibliographic-data-grant><publication-reference><document-id>"
        "<doc-number>D3</doc-number></document-id></publication-reference>"
        "<invention-title>a &pic; b</invention-title></us-bibliographic-data-grant>"
        "</us-patent-grant>\n",
        /* XInclude: never processed */
        "<us-patent-grant><us-bibliographic-data-grant><publication-reference><document-id>"
        "<doc-number>D4</doc-number></document-id></publication-reference>"
        "<invention-title>a <xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
        "href=\"file://%s\" parse=\"text\"/> b</invention-title>"
        "</us-bibliographic-data-grant></us-patent-grant>\n",
    };
    char doc[2048], all_out[16384] = "";
    for (int i = 0; i < 3; i++) {
        snprintf(doc, sizeof doc, attacks[i], secret);
        us_grant g;
        ds_err err = {0};
        CHECKF(us_parse_doc(doc, strlen(doc), &g, &err) == -1 && err.code == DS_EFORMAT,
               "attack %d parsed", i);
        CHECKF(strstr(err.msg, "entity") && strstr(err.msg, "refused"), "%s", err.msg);
        strncat(all_out, err.msg, sizeof all_out - strlen(all_out) - 1);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(doc, sizeof doc, allowed[i], secret);
        us_grant g;
        ds_err err = {0};
        CHECKF(us_parse_doc(doc, strlen(doc), &g, &err) == 0, "%d: %s", i, err.msg);
        CHECKF(g.title && strcmp(g.title, "a b") == 0, "%d: title %s", i, g.title);
        json_t *j = us_grant_json(&g, NULL);
        char *text = j ? json_dumps(j, 0) : NULL;
        if (text)
            strncat(all_out, text, sizeof all_out - strlen(all_out) - 1);
        free(text);
        json_decref(j);
        us_grant_clear(&g);
    }
    CHECK(strstr(all_out, marker) == NULL);
    /* the command, on all of them in one file */
    char path[700], cmd[1600], *out = NULL, *err = NULL;
    snprintf(path, sizeof path, "%s/xxe.xml", ds_test_tmpdir);
    FILE *f = fopen(path, "w");
    for (int i = 0; f && i < 6; i++) {
        fprintf(f, "<?xml version=\"1.0\"?>\n");
        fprintf(f, i < 3 ? attacks[i] : allowed[i - 3], secret);
    }
    CHECK(f && fclose(f) == 0);
    snprintf(cmd, sizeof cmd, "%s uspto parse --all '%s'", ds_test_bin(), path);
    CHECK(ds_test_run(cmd, &out, &err) == 1);
    CHECKF(out && err && !strstr(out, marker) && !strstr(err, marker), "%s%s", out, err);
    CHECKF(err && strstr(err, "6 documents, 0 design, 0 skipped, 3 failed"), "%s", err);
    free(out);
    free(err);
    CHECK(!file_touched(ino));
    /* and the watch does see an open: the check above can fail */
    size_t n;
    free(ds_test_read_file(secret, &n));
    CHECK(file_touched(ino));
    close(ino);
}

static void test_billion_laughs(void)
{
    char doc[4096];
    int k = snprintf(doc, sizeof doc, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
                                      "<!ENTITY lol \"lol\">\n");
    for (int i = 1; i <= 9; i++)
        k += snprintf(doc + k, sizeof doc - (size_t)k,
                      "<!ENTITY lol%d \"&lol%.0d;&lol%.0d;&lol%.0d;&lol%.0d;&lol%.0d;&lol%.0d;"
                      "&lol%.0d;&lol%.0d;&lol%.0d;&lol%.0d;\">\n",
                      i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    snprintf(doc + k, sizeof doc - (size_t)k, "]>\n<us-patent-grant>&lol9;</us-patent-grant>\n");
    CHECK(strstr(doc, "&lol8;&lol8;") && strstr(doc, "\"&lol;&lol;"));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    docs all;
    ds_err err = {0};
    CHECK(parse_buf(doc, strlen(doc), &all, &err) == 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    CHECKF(s < 0.5, "took %.3f s", s);
    CHECK(all.d[0].j == NULL && all.d[0].code == DS_EFORMAT);
    CHECKF(strstr(all.d[0].msg, "line 3") && strstr(all.d[0].msg, "entity 'lol'"), "%s",
           all.d[0].msg);
    docs_free(&all);
    /* quadratic blowup: one big entity used many times */
    const char *quad = "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaaaaaaaa\">]>"
                       "<x>&a;&a;&a;&a;</x>";
    us_grant g;
    CHECK(us_parse_doc(quad, strlen(quad), &g, &err) == -1 && err.code == DS_EFORMAT);
}

static void test_deep(void)
{
    int depth = 5000;
    size_t cap = (size_t)depth * 8 + 200;
    char *doc = malloc(cap);
    size_t k = (size_t)snprintf(doc, cap, "<?xml version=\"1.0\"?>\n<us-patent-grant>\n");
    for (int i = 0; i < depth; i++)
        k += (size_t)snprintf(doc + k, cap - k, "<a>");
    for (int i = 0; i < depth; i++)
        k += (size_t)snprintf(doc + k, cap - k, "</a>");
    snprintf(doc + k, cap - k, "</us-patent-grant>\n");
    us_grant g;
    ds_err err = {0};
    CHECK(us_parse_doc(doc, strlen(doc), &g, &err) == -1 && err.code == DS_EFORMAT);
    CHECKF(strstr(err.msg, "nested more than 200 deep") && strstr(err.msg, "line 3"), "%s",
           err.msg);
    /* US_MAX_DEPTH levels are fine (the root and 199 <a>), one more is not */
    k = (size_t)snprintf(doc, cap, "<?xml version=\"1.0\"?>\n<us-patent-grant>"
                                   "<us-bibliographic-data-grant><publication-reference>"
                                   "<document-id><doc-number>D5</doc-number></document-id>"
                                   "</publication-reference></us-bibliographic-data-grant>");
    for (int i = 0; i < US_MAX_DEPTH - 1; i++)
        k += (size_t)snprintf(doc + k, cap - k, "<a>");
    for (int i = 0; i < US_MAX_DEPTH - 1; i++)
        k += (size_t)snprintf(doc + k, cap - k, "</a>");
    snprintf(doc + k, cap - k, "</us-patent-grant>\n");
    CHECKF(us_parse_doc(doc, strlen(doc), &g, &err) == 0, "%s", err.msg);
    us_grant_clear(&g);
    char *inner = strstr(doc, "<a>");
    memmove(inner + 3, inner, strlen(inner) + 1);
    memcpy(inner, "<a>", 3);
    char *close = strstr(doc, "</us-patent-grant>");
    memmove(close + 4, close, strlen(close) + 1);
    memcpy(close, "</a>", 4);
    CHECK(us_parse_doc(doc, strlen(doc), &g, &err) == -1);
    CHECKF(strstr(err.msg, "nested more than 200 deep"), "%s", err.msg);
    free(doc);
}

static void test_too_big(void)
{
    char *good = tiny_grant("D0000003", "Vase");
    size_t big = (size_t)US_MAX_DOC_BYTES + 1, n = big + strlen(good);
    char *buf = malloc(n + 1);
    CHECK(buf && good);
    if (!buf || !good) {
        free(buf);
        free(good);
        return;
    }
    const char *head = "<?xml version=\"1.0\"?>\n<us-patent-grant>";
    memcpy(buf, head, strlen(head));
    memset(buf + strlen(head), ' ', big - strlen(head));
    memcpy(buf + big - 19, "</us-patent-grant>\n", 19);
    memcpy(buf + big, good, strlen(good) + 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    docs all;
    ds_err err = {0};
    CHECK(parse_buf(buf, n, &all, &err) == 2);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(t1.tv_sec - t0.tv_sec < 5);
    CHECK(all.d[0].j == NULL && all.d[0].code == DS_ETOOBIG);
    CHECKF(strstr(all.d[0].msg, "67108865 bytes"), "%s", all.d[0].msg);
    CHECK(all.d[1].j && strcmp(field(all.d[1].j, "patent_id"), "D0000003") == 0);
    docs_free(&all);
    free(buf);
    free(good);
}

static void test_other_roots(void)
{
    const char *docs_[] = {
        "<?xml version=\"1.0\"?>\n<html><body>x</body></html>\n",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE us-patent-application SYSTEM \"a.dtd\" [ ]>\n"
        "<us-patent-application><us-bibliographic-data-application/></us-patent-application>\n",
    };
    const char *roots[] = {"html", "us-patent-application"};
    for (int i = 0; i < 2; i++) {
        docs all;
        ds_err err = {0};
        CHECK(parse_buf(docs_[i], strlen(docs_[i]), &all, &err) == 1);
        CHECK(all.d[0].j == NULL && all.d[0].code == DS_EUNSUPPORTED);
        CHECK(strcmp(all.d[0].root, roots[i]) == 0);
        CHECKF(strstr(all.d[0].msg, roots[i]) && strstr(all.d[0].msg, "not a patent grant"),
               "%s", all.d[0].msg);
        docs_free(&all);
    }
}

static void test_undefined_entities(void)
{
    /* with the DTD named but not loaded, an unknown entity is left out and
     * the text around it kept; known names read as their character */
    char *doc = tiny_grant("D0000004", "Lamp&mdash;shade &unknownthing; base &amp; &#x201c;x&#x201d;");
    us_grant g;
    ds_err err = {0};
    CHECKF(us_parse_doc(doc, strlen(doc), &g, &err) == 0, "%s", err.msg);
    CHECKF(g.title && strcmp(g.title, "Lamp\u2014shade base & \u201cx\u201d") == 0, "%s",
           g.title);
    us_grant_clear(&g);
    free(doc);
    /* without a DTD, an undefined entity is an error (XML says so) */
    const char *bare = "<?xml version=\"1.0\"?>\n<us-patent-grant>\n&nope;</us-patent-grant>";
    CHECK(us_parse_doc(bare, strlen(bare), &g, &err) == -1 && err.code == DS_EFORMAT);
    CHECKF(strstr(err.msg, "line 3") && strstr(err.msg, "nope"), "%s", err.msg);
}

/* A v4.4 grant with the given kind, appl-type, pub date and Locarno class. */
static int grant_with(const char *kind, const char *appl, const char *date, const char *loc,
                      us_grant *g)
{
    char doc[2048];
    snprintf(doc, sizeof doc,
             "<?xml version=\"1.0\"?>\n<us-patent-grant dtd-version=\"v40 2004-12-02\">"
             "<us-bibliographic-data-grant><publication-reference><document-id>"
             "<doc-number>X1</doc-number><kind>%s</kind><date>%s</date></document-id>"
             "</publication-reference><application-reference appl-type=\"%s\"/>"
             "<classification-locarno><main-classification>%s</main-classification>"
             "</classification-locarno></us-bibliographic-data-grant></us-patent-grant>",
             kind, date, appl, loc);
    ds_err err = {0};
    int rc = us_parse_doc(doc, strlen(doc), g, &err);
    CHECKF(rc == 0, "%s", err.msg);
    return rc;
}

static void test_old_parties(void)
{
    /* v4.1: an organisation applicant first, an applicant-inventor, and an
     * inventors list with one more inventor (not an applicant) and the
     * applicant-inventor again; the assignee's orgname straight in it */
    const char *doc =
        "<?xml version=\"1.0\"?>\n<us-patent-grant dtd-version=\"v4.1 2005-08-25\">"
        "<us-bibliographic-data-grant><publication-reference><document-id>"
        "<doc-number>D0520001</doc-number><kind>S1</kind></document-id></publication-reference>"
        "<parties><applicants>"
        "<applicant sequence=\"001\" app-type=\"applicant\"><addressbook><orgname>Acme "
        "Corp</orgname><address><city>Toronto</city></address></addressbook>"
        "<residence><country>CA</country></residence></applicant>"
        "<applicant sequence=\"002\" app-type=\"applicant-inventor\"><addressbook>"
        "<last-name>Lee</last-name><first-name>Ann</first-name><address><country>omitted"
        "</country></address></addressbook></applicant></applicants>"
        "<inventors><inventor><addressbook><last-name>Ray</last-name><first-name>Bob"
        "</first-name></addressbook></inventor><inventor><addressbook><last-name>Lee"
        "</last-name><first-name>Ann</first-name></addressbook></inventor></inventors>"
        "</parties><assignees><assignee><orgname>Acme Holdings</orgname><role>03</role>"
        "</assignee></assignees></us-bibliographic-data-grant></us-patent-grant>";
    us_grant g;
    ds_err err = {0};
    CHECKF(us_parse_doc(doc, strlen(doc), &g, &err) == 0, "%s", err.msg);
    CHECKF(g.inventor_names && strcmp(g.inventor_names, "Ann Lee, Bob Ray") == 0, "%s",
           g.inventor_names);
    CHECK(g.applicant_name && strcmp(g.applicant_name, "Acme Corp") == 0);
    CHECK(g.applicant_country && strcmp(g.applicant_country, "CA") == 0);
    CHECK(g.assignee_name && strcmp(g.assignee_name, "Acme Holdings") == 0);
    CHECK(g.format && strcmp(g.format, "us-patent-grant v4.1") == 0);
    us_grant_clear(&g);
}

static void test_normalise(void)
{
    const char *loc[][2] = {{"0101", "01-01"}, {"1201", "12-01"}, {"12 01", "12-01"},
                            {"12-01", "12-01"}, {" 301 ", "03-01"}, {"2 5", "02-05"},
                            {"D 11", "D 11"},   {"123456", "123456"}};
    us_grant g;
    for (int i = 0; i < 8; i++) {
        if (grant_with("S1", "design", "20140318", loc[i][0], &g) == 0)
            CHECKF(g.loc_class && strcmp(g.loc_class, loc[i][1]) == 0, "%s -> %s", loc[i][0],
                   g.loc_class);
        us_grant_clear(&g);
    }
    const char *dates[][2] = {{"20140318", "2014-03-18"}, {"19840300", NULL},
                              {"2014031", NULL},          {"20141301", NULL},
                              {"20150229", NULL},         {"20160229", "2016-02-29"},
                              {"abcdefgh", NULL}};
    for (int i = 0; i < 7; i++) {
        if (grant_with("S1", "design", dates[i][0], "0101", &g) == 0)
            CHECKF(dates[i][1] ? g.pub_date && strcmp(g.pub_date, dates[i][1]) == 0
                               : g.pub_date == NULL,
                   "%s -> %s", dates[i][0], g.pub_date);
        us_grant_clear(&g);
    }
    const struct {
        const char *kind, *appl;
        us_type type;
    } types[] = {{"S1", "", US_DESIGN},      {"", "design", US_DESIGN},
                 {"B2", "utility", US_UTILITY}, {"B1", "", US_UTILITY},
                 {"A", "", US_UTILITY},       {"P3", "plant", US_PLANT},
                 {"E1", "reissue", US_REISSUE}, {"E", "", US_REISSUE},
                 {"H1", "", US_OTHER},        {"I4", "", US_OTHER}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (grant_with(types[i].kind, types[i].appl, "20140318", "0101", &g) == 0)
            CHECKF(g.type == types[i].type, "%s/%s -> %s", types[i].kind, types[i].appl,
                   us_type_name(g.type));
        /* v4.0's "v40" reads as v4.0 */
        CHECK(g.format && strcmp(g.format, "us-patent-grant v4.0") == 0);
        us_grant_clear(&g);
    }
    CHECK(strcmp(us_type_name(US_REISSUE), "reissue") == 0);
    CHECK(strcmp(us_type_name((us_type)99), "other") == 0);
}

static void test_no_xml(void)
{
    docs all;
    ds_err err = {0};
    CHECK(parse_buf("", 0, &all, &err) == -1 && err.code == DS_EFORMAT);
    CHECK(parse_buf(NULL, 0, &all, &err) == -1);
    CHECK(parse_buf("  \n\r\n", 5, &all, &err) == -1);
    CHECK(parse_buf("hello, world", 12, &all, &err) == -1);
    CHECK_MSG(err, "no XML");
    /* no declaration but XML: one document */
    const char *bare = "\n<us-patent-grant/>\n";
    CHECK(parse_buf(bare, strlen(bare), &all, &err) == 1 && all.d[0].code == DS_EFORMAT);
    docs_free(&all);
    /* junk before the first declaration is reported as a document */
    char *good = tiny_grant("D0000005", "Cup");
    char buf[4096];
    snprintf(buf, sizeof buf, "garbage\n%s\xEF\xBB\xBF%s", good, good);
    CHECK(parse_buf(buf, strlen(buf), &all, &err) == 3);
    CHECK(all.d[0].j == NULL && all.d[1].j && all.d[2].j);
    CHECK(all.d[2].offset == 8 + strlen(good));
    docs_free(&all);
    /* a BOM before the first declaration stays with it */
    snprintf(buf, sizeof buf, "\xEF\xBB\xBF%s%s", good, good);
    CHECK(parse_buf(buf, strlen(buf), &all, &err) == 2 && all.d[0].j && all.d[1].j);
    CHECK(all.d[0].offset == 0);
    docs_free(&all);
    /* <?xml-stylesheet at a line start is no new document */
    const char *nl = strchr(good, '\n');
    snprintf(buf, sizeof buf, "%.*s<?xml-stylesheet href=\"a.xsl\"?>\n%s", (int)(nl - good + 1),
             good, nl + 1);
    CHECK(parse_buf(buf, strlen(buf), &all, &err) == 1 && all.d[0].j);
    docs_free(&all);
    free(good);
}

static void test_json(void)
{
    us_grant g = {0};
    json_t *j = us_grant_json(&g, NULL);
    const char *keys[] = {"patent_id", "kind", "type", "title", "loc_class", "loc_edition",
                          "pub_date", "filing_date", "grant_term", "applicant_name",
                          "applicant_country", "inventor_names", "assignee_name", "claim_text",
                          "image_count", "figures"};
    CHECK(j && json_object_size(j) == 16);
    for (int i = 0; j && i < 16; i++)
        CHECKF(json_object_get(j, keys[i]), "no %s", keys[i]);
    CHECK(j && json_is_null(json_object_get(j, "title")) &&
          json_is_null(json_object_get(j, "grant_term")) &&
          json_integer_value(json_object_get(j, "image_count")) == 0 &&
          json_array_size(json_object_get(j, "figures")) == 0 &&
          strcmp(field(j, "type"), "design") == 0 && !json_object_get(j, "source"));
    json_decref(j);
    char *figs[] = {"a.TIF", "b.TIF"};
    g = (us_grant){.type = US_PLANT, .patent_id = "PP1", .title = "Rose", .grant_term = 20,
                   .figures = figs, .n_figures = 2};
    j = us_grant_json(&g, "week.xml#3");
    CHECK(j && strcmp(field(j, "source"), "week.xml#3") == 0 &&
          strcmp(field(j, "type"), "plant") == 0 &&
          json_integer_value(json_object_get(j, "grant_term")) == 20 &&
          json_integer_value(json_object_get(j, "image_count")) == 2 &&
          strcmp(json_string_value(json_array_get(json_object_get(j, "figures"), 1)), "b.TIF") ==
              0);
    json_decref(j);
    /* a source name that is not UTF-8 still gives JSON */
    j = us_grant_json(&g, "caf\xe9.xml");
    CHECK(j && strcmp(field(j, "source"), "caf?.xml") == 0);
    json_decref(j);
}

/* ---- threads --------------------------------------------------------------------- */

typedef struct thread_job {
    const char *buf;
    size_t len;
    const char *want; /* the JSON of the first grant */
    int bad;
} thread_job;

static void *parse_many(void *arg)
{
    thread_job *job = arg;
    for (int i = 0; i < 30; i++) {
        us_grant g;
        ds_err err = {0};
        if (us_parse_doc(job->buf, job->len, &g, &err) != 0) {
            job->bad++;
            continue;
        }
        json_t *j = us_grant_json(&g, NULL);
        char *text = j ? json_dumps(j, JSON_SORT_KEYS) : NULL;
        job->bad += !text || strcmp(text, job->want) != 0;
        free(text);
        json_decref(j);
        us_grant_clear(&g);
    }
    return NULL;
}

static void test_threads(void)
{
    size_t n;
    char *buf = ds_test_read_file(PATDOC_FIXTURE, &n);
    us_grant g;
    ds_err err = {0};
    CHECK(buf && us_parse_doc(buf, n, &g, &err) == 0);
    if (!buf)
        return;
    json_t *j = us_grant_json(&g, NULL);
    char *expect = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    us_grant_clear(&g);
    pthread_t th[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){buf, n, expect, 0};
        CHECK(pthread_create(&th[i], NULL, parse_many, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECKF(jobs[i].bad == 0, "thread %d: %d differed", i, jobs[i].bad);
    }
    free(expect);
    free(buf);
}

/* ---- the command --------------------------------------------------------------- */

static int run(const char *args, char **out, char **err)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s", ds_test_bin(), args);
    return ds_test_run(cmd, out, err);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static void test_command(void)
{
    char *out = NULL, *err = NULL, args[4096], bad[600];
    CHECK(run("uspto --help", &out, &err) == 0 && strstr(out, "usage: dinoseek uspto parse"));
    free(out), free(err);
    CHECK(run("uspto parse --help", &out, &err) == 0 && strstr(out, "--all"));
    free(out), free(err);
    CHECK(run("uspto parse", &out, &err) == 2 && strstr(err, "at least one file"));
    free(out), free(err);
    CHECK(run("uspto", &out, &err) == 2 && strstr(err, "usage"));
    free(out), free(err);
    CHECK(run("uspto frob x", &out, &err) == 2 && strstr(err, "unknown action 'frob'"));
    free(out), free(err);
    CHECK(run("uspto parse --frob " PATDOC_FIXTURE, &out, &err) == 2);
    free(out), free(err);
    /* one document: source is the file name alone */
    CHECK(run("uspto parse " PATDOC_FIXTURE, &out, &err) == 0 && count_lines(out) == 1);
    json_error_t jerr;
    json_t *j = out ? json_loads(out, 0, &jerr) : NULL;
    CHECK(j && strcmp(field(j, "source"), PATDOC_FIXTURE) == 0 &&
          strcmp(field(j, "patent_id"), "D0478211") == 0);
    CHECKF(err && strstr(err, "1 documents, 1 design, 0 skipped, 0 failed"), "%s", err);
    json_decref(j);
    free(out), free(err);
    /* a bad document, then a good one, then a missing file */
    char *good = tiny_grant("D0000006", "Bowl");
    snprintf(bad, sizeof bad, "%s/bad.xml", ds_test_tmpdir);
    FILE *f = fopen(bad, "w");
    if (f) {
        fputs("<?xml version=\"1.0\"?>\n<us-patent-grant>\n<oops></us-patent-grant>\n", f);
        fputs(good, f);
        fclose(f);
    }
    snprintf(args, sizeof args, "uspto parse '%s' %s/missing.xml", bad, ds_test_tmpdir);
    CHECK(run(args, &out, &err) == 1 && count_lines(out) == 1);
    CHECKF(err && strstr(err, "bad.xml#1: XML error at line 3") && strstr(err, "missing.xml: ") &&
               strstr(err, "2 documents, 1 design, 0 skipped, 2 failed"),
           "%s", err);
    j = out ? json_loads(out, 0, &jerr) : NULL;
    CHECK(j && strstr(field(j, "source"), "bad.xml#2"));
    json_decref(j);
    free(out), free(err);
    free(good);
    /* an empty file, a directory */
    snprintf(args, sizeof args, "%s/empty.xml", ds_test_tmpdir);
    CHECK(ds_test_write_file(args, "", 0) == 0);
    snprintf(args, sizeof args, "uspto parse %s/empty.xml %s", ds_test_tmpdir, ds_test_tmpdir);
    CHECK(run(args, &out, &err) == 1 && strstr(err, "empty.xml: no XML") &&
          strstr(err, "not a regular file") && strstr(err, "0 documents, 0 design, 0 skipped, "
                                                          "2 failed"));
    free(out), free(err);
}

static void test_command_weekly(void)
{
    SAMPLE_OR_SKIP(path, "ipg130416.small.xml");
    char *out = NULL, *err = NULL, args[4200];
    snprintf(args, sizeof args, "uspto parse '%s'", path);
    CHECK(run(args, &out, &err) == 0 && count_lines(out) == 2);
    CHECKF(err && strstr(err, "27 documents, 2 design, 25 skipped (23 utility, 2 sequence "
                              "listings), 0 failed"),
           "%s", err);
    json_error_t jerr;
    json_t *j = out ? json_loadb(out, strcspn(out, "\n"), 0, &jerr) : NULL;
    CHECK(j && strcmp(field(j, "patent_id"), "D0680087") == 0 &&
          strstr(field(j, "source"), "ipg130416.small.xml#1") &&
          strcmp(field(j, "loc_class"), "14-03") == 0);
    json_decref(j);
    free(out), free(err);
    snprintf(args, sizeof args, "uspto parse --all '%s'", path);
    CHECK(run(args, &out, &err) == 0 && count_lines(out) == 25);
    CHECKF(err && strstr(err, "27 documents, 2 design, 2 skipped (2 sequence listings), 0 failed"),
           "%s", err);
    CHECK(out && strstr(out, "ipg130416.small.xml#27\""));
    free(out), free(err);
}

const ds_test uspto_tests[] = {
    {"v4.4 design (ipgD0701016.xml): every field", test_v44_design},
    {"v4.2 design (2011_1.xml): applicant-inventor", test_v42_design},
    {"two v4.2 designs back to back (ipg120327.two)", test_two_designs},
    {"v4.3 weekly file: 27 docs, 2 designs, 2 seq", test_v43_weekly},
    {"v4.5 utility (US08930553.xml): nested claims", test_v45_utility},
    {"v4.7 weekly zip: design, plant, reissue", test_v47_zip},
    {"CRLF line endings give the same grants", test_crlf},
    {"PATDOC v2.5 design fixture: every field", test_patdoc_fixture},
    {"PATDOC v2.4 SGML is unsupported, XML 2.4 read", test_patdoc_sgml},
    {"malformed XML: line reported, next doc read", test_malformed},
    {"XXE: refused, the file never opened", test_xxe},
    {"billion laughs refused at once", test_billion_laughs},
    {"nesting deeper than US_MAX_DEPTH refused", test_deep},
    {"a document over US_MAX_DOC_BYTES refused", test_too_big},
    {"roots other than a grant: DS_EUNSUPPORTED", test_other_roots},
    {"undefined entities: the text around them kept", test_undefined_entities},
    {"v4.0-v4.2 parties: applicants and inventors", test_old_parties},
    {"Locarno, dates, types, v40 normalised", test_normalise},
    {"no XML in the buffer, junk, BOM, stylesheet", test_no_xml},
    {"us_grant_json: keys, nulls, figures, source", test_json},
    {"four threads parse at once", test_threads},
    {"dinoseek uspto parse: output, errors, status", test_command},
    {"dinoseek uspto parse on a weekly file, --all", test_command_weekly},
    {0},
};
