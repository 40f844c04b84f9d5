/* prng.h - a small deterministic random number generator (splitmix64).
 *
 * Used wherever the same numbers must come out on every machine and in the
 * Python reference tools: generated model weights and test inputs. It is
 * not for anything secret. tools/hf_reference.py implements the same
 * sequence with numpy; keep the two in step.
 */
#ifndef DS_PRNG_H
#define DS_PRNG_H

#include <stdint.h>

typedef struct ds_prng {
    uint64_t state;
} ds_prng;

/* Seed the generator. Any value, 0 included, gives a good sequence. */
static inline void ds_prng_seed(ds_prng *r, uint64_t seed) { r->state = seed; }

/* Next 64 random bits: splitmix64 (Steele, Lea, Flood 2014). */
static inline uint64_t ds_prng_next(ds_prng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform float in [0, 1) with 24 random bits: exact in float32. */
static inline float ds_prng_uniform(ds_prng *r)
{
    return (float)(ds_prng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* Standard normal sample (Box-Muller on two uniforms, in double). */
double ds_prng_normal(ds_prng *r);

#endif
