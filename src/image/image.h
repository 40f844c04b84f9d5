/* image.h - decode an image and turn it into the model's input tensor.
 *
 * Decoding is libvips (JPEG, PNG, TIFF incl. 1-bit CCITT G4 / LZW / 16-bit /
 * CMYK / multi-page, WebP, GIF, BMP). Alpha and palettes are flattened onto
 * white, EXIF orientation applied, page 0 of multi-page files used, and
 * decoders shrink on load where they can.
 *
 * Two preprocessing modes:
 *  - IMG_NATIVE (default): letterbox straight to size x size on white,
 *    centred, then normalise with the ImageNet mean/std.
 *  - IMG_SEED: exactly what the Python seed system did: letterbox to 518 on
 *    white with Pillow's Lanczos, then the Hugging Face image processor
 *    (shortest edge 256 with Pillow's bicubic, centre crop 224, rescale,
 *    normalise). Our own Pillow-compatible resampler does both resizes so
 *    that pixels agree with Pillow's within rounding (they are equal on the
 *    test images). Where the seed system was wrong we are not: alpha is
 *    flattened onto white (Pillow's convert("RGB") dropped it) and EXIF
 *    orientation is applied. Colour and depth are converted as Pillow did:
 *    CMYK by its formula without the ICC profile, 16-bit grey clipped to
 *    255 (native mode uses the profile and scales 16-bit instead). Seed
 *    mode requires size 224.
 *
 * Limits: width * height <= max_pixels and each side <= IMG_MAX_SIDE,
 * checked from the header before any pixel is decoded.
 *
 * Thread safety: every function may be called from several threads at once
 * after img_init().
 */
#ifndef DS_IMAGE_H
#define DS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef enum img_mode {
    IMG_NATIVE = 0,
    IMG_SEED = 1,
} img_mode;

typedef struct img_opts {
    img_mode mode;
    int size;              /* model input side in pixels (native: any >= 14;
                              seed: the crop, 224) */
    uint64_t max_pixels;   /* refuse width*height above this before decoding */
    int crop_set;          /* 1: use only the region crop[] of the image */
    float crop[4];         /* x, y, w, h as fractions 0..1 of the (oriented)
                              image: a user's selection of the part to match */
} img_opts;

/* Check a crop: x, y >= 0, w, h > 0, x + w <= 1, y + h <= 1 (a little slack
 * for rounding). Returns 0, or -1 with err. */
int img_crop_check(const float crop[4], ds_err *err);

#define IMG_DEFAULT_MAX_PIXELS 178956970ull /* Pillow's bomb limit: ~179 Mpx */
/* Longest side accepted, whatever max_pixels says: libvips' streaming costs
 * some microseconds per row, so a 1 x 100000000 strip would take minutes
 * while holding few pixels. 65535 is also JPEG's and GIF's own limit. */
#define IMG_MAX_SIDE 65535

/* Defaults: native, 224, IMG_DEFAULT_MAX_PIXELS. */
void img_opts_default(img_opts *o);

/* Parse "native" / "seed". Returns 0, or -1 with err filled. */
int img_mode_parse(const char *s, img_mode *out, ds_err *err);

/* Start libvips once per process (idempotent, thread-safe). argv0 may be NULL.
 * Process-wide effects: every libvips loader is blocked except JPEG, PNG,
 * TIFF, WebP, GIF and ImageMagick (which this module calls for BMP only), the
 * libvips operation cache is turned off, so is libvips' Orc vector code
 * (liborc 0.4.33 is not thread-safe; see load.c), and libvips warnings are
 * kept off stderr (set DINOSEEK_VIPS_WARNINGS to see them). The img_preprocess_*
 * functions call it themselves.
 * Returns 0 on success, -1 on error. */
int img_init(const char *argv0, ds_err *err);

/* The side of the tensor img_preprocess_* writes: o->size in both modes. */
int img_input_size(const img_opts *o);

/* Decode the file or buffer and write the normalised tensor, channel-major
 * (3 x size x size floats, R then G then B), into chw.
 * Returns 0 on success, -1 with err naming the problem (empty, truncated,
 * not an image, too many pixels, ...). Allocates only temporaries.
 * img_preprocess_buffer does not keep buf after it returns. */
int img_preprocess_file(const char *path, const img_opts *o, float *chw, ds_err *err);
int img_preprocess_buffer(const void *buf, size_t len, const img_opts *o, float *chw,
                          ds_err *err);

/* Like img_preprocess_*, but stop before normalisation: write the 8-bit RGB
 * pixels (size x size x 3, interleaved) that the tensor is made from.
 * Used by the parity tests against Pillow. */
int img_pixels_file(const char *path, const img_opts *o, uint8_t *rgb, ds_err *err);

/* Normalise 8-bit interleaved RGB (n x n x 3) into a CHW float tensor with
 * the ImageNet mean/std, computed as HF does: (v / 255 - mean) / std. */
void img_normalize(const uint8_t *rgb, int n, float *chw);

/* Make a JPEG thumbnail of the image in buf (any format img_preprocess_*
 * accepts, with the same safety: pixel bombs refused from the header,
 * EXIF orientation applied, alpha flattened onto white). The image is fitted
 * within max_side x max_side keeping its aspect ratio (longer side =
 * max_side exactly, small images enlarged; not padded to a square); then saved as JPEG at quality 1..100 with all
 * metadata stripped. The seed used max_side 300, quality 85.
 * On success *jpeg_out is a new malloc'ed buffer of *len_out bytes that the
 * caller frees with free(). Does not keep buf after it returns.
 * Returns 0, or -1 with err filled (DS_EFORMAT: not an image, truncated;
 * DS_ETOOBIG: too many pixels; DS_EINVAL: bad size or quality).
 * Cost: one decode (JPEG shrinks on load) and a Lanczos resize; memory: the
 * decoded image, box-shrunk first while streaming when it is over 16 Mpx
 * or more than 8 times the size. Thread-safe. */
int img_thumbnail_buffer(const void *buf, size_t len, int max_side, int quality,
                         void **jpeg_out, size_t *len_out, ds_err *err);

/* img_preprocess_buffer and img_thumbnail_buffer of the same image at once,
 * decoding it once where that is cheaper (see prepare.c). The tensor is
 * exactly img_preprocess_buffer's; the thumbnail img_thumbnail_buffer's.
 * On success *jpeg is a new malloc'ed buffer of *jlen bytes. Returns 0, or
 * -1 with err (nothing allocated). Thread-safe. */
int img_prepare_buffer(const void *buf, size_t len, const img_opts *o, float *chw,
                       int thumb_side, int quality, void **jpeg, size_t *jlen, ds_err *err);

#endif
