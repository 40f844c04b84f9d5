/* test_cli.c - the dinoseek binary: its commands, help, errors and exit
 * statuses, run as a user runs them. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "../suites.h"

/* Run `dinoseek ARGS`; returns the exit status, output in *out / *err. */
static int run(const char *args, char **out, char **err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s", ds_test_bin(), args);
    return ds_test_run(cmd, out, err);
}

static void test_version_and_help(void)
{
    char *out = NULL, *err = NULL;
    CHECK(run("--version", &out, &err) == 0 && strncmp(out, "dinoseek ", 9) == 0);
    free(out), free(err);
    CHECK(run("--help", &out, &err) == 0 && strstr(out, "embed") && strstr(out, "model"));
    free(out), free(err);
    const char *cmds[] = {"embed --help", "model --help"};
    for (int i = 0; i < 2; i++) {
        CHECKF(run(cmds[i], &out, &err) == 0 && strstr(out, "usage: dinoseek"), "%s", cmds[i]);
        free(out), free(err);
    }
    CHECK(run("frobnicate", &out, &err) == 2 && strstr(err, "unknown command 'frobnicate'"));
    free(out), free(err);
    CHECK(run("", &out, &err) == 2 && strstr(err, "usage"));
    free(out), free(err);
}

static void test_model_commands(void)
{
    char *out = NULL, *err = NULL, args[1024];
    snprintf(args, sizeof args, "model generate --arch small --seed 3 %s/m", ds_test_tmpdir);
    CHECK(run(args, &out, &err) == 0 && strstr(err, "not meaningful"));
    free(out), free(err);
    snprintf(args, sizeof args, "model info %s/m --size 518", ds_test_tmpdir);
    CHECK(run(args, &out, &err) == 0);
    CHECKF(out && strstr(out, "dinov2-small") && strstr(out, "22056576") &&
           strstr(out, "1370 tokens") && strstr(out, "generated weights"), "%s", out);
    free(out), free(err);
    CHECK(run("model generate --arch huge /tmp/x", &out, &err) == 1 &&
          strstr(err, "unknown architecture 'huge'"));
    free(out), free(err);
    CHECK(run("model generate --arch small --seed -4 /tmp/x", &out, &err) == 2 &&
          strstr(err, "--seed"));
    free(out), free(err);
    CHECK(run("model info /nonexistent", &out, &err) == 1 && strstr(err, "/nonexistent"));
    free(out), free(err);
    snprintf(args, sizeof args, "model info %s/m --size 225", ds_test_tmpdir);
    CHECK(run(args, &out, &err) == 2 && strstr(err, "multiple of the patch size"));
    free(out), free(err);
    CHECK(run("model fetch not-a-repo --cache /tmp/none", &out, &err) == 1 && strstr(err, "repo"));
    free(out), free(err);
    CHECK(run("model explode", &out, &err) == 2 && strstr(err, "unknown action"));
    free(out), free(err);
}

/* Each output line is {"file", "dim", "vector"} with a unit vector. */
static int check_lines(const char *out, int want_lines)
{
    int lines = 0;
    for (const char *p = out; p && *p; lines++) {
        const char *nl = strchr(p, '\n');
        json_error_t jerr;
        json_t *j = json_loadb(p, nl ? (size_t)(nl - p) : strlen(p), 0, &jerr);
        CHECKF(j != NULL, "line %d: %s", lines, jerr.text);
        json_t *v = json_object_get(j, "vector");
        CHECK(json_is_string(json_object_get(j, "file")));
        CHECK(json_integer_value(json_object_get(j, "dim")) == 384 && json_array_size(v) == 384);
        double n = 0;
        for (size_t i = 0; i < json_array_size(v); i++)
            n += pow(json_number_value(json_array_get(v, i)), 2);
        CHECKF(fabs(n - 1) < 1e-5, "norm² %g", n);
        json_decref(j);
        p = nl ? nl + 1 : p + strlen(p);
    }
    CHECKF(lines == want_lines, "%d lines, want %d", lines, want_lines);
    return lines;
}

