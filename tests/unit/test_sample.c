/* test_sample.c - `dinoseek sample generate`: the pieces (calendar, XML
 * escaping, every article draws), then a generated week as a user and the
 * other modules see it: the USPTO layout, 1-bit G4 TIFFs, the tar of ZIPs,
 * well-formed XML with the expected fields, byte-identical reruns, bad
 * options, and the XML read back by `dinoseek uspto parse`. */
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <vips/vips.h>

#include "../suites.h"
#include "base/sha256.h"
#include "image/image.h"
#include "sample/sample_internal.h"

#define WEEK_PATENTS 12
#define WEEK_SEED 5

/* Run `dinoseek ARGS`; returns the exit status, output in *out / *err. */
static int run(const char *args, char **out, char **err)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s", ds_test_bin(), args);
    return ds_test_run(cmd, out, err);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void file_sha(const char *path, char hex[DS_SHA256_HEXLEN + 1])
{
    size_t n = 0;
    void *d = ds_test_read_file(path, &n);
    uint8_t dig[DS_SHA256_LEN];
    ds_sha256_buf(d, d ? n : 0, dig);
    ds_sha256_hex(dig, hex);
    if (!d)
        hex[0] = '\0';
    free(d);
}

/* The options the week below is made with, and what each patent is. */
static void week_opts(sample_opts *o)
{
    sample_opts_default(o);
    o->patents = WEEK_PATENTS;
    o->seed = WEEK_SEED;
}

/* The week, generated once per suite run into <tmp>/week. */
static const char *week(void)
{
    static char dir[512];
    static int made;
    snprintf(dir, sizeof dir, "%s/week", ds_test_tmpdir);
    if (!made) {
        char args[1024], *out = NULL, *err = NULL;
        snprintf(args, sizeof args, "sample generate %s --patents %d --seed %d", dir,
                 WEEK_PATENTS, WEEK_SEED);
        int rc = run(args, &out, &err);
        CHECKF(rc == 0, "exit %d: %s", rc, err ? err : "");
        CHECKF(out && strstr(out, "wrote 12 patents") && strstr(out, "I20221025.tar"), "%s", out);
        made = rc == 0;
        free(out), free(err);
    }
    return dir;
}

/* ---- the pieces ---------------------------------------------------------- */

static void test_calendar(void)
{
    for (long d = sp_days(19700101) - 800; d < sp_days(21000101); d += 37)
        CHECKF(sp_days(sp_ymd(d)) == d, "day %ld", d);
    CHECK(sp_days(19700101) == 0 && sp_days(20000301) - sp_days(20000228) == 2);
    CHECK(sp_weekday(20221025) == 2); /* a Tuesday, as grants are */
    CHECK(sp_date_valid(20240229) && !sp_date_valid(20230229) && !sp_date_valid(20221301) &&
          !sp_date_valid(20221000) && !sp_date_valid(2022102));
    CHECK(sp_first_number(20221025) == 967598);
    CHECK(sp_first_number(20221101) == 967598 + 820);
}

static void test_xml_text(void)
{
    sp_buf b = {0};
    sp_buf_esc(&b, "Pellham & O'Brien <Seating> \"Inc.\" Müller");
    CHECKF(b.p && strcmp(b.p, "Pellham &amp; O&apos;Brien &lt;Seating&gt; &quot;Inc.&quot; Müller") == 0,
           "%s", b.p);
    sp_buf_free(&b);
    char a[64];
    sp_article("Armchair", a, sizeof a);
    CHECKF(strcmp(a, "an armchair") == 0, "%s", a);
    sp_article("Cup and saucer", a, sizeof a);
    CHECKF(strcmp(a, "a cup and saucer") == 0, "%s", a);
}

