/* attention.c - one attention head, flash-style, in float32 or bfloat16
 * (attention.h).
 *
 * float32 layouts (AVX-512F, vfmadd231ps), the tokens padded to a multiple
 * of 16:
 *
 *   Q  [Tq][64] f32        the queries as rows, contiguous: a block's 16
 *                          rows sit at fixed offsets from one pointer
 *   K  [T/16][64][16] f32  16 keys side by side per column: one vector is
 *                          column c of 16 keys, against a query's c-th
 *                          value broadcast
 *   V  [T][64] f32         the values as rows; a probability broadcast
 *                          against a row's four vectors
 *
 * bfloat16 layouts:
 *
 *   Q  [Tq][64] bf16       the queries as rows
 *   K  [T/16][32][16] u32  a pair of bf16 (k[j][2p], k[j][2p+1]) per key j
 *                          and pair p, 16 keys side by side: one vector is
 *                          the p-th pair of 16 keys
 *   V  [T/2][64] u32       a pair of bf16 (v[2i][c], v[2i+1][c]) per key
 *                          pair i and column c
 *
 * vdpbf16ps multiplies 16 lanes of bf16 pairs and adds both products to a
 * float32 lane. For scores, a query's pair p broadcast against K's vector
 * for pair p gives 16 keys' partial dot products; for the output, a row of
 * probabilities' pair (p[2i], p[2i+1]) broadcast against V's vector gives
 * 16 columns' partial sums. Keys and values are laid out once per head, so
 * the blocks read them straight.
 */
#include "model/attention.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "base/cpu.h"

#define DH ATTN_HEAD
#define PAIRS (DH / 2)
#define QB 16 /* queries per block: 16 accumulators of scores */
#define KB 64 /* keys per block: its scores (16 x 64 floats) stay in L1 */
#define LANES 16

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

/* The workspace, carved into 64-byte-aligned pieces. q, k, v and p are in
 * the kernel's layout and element type (above). */
typedef struct head_space {
    void *q, *k, *v;          /* the head's queries, keys and values, laid out */
    float *s;                 /* [QB][KB] a block of scores */
    void *p;                  /* [QB][KB] its probabilities */
    float *o;                 /* [QB][DH] the block's output so far */
    float *max, *sum, *scale; /* [QB] running row maximum, sum, and the last rescale */
} head_space;

/* Lay the pieces out in work (when not NULL) for t tokens with elements of
 * the given size (4: f32, 2: bf16); returns the bytes they take. */
static size_t carve(void *work, int t, size_t elem, head_space *h)
{
    size_t tq = round_up((size_t)t, QB), tk = round_up((size_t)t, LANES);
    size_t sizes[] = {tq * DH * elem, tk * DH * elem, tk * DH * elem, QB * KB * 4,
                      QB * KB * elem, QB * DH * 4, QB * 4, QB * 4, QB * 4};
    void *parts[9];
    size_t at = 0;
    for (size_t i = 0; i < 9; i++) {
        parts[i] = work ? (char *)work + at : NULL;
        at += round_up(sizes[i], 64);
    }
    *h = (head_space){parts[0], parts[1], parts[2], parts[3], parts[4],
                      parts[5], parts[6], parts[7], parts[8]};
    return at;
}

size_t attn_bf16_workspace(int t)
{
    head_space h;
    return carve(NULL, t, 2, &h);
}