/* Largest difference between the vectors of two embed outputs. */
static double max_vector_diff(const char *a, const char *b)
{
    double worst = 0;
    while (a && b && *a && *b) {
        const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
        json_t *ja = json_loadb(a, na ? (size_t)(na - a) : strlen(a), 0, NULL);
        json_t *jb = json_loadb(b, nb ? (size_t)(nb - b) : strlen(b), 0, NULL);
        json_t *va = json_object_get(ja, "vector"), *vb = json_object_get(jb, "vector");
        if (!va || !vb || json_array_size(va) != json_array_size(vb))
            worst = INFINITY;
        for (size_t i = 0; va && vb && i < json_array_size(va); i++)
            worst = fmax(worst, fabs(json_number_value(json_array_get(va, i)) -
                                     json_number_value(json_array_get(vb, i))));
        json_decref(ja);
        json_decref(jb);
        if (!na || !nb)
            break;
        a = na + 1;
        b = nb + 1;
    }
    return worst;
}

static void test_embed(void)
{
    char *out = NULL, *err = NULL, args[2048];
    const char *imgs = "tests/fixtures/images/quad.png tests/fixtures/images/drawing_g4.tif "
                       "tests/fixtures/images/quad.jpg";
    snprintf(args, sizeof args, "model generate --arch small --seed 3 %s/e", ds_test_tmpdir);
    CHECK(run(args, NULL, NULL) == 0);
    snprintf(args, sizeof args, "embed --model %s/e --batch 2 %s", ds_test_tmpdir, imgs);
    CHECKF(run(args, &out, &err) == 0, "%s", err);
    check_lines(out, 3);
    CHECK(strstr(err, "not meaningful") != NULL);
    /* Same vectors, one at a time and in seed mode too. */
    char *again = NULL;
    snprintf(args, sizeof args, "embed --model %s/e --batch 1 --threads 1 %s", ds_test_tmpdir,
             imgs);
    CHECK(run(args, &again, NULL) == 0);
    check_lines(again, 3);
    CHECKF(max_vector_diff(out, again) < 1e-5, "batch 2 vs 1: %g", max_vector_diff(out, again));
    free(out), free(err), free(again);
    snprintf(args, sizeof args, "embed --model %s/e --preprocess seed %s", ds_test_tmpdir, imgs);
    CHECK(run(args, &out, &err) == 0);
    check_lines(out, 3);
    free(out), free(err);
    /* A bad image is reported; the good ones are still embedded; status 1. */
    snprintf(args, sizeof args, "embed --model %s/e tests/fixtures/images/text.png "
             "tests/fixtures/images/quad.png /nonexistent.png", ds_test_tmpdir);
    CHECK(run(args, &out, &err) == 1);
    check_lines(out, 1);
    CHECKF(strstr(err, "text.png") && strstr(err, "nonexistent.png"), "%s", err);
    free(out), free(err);
    snprintf(args, sizeof args, "embed --model %s/e --size 100 x.png", ds_test_tmpdir);
    CHECK(run(args, &out, &err) == 2 && strstr(err, "multiple of 14"));
    free(out), free(err);
    snprintf(args, sizeof args, "embed --model %s/e --preprocess fancy x.png", ds_test_tmpdir);
    CHECK(run(args, &out, &err) == 2 && strstr(err, "fancy"));
    free(out), free(err);
    CHECK(run("embed --model /nonexistent x.png", &out, &err) == 1 && strstr(err, "/nonexistent"));
    free(out), free(err);
}

