/* preprocess.c - from encoded bytes to the model's input: the native and
 * seed pipelines (see image.h), and the ImageNet normalisation.
 *
 * Native: decode (shrinking on load where the format allows), scale so the
 * longer side is exactly size with Lanczos-3 (img_scale: Pillow's filter;
 * the shorter side is round(short * size / long), at least 1), centre on a
 * white size x size canvas at offset ((size - w) / 2, (size - h) / 2)
 * rounded down. Grey images are scaled as one band and made RGB at the end.
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

/* Beyond this reduction factor on an axis, shrink by a box filter first. */
#define MAX_REDUCE 8.0
/* The most pixels img__scale_to holds in memory (16 MB of grey, 48 of RGB):
 * bigger images are box-shrunk first, as they stream from the decoder. */
#define MAX_SCALE_PIXELS (16.0 * 1024 * 1024)

/* The whole factors (kh, kv) to box-shrink by before Lanczos. Lanczos-3
 * reads 6 * factor + 1 taps, so past a factor of 8 a box shrink by
 * floor(factor / 2) first (as libvips' own resize does by default) saves
 * most of the work and leaves 2..4 to Lanczos; an image still over
 * MAX_SCALE_PIXELS is shrunk further, never below the target size. (libvips
 * 8.14's resize does its box step in more CPU than it saves: 59 ms for an
 * 850 x 1100 drawing to 224, against 6.5 with Lanczos alone.) */
static void box_factors(int w, int h, int tw, int th, int *kh, int *kv)
{
    double fh = (double)w / tw, fv = (double)h / th;
    *kh = fh > MAX_REDUCE ? (int)(fh / 2) : 1;
    *kv = fv > MAX_REDUCE ? (int)(fv / 2) : 1;
    while ((double)(w / *kh) * (double)(h / *kv) > MAX_SCALE_PIXELS) {
        int more_h = *kh + 1 <= fh, more_v = *kv + 1 <= fv;
        if (!more_h && !more_v)
            break;
        *kh += more_h;
        *kv += more_v;
    }
}

int img__scale_to(VipsImage *in, const char *format, int w, int h, uint8_t **out,
                  ds_err *err)
{
    VipsImage *shrunk = NULL, *mem = NULL;
    int kh, kv, rc = -1;
    *out = NULL;
    box_factors(in->Xsize, in->Ysize, w, h, &kh, &kv);
    if ((kh > 1 || kv > 1) && vips_shrink(in, &shrunk, kh, kv, NULL) != 0)
        return img_vips_fail(err, DS_EFORMAT, "resizing");
    /* Pixels are decoded here (a memory image is only referenced). */
    mem = vips_image_copy_memory(shrunk ? shrunk : in);
    if (!mem) {
        char what[64];
        snprintf(what, sizeof what, "%s: truncated or corrupt pixel data", format);
        img_vips_fail(err, DS_EFORMAT, what);
    } else if (mem->BandFmt != VIPS_FORMAT_UCHAR || (mem->Bands != 1 && mem->Bands != 3)) {
        ds_fail(err, DS_EFORMAT, "decoding pixels: unexpected layout");
    } else {
        rc = img_scale(VIPS_IMAGE_ADDR(mem, 0, 0), mem->Xsize, mem->Ysize,
                       VIPS_IMAGE_SIZEOF_LINE(mem), mem->Bands, w, h, out, err);
    }
    if (mem)
        g_object_unref(mem);
    if (shrunk)
        g_object_unref(shrunk);
    return rc;
}

int img__native_from(VipsImage *decoded, const char *format, const img_opts *o, uint8_t *rgb,
                     ds_err *err)
{
    int size = o->size, w = decoded->Xsize, h = decoded->Ysize, bands = decoded->Bands;
    int tw = size, th = size;
    uint8_t *px = NULL;
    if (w > h)
        th = (int)((double)h * size / w + 0.5);
    else if (h > w)
        tw = (int)((double)w * size / h + 0.5);
    tw = tw < 1 ? 1 : tw;
    th = th < 1 ? 1 : th;
    if (img__scale_to(decoded, format, tw, th, &px, err) != 0)
        return -1;
    /* Centred on white; grey becomes RGB here, on the small image. */
    int x0 = (size - tw) / 2, y0 = (size - th) / 2;
    memset(rgb, 255, (size_t)size * size * 3);
    for (int y = 0; y < th; y++) {
        uint8_t *dst = rgb + ((size_t)(y0 + y) * size + x0) * 3;
        const uint8_t *src = px + (size_t)y * tw * bands;
        if (bands == 3)
            memcpy(dst, src, (size_t)tw * 3);
        else
            for (int x = 0; x < tw; x++)
                dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[x];
    }
    g_free(px);
    return 0;
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
