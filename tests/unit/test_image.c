/* test_image.c - tests for the image module: every format loads and looks
 * right, hostile inputs fail cleanly, and seed mode matches the pixels that
 * Pillow + Hugging Face produced (tests/fixtures/images/, written by
 * tools/make_test_images.py). Run from the repository root. */
#include "../suites.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <vips/vips.h>
#include <vips/vector.h>

#include "image/image.h"

#define FIX "tests/fixtures/images/"

static int px_size = 64;
static uint8_t px_buf[224 * 224 * 3];

/* Decode path in native mode at side n (<= 224); 0 on success. */
static int load_native(const char *path, int n, ds_err *err)
{
    img_opts o;
    img_opts_default(&o);
    o.size = n;
    px_size = n;
    return img_pixels_file(path, &o, px_buf, err);
}

static const uint8_t *px_at(int x, int y)
{
    return px_buf + ((size_t)y * px_size + x) * 3;
}

typedef enum { RED, GREEN, BLUE, WHITE, BLACK } colour;

static int looks(const uint8_t *p, colour c)
{
    switch (c) {
    case RED: return p[0] > 170 && p[1] < 90 && p[2] < 90;
    case GREEN: return p[1] > 130 && p[0] < 110 && p[2] < 110;
    case BLUE: return p[2] > 110 && p[0] < 90 && p[1] < 110;
    case WHITE: return p[0] > 225 && p[1] > 225 && p[2] > 225;
    case BLACK: return p[0] < 40 && p[1] < 40 && p[2] < 40;
    }
    return 0;
}

#define CHECK_COLOUR(name, x, y, c)                                                     \
    do {                                                                                \
        const uint8_t *p_ = px_at(x, y);                                                \
        CHECKF(looks(p_, c), "%s (%d,%d) = %d,%d,%d, want " #c, name, x, y, p_[0], p_[1], \
               p_[2]);                                                                  \
    } while (0)

static void test_opts_and_modes(void)
{
    img_opts o;
    img_mode m = IMG_SEED;
    ds_err err = {0};
    img_opts_default(&o);
    CHECK(o.mode == IMG_NATIVE && o.size == 224 && o.max_pixels == IMG_DEFAULT_MAX_PIXELS);
    CHECK(img_input_size(&o) == 224);
    CHECK(img_mode_parse("native", &m, &err) == 0 && m == IMG_NATIVE);
    CHECK(img_mode_parse("seed", &m, &err) == 0 && m == IMG_SEED);
    CHECK(img_mode_parse("pillow", &m, &err) == -1 && err.code == DS_EINVAL);
    CHECK_MSG(err, "unknown preprocessing mode");
    CHECK(img_init(NULL, &err) == 0 && img_init("again", &err) == 0);
    /* liborc 0.4.33 frees code without a lock: Orc must stay off (load.c). */
    CHECK(!vips_vector_isenabled());

    o.mode = IMG_SEED;
    o.size = 256;
    CHECK(img_pixels_file(FIX "quad.png", &o, px_buf, &err) == -1 && err.code == DS_EINVAL);
    CHECK_MSG(err, "seed mode crops to 224");
}

/* The quadrant pattern (64 x 48: red, green / blue, white) letterboxed to 64:
 * rows 8..55 hold the image, rows 0..7 are white. */
static void check_quadrants(const char *file)
{
    char path[256];
    ds_err err = {0};
    snprintf(path, sizeof path, FIX "%s", file);
    int rc = load_native(path, 64, &err);
    CHECKF(rc == 0, "%s: %s", file, err.msg);
    if (rc != 0)
        return;
    CHECK_COLOUR(file, 12, 16, RED);
    CHECK_COLOUR(file, 52, 16, GREEN);
    CHECK_COLOUR(file, 12, 48, BLUE);
    CHECK_COLOUR(file, 52, 48, WHITE);
    CHECK_COLOUR(file, 32, 2, WHITE);
    CHECK_COLOUR(file, 32, 61, WHITE);
}

