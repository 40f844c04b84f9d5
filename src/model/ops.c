/* ops.c - LayerNorm, GELU, softmax, exp and the sgemm wrapper (see ops.h).
 *
 * The element-wise loops are plain C that GCC vectorises. CLONES compiles
 * each hot function twice, for AVX2+FMA (x86-64-v3) and for the baseline,
 * and the loader picks one per machine, so one binary runs everywhere and
 * still uses 256-bit vectors where it can. Rows are spread over threads with
 * OpenMP; inside an OpenMP region the OpenMP build of OpenBLAS runs
 * single-threaded, which is what the attention loop wants.
 */
#include "model/ops.h"

#include <cblas.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* OpenBLAS's own thread-count setter (not part of CBLAS). */
void openblas_set_num_threads(int n);

static int n_threads = 1;

void ops_set_threads(int n)
{
    n_threads = n < 1 ? 1 : n;
#ifdef _OPENMP
    omp_set_num_threads(n_threads);
#endif
    openblas_set_num_threads(n_threads);
}

#ifdef _OPENMP
int ops_thread_index(void) { return omp_get_thread_num(); }
int ops_max_threads(void) { return omp_get_max_threads(); }
int ops_active_threads(void) { return omp_get_num_threads(); }
#else
int ops_thread_index(void) { return 0; }
int ops_max_threads(void) { return 1; }
int ops_active_threads(void) { return 1; }
#endif

int ops_threads(void) { return n_threads; }

/* One thread's share of ops_linear: rows [r0, r1). */
static void linear_rows(const float *x, int r0, int r1, int in, const float *w, const float *b,
                        int out, float *y)
{
    float beta = 0.0f;
    if (b) {
        /* Start y as the bias on every row, then accumulate the product. */
        for (int r = r0; r < r1; r++)
            memcpy(y + (size_t)r * out, b, sizeof(float) * (size_t)out);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, out, in, 1.0f,
                x + (size_t)r0 * in, in, w, in, beta, y + (size_t)r0 * out, out);
}

void ops_linear(const float *x, int rows, int in, const float *w, const float *b, int out,
                float *y)
{
    /* Each thread takes a band of rows and runs a single-threaded sgemm (the
     * OpenMP OpenBLAS stays on one thread inside a parallel region). For the
     * ViT's shapes (a few hundred rows) this beats OpenBLAS's own split,
     * which synchronises its threads inside every call. */
#pragma omp parallel if (n_threads > 1 && rows >= 64 * n_threads)
    {
        int t = ops_thread_index(), n = ops_active_threads();
        linear_rows(x, (int)((int64_t)rows * t / n), (int)((int64_t)rows * (t + 1) / n), in, w, b,
                    out, y);
    }
}

CLONES static void layernorm_row(const float *x, int dim, const float *g, const float *b,
                                 float eps, float *y)
{
    /* Two passes (mean, then squared deviations) as PyTorch does, which keeps
     * the variance accurate when the mean is large. */
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int i = 0; i < dim; i++)
        sum += x[i];
    float mean = sum / (float)dim;
    float sq = 0.0f;
#pragma omp simd reduction(+ : sq)
    for (int i = 0; i < dim; i++) {
        float d = x[i] - mean;
        sq += d * d;
    }
    float inv = 1.0f / sqrtf(sq / (float)dim + eps);
    for (int i = 0; i < dim; i++)
        y[i] = (x[i] - mean) * inv * g[i] + b[i];
}

void ops_layernorm(const float *x, int rows, int dim, const float *g, const float *b, float eps,
                   float *y)
{
#pragma omp parallel for schedule(static) if (rows > 16)
    for (int r = 0; r < rows; r++)
        layernorm_row(x + (size_t)r * dim, dim, g, b, eps, y + (size_t)r * dim);
}

/* exp(x) = 2^n · e^r with n = round(x / ln 2) and |r| <= ln2 / 2; e^r from
 * its Taylor series to r^7 (error < 2e-8 relative on that range); 2^n built
 * in the exponent bits. Inputs are clamped to the range where the result is
 * a normal float, so the bit trick never overflows. */
static inline float exp_approx(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693145751953125f;  /* ln 2, high bits (exact product) */
    r -= n * 1.428606820309417232e-6f;     /* ln 2, low bits */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

CLONES void ops_exp(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = exp_approx(x[i]);
}

/* erf(x) by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7, about
 * one float ulp near 1), odd-symmetric. */
static inline float erf_approx(float x)
{
    float a = fabsf(x);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = t * (0.254829592f +
                      t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float y = 1.0f - poly * exp_approx(-a * a);
    return copysignf(y, x);
}

CLONES static void gelu_span(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erf_approx(x[i] * 0.70710678118654752f));
}

void ops_gelu(float *x, size_t n)
{
    const size_t chunk = 4096;
    long nchunks = (long)((n + chunk - 1) / chunk);
#pragma omp parallel for schedule(static) if (nchunks > 4)
    for (long c = 0; c < nchunks; c++) {
        size_t start = (size_t)c * chunk;
        gelu_span(x + start, n - start < chunk ? n - start : chunk);
    }
}

CLONES static void swiglu_row(const float *x, int hid, float *h)
{
    for (int i = 0; i < hid; i++) {
        float a = x[i];
        h[i] = a / (1.0f + exp_approx(-a)) * x[hid + i];
    }
}

void ops_swiglu(const float *x, int rows, int hid, float *h)
{
#pragma omp parallel for schedule(static) if (rows > 16)
    for (int r = 0; r < rows; r++)
        swiglu_row(x + (size_t)r * 2 * hid, hid, h + (size_t)r * hid);
}

CLONES static void softmax_row(float *x, int cols)
{
    float max = x[0];
#pragma omp simd reduction(max : max)
    for (int i = 1; i < cols; i++)
        max = x[i] > max ? x[i] : max;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int i = 0; i < cols; i++) {
        x[i] = exp_approx(x[i] - max);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < cols; i++)
        x[i] *= inv;
}

void ops_softmax_rows(float *x, int rows, int cols)
{
    /* Called from inside the per-head attention loop, already parallel. */
    for (int r = 0; r < rows; r++)
        softmax_row(x + (size_t)r * cols, cols);
}

CLONES static void add_scaled_row(float *x, const float *y, const float *scale, int dim)
{
    for (int i = 0; i < dim; i++)
        x[i] += y[i] * scale[i];
}

void ops_add_scaled(float *x, const float *y, const float *scale, int rows, int dim)
{
#pragma omp parallel for schedule(static) if (rows > 16)
    for (int r = 0; r < rows; r++)
        add_scaled_row(x + (size_t)r * dim, y + (size_t)r * dim, scale, dim);
}

void ops_l2_normalize(float *v, int n)
{
    double sq = 0.0;
    for (int i = 0; i < n; i++)
        sq += (double)v[i] * v[i];
    if (sq <= 0.0)
        return;
    float inv = (float)(1.0 / sqrt(sq));
    for (int i = 0; i < n; i++)
        v[i] *= inv;
}
