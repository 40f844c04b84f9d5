/* test_precision.c - the reduced-precision forward passes against float32
 * (issue #11), on every path this CPU has; the others are reported as not
 * tested.
 *
 * Paths: bf16 on AMX tiles (oneDNN's default where the CPU has AMX-BF16),
 * bf16 with AVX512_BF16 (the default elsewhere; on an AMX machine run with
 * ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 so that those kernels are tested too).
 *
 * For each path, in bf16 and bf16x2 (model/gemm.h):
 *  - the CLS vector of small and base (generated weights of the real sizes)
 *    at 224 and 518 keeps cosine >= 0.9999 with f32's in bf16x2, the
 *    precision auto may pick, for real drawings and photos from
 *    tests/fixtures (measured 0.99997 to 0.99999). bf16 (activations
 *    rounded to 8 bits) is only held to >= 0.99: since issue #19 the
 *    generated weights make the vector depend on the picture (detectors
 *    with thresholds, tests/unit/test_content.c), and 8-bit activations
 *    move it to 0.9991 (small, 224) down to 0.9937 (base, 518), measured on
 *    a Sapphire Rapids, AMX and AVX512_BF16 alike (before, when every
 *    vector was nearly the same: 0.99997);
 *  - on a retrieval set of 510 drawings from `dinoseek sample generate`,
 *    each image's top 10 among the others overlaps f32's top 10 by >= 9.5
 *    on average: bf16x2 does, and so auto may pick it. bf16 is offered
 *    when asked for and never picked by auto (checked in the first test);
 *    its retrieval is not rerun here, to keep `make test` short.
 * int8 (VNNI, or AMX-INT8 tiles) keeps a CLS cosine of 0.9989 (small,
 * 224) down to 0.9813 (base, 518) with the weights of issue #19 (about
 * 0.9994 before): held to >= 0.975, offered when asked for, and never
 * chosen by auto.
 * Everything goes through `dinoseek embed` (the shipped binary), each path
 * in a process of its own, since oneDNN fixes its ISA once per process.
 */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server_helper.h"
#include "../suites.h"
#include "base/cpu.h"
#include "model/gemm.h"

#define IMG "tests/fixtures/images/"
#define RETRIEVAL_PATENTS 170 /* x 3 views = 510 images */

static const char *const reduced[] = {"bf16", "bf16x2"};

typedef struct path {
    const char *name;
    const char *env;             /* put before the command */
    int have;
    const char *lacks;
} path;

/* The int8 paths: AMX-INT8 tiles, and VNNI (on an AMX machine with
 * oneDNN held to AVX512_CORE_VNNI). */
static int int8_paths(path out[2])
{
    const ds_cpu *c = ds_cpu_get();
    out[0] = (path){"int8 on AMX tiles", "", c->amx_int8, "AMX-INT8"};
    out[1] = (path){"int8 with VNNI", c->amx_int8 ? "ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI " : "",
                    c->avx512_vnni || c->avx_vnni, "AVX512_VNNI or AVX-VNNI"};
    return 2;
}

static int paths(path out[2])
{
    const ds_cpu *c = ds_cpu_get();
    out[0] = (path){"bf16 on AMX tiles", "", c->amx_bf16, "AMX-BF16"};
    out[1] = (path){"bf16 with AVX512_BF16",
                    c->amx_bf16 ? "ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 " : "", c->avx512_bf16,
                    "AVX512_BF16"};
    return 2;
}

/* The vectors `dinoseek embed` prints for files (space-separated), one
 * JSON array of arrays in file order; NULL on failure. */
static json_t *embed(const char *env, const char *model, const char *precision, int size,
                     const char *files, char **err_out)
{
    char *cmd = malloc(strlen(files) + 2048), *out = NULL, *err = NULL;
    sprintf(cmd, "%s%s embed --model %s --size %d --batch 8 --precision %s %s", env,
            ds_test_bin(), model, size, precision, files);
    int st = ds_test_run(cmd, &out, &err);
    free(cmd);
    json_t *all = json_array();
    for (char *line = out, *next; st == 0 && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        json_t *j = json_loads(line, 0, NULL);
        json_array_append(all, json_object_get(j, "vector"));
        json_decref(j);
    }
    if (err_out)
        *err_out = err;
    else
        free(err);
    free(out);
    if (st != 0) {
        json_decref(all);
        return NULL;
    }
    return all;
}