static void test_formats(void)
{
    static const char *const files[] = {
        "quad.png",  "quad.jpg",      "quad.webp",     "quad.gif",
        "quad.bmp",  "quad_lzw.tif",  "quad_cmyk.tif", "quad_cmyk.jpg",
        "quad16.tif", "quad_cmyk_icc.jpg",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        check_quadrants(files[i]);
}

static void test_exact_lossless(void)
{
    ds_err err = {0};
    /* PNG and 16-bit TIFF (v * 257) both decode to exactly 255, 0, 0. */
    const char *files[] = {FIX "quad.png", FIX "quad16.tif"};
    for (int i = 0; i < 2; i++) {
        CHECK(load_native(files[i], 64, &err) == 0);
        const uint8_t *p = px_at(12, 16);
        CHECKF(p[0] == 255 && p[1] == 0 && p[2] == 0, "%s: %d %d %d", files[i], p[0], p[1],
               p[2]);
    }
    /* Grey (8- and 16-bit) becomes RGB with equal channels. */
    const char *grey[] = {FIX "quad_gray.png", FIX "quad_gray16.png"};
    for (int i = 0; i < 2; i++) {
        CHECKF(load_native(grey[i], 64, &err) == 0, "%s: %s", grey[i], err.msg);
        const uint8_t *p = px_at(12, 16); /* red in grey: L = 76 */
        CHECKF(p[0] == 76 && p[1] == 76 && p[2] == 76, "%s: %d %d %d", grey[i], p[0], p[1],
               p[2]);
        CHECK(looks(px_at(52, 48), WHITE));
    }
}

static double mean_grey(void)
{
    double s = 0;
    for (int i = 0; i < px_size * px_size * 3; i++)
        s += px_buf[i];
    return s / (px_size * px_size * 3);
}

static void test_uspto_tiff(void)
{
    ds_err err = {0};
    int rc = load_native(FIX "drawing_g4.tif", 224, &err);
    CHECKF(rc == 0, "G4: %s", err.msg);
    double m = mean_grey();
    CHECKF(m > 200 && m < 254, "G4 drawing mean %.1f: want a white page with lines", m);
    int dark = 0;
    for (int i = 0; i < 224 * 224; i++)
        dark += px_buf[3 * i] < 128;
    CHECKF(dark > 200, "G4 drawing has only %d dark pixels", dark);

    /* Two pages, the second all black: page 0 must be the one used. */
    rc = load_native(FIX "drawing_2page.tif", 224, &err);
    CHECKF(rc == 0, "2-page G4: %s", err.msg);
    CHECKF(mean_grey() > 200, "2-page TIFF: mean %.1f, page 1 used?", mean_grey());
}

static void test_exif_orientation(void)
{
    ds_err err = {0};
    /* Stored 64 x 32 (red, green / blue, white), orientation 6: displayed
     * 32 x 64 (blue, red / white, green), in columns 16..47. */
    CHECKF(load_native(FIX "exif_rot6.jpg", 64, &err) == 0, "%s", err.msg);
    CHECK_COLOUR("exif", 4, 32, WHITE);
    CHECK_COLOUR("exif", 60, 32, WHITE);
    CHECK_COLOUR("exif", 22, 12, BLUE);
    CHECK_COLOUR("exif", 42, 12, RED);
    CHECK_COLOUR("exif", 22, 52, WHITE);
    CHECK_COLOUR("exif", 42, 52, GREEN);
}

static void test_alpha_flattened(void)
{
    static const char *const files[] = {FIX "alpha.png", FIX "palette_trns.png",
                                        FIX "palette_trns.gif"};
    const float white_r = (1.0f - 0.485f) / 0.229f;
    static float chw[3 * 64 * 64];
    for (size_t i = 0; i < 3; i++) {
        ds_err err = {0};
        CHECKF(load_native(files[i], 64, &err) == 0, "%s: %s", files[i], err.msg);
        /* Left half transparent (hidden colour black), right half red. */
        CHECK_COLOUR(files[i], 10, 32, WHITE);
        CHECK_COLOUR(files[i], 54, 32, RED);
        img_opts o;
        img_opts_default(&o);
        o.size = 64;
        CHECK(img_preprocess_file(files[i], &o, chw, &err) == 0);
        float r = chw[32 * 64 + 4];
        CHECKF(fabsf(r - white_r) < 1e-5f, "%s: transparent R = %f, want %f", files[i], r,
               white_r);
        o.mode = IMG_SEED;
        o.size = 224;
        CHECK(img_pixels_file(files[i], &o, px_buf, &err) == 0);
        px_size = 224;
        CHECK_COLOUR(files[i], 40, 112, WHITE);
    }
}

static void check_fails(const char *path, ds_code code, const char *text)
{
    ds_err err = {0};
    img_opts o;
    img_opts_default(&o);
    for (int mode = 0; mode < 2; mode++) {
        o.mode = (img_mode)mode;
        int rc = img_pixels_file(path, &o, px_buf, &err);
        CHECKF(rc == -1, "%s (mode %d) did not fail", path, mode);
        CHECKF(err.code == code, "%s: code %d (%s), want %d", path, err.code, err.msg, code);
        CHECK_MSG(err, text);
    }
}

static void test_bad_inputs(void)
{
    char path[512];
    ds_err err = {0};
    img_opts o;
    img_opts_default(&o);

    snprintf(path, sizeof path, "%s/empty.png", ds_test_tmpdir);
    CHECK(ds_test_write_file(path, "", 0) == 0);
    check_fails(path, DS_EFORMAT, "empty input");
    CHECK(img_preprocess_buffer("", 0, &o, NULL, &err) == -1);
    CHECK_MSG(err, "empty input");

    check_fails(FIX "text.png", DS_EFORMAT, "not an image");
    check_fails(FIX "truncated.png", DS_EFORMAT, "PNG: truncated or corrupt");
    check_fails(FIX "truncated.jpg", DS_EFORMAT, "JPEG: truncated or corrupt");
    check_fails(FIX "zero.png", DS_EFORMAT, "image has no pixels (0 x 0)");
    check_fails(FIX "does-not-exist.png", DS_ENOTFOUND, "does-not-exist.png");

    /* A header claiming 100000 x 100000: refused before any decoding. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    check_fails(FIX "bomb.png", DS_ETOOBIG, "100000 x 100000");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECKF(s < 1.0, "bomb refusal took %.2f s", s);
    o.max_pixels = 1000; /* 64 x 48 = 3072 */
    CHECK(img_pixels_file(FIX "quad.png", &o, px_buf, &err) == -1 && err.code == DS_ETOOBIG);
    CHECK_MSG(err, "64 x 48 = 3072 pixels, over the limit of 1000");

    /* 1 x 1000000 is refused (IMG_MAX_SIDE), quickly. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    check_fails(FIX "tall.png", DS_ETOOBIG, "1 x 1000000: a side over the limit of 65535");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECKF(s < 1.0, "tall refusal took %.2f s", s);

    /* 1 x 20000 works in both modes: a one-pixel-wide grey (200) column,
     * at x = (224 - 1) / 2 in native mode, blurred by seed mode's bicubic. */
    img_opts_default(&o);
    for (int mode = 0; mode < 2; mode++) {
        o.mode = (img_mode)mode;
        int rc = img_pixels_file(FIX "tall_ok.png", &o, px_buf, &err);
        CHECKF(rc == 0, "tall.png mode %d: %s", mode, err.msg);
        px_size = 224;
        int darkest = 255;
        for (int x = 0; x < 224; x++)
            darkest = px_at(x, 112)[0] < darkest ? px_at(x, 112)[0] : darkest;
        CHECKF(rc != 0 || (mode == 1 ? darkest < 255 : px_at(111, 112)[0] == 200),
               "tall mode %d: darkest %d", mode, darkest);
        CHECK(rc != 0 || looks(px_at(20, 112), WHITE));
    }
}

/* Seed mode against Pillow + HF (tools/make_test_images.py): the reference
 * 224 x 224 pixels are stored as PNG, read back through native mode at 224
 * (no resize, lossless). */
static void check_seed_parity(const char *input, const char *ref, double *mean_out,
                              int *max_out)
{
    static uint8_t want[224 * 224 * 3];
    ds_err err = {0};
    CHECKF(load_native(ref, 224, &err) == 0, "%s: %s", ref, err.msg);
    memcpy(want, px_buf, sizeof want);
    img_opts o;
    img_opts_default(&o);
    o.mode = IMG_SEED;
    CHECKF(img_pixels_file(input, &o, px_buf, &err) == 0, "%s: %s", input, err.msg);
    double sum = 0;
    int max = 0;
    for (size_t i = 0; i < sizeof want; i++) {
        int d = abs((int)px_buf[i] - (int)want[i]);
        sum += d;
        max = d > max ? d : max;
    }
    *mean_out = sum / sizeof want;
    *max_out = max;
    fprintf(stderr, "    seed parity %-24s mean |diff| %.4f, max %d (0..255)\n",
            input + strlen(FIX), *mean_out, max);
    CHECKF(*mean_out <= 1.0, "%s: mean abs diff %.4f > 1/255", input, *mean_out);
}

static void test_seed_parity_png(void)
{
    static const char *const names[] = {"parity_photo", "parity_tall", "parity_small"};
    for (int i = 0; i < 3; i++) {
        char in[256], ref[256];
        double mean;
        int max;
        snprintf(in, sizeof in, FIX "%s.png", names[i]);
        snprintf(ref, sizeof ref, FIX "%s_seed.png", names[i]);
        check_seed_parity(in, ref, &mean, &max);
        /* Same decoded pixels, same arithmetic: expect exact equality. */
        CHECKF(max == 0, "%s: max diff %d, want 0", names[i], max);
    }
}

static void test_seed_parity_jpeg(void)
{
    /* JPEG adds the decoder: libvips' libjpeg-turbo vs Pillow's. */
    double mean;
    int max;
    check_seed_parity(FIX "parity_photo.jpg", FIX "parity_photo_jpg_seed.png", &mean, &max);
}

/* Pillow's own conversions, which the seed system's vectors came through:
 * CMYK by its formula without colour management, 16-bit grey (mode I)
 * clipped to 255, not scaled. */
static void test_seed_parity_pillow_conversions(void)
{
    double mean;
    int max;
    check_seed_parity(FIX "parity_gray16.png", FIX "parity_gray16_seed.png", &mean, &max);
    CHECKF(max == 0, "16-bit grey: max diff %d, want 0", max);
    /* JPEG adds the decoder, as in seed_parity_jpeg. */
    check_seed_parity(FIX "parity_photo_cmyk.jpg", FIX "parity_photo_cmyk_seed.png", &mean,
                      &max);
    CHECKF(max <= 8, "CMYK JPEG: max diff %d", max);
}

static void test_normalize_matches_hf(void)
{
    size_t n = 0;
    float *want = ds_test_read_file(FIX "hf_normalize.f32", &n);
    CHECK(want && n == 3 * 256 * sizeof(float));
    if (!want || n != 3 * 256 * sizeof(float)) {
        free(want);
        return;
    }
    /* A 16 x 16 image holding every value in every channel. */
    static uint8_t rgb[16 * 16 * 3];
    static float chw[3 * 16 * 16];
    for (int i = 0; i < 256; i++)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = (uint8_t)i;
    img_normalize(rgb, 16, chw);
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++)
            bad += memcmp(&chw[c * 256 + v], &want[c * 256 + v], sizeof(float)) != 0;
    CHECKF(bad == 0, "%d of 768 normalised values differ from HF's float32", bad);
    free(want);
}

