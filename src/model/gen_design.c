/* gen_design.c - the generated weights' values (see gen_design.h). */
#include "model/gen_design.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/prng.h"

#define PI 3.14159265358979323846

/* The scales, chosen by measuring (tests/unit/test_content.c): detectors
 * that fire for strokes, not for paper or scan noise, and positions smooth
 * enough that a shift of half a patch moves the vector little. */
typedef struct gen_knobs {
    double empty;      /* E in a patch token */
    double cls_empty;  /* E in the CLS token */
    double filter;     /* gain of the edge filters */
    double dark;       /* gain of darkness and colour */
    double jitter;     /* how far a filter's centre strays from the patch's, in patches */
    double envelope;   /* the filters' Gaussian envelope: sigma = envelope · wavelength + 1 */
    double pos;        /* |position| in P */
    double freq;       /* std of the position features' frequencies, cycles an image */
    double sharp;      /* query scale of the sharpest head */
    double value;      /* gain of the values */
    double out;        /* gain of the attention output */
    double det_f;      /* detector weight on its filter pair */
    double det_p;      /* detector weight on P */
    double det_e;      /* detector weight against E */
    double det_b;      /* detector bias */
    double fc2;        /* gain of fc2 */
    double ls1, ls2;   /* layer scales */
} gen_knobs;

static const gen_knobs knobs = {
    .empty = 1, .cls_empty = 0.1, .filter = 3, .dark = 3, .jitter = 0, .envelope = 0.8,
    .pos = 2, .freq = 1.5, .sharp = 0.1, .value = 1, .out = 1, .det_f = 1, .det_p = 1,
    .det_e = 1, .det_b = 0, .fc2 = 1, .ls1 = 1, .ls2 = 1,
};

/* The bands of the residual stream. */
typedef struct bands {
    int d, e, f0, nf, p0, np, z0, nz, g0, ng;
    int heads, dh, hidden, grid, patch;
} bands;

static bands bands_of(const vit_config *c)
{
    bands b;
    b.d = c->hidden_size;
    b.e = 0;
    b.f0 = 1, b.nf = b.d / 4;
    b.p0 = b.f0 + b.nf, b.np = b.d / 8;
    b.z0 = b.p0 + b.np, b.nz = b.d / 4;
    b.g0 = b.z0 + b.nz, b.ng = b.d - b.g0;
    b.heads = c->num_heads, b.dh = b.d / c->num_heads;
    b.hidden = c->mlp_hidden;
    b.grid = c->image_size / c->patch_size;
    b.patch = c->patch_size;
    return b;
}

/* One random stream from the model seed and a name (FNV-1a of the name), so
 * that a tensor's values do not depend on the others'. */
static void stream(ds_prng *r, uint64_t seed, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    ds_prng_seed(r, seed ^ h);
    ds_prng_seed(r, ds_prng_next(r));
}

/* ImageNet's mean and std: the model sees (pixel - mean) / std. */
static const double img_mean[3] = {0.485, 0.456, 0.406};
static const double img_std[3] = {0.229, 0.224, 0.225};

/* Patch filter t of band F as a spatial kernel k[P·P] and channel
 * coefficients a[3]; returns the bias that makes a blank white patch give 0
 * (darkness) or the constant part vanish (colour). The response of a patch
 * is sum_c a_c · sum_yx k · pixel_c in [0, 1] units. */
static double patch_filter(const bands *b, const gen_knobs *kn, uint64_t seed, int t, double *k,
                           double a[3])
{
    int p = b->patch, n = p * p;
    if (t >= b->nf - 3) {
        /* Darkness (1 - mean luminance), red - green, blue - yellow. */
        static const double coef[3][3] = {{-1. / 3, -1. / 3, -1. / 3}, {1, -1, 0},
                                          {-0.5, -0.5, 1}};
        const double *c = coef[t - (b->nf - 3)];
        for (int i = 0; i < n; i++)
            k[i] = 1.0 / n;
        for (int ch = 0; ch < 3; ch++)
            a[ch] = kn->dark * c[ch];
        return t == b->nf - 3 ? kn->dark : 0;
    }
    /* Filters 2q and 2q + 1 are a quadrature pair (even and odd phase) of
     * one orientation, scale and centre: the MLP's detectors combine the two
     * into an amplitude that a small shift does not change. */
    char name[48];
    snprintf(name, sizeof name, "dinoseek.filter.%d", t / 2);
    ds_prng r;
    stream(&r, seed, name);
    static const double wavelength[3] = {5.0, 9.0, 16.0};
    double lambda = wavelength[(t / 2) % 3], sigma = kn->envelope * lambda + 1.0;
    double theta = PI * ds_prng_uniform(&r), phase = t % 2 ? PI / 2 : 0;
    double cx = (p - 1) / 2.0 + (ds_prng_uniform(&r) - 0.5) * p * kn->jitter;
    double cy = (p - 1) / 2.0 + (ds_prng_uniform(&r) - 0.5) * p * kn->jitter;
    double mean = 0, norm = 0;
    for (int y = 0; y < p; y++)
        for (int x = 0; x < p; x++) {
            double dx = x - cx, dy = y - cy, u = dx * cos(theta) + dy * sin(theta);
            double g = exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
            k[y * p + x] = g * cos(2 * PI * u / lambda + phase);
            mean += k[y * p + x] / n;
        }
    for (int i = 0; i < n; i++) {
        k[i] -= mean;
        norm += k[i] * k[i];
    }
    for (int i = 0; i < n; i++)
        k[i] /= sqrt(norm);
    for (int ch = 0; ch < 3; ch++)
        a[ch] = kn->filter / 3;
    return 0;
}

