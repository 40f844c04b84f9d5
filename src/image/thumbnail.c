/* thumbnail.c - JPEG thumbnails of uploads and imported drawings.
 *
 * Decoding is img_decode's (load.c): format sniffed, pixel bombs refused
 * from the header, EXIF orientation applied, alpha flattened onto white,
 * 8-bit grey or sRGB. The image is then scaled (img__scale_to: Lanczos-3)
 * to fit within max_side x max_side keeping its aspect ratio (the longer
 * side becomes max_side, the shorter one is rounded, at least 1): fitted,
 * not padded to a square, like the seed's 300 x 300 thumbnails. Unlike
 * Pillow's Image.thumbnail, smaller images are enlarged too, so every
 * thumbnail has the same longer side and the web UI's grid is regular
 * (design drawings are rarely that small). Saved as baseline RGB JPEG with
 * optimised Huffman tables and no metadata (no EXIF, ICC or XMP).
 */
#include "image/image_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int img__thumbnail_check(int max_side, int quality, void **jpeg_out, size_t *len_out,
                         ds_err *err)
{
    if (jpeg_out)
        *jpeg_out = NULL;
    if (len_out)
        *len_out = 0;
    if (!jpeg_out || !len_out)
        return ds_fail(err, DS_EINVAL, "thumbnail: no place for the result");
    if (max_side < 1 || max_side > IMG_MAX_SIDE)
        return ds_fail(err, DS_EINVAL, "thumbnail: size %d is not within 1..%d", max_side,
                       IMG_MAX_SIDE);
    if (quality < 1 || quality > 100)
        return ds_fail(err, DS_EINVAL, "thumbnail: JPEG quality %d is not within 1..100",
                       quality);
    return 0;
}

int img_thumbnail_buffer(const void *buf, size_t len, int max_side, int quality,
                         void **jpeg_out, size_t *len_out, ds_err *err)
{
    VipsImage *im = NULL;
    const char *format = NULL;
    img_opts o;

    if (img__thumbnail_check(max_side, quality, jpeg_out, len_out, err) != 0 ||
        img_init(NULL, err) != 0)
        return -1;
    img_opts_default(&o);
    if (img_decode(buf, len, &o, max_side, &im, &format, err) != 0)
        return -1;
    int rc = img__thumbnail_from(im, format, max_side, quality, jpeg_out, len_out, err);
    g_object_unref(im);
    return rc;
}

/* Save w x h pixels of 1 or 3 bands as the thumbnail's JPEG, in RGB as
 * the seed's thumbnails were. */
static int save_jpeg(uint8_t *px, int w, int h, int bands, int quality, void **jpeg_out,
                     size_t *len_out, ds_err *err)
{
    void *jpeg = NULL;
    size_t n = 0;
    int rc = -1;
    VipsImage *im = vips_image_new_from_memory(px, (size_t)w * h * bands, w, h, bands,
                                               VIPS_FORMAT_UCHAR);
    if (!im)
        return img_vips_fail(err, DS_ENOMEM, "thumbnail");
    im->Type = bands == 1 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
    if (img_to_rgb(&im) != 0 ||
        vips_jpegsave_buffer(im, &jpeg, &n, "Q", quality, "strip", TRUE, "optimize_coding",
                             TRUE, "interlace", FALSE, NULL) != 0) {
        img_vips_fail(err, DS_EFORMAT, "thumbnail: saving JPEG");
        goto out;
    }
    /* Hand over a malloc'ed copy: callers free() as everywhere else. */
    *jpeg_out = malloc(n ? n : 1);
    if (!*jpeg_out) {
        ds_fail(err, DS_ENOMEM, "thumbnail: out of memory (%zu bytes)", n);
        goto out;
    }
    memcpy(*jpeg_out, jpeg, n);
    *len_out = n;
    rc = 0;
out:
    g_free(jpeg);
    g_object_unref(im);
    return rc;
}

int img__thumbnail_from(VipsImage *decoded, const char *format, int max_side, int quality,
                        void **jpeg_out, size_t *len_out, ds_err *err)
{
    int w = decoded->Xsize, h = decoded->Ysize, tw = max_side, th = max_side;
    uint8_t *px = NULL;
    if (w > h)
        th = (int)((double)h * max_side / w + 0.5);
    else if (h > w)
        tw = (int)((double)w * max_side / h + 0.5);
    tw = tw < 1 ? 1 : tw;
    th = th < 1 ? 1 : th;
    /* Scaled while still grey: a third of the work for drawings. Pixels
     * are decoded here, so truncated or corrupt data shows now. */
    if (img__scale_to(decoded, format, tw, th, &px, err) != 0) {
        ds_wrap(err, "thumbnail of ");
        return -1;
    }
    int rc = save_jpeg(px, tw, th, decoded->Bands, quality, jpeg_out, len_out, err);
    g_free(px);
    return rc;
}