/* Several threads preprocess at once and get what one thread gets. */
typedef struct job {
    const char *path;
    img_mode mode;
    float *out;
    int rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    img_opts o;
    ds_err err = {0};
    img_opts_default(&o);
    o.mode = j->mode;
    for (int k = 0; k < 3 && j->rc == 0; k++)
        j->rc = img_preprocess_file(j->path, &o, j->out, &err);
    return NULL;
}

static void test_threads(void)
{
    enum { N = 6 };
    const char *paths[N] = {FIX "parity_photo.png", FIX "quad.jpg", FIX "drawing_g4.tif",
                            FIX "parity_tall.png",  FIX "alpha.png", FIX "truncated.png"};
    size_t plane = 3 * 224 * 224;
    float *a = calloc(2 * N * plane, sizeof(float));
    float *b = calloc(2 * N * plane, sizeof(float));
    job jobs[2 * N];
    pthread_t th[2 * N];
    CHECK(a && b);
    if (!a || !b)
        goto out;
    for (int i = 0; i < 2 * N; i++) {
        jobs[i] = (job){paths[i % N], (img_mode)(i / N), b + i * plane, 0};
        job one = {paths[i % N], (img_mode)(i / N), a + i * plane, 0};
        run_job(&one);
        CHECK((one.rc == 0) == (i % N != N - 1));
    }
    for (int i = 0; i < 2 * N; i++)
        CHECK(pthread_create(&th[i], NULL, run_job, &jobs[i]) == 0);
    for (int i = 0; i < 2 * N; i++) {
        pthread_join(th[i], NULL);
        CHECK((jobs[i].rc == 0) == (i % N != N - 1));
    }
    CHECK(memcmp(a, b, 2 * N * plane * sizeof(float)) == 0);
out:
    free(a);
    free(b);
}


