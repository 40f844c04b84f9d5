/* config.c - DINOv2 hyper-parameters from config.json (see vit.h).
 *
 * Defaults are those of transformers' Dinov2Config, so that a config.json
 * that leaves a key out means what it means to Hugging Face.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/str.h"
#include "model/vit.h"

static const struct {
    const char *arch;
    int hidden, layers, heads, swiglu;
} archs[] = {
    {"small", 384, 12, 6, 0},
    {"base", 768, 12, 12, 0},
    {"large", 1024, 24, 16, 0},
    {"giant", 1536, 40, 24, 1},
};

/* The MLP width, as Dinov2MLP / Dinov2SwiGLUFFN derive it. */
static int mlp_width(int hidden, double ratio, int swiglu)
{
    int h = (int)(hidden * ratio);
    if (swiglu)
        h = ((int)(h * 2.0 / 3.0) + 7) / 8 * 8;
    return h;
}

static void name_config(vit_config *c)
{
    snprintf(c->name, sizeof c->name, "dinov2-custom");
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (archs[i].hidden == c->hidden_size && archs[i].layers == c->num_layers)
            snprintf(c->name, sizeof c->name, "dinov2-%s", archs[i].arch);
}

int vit_config_arch(const char *arch, vit_config *c, ds_err *err)
{
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        if (strcmp(arch, archs[i].arch) != 0)
            continue;
        *c = (vit_config){
            .hidden_size = archs[i].hidden,
            .num_layers = archs[i].layers,
            .num_heads = archs[i].heads,
            .use_swiglu = archs[i].swiglu,
            .mlp_hidden = mlp_width(archs[i].hidden, 4.0, archs[i].swiglu),
            .patch_size = 14,
            .image_size = 518,
            .num_channels = 3,
            .qkv_bias = 1,
            .layer_norm_eps = 1e-6f,
            .layerscale_value = 1.0f,
        };
        name_config(c);
        return 0;
    }
    return ds_fail(err, DS_EINVAL, "unknown architecture '%s' (small, base, large or giant)",
                   arch);
}

