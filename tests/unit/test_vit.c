/* test_vit.c - loading models: every mismatch between config.json and the
 * weights is an error naming the tensor; F16/BF16 weights work; the forward
 * pass refuses bad arguments. (Equality with Hugging Face: test_parity.c.) */
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "../http_client.h"
#include "../server_helper.h"
#include "../suites.h"
#include "base/prng.h"
#include "base/cpu.h"
#include "model/attention.h"
#include "model/generate.h"
#include "model/gemm.h"
#include "model/ops.h"
#include "model/vit.h"

/* A generated dinov2-small, made once per run and shared by the tests. */
static const char *small_model(void)
{
    static char dir[512];
    if (!dir[0]) {
        ds_err err = {0};
        snprintf(dir, sizeof dir, "%s/small", ds_test_tmpdir);
        if (mdl_generate("small", 1, ST_F32, dir, &err) != 0) {
            fprintf(stderr, "    generate: %s\n", err.msg);
            dir[0] = '\0';
            return NULL;
        }
    }
    return dir;
}

/* Copy the small model to a new directory, with config.json edited. */
static const char *edited_copy(const char *name, const char *key, json_t *value)
{
    static char dir[512];
    const char *src = small_model();
    snprintf(dir, sizeof dir, "%s/%s", ds_test_tmpdir, name);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && ln -sf %s/model.safetensors %s/", dir, src, dir);
    CHECK(system(cmd) == 0);
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", src);
    json_t *cfg = json_load_file(path, 0, NULL);
    json_object_set_new(cfg, key, value);
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK(json_dump_file(cfg, path, 0) == 0);
    json_decref(cfg);
    return dir;
}

static void embed_random(vit_model *m, int size, float *out)
{
    float *x = malloc(sizeof(float) * 3 * size * size);
    ds_prng r;
    ds_prng_seed(&r, 99);
    for (int i = 0; i < 3 * size * size; i++)
        x[i] = ds_prng_uniform(&r) * 4.0f - 2.0f;
    ds_err err = {0};
    CHECKF(vit_embed(m, x, 1, size, out, &err) == 0, "%s", err.msg);
    free(x);
}

static void test_config_mismatch(void)
{
    if (!small_model())
        return;
    ds_err err = {0};
    vit_model *m = NULL;
    /* Config claims base's width; the weights are small's. */
    CHECK(vit_open(edited_copy("wide", "hidden_size", json_integer(768)), &m, &err) != 0);
    CHECK_MSG(err, "tensor 'embeddings.cls_token' has shape [1, 1, 384]; config.json implies "
                   "[1, 1, 768]");
    /* More layers than the file holds: the first missing tensor is named. */
    CHECK(vit_open(edited_copy("deep", "num_hidden_layers", json_integer(13)), &m, &err) != 0);
    CHECK_MSG(err, "tensor 'encoder.layer.12.norm1.weight' is missing");
    CHECK(vit_open(edited_copy("ratio", "mlp_ratio", json_real(2.0)), &m, &err) != 0);
    CHECK_MSG(err, "mlp.fc1.weight' has shape [1536, 384]; config.json implies [768, 384]");
    CHECK(vit_open(edited_copy("swiglu", "use_swiglu_ffn", json_true()), &m, &err) != 0);
    CHECK_MSG(err, "mlp.weights_in.weight' is missing");
    CHECK(vit_open(edited_copy("heads", "num_attention_heads", json_integer(7)), &m, &err) != 0);
    CHECK_MSG(err, "not a multiple of num_attention_heads");
    CHECK(vit_open(edited_copy("act", "hidden_act", json_string("relu")), &m, &err) != 0);
    CHECK_MSG(err, "hidden_act must be \"gelu\"");
    CHECK(vit_open(edited_copy("type", "model_type", json_string("vit")), &m, &err) != 0);
    CHECK_MSG(err, "model_type 'vit' is not supported");
    CHECK(vit_open(edited_copy("bad", "hidden_size", json_string("big")), &m, &err) != 0);
    CHECK_MSG(err, "'hidden_size' must be an integer");
    CHECK(m == NULL);
}

