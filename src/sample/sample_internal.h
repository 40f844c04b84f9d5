/* sample_internal.h - what the files of src/sample/ share; other modules use
 * sample.h.
 *
 *   mesh.c      3-D models: boxes, solids of revolution, extrusions, tubes
 *   render.c    hidden-line drawing of a model from one view (z-buffer of
 *               face ids; lines where the visible face changes)
 *   glyph.c     "FIG. 12" in strokes (no font needed)
 *   objects.c   the articles of each Locarno class, with random proportions
 *   names.c     people, companies, places, law firms, examiners
 *   patent.c    one patent's particulars: number, dates, parties, views;
 *               calendar arithmetic
 *   xml.c       its us-patent-grant document
 *   sheet.c     its drawing sheets, encoded as 1-bit CCITT G4 TIFFs
 *   pack.c      files, the ZIP built in memory, the tar
 *   generate.c  the week: options, threads, output in order
 *   text.c      a patent's catalog fields alone (sample_patent_text)
 *
 * Nothing here is thread-safe on shared objects; each worker thread has its
 * own mesh, canvas and sheet buffers.
 */
#ifndef DS_SAMPLE_INTERNAL_H
#define DS_SAMPLE_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/prng.h"
#include "sample/sample.h"

/* ---- small helpers ------------------------------------------------------ */

/* A uniform float in [lo, hi). */
static inline float sp_range(ds_prng *r, float lo, float hi)
{
    return lo + (hi - lo) * ds_prng_uniform(r);
}

/* A uniform integer in [lo, hi]. */
static inline int sp_int(ds_prng *r, int lo, int hi)
{
    return lo + (int)(ds_prng_next(r) % (uint64_t)(hi - lo + 1));
}

/* A generator for stream `stream` of patent `index` under `seed`: streams
 * are independent, so adding a view does not change anyone's name. */
void sp_seed(ds_prng *r, uint64_t seed, int index, int stream);

/* ---- mesh.c -------------------------------------------------------------- */

/* How the lines of a face are drawn. */
enum {
    SM_PLAIN = 0,  /* outline only */
    SM_SMOOTH = 1, /* curved: shading lines on its dark side */
    SM_GLASS = 2,  /* transparent or reflective: groups of oblique lines */
};

/* A placement: world = o + m * local (m row-major; its columns are the
 * local axes in world coordinates). */
typedef struct sm_xf {
    float o[3];
    float m[9];
} sm_xf;

/* One triangle in world coordinates. id names the face it belongs to (a
 * line is drawn where the visible id changes); sub numbers the facets of a
 * curved face (shading lines run along facet boundaries). */
typedef struct sm_tri {
    float p[3][3];
    uint32_t id;
    uint16_t sub;
} sm_tri;

typedef struct sm_mesh {
    sm_tri *tri;
    size_t n, cap;
    uint8_t *mat;     /* material of each id (ids start at 1; 0 is the background) */
    uint32_t nid, idcap;
    int oom;          /* an allocation failed, or more than SM_MAX_ID faces:
                         the mesh is incomplete */
} sm_mesh;

/* Limits of the packed pixels of a canvas (below). */
#define SM_MAX_ID 8191 /* faces in a mesh */
#define SM_SUB_MASK 2047 /* facets are numbered modulo this + 1 */

void sm_mesh_init(sm_mesh *m);
void sm_mesh_reset(sm_mesh *m); /* empty, keeping the memory */
void sm_mesh_free(sm_mesh *m);

/* A new face id of the given material. */
uint32_t sm_new_id(sm_mesh *m, int mat);

sm_xf sm_at(float x, float y, float z);
/* xf followed by a rotation of `deg` degrees about its own local axis
 * (0 x, 1 y, 2 z): the rotated frame is placed where xf was. */
sm_xf sm_rot(sm_xf xf, int axis, float deg);
/* xf moved by (x, y, z) along its own local axes. */
sm_xf sm_move(sm_xf xf, float x, float y, float z);

/* Every solid below is closed and wound outward (back faces are culled). */

/* A box of size sx, sy, sz centred on xf's origin: six faces, whose ids
 * are the one returned plus 0..5 for its -x, +x, -y, +y, -z, +z sides. */
uint32_t sm_box(sm_mesh *m, const sm_xf *xf, float sx, float sy, float sz);
/* Change the material of face id. */
void sm_set_mat(sm_mesh *m, uint32_t id, int mat);
/* A solid of revolution about xf's local z: the profile rz[i] = (radius,
 * height) swept through `segs` facets. A corner sharper than 35 degrees
 * starts a new face; bands perpendicular to the axis are plain, others
 * smooth. Profiles that start or end at radius 0 are closed. */
