/* prng.c - the normal distribution on top of splitmix64 (see prng.h). */
#include "base/prng.h"

#include <math.h>

double ds_prng_normal(ds_prng *r)
{
    /* u1 in (0, 1] so that log() never sees 0. One sample per call keeps the
     * sequence simple to reproduce elsewhere (the sine half is discarded). */
    double u1 = ((double)(ds_prng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(ds_prng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