/* Read an integer key, or keep *out (the default) when the key is absent. */
static int get_int(const json_t *root, const char *key, int lo, int hi, int *out, ds_err *err)
{
    const json_t *v = json_object_get(root, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return ds_fail(err, DS_EFORMAT, "config.json: '%s' must be an integer in [%d, %d]", key,
                       lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_num(const json_t *root, const char *key, double lo, double hi, double *out,
                   ds_err *err)
{
    const json_t *v = json_object_get(root, key);
    if (!v)
        return 0;
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
        return ds_fail(err, DS_EFORMAT, "config.json: '%s' must be a number in [%g, %g]", key, lo,
                       hi);
    *out = json_number_value(v);
    return 0;
}

static int get_bool(const json_t *root, const char *key, int *out, ds_err *err)
{
    const json_t *v = json_object_get(root, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return ds_fail(err, DS_EFORMAT, "config.json: '%s' must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

static int check_kind(const json_t *root, ds_err *err)
{
    const json_t *type = json_object_get(root, "model_type");
    if (type && (!json_is_string(type) || strcmp(json_string_value(type), "dinov2") != 0))
        return ds_fail(err, DS_EUNSUPPORTED,
                       "config.json: model_type '%s' is not supported (only 'dinov2')",
                       json_is_string(type) ? json_string_value(type) : "?");
    const json_t *act = json_object_get(root, "hidden_act");
    if (act && (!json_is_string(act) || strcmp(json_string_value(act), "gelu") != 0))
        return ds_fail(err, DS_EUNSUPPORTED,
                       "config.json: hidden_act must be \"gelu\" (exact GELU)");
    return 0;
}

static int parse(const json_t *root, vit_config *c, ds_err *err)
{
    if (!json_is_object(root))
        return ds_fail(err, DS_EFORMAT, "config.json is not a JSON object");
    if (check_kind(root, err) != 0)
        return -1;
    /* transformers' Dinov2Config defaults. */
    double ratio = 4.0, eps = 1e-6, ls = 1.0;
    *c = (vit_config){.hidden_size = 768, .num_layers = 12, .num_heads = 12, .patch_size = 16,
                      .image_size = 224, .num_channels = 3, .qkv_bias = 1};
    if (get_int(root, "hidden_size", 1, 16384, &c->hidden_size, err) ||
        get_int(root, "num_hidden_layers", 1, 256, &c->num_layers, err) ||
        get_int(root, "num_attention_heads", 1, 1024, &c->num_heads, err) ||
        get_int(root, "patch_size", 1, 64, &c->patch_size, err) ||
        get_int(root, "image_size", 1, 8192, &c->image_size, err) ||
        get_int(root, "num_channels", 1, 4, &c->num_channels, err) ||
        get_num(root, "mlp_ratio", 0.0625, 64, &ratio, err) ||
        get_num(root, "layer_norm_eps", 0, 1, &eps, err) ||
        get_num(root, "layerscale_value", -1e6, 1e6, &ls, err) ||
        get_bool(root, "use_swiglu_ffn", &c->use_swiglu, err) ||
        get_bool(root, "qkv_bias", &c->qkv_bias, err))
        return -1;
    int regs = 0;
    if (get_int(root, "num_register_tokens", 0, 64, &regs, err))
        return -1;
    if (regs > 0)
        return ds_fail(err, DS_EUNSUPPORTED, "config.json: register tokens are not supported");
    if (c->hidden_size % c->num_heads != 0)
        return ds_fail(err, DS_EFORMAT,
                       "config.json: hidden_size %d is not a multiple of num_attention_heads %d",
                       c->hidden_size, c->num_heads);
    if (c->num_channels != 3)
        return ds_fail(err, DS_EUNSUPPORTED, "config.json: num_channels must be 3");
    if (c->image_size % c->patch_size != 0)
        return ds_fail(err, DS_EFORMAT, "config.json: image_size %d is not a multiple of "
                       "patch_size %d", c->image_size, c->patch_size);
    c->mlp_hidden = mlp_width(c->hidden_size, ratio, c->use_swiglu);
    c->layer_norm_eps = (float)eps;
    c->layerscale_value = (float)ls;
    const json_t *gen = json_object_get(root, "dinoseek_generated");
    c->generated = gen != NULL;
    c->generated_seed = (long long)json_integer_value(json_object_get(gen, "seed"));
    /* Older generators wrote no "generator": their weights were drawn at
     * random (1). Their directories load as before. */
    const json_t *version = json_object_get(gen, "generator");
    c->generator = json_is_integer(version) ? (int)json_integer_value(version) : gen ? 1 : 0;
    name_config(c);
    return 0;
}

/* preprocessor_config.json, when there is one, must describe the pipeline
 * dinoseek implements (BitImageProcessor as facebook/dinov2-* ship it:
 * shortest edge 256 bicubic, centre crop 224, 1/255, ImageNet mean and
 * std). It is not read otherwise: a fine-tune whose processor normalises
 * or crops differently was embedded with DINOv2's own constants without a
 * word, vectors that are not the model's. */
static int near(const json_t *v, double want, double tol)
{
    return json_is_number(v) && fabs(json_number_value(v) - want) <= tol;
}

static int check_triple(const json_t *root, const char *key, const double want[3], ds_err *err)
{
    const json_t *v = json_object_get(root, key);
    if (!v)
        return 0;
    int ok = json_is_array(v) && json_array_size(v) == 3;
    for (size_t i = 0; ok && i < 3; i++)
        ok = near(json_array_get(v, i), want[i], 1e-4);
    return ok ? 0 : ds_fail(err, DS_EUNSUPPORTED, "preprocessor_config.json: %s is not (%g, %g, "
                            "%g), the only one dinoseek implements", key, want[0], want[1], want[2]);
}

/* An edge given as an integer, or as the object's key (both when key2). */
static int edge_is(const json_t *v, const char *key, const char *key2, int want)
{
    if (json_is_integer(v))
        return json_integer_value(v) == want;
    const json_t *a = json_object_get(v, key), *b = key2 ? json_object_get(v, key2) : NULL;
    return json_is_object(v) && json_object_size(v) == (key2 ? 2u : 1u) && json_is_integer(a) &&
           json_integer_value(a) == want && (!key2 || (json_is_integer(b) &&
                                                       json_integer_value(b) == want));
}

static int check_preprocessor(const char *dir, ds_err *err)
{
    static const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
    static const char *const flags[] = {"do_resize", "do_center_crop", "do_rescale",
                                        "do_normalize", "do_convert_rgb"};
    char path[4096];
    snprintf(path, sizeof path, "%s/preprocessor_config.json", dir);
    if (access(path, F_OK) != 0)
        return 0; /* none: DINOv2's own, as transformers would default it */
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return ds_fail(err, DS_EFORMAT, "%s: %s", path, root ? "not a JSON object" : jerr.text);
    }
    int rc = check_triple(root, "image_mean", mean, err) || check_triple(root, "image_std", std, err)
                 ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < sizeof flags / sizeof flags[0]; i++) {
        const json_t *v = json_object_get(root, flags[i]);
        if (v && !json_is_true(v))
            rc = ds_fail(err, DS_EUNSUPPORTED, "preprocessor_config.json: %s must be true "
                         "(dinoseek always does it)", flags[i]);
    }
    const json_t *v;
    if (rc == 0 && (v = json_object_get(root, "rescale_factor")) && !near(v, 1.0 / 255, 1e-9))
        rc = ds_fail(err, DS_EUNSUPPORTED, "preprocessor_config.json: rescale_factor must be 1/255");
    if (rc == 0 && (v = json_object_get(root, "resample")) &&
        !(json_is_integer(v) && json_integer_value(v) == 3))
        rc = ds_fail(err, DS_EUNSUPPORTED, "preprocessor_config.json: resample must be 3 "
                     "(bicubic, the only one dinoseek implements)");
    if (rc == 0 && (v = json_object_get(root, "size")) && !edge_is(v, "shortest_edge", NULL, 256))
        rc = ds_fail(err, DS_EUNSUPPORTED, "preprocessor_config.json: size must be "
                     "{\"shortest_edge\": 256}, the only one dinoseek implements");
    if (rc == 0 && (v = json_object_get(root, "crop_size")) && !edge_is(v, "height", "width", 224))
        rc = ds_fail(err, DS_EUNSUPPORTED, "preprocessor_config.json: crop_size must be 224 x "
                     "224, the only one dinoseek implements");
    json_decref(root);
    return rc;
}

int vit_config_load(const char *dir, vit_config *c, ds_err *err)
{
    char path[4096];
    if (ds_snprintf(path, sizeof path, err, "%s/config.json", dir) != 0)
        return -1;
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ds_fail(err, DS_EFORMAT, "%s: %s (line %d)", path, jerr.text, jerr.line);
    int rc = parse(root, c, err);
    json_decref(root);
    if (rc == 0)
        rc = check_preprocessor(dir, err);
    return rc ? ds_wrap(err, "%s: ", dir) : 0;
}

int64_t vit_param_count(const vit_config *c)
{
    int64_t d = c->hidden_size, h = c->mlp_hidden, p = c->patch_size;
    int64_t grid = c->image_size / c->patch_size;
    int64_t embed = d                      /* cls token */
                    + d                    /* mask token */
                    + (grid * grid + 1) * d /* position embeddings */
                    + d * 3 * p * p + d;   /* patch projection */
    int64_t mlp = c->use_swiglu ? (d * 2 * h + 2 * h) + (h * d + d) : (d * h + h) + (h * d + d);
    int64_t block = 2 * 2 * d                       /* two LayerNorms */
                    + 3 * (d * d + (c->qkv_bias ? d : 0)) /* q, k, v */
                    + d * d + d                     /* output projection */
                    + 2 * d                         /* two LayerScales */
                    + mlp;
    return embed + c->num_layers * block + 2 * d;
}

double vit_flops(const vit_config *c, int size)
{
    double d = c->hidden_size, h = c->mlp_hidden, p = c->patch_size;
    double n = (double)(size / c->patch_size) * (size / c->patch_size);
    double t = n + 1;
    double patch = 2.0 * n * (3 * p * p) * d;
    double mlp = c->use_swiglu ? 2.0 * t * d * 2 * h + 2.0 * t * h * d : 2.0 * 2 * t * d * h;
    double block = 2.0 * t * d * 3 * d   /* q, k, v */
                   + 2.0 * 2 * t * t * d /* scores and weighted sum */
                   + 2.0 * t * d * d     /* output projection */
                   + mlp;
    return patch + c->num_layers * block;
}
