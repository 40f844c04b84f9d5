/* vit.c - the DINOv2 forward pass (see vit.h for the equations).
 *
 * Shapes, with B images of S x S pixels, patch P = 14, grid g = S / P,
 * N = g² patches, T = N + 1 tokens, D the width, H the MLP width:
 *
 *   pixels [B, 3, S, S] -> patches [B·N, 3·P·P] -> x [B·T, D] -> ... -> out [B, D]
 *
 * Every nn.Linear is one product over all B·T rows at once, in the model's
 * precision (gemm.h); the attention runs one (image, head) pair per thread,
 * flash-style (attention.h): in float32 with AVX-512, or on bf16 dot
 * products in the bf16 precision; on OpenBLAS sgemm where neither serves.
 */
#include "model/vit.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"
#include "model/attention.h"
#include "model/gemm.h"
#include "model/ops.h"
#include "model/safetensors.h"

/* One transformer block's weights (Hugging Face names in the comments). */
typedef struct vit_layer {
    const float *norm1_w, *norm1_b; /* [D]      norm1.weight, norm1.bias */
    const float *qkv_w;             /* [3D, D]  attention.attention.{query,key,value}.weight, stacked */
    const float *qkv_b;             /* [3D]     their biases (zeros without qkv_bias) */
    const float *proj_w, *proj_b;   /* [D, D]   attention.output.dense.{weight,bias} */
    const float *ls1;               /* [D]      layer_scale1.lambda1 */
    const float *norm2_w, *norm2_b; /* [D]      norm2.{weight,bias} */
    const float *fc1_w, *fc1_b;     /* [H, D]   mlp.fc1 (SwiGLU: [2H, D] mlp.weights_in) */
    const float *fc2_w, *fc2_b;     /* [D, H]   mlp.fc2 (SwiGLU: mlp.weights_out) */
    const float *ls2;               /* [D]      layer_scale2.lambda1 */
    gemm_linear *qkv, *proj, *fc1, *fc2; /* the four products, in the model's precision */
} vit_layer;

typedef struct vit_weights {
    const float *cls_token;         /* [D]           embeddings.cls_token */
    const float *pos_embed;         /* [1 + n², D]   embeddings.position_embeddings, n = 518/14 */
    const float *patch_w;           /* [D, 3·P·P]    embeddings.patch_embeddings.projection.weight */
    const float *patch_b;           /* [D]           ....projection.bias */
    vit_layer *layers;              /* [L] */
    const float *norm_w, *norm_b;   /* [D]           layernorm.{weight,bias} */
    gemm_linear *patch;             /* the patch embedding as a product */
} vit_weights;

/* Activations, allocated once per (batch, size, threads). */
typedef struct vit_state {
    int batch, size, threads;
    int capacity;                   /* the largest batch the buffers hold */
    int grid, patches, tokens;      /* g, N, T */
    float *patch_rows;              /* [B·N, 3·P·P] image cut into patches */
    float *x;                       /* [B·T, D] the residual stream */
    float *xn;                      /* [B·T, D] x after a LayerNorm */
    float *qkv;                     /* [B·T, 3D] queries | keys | values */
    float *ctx;                     /* [B·T, D] attention output, heads side by side */
    float *tmp;                     /* [B·T, D] a sublayer's output before the residual add */
    float *hidden;                  /* [B·T, H] MLP hidden layer ([B·T, 2H] for SwiGLU) */
    float *gated;                   /* [B·T, H] SwiGLU's silu(a)·g */
    int tile;                       /* query rows per attention tile */
    size_t work_per_thread;         /* floats of attention workspace per thread */
    float *scores;                  /* per thread: Q [T, dh], Kᵀ [dh, T], V [T, dh], scores [tile, T]
                                     * (or the flash attention's workspace) */
    float *pos;                     /* [T, D] position embeddings at this grid */
    float *cls;                     /* [B, D] the CLS rows, in the last block */
} vit_state;

struct vit_model {
    vit_config cfg;
    gemm_precision precision;       /* of the products (gemm.h) */
    ds_err fault;                   /* the first product that failed in this pass */
    vit_profile prof;
    vit_weights w;
    vit_state s;
    st_file *file;
    float **owned;                  /* tensors we converted or fused */
    int n_owned;
    int flash;                      /* heads 64 wide, and flash kernels allowed (at open) */
    int weights_fd;                 /* model.safetensors, held open to watch it (-1: none) */
    struct stat weights_st;         /* as loaded: its size and content time */
};

