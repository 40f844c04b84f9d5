/* img_fuzzer.c - fuzz target for image decoding and preprocessing: any bytes
 * through img_preprocess_buffer in native and seed mode. Must never crash,
 * hang or leak; errors are the expected outcome for most inputs.
 *
 * As libvips' own fuzzers do, images are capped (1 Mpx, so one input costs
 * milliseconds) and libvips runs single-threaded. Replay the corpus with
 * `make build/fuzz/img_fuzzer_replay && build/fuzz/img_fuzzer_replay
 * fuzz/corpus/img_fuzzer`; tools/make_test_images.py writes the seeds. */
#include <stddef.h>
#include <stdint.h>

#include <vips/vips.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float chw[3 * 224 * 224];
    static int ready;
    ds_err err;
    img_opts o;

    if (!ready) {
        if (img_init("img_fuzzer", &err) != 0)
            return 0;
        vips_concurrency_set(1);
        ready = 1;
    }
    img_opts_default(&o);
    o.max_pixels = 1000000;
    o.mode = IMG_NATIVE;
    img_preprocess_buffer(data, size, &o, chw, &err);
    o.mode = IMG_SEED;
    img_preprocess_buffer(data, size, &o, chw, &err);
    return 0;
}