size_t attn_f32_workspace(int t)
{
    head_space h;
    return carve(NULL, t, 4, &h);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

#include <immintrin.h>

#define KERNEL_F32 __attribute__((target("avx512f,avx512dq")))
#define KERNEL __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

int attn_f32_available(void) { return ds_cpu_get()->avx512f; }

int attn_bf16_available(void)
{
    const ds_cpu *c = ds_cpu_get();
    return c->avx512_bf16 && c->avx512bw && c->avx512vl;
}

static const float zero_row[DH];

/* exp(x) for x <= 0 (to about 2e-7 relative; 0 below -87). */
KERNEL_F32 static __m512 exp_nonpositive(__m512 x)
{
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
    __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f));
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n); /* 2^t = 2^n · 2^f, |f| <= 0.5 */
    /* 2^f = e^(f·ln 2): its Taylor series to the 6th power. */
    __m512 y = _mm512_set1_ps(1.5403530393381608e-4f);
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(1.3333558146428443e-3f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(9.6181291076284772e-3f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(5.5504108664821580e-2f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(2.4022650695910071e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(6.9314718055994531e-1f));
    y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
}

/* One row of the online softmax: the block's scores s[16·n] (valid of
 * them real keys) scaled, the row's new maximum, the factor that rescales
 * what was summed under the old one, the probabilities under the new
 * maximum (into e, 0 past the real keys) and the new sum. */
KERNEL_F32 static void row_softmax(const float *s, int n, int valid, float scale, float *max,
                                   float *sum, float *rescale, float *e)
{
    __m512 sc = _mm512_set1_ps(scale), x[KB / LANES];
    __mmask16 live[KB / LANES];
    __m512 best = _mm512_set1_ps(-INFINITY);
    for (int g = 0; g < n; g++) {
        int left = valid - g * LANES;
        live[g] = left >= LANES ? 0xffff : (__mmask16)((1u << left) - 1u);
        x[g] = _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), live[g],
                                  _mm512_mul_ps(_mm512_loadu_ps(s + g * LANES), sc));
        best = _mm512_max_ps(best, x[g]);
    }
    float top = _mm512_reduce_max_ps(best);
    if (top < *max)
        top = *max;
    *rescale = expf(*max - top); /* 0 on the first block: the old maximum is -inf */
    __m512 total = _mm512_setzero_ps(), mv = _mm512_set1_ps(top);
    for (int g = 0; g < n; g++) {
        __m512 p = _mm512_maskz_mov_ps(live[g], exp_nonpositive(_mm512_sub_ps(x[g], mv)));
        total = _mm512_add_ps(total, p);
        _mm512_storeu_ps(e + g * LANES, p);
    }
    *sum = *sum * *rescale + _mm512_reduce_add_ps(total);
    *max = top;
}

/* A kernel's steps on one block: the scores of queries i0.. against keys
 * j0.. (n groups of 16), their online softmax, and the values added. */
typedef struct block_steps {
    void (*scores)(head_space *h, int i0, int j0, int n);
    void (*softmax)(head_space *h, int n, int valid, float scale);
    void (*values)(head_space *h, int j0, int n);
} block_steps;

/* The walk both kernels share: for each block of 16 queries, the keys by
 * 64, then each row divided by its sum into out. */
KERNEL_F32 static void walk_blocks(head_space *h, int t, float scale, float *out, size_t ldo,
                                   const block_steps *k)
{
    for (int i0 = 0; i0 < t; i0 += QB) {
        for (int r = 0; r < QB; r++) {
            h->max[r] = -INFINITY;
            h->sum[r] = 0.0f;
        }
        memset(h->o, 0, sizeof(float) * QB * DH);
        for (int j0 = 0; j0 < t; j0 += KB) {
            int valid = t - j0 < KB ? t - j0 : KB, n = (valid + LANES - 1) / LANES;
            k->scores(h, i0, j0, n);
            k->softmax(h, n, valid, scale);
            k->values(h, j0, n);
        }
        int rows = t - i0 < QB ? t - i0 : QB;
        for (int r = 0; r < rows; r++) {
            __m512 inv = _mm512_set1_ps(1.0f / h->sum[r]);
            for (int c = 0; c < DH; c += LANES)
                _mm512_storeu_ps(out + (size_t)(i0 + r) * ldo + c,
                                 _mm512_mul_ps(_mm512_loadu_ps(h->o + (size_t)r * DH + c), inv));
        }
    }
}

/* ---- float32 ------------------------------------------------------------ */

KERNEL_F32 static void f32_lay_out_queries(const float *q, size_t ld, int t, head_space *h)
{
    int tq = (int)round_up((size_t)t, QB);
    float *dst = h->q;
    for (int i = 0; i < tq; i++)
        memcpy(dst + (size_t)i * DH, i < t ? q + (size_t)i * ld : zero_row, sizeof(float) * DH);
}