static void test_broken_files(void)
{
    const char *src = small_model();
    if (!src)
        return;
    ds_err err = {0};
    vit_model *m = NULL;
    char dir[512], cmd[2048];
    snprintf(dir, sizeof dir, "%s/trunc", ds_test_tmpdir);
    /* Keep the whole header but cut the data short. */
    snprintf(cmd, sizeof cmd, "mkdir -p %s && cp %s/config.json %s/ && head -c 1000000 "
             "%s/model.safetensors > %s/model.safetensors", dir, src, dir, src, dir);
    CHECK(system(cmd) == 0);
    CHECK(vit_open(dir, &m, &err) != 0);
    CHECK_MSG(err, "out of range");
    CHECK_MSG(err, "model.safetensors");
    snprintf(cmd, sizeof cmd, "head -c 100 %s/model.safetensors > %s/model.safetensors", src, dir);
    CHECK(system(cmd) == 0);
    CHECK(vit_open(dir, &m, &err) != 0);
    CHECK_MSG(err, "exceeds the file");
    snprintf(cmd, sizeof cmd, "rm %s/model.safetensors", dir);
    CHECK(system(cmd) == 0);
    CHECK(vit_open(dir, &m, &err) != 0);
    CHECK(err.code == DS_ENOTFOUND);
    snprintf(cmd, sizeof cmd, "echo '{\"hidden_size\": ' > %s/config.json", dir);
    CHECK(system(cmd) == 0);
    CHECK(vit_open(dir, &m, &err) != 0);
    CHECK_MSG(err, "config.json");
    CHECK(vit_open("/nonexistent-model-dir", &m, &err) != 0);
    CHECK(m == NULL);
}

/* F16 and BF16 files load, converted to float32 at open, and give vectors
 * close to the F32 ones (the weights differ by their rounding only). */
static void test_half_precision(void)
{
    const char *src = small_model();
    if (!src)
        return;
    ops_set_threads(2);
    ds_err err = {0};
    vit_model *m32 = NULL;
    float ref[384], v[384];
    CHECKF(vit_open(src, &m32, &err) == 0, "%s", err.msg);
    if (!m32)
        return;
    embed_random(m32, 224, ref);
    vit_close(m32);
    const st_dtype kinds[] = {ST_F16, ST_BF16};
    for (int k = 0; k < 2; k++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/half%d", ds_test_tmpdir, k);
        vit_model *m = NULL;
        CHECKF(mdl_generate("small", 1, kinds[k], dir, &err) == 0, "%s", err.msg);
        CHECKF(vit_open(dir, &m, &err) == 0, "%s", err.msg);
        if (!m)
            continue;
        embed_random(m, 224, v);
        double dot = 0;
        for (int i = 0; i < 384; i++)
            dot += (double)ref[i] * v[i];
        CHECKF(dot > (k == 0 ? 0.9999 : 0.999), "%s cosine to F32: %.6f", st_dtype_name(kinds[k]),
               dot);
        vit_close(m);
    }
}

/* The reduced precisions on the library's own path (also under ASan, where
 * the precision suite does not run): each one this CPU has gives vectors
 * close to f32's, through batches and sizes that need new oneDNN
 * primitives, and back to f32 exactly. One it lacks is refused, and the
 * model stays usable. */
static void test_reduced_precision(void)
{
    const char *src = small_model();
    if (!src)
        return;
    ops_set_threads(2);
    ds_err err = {0};
    vit_model *m = NULL;
    float ref224[384], ref70[384], v[384], back[384];
    CHECKF(vit_open(src, &m, &err) == 0, "%s", err.msg);
    if (!m)
        return;
    CHECK(vit_get_precision(m) == GEMM_F32);
    embed_random(m, 224, ref224);
    embed_random(m, 70, ref70);
    int ran = 0;
    for (int p = GEMM_BF16; p <= GEMM_INT8; p++) {
        char why[256];
        if (!gemm_precision_available((gemm_precision)p, why, sizeof why)) {
            CHECK(vit_set_precision(m, (gemm_precision)p, &err) == -1 &&
                  err.code == DS_EUNSUPPORTED && vit_get_precision(m) == GEMM_F32);
            fprintf(stderr, "    %s: not tested: %s\n", gemm_precision_name((gemm_precision)p),
                    why);
            continue;
        }
        ran++;
        CHECKF(vit_set_precision(m, (gemm_precision)p, &err) == 0, "%s", err.msg);
        CHECK(vit_get_precision(m) == (gemm_precision)p);
        for (int round = 0; round < 2; round++) { /* the second reuses the primitives */
            const int sizes[2] = {224, 70};
            for (int si = 0; si < 2; si++) {
                embed_random(m, sizes[si], v);
                const float *ref = si ? ref70 : ref224;
                double dot = 0;
                for (int i = 0; i < 384; i++)
                    dot += (double)ref[i] * v[i];
                /* int8 moves the vectors of the generated weights of issue
                 * #19 to 0.98-0.999 (test_precision.c) */
                double floor = p == GEMM_INT8 ? 0.975 : 0.9999;
                CHECKF(dot > floor, "%s at %d: cosine %.7f", gemm_precision_name((gemm_precision)p),
                       sizes[si], dot);
            }
        }
    }
    CHECK(vit_set_precision(m, GEMM_F32, &err) == 0);
    embed_random(m, 224, back);
    CHECK(memcmp(back, ref224, sizeof back) == 0);
    if (!ran)
        fprintf(stderr, "    no reduced precision on this CPU (%s)\n", ds_cpu_flags());
    vit_close(m);
}