/* Settings: flags win over DINOSEEK_* variables, which win over the file. */
static void test_settings_precedence(void)
{
    char *out = NULL, *err = NULL, conf[600], args[2048];
    snprintf(args, sizeof args, "model generate --arch small --seed 3 %s/s", ds_test_tmpdir);
    CHECK(run(args, NULL, NULL) == 0);
    snprintf(conf, sizeof conf, "%s/d.conf", ds_test_tmpdir);
    char text[1400];
    snprintf(text, sizeof text, "# test\nmodel = %s/s\ndata = %s/sdata   # trailing\n"
             "index = flat16\n", ds_test_tmpdir, ds_test_tmpdir);
    CHECK(ds_test_write_file(conf, text, strlen(text)) == 0);
    snprintf(args, sizeof args, "stats --config %s", conf);
    CHECK(run(args, &out, &err) == 0 && strstr(out, "\"f16\": true"));
    free(out), free(err);
    snprintf(args, sizeof args, "DINOSEEK_INDEX=flat %s stats --config %s", ds_test_bin(), conf);
    CHECK(ds_test_run(args, &out, &err) == 0 && strstr(out, "\"f16\": false"));
    free(out), free(err);
    snprintf(args, sizeof args, "DINOSEEK_INDEX=flat %s stats --config %s --index flat16",
             ds_test_bin(), conf);
    CHECK(ds_test_run(args, &out, &err) == 0 && strstr(out, "\"f16\": true"));
    free(out), free(err);
    /* collection-model lines add collections with their own models. */
    snprintf(text, sizeof text, "model = %s/s\ndata = %s/sdata2\ncollection-model = one=%s/s\n"
             "collection-model = two=%s/s\n", ds_test_tmpdir, ds_test_tmpdir, ds_test_tmpdir,
             ds_test_tmpdir);
    CHECK(ds_test_write_file(conf, text, strlen(text)) == 0);
    snprintf(args, sizeof args, "stats --config %s --collection two", conf);
    CHECKF(run(args, &out, &err) == 0 && strstr(out, "\"collection_name\": \"two\""), "%s", err);
    free(out), free(err);
    CHECK(ds_test_write_file(conf, "colour = blue\n", 14) == 0);
    snprintf(args, sizeof args, "stats --config %s", conf);
    CHECK(run(args, &out, &err) == 2 && strstr(err, ":1: unknown setting 'colour'"));
    free(out), free(err);
    CHECK(run("serve --api-key '' --model /nonexistent", &out, &err) == 2 &&
          strstr(err, "API key is empty"));
    free(out), free(err);
    /* The connection limits and timeouts (slow clients), refused out of range. */
    CHECKF(run("serve --max-connections 0 --model /nonexistent", &out, &err) == 2 &&
           strstr(err, "--max-connections must be an integer from 1"), "%s", err);
    free(out), free(err);
    snprintf(args, sizeof args, "DINOSEEK_REQUEST_TIMEOUT=1s %s serve --model /nonexistent",
             ds_test_bin());
    CHECKF(ds_test_run(args, &out, &err) == 2 && strstr(err, "setting request-timeout must"),
           "%s", err);
    free(out), free(err);
    CHECK(run("stats --config /nonexistent.conf", &out, &err) == 2 &&
          strstr(err, "cannot read configuration file"));
    free(out), free(err);
    /* A bad value from the file or a variable stops the command as a bad
     * flag does: a misspelt index never quietly serves the embedded one. */
    snprintf(text, sizeof text, "model = %s/s\ndata = %s/sdata\nindex = milvsu\n",
             ds_test_tmpdir, ds_test_tmpdir);
    CHECK(ds_test_write_file(conf, text, strlen(text)) == 0);
    snprintf(args, sizeof args, "stats --config %s", conf);
    CHECKF(run(args, &out, &err) == 2 && strstr(err, "bad index setting 'milvsu'"), "%s", err);
    free(out), free(err);
    static const char *const bad_vars[] = {"DINOSEEK_PRECISION=bf17", "DINOSEEK_S3_TIMEOUT_MS=5",
                                           "DINOSEEK_PREPROCESS=fancy"};
    for (size_t i = 0; i < sizeof bad_vars / sizeof *bad_vars; i++) {
        snprintf(args, sizeof args, "%s %s stats --model %s/s --data %s/sdata", bad_vars[i],
                 ds_test_bin(), ds_test_tmpdir, ds_test_tmpdir);
        CHECKF(ds_test_run(args, &out, &err) == 2 && err && *err, "%s: %s", bad_vars[i],
               err ? err : "");
        free(out), free(err);
    }
}

/* A --collection-model value longer than its buffer is refused, naming the
 * length. Built so that its first 4095 bytes ("two=DIR/./././...") name the
 * real model directory: a cut value would quietly load that instead of the
 * directory asked for, which does not exist. */