/* img_prepare_buffer gives, from one decode, exactly what the separate
 * entry points give: the import's vectors and thumbnails equal add's and
 * search's. Also a bad image fails with nothing allocated. */
static void test_prepare_matches_separate(void)
{
    static const char *files[] = {"drawing_g4.tif", "quad.png", "quad.jpg", "exif_rot6.jpg",
                                  "alpha.png", "quad_lzw.tif"};
    const size_t plane = 3 * 224 * 224;
    float *a = malloc(plane * sizeof(float)), *b = malloc(plane * sizeof(float));
    CHECK(a && b);
    for (int mode = 0; mode < 2 && a && b; mode++) {
        img_opts o;
        img_opts_default(&o);
        o.mode = mode ? IMG_SEED : IMG_NATIVE;
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            char path[256];
            snprintf(path, sizeof path, FIX "%s", files[i]);
            size_t len = 0;
            char *buf = ds_test_read_file(path, &len);
            CHECKF(buf != NULL, "cannot read %s", path);
            if (!buf)
                continue;
            ds_err err = {0};
            void *j1 = NULL, *j2 = NULL;
            size_t n1 = 0, n2 = 0;
            CHECKF(img_prepare_buffer(buf, len, &o, a, 300, 85, &j1, &n1, &err) == 0, "%s: %s",
                   files[i], err.msg);
            CHECKF(img_preprocess_buffer(buf, len, &o, b, &err) == 0, "%s: %s", files[i],
                   err.msg);
            CHECKF(img_thumbnail_buffer(buf, len, 300, 85, &j2, &n2, &err) == 0, "%s: %s",
                   files[i], err.msg);
            CHECKF(memcmp(a, b, plane * sizeof(float)) == 0, "%s mode %d: tensors differ",
                   files[i], mode);
            CHECKF(n1 == n2 && j1 && j2 && memcmp(j1, j2, n1) == 0,
                   "%s mode %d: thumbnails differ (%zu vs %zu bytes)", files[i], mode, n1, n2);
            free(j1);
            free(j2);
            free(buf);
        }
    }
    ds_err err = {0};
    void *j = (void *)1;
    size_t n = 7;
    img_opts o;
    img_opts_default(&o);
    CHECK(img_prepare_buffer("not an image", 12, &o, a, 300, 85, &j, &n, &err) == -1);
    CHECK(j == NULL && n == 0 && err.code == DS_EFORMAT);
    free(a);
    free(b);
}

