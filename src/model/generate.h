/* generate.h - deterministic DINOv2 weights for tests and offline demos.
 *
 * `dinoseek model generate --arch small --seed 1 DIR` writes a Hugging Face
 * model directory (config.json, preprocessor_config.json, model.safetensors)
 * with the real architecture's tensor names and shapes and values drawn from
 * splitmix64 at realistic scales: linear weights ~ N(0, 0.02), LayerNorm
 * weights ~ 1 + N(0, 0.05), LayerScale ~ its config value · (1 + N(0, 0.05)),
 * embeddings ~ N(0, 0.02), the mask token zero. The same arch and seed give
 * the same bytes on every machine, so tests compare against goldens made by
 * Hugging Face from these very files. Similarity between images embedded
 * with such weights means nothing; config.json says so
 * ("dinoseek_generated").
 */
#ifndef DS_GENERATE_H
#define DS_GENERATE_H

#include <stdint.h>

#include "base/error.h"
#include "model/safetensors.h"

/* Write the model directory dir (created if needed; files replaced
 * atomically). dtype is ST_F32, ST_F16 or ST_BF16. Cost: one pass writing
 * every parameter (88 MB for small, 346 MB for base in F32).
 * Returns 0, or -1 with err. */
int mdl_generate(const char *arch, uint64_t seed, st_dtype dtype, const char *dir, ds_err *err);

#endif