KERNEL_F32 static void f32_lay_out_keys(const float *k, size_t ld, int t, head_space *h)
{
    int tk = (int)round_up((size_t)t, LANES);
    float *dst = h->k;
    for (int j = 0; j < tk; j++) {
        const float *row = j < t ? k + (size_t)j * ld : zero_row;
        float *col = dst + (size_t)(j / LANES) * DH * LANES + j % LANES;
        for (int c = 0; c < DH; c++)
            col[c * LANES] = row[c];
    }
}

KERNEL_F32 static void f32_lay_out_values(const float *v, size_t ld, int t, head_space *h)
{
    int tk = (int)round_up((size_t)t, LANES);
    float *dst = h->v;
    for (int j = 0; j < tk; j++)
        memcpy(dst + (size_t)j * DH, j < t ? v + (size_t)j * ld : zero_row, sizeof(float) * DH);
}

/* s[QB][16·n] = q[QB] · k[16·n]ᵀ. */
KERNEL_F32 static void f32_block_scores(const float *q, const float *k, int n, float *s)
{
    for (int g = 0; g < n; g++) {
        const float *kg = k + (size_t)g * DH * LANES;
        __m512 acc[QB];
#pragma GCC unroll 16
        for (int r = 0; r < QB; r++)
            acc[r] = _mm512_setzero_ps();
        for (int c = 0; c < DH; c++) {
            __m512 keys = _mm512_loadu_ps(kg + c * LANES);
#pragma GCC unroll 16
            for (int r = 0; r < QB; r++)
                acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(q[r * DH + c]), keys, acc[r]);
        }
#pragma GCC unroll 16
        for (int r = 0; r < QB; r++)
            _mm512_storeu_ps(s + (size_t)r * KB + g * LANES, acc[r]);
    }
}

KERNEL_F32 static void f32_block_softmax(head_space *h, int n, int valid, float scale)
{
    for (int r = 0; r < QB; r++)
        row_softmax(h->s + (size_t)r * KB, n, valid, scale, &h->max[r], &h->sum[r], &h->scale[r],
                    (float *)h->p + (size_t)r * KB);
}

/* o[QB][DH] = o · rescale + p[QB][16·n] · v[16·n][DH], four rows at a time. */
KERNEL_F32 static void f32_block_values(head_space *h, const float *v, int n)
{
    const float *p = h->p;
    for (int r0 = 0; r0 < QB; r0 += 4) {
        __m512 acc[4][DH / LANES];
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            __m512 f = _mm512_set1_ps(h->scale[r0 + r]);
#pragma GCC unroll 4
            for (int c = 0; c < DH / LANES; c++)
                acc[r][c] = _mm512_mul_ps(
                    _mm512_loadu_ps(h->o + (size_t)(r0 + r) * DH + c * LANES), f);
        }
        for (int j = 0; j < n * LANES; j++) {
            __m512 vals[DH / LANES];
#pragma GCC unroll 4
            for (int c = 0; c < DH / LANES; c++)
                vals[c] = _mm512_loadu_ps(v + (size_t)j * DH + c * LANES);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                __m512 pr = _mm512_set1_ps(p[(size_t)(r0 + r) * KB + j]);
#pragma GCC unroll 4
                for (int c = 0; c < DH / LANES; c++)
                    acc[r][c] = _mm512_fmadd_ps(pr, vals[c], acc[r][c]);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
            for (int c = 0; c < DH / LANES; c++)
                _mm512_storeu_ps(h->o + (size_t)(r0 + r) * DH + c * LANES, acc[r][c]);
    }
}

/* The f32 kernel's three steps on block (i0, j0) of n groups of keys. */
KERNEL_F32 static void f32_scores(head_space *h, int i0, int j0, int n)
{
    f32_block_scores((const float *)h->q + (size_t)i0 * DH,
                     (const float *)h->k + (size_t)(j0 / LANES) * DH * LANES, n, h->s);
}

KERNEL_F32 static void f32_values(head_space *h, int j0, int n)
{
    f32_block_values(h, (const float *)h->v + (size_t)j0 * DH, n);
}

