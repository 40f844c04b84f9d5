/* test_blob.c - tests for the blob module. */
#include "../suites.h"

const ds_test blob_tests[] = {
    {0},
};