void sm_revolve(sm_mesh *m, const sm_xf *xf, const float (*rz)[2], int n, int segs);
/* A cylinder of radius r and height h about xf's local z, centred. */
void sm_cylinder(sm_mesh *m, const sm_xf *xf, float r, float h, int segs);
/* A prism: the polygon xy[0..n) in xf's local x-y plane (star-shaped about
 * its centroid) extruded from z = -depth/2 to +depth/2, capped. */
void sm_extrude(sm_mesh *m, const sm_xf *xf, const float (*xy)[2], int n, float depth);
/* A round tube of the given radius along the world polyline path[0..n),
 * with capped ends. */
void sm_tube(sm_mesh *m, const float (*path)[3], int n, float radius, int segs);

/* ---- render.c ------------------------------------------------------------ */

typedef struct sm_view {
    float az, el; /* degrees: azimuth about the vertical, elevation above the horizon */
    int persp;    /* 1: perspective (camera ~3.5 object sizes away); 0: orthographic */
} sm_view;

/* Per-pixel buffers of one rendering, allocated once per thread. */
typedef struct sm_canvas {
    int w, h;
    int stride;      /* w + 1: a padding column, and a padding row below */
    float *z;        /* depth of the nearest face (where px is not 0) */
    uint32_t *px;    /* that face, packed: id << 19 | facet << 8 | brightness
                        (0..255); 0 is the background. One word a pixel
                        keeps the rasteriser and the line finder in cache. */
    float pixel;     /* world size of one pixel (for depth jumps) */
    int box[4];      /* x0, y0, x1, y1 (inclusive) of what the last rendering
                        touched; x1 < x0 when nothing */
} sm_canvas;

int sm_canvas_init(sm_canvas *c, int w, int h, ds_err *err);
void sm_canvas_free(sm_canvas *c);

/* Render m seen from v, scaled so that its larger extent fills `fill`
 * (0..1] of the canvas and centred. */
void sm_render(sm_canvas *c, const sm_mesh *m, const sm_view *v, float fill);

/* Ink the drawing into page (stride bytes a row, 0 ink, 255 paper) with the
 * canvas's top-left at (x0, y0): outlines and creases 2 px wide, shading and
 * glass lines 1 px. box (x0, y0, x1, y1) receives the inked extent, or
 * x1 < x0 when nothing was drawn. */
void sm_ink(const sm_canvas *c, const sm_mesh *m, uint8_t *page, int stride, int x0, int y0,
            int box[4]);

/* ---- glyph.c ------------------------------------------------------------- */

/* Draw text (the characters "FIG." , space and digits; others are skipped)
 * into a w x h page, centred on cx with its top at y, letters `height`
 * pixels tall, slanted like the hand-lettered labels of patent drawings. */
void gl_text(uint8_t *page, int w, int h, const char *text, int cx, int y, int height);

/* Width in pixels that gl_text would use. */
int gl_width(const char *text, int height);

/* ---- objects.c ----------------------------------------------------------- */

typedef struct sample_variant {
    const char *title;  /* invention title, e.g. "Office chair" */
    int us_sub;         /* USPC subclass under the family's design class */
    int style;          /* which shape the builder makes */
} sample_variant;

typedef struct sample_family {
    const char *locarno;       /* Locarno class and subclass, "0601" */
    int us_class;              /* USPC design class: 6 for D6 */
    const char *trade[3];      /* words for company names: "Seating" */
    const sample_variant *variants;
    int nvariants;
} sample_family;

extern const sample_family sample_families[];
extern const int sample_nfamilies;

/* Build the article of family f, variant v into m (reset first), with
 * proportions drawn from r. Sizes are in metres, z up, the front facing -y.
 * Returns 0, or -1 with err (DS_ENOMEM). */
int obj_build(sm_mesh *m, int f, int v, ds_prng *r, ds_err *err);

/* ---- names.c ------------------------------------------------------------- */

typedef struct sample_place {
    const char *city, *state, *country; /* state NULL outside the US */
} sample_place;

typedef struct sample_person {
    const char *first, *last;
    sample_place at;
} sample_person;

/* A place: mostly the US, else one of a dozen design-filing countries. */
void nm_place(ds_prng *r, sample_place *out);
/* A person living in country (the name fits the country). */
void nm_person(ds_prng *r, const char *country, const sample_place *near, sample_person *out);
/* A fictitious company of family f in country, written into buf. */
void nm_company(ds_prng *r, int f, const char *country, char *buf, size_t n);
/* A law firm, written into buf. */
void nm_law_firm(ds_prng *r, char *buf, size_t n);
/* An examiner of design art unit 2911..2919. */
void nm_examiner(ds_prng *r, const char **first, const char **last, int *department);
/* A surname for a cited patent. */
const char *nm_surname(ds_prng *r);

/* ---- patent.c ------------------------------------------------------------ */

/* Views, in the order the figures list them. */
enum {
    V_PERSP_FRONT = 0,
    V_PERSP_REAR,
    V_FRONT,
    V_REAR,
    V_LEFT,
    V_RIGHT,
    V_TOP,
    V_BOTTOM,
    V_COUNT
};

