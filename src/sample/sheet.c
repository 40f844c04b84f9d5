/* sheet.c - drawing sheets: one view of the article, its "FIG. n" label
 * underneath, encoded as USPTO drawings are: bilevel TIFF, CCITT Group 4,
 * min-is-white.
 */
#include "sample/sample_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

/* The drawing area: margins left and right, above, and below (where the
 * label goes), as fractions of the sheet. */
#define MARGIN_X 0.08
#define MARGIN_TOP 0.07
#define MARGIN_BOTTOM 0.17

static void drawing_area(int w, int h, int *x0, int *y0, int *aw, int *ah)
{
    *x0 = (int)(w * MARGIN_X);
    *y0 = (int)(h * MARGIN_TOP);
    *aw = w - 2 * *x0;
    *ah = h - *y0 - (int)(h * MARGIN_BOTTOM);
}

int sheet_ctx_init(sheet_ctx *s, int w, int h, ds_err *err)
{
    int x0, y0, aw, ah;
    memset(s, 0, sizeof *s);
    sm_mesh_init(&s->mesh);
    drawing_area(w, h, &x0, &y0, &aw, &ah);
    if (sm_canvas_init(&s->canvas, aw, ah, err) != 0)
        return -1;
    s->page = malloc((size_t)w * h);
    if (!s->page) {
        sheet_ctx_free(s);
        return ds_fail(err, DS_ENOMEM, "sample: out of memory for a %d x %d sheet", w, h);
    }
    s->w = w;
    s->h = h;
    return 0;
}

void sheet_ctx_free(sheet_ctx *s)
{
    sm_mesh_free(&s->mesh);
    sm_canvas_free(&s->canvas);
    free(s->page);
    memset(s, 0, sizeof *s);
}

void sheet_draw(sheet_ctx *s, const sample_patent *p, int k)
{
    int x0, y0, aw, ah, box[4];
    char label[24];
    drawing_area(s->w, s->h, &x0, &y0, &aw, &ah);
    memset(s->page, 255, (size_t)s->w * s->h);
    sm_render(&s->canvas, &s->mesh, &p->cams[k], 0.92f);
    sm_ink(&s->canvas, &s->mesh, s->page, s->w, x0, y0, box);
    /* The label sits under the figure, as on real sheets, never off the page. */
    int th = s->h / 28 > 8 ? s->h / 28 : 8;
    int ty = box[2] >= box[0] ? box[3] + s->h / 30 : s->h / 2;
    if (ty > s->h - th - s->h / 20)
        ty = s->h - th - s->h / 20;
    snprintf(label, sizeof label, "FIG. %d", k + 1);
    gl_text(s->page, s->w, s->h, label, s->w / 2, ty, th);
}

int sheet_tiff(const sheet_ctx *s, void **tif, size_t *len, ds_err *err)
{
    void *buf = NULL;
    size_t n = 0;
    *tif = NULL;
    *len = 0;
    /* libvips reads the page in place: it must outlive the image. */
    VipsImage *im = vips_image_new_from_memory(s->page, (size_t)s->w * s->h, s->w, s->h, 1,
                                               VIPS_FORMAT_UCHAR);
    if (!im)
        goto vips_fail;
    /* Resolution is in pixels per millimetre; resunit only labels it. */
    int rc = vips_tiffsave_buffer(im, &buf, &n, "compression",
                                  VIPS_FOREIGN_TIFF_COMPRESSION_CCITTFAX4, "bitdepth", 1,
                                  "miniswhite", TRUE, "xres", SAMPLE_DPI / 25.4, "yres",
                                  SAMPLE_DPI / 25.4, "resunit", VIPS_FOREIGN_TIFF_RESUNIT_INCH,
                                  "strip", TRUE, NULL);
    g_object_unref(im);
    if (rc != 0)
        goto vips_fail;
    *tif = malloc(n ? n : 1);
    if (!*tif) {
        g_free(buf);
        return ds_fail(err, DS_ENOMEM, "sample: out of memory (%zu bytes of TIFF)", n);
    }
    memcpy(*tif, buf, n);
    *len = n;
    g_free(buf);
    return 0;
vips_fail: {
    /* Take the message at once: the buffer is shared by every thread. */
    char *msg = vips_error_buffer_copy();
    ds_fail(err, DS_EFORMAT, "sample: writing a G4 TIFF: %s", msg && *msg ? msg : "libvips failed");
    g_free(msg);
    return -1;
}
}
