/* attention.h - one attention head, flash-style, in float32 or bfloat16.
 *
 *   out_i = softmax(scale · q_i · Kᵀ) · V      for every query row i
 *
 * For a block of 16 queries the keys go by 64 at a time: a 16 x 64 block of
 * scores, the "online" softmax of FlashAttention (the running row maximum
 * and sum are kept, and the partial output is rescaled whenever the
 * maximum grows), then the block's probabilities times its 64 values. The
 * block of scores stays in L1; the T x T matrix is never written, so the
 * memory taken grows with the tokens, not their square.
 *
 *   f32   AVX-512F fused multiply-adds in float32: the f32 and bf16x2
 *         precisions' attention (gemm.h), whose point is float32's numbers.
 *   bf16  Q, K and V rounded to bfloat16 once per head; Q·Kᵀ and P·V as
 *         AVX512_BF16 dot products (vdpbf16ps) summed in float32, the
 *         probabilities rounded to bf16: the bf16 precision's attention.
 *
 * Only for heads of width 64 (every DINOv2: S, B, L and g alike), and only
 * where the CPU has the units; the model runs its attention on OpenBLAS
 * sgemm anywhere else.
 */
#ifndef DS_ATTENTION_H
#define DS_ATTENTION_H

#include <stddef.h>

/* The head width the kernels are written for. */
#define ATTN_HEAD 64

/* Whether this CPU has the units: AVX-512F; AVX512_BF16 with AVX512BW. */
int attn_f32_available(void);
int attn_bf16_available(void);

/* Bytes of workspace one call needs for t tokens. */
size_t attn_f32_workspace(int t);
size_t attn_bf16_workspace(int t);

/* One head over t tokens: row i of q, k, v starts at q + i·ld (and so on),
 * 64 floats each; row i of the result goes to out + i·ldo. work holds the
 * workspace's bytes (64-byte aligned is fastest), one per concurrent call.
 * Call only where the matching *_available(). */
void attn_f32_head(const float *q, const float *k, const float *v, size_t ld, int t, float scale,
                   float *out, size_t ldo, void *work);
void attn_bf16_head(const float *q, const float *k, const float *v, size_t ld, int t,
                    float scale, float *out, size_t ldo, void *work);

#endif
