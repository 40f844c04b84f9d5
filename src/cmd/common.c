/* common.c - options shared by serve, search, stats and add (see common.h). */
#include "cmd/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/fetch.h"

const char *cmd_default_model(char *buf, size_t n)
{
    const char *env = getenv("DINOSEEK_MODEL");
    if (env && *env)
        return env;
    ds_err err;
    struct stat st;
    char path[4200];
    if (mdl_repo_dir(mdl_cache_dir(), "facebook/dinov2-small", buf, n, &err) == 0) {
        snprintf(path, sizeof path, "%s/model.safetensors", buf);
        if (stat(path, &st) == 0)
            return buf;
    }
    return NULL;
}

const char cmd_engine_help[] =
    "  --data DIR          data directory (default $DINOSEEK_DATA, else ./data)\n"
    "  --model DIR         model directory (default $DINOSEEK_MODEL, else the cached\n"
    "                      facebook/dinov2-small)\n"
    "  --collection NAME   collection (default $DINOSEEK_COLLECTION, else patent_images)\n"
    "  --preprocess MODE   native or seed (default $DINOSEEK_PREPROCESS, else native)\n";

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void cmd_engine_defaults(cmd_engine_opts *o)
{
    memset(o, 0, sizeof *o);
    o->cfg.data_dir = env("DINOSEEK_DATA") ? env("DINOSEEK_DATA") : "./data";
    o->cfg.model_dir = cmd_default_model(o->model_buf, sizeof o->model_buf);
    o->cfg.collection = env("DINOSEEK_COLLECTION");
    ds_err err = {0};
    if (env("DINOSEEK_PREPROCESS") && img_mode_parse(env("DINOSEEK_PREPROCESS"),
                                                     &o->cfg.preprocess, &err) != 0)
        fprintf(stderr, "dinoseek: ignoring DINOSEEK_PREPROCESS: %s\n", err.msg);
}

int cmd_engine_option(cmd_engine_opts *o, const char *cmd, const char *name, const char *value)
{
    ds_err err = {0};
    if (strcmp(name, "data") == 0)
        o->cfg.data_dir = value;
    else if (strcmp(name, "model") == 0)
        o->cfg.model_dir = value;
    else if (strcmp(name, "collection") == 0)
        o->cfg.collection = value;
    else if (strcmp(name, "preprocess") == 0) {
        if (img_mode_parse(value, &o->cfg.preprocess, &err) != 0) {
            fprintf(stderr, "dinoseek %s: %s\n", cmd, err.msg);
            return -1;
        }
    } else
        return 0;
    return 1;
}

eng *cmd_open_engine(cmd_engine_opts *o, const char *cmd)
{
    if (!o->cfg.model_dir) {
        fprintf(stderr, "dinoseek %s: no model. Pass --model DIR, download one with `dinoseek "
                        "model fetch facebook/dinov2-small`, or make test weights with "
                        "`dinoseek model generate --arch small DIR`\n", cmd);
        return NULL;
    }
    eng *e;
    ds_err err = {0};
    if (eng_open(&o->cfg, &e, &err) != 0) {
        fprintf(stderr, "dinoseek %s: %s\n", cmd, err.msg);
        return NULL;
    }
    return e;
}
