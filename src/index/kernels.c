/* kernels.c - inner products of one query with many stored rows.
 *
 * Two versions of each kernel: AVX2 + FMA (+ F16C to widen float16 rows
 * eight at a time) written with intrinsics, and portable C. The choice is
 * made once, from the CPU's feature bits, through a function pointer, so
 * one binary runs everywhere and works under the sanitizers (which do not
 * mix with GCC's ifunc-based target_clones). Four rows are scored per pass
 * so that each query load feeds four FMAs.
 */
#include "index/internal.h"

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
#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/* Loads 8 stored values as float32: plain, or widened from float16. */
#define LOAD_F32(p) _mm256_loadu_ps(p)
#define LOAD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
/* Eight codes (bytes 0..255) widened to float32. */
#define LOAD_U8(p)                                                                           \
    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p))))

#define DOT_ROWS_AVX2(NAME, T, LOAD, SCALAR)                                                 \
    AVX2 static void NAME(const float *q, const T *rows, size_t n, int dim, float *out)      \
    {                                                                                        \
        int dv = dim & ~7;                                                                   \
        size_t i = 0;                                                                        \
        for (; i + 4 <= n; i += 4) {                                                         \
            const T *r0 = rows + i * (size_t)dim, *r1 = r0 + dim, *r2 = r1 + dim,            \
                    *r3 = r2 + dim;                                                          \
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                      \
            for (int d = 0; d < dv; d += 8) {                                                \
                __m256 qv = _mm256_loadu_ps(q + d);                                          \
                a0 = _mm256_fmadd_ps(qv, LOAD(r0 + d), a0);                                  \
                a1 = _mm256_fmadd_ps(qv, LOAD(r1 + d), a1);                                  \
                a2 = _mm256_fmadd_ps(qv, LOAD(r2 + d), a2);                                  \
                a3 = _mm256_fmadd_ps(qv, LOAD(r3 + d), a3);                                  \
            }                                                                                \
            float s[4] = {hsum256(a0), hsum256(a1), hsum256(a2), hsum256(a3)};               \
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
            __m256 a = _mm256_setzero_ps();                                                  \
            for (int d = 0; d < dv; d += 8)                                                  \
                a = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), LOAD(r + d), a);                 \
            float s = hsum256(a);                                                            \
            for (int d = dv; d < dim; d++)                                                   \
                s += q[d] * SCALAR(r[d]);                                                    \
            out[i] = s;                                                                      \
        }                                                                                    \
    }

#define AS_F32(x) (x)
DOT_ROWS_AVX2(dot_f32_avx2, float, LOAD_F32, AS_F32)
DOT_ROWS_AVX2(dot_f16_avx2, uint16_t, LOAD_F16, st_f16_to_f32)
#define U8_TO_F32(x) ((float)(x))
DOT_ROWS_AVX2(dot_u8_avx2, uint8_t, LOAD_U8, U8_TO_F32)
#endif

typedef void (*dot_f32_fn)(const float *, const float *, size_t, int, float *);
typedef void (*dot_f16_fn)(const float *, const uint16_t *, size_t, int, float *);
typedef void (*dot_u8_fn)(const float *, const uint8_t *, size_t, int, float *);

static dot_f32_fn pick_f32;
static dot_f16_fn pick_f16;
static dot_u8_fn pick_u8;
static const char *pick_name;

static int have_avx2(void)
{
#ifdef IDX_X86
    /* F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports
     * does not know "f16c". */
    unsigned a, b, c, d;
    int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
#else
    return 0;
#endif
}

/* Chosen once at load time: the pointers are then only read. */
__attribute__((constructor)) static void pick_kernels(void)
{
#ifdef IDX_X86
    if (have_avx2()) {
        pick_f32 = dot_f32_avx2;
        pick_f16 = dot_f16_avx2;
        pick_u8 = dot_u8_avx2;
        pick_name = "avx2";
        return;
    }
#endif
    (void)have_avx2;
    pick_f32 = dot_f32_portable;
    pick_f16 = dot_f16_portable;
    pick_u8 = dot_u8_portable;
    pick_name = "portable";
}

void idx_dot_rows_f32(const float *q, const float *rows, size_t n, int dim, float *out)
{
    pick_f32(q, rows, n, dim, out);
}

void idx_dot_rows_f16(const float *q, const uint16_t *rows, size_t n, int dim, float *out)
{
    pick_f16(q, rows, n, dim, out);
}

void idx_dot_rows_u8(const float *q, const uint8_t *rows, size_t n, int dim, float *out)
{
    pick_u8(q, rows, n, dim, out);
}

const char *idx_kernel_name(void) { return pick_name; }