static double cosine(json_t *a, json_t *b)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        double x = json_number_value(json_array_get(a, i)), y = json_number_value(json_array_get(b, i));
        ab += x * y, aa += x * x, bb += y * y;
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

static const char *model_dir(const char *arch)
{
    static char dirs[2][600];
    char *dir = dirs[strcmp(arch, "small") != 0];
    if (!strcmp(arch, "small"))
        return ds_test_model_dir();
    if (!dir[0] || strncmp(dir, ds_test_tmpdir, strlen(ds_test_tmpdir)) != 0) {
        char cmd[1400];
        snprintf(dir, 600, "%s/model-%s", ds_test_tmpdir, arch);
        snprintf(cmd, sizeof cmd, "%s model generate --arch %s --seed 7 %s >/dev/null 2>&1",
                 ds_test_bin(), arch, dir);
        if (system(cmd) != 0)
            dir[0] = '\0';
    }
    return dir[0] ? dir : NULL;
}

/* A path the CPU lacks is said, and its checks not run. */
static int report_missing(const path *p)
{
    if (p->have)
        return 0;
    fprintf(stderr, "    %s: not tested, this CPU lacks %s\n", p->name, p->lacks);
    return 1;
}

static void test_paths_said(void)
{
    path ps[2];
    int tested = 0;
    for (int i = 0, n = paths(ps); i < n; i++)
        tested += !report_missing(&ps[i]);
    fprintf(stderr, "    CPU: %s; flags: %s\n", ds_cpu_get()->brand, ds_cpu_flags());
    /* auto is bf16x2 on AMX, f32 elsewhere; never bf16 nor int8 (see the top). */
    CHECK(gemm_precision_auto() != GEMM_BF16 && gemm_precision_auto() != GEMM_INT8);
    char *err = NULL;
    json_t *v = embed("", ds_test_model_dir(), "auto", 224, IMG "quad.png", &err);
    CHECKF(v && err && strstr(err, ds_cpu_get()->amx_bf16 ? "precision bf16x2" : "precision f32"),
           "auto: %s", err ? err : "");
    json_decref(v);
    free(err);
    /* Asking for a path the CPU lacks is refused, clearly. */
    if (!tested) {
        v = embed("", ds_test_model_dir(), "bf16", 224, IMG "quad.png", &err);
        CHECKF(!v && err && strstr(err, "AVX512_BF16"), "bf16 without units: %s", err ? err : "");
        json_decref(v);
        free(err);
    }
}

/* The worst CLS cosine against ref of `files` embedded in a precision. */
static double worst_cosine(const path *p, const char *model, const char *precision, int size,
                           const char *files, json_t *ref)
{
    char *err = NULL;
    json_t *got = embed(p->env, model, precision, size, files, &err);
    CHECKF(json_array_size(got) == json_array_size(ref), "%s: %s", p->name, err ? err : "");
    double worst = json_array_size(got) ? 1 : 0;
    for (size_t k = 0; k < json_array_size(got) && k < json_array_size(ref); k++) {
        double c = cosine(json_array_get(ref, k), json_array_get(got, k));
        worst = c < worst ? c : worst;
    }
    json_decref(got);
    free(err);
    return worst;
}

/* CLS cosine against f32: small and base, 224 and 518; >= 0.9999 in
 * bf16x2, >= 0.99 in bf16, >= 0.975 in int8 (see the top). */
