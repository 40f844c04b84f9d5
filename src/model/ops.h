/* ops.h - the numerical building blocks of the ViT, on float32 row-major
 * matrices. Everything here is what PyTorch calls for Dinov2Model, written
 * so that GCC vectorises it (with AVX2+FMA clones picked at run time) and
 * OpenMP spreads rows over the cores.
 *
 * None of these functions allocates; all are thread-safe on distinct outputs.
 */
#ifndef DS_OPS_H
#define DS_OPS_H

#include <stddef.h>

/* y[rows, out] = x[rows, in] · W[out, in]^T + b[out]   (nn.Linear).
 * b may be NULL. Cost 2·rows·in·out flops, in one cblas_sgemm per thread. */
void ops_linear(const float *x, int rows, int in, const float *w, const float *b, int out,
                float *y);

/* y = LayerNorm(x) row by row: (x - mean) / sqrt(var + eps) · g + b, with the
 * biased variance as torch.nn.LayerNorm. x and y may be the same buffer. */
void ops_layernorm(const float *x, int rows, int dim, const float *g, const float *b, float eps,
                   float *y);

/* x = GELU(x) exactly: 0.5·x·(1 + erf(x/√2)), the erf accurate to ~1.5e-7. */
void ops_gelu(float *x, size_t n);

/* SwiGLU of the giant model: h[rows, hid] = silu(a) · g, where each input
 * row of width 2·hid is [a | g] (torch: x1, x2 = x.chunk(2, dim=-1)). */
void ops_swiglu(const float *x, int rows, int hid, float *h);

/* Softmax of each row of x[rows, cols] in place (max-subtracted). */
void ops_softmax_rows(float *x, int rows, int cols);

/* x[rows, dim] += y[rows, dim] · scale[dim]   (residual with LayerScale). */
void ops_add_scaled(float *x, const float *y, const float *scale, int rows, int dim);

/* Scale v[n] to unit L2 norm (left as is when its norm is 0). */
void ops_l2_normalize(float *v, int n);

/* exp(x) for every element, vectorisable; relative error < 3e-7. */
void ops_exp(const float *x, float *y, size_t n);

/* Threads used by the ops and by OpenBLAS (>= 1). */
void ops_set_threads(int n);
int ops_threads(void);

/* The calling thread's index inside a parallel loop (0 outside one), and
 * the most threads a parallel loop may use. Without OpenMP (the fuzz build)
 * everything runs on one thread. */
int ops_thread_index(void);
int ops_max_threads(void);
/* Threads in the team running the current parallel region (1 outside). */
int ops_active_threads(void);

#endif