/* ---- loading ---------------------------------------------------------- */

static float *own(vit_model *m, size_t n, ds_err *err)
{
    float **grown = realloc(m->owned, sizeof *grown * (size_t)(m->n_owned + 1));
    if (!grown)
        return ds_fail(err, DS_ENOMEM, "out of memory loading weights"), NULL;
    m->owned = grown;
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p)
        return ds_fail(err, DS_ENOMEM, "out of memory loading weights"), NULL;
    m->owned[m->n_owned++] = p;
    return p;
}

/* Point *out at tensor `name` of the expected shape: in place when it is
 * aligned F32, otherwise converted into memory we own. */
static int bind(vit_model *m, const char *name, int ndim, const int64_t *shape, const float **out,
                ds_err *err)
{
    const st_tensor *t;
    if (st_expect(m->file, name, ndim, shape, &t, err) != 0)
        return -1;
    if (t->dtype == ST_F32 && ((uintptr_t)t->data % sizeof(float)) == 0) {
        *out = (const float *)(const void *)t->data;
        return 0;
    }
    float *p = own(m, (size_t)t->numel, err);
    if (!p)
        return -1;
    st_to_f32(t, p);
    *out = p;
    return 0;
}

/* Stack query, key and value weights [D, D] into one [3D, D] matrix (and
 * their biases into [3D]) so that one GEMM computes all three. */
static int bind_qkv(vit_model *m, int layer, vit_layer *l, ds_err *err)
{
    int64_t d = m->cfg.hidden_size;
    float *w = own(m, (size_t)(3 * d * d), err), *b = w ? own(m, (size_t)(3 * d), err) : NULL;
    if (!b)
        return -1;
    static const char *const parts[3] = {"query", "key", "value"};
    for (int i = 0; i < 3; i++) {
        char name[128];
        const st_tensor *t;
        snprintf(name, sizeof name, "encoder.layer.%d.attention.attention.%s.weight", layer,
                 parts[i]);
        if (st_expect(m->file, name, 2, (int64_t[]){d, d}, &t, err) != 0)
            return -1;
        st_to_f32(t, w + i * d * d);
        if (!m->cfg.qkv_bias) {
            memset(b + i * d, 0, sizeof(float) * (size_t)d);
            continue;
        }
        snprintf(name, sizeof name, "encoder.layer.%d.attention.attention.%s.bias", layer,
                 parts[i]);
        if (st_expect(m->file, name, 1, (int64_t[]){d}, &t, err) != 0)
            return -1;
        st_to_f32(t, b + i * d);
    }
    l->qkv_w = w;
    l->qkv_b = b;
    return 0;
}

static int bind_layer(vit_model *m, int i, vit_layer *l, ds_err *err)
{
    int64_t d = m->cfg.hidden_size, h = m->cfg.mlp_hidden;
    /* SwiGLU (giant) names its MLP weights_in / weights_out, not fc1 / fc2. */
    const char *fc1 = m->cfg.use_swiglu ? "weights_in" : "fc1";
    const char *fc2 = m->cfg.use_swiglu ? "weights_out" : "fc2";
    int64_t h_in = m->cfg.use_swiglu ? 2 * h : h;
    const struct {
        const char *part, *name;
        int ndim;
        int64_t shape[2];
        const float **dst;
    } spec[] = {
        {"norm1", "weight", 1, {d}, &l->norm1_w},
        {"norm1", "bias", 1, {d}, &l->norm1_b},
        {"attention.output.dense", "weight", 2, {d, d}, &l->proj_w},
        {"attention.output.dense", "bias", 1, {d}, &l->proj_b},
        {"layer_scale1", "lambda1", 1, {d}, &l->ls1},
        {"norm2", "weight", 1, {d}, &l->norm2_w},
        {"norm2", "bias", 1, {d}, &l->norm2_b},
        {fc1, "weight", 2, {h_in, d}, &l->fc1_w},
        {fc1, "bias", 1, {h_in}, &l->fc1_b},
        {fc2, "weight", 2, {d, h}, &l->fc2_w},
        {fc2, "bias", 1, {d}, &l->fc2_b},
        {"layer_scale2", "lambda1", 1, {d}, &l->ls2},
    };
    for (size_t k = 0; k < sizeof spec / sizeof spec[0]; k++) {
        char name[160];
        int mlp = spec[k].part == fc1 || spec[k].part == fc2;
        snprintf(name, sizeof name, "encoder.layer.%d.%s%s.%s", i, mlp ? "mlp." : "",
                 spec[k].part, spec[k].name);
        if (bind(m, name, spec[k].ndim, spec[k].shape, spec[k].dst, err) != 0)
            return -1;
    }
    return bind_qkv(m, i, l, err);
}

