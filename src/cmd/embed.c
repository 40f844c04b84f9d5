/* embed.c - `dinoseek embed IMAGE...`: one JSON line per image,
 * {"file": ..., "dim": D, "vector": [...]}, for debugging and tooling.
 * Images that fail are reported on stderr; the others are still embedded,
 * and the exit status is 1 if any failed. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "cmd/common.h"
#include "image/image.h"
#include "model/ops.h"
#include "model/vit.h"

static const char usage_text[] =
    "usage: dinoseek embed IMAGE... [--model DIR] [--size N] [--preprocess native|seed]\n"
    "                      [--batch N] [--threads N] [--precision P]\n"
    "\n"
    "Print each image's DINOv2 vector (CLS, L2-normalised) as one JSON line:\n"
    "  {\"file\": \"a.png\", \"dim\": 384, \"vector\": [...]}\n"
    "\n"
    "  --model DIR        model directory (config.json + model.safetensors);\n"
    "                     default $DINOSEEK_MODEL, else the cached facebook/dinov2-small\n"
    "  --size N           input side, a multiple of 14 (default 224; native only)\n"
    "  --preprocess MODE  native (letterbox to N) or seed (the Python system's\n"
    "                     518 letterbox + resize 256 + crop 224)\n"
    "  --batch N          images per forward pass (default 8)\n"
    "  --threads N        threads (default: all cores)\n"
    "  --precision P      f32 (the reference, equal to PyTorch's; default), bf16 (where\n"
    "                     the CPU has AVX512_BF16 or AMX), bf16x2 (bf16 weights,\n"
    "                     activations in two bf16 halves), int8 (where the CPU has\n"
    "                     VNNI or AMX-INT8; cosine ~0.9994 to f32), or auto: bf16x2 on\n"
    "                     AMX, else f32 (the precision used is said on stderr)\n";

/* A file name as a JSON string. Names that are not UTF-8 (JSON cannot hold
 * raw bytes) get '?' for each byte outside ASCII. Caller frees. */