static void fill_patch(const bands *b, const gen_knobs *kn, uint64_t seed, int bias, float *v)
{
    int p = b->patch, n = p * p;
    double *k = malloc(sizeof(double) * (size_t)n), a[3];
    if (!k)
        return;
    for (int t = 0; t < b->nf; t++) {
        double extra = patch_filter(b, kn, seed, t, k, a);
        int row = b->f0 + t;
        if (bias) {
            /* The conv sees (pixel - mean) / std: put the means back. */
            double s = extra;
            for (int ch = 0; ch < 3; ch++) {
                double sk = 0;
                for (int i = 0; i < n; i++)
                    sk += k[i];
                s += a[ch] * img_mean[ch] * sk;
            }
            v[row] = (float)s;
            continue;
        }
        for (int ch = 0; ch < 3; ch++)
            for (int i = 0; i < n; i++)
                v[((size_t)row * 3 + ch) * n + i] = (float)(k[i] * a[ch] * img_std[ch]);
    }
    if (bias)
        v[b->e] = (float)kn->empty;
    free(k);
}

/* Random Fourier features of the grid position: p_k = pos · sqrt(2 / np) ·
 * cos(w_k · (u, v) + phi_k), (u, v) in [0, 1]². The CLS token (row 0) has
 * none. */
static void fill_position(const bands *b, const gen_knobs *kn, ds_prng *r, float *v)
{
    for (int k = 0; k < b->np; k++) {
        double wx = 2 * PI * kn->freq * ds_prng_normal(r);
        double wy = 2 * PI * kn->freq * ds_prng_normal(r);
        double phi = 2 * PI * ds_prng_uniform(r), amp = kn->pos * sqrt(2.0 / b->np);
        for (int gy = 0; gy < b->grid; gy++)
            for (int gx = 0; gx < b->grid; gx++) {
                double u = gx / (b->grid - 1.0), w = gy / (b->grid - 1.0);
                size_t tok = 1 + (size_t)gy * b->grid + gx;
                v[tok * b->d + b->p0 + k] = (float)(amp * cos(wx * u + wy * w + phi));
            }
    }
}

/* Query and key: head h reads the position band (its channels from
 * h · dh on, wrapping), the query scaled by the head's sharpness. Head 0
 * has none: it averages every token. */
static void fill_qk(const bands *b, const gen_knobs *kn, int query, float *v)
{
    int reach = b->dh < b->np ? b->dh : b->np;
    for (int h = 1; h < b->heads; h++) {
        double s = query ? kn->sharp * h / (b->heads - 1.0) : 1.0;
        for (int t = 0; t < reach; t++) {
            int ch = b->p0 + (h * b->dh + t) % b->np;
            v[(size_t)(h * b->dh + t) * b->d + ch] = (float)s;
        }
    }
}

static void gaussian_rows(ds_prng *r, float *v, int d, int row0, int nrows, int col0, int ncols,
                          double sd)
{
    for (int i = row0; i < row0 + nrows; i++)
        for (int j = col0; j < col0 + ncols; j++)
            v[(size_t)i * d + j] = (float)(sd * ds_prng_normal(r));
}

/* Hidden units come in groups of PHASES detectors that read one quadrature
 * pair of filters at PHASES phases (and the same position weights): the
 * group's summed output depends on the pair's amplitude, not its phase. */
#define PHASES 4