static int bind_all(vit_model *m, ds_err *err)
{
    const vit_config *c = &m->cfg;
    int64_t d = c->hidden_size, p = c->patch_size, n = c->image_size / c->patch_size;
    if (bind(m, "embeddings.cls_token", 3, (int64_t[]){1, 1, d}, &m->w.cls_token, err) ||
        bind(m, "embeddings.position_embeddings", 3, (int64_t[]){1, 1 + n * n, d},
             &m->w.pos_embed, err) ||
        bind(m, "embeddings.patch_embeddings.projection.weight", 4,
             (int64_t[]){d, c->num_channels, p, p}, &m->w.patch_w, err) ||
        bind(m, "embeddings.patch_embeddings.projection.bias", 1, (int64_t[]){d}, &m->w.patch_b,
             err) ||
        bind(m, "layernorm.weight", 1, (int64_t[]){d}, &m->w.norm_w, err) ||
        bind(m, "layernorm.bias", 1, (int64_t[]){d}, &m->w.norm_b, err))
        return -1;
    m->w.layers = calloc((size_t)c->num_layers, sizeof *m->w.layers);
    if (!m->w.layers)
        return ds_fail(err, DS_ENOMEM, "out of memory loading weights");
    for (int i = 0; i < c->num_layers; i++)
        if (bind_layer(m, i, &m->w.layers[i], err) != 0)
            return -1;
    return 0;
}

static void free_linears(vit_model *m)
{
    gemm_linear_free(m->w.patch);
    m->w.patch = NULL;
    for (int i = 0; m->w.layers && i < m->cfg.num_layers; i++) {
        vit_layer *l = &m->w.layers[i];
        gemm_linear_free(l->qkv);
        gemm_linear_free(l->proj);
        gemm_linear_free(l->fc1);
        gemm_linear_free(l->fc2);
        l->qkv = l->proj = l->fc1 = l->fc2 = NULL;
    }
}

int vit_set_precision(vit_model *m, gemm_precision p, ds_err *err)
{
    const vit_config *c = &m->cfg;
    int d = c->hidden_size, h = c->mlp_hidden, k = c->num_channels * c->patch_size * c->patch_size;
    int h_in = c->use_swiglu ? 2 * h : h;
    free_linears(m);
    m->precision = p;
    if (gemm_linear_new(p, m->w.patch_w, m->w.patch_b, d, k, &m->w.patch, err) != 0)
        goto fail;
    for (int i = 0; i < c->num_layers; i++) {
        vit_layer *l = &m->w.layers[i];
        if (gemm_linear_new(p, l->qkv_w, l->qkv_b, 3 * d, d, &l->qkv, err) != 0 ||
            gemm_linear_new(p, l->proj_w, l->proj_b, d, d, &l->proj, err) != 0 ||
            gemm_linear_new(p, l->fc1_w, l->fc1_b, h_in, d, &l->fc1, err) != 0 ||
            gemm_linear_new(p, l->fc2_w, l->fc2_b, d, h, &l->fc2, err) != 0)
            goto fail;
    }
    return 0;
fail:
    ds_wrap(err, "%s weights: ", gemm_precision_name(p));
    free_linears(m);
    /* Back to the reference, which cannot fail: the model stays usable. */
    m->precision = GEMM_F32;
    ds_err ignored = {0};
    vit_set_precision(m, GEMM_F32, &ignored);
    return -1;
}

gemm_precision vit_get_precision(const vit_model *m) { return m->precision; }

/* DINOSEEK_ATTENTION=openblas keeps every precision's attention on
 * OpenBLAS (to compare, and as a way back should a kernel misbehave). */
static int flash_allowed(void)
{
    const char *v = getenv("DINOSEEK_ATTENTION");
    return !(v && !strcmp(v, "openblas"));
}