static void test_bad_arguments(void)
{
    const char *src = small_model();
    if (!src)
        return;
    ds_err err = {0};
    vit_model *m = NULL;
    CHECKF(vit_open(src, &m, &err) == 0, "%s", err.msg);
    if (!m)
        return;
    float x[3 * 28 * 28] = {0}, out[384];
    CHECK(vit_embed(m, x, 1, 27, out, &err) != 0);
    CHECK_MSG(err, "not a multiple of the patch size 14");
    CHECK(vit_embed(m, x, 0, 28, out, &err) != 0);
    CHECK_MSG(err, "batch size 0");
    /* The smallest legal input, 2x2 patches: a unit vector, no NaN. */
    CHECKF(vit_embed(m, x, 1, 28, out, &err) == 0, "%s", err.msg);
    double n = 0;
    for (int i = 0; i < 384; i++)
        n += (double)out[i] * out[i];
    CHECKF(fabs(n - 1.0) < 1e-5, "norm² %.7f", n);
    vit_close(m);
}

/* Resizing a grid to its own size is the identity (weights 0, 1, 0, 0), and
 * a constant grid stays constant at any size (the weights sum to 1). */
static void test_interpolation_properties(void)
{
    enum { N = 5, D = 3 };
    float src[N * N * D], same[N * N * D], big[9 * 9 * D], constant[N * N * D], out[9 * 9 * D];
    ds_prng r;
    ds_prng_seed(&r, 5);
    for (int i = 0; i < N * N * D; i++) {
        src[i] = ds_prng_uniform(&r);
        constant[i] = 0.25f;
    }
    vit_interpolate_pos(src, N, D, N, same);
    CHECK(memcmp(src, same, sizeof src) == 0);
    vit_interpolate_pos(constant, N, D, 9, out);
    for (int i = 0; i < 9 * 9 * D; i++)
        CHECKF(fabsf(out[i] - 0.25f) < 1e-6f, "out[%d] = %g", i, (double)out[i]);
    vit_interpolate_pos(src, N, D, 9, big);
    CHECK(isfinite(big[0]) && isfinite(big[9 * 9 * D - 1]));
}

static void test_arch_table(void)
{
    vit_config c;
    ds_err err = {0};
    const struct {
        const char *arch;
        int64_t params;
    } want[] = {
        /* Hugging Face's parameter counts for facebook/dinov2-*. */
        {"small", 22056576}, {"base", 86580480}, {"large", 304368640}, {"giant", 1136480768},
    };
    for (size_t i = 0; i < 4; i++) {
        CHECK(vit_config_arch(want[i].arch, &c, &err) == 0);
        CHECKF(vit_param_count(&c) == want[i].params, "%s: %lld parameters", want[i].arch,
               (long long)vit_param_count(&c));
    }
    CHECK(vit_config_arch("huge", &c, &err) != 0);
    CHECK_MSG(err, "unknown architecture 'huge'");
}

/* One head of attention in double from the given rows (ld floats apart). */
static void attention_reference(const float *q, const float *k, const float *v, size_t ld, int t,
                                double scale, double *out)
{
    double *s = malloc(sizeof(double) * (size_t)t);
    for (int i = 0; i < t; i++) {
        double top = -INFINITY, sum = 0;
        for (int j = 0; j < t; j++) {
            double dot = 0;
            for (int c = 0; c < ATTN_HEAD; c++)
                dot += (double)q[i * ld + c] * k[j * ld + c];
            s[j] = dot * scale;
            top = s[j] > top ? s[j] : top;
        }
        for (int j = 0; j < t; j++)
            sum += s[j] = exp(s[j] - top);
        for (int c = 0; c < ATTN_HEAD; c++) {
            double acc = 0;
            for (int j = 0; j < t; j++)
                acc += s[j] * v[j * ld + c];
            out[i * ATTN_HEAD + c] = acc / sum;
        }
    }
    free(s);
}

