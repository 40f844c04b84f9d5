/* generate.h - deterministic DINOv2 weights for tests and offline demos.
 *
 * `dinoseek model generate --arch small --seed 1 DIR` writes a Hugging Face
 * model directory (config.json, preprocessor_config.json, model.safetensors)
 * with the real architecture's tensor names and shapes and values chosen by
 * gen_design.h: structured patch filters, position features and detectors
 * (random parts drawn from splitmix64), so that the CLS vector depends on
 * what the picture shows (since issue #19; before it every tensor was
 * drawn at its initial scale and every image got nearly the same vector).
 * The same arch and seed give the same bytes on every machine, so tests
 * compare against goldens made by Hugging Face from these very files.
 * config.json marks the model ("dinoseek_generated"); loading never
 * consults the generator, so directories made by older releases still load.
 */
#ifndef DS_GENERATE_H
#define DS_GENERATE_H

#include <stdint.h>

#include "base/error.h"
#include "model/safetensors.h"

/* The generator's version, in config.json's "dinoseek_generated" (and so in
 * the model id of collections made with its weights): 2 since issue #19.
 * Directories written by version 1 (no "generator" key) still load, and
 * keep their collections' id. */
#define MDL_GENERATOR 2

/* Write the model directory dir (created if needed; files replaced
 * atomically). dtype is ST_F32, ST_F16 or ST_BF16. Cost: one pass writing
 * every parameter (88 MB for small, 346 MB for base in F32).
 * Returns 0, or -1 with err. */
int mdl_generate(const char *arch, uint64_t seed, st_dtype dtype, const char *dir, ds_err *err);

#endif
