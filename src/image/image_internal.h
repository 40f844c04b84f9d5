/* image_internal.h - what the files of src/image/ share; not for other
 * modules (they use image.h).
 *
 *   load.c        libvips start-up, format sniffing, the pixel-bomb check,
 *                 decoding to 8-bit grey or sRGB (flatten, autorotate,
 *                 16 -> 8 bit)
 *   resample.c    Pillow-compatible separable resampling (Lanczos, bicubic)
 *   prepare.c     one decode for both the tensor and the thumbnail
 *   thumbnail.c   JPEG thumbnails
 *   preprocess.c  the native and seed pipelines, normalisation
 */
#ifndef DS_IMAGE_INTERNAL_H
#define DS_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <vips/vips.h>

#include "base/error.h"
#include "image/image.h"

/* An 8-bit RGB image, interleaved, rows packed (stride w * 3). The pixels are
 * owned by whoever holds the struct and freed with img_rgb_free() (they come
 * from g_malloc, as libvips' own buffers do). */
typedef struct img_rgb {
    int w, h;
    uint8_t *px;
} img_rgb;

void img_rgb_free(img_rgb *im);

/* Decode buf (which must outlive *out: libvips reads it lazily) into a lazy
 * libvips pipeline yielding 8-bit pixels, one band for grey images (1-bit
 * USPTO drawings among them) and three for colour (sRGB): page 0, EXIF
 * orientation applied, alpha flattened onto white, CMYK converted through
 * its ICC profile (or libvips' built-in CMYK profile), 16-bit scaled to
 * 8-bit. Grey stays grey so that resizing costs a third; img_to_rgb (or
 * img_materialize) makes it RGB once the image is small.
 * Refuses, before any pixel is decoded, images with no pixels or more than
 * o->max_pixels. When shrink_to > 0 the decoder may shrink on load (JPEG
 * DCT scaling) as long as the longer side stays >= 2 * shrink_to.
 * Pixel errors (truncation) surface later, when the pipeline is computed.
 * On success *out is a new reference the caller unrefs. *format is set to
 * the format's name ("PNG"; static) for messages. Returns 0, or -1 with err
 * filled. Thread-safe. */
int img_decode(const void *buf, size_t len, const img_opts *o, int shrink_to,
               VipsImage **out, const char **format, ds_err *err);

/* Compute a 1- or 3-band uchar pipeline into memory as an img_rgb (grey is
 * copied into R, G and B; libvips allocates w * h * 3 bytes, handed over to
 * out). This is where truncated or corrupt pixel data shows. Returns 0, or
 * -1 with err filled ("PNG: truncated or corrupt pixel data: " + libvips'
 * message). */
int img_materialize(VipsImage *im, const char *format, img_rgb *out, ds_err *err);

/* Replace a 1-band *im (its reference is taken over) by the 3-band sRGB
 * image with that band in R, G and B; 3-band images are left alone. Lazy:
 * costs nothing until computed. Returns 0, or -1 with libvips' error set
 * (*im unchanged). */
int img_to_rgb(VipsImage **im);

/* Fill err from libvips' error buffer (taken and cleared atomically, so a
 * concurrent failure in another thread cannot be mixed in afterwards),
 * prefixed by what. Returns -1. */
int img_vips_fail(ds_err *err, ds_code code, const char *what);

/* Pillow's filters, as its Image.resize names them. */
typedef enum img_filter {
    IMG_FILTER_BICUBIC = 3, /* Keys cubic, a = -0.5, support 2 */
    IMG_FILTER_LANCZOS = 1, /* windowed sinc, a = 3, support 3 */
} img_filter;

/* Resize in to w x h exactly as Pillow's Image.resize((w, h), filter) does
 * for an RGB image: horizontal pass then vertical, each skipped when that
 * side keeps its size, antialiased support, 22-bit fixed-point weights, an
 * 8-bit intermediate. Allocates out->px (w * h * 3) plus one intermediate.
 * Cost: O(out pixels * taps), taps = 2 * ceil(support * max(1, in/out)) + 1.
 * Returns 0, or -1 with err filled (bad size, out of memory). Thread-safe. */
int img_resample(const img_rgb *in, int w, int h, img_filter filter, img_rgb *out,
                 ds_err *err);

/* Scale an 8-bit image of any band count (samples interleaved, rows stride
 * bytes apart) to w x h with Pillow's antialiased Lanczos-3 (its weights and
 * 22-bit fixed point), vertical pass first; not bit-equal to img_resample,
 * whose passes run the other way. On success *out is a new g_malloc'ed
 * buffer of w * h * bands bytes, rows packed. Cost: O(h * in_w * taps_v +
 * w * h * taps_h), taps = 6 * in/out + 1 when shrinking; allocates h rows
 * of in_w. Returns 0, or -1 with err (bad size, out of memory).
 * Thread-safe. */
int img_scale(const uint8_t *in, int in_w, int in_h, size_t stride, int bands, int w, int h,
              uint8_t **out, ds_err *err);

/* Scale the decoded image (1 or 3 bands, from img_decode) to w x h with
 * img_scale: into *out, a new g_malloc'ed buffer of w * h * in->Bands bytes.
 * Large reductions start with libvips' box shrink by a whole factor, which
 * streams (see preprocess.c); the image, or its shrunk copy, is computed
 * into memory here (not copied if it is a memory image already), so this is
 * where truncated or corrupt data shows: -1 with err "PNG: truncated or
 * corrupt pixel data: ...". Returns 0, or -1 with err. Thread-safe. */
int img__scale_to(VipsImage *in, const char *format, int w, int h, uint8_t **out,
                  ds_err *err);

/* The stages that img_preprocess_* and img_thumbnail_buffer chain after
 * img_decode, exposed so that img_prepare_buffer (prepare.c) can run both on
 * one decoded image. The *_from functions read the image (computing it, if
 * lazy) and keep no reference; the caller keeps its one. */
int img__check_opts(const img_opts *o, ds_err *err);
int img__native_from(VipsImage *decoded, const char *format, const img_opts *o, uint8_t *rgb,
                     ds_err *err);
int img__seed_from(const img_rgb *full, uint8_t *rgb, ds_err *err);
int img__thumbnail_check(int max_side, int quality, void **jpeg_out, size_t *len_out,
                         ds_err *err);
int img__thumbnail_from(VipsImage *decoded, const char *format, int max_side, int quality,
                        void **jpeg_out, size_t *len_out, ds_err *err);

#endif