static void test_patent_particulars(void)
{
    sample_opts o;
    sample_patent p, q;
    week_opts(&o);
    sp_patent_make(&o, 3, &p);
    sp_patent_make(&o, 3, &q);
    CHECK(memcmp(&p, &q, sizeof p) == 0);
    CHECK(strcmp(p.doc, "D0967601") == 0 && strcmp(p.stem, "USD0967601-20221025") == 0);
    CHECK(p.filed < p.date && p.produced < p.date && p.appl / 1000000 == 29);
    CHECK(p.nviews >= 3 && p.nviews <= 7 && p.views[0] == V_PERSP_FRONT);
    for (int k = 1; k < p.nviews; k++)
        CHECK(p.views[k] > p.views[k - 1]);
    for (int i = 0; i < p.ncites; i++)
        CHECK(p.cites[i].number < p.number && (i == 0 || p.cites[i].number >= p.cites[i - 1].number));
    /* Another seed, another week; another view count leaves the names alone. */
    o.seed = WEEK_SEED + 1;
    sp_patent_make(&o, 3, &q);
    CHECK(strcmp(q.doc, p.doc) == 0 && memcmp(&p, &q, sizeof p) != 0);
    o.seed = WEEK_SEED;
    o.views_min = o.views_max = 8;
    sp_patent_make(&o, 3, &q);
    CHECK(q.nviews == 8 && strcmp(q.agent, p.agent) == 0 && q.family == p.family);
    o.first = 123456;
    sp_patent_make(&o, 2, &q);
    CHECK(strcmp(q.doc, "D0123458") == 0);
}

/* How many ink pixels a sheet has. */
static size_t ink(const sheet_ctx *s)
{
    size_t n = 0;
    for (size_t i = 0; i < (size_t)s->w * s->h; i++)
        n += s->page[i] == 0;
    return n;
}

/* Every article of every class builds and draws in every view: lines, but
 * mostly paper, within the page. */
static void test_every_article_draws(void)
{
    sheet_ctx s;
    ds_err err = {0};
    CHECKF(sheet_ctx_init(&s, 425, 550, &err) == 0, "%s", err.msg);
    for (int f = 0; f < sample_nfamilies; f++) {
        for (int v = 0; v < sample_families[f].nvariants; v++) {
            ds_prng r;
            ds_prng_seed(&r, (uint64_t)(f * 100 + v));
            CHECKF(obj_build(&s.mesh, f, v, &r, &err) == 0, "%s", err.msg);
            CHECK(s.mesh.n > 12 && s.mesh.nid >= 3);
            sample_patent p;
            memset(&p, 0, sizeof p);
            p.nviews = V_COUNT;
            for (int k = 0; k < V_COUNT; k++) {
                static const sm_view views[V_COUNT] = {{-35, 25, 1}, {145, 25, 1}, {0, 0, 0},
                                                       {180, 0, 0},  {90, 0, 0},   {-90, 0, 0},
                                                       {0, 90, 0},   {0, -90, 0}};
                p.cams[k] = views[k];
                sheet_draw(&s, &p, k);
                size_t n = ink(&s), all = (size_t)s.w * s.h;
                CHECKF(n > all / 400 && n < all / 4, "%s view %d: %zu ink pixels",
                       sample_families[f].variants[v].title, k, n);
            }
        }
    }
    sheet_ctx_free(&s);
}

/* A box seen from the front is a rectangle: outline ink on the middle row
 * at its sides, paper inside and outside. This is hidden-line removal and
 * back-face culling working together. */
static void test_box_outline(void)
{
    sm_mesh m;
    sm_canvas c;
    ds_err err = {0};
    uint8_t *page = malloc(200 * 100);
    sm_mesh_init(&m);
    CHECKF(sm_canvas_init(&c, 200, 100, &err) == 0, "%s", err.msg);
    sm_xf at = sm_at(0, 0, 0);
    sm_box(&m, &at, 2, 1, 1);
    sm_view front = {0, 0, 0};
    sm_render(&c, &m, &front, 0.5f);
    memset(page, 255, 200 * 100);
    int box[4];
    sm_ink(&c, &m, page, 200, 0, 0, box);
    /* 2 x 1 scaled to half the canvas, centred: x 50..150, y 25..75. */
    CHECKF(abs(box[0] - 50) <= 1 && abs(box[2] - 150) <= 1 && abs(box[1] - 25) <= 1 &&
               abs(box[3] - 75) <= 1,
           "box %d %d %d %d", box[0], box[1], box[2], box[3]);
    CHECK(page[50 * 200 + 100] == 255 && page[50 * 200 + 10] == 255);
    CHECK(page[50 * 200 + box[0]] == 0 && page[50 * 200 + box[2]] == 0);
    CHECK(page[box[1] * 200 + 100] == 0 && page[box[3] * 200 + 100] == 0);
    size_t n = 0;
    for (int i = 0; i < 200 * 100; i++)
        n += page[i] == 0;
    /* The outline only: 2 pixels wide around a 100 x 50 rectangle. */
    CHECKF(n > 560 && n < 640, "%zu ink pixels", n);
    free(page);
    sm_canvas_free(&c);
    sm_mesh_free(&m);
}

