/* test_parity.c - the C forward pass equals Hugging Face's Dinov2Model.
 *
 * tools/hf_reference.py ran transformers on weights written by
 * `dinoseek model generate` and stored the expected vectors in
 * tests/fixtures/golden_<arch>.json. Here the same weights are generated
 * again, the same inputs rebuilt from their seeds, and the vectors compared:
 * cosine >= 0.99999 and max |diff| <= 1e-4 for tensors (batch 1 and 4, at
 * 224 and at 518), cosine >= 0.999 end to end for image files through the
 * seed preprocessing.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "../suites.h"
#include "base/prng.h"
#include "image/image.h"
#include "model/generate.h"
#include "model/ops.h"
#include "model/vit.h"

static json_t *load_golden(const char *arch)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/golden_%s.json", arch);
    json_error_t jerr;
    json_t *g = json_load_file(path, 0, &jerr);
    CHECKF(g != NULL, "%s: %s", path, jerr.text);
    return g;
}

/* Mirror of hf_reference.test_input(): uniform in [-2, 2) from splitmix64. */
static float *make_input(uint64_t seed, int batch, int size)
{
    size_t n = (size_t)batch * 3 * size * size;
    float *x = malloc(sizeof(float) * n);
    ds_prng r;
    ds_prng_seed(&r, seed);
    for (size_t i = 0; x && i < n; i++)
        x[i] = ds_prng_uniform(&r) * 4.0f - 2.0f;
    return x;
}

/* Compare one vector with its golden; returns the cosine. */
static double compare(const float *v, const json_t *want, int dim, double *max_diff)
{
    double dot = 0, nv = 0, nw = 0;
    *max_diff = 0;
    CHECKF((int)json_array_size(want) == dim, "golden has %zu values, model %d",
           json_array_size(want), dim);
    for (int i = 0; i < dim && i < (int)json_array_size(want); i++) {
        double w = json_number_value(json_array_get(want, (size_t)i));
        dot += v[i] * w;
        nv += (double)v[i] * v[i];
        nw += w * w;
        double diff = fabs(v[i] - w);
        *max_diff = diff > *max_diff ? diff : *max_diff;
    }
    return dot / sqrt(nv * nw);
}

static vit_model *open_generated(const json_t *g, const char *dir)
{
    ds_err err = {0};
    const char *arch = json_string_value(json_object_get(g, "arch"));
    uint64_t seed = (uint64_t)json_integer_value(json_object_get(g, "seed"));
    vit_model *m = NULL;
    CHECKF(mdl_generate(arch, seed, ST_F32, dir, &err) == 0, "%s", err.msg);
    CHECKF(vit_open(dir, &m, &err) == 0, "%s", err.msg);
    return m;
}

static void check_tensors(vit_model *m, const json_t *g)
{
    int dim = vit_get_config(m)->hidden_size;
    int batch = (int)json_integer_value(json_object_get(g, "batch"));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(g, "tensors"), i, t) {
        int size = (int)json_integer_value(json_object_get(t, "size"));
        uint64_t seed = (uint64_t)json_integer_value(json_object_get(t, "input_seed"));
        const json_t *want = json_object_get(t, "vectors");
        float *x = make_input(seed, batch, size);
        float *out = malloc(sizeof(float) * (size_t)dim * batch);
        ds_err err = {0};
        /* Batch 4, then image 0 and image 3 alone (batch 1). */
        CHECKF(vit_embed(m, x, batch, size, out, &err) == 0, "%s", err.msg);
        for (int b = 0; b < batch; b++) {
            double maxd, cos = compare(out + (size_t)b * dim, json_array_get(want, b), dim, &maxd);
            CHECKF(cos >= 0.99999 && maxd <= 1e-4, "size %d batch %d image %d: cosine %.7f, "
                   "max diff %.2e", size, batch, b, cos, maxd);
            if (b == 0)
                fprintf(stderr, "    size %d batch %d: cosine %.8f, max diff %.2e\n", size, batch,
                        cos, maxd);
        }
        for (int b = 0; b < batch; b += batch - 1) {
            size_t per = (size_t)3 * size * size;
            CHECKF(vit_embed(m, x + per * b, 1, size, out, &err) == 0, "%s", err.msg);
            double maxd, cos = compare(out, json_array_get(want, b), dim, &maxd);
            CHECKF(cos >= 0.99999 && maxd <= 1e-4, "size %d batch 1 image %d: cosine %.7f, "
                   "max diff %.2e", size, b, cos, maxd);
        }
        free(x);
        free(out);
    }
}

static void check_images(vit_model *m, const json_t *g)
{
    int dim = vit_get_config(m)->hidden_size;
    img_opts o;
    img_opts_default(&o);
    o.mode = IMG_SEED;
    o.size = 224;
    float *px = malloc(sizeof(float) * 3 * 224 * 224), *v = malloc(sizeof(float) * dim);
    size_t i;
    json_t *im;
    ds_err err = {0};
    CHECKF(img_init(NULL, &err) == 0, "%s", err.msg);
    json_array_foreach(json_object_get(g, "images"), i, im) {
        const char *file = json_string_value(json_object_get(im, "file"));
        CHECKF(img_preprocess_file(file, &o, px, &err) == 0, "%s: %s", file, err.msg);
        CHECKF(vit_embed(m, px, 1, 224, v, &err) == 0, "%s", err.msg);
        double maxd, cos = compare(v, json_object_get(im, "vector"), dim, &maxd);
        CHECKF(cos >= 0.999, "%s: end-to-end cosine %.6f", file, cos);
        fprintf(stderr, "    %s: end-to-end cosine %.6f\n", file, cos);
    }
    free(px);
    free(v);
}

static void parity(const char *arch)
{
    json_t *g = load_golden(arch);
    if (!g)
        return;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", ds_test_tmpdir, arch);
    ops_set_threads(2);
    vit_model *m = open_generated(g, dir);
    if (m) {
        check_tensors(m, g);
        check_images(m, g);
    }
    vit_close(m);
    json_decref(g);
}

static void test_small(void) { parity("small"); }
static void test_base(void) { parity("base"); }

const ds_test parity_tests[] = {
    {"dinov2-small equals Hugging Face (224, 518; batch 1, 4)", test_small},
    {"dinov2-base equals Hugging Face (224, 518; batch 1, 4)", test_base},
    {0},
};
