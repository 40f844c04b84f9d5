/* common.c - options shared by serve, search, stats and add (see common.h). */
#include "cmd/common.h"
#include "base/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/fetch.h"
#include "model/gemm.h"

const char *cmd_default_model(char *buf, size_t n)
{
    const char *env = getenv("DINOSEEK_MODEL");
    if (env && *env)
        return env;
    ds_err err;
    struct stat st;
    char path[4200];
    if (mdl_repo_dir(mdl_cache_dir(), "facebook/dinov2-small", buf, n, &err) == 0) {
        if (ds_snprintf(path, sizeof path, &err, "%s/model.safetensors", buf) == 0 &&
            stat(path, &st) == 0)
            return buf;
    }
    return NULL;
}

const char *const cmd_known_settings[] = {
    "data", "model", "collection", "preprocess", "index", "collection-model", "listen",
    "api-key", "cors", "max-upload", "access-log", "import-roots", "blobs", "s3-endpoint",
    "s3-region", "s3-addressing", "s3-timeout-ms", "milvus-uri", "milvus-token", "milvus-db",
    "milvus-timeout-ms", "milvus-prefix", "precision", "idle-timeout", "request-timeout",
    "max-connections", "max-connections-per-ip", NULL,
};

const char cmd_engine_help[] =
    "  --data DIR          data directory (default $DINOSEEK_DATA, else ./data)\n"
    "  --model DIR         model directory (default $DINOSEEK_MODEL, else the cached\n"
    "                      facebook/dinov2-small)\n"
    "  --collection NAME   collection (default $DINOSEEK_COLLECTION, else patent_images)\n"
    "  --preprocess MODE   native or seed (default $DINOSEEK_PREPROCESS, else native)\n"
    "  --precision P       the forward pass's arithmetic: f32 (the reference), bf16\n"
    "                      (fastest; CPUs with AVX512_BF16 or AMX), bf16x2 (bf16\n"
    "                      weights, activations in two bf16 halves: f32's neighbours),\n"
    "                      int8 (VNNI or AMX-INT8; cosine ~0.9994 to f32),\n"
    "                      or auto (default): the precision the collection was made in,\n"
    "                      else bf16x2 on AMX, else f32; f32 with --preprocess seed\n"
    "  --collection-model NAME=DIR\n"
    "                      also serve collection NAME with the model in DIR (any\n"
    "                      architecture and dimension); repeatable\n"
    "  --index KIND        flat (exact), flat16 (exact, float16 storage), ivf, or milvus\n"
    "                      (rows and vectors in Milvus; default $DINOSEEK_INDEX, else flat)\n"
    "  --milvus-uri URL    Milvus's REST address, e.g. http://127.0.0.1:19530\n"
    "  --milvus-token T    \"user:password\" or an API key (default $DINOSEEK_MILVUS_TOKEN)\n"
    "  --milvus-db NAME    database (default: default)\n"
    "  --milvus-prefix P   put P before each collection's name in Milvus (several\n"
    "                      deployments on one Milvus; default none)\n"
    "  --milvus-timeout-ms N  limit of one Milvus request attempt (default 10000)\n"
    "  --blobs WHERE       originals and thumbnails: a directory, or s3://BUCKET[/PREFIX]\n"
    "                      (default $DINOSEEK_BLOBS, else DATA/blobs); S3 credentials\n"
    "                      from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n"
    "  --s3-endpoint URL   S3 server, e.g. http://127.0.0.1:9000 (default: AWS)\n"
    "  --s3-region NAME    (default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1)\n"
    "  --s3-addressing A   path or virtual (default: path with an endpoint, else virtual)\n"
    "  --s3-timeout-ms N   limit of one S3 request attempt (default 10000)\n"
    "  --config FILE       settings file, lines 'name = value' with the long flag names\n"
    "                      (default $DINOSEEK_CONFIG, else ./dinoseek.conf if present);\n"
    "                      flags win over DINOSEEK_* variables, which win over the file\n";

/* The configuration file's settings (loaded once per process). */
static struct {
    char name[32];
    char value[1024];
} config[64];
static int n_config;

