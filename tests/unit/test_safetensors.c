/* test_safetensors.c - tests for the safetensors module. */
#include "../suites.h"

const ds_test safetensors_tests[] = {
    {0},
};