KERNEL_F32 void attn_f32_head(const float *q, const float *k, const float *v, size_t ld, int t,
                              float scale, float *out, size_t ldo, void *work)
{
    static const block_steps steps = {f32_scores, f32_block_softmax, f32_values};
    head_space h;
    carve(work, t, 4, &h);
    f32_lay_out_queries(q, ld, t, &h);
    f32_lay_out_keys(k, ld, t, &h);
    f32_lay_out_values(v, ld, t, &h);
    walk_blocks(&h, t, scale, out, ldo, &steps);
}

/* ---- bfloat16 ----------------------------------------------------------- */

/* 32 floats to 32 bf16 (to nearest, ties to even), in order. */
KERNEL static __m512i to_bf16x32(const float *x)
{
    return (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + 16), _mm512_loadu_ps(x));
}

KERNEL static void bf16_lay_out_queries(const float *q, size_t ld, int t, head_space *h)
{
    int tq = (int)round_up((size_t)t, QB);
    for (int i = 0; i < tq; i++) {
        const float *row = i < t ? q + (size_t)i * ld : zero_row;
        for (int c = 0; c < DH; c += 32)
            _mm512_storeu_si512((uint16_t *)h->q + (size_t)i * DH + c, to_bf16x32(row + c));
    }
}

KERNEL static void bf16_lay_out_keys(const float *k, size_t ld, int t, head_space *h)
{
    int tk = (int)round_up((size_t)t, LANES);
    for (int j = 0; j < tk; j++) {
        const float *row = j < t ? k + (size_t)j * ld : zero_row;
        uint32_t pairs[PAIRS];
        for (int c = 0; c < DH; c += 32)
            _mm512_storeu_si512(pairs + c / 2, to_bf16x32(row + c));
        uint32_t *dst = (uint32_t *)h->k + (size_t)(j / LANES) * PAIRS * LANES + j % LANES;
        for (int p = 0; p < PAIRS; p++)
            dst[p * LANES] = pairs[p];
    }
}

KERNEL static void bf16_lay_out_values(const float *v, size_t ld, int t, head_space *h)
{
    /* After the conversion, lanes 0-15 hold row j and 16-31 row j + 1;
     * this takes them alternately, one pair per column. */
    static const uint16_t interleave[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,
                                            21, 6, 22, 7, 23, 8,  24, 9,  25, 10, 26,
                                            11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    __m512i order = _mm512_loadu_si512(interleave);
    int tk = (int)round_up((size_t)t, LANES);
    for (int j = 0; j < tk; j += 2) {
        const float *r0 = j < t ? v + (size_t)j * ld : zero_row;
        const float *r1 = j + 1 < t ? v + (size_t)(j + 1) * ld : zero_row;
        for (int c = 0; c < DH; c += LANES) {
            __m512i both = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(r1 + c),
                                                        _mm512_loadu_ps(r0 + c));
            _mm512_storeu_si512((uint32_t *)h->v + (size_t)(j / 2) * DH + c,
                                _mm512_permutexvar_epi16(order, both));
        }
    }
}

/* s[QB][16·n] = q[QB] · k[16·n]ᵀ for n groups of 16 keys. */
KERNEL static void bf16_block_scores(const uint16_t *q, const uint32_t *k, int n, float *s)
{
    for (int g = 0; g < n; g++) {
        const uint32_t *kg = k + (size_t)g * PAIRS * LANES;
        __m512 acc[QB];
#pragma GCC unroll 16
        for (int r = 0; r < QB; r++)
            acc[r] = _mm512_setzero_ps();
        for (int p = 0; p < PAIRS; p++) {
            __m512bh keys = (__m512bh)_mm512_loadu_si512(kg + p * LANES);
#pragma GCC unroll 16
            for (int r = 0; r < QB; r++) {
                uint32_t pair;
                memcpy(&pair, q + (size_t)r * DH + 2 * p, sizeof pair);
                acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)_mm512_set1_epi32((int)pair), keys);
            }
        }
#pragma GCC unroll 16
        for (int r = 0; r < QB; r++)
            _mm512_storeu_ps(s + (size_t)r * KB + g * LANES, acc[r]);
    }
}

