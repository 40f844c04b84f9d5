/* thumbnail.c - JPEG thumbnails of uploads and imported drawings.
 *
 * Decoding is img_decode's (load.c): format sniffed, pixel bombs refused
 * from the header, EXIF orientation applied, alpha flattened onto white,
 * 8-bit sRGB. The image is then scaled to fit within max_side x max_side
 * keeping its aspect ratio (the longer side becomes max_side, the shorter
 * one is rounded, at least 1): fitted, not padded to a square, like the
 * seed's 300 x 300 thumbnails. Unlike Pillow's Image.thumbnail, smaller
 * images are enlarged too, so every thumbnail has the same longer side and
 * the web UI's grid is regular (design drawings are rarely that small). Saved as baseline JPEG with optimised Huffman
 * tables and no metadata (no EXIF, ICC or XMP).
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

int img__thumbnail_from(VipsImage *decoded, const char *format, int max_side, int quality,
                        void **jpeg_out, size_t *len_out, ds_err *err)
{
    VipsImage *im = decoded, *t = NULL;
    void *jpeg = NULL;
    size_t n = 0;
    int rc = -1;

    g_object_ref(im);
    int w = im->Xsize, h = im->Ysize, tw = max_side, th = max_side;
    if (w > h)
        th = (int)((double)h * max_side / w + 0.5);
    else if (h > w)
        tw = (int)((double)w * max_side / h + 0.5);
    tw = tw < 1 ? 1 : tw;
    th = th < 1 ? 1 : th;
    if (tw != w || th != h) {
        if (vips_resize(im, &t, (double)tw / w, "vscale", (double)th / h, "kernel",
                        VIPS_KERNEL_LANCZOS3, NULL) != 0)
            goto vips_fail;
        g_object_unref(im);
        im = t;
        /* libvips rounds sizes its own way: crop or extend by a pixel to
         * land exactly on tw x th. */
        if ((im->Xsize != tw || im->Ysize != th) &&
            vips_embed(im, &t, 0, 0, tw, th, "extend", VIPS_EXTEND_COPY, NULL) == 0) {
            g_object_unref(im);
            im = t;
        } else if (im->Xsize != tw || im->Ysize != th) {
            goto vips_fail;
        }
    }
    /* Pixels are decoded here: truncated or corrupt data shows now. */
    if (vips_jpegsave_buffer(im, &jpeg, &n, "Q", quality, "strip", TRUE, "optimize_coding",
                             TRUE, "interlace", FALSE, NULL) != 0) {
        char what[80];
        snprintf(what, sizeof what, "thumbnail of %s: truncated or corrupt pixel data",
                 format);
        img_vips_fail(err, DS_EFORMAT, what);
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
    goto out;
vips_fail:
    img_vips_fail(err, DS_EFORMAT, "thumbnail: resizing");
out:
    g_free(jpeg);
    if (im)
        g_object_unref(im);
    return rc;
}
