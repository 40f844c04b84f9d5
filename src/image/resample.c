/* resample.c - Pillow-compatible resampling of 8-bit images.
 *
 * Written from a reading of Pillow's src/libImaging/Resample.c so that our
 * pixels equal Pillow's: a separable convolution, horizontal pass first into
 * an 8-bit intermediate holding only the rows the vertical pass needs, then
 * the vertical pass. For each output pixel the filter is centred on the
 * source position (x + 0.5) * scale, stretched by the downscale factor
 * (antialiasing), cut to the source, and its weights divided by their sum.
 * Weights become integers with 22 fractional bits; sums start at one half
 * and are shifted back and clipped to 0..255.
 *
 * img_scale (native mode, thumbnails) uses the same filter and arithmetic
 * with the passes the other way round: the vertical pass first, a row at a
 * time over whole rows, which GCC vectorises, leaves few rows for the
 * horizontal pass. It costs ~2-3 ms for an 850 x 1100 drawing to 224,
 * against ~6.5 for libvips' reduce, which also compiles an Orc program per
 * call (see img__scale_to in preprocess.c).
 */
#include "image/image_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PREC_BITS 22 /* 32 bits - 8 for the pixel - 2 for overshoot */

/* The vertical pass compiled for AVX2 too, chosen at load time (as in
 * src/model/ops.c). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static double bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x = x * M_PI;
    return sin(x) / x;
}

static double lanczos(double x)
{
    if (-3.0 <= x && x < 3.0)
        return sinc(x) * sinc(x / 3);
    return 0.0;
}

void img_rgb_free(img_rgb *im)
{
    if (!im)
        return;
    g_free(im->px);
    im->px = NULL;
    im->w = im->h = 0;
}

/* The taps of one pass: for output i, source [first[i], first[i] + n[i]) with
 * weights w[i * ksize ...]. */
typedef struct taps {
    int ksize;
    int *first, *n;
    int32_t *w;
} taps;

static void taps_free(taps *t)
{
    free(t->first);
    free(t->n);
    free(t->w);
    memset(t, 0, sizeof *t);
}

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc for a full-image box. */
static int taps_make(int in_size, int out_size, img_filter f, taps *t, ds_err *err)
{
    double (*kernel)(double) = f == IMG_FILTER_LANCZOS ? lanczos : bicubic;
    double support = f == IMG_FILTER_LANCZOS ? 3.0 : 2.0;
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double *k = NULL;

    support *= filterscale;
    memset(t, 0, sizeof *t);
    t->ksize = (int)ceil(support) * 2 + 1;
    if ((size_t)out_size > SIZE_MAX / sizeof(double) / (size_t)t->ksize)
        return ds_fail(err, DS_ETOOBIG, "resample %d -> %d: too many taps", in_size, out_size);
    size_t nk = (size_t)out_size * (size_t)t->ksize;
    k = malloc(t->ksize * sizeof *k);
    t->w = calloc(nk, sizeof *t->w);
    t->first = malloc((size_t)out_size * sizeof *t->first);
    t->n = malloc((size_t)out_size * sizeof *t->n);
    if (!k || !t->w || !t->first || !t->n)
        goto fail;
    for (int i = 0; i < out_size; i++) {
        double center = (i + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
        int lo = (int)(center - support + 0.5); /* C truncation, as Pillow */
        int hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in_size)
            hi = in_size;
        int n = hi - lo;
        for (int x = 0; x < n; x++) {
            k[x] = kernel((x + lo - center + 0.5) * ss);
            ww += k[x];
        }
        for (int x = 0; x < n; x++) {
            double v = ww != 0.0 ? k[x] / ww : k[x];
            v *= (double)(1 << PREC_BITS);
            t->w[(size_t)i * t->ksize + x] = (int32_t)(v < 0 ? v - 0.5 : v + 0.5);
        }
        t->first[i] = lo;
        t->n[i] = n;
    }
    free(k);
    return 0;
fail:
    free(k);
    taps_free(t);
    return ds_fail(err, DS_ENOMEM, "resample %d -> %d: out of memory", in_size, out_size);
}

