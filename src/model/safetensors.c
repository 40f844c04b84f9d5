/* safetensors.c - parse and validate .safetensors (see safetensors.h). */
#include "model/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name;
    st_dtype dtype;
    size_t bytes;
} dtypes[] = {
    {"F32", ST_F32, 4},   {"F16", ST_F16, 2},      {"BF16", ST_BF16, 2},
    {"F64", ST_F64, 8},   {"I64", ST_I64, 8},      {"I32", ST_I32, 4},
    {"I16", ST_I16, 2},   {"I8", ST_I8, 1},        {"U8", ST_U8, 1},
    {"BOOL", ST_BOOL, 1}, {"F8_E4M3", ST_F8_E4M3, 1}, {"F8_E5M2", ST_F8_E5M2, 1},
    {"U16", ST_U16, 2},   {"U32", ST_U32, 4},      {"U64", ST_U64, 8},
};

const char *st_dtype_name(st_dtype t)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].dtype == t)
            return dtypes[i].name;
    return "?";
}

static size_t dtype_size(st_dtype t)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].dtype == t)
            return dtypes[i].bytes;
    return 0;
}

static int dtype_parse(const char *s, st_dtype *out)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtypes[i].name, s) == 0) {
            *out = dtypes[i].dtype;
            return 0;
        }
    return -1;
}

/* JSON integers are signed 64-bit in jansson; offsets must be >= 0. */
static int json_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Fill t from one header entry; data_len is the size of the byte buffer. */
static int parse_entry(const char *name, const json_t *e, const uint8_t *data, uint64_t data_len,
                       st_tensor *t, uint64_t *begin_out, ds_err *err)
{
    if (!json_is_object(e))
        return ds_fail(err, DS_EFORMAT, "tensor '%s': header entry is not an object", name);
    const json_t *jd = json_object_get(e, "dtype");
    const json_t *js = json_object_get(e, "shape");
    const json_t *jo = json_object_get(e, "data_offsets");
    if (!json_is_string(jd) || dtype_parse(json_string_value(jd), &t->dtype) != 0)
        return ds_fail(err, DS_EFORMAT, "tensor '%s': unknown or missing dtype", name);
    if (!json_is_array(js) || json_array_size(js) > ST_MAX_DIMS)
        return ds_fail(err, DS_EFORMAT, "tensor '%s': shape missing or over %d dims", name,
                       ST_MAX_DIMS);
    t->ndim = (int)json_array_size(js);
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t dim;
        if (json_u64(json_array_get(js, (size_t)d), &dim) != 0)
            return ds_fail(err, DS_EFORMAT, "tensor '%s': shape[%d] is not a non-negative integer",
                           name, d);
        if (dim != 0 && numel > UINT64_MAX / 16 / dim)
            return ds_fail(err, DS_EFORMAT, "tensor '%s': shape overflows", name);
        numel *= dim;
        t->shape[d] = (int64_t)dim;
    }
    uint64_t begin, end;
    if (!json_is_array(jo) || json_array_size(jo) != 2 || json_u64(json_array_get(jo, 0), &begin) ||
        json_u64(json_array_get(jo, 1), &end))
        return ds_fail(err, DS_EFORMAT, "tensor '%s': data_offsets must be [begin, end]", name);
    if (begin > end || end > data_len)
        return ds_fail(err, DS_EFORMAT,
                       "tensor '%s': data_offsets [%llu, %llu] out of range (data is %llu bytes)",
                       name, (unsigned long long)begin, (unsigned long long)end,
                       (unsigned long long)data_len);
    uint64_t want = numel * dtype_size(t->dtype);
    if (end - begin != want)
        return ds_fail(err, DS_EFORMAT,
                       "tensor '%s': %llu bytes for shape and dtype %s, but offsets span %llu",
                       name, (unsigned long long)want, st_dtype_name(t->dtype),
                       (unsigned long long)(end - begin));
    t->numel = (int64_t)numel;
    t->data = data + begin;
    t->nbytes = (size_t)want;
    *begin_out = begin;
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int cmp_offset(const void *a, const void *b)
{
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    return x->data < y->data ? -1 : x->data > y->data;
}

/* The tensors tile the data exactly, as the reference reader requires
 * (its InvalidOffset and MetadataIncompleteBuffer): no two share bytes, no
 * byte lies between two of them or after the last. A file with a hole or
 * a tail is refused, as transformers refuses it, rather than loaded here
 * and nowhere else. Each tensor is compared with the furthest-reaching one
 * before it, not only with its neighbour, and zero-size tensors (which
 * occupy no bytes) are passed over: one sorted between two overlapping
 * tensors must not hide them. */
