/* generate.c - deterministic model directories (see generate.h). */
#include "model/generate.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"
#include "model/gen_design.h"
#include "model/vit.h"

typedef struct gen_tensor {
    char name[128];
    int ndim;
    int64_t shape[4];
    gen_role role;
    int layer; /* -1 outside the blocks */
} gen_tensor;

typedef struct gen_list {
    gen_tensor *t;
    int n, cap;
    int layer; /* the block that add() is listing */
} gen_list;

static int add(gen_list *l, gen_role role, int ndim, const int64_t *shape, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int add(gen_list *l, gen_role role, int ndim, const int64_t *shape, const char *fmt, ...)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        gen_tensor *t = realloc(l->t, sizeof *t * (size_t)cap);
        if (!t)
            return -1;
        l->t = t;
        l->cap = cap;
    }
    gen_tensor *t = &l->t[l->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->ndim = ndim;
    memcpy(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
    t->role = role;
    t->layer = l->layer;
    return 0;
}

/* Every tensor of Dinov2Model, with Hugging Face's names and shapes. */
static int list_tensors(const vit_config *c, gen_list *l)
{
    int64_t d = c->hidden_size, h = c->mlp_hidden, p = c->patch_size;
    int64_t n = c->image_size / c->patch_size;
    l->layer = -1;
    int rc = add(l, GEN_CLS_TOKEN, 3, (int64_t[]){1, 1, d}, "embeddings.cls_token") |
             add(l, GEN_MASK_TOKEN, 2, (int64_t[]){1, d}, "embeddings.mask_token") |
             add(l, GEN_POSITION, 3, (int64_t[]){1, n * n + 1, d},
                 "embeddings.position_embeddings") |
             add(l, GEN_PATCH_W, 4, (int64_t[]){d, 3, p, p},
                 "embeddings.patch_embeddings.projection.weight") |
             add(l, GEN_PATCH_B, 1, (int64_t[]){d}, "embeddings.patch_embeddings.projection.bias");
    const char *fc1 = c->use_swiglu ? "weights_in" : "fc1";
    const char *fc2 = c->use_swiglu ? "weights_out" : "fc2";
    int64_t h_in = c->use_swiglu ? 2 * h : h;
    static const char *const qkv[] = {"query", "key", "value"};
    static const gen_role qkv_role[] = {GEN_QUERY_W, GEN_KEY_W, GEN_VALUE_W};
    for (int i = 0; i < c->num_layers; i++) {
        const char *pre = "encoder.layer";
        l->layer = i;
        rc |= add(l, GEN_NORM_W, 1, (int64_t[]){d}, "%s.%d.norm1.weight", pre, i) |
              add(l, GEN_NORM_B, 1, (int64_t[]){d}, "%s.%d.norm1.bias", pre, i);
        for (int k = 0; k < 3; k++) {
            rc |= add(l, qkv_role[k], 2, (int64_t[]){d, d}, "%s.%d.attention.attention.%s.weight",
                      pre, i, qkv[k]);
            if (c->qkv_bias)
                rc |= add(l, GEN_QKV_B, 1, (int64_t[]){d}, "%s.%d.attention.attention.%s.bias",
                          pre, i, qkv[k]);
        }
        rc |= add(l, GEN_OUT_W, 2, (int64_t[]){d, d}, "%s.%d.attention.output.dense.weight", pre,
                  i) |
              add(l, GEN_OUT_B, 1, (int64_t[]){d}, "%s.%d.attention.output.dense.bias", pre, i) |
              add(l, GEN_LAYERSCALE1, 1, (int64_t[]){d}, "%s.%d.layer_scale1.lambda1", pre, i) |
              add(l, GEN_NORM_W, 1, (int64_t[]){d}, "%s.%d.norm2.weight", pre, i) |
              add(l, GEN_NORM_B, 1, (int64_t[]){d}, "%s.%d.norm2.bias", pre, i) |
              add(l, GEN_FC1_W, 2, (int64_t[]){h_in, d}, "%s.%d.mlp.%s.weight", pre, i, fc1) |
              add(l, GEN_FC1_B, 1, (int64_t[]){h_in}, "%s.%d.mlp.%s.bias", pre, i, fc1) |
              add(l, GEN_FC2_W, 2, (int64_t[]){d, h}, "%s.%d.mlp.%s.weight", pre, i, fc2) |
              add(l, GEN_FC2_B, 1, (int64_t[]){d}, "%s.%d.mlp.%s.bias", pre, i, fc2) |
              add(l, GEN_LAYERSCALE2, 1, (int64_t[]){d}, "%s.%d.layer_scale2.lambda1", pre, i);
    }
    l->layer = -1;
    rc |= add(l, GEN_NORM_W, 1, (int64_t[]){d}, "layernorm.weight") |
          add(l, GEN_NORM_B, 1, (int64_t[]){d}, "layernorm.bias");
    return rc ? -1 : 0;
}

static int64_t numel(const gen_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

static size_t elem_size(st_dtype dt) { return dt == ST_F32 ? 4 : 2; }

static char *header_json(const gen_list *l, st_dtype dt, size_t *len)
{
    json_t *root = json_object();
    json_object_set_new(root, "__metadata__", json_pack("{s:s}", "format", "pt"));
    uint64_t off = 0;
    for (int i = 0; i < l->n; i++) {
        const gen_tensor *t = &l->t[i];
        json_t *shape = json_array();
        for (int k = 0; k < t->ndim; k++)
            json_array_append_new(shape, json_integer(t->shape[k]));
        uint64_t bytes = (uint64_t)numel(t) * elem_size(dt);
        json_object_set_new(root, t->name,
                            json_pack("{s:s,s:o,s:[I,I]}", "dtype", st_dtype_name(dt), "shape",
                                      shape, "data_offsets", (json_int_t)off,
                                      (json_int_t)(off + bytes)));
        off += bytes;
    }
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!s)
        return NULL;
    /* Pad with spaces to a multiple of 8 so tensor data starts aligned. */
    size_t n = strlen(s), padded = (n + 7) / 8 * 8;
    char *out = realloc(s, padded + 1);
    if (!out) {
        free(s);
        return NULL;
    }
    memset(out + n, ' ', padded - n);
    out[padded] = '\0';
    *len = padded;
    return out;
}

static int write_tensor(FILE *f, const gen_tensor *t, const vit_config *c, uint64_t seed,
                        st_dtype dt, ds_err *err)
{
    size_t n = (size_t)numel(t);
    float *v = malloc(sizeof(float) * n);
    uint16_t *half = dt == ST_F32 ? NULL : malloc(sizeof(uint16_t) * n);
    int rc = -1;
    if (!v || (dt != ST_F32 && !half)) {
        ds_fail(err, DS_ENOMEM, "out of memory generating %s", t->name);
        goto out;
    }
    gen_fill(t->role, t->layer, t->name, c, seed, v, (int64_t)n);
    for (size_t i = 0; half && i < n; i++)
        half[i] = dt == ST_F16 ? st_f32_to_f16(v[i]) : st_f32_to_bf16(v[i]);
    /* Tensors are stored little-endian, as on every machine we build for. */
    if (fwrite(half ? (void *)half : (void *)v, elem_size(dt), n, f) != n) {
        ds_fail(err, DS_EIO, "writing %s: %s", t->name, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(v);
    free(half);
    return rc;
}

static int write_safetensors(const char *path, const gen_list *l, const vit_config *c,
                             uint64_t seed, st_dtype dt, ds_err *err)
{
    size_t hlen = 0;
    char *header = header_json(l, dt, &hlen);
    if (!header)
        return ds_fail(err, DS_ENOMEM, "out of memory writing the safetensors header");
    int rc = -1;
    FILE *f = fopen(path, "wb");
    if (!f) {
        ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    if (fwrite(len8, 1, 8, f) != 8 || fwrite(header, 1, hlen, f) != hlen) {
        ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    for (int i = 0; i < l->n; i++)
        if (write_tensor(f, &l->t[i], c, seed, dt, err) != 0)
            goto out;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (f && fclose(f) != 0 && rc == 0)
        rc = ds_fail(err, DS_EIO, "%s: %s", path, strerror(errno));
    free(header);
    return rc;
}

/* Write a JSON document to dir/name through a temporary file and rename. */
static int write_json(const char *dir, const char *name, json_t *doc, ds_err *err)
{
    char path[4096], tmp[4200];
    if (ds_snprintf(path, sizeof path, err, "%s/%s", dir, name) != 0 ||
        ds_snprintf(tmp, sizeof tmp, err, "%s.tmp", path) != 0) {
        json_decref(doc);
        return -1;
    }
    int rc = json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return ds_fail(err, DS_EIO, "cannot write %s", path);
    }
    return 0;
}

static json_t *config_json(const vit_config *c, const char *arch, uint64_t seed, st_dtype dt)
{
    return json_pack(
        "{s:[s],s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:s,s:f,s:f,s:b,s:b,s:f,s:f,s:f,s:f,s:s,"
        "s:{s:s,s:I,s:i,s:s}}",
        "architectures", "Dinov2Model", "model_type", "dinov2", "hidden_size", c->hidden_size,
        "num_hidden_layers", c->num_layers, "num_attention_heads", c->num_heads, "mlp_ratio", 4,
        "patch_size", c->patch_size, "image_size", c->image_size, "num_channels", 3, "hidden_act",
        "gelu", "layer_norm_eps", 1e-6, "layerscale_value", (double)c->layerscale_value,
        "use_swiglu_ffn", c->use_swiglu, "qkv_bias", c->qkv_bias, "hidden_dropout_prob", 0.0,
        "attention_probs_dropout_prob", 0.0, "drop_path_rate", 0.0, "initializer_range", 0.02,
        "torch_dtype", dt == ST_F32 ? "float32" : dt == ST_F16 ? "float16" : "bfloat16",
        "dinoseek_generated", "arch", arch, "seed", (json_int_t)seed, "generator", MDL_GENERATOR, "note",
        "deterministic weights for tests and demos, chosen, not trained (src/model/gen_design.h): similar drawings get similar vectors, but this is not DINOv2");
}

/* The image processor of facebook/dinov2-*: what the seed system ran. */
static json_t *preprocessor_json(void)
{
    return json_pack("{s:{s:i,s:i},s:b,s:b,s:b,s:b,s:b,s:[f,f,f],s:s,s:[f,f,f],s:i,s:f,s:{s:i}}",
                     "crop_size", "height", 224, "width", 224, "do_center_crop", 1,
                     "do_convert_rgb", 1, "do_normalize", 1, "do_rescale", 1, "do_resize", 1,
                     "image_mean", 0.485, 0.456, 0.406, "image_processor_type",
                     "BitImageProcessor", "image_std", 0.229, 0.224, 0.225, "resample", 3,
                     "rescale_factor", 1.0 / 255.0, "size", "shortest_edge", 256);
}

static int make_dir(const char *dir, ds_err *err)
{
    char path[4096];
    if (ds_snprintf(path, sizeof path, err, "%s", dir) != 0)
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return ds_fail(err, DS_EIO, "mkdir %s: %s", path, strerror(errno));
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return ds_fail(err, DS_EIO, "mkdir %s: %s", path, strerror(errno));
    return 0;
}

int mdl_generate(const char *arch, uint64_t seed, st_dtype dtype, const char *dir, ds_err *err)
{
    vit_config c;
    gen_list l = {0};
    int rc = -1;
    if (dtype != ST_F32 && dtype != ST_F16 && dtype != ST_BF16)
        return ds_fail(err, DS_EINVAL, "dtype must be F32, F16 or BF16");
    if (vit_config_arch(arch, &c, err) != 0 || make_dir(dir, err) != 0)
        return -1;
    if (list_tensors(&c, &l) != 0) {
        ds_fail(err, DS_ENOMEM, "out of memory");
        goto out;
    }
    char path[4096], tmp[4200];
    if (ds_snprintf(path, sizeof path, err, "%s/model.safetensors", dir) != 0 ||
        ds_snprintf(tmp, sizeof tmp, err, "%s.tmp", path) != 0)
        goto out;
    if (write_safetensors(tmp, &l, &c, seed, dtype, err) != 0) {
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        ds_fail(err, DS_EIO, "rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (write_json(dir, "config.json", config_json(&c, arch, seed, dtype), err) != 0 ||
        write_json(dir, "preprocessor_config.json", preprocessor_json(), err) != 0)
        goto out;
    rc = 0;
out:
    free(l.t);
    return rc;
}
