/* test_base.c - tests for the base module. */
#include "../suites.h"

const ds_test base_tests[] = {
    {0},
};
