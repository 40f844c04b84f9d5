/* test_catalog.c - tests for the catalog module. */
#include "../suites.h"

const ds_test catalog_tests[] = {
    {0},
};