/* The online softmax of a block, its probabilities rounded to bf16. */
KERNEL static void bf16_block_softmax(head_space *h, int n, int valid, float scale)
{
    for (int r = 0; r < QB; r++) {
        float e[KB];
        row_softmax(h->s + (size_t)r * KB, n, valid, scale, &h->max[r], &h->sum[r],
                    &h->scale[r], e);
        uint16_t *p = (uint16_t *)h->p + (size_t)r * KB;
        for (int g = 0; g < n; g += 2) {
            if (g + 1 < n)
                _mm512_storeu_si512(p + g * LANES, to_bf16x32(e + g * LANES));
            else
                _mm256_storeu_si256((__m256i *)(p + g * LANES),
                                    (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(e + g * LANES)));
        }
    }
}

/* o[QB][DH] = o · rescale + p[QB][16·n] · v[16·n][DH], four rows at a time
 * (16 accumulators: four rows of four 16-column vectors). */
KERNEL static void bf16_block_values(head_space *h, const uint32_t *v, int n)
{
    for (int r0 = 0; r0 < QB; r0 += 4) {
        __m512 acc[4][DH / LANES];
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            __m512 f = _mm512_set1_ps(h->scale[r0 + r]);
#pragma GCC unroll 4
            for (int c = 0; c < DH / LANES; c++)
                acc[r][c] = _mm512_mul_ps(
                    _mm512_loadu_ps(h->o + (size_t)(r0 + r) * DH + c * LANES), f);
        }
        for (int i = 0; i < n * LANES / 2; i++) {
            __m512bh vals[DH / LANES];
#pragma GCC unroll 4
            for (int c = 0; c < DH / LANES; c++)
                vals[c] = (__m512bh)_mm512_loadu_si512(v + (size_t)i * DH + c * LANES);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                uint32_t pair;
                memcpy(&pair, (const uint16_t *)h->p + (size_t)(r0 + r) * KB + 2 * i, sizeof pair);
                __m512bh pp = (__m512bh)_mm512_set1_epi32((int)pair);
#pragma GCC unroll 4
                for (int c = 0; c < DH / LANES; c++)
                    acc[r][c] = _mm512_dpbf16_ps(acc[r][c], pp, vals[c]);
            }
        }
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
            for (int c = 0; c < DH / LANES; c++)
                _mm512_storeu_ps(h->o + (size_t)(r0 + r) * DH + c * LANES, acc[r][c]);
    }
}

KERNEL static void bf16_scores(head_space *h, int i0, int j0, int n)
{
    bf16_block_scores((const uint16_t *)h->q + (size_t)i0 * DH,
                      (const uint32_t *)h->k + (size_t)(j0 / LANES) * PAIRS * LANES, n, h->s);
}

KERNEL static void bf16_values(head_space *h, int j0, int n)
{
    bf16_block_values(h, (const uint32_t *)h->v + (size_t)(j0 / 2) * DH, n);
}

KERNEL void attn_bf16_head(const float *q, const float *k, const float *v, size_t ld, int t,
                           float scale, float *out, size_t ldo, void *work)
{
    static const block_steps steps = {bf16_scores, bf16_block_softmax, bf16_values};
    head_space h;
    carve(work, t, 2, &h);
    bf16_lay_out_queries(q, ld, t, &h);
    bf16_lay_out_keys(k, ld, t, &h);
    bf16_lay_out_values(v, ld, t, &h);
    walk_blocks(&h, t, scale, out, ldo, &steps);
}

#else /* not x86-64: the model keeps its attention on OpenBLAS */

int attn_f32_available(void) { return 0; }
int attn_bf16_available(void) { return 0; }

void attn_f32_head(const float *q, const float *k, const float *v, size_t ld, int t,
                   float scale, float *out, size_t ldo, void *work)
{
    (void)q, (void)k, (void)v, (void)ld, (void)t, (void)scale, (void)out, (void)ldo, (void)work;
}

void attn_bf16_head(const float *q, const float *k, const float *v, size_t ld, int t,
                    float scale, float *out, size_t ldo, void *work)
{
    (void)q, (void)k, (void)v, (void)ld, (void)t, (void)scale, (void)out, (void)ldo, (void)work;
}

#endif