static int check_layout(st_file *f, uint64_t data_len, ds_err *err)
{
    int rc = 0;
    const st_tensor **by_off = malloc(sizeof *by_off * (size_t)(f->count ? f->count : 1));
    if (!by_off)
        return ds_fail(err, DS_ENOMEM, "safetensors: out of memory");
    for (int i = 0; i < f->count; i++)
        by_off[i] = &f->tensors[i];
    qsort(by_off, (size_t)f->count, sizeof *by_off, cmp_offset);
    const st_tensor *reach = NULL; /* the non-empty tensor ending furthest so far */
    const uint8_t *data = f->bytes + (f->size - data_len), *pos = data;
    for (int i = 0; i < f->count && rc == 0; i++) {
        const st_tensor *cur = by_off[i];
        if (!cur->nbytes)
            continue;
        if (reach && reach->data + reach->nbytes > cur->data)
            rc = ds_fail(err, DS_EFORMAT, "tensors '%s' and '%s' overlap", reach->name, cur->name);
        else if (cur->data > pos)
            rc = ds_fail(err, DS_EFORMAT, "safetensors: data bytes [%llu, %llu) before tensor "
                         "'%s' belong to no tensor", (unsigned long long)(pos - data),
                         (unsigned long long)(cur->data - data), cur->name);
        if (!reach || cur->data + cur->nbytes > reach->data + reach->nbytes)
            reach = cur, pos = cur->data + cur->nbytes;
    }
    if (rc == 0 && (uint64_t)(pos - data) != data_len)
        rc = ds_fail(err, DS_EFORMAT, "safetensors: the last %llu data bytes belong to no tensor "
                     "(a file cut or padded)", (unsigned long long)(data_len - (uint64_t)(pos - data)));
    free(by_off);
    return rc;
}

/* The reference reads __metadata__ as a map of strings to strings. */
static int check_metadata(const json_t *meta, ds_err *err)
{
    const char *key;
    const json_t *v;
    if (!json_is_object(meta))
        return ds_fail(err, DS_EFORMAT, "safetensors: __metadata__ must be an object of strings");
    json_object_foreach((json_t *)meta, key, v)
        if (!json_is_string(v))
            return ds_fail(err, DS_EFORMAT, "safetensors: __metadata__ must be an object of "
                           "strings ('%s' is not a string)", key);
    return 0;
}

static int parse_header(st_file *f, const char *json, size_t json_len, const uint8_t *data,
                        uint64_t data_len, ds_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ds_fail(err, DS_EFORMAT, "safetensors header is not valid JSON: %s (line %d)",
                       jerr.text, jerr.line);
    int rc = -1;
    if (!json_is_object(root)) {
        ds_fail(err, DS_EFORMAT, "safetensors header is not a JSON object");
        goto out;
    }
    f->tensors = calloc(json_object_size(root) + 1, sizeof *f->tensors);
    if (!f->tensors) {
        ds_fail(err, DS_ENOMEM, "safetensors: out of memory");
        goto out;
    }
    const char *name;
    json_t *entry;
    json_object_foreach(root, name, entry) {
        if (strcmp(name, "__metadata__") == 0) {
            if (check_metadata(entry, err) != 0)
                goto out;
            continue;
        }
        st_tensor *t = &f->tensors[f->count];
        uint64_t begin;
        if (parse_entry(name, entry, data, data_len, t, &begin, err) != 0)
            goto out;
        if (!(t->name = strdup(name))) {
            ds_fail(err, DS_ENOMEM, "safetensors: out of memory");
            goto out;
        }
        f->count++;
    }
    qsort(f->tensors, (size_t)f->count, sizeof *f->tensors, cmp_name);
    rc = check_layout(f, data_len, err);
out:
    json_decref(root);
    return rc;
}