static const double min_cosine[2] = {0.99, 0.9999}; /* reduced[] */
#define MIN_COSINE_INT8 0.975
static void test_cls_cosine(void)
{
    static const char *const archs[] = {"small", "base"};
    static const int sizes[] = {224, 518};
    const char *files = IMG "parity_small.png " IMG "drawing_g4.tif " IMG "quad.jpg";
    path ps[2], p8[2];
    int n = paths(ps), any = 0;
    int8_paths(p8);
    for (int a = 0; a < 2; a++) {
        const char *model = model_dir(archs[a]);
        if (!model) {
            CHECK(!"no generated model");
            return;
        }
        for (int s = 0; s < 2; s++) {
            json_t *ref = embed("", model, "f32", sizes[s], files, NULL);
            CHECKF(json_array_size(ref) == 3, "f32 %s %d", archs[a], sizes[s]);
            for (int i = 0; i < n; i++) {
                if (!ps[i].have)
                    continue;
                any = 1;
                for (int r = 0; r < 2; r++) {
                    double worst = worst_cosine(&ps[i], model, reduced[r], sizes[s], files, ref);
                    fprintf(stderr, "    %s, %s, %s %d: worst CLS cosine %.7f\n", ps[i].name,
                            reduced[r], archs[a], sizes[s], worst);
                    CHECKF(worst >= min_cosine[r], "%s %s %s %d: cosine %.7f", ps[i].name,
                           reduced[r], archs[a], sizes[s], worst);
                }
            }
            for (int i = 0; i < 2; i++) {
                if (!p8[i].have)
                    continue;
                any = 1;
                double worst = worst_cosine(&p8[i], model, "int8", sizes[s], files, ref);
                fprintf(stderr, "    %s, %s %d: worst CLS cosine %.7f\n", p8[i].name, archs[a],
                        sizes[s], worst);
                CHECKF(worst >= MIN_COSINE_INT8, "%s %s %d: cosine %.7f", p8[i].name, archs[a],
                       sizes[s], worst);
            }
            json_decref(ref);
        }
    }
    for (int i = 0; i < 2; i++)
        report_missing(&p8[i]);
    if (!any)
        SKIP("this CPU has no bf16 nor int8 path");
}

/* The top k of query q among the others, by cosine (vectors unit). */
static void top10(const float *v, int n, int dim, int q, int out[10])
{
    float best[10];
    for (int i = 0; i < 10; i++)
        best[i] = -2, out[i] = -1;
    for (int j = 0; j < n; j++) {
        if (j == q)
            continue;
        float s = 0;
        for (int d = 0; d < dim; d++)
            s += v[(size_t)q * dim + d] * v[(size_t)j * dim + d];
        if (s <= best[9])
            continue;
        int at = 9;
        while (at > 0 && best[at - 1] < s) {
            best[at] = best[at - 1];
            out[at] = out[at - 1];
            at--;
        }
        best[at] = s;
        out[at] = j;
    }
}

static float *as_floats(json_t *vs, int *dim)
{
    size_t n = json_array_size(vs);
    *dim = (int)json_array_size(json_array_get(vs, 0));
    float *f = malloc(sizeof(float) * n * (size_t)*dim + 1);
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < *dim; d++)
            f[i * (size_t)*dim + d] =
                (float)json_number_value(json_array_get(json_array_get(vs, i), (size_t)d));
    return f;
}

/* 510 drawings: the average overlap of each one's top 10 with f32's. */
static void test_retrieval_overlap(void)
{
    path ps[2];
    int n_paths = paths(ps), any = 0;
    for (int i = 0; i < n_paths; i++)
        any |= ps[i].have;
    if (!any)
        SKIP("this CPU has no bf16 path");
    char dir[600], cmd[1400];
    snprintf(dir, sizeof dir, "%s/retrieval", ds_test_tmpdir);
    /* Half-size sheets: the same drawings, a quarter of the decoding. */
    snprintf(cmd, sizeof cmd, "%s sample generate %s --patents %d --seed 11 --views-min 3 "
             "--views-max 3 --size 425x550 --no-tar >/dev/null 2>&1", ds_test_bin(), dir,
             RETRIEVAL_PATENTS);
    if (system(cmd) != 0) {
        CHECK(!"no sample set");
        return;
    }
    /* Every drawing of the USD* folders, in the shell's (sorted) order: a
     * glob, since 510 paths would not fit a command line we build. */
    char files[700];
    snprintf(files, sizeof files, "%s/USD*/USD*.TIF", dir);
    json_t *ref = embed("", ds_test_model_dir(), "f32", 224, files, NULL);
    int n = (int)json_array_size(ref), dim = 0;
    CHECKF(n >= 500, "%d drawings embedded", n);
    float *a = n ? as_floats(ref, &dim) : NULL;
    for (int i = 0, r = 1; a && i < n_paths; i++) {
        if (!ps[i].have)
            continue;
        json_t *got = embed(ps[i].env, ds_test_model_dir(), reduced[r], 224, files, NULL);
        if ((int)json_array_size(got) != n) {
            CHECKF(0, "%s: %zu vectors", ps[i].name, json_array_size(got));
            json_decref(got);
            continue;
        }
        float *b = as_floats(got, &dim);
        double sum = 0;
        int worst = 10;
        for (int q = 0; q < n; q++) {
            int ta[10], tb[10], same = 0;
            top10(a, n, dim, q, ta);
            top10(b, n, dim, q, tb);
            for (int x = 0; x < 10; x++)
                for (int y = 0; y < 10; y++)
                    same += ta[x] == tb[y];
            sum += same;
            worst = same < worst ? same : worst;
        }
        fprintf(stderr, "    %s, %s: %d drawings, top-10 overlap with f32 %.3f on average "
                "(worst query %d)\n", ps[i].name, reduced[r], n, sum / n, worst);
        CHECKF(sum / n >= 9.5, "%s bf16x2: overlap %.3f", ps[i].name, sum / n);
        free(b);
        json_decref(got);
    }
    free(a);
    json_decref(ref);
}

