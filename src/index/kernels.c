/* kernels.c - inner products of one query with many stored rows.
 *
 * Three versions of each kernel: AVX-512F (sixteen lanes), AVX2 + FMA
 * (+ F16C to widen float16 rows eight at a time), both written with
 * intrinsics, and portable C. The choice is made once, from the CPU's
 * feature bits, through function pointers, so one binary runs everywhere
 * and works under the sanitizers (which do not mix with GCC's ifunc-based
 * target_clones). Four rows are scored per pass so that each query load
 * feeds four FMAs. DINOSEEK_KERNEL=portable|avx2|avx512 picks one by hand
 * (to compare them; a kernel the CPU lacks is refused with a warning).
 */
#include "index/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define IDX_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static void dot_f32_portable(const float *q, const float *rows, size_t n, int dim, float *out)
{
    for (size_t i = 0; i < n; i++) {
        const float *r = rows + i * (size_t)dim;
        float acc[8] = {0};
        int d = 0;
        for (; d + 8 <= dim; d += 8)
            for (int j = 0; j < 8; j++)
                acc[j] += q[d + j] * r[d + j];
        float s = 0;
        for (; d < dim; d++)
            s += q[d] * r[d];
        out[i] = s + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    }
}

static void dot_f16_portable(const float *q, const uint16_t *rows, size_t n, int dim, float *out)
{
    for (size_t i = 0; i < n; i++) {
        const uint16_t *r = rows + i * (size_t)dim;
        float s = 0;
        for (int d = 0; d < dim; d++)
            s += q[d] * st_f16_to_f32(r[d]);
        out[i] = s;
    }
}

static void dot_u8_portable(const float *q, const uint8_t *rows, size_t n, int dim, float *out)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *r = rows + i * (size_t)dim;
        float s = 0;
        for (int d = 0; d < dim; d++)
            s += q[d] * (float)r[d];
        out[i] = s;
    }
}

#ifdef IDX_X86
/* Each instruction set as a few names: its target, register type, lanes,
 * and the operations the kernel body below is written in. AVX-512 uses only
 * AVX-512F: the float16 and byte widenings (vcvtph2ps, vpmovzxbd) are in
 * the foundation. */
#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define AVX2_VEC __m256
#define AVX2_LANES 8
#define AVX2_ZERO() _mm256_setzero_ps()
#define AVX2_LOADQ(p) _mm256_loadu_ps(p)
#define AVX2_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define AVX2_HSUM(v) hsum256(v)
/* Loads 8 stored values as float32: plain, widened from float16, or codes
 * (bytes 0..255). */
#define AVX2_F32(p) _mm256_loadu_ps(p)
#define AVX2_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define AVX2_U8(p)                                                                           \
    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p))))

#define AVX512_TARGET __attribute__((target("avx512f")))
#define AVX512_VEC __m512
#define AVX512_LANES 16
#define AVX512_ZERO() _mm512_setzero_ps()
#define AVX512_LOADQ(p) _mm512_loadu_ps(p)
#define AVX512_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define AVX512_HSUM(v) _mm512_reduce_add_ps(v)
#define AVX512_F32(p) _mm512_loadu_ps(p)
#define AVX512_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)(p)))
#define AVX512_U8(p)                                                                         \
    _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))))

AVX2_TARGET static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/* The kernel, for instruction set ISA (AVX2 or AVX512) and stored type T
 * loaded by ISA##_##KIND (F32, F16 or U8); SCALAR converts one stored value
 * for the tail of a row. */
