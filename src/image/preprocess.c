/* preprocess.c - from encoded bytes to the model's input: the native and
 * seed pipelines (see image.h), and the ImageNet normalisation.
 *
 * Native: decode (shrinking on load where the format allows), scale so the
 * longer side is exactly size with libvips' Lanczos-3 (the shorter side is
 * round(short * size / long), at least 1), centre on a white size x size
 * canvas at offset ((size - w) / 2, (size - h) / 2) rounded down.
 *
 * Seed: the Python seed system step by step, with Pillow's resampling
 * (resample.c). Two deliberate differences from it, both product rules:
 * alpha is flattened onto white (Pillow's convert("RGB") drops alpha, so a
 * transparent pixel showed its hidden colour) and EXIF orientation is applied
 * (the seed system ignored it). Images without alpha and orientation, and
 * decoded the same way, give Pillow's pixels.
 */
#include "image/image_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEED_LETTERBOX 518   /* the seed system's letterbox side */
#define SEED_SHORT_EDGE 256  /* HF BitImageProcessor size["shortest_edge"] */
#define SEED_CROP 224        /* HF crop_size */
#define MAX_FILE_BYTES (1ull << 30) /* refuse image files over 1 GiB */

static const float img_mean[3] = {0.485f, 0.456f, 0.406f};
static const float img_std[3] = {0.229f, 0.224f, 0.225f};

void img_opts_default(img_opts *o)
{
    memset(o, 0, sizeof *o); /* no crop, and whatever fields come later */
    o->mode = IMG_NATIVE;
    o->size = 224;
    o->max_pixels = IMG_DEFAULT_MAX_PIXELS;
}

int img_mode_parse(const char *s, img_mode *out, ds_err *err)
{
    if (s && strcmp(s, "native") == 0)
        *out = IMG_NATIVE;
    else if (s && strcmp(s, "seed") == 0)
        *out = IMG_SEED;
    else
        return ds_fail(err, DS_EINVAL, "unknown preprocessing mode \"%s\" (native, seed)",
                       s ? s : "(null)");
    return 0;
}

int img_input_size(const img_opts *o)
{
    return o->size;
}

int img__check_opts(const img_opts *o, ds_err *err)
{
    if (o->mode != IMG_NATIVE && o->mode != IMG_SEED)
        return ds_fail(err, DS_EINVAL, "unknown preprocessing mode %d", (int)o->mode);
    if (o->mode == IMG_SEED && o->size != SEED_CROP)
        return ds_fail(err, DS_EINVAL, "seed mode crops to %d pixels, not %d", SEED_CROP,
                       o->size);
    if (o->size < 14 || o->size > 8192)
        return ds_fail(err, DS_EINVAL, "input size %d out of range (14..8192)", o->size);
    if (o->max_pixels == 0)
        return ds_fail(err, DS_EINVAL, "max_pixels must be positive");
    return 0;
}

void img_normalize(const uint8_t *rgb, int n, float *chw)
{
    /* HF: float32(float64(v) * (1/255)), then float32 (x - mean) / std. */
    float lut[3][256];
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) {
            float x = (float)((double)v * (1.0 / 255.0));
            lut[c][v] = (x - img_mean[c]) / img_std[c];
        }
    size_t plane = (size_t)n * n;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < 3; c++)
            chw[c * plane + i] = lut[c][rgb[3 * i + c]];
}

/* ---- native ------------------------------------------------------------ */