/* "a front perspective view", "a top plan view", ... */
const char *sp_view_phrase(int kind);

typedef struct sample_cite {
    int number; /* D number */
    const char *name;
    int date;   /* YYYYMM00, as the XML writes cited dates */
} sample_cite;

typedef struct sample_patent {
    int index;
    int number;           /* 967598 */
    char doc[16];         /* "D0967598" */
    char stem[32];        /* "USD0967598-20221025" */
    int date, produced, filed; /* YYYYMMDD */
    int appl;             /* application serial, e.g. 29793013 */
    int family, variant;
    uint64_t shape_seed;
    int nviews;
    int views[SAMPLE_MAX_VIEWS];
    sm_view cams[SAMPLE_MAX_VIEWS];
    int ninventors;
    sample_person inventors[3];
    int org_applicant;    /* the applicant is a company (and the assignee) */
    char org[128];
    sample_place org_at;
    char agent[128];
    const char *exam_first, *exam_last;
    int department;
    int ncites;
    sample_cite cites[6];
} sample_patent;

/* Everything about patent `index` of the week, from the options. */
void sp_patent_make(const sample_opts *o, int index, sample_patent *p);

/* The first patent number estimated for an issue date. */
int sp_first_number(int date);

/* Calendar (proleptic Gregorian): days since 1970-01-01 and back. */
int sp_date_valid(int ymd);
long sp_days(int ymd);
int sp_ymd(long days);
/* 0 Sunday .. 6 Saturday */
int sp_weekday(int ymd);

/* ---- xml.c --------------------------------------------------------------- */

/* A growing string (malloc'ed; p NUL-terminated when n > 0). */
typedef struct sp_buf {
    char *p;
    size_t n, cap;
    int oom;
} sp_buf;

void sp_buf_free(sp_buf *b);
void sp_buf_add(sp_buf *b, const char *s, size_t n);
void sp_buf_printf(sp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s with & < > " ' escaped. */
void sp_buf_esc(sp_buf *b, const char *s);

/* The us-patent-grant document of p (sheets of w x h pixels) appended to
 * out. Returns 0, or -1 with err (DS_ENOMEM). */
int sp_xml(const sample_patent *p, int w, int h, sp_buf *out, ds_err *err);

/* "chair" -> "a chair", "armchair" -> "an armchair", lower-cased first
 * letter, into buf. */
void sp_article(const char *title, char *buf, size_t n);

/* ---- sheet.c ------------------------------------------------------------- */

/* What one worker thread reuses from sheet to sheet. */
typedef struct sheet_ctx {
    sm_mesh mesh;
    sm_canvas canvas;
    uint8_t *page;
    int w, h;
} sheet_ctx;

int sheet_ctx_init(sheet_ctx *s, int w, int h, ds_err *err);
void sheet_ctx_free(sheet_ctx *s);

/* Draw view k of p (its mesh already built in s->mesh) as sheet FIG. k+1
 * into s->page. */
void sheet_draw(sheet_ctx *s, const sample_patent *p, int k);

/* s->page as a 1-bit, min-is-white, CCITT Group 4 TIFF at SAMPLE_DPI.
 * *tif is malloc'ed. Returns 0, or -1 with err (DS_EFORMAT libvips'
 * message, DS_ENOMEM). Thread-safe. */
int sheet_tiff(const sheet_ctx *s, void **tif, size_t *len, ds_err *err);

/* ---- pack.c -------------------------------------------------------------- */

typedef struct pk_member {
    const char *name;
    const void *data;
    size_t len;
} pk_member;

/* A deflated ZIP of members, every entry dated `date` (YYYYMMDD, midnight
 * UTC), owned by 0:0, mode 0644, built in memory: *zip malloc'ed. Returns
 * 0, or -1 with err. */
int pk_zip(const pk_member *m, int n, int date, void **zip, size_t *len, ds_err *err);

typedef struct pk_tar pk_tar;

/* A ustar file at path, replaced if present. */
int pk_tar_open(const char *path, pk_tar **out, ds_err *err);
/* Add a regular file (dated, owned and moded as in pk_zip). */
int pk_tar_add(pk_tar *t, const char *name, const void *data, size_t len, int date,
               ds_err *err);
/* Finish the archive (end blocks) and close it; *bytes receives its size.
 * Frees t even on failure. */
int pk_tar_close(pk_tar *t, uint64_t *bytes, ds_err *err);

/* Write a whole file (replacing it). Returns 0, or -1 with err (DS_EIO). */
int pk_write_file(const char *path, const void *data, size_t len, ds_err *err);
/* mkdir -p. Returns 0, or -1 with err (DS_EIO). */
int pk_mkdirs(const char *path, ds_err *err);

#endif
