/* attention.h - one attention head in bfloat16, flash-style.
 *
 *   out_i = softmax(scale · q_i · Kᵀ) · V      for every query row i
 *
 * The bf16 precision's attention (gemm.h): Q, K and V are rounded to
 * bfloat16 once per head, Q·Kᵀ and P·V are AVX512_BF16 dot products
 * (vdpbf16ps) summed in float32, and the softmax is folded into the walk
 * over the keys (the "online" softmax of FlashAttention): for a block of 16
 * queries the keys go by 64 at a time, the running row maximum and sum are
 * kept, and the partial output is rescaled whenever the maximum grows. A
 * block of scores is 16 x 64 floats, in L1; the T x T matrix is never
 * written, so the memory it takes is linear in the tokens.
 *
 * Only for heads of width 64 (every DINOv2: S, B, L and g alike); the
 * model keeps its float32 attention for any other width and for f32 and
 * bf16x2, whose point is to keep float32's numbers.
 */
#ifndef DS_ATTENTION_H
#define DS_ATTENTION_H

#include <stddef.h>

/* The head width the kernel is written for. */
#define ATTN_BF16_HEAD 64

/* Whether this CPU has the units (AVX512_BF16 with AVX512BW). */
int attn_bf16_available(void);

/* Bytes of workspace one call needs for t tokens (64-byte aligned). */
size_t attn_bf16_workspace(int t);

/* One head over t tokens: row i of q, k, v starts at q + i·ld (and so on),
 * 64 floats each; row i of the result goes to out + i·ldo. work holds
 * attn_bf16_workspace(t) bytes, 64-byte aligned; one per concurrent call.
 * Call only where attn_bf16_available(). */
void attn_bf16_head(const float *q, const float *k, const float *v, size_t ld, int t,
                    float scale, float *out, size_t ldo, void *work);

#endif