int img__native_from(VipsImage *decoded, const char *format, const img_opts *o, uint8_t *rgb,
                     ds_err *err)
{
    VipsImage *im = decoded, *t = NULL;
    VipsArrayDouble *white = NULL;
    img_rgb px = {0};
    int size = o->size, rc = -1;

    g_object_ref(im);
    int w = im->Xsize, h = im->Ysize;
    int tw = size, th = size;
    if (w > h)
        th = (int)((double)h * size / w + 0.5);
    else if (h > w)
        tw = (int)((double)w * size / h + 0.5);
    tw = tw < 1 ? 1 : tw;
    th = th < 1 ? 1 : th;
    if (vips_resize(im, &t, (double)tw / w, "vscale", (double)th / h, "kernel",
                    VIPS_KERNEL_LANCZOS3, NULL) != 0)
        goto vips_fail;
    g_object_unref(im);
    im = t;
    white = vips_array_double_newv(1, 255.0);
    /* A side one pixel over (libvips' own rounding) is cropped by embed. */
    if (vips_embed(im, &t, (size - im->Xsize) / 2, (size - im->Ysize) / 2, size, size,
                   "extend", VIPS_EXTEND_BACKGROUND, "background", white, NULL) != 0)
        goto vips_fail;
    g_object_unref(im);
    im = t;
    if (img_materialize(im, format, &px, err) != 0)
        goto out;
    memcpy(rgb, px.px, (size_t)size * size * 3);
    rc = 0;
    goto out;
vips_fail:
    img_vips_fail(err, DS_EFORMAT, "resizing");
out:
    if (white)
        vips_area_unref(VIPS_AREA(white));
    img_rgb_free(&px);
    g_object_unref(im);
    return rc;
}

/* ---- seed -------------------------------------------------------------- */

/* Python: scale = 518 / max(w, h); int(w * scale), int(h * scale); resize
 * with LANCZOS; paste centred on white. A side that Python would make 0 (the
 * seed system then failed) is 1 here. */
static int seed_letterbox(const img_rgb *in, img_rgb *out, ds_err *err)
{
    const int side = SEED_LETTERBOX;
    img_rgb small = {0};
    double scale = (double)side / (in->w > in->h ? in->w : in->h);
    int nw = (int)(in->w * scale), nh = (int)(in->h * scale);
    nw = nw < 1 ? 1 : nw > side ? side : nw;
    nh = nh < 1 ? 1 : nh > side ? side : nh;
    memset(out, 0, sizeof *out);
    if (img_resample(in, nw, nh, IMG_FILTER_LANCZOS, &small, err) != 0)
        return -1;
    out->px = g_try_malloc((size_t)side * side * 3);
    if (!out->px) {
        img_rgb_free(&small);
        return ds_fail(err, DS_ENOMEM, "letterbox: out of memory");
    }
    out->w = out->h = side;
    memset(out->px, 255, (size_t)side * side * 3);
    int x0 = (side - nw) / 2, y0 = (side - nh) / 2;
    for (int y = 0; y < nh; y++)
        memcpy(out->px + ((size_t)(y0 + y) * side + x0) * 3, small.px + (size_t)y * nw * 3,
               (size_t)nw * 3);
    img_rgb_free(&small);
    return 0;
}

/* HF BitImageProcessor: shortest edge to 256 (get_resize_output_image_size:
 * the long side is int(256 * long / short)) with PIL BICUBIC, then the
 * centre crop at ((h - 224) // 2, (w - 224) // 2). */
static int seed_hf(const img_rgb *in, uint8_t *rgb, ds_err *err)
{
    img_rgb r = {0};
    int shorter = in->w <= in->h ? in->w : in->h, longer = in->w <= in->h ? in->h : in->w;
    int nlong = (int)((double)(SEED_SHORT_EDGE * longer) / shorter);
    int nw = in->w <= in->h ? SEED_SHORT_EDGE : nlong;
    int nh = in->w <= in->h ? nlong : SEED_SHORT_EDGE;
    if (img_resample(in, nw, nh, IMG_FILTER_BICUBIC, &r, err) != 0)
        return -1;
    int top = (nh - SEED_CROP) / 2, left = (nw - SEED_CROP) / 2;
    for (int y = 0; y < SEED_CROP; y++)
        memcpy(rgb + (size_t)y * SEED_CROP * 3, r.px + ((size_t)(top + y) * nw + left) * 3,
               (size_t)SEED_CROP * 3);
    img_rgb_free(&r);
    return 0;
}