const char *cmd_setting(const char *name)
{
    char var[64] = "DINOSEEK_";
    for (size_t i = 0; name[i] && i < 40; i++)
        var[9 + i] = name[i] == '-' ? '_' : (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    const char *v = getenv(var);
    if (v && *v)
        return v;
    for (int i = 0; i < n_config; i++)
        if (strcmp(config[i].name, name) == 0)
            return config[i].value;
    return NULL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

static int is_known(const char *name, const char *const *known)
{
    for (int i = 0; known && known[i]; i++)
        if (strcmp(known[i], name) == 0)
            return 1;
    return known == NULL;
}

int cmd_config_parse(FILE *f, const char *path, const char *const *known, char *msg,
                     size_t msg_n)
{
    /* Whole lines, however long: a line cut in two would be read as two
     * (the second a setting of its own) and counted twice. */
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    n_config = 0;
    msg[0] = '\0';
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line), *eq = strchr(s, '=');
        if (!*s)
            continue;
        if (!eq) {
            snprintf(msg, msg_n, "%s:%d: expected 'name = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        if (!is_known(name, known) || strlen(name) >= sizeof config[0].name) {
            snprintf(msg, msg_n, "%s:%d: unknown setting '%s'", path, lineno, name);
            rc = -1;
        } else if (strlen(value) >= sizeof config[0].value || n_config == 64) {
            snprintf(msg, msg_n, "%s:%d: value too long or too many settings", path, lineno);
            rc = -1;
        } else {
            snprintf(config[n_config].name, sizeof config[0].name, "%s", name);
            snprintf(config[n_config].value, sizeof config[0].value, "%s", value);
            n_config++;
        }
    }
    free(line);
    return rc;
}

int cmd_config_load(int argc, char **argv, const char *const *known, const char *cmd)
{
    const char *path = getenv("DINOSEEK_CONFIG");
    int explicit = path && *path;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[i + 1], explicit = 1;
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9, explicit = 1;
    }
    if (!explicit)
        path = "dinoseek.conf";
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!explicit)
            return 0; /* no ./dinoseek.conf: fine */
        fprintf(stderr, "dinoseek %s: cannot read configuration file %s\n", cmd, path);
        return -1;
    }
    char msg[8192];
    int rc = cmd_config_parse(f, path, known, msg, sizeof msg);
    fclose(f);
    if (rc != 0)
        fprintf(stderr, "dinoseek %s: %s\n", cmd, msg);
    return rc;
}