int vit_open(const char *dir, vit_model **out, ds_err *err)
{
    *out = NULL;
    vit_model *m = calloc(1, sizeof *m);
    if (!m)
        return ds_fail(err, DS_ENOMEM, "out of memory");
    m->weights_fd = -1;
    char path[4096];
    if (ds_snprintf(path, sizeof path, err, "%s/model.safetensors", dir) != 0)
        goto fail;
    /* Held open before the mapping is made: the inode watched (weights_changed)
     * is the one mapped, whatever is renamed over the path later. */
    m->weights_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (m->weights_fd >= 0 && fstat(m->weights_fd, &m->weights_st) != 0) {
        close(m->weights_fd);
        m->weights_fd = -1;
    }
    if (vit_config_load(dir, &m->cfg, err) != 0 || st_open(path, &m->file, err) != 0)
        goto fail;
    if (bind_all(m, err) != 0) {
        ds_wrap(err, "%s: ", path);
        goto fail;
    }
    if (vit_set_precision(m, GEMM_F32, err) != 0)
        goto fail;
    m->flash = m->cfg.hidden_size / m->cfg.num_heads == ATTN_HEAD && flash_allowed();
    *out = m;
    return 0;
fail:
    vit_close(m);
    return -1;
}

static void free_state(vit_state *s)
{
    float **bufs[] = {&s->patch_rows, &s->x, &s->xn, &s->qkv, &s->ctx, &s->tmp,
                      &s->hidden, &s->gated, &s->scores, &s->pos, &s->cls};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        free(*bufs[i]);
        *bufs[i] = NULL;
    }
    s->batch = s->size = s->capacity = 0;
}

void vit_close(vit_model *m)
{
    if (!m)
        return;
    if (m->weights_fd >= 0)
        close(m->weights_fd);
    free_state(&m->s);
    free_linears(m);
    for (int i = 0; i < m->n_owned; i++)
        free(m->owned[i]);
    free(m->owned);
    free(m->w.layers);
    st_close(m->file);
    free(m);
}

const vit_config *vit_get_config(const vit_model *m) { return &m->cfg; }

/* ---- position embeddings ------------------------------------------------ */

/* Keys' cubic convolution kernel with A = -0.75, PyTorch's choice. */
static void cubic_weights(float t, float w[4])
{
    const float a = -0.75f;
    float x1 = t + 1.0f, x2 = 1.0f - t, x3 = 2.0f - t;
    w[0] = ((a * x1 - 5.0f * a) * x1 + 8.0f * a) * x1 - 4.0f * a;
    w[1] = ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
    w[2] = ((a + 2.0f) * x2 - (a + 3.0f)) * x2 * x2 + 1.0f;
    w[3] = ((a * x3 - 5.0f * a) * x3 + 8.0f * a) * x3 - 4.0f * a;
}

/* Source position of output index i: half-pixel centres, align_corners=False,
 * and (for cubic) no clamping at 0, all in float as PyTorch computes it. */
static void cubic_source(int i, float scale, int *base, float *t)
{
    float real = scale * ((float)i + 0.5f) - 0.5f;
    float fl = floorf(real);
    *base = (int)fl;
    *t = real - fl;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void vit_interpolate_pos(const float *src, int n, int dim, int g, float *dst)
{
    float scale = (float)n / (float)g;
    for (int oy = 0; oy < g; oy++) {
        int by;
        float ty, wy[4];
        cubic_source(oy, scale, &by, &ty);
        cubic_weights(ty, wy);
        for (int ox = 0; ox < g; ox++) {
            int bx;
            float tx, wx[4];
            cubic_source(ox, scale, &bx, &tx);
            cubic_weights(tx, wx);
            const float *rows[4][4]; /* the 4x4 source neighbours, edges clamped */
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 4; i++)
                    rows[j][i] = src + ((size_t)clampi(by - 1 + j, 0, n - 1) * n +
                                        clampi(bx - 1 + i, 0, n - 1)) * dim;
            float *o = dst + ((size_t)oy * g + ox) * dim;
            for (int c = 0; c < dim; c++) {
                /* Along x in each of the 4 rows, then along y. */
                float acc = 0.0f;
                for (int j = 0; j < 4; j++) {
                    float r = wx[0] * rows[j][0][c] + wx[1] * rows[j][1][c] +
                              wx[2] * rows[j][2][c] + wx[3] * rows[j][3][c];
                    acc += wy[j] * r;
                }
                o[c] = acc;
            }
        }
    }
}