/* ---- a generated week ------------------------------------------------------- */

/* Count the files of dir whose name starts with prefix and ends with suffix. */
static int count_named(const char *dir, const char *prefix, const char *suffix)
{
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '^%s.*%s$'", dir, prefix, suffix);
    ds_test_run(cmd, &out, NULL);
    int n = out ? atoi(out) : -1;
    free(out);
    return n;
}

static void test_layout(void)
{
    const char *dir = week();
    sample_opts o;
    week_opts(&o);
    char path[2048], folder[1024];
    size_t total = 0;
    char *all = NULL;
    snprintf(path, sizeof path, "%s/ipgb20221025.xml", dir);
    char *ipgb = ds_test_read_file(path, &total);
    CHECK(ipgb != NULL);
    CHECK(count_named(dir, "USD", "-20221025") == WEEK_PATENTS);
    size_t at = 0;
    for (int i = 0; i < WEEK_PATENTS; i++) {
        sample_patent p;
        sp_patent_make(&o, i, &p);
        snprintf(folder, sizeof folder, "%s/%s", dir, p.stem);
        snprintf(path, sizeof path, "%s/%s.XML", folder, p.stem);
        size_t n = 0;
        all = ds_test_read_file(path, &n);
        CHECKF(all != NULL, "%s", path);
        /* The weekly file is the documents, in order, back to back. */
        CHECKF(all && ipgb && at + n <= total && memcmp(ipgb + at, all, n) == 0, "%s", path);
        at += n;
        /* As many sheets as figures, numbered from D00001. */
        CHECKF(count_named(folder, p.stem, ".TIF") == p.nviews, "%s", folder);
        snprintf(path, sizeof path, "%s/%s-D%05d.TIF", folder, p.stem, p.nviews);
        CHECK(exists(path));
        int figures = 0;
        for (const char *s = all; s && (s = strstr(s, "<figure id=")); s++)
            figures++;
        CHECK(figures == p.nviews);
        free(all);
    }
    CHECK(at == total);
    free(ipgb);
}

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static unsigned le16(const uint8_t *p) { return p[0] | p[1] << 8; }

/* The value of a short TIFF tag in the first IFD, or -1. */
static long tiff_tag(const uint8_t *d, size_t n, unsigned tag)
{
    if (n < 8 || memcmp(d, "II*\0", 4) != 0)
        return -1;
    size_t ifd = le32(d + 4);
    if (ifd + 2 > n)
        return -1;
    unsigned count = le16(d + ifd);
    for (unsigned i = 0; i < count && ifd + 2 + 12 * (i + 1) <= n; i++) {
        const uint8_t *e = d + ifd + 2 + 12 * i;
        if (le16(e) == tag)
            return le16(e + 2) == 3 ? (long)le16(e + 8) : (long)le32(e + 8);
    }
    return -1;
}

static void test_tiffs_are_g4(void)
{
    const char *dir = week();
    sample_opts o;
    ds_err err = {0};
    week_opts(&o);
    CHECKF(img_init(NULL, &err) == 0, "%s", err.msg);
    for (int i = 0; i < 3; i++) {
        sample_patent p;
        sp_patent_make(&o, i, &p);
        for (int k = 1; k <= p.nviews; k++) {
            char path[1024];
            size_t n = 0;
            snprintf(path, sizeof path, "%s/%s/%s-D%05d.TIF", dir, p.stem, p.stem, k);
            uint8_t *d = ds_test_read_file(path, &n);
            CHECKF(d != NULL, "%s", path);
            /* Width, height, 1 bit, CCITT G4 (4), min-is-white, 1 sample. */
            CHECKF(tiff_tag(d, n, 256) == 850 && tiff_tag(d, n, 257) == 1100, "%s", path);
            CHECKF(tiff_tag(d, n, 258) == 1 && tiff_tag(d, n, 259) == 4, "%s", path);
            CHECKF(tiff_tag(d, n, 262) == 0 && tiff_tag(d, n, 277) == 1, "%s", path);
            free(d);
            VipsImage *im = vips_image_new_from_file(path, NULL);
            CHECKF(im != NULL, "%s", path);
            if (!im)
                continue;
            double avg = 0, min = 255;
            CHECK(im->Xsize == 850 && im->Ysize == 1100 && im->Bands == 1);
            CHECK(vips_avg(im, &avg, NULL) == 0 && vips_min(im, &min, NULL) == 0);
            /* A line drawing: mostly paper, some ink. */
            CHECKF(avg > 225 && avg < 254.9 && min == 0, "%s: mean %g", path, avg);
            g_object_unref(im);
        }
    }
}