static uint8_t clip8(int32_t v)
{
    v >>= PREC_BITS; /* arithmetic shift, as Pillow's lookup table index */
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* Horizontal pass over rows [y0, y0 + rows) of in into out (out_w wide). */
static void pass_h(const img_rgb *in, int y0, int rows, const taps *t, int out_w,
                   uint8_t *out)
{
    for (int y = 0; y < rows; y++) {
        const uint8_t *src = in->px + (size_t)(y0 + y) * in->w * 3;
        uint8_t *dst = out + (size_t)y * out_w * 3;
        for (int x = 0; x < out_w; x++) {
            const int32_t *w = t->w + (size_t)x * t->ksize;
            const uint8_t *s = src + (size_t)t->first[x] * 3;
            int32_t r = 1 << (PREC_BITS - 1), g = r, b = r;
            for (int i = 0; i < t->n[x]; i++) {
                r += s[3 * i + 0] * w[i];
                g += s[3 * i + 1] * w[i];
                b += s[3 * i + 2] * w[i];
            }
            dst[3 * x + 0] = clip8(r);
            dst[3 * x + 1] = clip8(g);
            dst[3 * x + 2] = clip8(b);
        }
    }
}

/* Vertical pass: in is w wide; taps index its rows minus row_shift. */
static void pass_v(const uint8_t *in, int w, int row_shift, const taps *t, int out_h,
                   uint8_t *out)
{
    size_t stride = (size_t)w * 3;
    for (int y = 0; y < out_h; y++) {
        const int32_t *k = t->w + (size_t)y * t->ksize;
        const uint8_t *src = in + (size_t)(t->first[y] - row_shift) * stride;
        uint8_t *dst = out + (size_t)y * stride;
        for (size_t x = 0; x < stride; x++) {
            int32_t s = 1 << (PREC_BITS - 1);
            for (int i = 0; i < t->n[y]; i++)
                s += src[(size_t)i * stride + x] * k[i];
            dst[x] = clip8(s);
        }
    }
}

int img_resample(const img_rgb *in, int w, int h, img_filter filter, img_rgb *out,
                 ds_err *err)
{
    taps th = {0}, tv = {0};
    uint8_t *tmp = NULL, *dst = NULL;
    const uint8_t *vin = in->px;
    int vin_w = in->w, row_shift = 0;

    memset(out, 0, sizeof *out);
    if (w <= 0 || h <= 0 || in->w <= 0 || in->h <= 0)
        return ds_fail(err, DS_EINVAL, "resample %dx%d -> %dx%d: empty size", in->w, in->h,
                       w, h);
    if (taps_make(in->h, h, filter, &tv, err) != 0)
        goto fail;
    dst = g_try_malloc((size_t)w * h * 3);
    if (!dst)
        goto nomem;
    if (w != in->w) {
        /* Only the source rows some output row reads. */
        int first = tv.first[0];
        int last = tv.first[h - 1] + tv.n[h - 1];
        if (taps_make(in->w, w, filter, &th, err) != 0)
            goto fail;
        tmp = malloc((size_t)w * (size_t)(last - first) * 3 + 1);
        if (!tmp)
            goto nomem;
        pass_h(in, first, last - first, &th, w, tmp);
        vin = tmp;
        vin_w = w;
        row_shift = first;
    }
    if (h != in->h)
        pass_v(vin, vin_w, row_shift, &tv, h, dst);
    else if (w != in->w)
        memcpy(dst, tmp, (size_t)w * h * 3); /* rows first..last are all rows */
    else
        memcpy(dst, in->px, (size_t)w * h * 3);
    out->w = w;
    out->h = h;
    out->px = dst;
    dst = NULL;
    taps_free(&th);
    taps_free(&tv);
    free(tmp);
    return 0;
nomem:
    ds_fail(err, DS_ENOMEM, "resample %dx%d -> %dx%d: out of memory", in->w, in->h, w, h);
fail:
    taps_free(&th);
    taps_free(&tv);
    free(tmp);
    g_free(dst);
    return -1;
}

/* ---- img_scale: any band count, vertical pass first ---------------------- */

/* Each output row from whole input rows: acc[x] = sum of w[i] * row_i[x].
 * n is the row length in bytes; acc holds n sums. */
CLONES static void scale_rows(const uint8_t *in, size_t stride, size_t n, const taps *t,
                              int out_h, uint8_t *out, int32_t *acc)
{
    for (int y = 0; y < out_h; y++) {
        const int32_t *k = t->w + (size_t)y * t->ksize;
        const uint8_t *src = in + (size_t)t->first[y] * stride;
        for (size_t x = 0; x < n; x++)
            acc[x] = 1 << (PREC_BITS - 1);
        for (int i = 0; i < t->n[y]; i++) {
            const uint8_t *row = src + (size_t)i * stride;
            int32_t wi = k[i];
            for (size_t x = 0; x < n; x++)
                acc[x] += row[x] * wi;
        }
        uint8_t *dst = out + (size_t)y * n;
        for (size_t x = 0; x < n; x++)
            dst[x] = clip8(acc[x]);
    }
}

/* Each output column of rows rows, bands interleaved samples a pixel. */
static void scale_cols(const uint8_t *in, size_t stride, int rows, int bands, const taps *t,
                       int out_w, uint8_t *out)
{
    for (int y = 0; y < rows; y++) {
        const uint8_t *src = in + (size_t)y * stride;
        uint8_t *dst = out + (size_t)y * out_w * bands;
        for (int x = 0; x < out_w; x++) {
            const int32_t *w = t->w + (size_t)x * t->ksize;
            const uint8_t *s = src + (size_t)t->first[x] * bands;
            for (int c = 0; c < bands; c++) {
                int32_t sum = 1 << (PREC_BITS - 1);
                for (int i = 0; i < t->n[x]; i++)
                    sum += s[i * bands + c] * w[i];
                dst[x * bands + c] = clip8(sum);
            }
        }
    }
}

int img_scale(const uint8_t *in, int in_w, int in_h, size_t stride, int bands, int w, int h,
              uint8_t **out, ds_err *err)
{
    taps th = {0}, tv = {0};
    uint8_t *tmp = NULL, *dst = NULL;
    int32_t *acc = NULL;
    size_t row = (size_t)in_w * bands;

    *out = NULL;
    if (w <= 0 || h <= 0 || in_w <= 0 || in_h <= 0 || bands < 1 || stride < row)
        return ds_fail(err, DS_EINVAL, "scale %dx%d -> %dx%d: empty size", in_w, in_h, w, h);
    dst = g_try_malloc((size_t)w * h * bands);
    if (!dst)
        goto nomem;
    const uint8_t *rows = in; /* what the horizontal pass reads */
    size_t rows_stride = stride;
    if (h != in_h) {
        if (taps_make(in_h, h, IMG_FILTER_LANCZOS, &tv, err) != 0)
            goto fail;
        tmp = malloc((size_t)h * row);
        acc = malloc(row * sizeof *acc);
        if (!tmp || !acc)
            goto nomem;
        scale_rows(in, stride, row, &tv, h, tmp, acc);
        rows = tmp;
        rows_stride = row;
    }
    if (w != in_w) {
        if (taps_make(in_w, w, IMG_FILTER_LANCZOS, &th, err) != 0)
            goto fail;
        scale_cols(rows, rows_stride, h, bands, &th, w, dst);
    } else {
        for (int y = 0; y < h; y++)
            memcpy(dst + (size_t)y * row, rows + (size_t)y * rows_stride, row);
    }
    *out = dst;
    dst = NULL;
    goto out;
nomem:
    ds_fail(err, DS_ENOMEM, "scale %dx%d -> %dx%d: out of memory", in_w, in_h, w, h);
fail:
    g_free(dst);
out:
    taps_free(&th);
    taps_free(&tv);
    free(tmp);
    free(acc);
    return *out ? 0 : -1;
}