static float bf16_rounded(float x)
{
    uint16_t h;
    gemm_to_bf16(&x, &h, 1);
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

typedef void attention_head(const float *q, const float *k, const float *v, size_t ld, int t,
                            float scale, float *out, size_t ldo, void *work);

/* A flash kernel against attention in double on the same inputs (rounded
 * to bf16 for the bf16 kernel: what is left is the rounding of the
 * probabilities, the exp and the order of the sums), at token counts
 * around its blocks of 16 queries and 64 keys, with mild and with peaked
 * scores (the running maximum moves). Largest difference seen, relative to
 * the largest value: f32 3.9e-6 (peaked scores: float32's own rounding of
 * scores near 50), bf16 1.1e-3. */
static void check_flash_attention(const char *name, attention_head *head,
                                  size_t (*workspace)(int), int bf16, double tolerance)
{
    const int counts[] = {1, 2, 15, 16, 17, 63, 64, 65, 130, 257};
    const size_t ld = 3 * ATTN_HEAD + 5; /* rows interleaved as in the model's qkv */
    ds_prng r;
    ds_prng_seed(&r, 11);
    for (size_t ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
        for (int peaked = 0; peaked < 2; peaked++) {
            int t = counts[ci];
            float *qkv = malloc(sizeof(float) * ld * (size_t)t);
            float *out = malloc(sizeof(float) * ATTN_HEAD * (size_t)t);
            double *want = malloc(sizeof(double) * ATTN_HEAD * (size_t)t);
            void *work = aligned_alloc(64, (workspace(t) + 63) / 64 * 64);
            for (size_t i = 0; i < ld * (size_t)t; i++) {
                float x = (float)ds_prng_normal(&r) * (peaked ? 4.0f : 1.0f);
                qkv[i] = bf16 ? bf16_rounded(x) : x;
            }
            const float *q = qkv, *k = qkv + ATTN_HEAD, *v = qkv + 2 * ATTN_HEAD;
            attention_reference(q, k, v, ld, t, 0.125, want);
            head(q, k, v, ld, t, 0.125f, out, ATTN_HEAD, work);
            double worst = 0, vmax = 0;
            for (int i = 0; i < t * ATTN_HEAD; i++) {
                double d = fabs(out[i] - want[i]);
                worst = d > worst ? d : worst;
            }
            for (int j = 0; j < t; j++)
                for (int c = 0; c < ATTN_HEAD; c++)
                    vmax = fabs(v[j * ld + c]) > vmax ? fabs(v[j * ld + c]) : vmax;
            CHECKF(worst <= tolerance * vmax, "%s, %d tokens%s: largest difference %.3g "
                   "(values up to %.3g)", name, t, peaked ? ", peaked" : "", worst, vmax);
            free(qkv);
            free(out);
            free(want);
            free(work);
        }
    }
}

static void test_flash_attention(void)
{
    int ran = 0;
    if (attn_f32_available()) {
        check_flash_attention("f32", attn_f32_head, attn_f32_workspace, 0, 1e-5);
        ran++;
    } else {
        fprintf(stderr, "    f32: not tested: no AVX-512F (the model uses OpenBLAS)\n");
    }
    if (attn_bf16_available()) {
        check_flash_attention("bf16", attn_bf16_head, attn_bf16_workspace, 1, 3e-3);
        ran++;
    } else {
        fprintf(stderr, "    bf16: not tested: no AVX512_BF16\n");
    }
    if (!ran)
        SKIP("no AVX-512 on this CPU: neither flash kernel is tested here");
}

/* The precision asked for is the one every matrix product runs in: no
 * environment variable changes the patch embedding's behind it (an
 * undocumented PATCH32 once kept it in f32). */
static void test_precision_not_from_environment(void)
{
    const char *src = small_model();
    ds_err err = {0};
    vit_model *m = NULL;
    float plain[384], with_env[384];
    if (!src)
        return;
    if (!gemm_precision_available(GEMM_BF16, NULL, 0))
        SKIP("no bf16 units");
    ops_set_threads(2);
    CHECKF(vit_open(src, &m, &err) == 0, "%s", err.msg);
    if (!m)
        return;
    CHECKF(vit_set_precision(m, GEMM_BF16, &err) == 0, "%s", err.msg);
    embed_random(m, 70, plain);
    setenv("PATCH32", "1", 1);
    CHECKF(vit_set_precision(m, GEMM_BF16, &err) == 0, "%s", err.msg);
    unsetenv("PATCH32");
    embed_random(m, 70, with_env);
    CHECK(memcmp(plain, with_env, sizeof plain) == 0);
    vit_close(m);
}

/* ---- which model, preprocessing and precision made a collection ---------- */

#define IMG "tests/fixtures/images/"

/* Generated small weights without config.json's "dinoseek_generated" mark:
 * to dinoseek they are real weights, like a fine-tuned dinov2-small. */
static int unmarked_model(const char *name, uint64_t seed, char *dir, size_t n)
{
    ds_err err = {0};
    snprintf(dir, n, "%s/%s", ds_test_tmpdir, name);
    if (mdl_generate("small", seed, ST_F32, dir, &err) != 0) {
        fprintf(stderr, "    generate: %s\n", err.msg);
        return -1;
    }
    char path[700];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_t *cfg = json_load_file(path, 0, NULL);
    int rc = cfg && json_object_del(cfg, "dinoseek_generated") == 0 &&
                     json_dump_file(cfg, path, 0) == 0 ? 0 : -1;
    json_decref(cfg);
    return rc;
}

/* `[ENV] dinoseek VERB --model MODEL --data TMP/DATA ARGS`: its exit status;
 * stdout and stderr into *out and *err when not NULL (caller frees). */
static int run_on(const char *env, const char *verb, const char *model, const char *data,
                  const char *args, char **out, char **err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s %s --model %s --data %s/%s %s", env, ds_test_bin(), verb,
             model, ds_test_tmpdir, data, args);
    return ds_test_run(cmd, out, err);
}

