/* test_uspto.c - the uspto suite. */
#include "../suites.h"

const ds_test uspto_tests[] = {
    {0},
};