int st_parse(const uint8_t *buf, size_t size, st_file **out, ds_err *err)
{
    *out = NULL;
    if (size < 8)
        return ds_fail(err, DS_EFORMAT, "safetensors: file is %zu bytes, shorter than its 8-byte "
                       "header length", size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | buf[i];
    if (n > size - 8)
        return ds_fail(err, DS_EFORMAT,
                       "safetensors: header length %llu exceeds the file (%zu bytes): truncated "
                       "or corrupt", (unsigned long long)n, size);
    if (n > ST_MAX_HEADER)
        return ds_fail(err, DS_ETOOBIG, "safetensors: header of %llu bytes exceeds the %u limit",
                       (unsigned long long)n, ST_MAX_HEADER);
    if (n < 2 || buf[8] != '{')
        return ds_fail(err, DS_EFORMAT, "safetensors: header does not start with '{'");
    st_file *f = calloc(1, sizeof *f);
    if (!f)
        return ds_fail(err, DS_ENOMEM, "safetensors: out of memory");
    f->bytes = buf;
    f->size = size;
    if (parse_header(f, (const char *)buf + 8, (size_t)n, buf + 8 + n, size - 8 - n, err) != 0) {
        st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int st_open(const char *path, st_file **out, ds_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ds_fail(err, errno == ENOENT ? DS_ENOTFOUND : DS_EIO, "%s: %s", path,
                       strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ds_fail(err, DS_EIO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (map == MAP_FAILED)
        return size ? ds_fail(err, DS_EIO, "%s: mmap: %s", path, strerror(errno))
                    : ds_fail(err, DS_EFORMAT, "%s: empty file", path);
    if (st_parse(map, size, out, err) != 0) {
        munmap(map, size);
        return ds_wrap(err, "%s: ", path);
    }
    (*out)->mapped = 1;
    return 0;
}

void st_close(st_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->count; i++)
        free(f->tensors[i].name);
    free(f->tensors);
    if (f->mapped)
        munmap((void *)f->bytes, f->size);
    free(f);
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    st_tensor key = {.name = (char *)name};
    return bsearch(&key, f->tensors, (size_t)f->count, sizeof key, cmp_name);
}

int st_expect(const st_file *f, const char *name, int ndim, const int64_t *shape,
              const st_tensor **out, ds_err *err)
{
    const st_tensor *t = st_find(f, name);
    if (!t)
        return ds_fail(err, DS_EFORMAT, "tensor '%s' is missing", name);
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
        return ds_fail(err, DS_EFORMAT, "tensor '%s' has dtype %s; expected F32, F16 or BF16",
                       name, st_dtype_name(t->dtype));
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++)
        same = t->shape[d] == shape[d];
    if (!same) {
        char got[160] = "", want[160] = "";
        for (int d = 0; d < t->ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? ", " : "",
                     (long long)t->shape[d]);
        for (int d = 0; d < ndim; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? ", " : "",
                     (long long)shape[d]);
        return ds_fail(err, DS_EFORMAT, "tensor '%s' has shape [%s]; config.json implies [%s]",
                       name, got, want);
    }
    *out = t;
    return 0;
}

float st_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13); /* inf or nan */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign; /* signed zero */
    } else {
        /* Subnormal half: renormalise the mantissa. */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

float st_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t st_f32_to_bf16(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7fffffff) > 0x7f800000)
        return (uint16_t)((bits >> 16) | 0x40); /* keep NaN a NaN */
    bits += 0x7fff + ((bits >> 16) & 1);        /* round to nearest even */
    return (uint16_t)(bits >> 16);
}

uint16_t st_f32_to_f16(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
    uint32_t absb = bits & 0x7fffffff;
    if (absb > 0x7f800000)
        return sign | 0x7e00;
    if (absb >= 0x477ff000) /* rounds to >= 65520: infinity */
        return sign | 0x7c00;
    if (absb < 0x38800000) {
        /* Subnormal or zero in half: scale so the bits land in place. */
        if (absb < 0x33000000)
            return sign;
        uint32_t man = (absb & 0x7fffff) | 0x800000;
        int shift = 126 - (int)(absb >> 23); /* 14..24 */
        uint32_t half = man >> shift;
        uint32_t rest = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1)))
            half++;
        return sign | (uint16_t)half;
    }
    uint32_t r = absb - 0x38000000; /* rebias 127 -> 15 */
    r += 0xfff + ((r >> 13) & 1);
    return sign | (uint16_t)(r >> 13);
}

void st_to_f32(const st_tensor *t, float *dst)
{
    const uint8_t *p = t->data;
    size_t n = (size_t)t->numel;
    switch (t->dtype) {
    case ST_F32:
        memcpy(dst, p, n * 4);
        break;
    case ST_F16:
        for (size_t i = 0; i < n; i++)
            dst[i] = st_f16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    case ST_BF16:
        for (size_t i = 0; i < n; i++)
            dst[i] = st_bf16_to_f32((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        break;
    default:
        memset(dst, 0, n * sizeof *dst); /* st_expect rejects these first */
        break;
    }
}
