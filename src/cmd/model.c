/* model.c - `dinoseek model generate|fetch|info|list`. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "cmd/commands.h"
#include "model/fetch.h"
#include "model/generate.h"
#include "model/safetensors.h"
#include "model/vit.h"

static const char usage_text[] =
    "usage: dinoseek model <action> [options]\n"
    "\n"
    "  generate --arch small|base|large|giant [--seed N] [--dtype f32|f16|bf16] DIR\n"
    "      write a deterministic model directory with the real shapes (for tests\n"
    "      and offline demos: similarity with these weights is not meaningful)\n"
    "  fetch REPO [--cache DIR] [--revision REV]\n"
    "      download official weights, e.g. facebook/dinov2-small, into the cache\n"
    "      (resumable, sha256-checked); prints the model directory (one per\n"
    "      revision: REPO's name, then @REV unless REV is main)\n"
    "  info DIR [--size N]\n"
    "      check a model directory; print its architecture, parameters and GFLOPs\n"
    "  list [--cache DIR]\n"
    "      the models in the cache\n";

static int usage(FILE *out, int status)
{
    fputs(usage_text, out);
    return status;
}

static int parse_dtype(const char *s, st_dtype *out)
{
    if (strcmp(s, "f32") == 0 || strcmp(s, "F32") == 0)
        *out = ST_F32;
    else if (strcmp(s, "f16") == 0 || strcmp(s, "F16") == 0)
        *out = ST_F16;
    else if (strcmp(s, "bf16") == 0 || strcmp(s, "BF16") == 0)
        *out = ST_BF16;
    else
        return -1;
    return 0;
}

/* Strict integer parsing: the whole string, within [lo, hi]. */
static int parse_long(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int do_generate(int argc, char **argv)
{
    static const struct option opts[] = {{"arch", required_argument, 0, 'a'},
                                         {"seed", required_argument, 0, 's'},
                                         {"dtype", required_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *arch = NULL;
    long long seed = 0;
    st_dtype dt = ST_F32;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': arch = optarg; break;
        case 's':
            if (parse_long(optarg, 0, INT64_MAX, &seed) != 0) {
                fprintf(stderr, "dinoseek model generate: --seed must be a non-negative integer\n");
                return 2;
            }
            break;
        case 't':
            if (parse_dtype(optarg, &dt) != 0) {
                fprintf(stderr, "dinoseek model generate: --dtype must be f32, f16 or bf16\n");
                return 2;
            }
            break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
    }
    if (!arch || optind != argc - 1) {
        fprintf(stderr, "dinoseek model generate: need --arch and one output DIR\n");
        return usage(stderr, 2);
    }
    ds_err err = {0};
    if (mdl_generate(arch, (uint64_t)seed, dt, argv[optind], &err) != 0) {
        fprintf(stderr, "dinoseek model generate: %s\n", err.msg);
        return 1;
    }
    fprintf(stderr, "wrote %s (dinov2-%s, seed %lld, %s): generated weights, similarity is not "
                    "meaningful\n", argv[optind], arch, seed, st_dtype_name(dt));
    return 0;
}

static int do_fetch(int argc, char **argv)
{
    static const struct option opts[] = {{"cache", required_argument, 0, 'c'},
                                         {"revision", required_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    mdl_fetch_opts o = {.progress = 1};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o.cache_dir = optarg; break;
        case 'r': o.revision = optarg; break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dinoseek model fetch: name one repository, e.g. facebook/dinov2-small\n");
        return 2;
    }
    ds_err err = {0};
    char dir[4096];
    if (mdl_fetch(argv[optind], &o, dir, sizeof dir, &err) != 0) {
        fprintf(stderr, "dinoseek model fetch: %s\n", err.msg);
        return 1;
    }
    printf("%s\n", dir);
    return 0;
}

static int do_info(int argc, char **argv)
{
    static const struct option opts[] = {{"size", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long long size = 224;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_long(optarg, 1, 4096, &size) != 0) {
                fprintf(stderr, "dinoseek model info: --size must be an integer in [1, 4096]\n");
                return 2;
            }
            break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
    }
    if (optind != argc - 1)
        return usage(stderr, 2);
    ds_err err = {0};
    vit_model *m;
    if (vit_open(argv[optind], &m, &err) != 0) {
        fprintf(stderr, "dinoseek model info: %s\n", err.msg);
        return 1;
    }
    const vit_config *cf = vit_get_config(m);
    if (size % cf->patch_size != 0) {
        fprintf(stderr, "dinoseek model info: --size %lld is not a multiple of the patch size %d\n",
                size, cf->patch_size);
        vit_close(m);
        return 2;
    }
    int grid = (int)size / cf->patch_size;
    printf("model        %s\n", argv[optind]);
    printf("architecture %s (ViT/%d, %s MLP)%s\n", cf->name, cf->patch_size,
           cf->use_swiglu ? "SwiGLU" : "GELU",
           cf->generated ? "  [generated weights: similarity is not meaningful]" : "");
    printf("width        %d, %d layers, %d heads of %d, MLP %d\n", cf->hidden_size,
           cf->num_layers, cf->num_heads, cf->hidden_size / cf->num_heads, cf->mlp_hidden);
    printf("parameters   %lld (%.1f M)\n", (long long)vit_param_count(cf),
           vit_param_count(cf) / 1e6);
    printf("input        %lld x %lld: %d x %d patches, %d tokens\n", size, size, grid, grid,
           grid * grid + 1);
    printf("compute      %.2f GFLOPs per image\n", vit_flops(cf, (int)size) / 1e9);
    printf("vector       %d floats (CLS of the final LayerNorm, L2-normalised)\n",
           cf->hidden_size);
    vit_close(m);
    return 0;
}

static int do_list(int argc, char **argv)
{
    const char *cache = mdl_cache_dir();
    if (argc == 3 && strcmp(argv[1], "--cache") == 0)
        cache = argv[2];
    else if (argc != 1)
        return usage(stderr, 2);
    DIR *d = opendir(cache);
    if (!d) {
        printf("no models in %s\n", cache);
        return 0;
    }
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        char cfg[4096];
        /* A name too long for cfg is skipped rather than a cut one opened. */
        FILE *f = e->d_name[0] == '.' ||
                          ds_snprintf(cfg, sizeof cfg, NULL, "%s/%s/model.safetensors", cache,
                                      e->d_name) != 0
                      ? NULL
                      : fopen(cfg, "rb");
        if (!f)
            continue;
        fclose(f);
        printf("%s/%s\n", cache, e->d_name);
        n++;
    }
    closedir(d);
    if (!n)
        printf("no models in %s\n", cache);
    return 0;
}

int cmd_model(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr, 2);
    const char *action = argv[1];
    if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0)
        return usage(stdout, 0);
    if (strcmp(action, "generate") == 0)
        return do_generate(argc - 1, argv + 1);
    if (strcmp(action, "fetch") == 0)
        return do_fetch(argc - 1, argv + 1);
    if (strcmp(action, "info") == 0)
        return do_info(argc - 1, argv + 1);
    if (strcmp(action, "list") == 0)
        return do_list(argc - 1, argv + 1);
    fprintf(stderr, "dinoseek model: unknown action '%s'\n", action);
    return usage(stderr, 2);
}
