/* load.c - start libvips, recognise the format, refuse pixel bombs, and
 * decode to 8-bit grey or sRGB.
 *
 * Formats are recognised here from their first bytes and each is handed to
 * its own libvips loader by name; img_init() also blocks every other libvips
 * loader (SVG, PDF, HEIF, matrix, ImageMagick for anything but BMP, ...) so
 * that no outside input reaches a parser we did not choose. libvips 8.14 has
 * no BMP loader of its own: BMP goes to the ImageMagick loader, and only when
 * the data starts with "BM" and its header passes our own size check.
 */
#include "image/image_internal.h"

#include <vips/vector.h> /* not part of vips/vips.h */

#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef enum img_format {
    FMT_UNKNOWN = 0,
    FMT_JPEG,
    FMT_PNG,
    FMT_TIFF,
    FMT_WEBP,
    FMT_GIF,
    FMT_BMP,
} img_format;

static const char *const format_names[] = {"unknown", "JPEG", "PNG", "TIFF",
                                           "WebP",    "GIF",  "BMP"};

/* ---- start-up ---------------------------------------------------------- */

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_state; /* 0: not yet, 1: done, -1: failed */
static char init_msg[512];

/* The loaders we call; every other one is blocked. */
static const char *const allowed_loaders[] = {
    "VipsForeignLoadJpeg", "VipsForeignLoadPng",  "VipsForeignLoadTiff",
    "VipsForeignLoadWebp", "VipsForeignLoadNsgif", "VipsForeignLoadMagick",
};

static void quiet_log(const char *domain, GLogLevelFlags level, const char *msg,
                      void *data)
{
    (void)domain, (void)level, (void)msg, (void)data;
}

int img_init(const char *argv0, ds_err *err)
{
    int rc = 0;
    pthread_mutex_lock(&init_lock);
    if (init_state == 0) {
        if (VIPS_INIT(argv0 ? argv0 : "dinoseek") != 0) {
            char *m = vips_error_buffer_copy();
            snprintf(init_msg, sizeof init_msg, "starting libvips: %s", m ? m : "failed");
            g_free(m);
            init_state = -1;
        } else {
            /* Buffers are the caller's and short-lived: a cached load could
             * outlive its buffer, and uploads never repeat anyway. */
            vips_cache_set_max(0);
            /* libvips' Orc vector paths (reducev, convolutions) compile and
             * free code per operation, and liborc before 0.4.34 (Debian 12
             * has 0.4.33) splits and merges its code-memory list outside
             * its lock: threads resizing with libvips at once crashed in
             * orc_code_free about once in 20-40 runs of 6 threads x 300
             * resizes (the import's rare SIGSEGV). Our pipelines no longer
             * use those paths (img_scale resizes), so this costs nothing
             * and keeps any that creeps back in safe. */
            vips_vector_set_enabled(FALSE);
            /* Warnings (a truncated file, a bad tile) reach the caller as
             * errors; keep them off stderr unless asked for. */
            if (!g_getenv("DINOSEEK_VIPS_WARNINGS"))
                g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, quiet_log, NULL);
            vips_operation_block_set("VipsForeignLoad", TRUE);
            for (size_t i = 0; i < sizeof allowed_loaders / sizeof *allowed_loaders; i++)
                vips_operation_block_set(allowed_loaders[i], FALSE);
            init_state = 1;
        }
    }
    if (init_state < 0)
        rc = ds_fail(err, DS_EUNSUPPORTED, "%s", init_msg);
    pthread_mutex_unlock(&init_lock);
    return rc;
}

int img_vips_fail(ds_err *err, ds_code code, const char *what)
{
    char *m = vips_error_buffer_copy();
    char clean[900];
    size_t j = 0;
    /* One line: libvips separates messages with newlines. */
    for (size_t i = 0; m && m[i] && j + 3 < sizeof clean; i++) {
        if (m[i] == '\n') {
            if (m[i + 1])
                clean[j++] = ';', clean[j++] = ' ';
        } else {
            clean[j++] = m[i];
        }
    }
    clean[j] = '\0';
    g_free(m);
    return ds_fail(err, code, "%s: %s", what, j ? clean : "unreadable (corrupt or unsupported data)");
}

/* ---- recognising formats and reading sizes ----------------------------- */

