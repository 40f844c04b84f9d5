/* vit.h - DINOv2, the Vision Transformer of Oquab et al. (2023), as
 * Hugging Face transformers' Dinov2Model computes it.
 *
 *   x   = [CLS; patches(image)·W_patch] + pos            (pos interpolated
 *                                                         bicubically to the
 *                                                         input's grid)
 *   for each of L blocks:
 *     x = x + λ1 · Attention(LayerNorm1(x))
 *     x = x + λ2 · MLP(LayerNorm2(x))                    (GELU, or SwiGLU)
 *   v   = LayerNorm(x)[CLS],  then v / |v|                (the image vector)
 *
 * Weights come from a Hugging Face model directory (config.json +
 * model.safetensors, F32/F16/BF16), mmap'ed; F32 tensors are used in place,
 * others converted once at load.
 *
 * Thread safety: a vit_model is not safe for concurrent vit_embed calls
 * (its activation buffers are shared); open one per thread or serialise.
 */
#ifndef DS_VIT_H
#define DS_VIT_H

#include <stdint.h>

#include "base/error.h"
#include "model/gemm.h"

typedef struct vit_config {
    int hidden_size;     /* D: 384 small, 768 base, 1024 large, 1536 giant */
    int num_layers;      /* L: 12, 12, 24, 40 */
    int num_heads;       /* D / 64 */
    int mlp_hidden;      /* width of the MLP's hidden layer (from mlp_ratio) */
    int use_swiglu;      /* giant: SwiGLU MLP instead of fc1-GELU-fc2 */
    int patch_size;      /* 14 */
    int image_size;      /* the size the position embeddings were trained at: 518 */
    int num_channels;    /* 3 */
    int qkv_bias;        /* attention projections have biases */
    float layer_norm_eps;
    float layerscale_value;
    int generated;       /* 1 when written by `dinoseek model generate` */
    long long generated_seed; /* its --seed */
    int generator;       /* which generator wrote them: 1 before issue #19
                          * (no "generator" key), 2 since (gen_design.h) */
    char name[32];       /* "dinov2-small", ... or "dinov2-custom" */
} vit_config;

/* Read and check dir/config.json. Returns 0, or -1 with err naming the key. */
int vit_config_load(const char *dir, vit_config *c, ds_err *err);

/* Fill c with one of the DINOv2 architectures: "small", "base", "large",
 * "giant". Returns 0, or -1 for an unknown name. */
int vit_config_arch(const char *arch, vit_config *c, ds_err *err);

/* Parameters in the model (all tensors, as Hugging Face counts them). */
int64_t vit_param_count(const vit_config *c);

/* Floating-point operations of one forward pass at size x size input
 * (2 per multiply-add; GEMMs and attention, which are > 99% of the work). */
double vit_flops(const vit_config *c, int size);

typedef struct vit_model vit_model;

/* Load a model directory. On success *out is owned by the caller (free with
 * vit_close). Checks every tensor's dtype and shape against config.json.
 * Cost: one mmap; converts non-F32 tensors and fuses Q/K/V weights. */
int vit_open(const char *dir, vit_model **out, ds_err *err);
void vit_close(vit_model *m);
const vit_config *vit_get_config(const vit_model *m);

/* The precision of the model's matrix products (gemm.h): GEMM_F32 after
 * vit_open, the reference equal to Hugging Face's; GEMM_BF16 where the CPU
 * has bf16 units (CLS cosine >= 0.9999 against f32, tested). Converts the
 * weights once. Returns 0, or -1 with err (the model then stays f32). */
int vit_set_precision(vit_model *m, gemm_precision p, ds_err *err);
gemm_precision vit_get_precision(const vit_model *m);

/* Embed a batch: pixels is batch x 3 x size x size (normalised, CHW), size a
 * multiple of the patch size. Writes batch x D unit vectors into out.
 * Activation buffers are allocated on the first call for a given size and
 * the largest batch so far, and reused by smaller batches; nothing else
 * allocates. Returns 0, or -1 with err. */
int vit_embed(vit_model *m, const float *pixels, int batch, int size, float *out, ds_err *err);

/* Where the time of vit_embed calls went, in seconds, accumulated since the
 * last vit_profile_reset (for benchmarks; costs two clock reads per step). */
typedef struct vit_profile {
    double embed;     /* patch layout, patch GEMM, CLS and positions */
    double linear;    /* the GEMMs of the blocks: Q/K/V, projection, MLP */
    double attention; /* Q·Kᵀ, softmax, ·V */
    double norm;      /* LayerNorms */
    double act;       /* GELU / SwiGLU */
    double residual;  /* LayerScale and residual adds */
    int images;       /* images embedded */
} vit_profile;

const vit_profile *vit_get_profile(const vit_model *m);
void vit_profile_reset(vit_model *m);

/* Bicubic resize of a [n x n x dim] grid of position embeddings to
 * [g x g x dim], as torch.nn.functional.interpolate(mode="bicubic",
 * align_corners=False) with an output size: exposed for tests. */
void vit_interpolate_pos(const float *src, int n, int dim, int g, float *dst);

#endif