/* `dinoseek stats` of DATA with extra args: its JSON's "precision", into
 * out ("" when the command failed); returns the exit status. */
static int stats_precision(const char *data, const char *extra, char *out, size_t n, char **err)
{
    char cmd[2048], *text = NULL;
    snprintf(cmd, sizeof cmd, "%s stats --model %s --data %s/%s %s", ds_test_bin(),
             ds_test_model_dir(), ds_test_tmpdir, data, extra);
    int st = ds_test_run(cmd, &text, err);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    const char *p = json_string_value(json_object_get(j, "precision"));
    snprintf(out, n, "%s", st == 0 && p ? p : "");
    json_decref(j);
    free(text);
    return st;
}

/* A collection remembers the precision its vectors were made in: auto
 * follows it, another one asked for is refused, naming both. */
static void test_collection_remembers(void)
{
    char p[32], *err = NULL, cmd[1600];
    snprintf(cmd, sizeof cmd, "%s add --model %s --data %s/made32 --precision f32 "
             IMG "quad.png", ds_test_bin(), ds_test_model_dir(), ds_test_tmpdir);
    CHECK(ds_test_run(cmd, NULL, NULL) == 0);
    CHECKF(stats_precision("made32", "", p, sizeof p, NULL) == 0 && !strcmp(p, "f32"),
           "auto on an f32 collection: '%s'", p);
    if (!gemm_precision_available(GEMM_BF16, NULL, 0))
        SKIP("no bf16 units: the refusal of a bf16 request is tested where they exist");
    CHECKF(stats_precision("made32", "--precision bf16x2", p, sizeof p, &err) == 1 && err &&
               strstr(err, "made in f32, not bf16x2"), "%s", err ? err : "");
    free(err);
    snprintf(cmd, sizeof cmd, "%s add --model %s --data %s/made16 --precision bf16 "
             IMG "quad.png", ds_test_bin(), ds_test_model_dir(), ds_test_tmpdir);
    CHECK(ds_test_run(cmd, NULL, NULL) == 0);
    CHECKF(stats_precision("made16", "", p, sizeof p, NULL) == 0 && !strcmp(p, "bf16"),
           "auto on a bf16 collection: '%s'", p);
    CHECKF(stats_precision("made16", "--precision f32", p, sizeof p, NULL) == 1,
           "f32 asked of a bf16 collection: '%s'", p);
}

const ds_test precision_tests[] = {
    {"the paths this CPU has; auto and refusals", test_paths_said},
    {"CLS cosine: bf16x2 >= 0.9999, bf16 >= 0.99, int8 >= 0.975: small, base; 224, 518",
     test_cls_cosine},
    {"retrieval: bf16x2 top-10 overlap >= 9.5 of 10", test_retrieval_overlap},
    {"a collection remembers its precision", test_collection_remembers},
    {0},
};