static void test_archives(void)
{
    const char *dir = week();
    sample_opts o;
    week_opts(&o);
    char cmd[2048], *out = NULL, *err = NULL;
    snprintf(cmd, sizeof cmd, "tar tf '%s/I20221025.tar'", dir);
    CHECK(ds_test_run(cmd, &out, &err) == 0);
    const char *line = out;
    for (int i = 0; i < WEEK_PATENTS && line; i++) {
        sample_patent p;
        char want[128];
        sp_patent_make(&o, i, &p);
        snprintf(want, sizeof want, "DESIGN/%s.ZIP\n", p.stem);
        CHECKF(strncmp(line, want, strlen(want)) == 0, "line %d: %.40s", i, line);
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    CHECK(line && *line == '\0');
    free(out), free(err);

    /* One ZIP: its members are the patent's folder, byte for byte. */
    sample_patent p;
    sp_patent_make(&o, 4, &p);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && mkdir -p x && tar xf '%s/I20221025.tar' -O DESIGN/%s.ZIP > x/p.zip && "
             "/usr/bin/python3 -m zipfile -l x/p.zip && cd x && /usr/bin/python3 -m zipfile -e "
             "p.zip . && diff -r %s '%s/%s'",
             ds_test_tmpdir, dir, p.stem, p.stem, dir, p.stem);
    int rc = ds_test_run(cmd, &out, &err);
    CHECKF(rc == 0, "%s", err);
    char member[128];
    snprintf(member, sizeof member, "%s/%s.XML", p.stem, p.stem);
    CHECKF(out && strstr(out, member) && strstr(out, "2022-10-25 00:00:00"), "%s", out);
    snprintf(member, sizeof member, "%s/%s-D%05d.TIF", p.stem, p.stem, p.nviews);
    CHECKF(out && strstr(out, member), "%s", out);
    free(out), free(err);
}

/* The text of the first node matching an XPath expression, or "". */
static void xpath_text(xmlXPathContext *ctx, const char *expr, char *buf, size_t n)
{
    buf[0] = '\0';
    xmlXPathObject *r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    if (r && r->nodesetval && r->nodesetval->nodeNr > 0) {
        xmlChar *t = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
        snprintf(buf, n, "%s", t ? (const char *)t : "");
        xmlFree(t);
    }
    xmlXPathFreeObject(r);
}

static int xpath_count(xmlXPathContext *ctx, const char *expr)
{
    xmlXPathObject *r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    int n = r && r->nodesetval ? r->nodesetval->nodeNr : -1;
    xmlXPathFreeObject(r);
    return n;
}

