/* st_fuzzer.c - fuzz target for the safetensors reader: any bytes must give
 * either a validated file whose every tensor can be read in bounds, or an
 * error; never a crash, a leak or an out-of-bounds read. */
#include <stdint.h>
#include <stdlib.h>

#include "model/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file *f = NULL;
    ds_err err = {0};
    if (st_parse(data, size, &f, &err) != 0)
        return 0;
    for (int i = 0; i < f->count; i++) {
        const st_tensor *t = &f->tensors[i];
        const st_tensor *found;
        if (st_find(f, t->name) != t)
            abort(); /* names must be unique and findable */
        if (st_expect(f, t->name, t->ndim, t->shape, &found, &err) != 0)
            continue; /* not a float tensor */
        if (t->numel > (1 << 20))
            continue;
        float *v = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
        if (v)
            st_to_f32(t, v); /* reads every byte: ASan checks the bounds */
        free(v);
    }
    st_close(f);
    return 0;
}