#define DOT_ROWS(NAME, ISA, T, KIND, SCALAR)                                                 \
    ISA##_TARGET static void NAME(const float *q, const T *rows, size_t n, int dim,          \
                                  float *out)                                                \
    {                                                                                        \
        int dv = dim & ~(ISA##_LANES - 1);                                                   \
        size_t i = 0;                                                                        \
        for (; i + 4 <= n; i += 4) {                                                         \
            const T *r0 = rows + i * (size_t)dim, *r1 = r0 + dim, *r2 = r1 + dim,            \
                    *r3 = r2 + dim;                                                          \
            ISA##_VEC a0 = ISA##_ZERO(), a1 = a0, a2 = a0, a3 = a0;                          \
            for (int d = 0; d < dv; d += ISA##_LANES) {                                      \
                ISA##_VEC qv = ISA##_LOADQ(q + d);                                           \
                a0 = ISA##_FMA(qv, ISA##_##KIND(r0 + d), a0);                                \
                a1 = ISA##_FMA(qv, ISA##_##KIND(r1 + d), a1);                                \
                a2 = ISA##_FMA(qv, ISA##_##KIND(r2 + d), a2);                                \
                a3 = ISA##_FMA(qv, ISA##_##KIND(r3 + d), a3);                                \
            }                                                                                \
            float s[4] = {ISA##_HSUM(a0), ISA##_HSUM(a1), ISA##_HSUM(a2), ISA##_HSUM(a3)};   \
            for (int d = dv; d < dim; d++) {                                                 \
                s[0] += q[d] * SCALAR(r0[d]);                                                \
                s[1] += q[d] * SCALAR(r1[d]);                                                \
                s[2] += q[d] * SCALAR(r2[d]);                                                \
                s[3] += q[d] * SCALAR(r3[d]);                                                \
            }                                                                                \
            memcpy(out + i, s, sizeof s);                                                    \
        }                                                                                    \
        for (; i < n; i++) {                                                                 \
            const T *r = rows + i * (size_t)dim;                                             \
            ISA##_VEC a = ISA##_ZERO();                                                      \
            for (int d = 0; d < dv; d += ISA##_LANES)                                        \
                a = ISA##_FMA(ISA##_LOADQ(q + d), ISA##_##KIND(r + d), a);                   \
            float s = ISA##_HSUM(a);                                                         \
            for (int d = dv; d < dim; d++)                                                   \
                s += q[d] * SCALAR(r[d]);                                                    \
            out[i] = s;                                                                      \
        }                                                                                    \
    }

#define AS_F32(x) (x)
#define U8_TO_F32(x) ((float)(x))
DOT_ROWS(dot_f32_avx2, AVX2, float, F32, AS_F32)
DOT_ROWS(dot_f16_avx2, AVX2, uint16_t, F16, st_f16_to_f32)
DOT_ROWS(dot_u8_avx2, AVX2, uint8_t, U8, U8_TO_F32)
DOT_ROWS(dot_f32_avx512, AVX512, float, F32, AS_F32)
DOT_ROWS(dot_f16_avx512, AVX512, uint16_t, F16, st_f16_to_f32)
DOT_ROWS(dot_u8_avx512, AVX512, uint8_t, U8, U8_TO_F32)
#endif

typedef void (*dot_f32_fn)(const float *, const float *, size_t, int, float *);
typedef void (*dot_f16_fn)(const float *, const uint16_t *, size_t, int, float *);
typedef void (*dot_u8_fn)(const float *, const uint8_t *, size_t, int, float *);

typedef struct kernel_set {
    const char *name;
    dot_f32_fn f32;
    dot_f16_fn f16;
    dot_u8_fn u8;
} kernel_set;

/* Best first. */
static const kernel_set kernel_sets[] = {
#ifdef IDX_X86
    {"avx512", dot_f32_avx512, dot_f16_avx512, dot_u8_avx512},
    {"avx2", dot_f32_avx2, dot_f16_avx2, dot_u8_avx2},
#endif
    {"portable", dot_f32_portable, dot_f16_portable, dot_u8_portable},
};

static const kernel_set *picked;

static int cpu_has(const char *name)
{
#ifdef IDX_X86
    __builtin_cpu_init();
    if (!strcmp(name, "avx512"))
        return __builtin_cpu_supports("avx512f");
    if (!strcmp(name, "avx2")) {
        /* F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports
         * does not know "f16c". */
        unsigned a, b, c, d;
        int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    }
#endif
    return !strcmp(name, "portable");
}

int idx_use_kernel(const char *name)
{
    for (size_t i = 0; i < sizeof kernel_sets / sizeof *kernel_sets; i++)
        if (!strcmp(kernel_sets[i].name, name)) {
            if (!cpu_has(name))
                return -1;
            picked = &kernel_sets[i];
            return 0;
        }
    return -1;
}

/* Chosen once at load time: the pointer is then only read (tests switch it
 * with idx_use_kernel while no search runs). */
__attribute__((constructor)) static void pick_kernels(void)
{
    const char *want = getenv("DINOSEEK_KERNEL");
    if (want && *want && idx_use_kernel(want) == 0)
        return;
    if (want && *want)
        fprintf(stderr, "dinoseek: DINOSEEK_KERNEL=%s is not available on this CPU; "
                        "choosing the best that is\n", want);
    for (size_t i = 0; i < sizeof kernel_sets / sizeof *kernel_sets; i++)
        if (idx_use_kernel(kernel_sets[i].name) == 0)
            return;
}

void idx_dot_rows_f32(const float *q, const float *rows, size_t n, int dim, float *out)
{
    picked->f32(q, rows, n, dim, out);
}

void idx_dot_rows_f16(const float *q, const uint16_t *rows, size_t n, int dim, float *out)
{
    picked->f16(q, rows, n, dim, out);
}

void idx_dot_rows_u8(const float *q, const uint8_t *rows, size_t n, int dim, float *out)
{
    picked->u8(q, rows, n, dim, out);
}

const char *idx_kernel_name(void) { return picked->name; }