/* fc1 (SwiGLU: weights_in's first half): detector rows. */
static void fill_fc1(const bands *b, const gen_knobs *kn, ds_prng *r, float *v)
{
    int pairs = (b->nf - 3) / 2;
    double *rp = malloc(sizeof(double) * (size_t)b->np);
    if (!rp)
        return;
    int q = 0;
    double psi0 = 0;
    for (int u = 0; u < b->hidden; u++) {
        if (u % PHASES == 0 && (u / PHASES) % 2 == 1) {
            /* The second group of two that share a column (fill_fc2): the
             * same filter pair at the mirrored position weights, so that
             * the pair writes where a kind of stroke lies, not how common
             * it is in drawings. */
            for (int j = 0; j < b->np; j++)
                rp[j] = -rp[j];
        } else if (u % PHASES == 0) {
            q = (int)(ds_prng_uniform(r) * pairs) % pairs;
            psi0 = 2 * PI * ds_prng_uniform(r);
            for (int j = 0; j < b->np; j++)
                rp[j] = kn->det_p * ds_prng_normal(r) / sqrt(b->np);
        }
        double psi = psi0 + 2 * PI * (u % PHASES) / PHASES;
        float *row = v + (size_t)u * b->d;
        row[b->f0 + 2 * q] = (float)(kn->det_f * cos(psi));
        row[b->f0 + 2 * q + 1] = (float)(kn->det_f * sin(psi));
        for (int j = 0; j < b->np; j++)
            row[b->p0 + j] = (float)rp[j];
        row[b->e] = (float)-kn->det_e;
    }
    free(rp);
}

/* fc2 (SwiGLU: weights_out) writes band Z. Two groups (one filter pair at
 * mirrored positions, fill_fc1) share one random column with opposite
 * signs, so that what reaches Z is the difference of their responses:
 * signed, centred features, whose averages over different drawings are
 * not all alike. */
static void fill_fc2(const bands *b, const gen_knobs *kn, ds_prng *r, float *v)
{
    double sd = kn->fc2 / sqrt(b->hidden);
    for (int u0 = 0; u0 < b->hidden; u0 += 2 * PHASES)
        for (int i = 0; i < b->nz; i++) {
            float w = (float)(sd * ds_prng_normal(r));
            for (int k = 0; k < 2 * PHASES && u0 + k < b->hidden; k++)
                v[(size_t)(b->z0 + i) * b->hidden + u0 + k] = k < PHASES ? w : -w;
        }
}

void gen_fill(gen_role role, int layer, const char *name, const vit_config *c, uint64_t seed,
              float *v, int64_t numel)
{
    bands b = bands_of(c);
    const gen_knobs kn = knobs;
    ds_prng r;
    stream(&r, seed, name);
    memset(v, 0, sizeof(float) * (size_t)numel);
    (void)layer;
    switch (role) {
    case GEN_CLS_TOKEN: v[b.e] = (float)kn.cls_empty; break;
    case GEN_MASK_TOKEN: break;
    case GEN_POSITION: fill_position(&b, &kn, &r, v); break;
    case GEN_PATCH_W: fill_patch(&b, &kn, seed, 0, v); break;
    case GEN_PATCH_B: fill_patch(&b, &kn, seed, 1, v); break;
    case GEN_NORM_W:
        for (int64_t i = 0; i < numel; i++)
            v[i] = 1.0f;
        break;
    case GEN_NORM_B: break;
    case GEN_QUERY_W: fill_qk(&b, &kn, 1, v); break;
    case GEN_KEY_W: fill_qk(&b, &kn, 0, v); break;
    case GEN_VALUE_W: {
        /* The detectors and colour: what a shift changes little. Not
         * darkness: it is positive in every drawing, and scan noise moves
         * it. */
        double sd = kn.value / sqrt(b.nz + 2);
        gaussian_rows(&r, v, b.d, 0, b.d, b.f0 + b.nf - 2, 2, sd);
        gaussian_rows(&r, v, b.d, 0, b.d, b.z0, b.nz, sd);
        break;
    }
    case GEN_QKV_B: break;
    case GEN_OUT_W: gaussian_rows(&r, v, b.d, b.g0, b.ng, 0, b.d, kn.out / sqrt(b.d)); break;
    case GEN_OUT_B: break;
    case GEN_LAYERSCALE1:
        for (int64_t i = 0; i < numel; i++)
            v[i] = (float)kn.ls1;
        break;
    case GEN_LAYERSCALE2:
        for (int64_t i = 0; i < numel; i++)
            v[i] = (float)kn.ls2;
        break;
    case GEN_FC1_W: fill_fc1(&b, &kn, &r, v); break;
    case GEN_FC1_B:
        for (int u = 0; u < b.hidden; u++)
            v[u] = (float)kn.det_b;
        for (int64_t u = b.hidden; u < numel; u++)
            v[u] = 1.0f; /* SwiGLU: silu(detector) · 1 */
        break;
    case GEN_FC2_W: fill_fc2(&b, &kn, &r, v); break;
    case GEN_FC2_B: break;
    }
}
