/* test_cli.c - tests for the cli module. */
#include "../suites.h"

const ds_test cli_tests[] = {
    {0},
};
