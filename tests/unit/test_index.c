/* test_index.c - tests for the index module. */
#include "../suites.h"

const ds_test index_tests[] = {
    {0},
};