/* The quadrants scaled down (64 -> 32: 2x) and up (64 -> 200): the
 * colours stay where they were, grey margins do not appear. */
static void test_native_scales(void)
{
    static const int sizes[] = {32, 200};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        int n = sizes[i], top = n / 8; /* 64 x 48 -> n x 3n/4, centred */
        ds_err err = {0};
        CHECKF(load_native(FIX "quad.png", n, &err) == 0, "%d: %s", n, err.msg);
        char name[32];
        snprintf(name, sizeof name, "quad at %d", n);
        CHECK_COLOUR(name, n / 4, top + n * 3 / 16, RED);
        CHECK_COLOUR(name, n * 3 / 4, top + n * 3 / 16, GREEN);
        CHECK_COLOUR(name, n / 4, top + n * 9 / 16, BLUE);
        CHECK_COLOUR(name, n * 3 / 4, top + n * 9 / 16, WHITE);
        CHECK_COLOUR(name, n / 2, top / 2, WHITE);
        CHECK_COLOUR(name, n / 2, n - 1 - top / 2, WHITE);
    }
}

/* A w x h grey TIFF (uncompressed), white with a black rectangle over
 * x in [w/5, 2w/5), y in [h/4, 3h/4). Returns a g_malloc'ed buffer. */
static void *grey_tiff(int w, int h, size_t *len)
{
    uint8_t *px = malloc((size_t)w * h);
    void *out = NULL;
    *len = 0;
    if (!px)
        return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            px[(size_t)y * w + x] =
                x >= w / 5 && x < 2 * w / 5 && y >= h / 4 && y < 3 * h / 4 ? 0 : 255;
    VipsImage *im = vips_image_new_from_memory(px, (size_t)w * h, w, h, 1, VIPS_FORMAT_UCHAR);
    if (im) {
        im->Type = VIPS_INTERPRETATION_B_W;
        if (vips_tiffsave_buffer(im, &out, len, NULL) != 0)
            out = NULL;
        g_object_unref(im);
    }
    free(px);
    return out;
}

