/* test_import.c - the import suite. */
#include "../suites.h"

const ds_test import_tests[] = {
    {0},
};