/* The model id `dinoseek stats` reports for a data directory ("" if none). */
static void stats_model(const char *model, const char *data, char *id, size_t n)
{
    char *out = NULL;
    json_t *j = NULL;
    if (run_on("", "stats", model, data, "", &out, NULL) == 0)
        j = json_loads(out, 0, NULL);
    const char *m = json_string_value(json_object_get(j, "model"));
    snprintf(id, n, "%s", m ? m : "");
    json_decref(j);
    free(out);
}

/* Rewrite the model id a collection records, as a catalog written before
 * ids carried the weights' fingerprint holds it. */
static int set_recorded_model(const char *data, const char *id)
{
    char path[700], sql[256];
    sqlite3 *db = NULL;
    snprintf(path, sizeof path, "%s/%s/catalog.sqlite3", ds_test_tmpdir, data);
    snprintf(sql, sizeof sql, "UPDATE collections SET model = '%s'", id);
    int rc = sqlite3_open(path, &db) == SQLITE_OK &&
                     sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    sqlite3_close(db);
    return rc;
}

/* Two sets of real dinov2-small weights have the same architecture: the
 * id a collection records carries the weights' fingerprint, so the second
 * set is refused, naming both; a collection recorded with the architecture
 * alone (before fingerprints) still opens and is then bound to its weights. */
static void test_weights_fingerprint(void)
{
    char a[600], b[600], id_a[256], id_b[256], *err = NULL;
    if (unmarked_model("tuned_a", 21, a, sizeof a) != 0 ||
        unmarked_model("tuned_b", 22, b, sizeof b) != 0)
        SKIP("could not generate the weights");
    CHECK(run_on("", "add", a, "fp", IMG "alpha.png", NULL, NULL) == 0);
    stats_model(a, "fp", id_a, sizeof id_a);
    CHECKF(!strncmp(id_a, "dinov2-small@sha256:", 20), "model id '%s'", id_a);
    CHECKF(run_on("", "add", b, "fp", IMG "quad.png", NULL, &err) != 0,
           "weights b added to weights a's collection");
    CHECKF(err && strstr(err, id_a) && strstr(err, "dinov2-small@sha256:") &&
               strstr(strstr(err, id_a) + 1, "dinov2-small@sha256:"),
           "the refusal names both models: %s", err ? err : "");
    free(err);
    err = NULL;
    CHECK(run_on("", "add", b, "fp_b", IMG "quad.png", NULL, NULL) == 0);
    stats_model(b, "fp_b", id_b, sizeof id_b);
    CHECKF(*id_b && strcmp(id_a, id_b) != 0, "a '%s', b '%s'", id_a, id_b);
    /* A second start with the cached fingerprint says the same. */
    stats_model(a, "fp", id_b, sizeof id_b);
    CHECKF(!strcmp(id_a, id_b), "a '%s', then '%s'", id_a, id_b);

    /* A collection from before fingerprints: opened with a's weights, it
     * records theirs; b's are refused from then on. */
    CHECK(set_recorded_model("fp", "dinov2-small") == 0);
    CHECKF(run_on("", "add", a, "fp", IMG "quad.png", NULL, &err) == 0, "legacy id: %s",
           err ? err : "");
    free(err);
    err = NULL;
    stats_model(a, "fp", id_b, sizeof id_b);
    CHECKF(!strcmp(id_a, id_b), "after the legacy open: '%s'", id_b);
    CHECK(run_on("", "add", b, "fp", IMG "exif_rot6.jpg", NULL, NULL) != 0);

    /* Weights replaced in place (same size, same inode): the cached
     * fingerprint is not trusted, and the collection is refused. */
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "cp %s/model.safetensors %s/model.safetensors", b, a);
    CHECK(system(cmd) == 0);
    CHECK(run_on("", "add", a, "fp", IMG "exif_rot6.jpg", NULL, NULL) != 0);
}

/* Generated weights: the id says the seed and, since issue #19, the
 * generator's version. A directory written by the generator before it (no
 * "generator" in config.json) still loads and keeps the old id, so that a
 * collection made with those weights is not extended with the new ones of
 * the same seed. */