static void test_xml_fields(void)
{
    const char *dir = week();
    sample_opts o;
    week_opts(&o);
    for (int i = 0; i < WEEK_PATENTS; i++) {
        sample_patent p;
        char path[1024], v[512], want[512];
        size_t n = 0;
        sp_patent_make(&o, i, &p);
        const sample_family *f = &sample_families[p.family];
        snprintf(path, sizeof path, "%s/%s/%s.XML", dir, p.stem, p.stem);
        char *text = ds_test_read_file(path, &n);
        /* No DTD is fetched: the parser must neither need nor try it. */
        xmlDoc *doc = text ? xmlReadMemory(text, (int)n, path, NULL, XML_PARSE_NONET) : NULL;
        CHECKF(doc != NULL, "%s is not well-formed", path);
        free(text);
        if (!doc)
            continue;
        xmlXPathContext *ctx = xmlXPathNewContext(doc);
        xpath_text(ctx, "/us-patent-grant/@file", v, sizeof v);
        snprintf(want, sizeof want, "%s.XML", p.stem);
        CHECKF(strcmp(v, want) == 0, "%s", v);
        xpath_text(ctx, "//publication-reference//doc-number", v, sizeof v);
        CHECKF(strcmp(v, p.doc) == 0, "%s", v);
        xpath_text(ctx, "//publication-reference//kind", v, sizeof v);
        CHECK(strcmp(v, "S1") == 0);
        xpath_text(ctx, "//publication-reference//date", v, sizeof v);
        CHECK(strcmp(v, "20221025") == 0);
        xpath_text(ctx, "//application-reference[@appl-type='design']//doc-number", v, sizeof v);
        CHECK(atoi(v) == p.appl && strncmp(v, "29", 2) == 0);
        xpath_text(ctx, "//classification-locarno/main-classification", v, sizeof v);
        CHECKF(strcmp(v, f->locarno) == 0, "%s", v);
        xpath_text(ctx, "//classification-locarno/edition", v, sizeof v);
        CHECK(strcmp(v, "13") == 0);
        xpath_text(ctx, "//invention-title", v, sizeof v);
        CHECK(strcmp(v, f->variants[p.variant].title) == 0);
        xpath_text(ctx, "//figures/number-of-figures", v, sizeof v);
        CHECK(atoi(v) == p.nviews);
        CHECK(xpath_count(ctx, "//drawings/figure/img[@img-format='tif']") == p.nviews);
        CHECK(xpath_count(ctx, "//description-of-drawings/p") == p.nviews);
        CHECK(xpath_count(ctx, "//inventors/inventor") == p.ninventors);
        xpath_text(ctx, "//drawings/figure[1]/img/@file", v, sizeof v);
        snprintf(want, sizeof want, "%s-D00001.TIF", p.stem);
        CHECK(strcmp(v, want) == 0);
        xpath_text(ctx, "//inventors/inventor[1]//last-name", v, sizeof v);
        CHECK(strcmp(v, p.inventors[0].last) == 0);
        if (p.org_applicant) {
            xpath_text(ctx, "//assignees/assignee//orgname", v, sizeof v);
            CHECKF(strcmp(v, p.org) == 0, "%s vs %s", v, p.org);
        }
        xpath_text(ctx, "//claims/claim/claim-text", v, sizeof v);
        CHECKF(strncmp(v, "The ornamental design for a", 27) == 0 &&
                   strstr(v, ", as shown and described."),
               "%s", v);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
    }
}

/* Same options, same bytes: whatever the thread count or time zone. */
static void test_deterministic(void)
{
    char a[512], b[512], c[512], args[2048], *out = NULL, *err = NULL;
    char ha[DS_SHA256_HEXLEN + 1], hb[DS_SHA256_HEXLEN + 1], hc[DS_SHA256_HEXLEN + 1];
    snprintf(a, sizeof a, "%s/det-a", ds_test_tmpdir);
    snprintf(b, sizeof b, "%s/det-b", ds_test_tmpdir);
    snprintf(c, sizeof c, "%s/det-c", ds_test_tmpdir);
    snprintf(args, sizeof args,
             "sample generate %s --patents 6 --views-max 4 --seed 9 --threads 3 && "
             "TZ=America/New_York %s sample generate %s --patents 6 --views-max 4 --seed 9 "
             "--threads 1 && %s sample generate %s --patents 6 --views-max 4 --seed 10",
             a, ds_test_bin(), b, ds_test_bin(), c);
    int rc = run(args, &out, &err);
    CHECKF(rc == 0, "%s", err);
    free(out), free(err);
    const char *files[] = {"I20221025.tar", "ipgb20221025.xml",
                           "USD0967598-20221025/USD0967598-20221025-D00001.TIF"};
    for (int i = 0; i < 3; i++) {
        char pa[1024], pb[1024], pc[1024];
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        snprintf(pc, sizeof pc, "%s/%s", c, files[i]);
        file_sha(pa, ha);
        file_sha(pb, hb);
        file_sha(pc, hc);
        CHECKF(ha[0] && strcmp(ha, hb) == 0, "%s differs between runs", files[i]);
        CHECKF(hc[0] && strcmp(ha, hc) != 0, "%s is the same for another seed", files[i]);
    }
}

