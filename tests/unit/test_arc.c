/* test_arc.c - the arc suite. */
#include "../suites.h"

const ds_test arc_tests[] = {
    {0},
};