/* Query rows per attention tile: enough that the sgemms run well, few
 * enough that the tile of scores (rows x T floats) stays in a core's L2. */
static int attention_tile(int tokens)
{
    int rows = (256 * 1024 / (int)sizeof(float)) / tokens;
    rows = rows < 16 ? 16 : rows / 16 * 16;
    return rows > tokens ? tokens : rows;
}

/* ---- activations ------------------------------------------------------- */

static int ensure_state(vit_model *m, int batch, int size, ds_err *err)
{
    vit_state *s = &m->s;
    int threads = ops_max_threads();
    /* Buffers made for a batch serve any smaller one: a server batching
     * whatever requests are waiting does not reallocate at every call. */
    if (s->capacity >= batch && s->size == size && s->threads == threads) {
        s->batch = batch;
        return 0;
    }
    free_state(s);
    const vit_config *c = &m->cfg;
    size_t d = (size_t)c->hidden_size, h = (size_t)c->mlp_hidden, p = (size_t)c->patch_size;
    s->grid = size / c->patch_size;
    s->patches = s->grid * s->grid;
    s->tokens = s->patches + 1;
    size_t bt = (size_t)batch * (size_t)s->tokens, t = (size_t)s->tokens;
    s->patch_rows = malloc(sizeof(float) * (size_t)batch * (size_t)s->patches * 3 * p * p);
    s->x = malloc(sizeof(float) * bt * d);
    s->xn = malloc(sizeof(float) * bt * d);
    s->qkv = malloc(sizeof(float) * bt * 3 * d);
    s->ctx = malloc(sizeof(float) * bt * d);
    s->tmp = malloc(sizeof(float) * bt * d);
    s->hidden = malloc(sizeof(float) * bt * h * (c->use_swiglu ? 2 : 1));
    s->gated = c->use_swiglu ? malloc(sizeof(float) * bt * h) : NULL;
    s->tile = attention_tile(s->tokens);
    s->work_per_thread = 3 * t * (d / (size_t)c->num_heads) + (size_t)s->tile * t;
    size_t f32 = attn_f32_workspace(s->tokens), bf16 = attn_bf16_workspace(s->tokens);
    size_t flash = (f32 > bf16 ? f32 : bf16) / sizeof(float);
    if (flash > s->work_per_thread)
        s->work_per_thread = flash;
    s->work_per_thread = (s->work_per_thread + 15) / 16 * 16; /* 64-byte aligned per thread */
    s->scores = aligned_alloc(64, sizeof(float) * (size_t)threads * s->work_per_thread);
    s->pos = malloc(sizeof(float) * t * d);
    s->cls = malloc(sizeof(float) * (size_t)batch * d);
    if (!s->cls || !s->patch_rows || !s->x || !s->xn || !s->qkv || !s->ctx || !s->tmp || !s->hidden ||
        (c->use_swiglu && !s->gated) || !s->scores || !s->pos) {
        free_state(s);
        return ds_fail(err, DS_ENOMEM, "out of memory for activations (batch %d, size %d)",
                       batch, size);
    }
    s->batch = s->capacity = batch;
    s->size = size;
    s->threads = threads;
    /* Dinov2Embeddings.interpolate_pos_encoding: the trained grid as is when
     * it matches, else the patch part resized bicubically; CLS kept. */
    int n = c->image_size / c->patch_size;
    memcpy(s->pos, m->w.pos_embed, sizeof(float) * d);
    if (s->grid == n)
        memcpy(s->pos + d, m->w.pos_embed + d, sizeof(float) * (size_t)n * n * d);
    else
        vit_interpolate_pos(m->w.pos_embed + d, n, (int)d, s->grid, s->pos + d);
    return 0;
}

/* ---- the forward pass ---------------------------------------------------- */

/* y = x·Wᵀ + b through the layer's prepared product. Only a reduced
 * precision can fail (out of memory); the first failure is kept and
 * vit_embed reports it once the pass is over. */
static void linear(vit_model *m, gemm_linear *l, const float *x, int rows, float *y)
{
    ds_err err = {0};
    if (!m->fault.code && gemm_linear_run(l, x, rows, y, &err) != 0)
        m->fault = err;
}

