/* prepare.c - one decode for both things an imported image needs: the
 * model's input tensor and its thumbnail.
 *
 * Decoding a drawing costs about as much as both resizes together (an
 * 850 x 1100 G4 sheet: ~4 ms, and 2-3 ms each resize), so the import
 * decodes each image once into memory, as it comes (one band for a
 * drawing), and runs the two pipelines on that copy. Two cases keep their
 * own decodes: JPEG in native mode, whose decoder shrinks on load to a size
 * that depends on the target (decoding to the tensor's size is cheaper than
 * one full decode, and the tensor must be exactly what a search of the same
 * file computes), and very large images, which are box-shrunk as they
 * stream from the decoder rather than held whole (img__scale_to).
 */
#include "image/image_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Above this many pixels the two pipelines stream from the file separately
 * rather than share a decoded copy (16 Mpx = 16 MB of grey or 48 MB of RGB
 * per worker). */
#define SHARED_DECODE_MAX_PIXELS (16u << 20)

static int separate(const void *buf, size_t len, const img_opts *o, uint8_t *rgb,
                    int thumb_side, int quality, void **jpeg, size_t *jlen, ds_err *err)
{
    VipsImage *im = NULL;
    const char *format = NULL;
    int rc;
    if (o->mode == IMG_SEED) {
        img_rgb full = {0};
        if (img_decode(buf, len, o, 0, &im, &format, err) != 0)
            return -1;
        rc = img_materialize(im, format, &full, err);
        if (rc == 0)
            rc = img__seed_from(&full, rgb, err);
        img_rgb_free(&full);
    } else {
        if (img_decode(buf, len, o, o->size, &im, &format, err) != 0)
            return -1;
        rc = img__native_from(im, format, o, rgb, err);
    }
    g_object_unref(im);
    if (rc == 0)
        rc = img_thumbnail_buffer(buf, len, thumb_side, quality, jpeg, jlen, err);
    return rc;
}

static int shared(VipsImage *im, const char *format, const img_opts *o, uint8_t *rgb,
                  int thumb_side, int quality, void **jpeg, size_t *jlen, ds_err *err)
{
    /* The decoded pixels as they are (one band for a drawing): both
     * pipelines read this copy as they would read the decoder. */
    VipsImage *mem = vips_image_copy_memory(im);
    if (!mem) {
        char what[64];
        snprintf(what, sizeof what, "%s: truncated or corrupt pixel data", format);
        return img_vips_fail(err, DS_EFORMAT, what);
    }
    int rc;
    if (o->mode == IMG_SEED) {
        img_rgb full = {0};
        rc = img_materialize(mem, format, &full, err);
        if (rc == 0)
            rc = img__seed_from(&full, rgb, err);
        img_rgb_free(&full);
    } else {
        rc = img__native_from(mem, format, o, rgb, err);
    }
    if (rc == 0)
        rc = img__thumbnail_from(mem, format, thumb_side, quality, jpeg, jlen, err);
    g_object_unref(mem);
    return rc;
}

int img_prepare_buffer(const void *buf, size_t len, const img_opts *o, float *chw,
                       int thumb_side, int quality, void **jpeg, size_t *jlen, ds_err *err)
{
    if (img__thumbnail_check(thumb_side, quality, jpeg, jlen, err) != 0 ||
        img_init(NULL, err) != 0 || img__check_opts(o, err) != 0)
        return -1;
    uint8_t *rgb = malloc((size_t)o->size * o->size * 3);
    if (!rgb)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    VipsImage *im = NULL;
    const char *format = NULL;
    int rc = img_decode(buf, len, o, 0, &im, &format, err);
    if (rc == 0) {
        int own = (o->mode == IMG_NATIVE && strcmp(format, "JPEG") == 0) ||
                  (uint64_t)im->Xsize * (uint64_t)im->Ysize > SHARED_DECODE_MAX_PIXELS;
        rc = own ? separate(buf, len, o, rgb, thumb_side, quality, jpeg, jlen, err)
                 : shared(im, format, o, rgb, thumb_side, quality, jpeg, jlen, err);
        g_object_unref(im);
    }
    if (rc == 0)
        img_normalize(rgb, o->size, chw);
    else if (*jpeg) {
        free(*jpeg);
        *jpeg = NULL;
        *jlen = 0;
    }
    free(rgb);
    return rc;
}