static void test_options(void)
{
    char args[2048], dir[512], *out = NULL, *err = NULL;
    snprintf(dir, sizeof dir, "%s/small", ds_test_tmpdir);
    snprintf(args, sizeof args,
             "sample generate %s --patents 2 --views-min 1 --views-max 1 --size 400x500 "
             "--no-tar --date 20140318 --first 701016",
             dir);
    int rc = run(args, &out, &err);
    CHECKF(rc == 0, "%s", err);
    free(out), free(err);
    char path[1024];
    snprintf(path, sizeof path, "%s/I20140318.tar", dir);
    CHECK(!exists(path));
    snprintf(path, sizeof path, "%s/USD0701017-20140318/USD0701017-20140318.XML", dir);
    char *xml = ds_test_read_file(path, NULL);
    CHECKF(xml && strstr(xml, "he=\"127.00mm\" wi=\"101.60mm\"") &&
               strstr(xml, "us-patent-grant-v45-2014-04-03.dtd") &&
               strstr(xml, "<edition>12</edition>"),
           "%s", path);
    free(xml);
    snprintf(path, sizeof path, "%s/USD0701017-20140318/USD0701017-20140318-D00001.TIF", dir);
    size_t n = 0;
    uint8_t *tif = ds_test_read_file(path, &n);
    CHECK(tif && tiff_tag(tif, n, 256) == 400 && tiff_tag(tif, n, 257) == 500);
    free(tif);

    static const struct {
        const char *args, *says;
    } bad[] = {
        {"sample generate D --patents 0", "--patents"},
        {"sample generate D --patents 12x", "--patents"},
        {"sample generate D --seed -1", "--seed"},
        {"sample generate D --views-min 5 --views-max 3", "views per patent"},
        {"sample generate D --views-max 9", "--views-max"},
        {"sample generate D --size 800", "--size"},
        {"sample generate D --size 10x10", "--size"},
        {"sample generate D --date 20230229", "--date"},
        {"sample generate D --date 1999", "--date"},
        {"sample generate D --first 99", "--first"},
        {"sample generate D --first 9999999 --patents 2", "7 digits"},
        {"sample generate D --threads 0", "--threads"},
        {"sample generate", "one output DIR"},
        {"sample generate A B", "one output DIR"},
        {"sample generate D --frobnicate", "usage"},
        {"sample explode", "unknown action 'explode'"},
        {"sample", "usage"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = run(bad[i].args, &out, &err);
        CHECKF(rc == 2 && err && strstr(err, bad[i].says), "%s: exit %d: %s", bad[i].args, rc,
               err ? err : "");
        free(out), free(err);
    }
    CHECK(run("sample generate --help", &out, &err) == 0 && strstr(out, "usage: dinoseek sample"));
    free(out), free(err);
    /* A file where the directory should be: a clear error, exit 1. */
    snprintf(path, sizeof path, "%s/a-file", ds_test_tmpdir);
    CHECK(ds_test_write_file(path, "x", 1) == 0);
    snprintf(args, sizeof args, "sample generate %s/sub --patents 1", path);
    rc = run(args, &out, &err);
    CHECKF(rc == 1 && err && strstr(err, "a-file"), "exit %d: %s", rc, err ? err : "");
    free(out), free(err);
}

/* The JSON string field of obj, or "" (null included). */
static const char *jstr(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* `dinoseek uspto parse` reads back what we wrote. */
static void test_uspto_roundtrip(void)
{
    const char *dir = week();
    char args[1024], *out = NULL, *err = NULL;
    sample_opts o;
    week_opts(&o);
    snprintf(args, sizeof args, "uspto parse %s/ipgb20221025.xml", dir);
    int rc = run(args, &out, &err);
    if (rc == 2 && err && strstr(err, "unknown command")) {
        free(out), free(err);
        SKIP("this build has no `dinoseek uspto parse`");
    }
    CHECKF(rc == 0, "exit %d: %s", rc, err ? err : "");
    const char *line = out;
    int i = 0;
    for (; line && *line && i < WEEK_PATENTS; i++) {
        sample_patent p;
        const sample_family *f;
        char want[512];
        json_error_t jerr;
        const char *nl = strchr(line, '\n');
        json_t *j = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, &jerr);
        CHECKF(j != NULL, "line %d: %s", i, jerr.text);
        sp_patent_make(&o, i, &p);
        f = &sample_families[p.family];
        CHECK(strcmp(jstr(j, "patent_id"), p.doc) == 0 && strcmp(jstr(j, "kind"), "S1") == 0);
        CHECK(strcmp(jstr(j, "type"), "design") == 0);
        CHECK(strcmp(jstr(j, "title"), f->variants[p.variant].title) == 0);
        snprintf(want, sizeof want, "%.2s-%.2s", f->locarno, f->locarno + 2);
        CHECKF(strcmp(jstr(j, "loc_class"), want) == 0, "%s", jstr(j, "loc_class"));
        CHECK(strcmp(jstr(j, "loc_edition"), "13") == 0);
        CHECK(strcmp(jstr(j, "pub_date"), "2022-10-25") == 0);
        snprintf(want, sizeof want, "%04d-%02d-%02d", p.filed / 10000, p.filed / 100 % 100,
                 p.filed % 100);
        CHECK(strcmp(jstr(j, "filing_date"), want) == 0);
        CHECK(json_integer_value(json_object_get(j, "grant_term")) == 15);
        CHECK(json_integer_value(json_object_get(j, "image_count")) == p.nviews);
        CHECK((int)json_array_size(json_object_get(j, "figures")) == p.nviews);
        snprintf(want, sizeof want, "%s-D00001.TIF", p.stem);
        const char *first = json_string_value(json_array_get(json_object_get(j, "figures"), 0));
        CHECK(first && strcmp(first, want) == 0);
        /* Names: escaped on the way out, unescaped on the way in. */
        want[0] = '\0';
        for (int k = 0; k < p.ninventors; k++) {
            size_t n = strlen(want);
            snprintf(want + n, sizeof want - n, "%s%s %s", k ? ", " : "", p.inventors[k].first,
                     p.inventors[k].last);
        }
        CHECKF(strcmp(jstr(j, "inventor_names"), want) == 0, "%s vs %s",
               jstr(j, "inventor_names"), want);
        if (p.org_applicant) {
            CHECKF(strcmp(jstr(j, "applicant_name"), p.org) == 0, "%s", jstr(j, "applicant_name"));
            CHECK(strcmp(jstr(j, "assignee_name"), p.org) == 0);
            CHECK(strcmp(jstr(j, "applicant_country"), p.org_at.country) == 0);
        } else {
            snprintf(want, sizeof want, "%s %s", p.inventors[0].first, p.inventors[0].last);
            CHECKF(strcmp(jstr(j, "applicant_name"), want) == 0, "%s", jstr(j, "applicant_name"));
            CHECK(json_is_null(json_object_get(j, "assignee_name")));
        }
        CHECKF(strstr(jstr(j, "claim_text"), "as shown and described."), "%s",
               jstr(j, "claim_text"));
        /* sample_patent_text (what bench/words writes without the XML)
         * gives the same fields as the XML read back. */
        sample_text t;
        sample_patent_text(&o, i, &t);
        CHECK(strcmp(t.patent_id, jstr(j, "patent_id")) == 0);
        CHECK(strcmp(t.title, jstr(j, "title")) == 0);
        CHECKF(strcmp(t.claim, jstr(j, "claim_text")) == 0, "%s vs %s", t.claim,
               jstr(j, "claim_text"));
        CHECKF(strcmp(t.applicant, jstr(j, "applicant_name")) == 0, "%s vs %s", t.applicant,
               jstr(j, "applicant_name"));
        CHECK(strcmp(t.assignee, jstr(j, "assignee_name")) == 0);
        CHECKF(strcmp(t.inventors, jstr(j, "inventor_names")) == 0, "%s vs %s", t.inventors,
               jstr(j, "inventor_names"));
        CHECK(strcmp(t.loc_class, jstr(j, "loc_class")) == 0);
        json_decref(j);
        line = nl ? nl + 1 : NULL;
    }
    CHECK(i == WEEK_PATENTS);
    free(out), free(err);
}

const ds_test sample_tests[] = {
    {"calendar arithmetic and patent numbers", test_calendar},
    {"XML escaping and articles", test_xml_text},
    {"patent particulars are deterministic", test_patent_particulars},
    {"every article draws in every view", test_every_article_draws},
    {"a box from the front is its outline", test_box_outline},
    {"generate: USPTO folder layout and ipgb", test_layout},
    {"generate: drawings are 1-bit CCITT G4 TIFFs", test_tiffs_are_g4},
    {"generate: weekly tar of DESIGN/*.ZIP", test_archives},
    {"generate: XML well-formed with the fields", test_xml_fields},
    {"generate: same seed same bytes", test_deterministic},
    {"generate: options and bad options", test_options},
    {"generate: uspto parse reads it back", test_uspto_roundtrip},
    {0},
};