/* Dinov2PatchEmbeddings + CLS + position: x = [cls; conv14x14(pixels)] + pos.
 * The stride-14 convolution is a GEMM once each patch is laid out as a row
 * in (channel, y, x) order, the order of the conv kernel's weights. */
static void embed(vit_model *m, const float *pixels)
{
    vit_state *s = &m->s;
    const vit_config *c = &m->cfg;
    int p = c->patch_size, g = s->grid, d = c->hidden_size, k = 3 * p * p, size = s->size;
#pragma omp parallel for schedule(static)
    for (int row = 0; row < s->batch * s->patches; row++) {
        int b = row / s->patches, py = (row % s->patches) / g, px = row % g;
        float *dst = s->patch_rows + (size_t)row * k;
        for (int ch = 0; ch < 3; ch++)
            for (int ky = 0; ky < p; ky++)
                memcpy(dst + (ch * p + ky) * p,
                       pixels + (((size_t)b * 3 + ch) * size + (size_t)py * p + ky) * size +
                           (size_t)px * p,
                       sizeof(float) * (size_t)p);
    }
    linear(m, m->w.patch, s->patch_rows, s->batch * s->patches, s->tmp);
    for (int b = 0; b < s->batch; b++) {
        float *x = s->x + (size_t)b * s->tokens * d;
        for (int i = 0; i < d; i++)
            x[i] = m->w.cls_token[i] + s->pos[i];
        const float *patch = s->tmp + (size_t)b * s->patches * d;
        for (size_t i = 0; i < (size_t)s->patches * d; i++)
            x[d + i] = patch[i] + s->pos[d + i];
    }
}

/* Multi-head self-attention on s->qkv into s->ctx:
 * per (image, head): softmax(Q·Kᵀ / √dh) · V, heads side by side.
 *
 * On OpenBLAS, where the flash kernels do not serve (no AVX-512, or heads
 * not 64 wide). Each (image, head) is one job. The job first copies its head's queries,
 * keys (transposed) and values out of the interleaved qkv rows into
 * contiguous per-thread buffers: OpenBLAS runs these dh = 64 products
 * about a third faster on packed operands, and the copy costs 1/T of the
 * work. Then the query rows go through in tiles small enough that a tile of
 * scores stays in L2; softmax is over whole rows, so tiles are independent. */
static void attention_f32(vit_model *m)
{
    vit_state *s = &m->s;
    int d = m->cfg.hidden_size, heads = m->cfg.num_heads, dh = d / heads, t = s->tokens;
    int tile = s->tile;
    float scale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for schedule(dynamic)
    for (int job = 0; job < s->batch * heads; job++) {
        int b = job / heads, h = job % heads;
        float *qh = s->scores + (size_t)ops_thread_index() * s->work_per_thread;
        float *kt = qh + (size_t)t * dh, *vh = kt + (size_t)t * dh, *scores = vh + (size_t)t * dh;
        const float *src = s->qkv + (size_t)b * t * 3 * d + (size_t)h * dh;
        for (int i = 0; i < t; i++) {
            const float *row = src + (size_t)i * 3 * d;
            memcpy(qh + (size_t)i * dh, row, sizeof(float) * (size_t)dh);
            memcpy(vh + (size_t)i * dh, row + 2 * d, sizeof(float) * (size_t)dh);
            for (int k = 0; k < dh; k++)
                kt[(size_t)k * t + i] = row[d + k];
        }
        for (int r0 = 0; r0 < t; r0 += tile) {
            int rows = t - r0 < tile ? t - r0 : tile;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, t, dh, scale,
                        qh + (size_t)r0 * dh, dh, kt, t, 0.0f, scores, t);
            ops_softmax_rows(scores, rows, t);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, dh, t, 1.0f, scores, t,
                        vh, dh, 0.0f, s->ctx + ((size_t)b * t + r0) * d + (size_t)h * dh, d);
        }
    }
}

typedef void attention_head(const float *q, const float *k, const float *v, size_t ld, int t,
                            float scale, float *out, size_t ldo, void *work);

