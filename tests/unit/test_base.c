/* test_base.c - errors and the deterministic random numbers. */
#include <math.h>

#include "../suites.h"
#include "base/error.h"
#include "base/prng.h"
#include "base/str.h"

static void test_errors(void)
{
    ds_err err;
    ds_err_clear(&err);
    CHECK(err.code == DS_OK && err.msg[0] == '\0');
    CHECK(ds_fail(&err, DS_EIO, "reading %s", "x.png") == -1);
    CHECK(err.code == DS_EIO && strcmp(err.msg, "reading x.png") == 0);
    CHECK(ds_wrap(&err, "%s: ", "import") == -1);
    CHECK(strcmp(err.msg, "import: reading x.png") == 0);
    CHECK(ds_fail(NULL, DS_EIO, "ignored") == -1); /* NULL err is allowed */
    for (int c = DS_OK; c <= DS_EEXIST; c++)
        CHECK(strcmp(ds_strerror((ds_code)c), "unknown error") != 0);
    /* A long message is cut, never overflowed, and wrapping keeps it C-terminated. */
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ds_fail(&err, DS_EINVAL, "%s", big);
    ds_wrap(&err, "%s", "prefix: ");
    CHECK(strlen(err.msg) == sizeof err.msg - 1 && strncmp(err.msg, "prefix: aaa", 11) == 0);
}

/* splitmix64 from seed 0 starts 0xE220A8397B1DCDAF (the published sequence);
 * tools/hf_reference.py relies on the same numbers. */
static void test_prng(void)
{
    ds_prng r;
    ds_prng_seed(&r, 0);
    CHECK(ds_prng_next(&r) == 0xE220A8397B1DCDAFull);
    CHECK(ds_prng_next(&r) == 0x6E789E6AA1B965F4ull);
    ds_prng_seed(&r, 1234);
    double sum = 0, sq = 0;
    enum { N = 200000 };
    for (int i = 0; i < N; i++) {
        double v = ds_prng_normal(&r);
        sum += v;
        sq += v * v;
    }
    CHECKF(fabs(sum / N) < 0.01 && fabs(sq / N - 1.0) < 0.02, "mean %g var %g", sum / N, sq / N);
    float u;
    ds_prng_seed(&r, 7);
    for (int i = 0; i < 1000; i++) {
        u = ds_prng_uniform(&r);
        CHECK(u >= 0.0f && u < 1.0f);
    }
}

/* ds_snprintf: what fits is written; what does not fails, never cut. */
static void test_snprintf(void)
{
    char buf[8];
    ds_err err = {0};
    CHECK(ds_snprintf(buf, sizeof buf, &err, "%s/%d", "ab", 1234) == 0);
    CHECK(strcmp(buf, "ab/1234") == 0);
    CHECK(ds_snprintf(buf, sizeof buf, &err, "%s/%d", "ab", 12345) == -1);
    CHECK(err.code == DS_EINVAL && buf[0] == '\0');
    CHECK_MSG(err, "\"ab/12345\" is 8 bytes long, over the limit of 7");
    CHECK(ds_snprintf(buf, sizeof buf, NULL, "%s", "too long for it") == -1); /* NULL err */
}

const ds_test base_tests[] = {
    {"errors carry a code and a message", test_errors},
    {"splitmix64 is the published sequence", test_prng},
    {"ds_snprintf fails rather than cut", test_snprintf},
    {0},
};
