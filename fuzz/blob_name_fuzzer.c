/* blob_name_fuzzer.c - fuzz target for blob key checking: any bytes through
 * blob_key_check_n, and, for every key it accepts, the properties the
 * directory store relies on are asserted (no NUL, no '\\', no leading '/',
 * no segment that is empty or starts with '.', within the length limits).
 * A property broken is a crash (abort), which is what libFuzzer reports.
 * Replay with `make build/fuzz/blob_name_fuzzer_replay &&
 * build/fuzz/blob_name_fuzzer_replay fuzz/corpus/blob_name_fuzzer`. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "blob/blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ds_err err;
    const char *k = (const char *)data;
    if (blob_key_check_n(k, size, &err) != 0) {
        require(err.code == DS_EINVAL && err.msg[0] != '\0');
        return 0;
    }
    require(size >= 1 && size <= BLOB_KEY_MAX && k[0] != '/');
    size_t seg = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || k[i] == '/') {
            require(seg >= 1 && seg <= BLOB_SEGMENT_MAX && k[i - seg] != '.');
            seg = 0;
            continue;
        }
        require(data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\');
        seg++;
    }
    return 0;
}
