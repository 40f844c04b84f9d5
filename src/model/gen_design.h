/* gen_design.h - the values `dinoseek model generate` writes (generate.h
 * writes the files): chosen, not trained, so that a drawing's vector depends
 * on what it shows (issue #19).
 *
 * Weights drawn at random at their initial scale (the generator before
 * issue #19) give every image nearly the same CLS vector: nine patches in
 * ten of a drawing are blank paper, and every token ends up the same mix.
 * Here the residual stream of width D is cut into five bands, each with one
 * job:
 *
 *   E  1 channel      "emptiness": a constant 1 in every patch token. After
 *                     a LayerNorm it is large in a blank patch and small in
 *                     one with ink (whose filter responses take the norm).
 *   F  D/4 channels   the patch filters: zero-mean oriented edge and bar
 *                     filters on luminance (Gabor-like, centred on the patch,
 *                     three scales, random orientations, in quadrature pairs
 *                     of even and odd phase), plus darkness and two
 *                     colour-opponent channels. A blank patch gives exactly 0.
 *   P  D/8 channels   position: random Fourier features of the patch's place
 *                     on the 37 x 37 grid (smooth, so bicubic interpolation
 *                     to other grids keeps them).
 *   Z  D/4 channels   written by the MLPs: each hidden unit is a detector
 *                     reading one quadrature pair of F at one of 4 phases,
 *                     and P, held off by E, so that it fires for some kinds
 *                     of ink at some places, never for paper. A group of 4
 *                     shares its output column (what it writes depends on
 *                     the pair's amplitude, not on a stroke's exact place in
 *                     the patch), and two groups - one filter pair, mirrored
 *                     position weights - share one with opposite signs
 *                     (features centred around 0, so that averages over
 *                     different drawings differ).
 *   G  the rest       written by attention: head 0 of each layer averages
 *                     all tokens uniformly, the others attend by position
 *                     (nearby patches) with increasing sharpness; values read
 *                     Z and colour. The CLS token has no position, so every head
 *                     gives it the average over the image: its G band, and
 *                     so its final vector, is a mix of the detectors' mean
 *                     responses - where which kinds of strokes are.
 *
 * Linear maps have variance ~ gain² / fan_in; LayerNorm weights are 1.
 * Everything is deterministic from the seed (splitmix64, one stream a
 * tensor, or one a structure that several tensors share), the tensors have
 * Hugging Face's names and shapes, and transformers' Dinov2Model computes
 * the same vectors as our forward pass (tests/unit/test_parity.c).
 */
#ifndef DS_GEN_DESIGN_H
#define DS_GEN_DESIGN_H

#include <stdint.h>

#include "model/vit.h"

/* What a tensor of Dinov2Model is, for filling it. */
typedef enum gen_role {
    GEN_CLS_TOKEN,
    GEN_MASK_TOKEN,
    GEN_POSITION,
    GEN_PATCH_W,
    GEN_PATCH_B,
    GEN_NORM_W,       /* norm1, norm2, the final layernorm: weights */
    GEN_NORM_B,       /* and biases */
    GEN_QUERY_W,
    GEN_KEY_W,
    GEN_VALUE_W,
    GEN_QKV_B,
    GEN_OUT_W,
    GEN_OUT_B,
    GEN_LAYERSCALE1,
    GEN_LAYERSCALE2,
    GEN_FC1_W,        /* fc1, or SwiGLU's weights_in */
    GEN_FC1_B,
    GEN_FC2_W,        /* fc2, or SwiGLU's weights_out */
    GEN_FC2_B,
} gen_role;

/* Fill v (numel floats, the tensor's row-major layout) with the values of
 * tensor `role` of layer `layer` (-1 outside the blocks). name seeds the
 * tensor's own random stream. */
void gen_fill(gen_role role, int layer, const char *name, const vit_config *c, uint64_t seed,
              float *v, int64_t numel);

#endif
