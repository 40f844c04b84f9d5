/* test_vit.c - tests for the vit module. */
#include "../suites.h"

const ds_test vit_tests[] = {
    {0},
};