/* A path of about len bytes whose first PATH_MAX - 1 bytes name dir itself
 * ("DIR/./././...") and whose end names nothing: cut to fit a path buffer it
 * would silently be dir. The caller frees it. */
static char *overlong_path(const char *prefix, const char *dir, int len)
{
    char *value = malloc((size_t)len + 16);
    if (!value)
        return NULL;
    int n = snprintf(value, (size_t)len, "%s%s", prefix, dir);
    while (n < len - 2)
        n += snprintf(value + n, (size_t)(len - n), "/.");
    snprintf(value + n, 16, "/missing");
    return value;
}

/* Runs a dinoseek command line (fmt's one %s is the overlong value) and
 * checks that it fails with the exit status and words expected. */
static void check_overlong(const char *value, const char *fmt, int status, const char *words)
{
    char *out = NULL, *err = NULL, *cmd = malloc(strlen(value) + 2048);
    CHECK(value && cmd);
    if (!value || !cmd) {
        free(cmd);
        return;
    }
    snprintf(cmd, strlen(value) + 2048, fmt, value);
    int st = ds_test_run(cmd, &out, &err);
    CHECKF(st == status && err && strstr(err, words) && strstr(err, "bytes long"),
           "exit %d: %s%s", st, out ? out : "", err ? err : "");
    free(out), free(err), free(cmd);
}

static void test_overlong_collection_model(void)
{
    char args[1200], fmt[1200];
    snprintf(args, sizeof args, "model generate --arch small --seed 3 %s/s", ds_test_tmpdir);
    CHECK(run(args, NULL, NULL) == 0);
    char *value = overlong_path("two=", ds_test_tmpdir, 4200);
    snprintf(fmt, sizeof fmt, "%s stats --model %s/s --data %s/sdata3 --collection two "
             "--collection-model %%s", ds_test_bin(), ds_test_tmpdir, ds_test_tmpdir);
    check_overlong(value, fmt, 2, "--collection-model");
    free(value);
}

/* An import root longer than a path may be: cut to PATH_MAX it names the
 * test's folder, so a server that cut it would start and offer that folder
 * for import; it must refuse to start and say why. */
static void test_overlong_import_root(void)
{
    char args[1200], fmt[1200];
    snprintf(args, sizeof args, "model generate --arch small --seed 3 %s/s", ds_test_tmpdir);
    CHECK(run(args, NULL, NULL) == 0);
    char *value = overlong_path("", ds_test_tmpdir, 4200);
    snprintf(fmt, sizeof fmt, "timeout 60 %s serve --model %s/s --data %s/rootdata "
             "--listen 127.0.0.1:0 --import-roots %%s", ds_test_bin(), ds_test_tmpdir,
             ds_test_tmpdir);
    check_overlong(value, fmt, 1, "import root");
    free(value);
}

/* A Locarno class filter that is no class ("6" for 06) would match nothing
 * and read as an empty class: refused, as the API refuses it. */
static void test_search_loc_class_checked(void)
{
    char *out = NULL, *err = NULL;
    const char *bad[] = {"6", "12-8", "ab", "12-08-1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[200];
        snprintf(args, sizeof args, "search /dev/null --filter loc_class=%s", bad[i]);
        int st = run(args, &out, &err);
        CHECKF(st == 2 && err && strstr(err, "Locarno class"), "%s: exit %d: %s", bad[i], st,
               err ? err : "");
        free(out), free(err);
        out = err = NULL;
    }
}

const ds_test cli_tests[] = {
    {"settings: flags > DINOSEEK_* > configuration file", test_settings_precedence},
    {"--version, --help, unknown commands", test_version_and_help},
    {"model generate / info / fetch errors", test_model_commands},
    {"embed prints unit vectors; bad images are reported", test_embed},
    {"an overlong --collection-model is refused, not cut", test_overlong_collection_model},
    {"an overlong --import-roots entry is refused, not cut", test_overlong_import_root},
    {"search --filter loc_class that is no Locarno class: refused", test_search_loc_class_checked},
    {0},
};