static void test_generator_in_model_id(void)
{
    char now[600], before[600], path[700], id_now[256], id_before[256], *err = NULL;
    ds_err e = {0};
    snprintf(now, sizeof now, "%s/gen_now", ds_test_tmpdir);
    snprintf(before, sizeof before, "%s/gen_before", ds_test_tmpdir);
    CHECKF(mdl_generate("small", 41, ST_F32, now, &e) == 0, "%s", e.msg);
    CHECKF(mdl_generate("small", 41, ST_F32, before, &e) == 0, "%s", e.msg);
    snprintf(path, sizeof path, "%s/config.json", before);
    json_t *cfg = json_load_file(path, 0, NULL);
    CHECK(cfg && json_object_del(json_object_get(cfg, "dinoseek_generated"), "generator") == 0 &&
          json_dump_file(cfg, path, 0) == 0);
    json_decref(cfg);
    vit_model *m = NULL;
    CHECKF(vit_open(before, &m, &e) == 0, "an old generated model: %s", e.msg);
    CHECK(m && vit_get_config(m)->generated && vit_get_config(m)->generator == 1);
    vit_close(m);
    CHECK(run_on("", "add", before, "gen_before", IMG "alpha.png", NULL, NULL) == 0);
    stats_model(before, "gen_before", id_before, sizeof id_before);
    CHECKF(!strcmp(id_before, "generated/dinov2-small-seed41"), "before: '%s'", id_before);
    CHECK(run_on("", "add", now, "gen_now", IMG "alpha.png", NULL, NULL) == 0);
    stats_model(now, "gen_now", id_now, sizeof id_now);
    CHECKF(!strcmp(id_now, "generated/dinov2-small-seed41-gen2"), "now: '%s'", id_now);
    CHECKF(run_on("", "add", now, "gen_before", IMG "quad.png", NULL, &err) != 0,
           "the new weights extended the old weights' collection");
    free(err);
}

/* Set key to value in DIR/config.json. */
static int edit_config(const char *dir, const char *key, json_t *value)
{
    char path[700];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_t *cfg = json_load_file(path, 0, NULL);
    int rc = cfg && json_object_set_new(cfg, key, value) == 0 &&
                     json_dump_file(cfg, path, 0) == 0 ? 0 : -1;
    json_decref(cfg);
    return rc;
}

/* The same weights with another layer_norm_eps or number of attention heads
 * in config.json make other vectors (no tensor changes shape): a collection
 * made with the standard config is refused to the edited one, naming both
 * ids, and the standard config keeps its plain id. */
static void test_config_in_model_id(void)
{
    char a[600], eps[700], heads[700], id_a[256], id_e[256], cmd[2900], *err = NULL;
    if (unmarked_model("cfg_std", 31, a, sizeof a) != 0)
        SKIP("could not generate the weights");
    snprintf(eps, sizeof eps, "%s_eps", a);
    snprintf(heads, sizeof heads, "%s_heads", a);
    snprintf(cmd, sizeof cmd, "cp -r %s %s && cp -r %s %s", a, eps, a, heads);
    CHECK(system(cmd) == 0);
    CHECK(edit_config(eps, "layer_norm_eps", json_real(1e-3)) == 0);
    CHECK(edit_config(heads, "num_attention_heads", json_integer(12)) == 0);
    CHECK(run_on("", "add", a, "cfg", IMG "alpha.png", NULL, NULL) == 0);
    stats_model(a, "cfg", id_a, sizeof id_a);
    CHECKF(!strncmp(id_a, "dinov2-small@sha256:", 20) && !strchr(id_a, '+'), "model id '%s'",
           id_a);
    const char *edited[2] = {eps, heads}, *image[2] = {IMG "quad.png", IMG "exif_rot6.jpg"};
    for (int i = 0; i < 2; i++) {
        CHECKF(run_on("", "add", edited[i], "cfg", image[i], NULL, &err) != 0,
               "%s added to the standard config's collection", edited[i]);
        CHECKF(err && strstr(err, id_a) && strstr(err, i ? "+heads12" : "+eps0.001"),
               "the refusal names both models: %s", err ? err : "");
        free(err);
        err = NULL;
    }
    CHECK(run_on("", "add", eps, "cfg_e", IMG "quad.png", NULL, NULL) == 0);
    stats_model(eps, "cfg_e", id_e, sizeof id_e);
    CHECKF(!strncmp(id_e, id_a, strlen(id_a)) && !strcmp(id_e + strlen(id_a), "+heads6+eps0.001"),
           "a '%s', edited eps '%s'", id_a, id_e);
}

/* A preprocessor_config.json describing another pipeline than the one
 * dinoseek implements (other mean/std, crop or resize) is refused, naming
 * the key: it was ignored, and images embedded with DINOv2's constants. */
