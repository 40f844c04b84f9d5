/* test_sample.c - the sample suite. */
#include "../suites.h"

const ds_test sample_tests[] = {
    {0},
};