int cmd_engine_defaults(cmd_engine_opts *o)
{
    int rc = 0;
    memset(o, 0, sizeof *o);
    o->cfg.data_dir = cmd_setting("data") ? cmd_setting("data") : "./data";
    o->cfg.model_dir = cmd_setting("model") ? cmd_setting("model")
                                            : cmd_default_model(o->model_buf, sizeof o->model_buf);
    o->cfg.collection = cmd_setting("collection");
    ds_err err = {0};
    /* A bad value from DINOSEEK_* or the file stops the command, as a bad
     * flag does: a misspelt "index = milvsu" must not quietly serve the
     * embedded index. */
    if (cmd_setting("preprocess") && img_mode_parse(cmd_setting("preprocess"),
                                                    &o->cfg.preprocess, &err) != 0) {
        fprintf(stderr, "dinoseek: the preprocess setting: %s\n", err.msg);
        rc = -1;
    }
    static const char *const backend_settings[] = {
        "precision", "blobs", "s3-endpoint", "s3-region", "s3-addressing", "s3-timeout-ms", "milvus-uri",
        "milvus-token", "milvus-db", "milvus-timeout-ms", "milvus-prefix"};
    for (size_t i = 0; i < sizeof backend_settings / sizeof *backend_settings; i++) {
        const char *v = cmd_setting(backend_settings[i]);
        if (v && cmd_engine_option(o, "", backend_settings[i], v) < 0) {
            fprintf(stderr, "dinoseek: bad %s setting '%s' (from DINOSEEK_* or the "
                    "configuration file)\n", backend_settings[i], v);
            rc = -1;
        }
    }
    const char *index = cmd_setting("index");
    if (index && cmd_engine_option(o, "", "index", index) < 0) {
        fprintf(stderr, "dinoseek: bad index setting '%s' (from DINOSEEK_INDEX or the "
                "configuration file)\n", index);
        rc = -1;
    }
    /* collection-model may be given several times: every line of the file
     * (or the one DINOSEEK_COLLECTION_MODEL) counts. */
    const char *env = getenv("DINOSEEK_COLLECTION_MODEL");
    if (env && *env) {
        if (cmd_engine_option(o, "", "collection-model", env) < 0) {
            fprintf(stderr, "dinoseek: bad DINOSEEK_COLLECTION_MODEL '%s'\n", env);
            rc = -1;
        }
    } else {
        for (int i = 0; i < n_config; i++)
            if (strcmp(config[i].name, "collection-model") == 0 &&
                cmd_engine_option(o, "", "collection-model", config[i].value) < 0) {
                fprintf(stderr, "dinoseek: bad collection-model setting '%s'\n",
                        config[i].value);
                rc = -1;
            }
    }
    return rc;
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
    else if (strcmp(name, "precision") == 0) {
        int p;
        if (gemm_precision_parse(value, &p) != 0) {
            fprintf(stderr, "dinoseek %s: --precision must be f32, bf16, bf16x2, int8 or auto\n",
                    cmd);
            return -1;
        }
        o->cfg.precision = value;
    }
    else if (strcmp(name, "preprocess") == 0) {
        if (img_mode_parse(value, &o->cfg.preprocess, &err) != 0) {
            fprintf(stderr, "dinoseek %s: %s\n", cmd, err.msg);
            return -1;
        }
    } else if (strcmp(name, "collection-model") == 0) {
        int i = o->cfg.n_extra;
        char *buf = o->extra_buf[i < 7 ? i : 0], *eq;
        /* A cut value would name another model directory. */
        if (ds_snprintf(buf, sizeof o->extra_buf[0], &err, "%s", value) != 0) {
            fprintf(stderr, "dinoseek %s: --collection-model: %s\n", cmd, err.msg);
            return -1;
        }
        if (i == 7 || !(eq = strchr(buf, '=')) || eq == buf || !eq[1]) {
            fprintf(stderr, "dinoseek %s: --collection-model takes NAME=MODEL_DIR (at most 7)\n",
                    cmd);
            return -1;
        }
        *eq = '\0';
        o->extra[i] = (eng_extra){.collection = buf, .model_dir = eq + 1,
                                  .preprocess = o->cfg.preprocess};
        o->cfg.extra = o->extra;
        o->cfg.n_extra = i + 1;
    } else if (strcmp(name, "blobs") == 0) {
        o->cfg.blobs = value;
    } else if (strcmp(name, "s3-endpoint") == 0) {
        o->cfg.s3.endpoint = value;
    } else if (strcmp(name, "s3-region") == 0) {
        o->cfg.s3.region = value;
    } else if (strcmp(name, "s3-addressing") == 0) {
        if (strcmp(value, "path") == 0)
            o->cfg.s3.addressing = BLOB_S3_PATH;
        else if (strcmp(value, "virtual") == 0)
            o->cfg.s3.addressing = BLOB_S3_VIRTUAL;
        else {
            fprintf(stderr, "dinoseek %s: --s3-addressing must be path or virtual\n", cmd);
            return -1;
        }
    } else if (strcmp(name, "s3-timeout-ms") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*end || v < 100 || v > 3600000) {
            fprintf(stderr, "dinoseek %s: --s3-timeout-ms must be 100 to 3600000\n", cmd);
            return -1;
        }
        o->cfg.s3.timeout_ms = (int)v;
    } else if (strcmp(name, "milvus-uri") == 0) {
        o->cfg.milvus.uri = value;
    } else if (strcmp(name, "milvus-token") == 0) {
        o->cfg.milvus.token = value;
    } else if (strcmp(name, "milvus-prefix") == 0) {
        o->cfg.milvus_prefix = value;
    } else if (strcmp(name, "milvus-db") == 0) {
        o->cfg.milvus.db = value;
    } else if (strcmp(name, "milvus-timeout-ms") == 0) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*end || v < 100 || v > 3600000) {
            fprintf(stderr, "dinoseek %s: --milvus-timeout-ms must be 100 to 3600000\n", cmd);
            return -1;
        }
        o->cfg.milvus.timeout_ms = (int)v;
    } else if (strcmp(name, "index") == 0) {
        if (strcmp(value, "flat") == 0)
            o->cfg.index = ENG_INDEX_FLAT;
        else if (strcmp(value, "flat16") == 0)
            o->cfg.index = ENG_INDEX_FLAT16;
        else if (strcmp(value, "ivf") == 0)
            o->cfg.index = ENG_INDEX_IVF;
        else if (strcmp(value, "milvus") == 0)
            o->cfg.index = ENG_INDEX_MILVUS;
        else {
            fprintf(stderr, "dinoseek %s: --index must be flat, flat16, ivf or milvus\n", cmd);
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