static void test_preprocessor_config_checked(void)
{
    const char *model = ds_test_model_dir();
    if (!model)
        SKIP("no generated model");
    static const struct {
        const char *key, *json;
    } edits[] = {
        {"image_mean", "[0.5, 0.5, 0.5]"},
        {"image_std", "[0.5, 0.5, 0.5]"},
        {"crop_size", "{\"height\": 448, \"width\": 448}"},
        {"size", "{\"height\": 224, \"width\": 224}"},
        {"do_normalize", "false"},
        {"resample", "2"},
        {"rescale_factor", "1.0"},
    };
    char dir[700], cmd[1600], path[800], *err = NULL;
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        snprintf(dir, sizeof dir, "%s/pre_%zu", ds_test_tmpdir, i);
        snprintf(cmd, sizeof cmd, "cp -r %s %s", model, dir);
        CHECK(system(cmd) == 0);
        snprintf(path, sizeof path, "%s/preprocessor_config.json", dir);
        json_t *cfg = json_load_file(path, 0, NULL);
        CHECK(cfg && json_object_set_new(cfg, edits[i].key, json_loads(edits[i].json,
                                                                       JSON_DECODE_ANY, NULL)) == 0 &&
              json_dump_file(cfg, path, 0) == 0);
        json_decref(cfg);
        char data[32];
        snprintf(data, sizeof data, "pre_data_%zu", i);
        CHECKF(run_on("", "add", dir, data, IMG "alpha.png", NULL, &err) != 0,
               "%s: the image was added", edits[i].key);
        CHECKF(err && strstr(err, "preprocessor_config.json") && strstr(err, edits[i].key),
               "%s: %s", edits[i].key, err ? err : "");
        free(err);
        err = NULL;
    }
    /* The shipped file, and none at all, are DINOv2's own. */
    snprintf(cmd, sizeof cmd, "rm %s/preprocessor_config.json", dir);
    CHECK(system(cmd) == 0);
    CHECKF(run_on("", "add", dir, "pre_none", IMG "alpha.png", NULL, &err) == 0, "%s",
           err ? err : "");
    free(err);
    err = NULL;
    CHECKF(run_on("", "add", model, "pre_std", IMG "alpha.png", NULL, &err) == 0, "%s",
           err ? err : "");
    free(err);
}

/* A running server whose model.safetensors is overwritten in place (cp
 * over it: same inode, its F32 tensors used in place in the mapping) went
 * on embedding with the new weights, or a mixture, and stored their
 * vectors under the old weights' id. Now such a pass fails and nothing is
 * stored; a file renamed over the path (another inode) changes nothing. */
static curl_mime *photo_form(CURL *c, const char *path)
{
    curl_mime *m = curl_mime_init(c);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "file");
    curl_mime_filedata(p, path);
    return m;
}
static curl_mime *vit_photo(CURL *c) { return photo_form(c, IMG "parity_photo.jpg"); }
static curl_mime *vit_quad(CURL *c) { return photo_form(c, IMG "quad.png"); }

static void test_weights_written_while_serving(void)
{
    char a[600], b[600], extra[700], cmd[2600];
    if (unmarked_model("live_a", 41, a, sizeof a) != 0 ||
        unmarked_model("live_b", 42, b, sizeof b) != 0)
        SKIP("could not generate the weights");
    snprintf(extra, sizeof extra, "--model %s", a);
    ds_server s;
    if (ds_server_start(&s, "live", extra) != 0) {
        CHECKF(0, "the server did not start");
        return;
    }
    ds_reply r = ds_http(s.port, "POST", "/api/images", vit_photo, NULL, NULL, 0, NULL);
    CHECKF(r.status == 200, "add: %ld %s", r.status, r.body);
    ds_reply_free(&r);
    /* Renamed over: the mapped inode is untouched, the old weights serve. */
    snprintf(cmd, sizeof cmd, "cp %s/model.safetensors %s/new.tmp && mv %s/new.tmp "
             "%s/model.safetensors", a, a, a, a);
    CHECK(system(cmd) == 0);
    r = ds_http(s.port, "POST", "/api/search", vit_photo, NULL, NULL, 0, NULL);
    double score = json_real_value(json_object_get(json_array_get(ds_reply_results(&r), 0),
                                                   "score"));
    CHECKF(r.status == 200 && score > 0.9999, "after a rename: %ld %s", r.status, r.body);
    ds_reply_free(&r);
    /* A new start maps the file now at the path; then it is written in
     * place: refused, naming the cause; nothing stored. */
    CHECK(ds_server_stop(&s) == 0);
    if (ds_server_start(&s, "live", extra) != 0) {
        CHECKF(0, "the server did not start again");
        return;
    }
    snprintf(cmd, sizeof cmd, "cp %s/model.safetensors %s/model.safetensors", b, a);
    CHECK(system(cmd) == 0);
    r = ds_http(s.port, "POST", "/api/search", vit_photo, NULL, NULL, 0, NULL);
    CHECKF(r.status != 200 && strstr(r.body, "written after it was loaded"), "search: %ld %s",
           r.status, r.body);
    ds_reply_free(&r);
    r = ds_http(s.port, "POST", "/api/images", vit_quad, NULL, NULL, 0, NULL);
    CHECKF(r.status != 200, "add after the weights changed: %ld %s", r.status, r.body);
    ds_reply_free(&r);
    r = ds_http(s.port, "GET", "/api/collection/stats", NULL, NULL, NULL, 0, NULL);
    CHECKF(json_integer_value(json_object_get(ds_reply_data(&r), "images")) == 1, "%.600s",
           r.body);
    ds_reply_free(&r);
    CHECK(ds_server_stop(&s) == 0);
}