static img_format sniff(const uint8_t *b, size_t n)
{
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return FMT_JPEG;
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return FMT_PNG;
    if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0 ||
                   memcmp(b, "II+\0", 4) == 0 || memcmp(b, "MM\0+", 4) == 0))
        return FMT_TIFF;
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return FMT_WEBP;
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return FMT_GIF;
    if (n >= 2 && b[0] == 'B' && b[1] == 'M')
        return FMT_BMP;
    return FMT_UNKNOWN;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int check_size(uint64_t w, uint64_t h, const img_opts *o, ds_err *err)
{
    if (w == 0 || h == 0)
        return ds_fail(err, DS_EFORMAT, "image has no pixels (%llu x %llu)",
                       (unsigned long long)w, (unsigned long long)h);
    if (w * h > o->max_pixels)
        return ds_fail(err, DS_ETOOBIG,
                       "image is %llu x %llu = %llu pixels, over the limit of %llu pixels",
                       (unsigned long long)w, (unsigned long long)h,
                       (unsigned long long)(w * h), (unsigned long long)o->max_pixels);
    if (w > IMG_MAX_SIDE || h > IMG_MAX_SIDE)
        return ds_fail(err, DS_ETOOBIG, "image is %llu x %llu: a side over the limit of %d pixels",
                       (unsigned long long)w, (unsigned long long)h, IMG_MAX_SIDE);
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* PNG's size from IHDR, read by us: libpng turns 0 x 0 into a warning and a
 * failure without a message, and a bomb is best refused before it. */
static int png_check(const uint8_t *b, size_t n, const img_opts *o, ds_err *err)
{
    if (n < 24 || memcmp(b + 12, "IHDR", 4) != 0)
        return ds_fail(err, DS_EFORMAT, "PNG: no IHDR header (%zu bytes)", n);
    return check_size(be32(b + 16), be32(b + 20), o, err);
}

/* BMP's size, read by us so that ImageMagick never sees a bomb. */
static int bmp_check(const uint8_t *b, size_t n, const img_opts *o, ds_err *err)
{
    if (n < 26)
        return ds_fail(err, DS_EFORMAT, "truncated BMP header (%zu bytes)", n);
    uint32_t hsize = le32(b + 14);
    uint64_t w, h;
    if (hsize == 12) { /* OS/2 core header: 16-bit sizes */
        w = (uint64_t)(b[18] | b[19] << 8);
        h = (uint64_t)(b[20] | b[21] << 8);
    } else if (hsize >= 40 && n >= 26) {
        int32_t sw = (int32_t)le32(b + 18), sh = (int32_t)le32(b + 22);
        w = sw < 0 ? (uint64_t)(-(int64_t)sw) : (uint64_t)sw;
        h = sh < 0 ? (uint64_t)(-(int64_t)sh) : (uint64_t)sh; /* < 0: top-down */
    } else {
        return ds_fail(err, DS_EFORMAT, "BMP with an unknown header size %u", hsize);
    }
    return check_size(w, h, o, err);
}

/* ---- decoding ---------------------------------------------------------- */

/* Open the header (pixels stay undecoded) with the format's own loader. */
static int open_lazy(const void *buf, size_t len, img_format f, int shrink, int random,
                     VipsImage **out)
{
    VipsAccess access = random ? VIPS_ACCESS_RANDOM : VIPS_ACCESS_SEQUENTIAL;
    void *b = (void *)buf; /* libvips reads, never writes, the buffer */
    switch (f) {
    case FMT_JPEG:
        return vips_jpegload_buffer(b, len, out, "access", access, "fail_on",
                                    VIPS_FAIL_ON_TRUNCATED, "shrink", shrink, NULL);
    case FMT_PNG:
        return vips_pngload_buffer(b, len, out, "access", access, "fail_on",
                                   VIPS_FAIL_ON_TRUNCATED, NULL);
    case FMT_TIFF:
        return vips_tiffload_buffer(b, len, out, "access", access, "fail_on",
                                    VIPS_FAIL_ON_TRUNCATED, "page", 0, "n", 1, NULL);
    case FMT_WEBP:
        return vips_webpload_buffer(b, len, out, "access", access, "fail_on",
                                    VIPS_FAIL_ON_TRUNCATED, "page", 0, "n", 1, NULL);
    case FMT_GIF:
        return vips_gifload_buffer(b, len, out, "access", access, "fail_on",
                                   VIPS_FAIL_ON_TRUNCATED, "page", 0, "n", 1, NULL);
    case FMT_BMP:
        return vips_magickload_buffer(b, len, out, "access", access, "fail_on",
                                      VIPS_FAIL_ON_TRUNCATED, "page", 0, "n", 1, NULL);
    case FMT_UNKNOWN:
        break;
    }
    vips_error("img", "no loader");
    return -1;
}

/* Swap *im for *next, the new reference a libvips call just made (passed by
 * address: C evaluates arguments in no fixed order); 0, or -1 when rc is. */
static int step(VipsImage **im, int rc, VipsImage **next)
{
    if (rc != 0)
        return -1;
    g_object_unref(*im);
    *im = *next;
    return 0;
}

/* Pillow's convert("RGB") of CMYK, which the seed system used: no colour
 * management, R = (255 - K) - round(C * (255 - K) / 255), G and B alike
 * (Convert.c, cmyk2rgb). 16-bit samples first keep their high byte, as
 * Pillow's unpackers do. Extra bands (alpha) are dropped, as Pillow does. */
static int cmyk_as_pillow(VipsImage **im)
{
    VipsImage *t = NULL, *cmy = NULL, *nk = NULL, *ink = NULL;
    if ((*im)->BandFmt == VIPS_FORMAT_USHORT &&
        step(im, vips_rshift_const1(*im, &t, 8, NULL), &t) != 0)
        return -1;
    if (step(im, vips_cast_uchar(*im, &t, NULL), &t) != 0)
        return -1;
    int rc = -1;
    /* ink = round(C * nk / 255): exact in float, as C * nk / 255 is never
     * within 1/510 of a half. */
    if (vips_extract_band(*im, &cmy, 0, "n", 3, NULL) == 0 &&
        vips_extract_band(*im, &t, 3, NULL) == 0 &&
        vips_linear1(t, &nk, -1.0, 255.0, NULL) == 0 && vips_multiply(cmy, nk, &ink, NULL) == 0) {
        VipsImage *scaled = NULL, *rounded = NULL, *rgb = NULL;
        rc = vips_linear1(ink, &scaled, 1.0 / 255.0, 0.0, NULL) ||
                     vips_round(scaled, &rounded, VIPS_OPERATION_ROUND_RINT, NULL) ||
                     vips_subtract(nk, rounded, &rgb, NULL)
                 ? -1
                 : 0;
        if (scaled)
            g_object_unref(scaled);
        if (rounded)
            g_object_unref(rounded);
        if (rc == 0) {
            VipsImage *u8 = NULL;
            rc = vips_cast_uchar(rgb, &u8, NULL) == 0 ? step(im, 0, &u8) : -1;
            if (rc == 0)
                (*im)->Type = VIPS_INTERPRETATION_sRGB;
        }
        if (rgb)
            g_object_unref(rgb);
    }
    VipsImage *refs[] = {cmy, t, nk, ink};
    for (size_t i = 0; i < sizeof refs / sizeof *refs; i++)
        if (refs[i])
            g_object_unref(refs[i]);
    return rc;
}

/* CMYK through the embedded profile, or libvips' built-in one (in seed
 * mode: Pillow's formula, see cmyk_as_pillow); Lab, XYZ, scRGB and friends
 * by formula. RGB and grey stay as they are (their ICC profiles are
 * ignored, as Pillow's convert("RGB") does). */
static int to_srgb_space(VipsImage **im, img_mode mode)
{
    VipsImage *t = NULL;
    VipsInterpretation in = vips_image_guess_interpretation(*im);
    if (in == VIPS_INTERPRETATION_CMYK && mode == IMG_SEED && (*im)->Bands >= 4)
        return cmyk_as_pillow(im);
    if (in == VIPS_INTERPRETATION_CMYK)
        return step(im, vips_icc_transform(*im, &t, "srgb", "input_profile", "cmyk",
                                           "embedded", TRUE, NULL), &t);
    if (in == VIPS_INTERPRETATION_LAB || in == VIPS_INTERPRETATION_LABS ||
        in == VIPS_INTERPRETATION_LCH || in == VIPS_INTERPRETATION_CMC ||
        in == VIPS_INTERPRETATION_XYZ || in == VIPS_INTERPRETATION_YXY ||
        in == VIPS_INTERPRETATION_HSV || in == VIPS_INTERPRETATION_scRGB ||
        in == VIPS_INTERPRETATION_LABQ)
        return step(im, vips_colourspace(*im, &t, VIPS_INTERPRETATION_sRGB, NULL), &t);
    return 0;
}

static int flatten_white(VipsImage **im)
{
    VipsImage *t = NULL;
    if (!vips_image_hasalpha(*im))
        return 0;
    /* Opaque is 65535 for 16-bit samples, 255 for everything else. */
    double max = (*im)->BandFmt == VIPS_FORMAT_USHORT ? 65535.0 : 255.0;
    VipsArrayDouble *bg = vips_array_double_newv(1, max);
    int rc = vips_flatten(*im, &t, "background", bg, "max_alpha", max, NULL);
    vips_area_unref(VIPS_AREA(bg));
    return step(im, rc, &t);
}

/* How 16-bit samples become 8-bit ones. */
typedef enum u16_rule {
    U16_SCALE, /* v * 255 / 65535 rounded: native mode */
    U16_HIGH,  /* v >> 8: Pillow's unpackers of 16-bit RGB, RGBA and LA */
    U16_CLIP,  /* min(v, 255): Pillow opens 16-bit grey as mode I, and its
                  convert("RGB") clips I to 0..255 */
} u16_rule;

/* Decided before alpha is flattened: grey with alpha is Pillow's LA. */
static u16_rule u16_rule_for(const VipsImage *im, img_mode mode)
{
    if (mode != IMG_SEED)
        return U16_SCALE;
    return im->Bands == 1 ? U16_CLIP : U16_HIGH;
}

/* Any sample format to uchar: 16-bit by `rule`; others are rounded and
 * clipped to 0..255. */
static int to_uchar(VipsImage **im, u16_rule rule)
{
    VipsImage *t = NULL;
    VipsBandFormat f = (*im)->BandFmt;
    if (f == VIPS_FORMAT_UCHAR)
        return 0;
    if (f == VIPS_FORMAT_USHORT && rule == U16_SCALE &&
        step(im, vips_linear1(*im, &t, 255.0 / 65535.0, 0.0, NULL), &t) != 0)
        return -1;
    if (f == VIPS_FORMAT_USHORT && rule == U16_HIGH &&
        step(im, vips_rshift_const1(*im, &t, 8, NULL), &t) != 0)
        return -1;
    if (vips_band_format_isfloat((*im)->BandFmt) &&
        step(im, vips_round(*im, &t, VIPS_OPERATION_ROUND_RINT, NULL), &t) != 0)
        return -1;
    return step(im, vips_cast_uchar(*im, &t, NULL), &t); /* clips: U16_CLIP */
}

/* Grey stays one band (resizing three equal bands would cost three times as
 * much for the same pixels; img_to_rgb copies it out at the end); colour is
 * exactly three bands, extra bands dropped. */
static int to_grey_or_rgb(VipsImage **im)
{
    VipsImage *t = NULL;
    if ((*im)->Bands == 1 || (*im)->Bands == 3)
        return 0;
    if ((*im)->Bands > 3)
        return step(im, vips_extract_band(*im, &t, 0, "n", 3, NULL), &t);
    return step(im, vips_extract_band(*im, &t, 0, NULL), &t); /* grey + a band */
}

int img_to_rgb(VipsImage **im)
{
    VipsImage *t = NULL;
    if ((*im)->Bands != 1)
        return 0;
    VipsImage *three[3] = {*im, *im, *im};
    if (step(im, vips_bandjoin(three, &t, 3, NULL), &t) != 0)
        return -1;
    (*im)->Type = VIPS_INTERPRETATION_sRGB;
    return 0;
}

/* The JPEG DCT shrink (1, 2, 4 or 8) that keeps the longer side >= 2 * to. */
static int jpeg_shrink(int w, int h, int to)
{
    int longer = w > h ? w : h, s = 8;
    while (s > 1 && (to <= 0 || longer / s < 2 * to))
        s /= 2;
    return s;
}

int img_crop_check(const float c[4], ds_err *err)
{
    const float slack = 1e-4f;
    if (!(c[0] >= 0 && c[1] >= 0 && c[2] > 0 && c[3] > 0 && c[0] + c[2] <= 1 + slack &&
          c[1] + c[3] <= 1 + slack))
        return ds_fail(err, DS_EINVAL,
                       "crop must be x,y,w,h as fractions of the image: x, y >= 0, w, h > 0, "
                       "x + w <= 1 and y + h <= 1");
    return 0;
}

int img_decode(const void *buf, size_t len, const img_opts *o, int shrink_to,
               VipsImage **out, const char **format, ds_err *err)
{
    VipsImage *im = NULL;
    const uint8_t *b = buf;
    img_format f;

    *out = NULL;
    *format = format_names[FMT_UNKNOWN];
    if (!buf || len == 0)
        return ds_fail(err, DS_EFORMAT, "empty input (0 bytes): not an image");
    f = sniff(b, len);
    *format = format_names[f];
    if (f == FMT_UNKNOWN)
        return ds_fail(err, DS_EFORMAT,
                       "not an image: unrecognised format (supported: JPEG, PNG, TIFF, "
                       "WebP, GIF, BMP)");
    if ((f == FMT_BMP && bmp_check(b, len, o, err) != 0) ||
        (f == FMT_PNG && png_check(b, len, o, err) != 0))
        return -1;
    /* The header only: no pixel is decoded until the pipeline is computed. */
    if (open_lazy(buf, len, f, 1, 0, &im) != 0)
        goto vips_fail;
    if (check_size((uint64_t)im->Xsize, (uint64_t)im->Ysize, o, err) != 0)
        goto fail;
    int orientation = vips_image_get_orientation(im);
    int shrink = f == FMT_JPEG ? jpeg_shrink(im->Xsize, im->Ysize, shrink_to) : 1;
    if (shrink > 1 || orientation > 1) {
        /* Rotating and flipping need the whole image: random access. */
        VipsImage *again = NULL;
        if (open_lazy(buf, len, f, shrink, orientation > 1, &again) != 0)
            goto vips_fail;
        g_object_unref(im);
        im = again;
    }
    VipsImage *t = NULL;
    if (orientation > 1 && step(&im, vips_autorot(im, &t, NULL), &t) != 0)
        goto vips_fail;
    u16_rule rule = u16_rule_for(im, o->mode);
    if (to_srgb_space(&im, o->mode) != 0 || flatten_white(&im) != 0 || to_uchar(&im, rule) != 0 ||
        to_grey_or_rgb(&im) != 0)
        goto vips_fail;
    if (o->crop_set) {
        /* After orientation: the fractions are of the image as seen. */
        if (img_crop_check(o->crop, err) != 0)
            goto fail;
        int W = im->Xsize, H = im->Ysize;
        int x = (int)(o->crop[0] * W + 0.5f), y = (int)(o->crop[1] * H + 0.5f);
        int w = (int)(o->crop[2] * W + 0.5f), h = (int)(o->crop[3] * H + 0.5f);
        x = x >= W ? W - 1 : x;
        y = y >= H ? H - 1 : y;
        w = w < 1 ? 1 : w > W - x ? W - x : w;
        h = h < 1 ? 1 : h > H - y ? H - y : h;
        if (step(&im, vips_extract_area(im, &t, x, y, w, h, NULL), &t) != 0)
            goto vips_fail;
    }
    *out = im;
    return 0;
vips_fail:
    img_vips_fail(err, DS_EFORMAT, format_names[f]);
fail:
    if (im)
        g_object_unref(im);
    return -1;
}

int img_materialize(VipsImage *im, const char *format, img_rgb *out, ds_err *err)
{
    size_t n = 0;
    char what[64];
    memset(out, 0, sizeof *out);
    g_object_ref(im);
    void *px = img_to_rgb(&im) == 0 ? vips_image_write_to_memory(im, &n) : NULL;
    if (!px) {
        g_object_unref(im);
        snprintf(what, sizeof what, "%s: truncated or corrupt pixel data", format);
        return img_vips_fail(err, DS_EFORMAT, what);
    }
    int bad = n != (size_t)im->Xsize * im->Ysize * 3 || im->Bands != 3 ||
              im->BandFmt != VIPS_FORMAT_UCHAR;
    out->w = im->Xsize;
    out->h = im->Ysize;
    g_object_unref(im);
    if (bad) {
        g_free(px);
        memset(out, 0, sizeof *out);
        return ds_fail(err, DS_EFORMAT, "decoding pixels: unexpected layout");
    }
    out->px = px; /* g_malloc-owned, as img_rgb_free expects */
    return 0;
}