static char *json_file_name(const char *file)
{
    json_t *s = json_string(file);
    if (!s) {
        char *ascii = strdup(file);
        for (char *p = ascii; p && *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        s = json_string(ascii ? ascii : "");
        free(ascii);
    }
    char *text = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    return text;
}

static void print_vector(const char *file, const float *v, int dim)
{
    char *name = json_file_name(file);
    printf("{\"file\": %s, \"dim\": %d, \"vector\": [", name ? name : "null", dim);
    for (int i = 0; i < dim; i++)
        printf(i ? ", %.9g" : "%.9g", (double)v[i]);
    printf("]}\n");
    free(name);
}

typedef struct embed_args {
    const char *model;
    img_opts img;
    int batch, threads;
    int precision;               /* gemm_precision, or GEMM_AUTO */
} embed_args;

/* Embed files[0..n) in batches; returns how many failed (or -1 if the model
 * itself failed). */
static int embed_files(vit_model *m, const embed_args *a, char **files, int n)
{
    const vit_config *c = vit_get_config(m);
    int size = img_input_size(&a->img), dim = c->hidden_size, failed = 0;
    size_t per = (size_t)3 * size * size;
    float *pixels = malloc(sizeof(float) * per * (size_t)a->batch);
    float *vecs = malloc(sizeof(float) * (size_t)dim * (size_t)a->batch);
    int *ok = malloc(sizeof(int) * (size_t)a->batch);
    if (!pixels || !vecs || !ok) {
        fprintf(stderr, "dinoseek embed: out of memory\n");
        failed = -1;
        goto out;
    }
    for (int start = 0; start < n; start += a->batch) {
        int count = n - start < a->batch ? n - start : a->batch, good = 0;
        for (int i = 0; i < count; i++) {
            ds_err err = {0};
            ok[i] = img_preprocess_file(files[start + i], &a->img, pixels + per * (size_t)good,
                                        &err) == 0;
            if (ok[i])
                good++;
            else {
                fprintf(stderr, "dinoseek embed: %s: %s\n", files[start + i], err.msg);
                failed++;
            }
        }
        ds_err err = {0};
        if (good && vit_embed(m, pixels, good, size, vecs, &err) != 0) {
            fprintf(stderr, "dinoseek embed: %s\n", err.msg);
            failed = -1;
            goto out;
        }
        for (int i = 0, j = 0; i < count; i++)
            if (ok[i])
                print_vector(files[start + i], vecs + (size_t)dim * j++, dim);
        fflush(stdout);
    }
out:
    free(pixels);
    free(vecs);
    free(ok);
    return failed;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, embed_args *a)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"size", required_argument, 0, 's'},
                                         {"preprocess", required_argument, 0, 'p'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"threads", required_argument, 0, 't'},
                                         {"precision", required_argument, 0, 'P'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c, size_set = 0;
    ds_err err = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 's':
            if (parse_int(optarg, 14, 4088, &a->img.size) != 0 || a->img.size % 14) {
                fprintf(stderr, "dinoseek embed: --size must be a multiple of 14 in [14, 4088]\n");
                return 2;
            }
            size_set = 1;
            break;
        case 'p':
            if (img_mode_parse(optarg, &a->img.mode, &err) != 0) {
                fprintf(stderr, "dinoseek embed: %s\n", err.msg);
                return 2;
            }
            break;
        case 'b':
            if (parse_int(optarg, 1, 256, &a->batch) != 0) {
                fprintf(stderr, "dinoseek embed: --batch must be an integer in [1, 256]\n");
                return 2;
            }
            break;
        case 't':
            if (parse_int(optarg, 1, 1024, &a->threads) != 0) {
                fprintf(stderr, "dinoseek embed: --threads must be an integer in [1, 1024]\n");
                return 2;
            }
            break;
        case 'P':
            if (gemm_precision_parse(optarg, &a->precision) != 0) {
                fprintf(stderr, "dinoseek embed: --precision must be f32, bf16, bf16x2, int8 or auto\n");
                return 2;
            }
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    if (a->img.mode == IMG_SEED && size_set && a->img.size != 224) {
        fprintf(stderr, "dinoseek embed: --preprocess seed always crops to 224\n");
        return 2;
    }
    if (a->img.mode == IMG_SEED)
        a->img.size = 224;
    if (optind >= argc) {
        fprintf(stderr, "dinoseek embed: name at least one image\n");
        fputs(usage_text, stderr);
        return 2;
    }
    return -1; /* carry on */
}

int cmd_embed(int argc, char **argv)
{
    embed_args a = {.batch = 8, .threads = (int)sysconf(_SC_NPROCESSORS_ONLN)};
    img_opts_default(&a.img);
    int status = parse_args(argc, argv, &a);
    if (status >= 0)
        return status;
    char cached[4096];
    if (!a.model && !(a.model = cmd_default_model(cached, sizeof cached))) {
        fprintf(stderr, "dinoseek embed: no model. Pass --model DIR, download one with "
                        "`dinoseek model fetch facebook/dinov2-small`, or make test weights "
                        "with `dinoseek model generate --arch small DIR`\n");
        return 1;
    }
    ds_err err = {0};
    vit_model *m = NULL;
    if (img_init(argv[0], &err) != 0 || vit_open(a.model, &m, &err) != 0) {
        fprintf(stderr, "dinoseek embed: %s\n", err.msg);
        return 1;
    }
    ops_set_threads(a.threads);
    gemm_precision p = a.precision == GEMM_AUTO ? gemm_precision_auto() : (gemm_precision)a.precision;
    if (p != GEMM_F32 && vit_set_precision(m, p, &err) != 0) {
        fprintf(stderr, "dinoseek embed: %s\n", err.msg);
        vit_close(m);
        return 1;
    }
    if (a.precision != GEMM_F32)
        fprintf(stderr, "dinoseek embed: precision %s (%s)\n", gemm_precision_name(p),
                gemm_engine_name(p));
    if (vit_get_config(m)->generated)
        fprintf(stderr, "dinoseek embed: note: %s has generated weights; similarity between "
                        "these vectors is not meaningful\n", a.model);
    int failed = embed_files(m, &a, argv + optind, argc - optind);
    vit_close(m);
    return failed ? 1 : 0;
}