/* The same through a flash kernel (attention.h), one (image, head) per job. */
static void attention_flash(vit_model *m, attention_head *head)
{
    vit_state *s = &m->s;
    int d = m->cfg.hidden_size, heads = m->cfg.num_heads, dh = d / heads, t = s->tokens;
    float scale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for schedule(dynamic)
    for (int job = 0; job < s->batch * heads; job++) {
        int b = job / heads, h = job % heads;
        const float *q = s->qkv + (size_t)b * t * 3 * d + (size_t)h * dh;
        head(q, q + d, q + 2 * d, 3 * (size_t)d, t, scale,
             s->ctx + (size_t)b * t * d + (size_t)h * dh, (size_t)d,
             s->scores + (size_t)ops_thread_index() * s->work_per_thread);
    }
}

/* bf16 and int8 run their attention in bf16 (int8 attention would round
 * the probabilities far worse than their products already do); f32 and
 * bf16x2 keep float32's, for their numbers are the point of them. Each
 * where its kernel serves. */
static void attention(vit_model *m)
{
    int fast = m->precision == GEMM_BF16 || m->precision == GEMM_INT8;
    if (m->flash && fast && attn_bf16_available())
        attention_flash(m, attn_bf16_head);
    else if (m->flash && attn_f32_available())
        attention_flash(m, attn_f32_head);
    else
        attention_f32(m);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Run one step of the forward pass and charge its time to a profile slot. */
#define TIMED(slot, step)                                                     \
    do {                                                                      \
        double t0_ = now();                                                   \
        step;                                                                 \
        m->prof.slot += now() - t0_;                                          \
    } while (0)

const vit_profile *vit_get_profile(const vit_model *m) { return &m->prof; }
void vit_profile_reset(vit_model *m) { memset(&m->prof, 0, sizeof m->prof); }

/* x[rows] += λ1 · Proj(ctx[rows]): the attention's output projection and
 * its residual. */
static void attention_output(vit_model *m, const vit_layer *l, const float *ctx, float *x,
                             int rows)
{
    int d = m->cfg.hidden_size;
    TIMED(linear, linear(m, l->proj, ctx, rows, m->s.tmp));
    TIMED(residual, ops_add_scaled(x, m->s.tmp, l->ls1, rows, d));
}

/* x[rows] += λ2 · MLP(LN2(x[rows])), the MLP being fc1 → GELU → fc2, or
 * SwiGLU for giant. */
static void mlp(vit_model *m, const vit_layer *l, float *x, int rows)
{
    vit_state *s = &m->s;
    const vit_config *c = &m->cfg;
    int d = c->hidden_size, h = c->mlp_hidden;
    TIMED(norm, ops_layernorm(x, rows, d, l->norm2_w, l->norm2_b, c->layer_norm_eps, s->xn));
    if (c->use_swiglu) {
        TIMED(linear, linear(m, l->fc1, s->xn, rows, s->hidden));
        TIMED(act, ops_swiglu(s->hidden, rows, h, s->gated));
        TIMED(linear, linear(m, l->fc2, s->gated, rows, s->tmp));
    } else {
        TIMED(linear, linear(m, l->fc1, s->xn, rows, s->hidden));
        TIMED(act, ops_gelu(s->hidden, (size_t)rows * h));
        TIMED(linear, linear(m, l->fc2, s->hidden, rows, s->tmp));
    }
    TIMED(residual, ops_add_scaled(x, s->tmp, l->ls2, rows, d));
}

/* Q, K and V of every token: qkv = LN1(x) · W_qkvᵀ + b. */
static void queries_keys_values(vit_model *m, const vit_layer *l)
{
    vit_state *s = &m->s;
    int d = m->cfg.hidden_size, rows = s->batch * s->tokens;
    TIMED(norm, ops_layernorm(s->x, rows, d, l->norm1_w, l->norm1_b, m->cfg.layer_norm_eps,
                              s->xn));
    TIMED(linear, linear(m, l->qkv, s->xn, rows, s->qkv));
}

/* Dinov2Layer: pre-norm attention and MLP, each scaled by its LayerScale. */
static void block(vit_model *m, const vit_layer *l)
{
    vit_state *s = &m->s;
    int rows = s->batch * s->tokens;
    queries_keys_values(m, l);
    TIMED(attention, attention(m));
    attention_output(m, l, s->ctx, s->x, rows);
    mlp(m, l, s->x, rows);
}

/* Attention for the CLS query alone: ctx_cls[b] = softmax(q_cls·Kᵀ/√dh)·V,
 * one row per image in s->ctx. */
static void attention_cls(vit_model *m)
{
    vit_state *s = &m->s;
    int d = m->cfg.hidden_size, heads = m->cfg.num_heads, dh = d / heads, t = s->tokens;
    float scale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for schedule(dynamic)
    for (int job = 0; job < s->batch * heads; job++) {
        int b = job / heads, h = job % heads;
        float *scores = s->scores + (size_t)ops_thread_index() * s->work_per_thread;
        const float *q = s->qkv + (size_t)b * t * 3 * d + (size_t)h * dh;
        const float *k = q + d, *v = q + 2 * d;
        cblas_sgemv(CblasRowMajor, CblasNoTrans, t, dh, scale, k, 3 * d, q, 1, 0.0f, scores, 1);
        ops_softmax_rows(scores, 1, t);
        cblas_sgemv(CblasRowMajor, CblasTrans, t, dh, 1.0f, v, 3 * d, scores, 1, 0.0f,
                    s->ctx + (size_t)b * d + (size_t)h * dh, 1);
    }
}

/* The last block. Only the CLS rows of its output are ever read (they make
 * the image vector), so once Q/K/V exist for every token (each token's key
 * and value feed the CLS query) it runs attention for the CLS query alone
 * and the projection and MLP on B rows instead of B·T. Same numbers, about
 * 6% less work at 224. */
static void last_block(vit_model *m, const vit_layer *l)
{
    vit_state *s = &m->s;
    int d = m->cfg.hidden_size;
    queries_keys_values(m, l);
    TIMED(attention, attention_cls(m));
    for (int b = 0; b < s->batch; b++)
        memcpy(s->cls + (size_t)b * d, s->x + (size_t)b * s->tokens * d, sizeof(float) * d);
    attention_output(m, l, s->ctx, s->cls, s->batch);
    mlp(m, l, s->cls, s->batch);
}

/* Whether the weights' file was written since it was loaded. Its F32
 * tensors are used in place in a shared mapping, so a file overwritten in
 * place (cp over it, same inode) changes the weights a running process
 * computes with, under the model id it recorded from the old ones: its
 * vectors would be the new weights' or a mixture, stored in a collection
 * of the old. A file renamed over the path is another inode and changes
 * nothing here. Checked after each pass, so that a pass that read changed
 * pages is not trusted. */
static int weights_changed(const vit_model *m)
{
    struct stat now;
    if (m->weights_fd < 0 || fstat(m->weights_fd, &now) != 0)
        return 0;
    return now.st_size != m->weights_st.st_size ||
           now.st_mtim.tv_sec != m->weights_st.st_mtim.tv_sec ||
           now.st_mtim.tv_nsec != m->weights_st.st_mtim.tv_nsec;
}

int vit_embed(vit_model *m, const float *pixels, int batch, int size, float *out, ds_err *err)
{
    const vit_config *c = &m->cfg;
    if (batch < 1 || batch > 4096)
        return ds_fail(err, DS_EINVAL, "batch size %d out of range [1, 4096]", batch);
    if (size < c->patch_size || size % c->patch_size != 0 || size > 4096)
        return ds_fail(err, DS_EINVAL, "input size %d is not a multiple of the patch size %d "
                       "in [%d, 4096]", size, c->patch_size, c->patch_size);
    if (ensure_state(m, batch, size, err) != 0)
        return -1;
    memset(&m->fault, 0, sizeof m->fault);
    TIMED(embed, embed(m, pixels));
    m->prof.images += batch;
    for (int i = 0; i < c->num_layers - 1; i++)
        block(m, &m->w.layers[i]);
    last_block(m, &m->w.layers[c->num_layers - 1]);
    if (m->fault.code) {
        *err = m->fault;
        return -1;
    }
    /* last_hidden_state = layernorm(x); the image vector is its CLS row. */
    int d = c->hidden_size;
    ops_layernorm(m->s.cls, batch, d, m->w.norm_w, m->w.norm_b, c->layer_norm_eps, out);
    for (int b = 0; b < batch; b++)
        ops_l2_normalize(out + (size_t)b * d, d);
    if (weights_changed(m))
        return ds_fail(err, DS_EIO, "model.safetensors was written after it was loaded (the "
                       "weights in use changed under this process): restart dinoseek to load "
                       "the new weights (a collection of the old ones is then refused)");
    return 0;
}