int img__seed_from(const img_rgb *full, uint8_t *rgb, ds_err *err)
{
    img_rgb box = {0};
    int rc = -1;
    if (seed_letterbox(full, &box, err) == 0)
        rc = seed_hf(&box, rgb, err);
    img_rgb_free(&box);
    return rc;
}

static int native_pixels(const void *buf, size_t len, const img_opts *o, uint8_t *rgb,
                         ds_err *err)
{
    VipsImage *im = NULL;
    const char *format = NULL;
    if (img_decode(buf, len, o, o->size, &im, &format, err) != 0)
        return -1;
    int rc = img__native_from(im, format, o, rgb, err);
    g_object_unref(im);
    return rc;
}

static int seed_pixels(const void *buf, size_t len, const img_opts *o, uint8_t *rgb,
                       ds_err *err)
{
    VipsImage *im = NULL;
    img_rgb full = {0};
    const char *format = NULL;
    if (img_decode(buf, len, o, 0, &im, &format, err) != 0)
        return -1;
    int rc = img_materialize(im, format, &full, err);
    g_object_unref(im);
    if (rc == 0)
        rc = img__seed_from(&full, rgb, err);
    img_rgb_free(&full);
    return rc;
}

/* ---- entry points ------------------------------------------------------ */

static int pixels_buffer(const void *buf, size_t len, const img_opts *o, uint8_t *rgb,
                         ds_err *err)
{
    if (img_init(NULL, err) != 0 || img__check_opts(o, err) != 0)
        return -1;
    if (o->mode == IMG_SEED)
        return seed_pixels(buf, len, o, rgb, err);
    return native_pixels(buf, len, o, rgb, err);
}

/* Read a whole file (caller frees *buf with free()). */
static int read_file(const char *path, void **buf, size_t *len, ds_err *err)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    *buf = NULL;
    *len = 0;
    if (!f)
        return ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "%s: %s", path,
                       strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return ds_fail(err, DS_EIO, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > MAX_FILE_BYTES) {
        fclose(f);
        return ds_fail(err, DS_ETOOBIG, "%s: %lld bytes, over the %llu-byte limit", path,
                       (long long)st.st_size, MAX_FILE_BYTES);
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len ? *len : 1);
    if (!*buf) {
        fclose(f);
        return ds_fail(err, DS_ENOMEM, "%s: out of memory", path);
    }
    if (fread(*buf, 1, *len, f) != *len) {
        int e = errno;
        fclose(f);
        free(*buf);
        *buf = NULL;
        return ds_fail(err, DS_EIO, "%s: read failed: %s", path, strerror(e));
    }
    fclose(f);
    return 0;
}

int img_pixels_file(const char *path, const img_opts *o, uint8_t *rgb, ds_err *err)
{
    void *buf = NULL;
    size_t len = 0;
    if (read_file(path, &buf, &len, err) != 0)
        return -1;
    int rc = pixels_buffer(buf, len, o, rgb, err);
    free(buf);
    if (rc != 0)
        ds_wrap(err, "%s: ", path);
    return rc;
}

static int preprocess(const void *buf, size_t len, const img_opts *o, float *chw,
                      ds_err *err)
{
    if (img__check_opts(o, err) != 0)
        return -1;
    size_t n = (size_t)o->size * o->size * 3;
    uint8_t *rgb = malloc(n);
    if (!rgb)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    int rc = pixels_buffer(buf, len, o, rgb, err);
    if (rc == 0)
        img_normalize(rgb, o->size, chw);
    free(rgb);
    return rc;
}

int img_preprocess_buffer(const void *buf, size_t len, const img_opts *o, float *chw,
                          ds_err *err)
{
    return preprocess(buf, len, o, chw, err);
}

int img_preprocess_file(const char *path, const img_opts *o, float *chw, ds_err *err)
{
    void *buf = NULL;
    size_t len = 0;
    if (read_file(path, &buf, &len, err) != 0)
        return -1;
    int rc = preprocess(buf, len, o, chw, err);
    free(buf);
    if (rc != 0)
        ds_wrap(err, "%s: ", path);
    return rc;
}