/* Images more than 8 times the tensor (box-shrunk first) and over 16 Mpx
 * (decoded apart, streaming): the rectangle lands where it should, grey
 * stays grey, and img_prepare_buffer equals the separate entry points. */
static void test_large_images(void)
{
    static const int dims[][2] = {{2400, 1800}, {5000, 4000}};
    const size_t plane = 3 * 224 * 224;
    float *a = malloc(plane * sizeof(float)), *b = malloc(plane * sizeof(float));
    CHECK(a && b);
    for (size_t i = 0; i < sizeof dims / sizeof *dims && a && b; i++) {
        int w = dims[i][0], h = dims[i][1];
        size_t len = 0;
        void *buf = grey_tiff(w, h, &len);
        CHECKF(buf != NULL, "%d x %d TIFF", w, h);
        if (!buf)
            continue;
        ds_err err = {0};
        img_opts o;
        img_opts_default(&o);
        void *j1 = NULL, *j2 = NULL;
        size_t n1 = 0, n2 = 0;
        CHECKF(img_prepare_buffer(buf, len, &o, a, 300, 85, &j1, &n1, &err) == 0, "%s", err.msg);
        CHECKF(img_preprocess_buffer(buf, len, &o, b, &err) == 0, "%s", err.msg);
        CHECKF(img_thumbnail_buffer(buf, len, 300, 85, &j2, &n2, &err) == 0, "%s", err.msg);
        CHECKF(memcmp(a, b, plane * sizeof(float)) == 0, "%d x %d: tensors differ", w, h);
        CHECKF(n1 == n2 && j1 && j2 && memcmp(j1, j2, n1) == 0, "%d x %d: thumbnails differ", w,
               h);
        /* Landscape: 224 wide, th high from row (224 - th) / 2. */
        int th = (int)((double)h * 224 / w + 0.5), y0 = (224 - th) / 2;
        struct {
            int x, y, dark;
        } at[] = {{67, y0 + th / 2, 1}, {150, y0 + th / 2, 0}, {67, y0 + th / 8, 0},
                  {112, y0 / 2, 0}};
        for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
            size_t p = (size_t)at[k].y * 224 + at[k].x;
            float r = a[p], g = a[plane / 3 + p], bl = a[2 * plane / 3 + p];
            /* Normalised: black is about -2, white about +2 in every channel. */
            CHECKF(at[k].dark ? r < -1.5f : r > 1.5f, "%d x %d at (%d,%d): R %.2f", w, h,
                   at[k].x, at[k].y, r);
            CHECKF(fabsf((r * 0.229f + 0.485f) - (g * 0.224f + 0.456f)) < 1e-5f &&
                       fabsf((r * 0.229f + 0.485f) - (bl * 0.225f + 0.406f)) < 1e-5f,
                   "%d x %d at (%d,%d): not grey", w, h, at[k].x, at[k].y);
        }
        free(j1);
        free(j2);
        g_free(buf);
    }
    free(a);
    free(b);
}

const ds_test image_tests[] = {
    {"opts_and_modes", test_opts_and_modes},
    {"formats", test_formats},
    {"exact_lossless", test_exact_lossless},
    {"uspto_tiff", test_uspto_tiff},
    {"exif_orientation", test_exif_orientation},
    {"alpha_flattened", test_alpha_flattened},
    {"bad_inputs", test_bad_inputs},
    {"seed_parity_png", test_seed_parity_png},
    {"seed_parity_jpeg", test_seed_parity_jpeg},
    {"seed_parity_pillow_conversions", test_seed_parity_pillow_conversions},
    {"normalize_matches_hf", test_normalize_matches_hf},
    {"threads", test_threads},
    {"prepare_matches_separate", test_prepare_matches_separate},
    {"native_scales", test_native_scales},
    {"large_images", test_large_images},
    {0},
};
