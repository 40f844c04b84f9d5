/* gemm.h - the ViT's nn.Linear layers in a chosen precision.
 *
 *   f32   oneDNN's float32 matmul over the weights reordered once (OpenBLAS
 *         sgemm on the weights in place with DINOSEEK_F32_GEMM=openblas, or
 *         where oneDNN refuses): the reference, equal to PyTorch's float32
 *         forward pass.
 *   bf16  oneDNN matmul: the weights converted to bfloat16 once, in the
 *         blocked layout oneDNN's kernel reads; the activations rounded to
 *         bfloat16 at each call; products summed and written in float32.
 *         oneDNN runs it on AMX tiles where the CPU has them (amx_bf16),
 *         else with AVX512_BF16's vdpbf16ps. Offered only on CPUs with one
 *         of the two: elsewhere oneDNN would emulate bf16, slower than f32.
 *   bf16x2  the same weights, but each activation carried as two bf16
 *         halves, hi = bf16(x) and lo = bf16(x - hi), multiplied as one
 *         product of twice the depth ([hi | lo] · [W | W]ᵀ): 16 significant
 *         bits instead of 8, at twice bf16's work. The rounding of the
 *         activations, not of the weights, is what moves close neighbours
 *         in a search; bf16x2 keeps them where f32 has them.
 *   int8  oneDNN's int8 matmul: each weight row (output channel) scaled
 *         to int8 once, with its own scale; each activation row scaled
 *         to int8 at each call, with its own scale (max |x| / 127); the
 *         products summed in int32 (VNNI's vpdpbusd, or AMX-INT8 tiles),
 *         then scaled back and the bias added in float32. Offered on CPUs
 *         with AVX512_VNNI, AVX-VNNI or AMX-INT8.
 *
 * Why oneDNN: it is the library OpenVINO and PyTorch run their CPU bf16 on,
 * Debian ships it (libdnnl, 2.6), and its kernels are generated at run time
 * for the CPU at hand (AVX-512, AVX512_BF16, AMX), which is what a binary
 * that meets a different processor every session needs.
 *
 * Thread safety: gemm_linear_run may be called from one thread at a time
 * per layer (the model serialises its forward passes); it uses every core.
 */
#ifndef DS_GEMM_H
#define DS_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef enum gemm_precision {
    GEMM_F32 = 0,
    GEMM_BF16 = 1,
    GEMM_BF16X2 = 2,
    GEMM_INT8 = 3,
} gemm_precision;

/* "f32", "bf16", "bf16x2", "int8". */
const char *gemm_precision_name(gemm_precision p);

/* Parse "f32", "bf16", "bf16x2", "int8" or "auto" (GEMM_AUTO). Returns 0,
 * or -1. */
#define GEMM_AUTO (-1)
int gemm_precision_parse(const char *s, int *out);

/* Whether this CPU runs p natively; when not, why (into why[n]). */
int gemm_precision_available(gemm_precision p, char *why, size_t n);

/* The fastest precision this CPU runs natively that keeps retrieval as
 * f32 has it (tests/unit/test_precision.c): bf16x2 on AMX, else f32. */
gemm_precision gemm_precision_auto(void);

/* What runs a precision's products here, e.g. "OpenBLAS sgemm",
 * "oneDNN brg:avx512_core_amx" (after a first bf16 layer ran; else the ISA
 * oneDNN would use). */
const char *gemm_engine_name(gemm_precision p);

/* One nn.Linear: y[rows, out] = x[rows, in] · W[out, in]ᵀ + b[out]. */
typedef struct gemm_linear gemm_linear;

/* Prepare W (and b, which may be NULL) for p. oneDNN keeps copies of its
 * own; the OpenBLAS fallback keeps the pointers (they must then outlive the
 * layer, as the model's weights do). */
int gemm_linear_new(gemm_precision p, const float *w, const float *b, int out, int in,
                    gemm_linear **l, ds_err *err);
void gemm_linear_free(gemm_linear *l);

/* Run it on rows of x (float32) into y (float32). Returns 0, or -1 with err
 * (out of memory, or oneDNN refusing a shape). */
int gemm_linear_run(gemm_linear *l, const float *x, int rows, float *y, ds_err *err);

/* Round n floats to bfloat16 (to nearest, ties to even), as the bf16 path
 * does to its activations: for tests. */
void gemm_to_bf16(const float *x, uint16_t *y, size_t n);

#endif