/* A collection made with seed preprocessing is not served by an engine that
 * preprocesses natively (its vectors come from another pipeline). */
static void test_preprocessing_must_match(void)
{
    const char *model = ds_test_model_dir();
    if (!model)
        SKIP("no generated model");
    CHECK(run_on("", "add", model, "pre", "--preprocess seed --collection seeded " IMG
                 "alpha.png", NULL, NULL) == 0);
    ds_server s;
    if (ds_server_start(&s, "pre", NULL) != 0) {
        CHECKF(0, "the server did not start");
        return;
    }
    ds_reply r = ds_http(s.port, "GET", "/api/collection/stats?collection=seeded", NULL, NULL,
                         NULL, 0, NULL);
    CHECKF(r.status == 404, "a seed collection on a native server: %ld %s", r.status, r.body);
    ds_reply_free(&r);
    r = ds_http(s.port, "GET", "/api/collection/stats?collection=patent_images", NULL, NULL,
                NULL, 0, NULL);
    CHECKF(r.status == 200, "its own collection: %ld %s", r.status, r.body);
    ds_reply_free(&r);
    ds_server_stop(&s);
}

/* A bf16 collection where bf16 is not available (oneDNN limited to AVX2 by
 * its own variable, as on a CPU without bf16 units) is searched and extended
 * in f32, as said at start, not refused. */
static void test_bf16_collection_without_bf16(void)
{
    const char *model = ds_test_model_dir();
    char *err = NULL;
    if (!model)
        SKIP("no generated model");
    if (!gemm_precision_available(GEMM_BF16, NULL, 0))
        SKIP("no bf16 units to make a bf16 collection with");
    CHECK(run_on("", "add", model, "b16", "--precision bf16 " IMG "alpha.png", NULL, NULL) == 0);
    CHECKF(run_on("ONEDNN_MAX_CPU_ISA=AVX2", "add", model, "b16", IMG "quad.png", NULL, &err) ==
               0, "%s", err ? err : "");
    CHECKF(err && strstr(err, "searched and extended in f32") &&
               !strstr(err, "was not loaded"), "%s", err ? err : "");
    free(err);
    char *out = NULL;
    CHECK(run_on("ONEDNN_MAX_CPU_ISA=AVX2", "stats", model, "b16", "", &out, NULL) == 0);
    CHECKF(out && strstr(out, "\"row_count\": 2"), "%s", out ? out : "");
    free(out);
}

const ds_test vit_tests[] = {
    {"config.json that does not match the weights is refused", test_config_mismatch},
    {"truncated, missing and malformed model files are refused", test_broken_files},
    {"F16 and BF16 weights match F32", test_half_precision},
    {"bad batch and input sizes are refused", test_bad_arguments},
    {"bf16, bf16x2 and int8 where the CPU has them; back to f32", test_reduced_precision},
    {"flash attention, f32 and bf16, against attention in double", test_flash_attention},
    {"bicubic position interpolation: identity and constants", test_interpolation_properties},
    {"architectures and their parameter counts", test_arch_table},
    {"the precision asked for is not changed by the environment",
     test_precision_not_from_environment},
    {"model id: the weights' fingerprint; mixing refused; old ids adopted",
     test_weights_fingerprint},
    {"model id: config.json's eps and heads; an edited config refused", test_config_in_model_id},
    {"model id: generated weights say their generator; old ones still load",
     test_generator_in_model_id},
    {"preprocessor_config.json of another pipeline is refused, naming the key",
     test_preprocessor_config_checked},
    {"weights written in place under a running server: refused, nothing stored",
     test_weights_written_while_serving},
    {"a collection is served only with its own preprocessing", test_preprocessing_must_match},
    {"a bf16 collection without bf16: searched and extended in f32",
     test_bf16_collection_without_bf16},
    {0},
};
