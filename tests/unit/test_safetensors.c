/* test_safetensors.c - the safetensors reader accepts good files and turns
 * every kind of bad one into an error that names the problem. */
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

#include "../suites.h"
#include "model/safetensors.h"

/* Bytes of a file: 8-byte length, the header text, then data_len bytes.
 * header_len overrides the length field when not (uint64_t)-1. */
static uint8_t *make_file(const char *header, size_t data_len, uint64_t header_len, size_t *size)
{
    size_t h = strlen(header);
    uint64_t n = header_len == (uint64_t)-1 ? h : header_len;
    *size = 8 + h + data_len;
    uint8_t *buf = calloc(1, *size);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(n >> (8 * i));
    memcpy(buf + 8, header, h);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + h + i] = (uint8_t)i;
    return buf;
}

/* Parse a made-up file; returns the parse status and leaves err filled. */
static int parse(const char *header, size_t data_len, uint64_t header_len, ds_err *err)
{
    size_t size;
    uint8_t *buf = make_file(header, data_len, header_len, &size);
    st_file *f = NULL;
    int rc = st_parse(buf, size, &f, err);
    CHECK((rc == 0) == (f != NULL));
    st_close(f);
    free(buf);
    return rc;
}

static void test_good_file(void)
{
    const char *h = "{\"__metadata__\":{\"format\":\"pt\"},"
                    "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t size;
    uint8_t *buf = make_file(h, 12, (uint64_t)-1, &size);
    st_file *f;
    ds_err err = {0};
    CHECKF(st_parse(buf, size, &f, &err) == 0, "%s", err.msg);
    if (f) {
        CHECK(f->count == 2);
        const st_tensor *a = st_find(f, "a"), *b = st_find(f, "b");
        CHECK(a && a->dtype == ST_F32 && a->numel == 2 && a->nbytes == 8);
        CHECK(b && b->dtype == ST_F16 && b->shape[0] == 2);
        CHECK(st_find(f, "__metadata__") == NULL && st_find(f, "c") == NULL);
        const st_tensor *t;
        CHECK(st_expect(f, "a", 1, (int64_t[]){2}, &t, &err) == 0 && t == a);
        CHECK(st_expect(f, "a", 1, (int64_t[]){3}, &t, &err) != 0);
        CHECK_MSG(err, "tensor 'a' has shape [2]");
        CHECK(st_expect(f, "zz", 1, (int64_t[]){2}, &t, &err) != 0);
        CHECK_MSG(err, "tensor 'zz' is missing");
    }
    st_close(f);
    free(buf);
}

static void test_truncated(void)
{
    ds_err err = {0};
    st_file *f = NULL;
    CHECK(st_parse((const uint8_t *)"\x10\0\0", 3, &f, &err) != 0 && f == NULL);
    CHECK_MSG(err, "shorter than its 8-byte header length");
    /* Header claims 100 bytes, file holds 20. */
    CHECK(parse("{\"a\":1,\"b\":2,\"c\":3}", 0, 100, &err) != 0);
    CHECK_MSG(err, "exceeds the file");
}

static void test_lying_header_length(void)
{
    ds_err err = {0};
    /* A length that overflows any size arithmetic. */
    CHECK(parse("{}", 0, UINT64_MAX - 4, &err) != 0);
    CHECK_MSG(err, "exceeds the file");
    /* A length shorter than the JSON: the JSON is cut and invalid. */
    CHECK(parse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, 10, &err) != 0);
    CHECK_MSG(err, "not valid JSON");
}

static void test_bad_json(void)
{
    ds_err err = {0};
    CHECK(parse("[1,2,3]", 0, (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "does not start with '{'");
    CHECK(parse("{\"a\":", 0, (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "not valid JSON");
    CHECK(parse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "duplicate");
    CHECK(parse("{\"a\":7}", 0, (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "tensor 'a': header entry is not an object");
}

static void test_offsets(void)
{
    ds_err err = {0};
    CHECK(parse("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "tensor 'w': data_offsets [0, 16] out of range");
    CHECK(parse("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "out of range");
    CHECK(parse("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "data_offsets must be [begin, end]");
    CHECK(parse("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "tensors 'x' and 'y' overlap");
}

static void test_dtype_and_shape(void)
{
    ds_err err = {0};
    CHECK(parse("{\"w\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "tensor 'w': unknown or missing dtype");
    /* Shape says 3 floats (12 bytes), offsets span 8. */
    CHECK(parse("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "tensor 'w': 12 bytes for shape and dtype F32, but offsets span 8");
    CHECK(parse("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                "\"data_offsets\":[0,8]}}", 8, (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "shape overflows");
    CHECK(parse("{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                "\"data_offsets\":[0,4]}}", 4, (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "over 8 dims");
    /* An integer tensor parses, but is refused where floats are needed. */
    size_t size;
    uint8_t *buf = make_file("{\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
                             8, (uint64_t)-1, &size);
    st_file *f;
    const st_tensor *t;
    CHECK(st_parse(buf, size, &f, &err) == 0);
    CHECK(st_expect(f, "i", 1, (int64_t[]){1}, &t, &err) != 0);
    CHECK_MSG(err, "tensor 'i' has dtype I64");
    st_close(f);
    free(buf);
}

static void test_half_conversions(void)
{
    static const float values[] = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f,
                                   5.9604645e-08f, 0.1f, 3.14159265f};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        float v = values[i];
        float h = st_f16_to_f32(st_f32_to_f16(v));
        CHECKF(h == v || fabsf(h - v) <= fabsf(v) * 1e-3f, "f16 %g -> %g", (double)v, (double)h);
        float b = st_bf16_to_f32(st_f32_to_bf16(v));
        CHECKF(fabsf(b - v) <= fabsf(v) * 8e-3f, "bf16 %g -> %g", (double)v, (double)b);
    }
    CHECK(st_f32_to_f16(1e6f) == 0x7c00);             /* overflow to infinity */
    CHECK(st_f16_to_f32(0x0001) == 5.9604645e-08f);   /* smallest subnormal */
    CHECK(st_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00); /* ties to even */
    CHECK(st_f32_to_bf16(1.0f) == 0x3f80);
}

static void test_open_errors(void)
{
    ds_err err = {0};
    st_file *f;
    CHECK(st_open("/nonexistent/model.safetensors", &f, &err) != 0);
    CHECK(err.code == DS_ENOTFOUND);
    char path[512];
    snprintf(path, sizeof path, "%s/empty.safetensors", ds_test_tmpdir);
    CHECK(ds_test_write_file(path, "", 0) == 0);
    CHECK(st_open(path, &f, &err) != 0);
    CHECK_MSG(err, "empty file");
    CHECK(st_open(ds_test_tmpdir, &f, &err) != 0);
    CHECK_MSG(err, "not a regular file");
}

/* What the reference reader (the safetensors crate) accepts and refuses,
 * where it differs from the obvious: overlaps behind an empty tensor, the
 * unsigned dtypes, its header limit and the type of __metadata__. */
static void test_reference_rules(void)
{
    ds_err err = {0};
    /* x [0, 16) and y [8, 16) overlap; the empty z at 4 sorts between. */
    CHECK(parse("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "tensors 'x' and 'y' overlap");
    /* Unsigned tensors are valid; only using one as floats is refused. */
    const char *h = "{\"a\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                    "\"b\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[2,6]},"
                    "\"c\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[6,14]},"
                    "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[14,18]}}";
    size_t size;
    uint8_t *buf = make_file(h, 18, (uint64_t)-1, &size);
    st_file *f = NULL;
    const st_tensor *t;
    CHECKF(st_parse(buf, size, &f, &err) == 0, "%s", err.msg);
    CHECK(!f || st_expect(f, "w", 1, (int64_t[]){1}, &t, &err) == 0);
    CHECK(!f || st_expect(f, "c", 1, (int64_t[]){1}, &t, &err) != 0);
    CHECK(!f || strstr(err.msg, "tensor 'c' has dtype U64"));
    st_close(f);
    free(buf);
    /* The reference's limit is 100,000,000 bytes of header. */
    CHECK(ST_MAX_HEADER == 100000000u);
    buf = make_file("{}", 0, 100000001u, &size);
    uint8_t *big = calloc(1, 8 + 100000001u);
    memcpy(big, buf, 8);
    big[8] = '{';
    CHECK(big && st_parse(big, 8 + 100000001u, &f, &err) != 0 && err.code == DS_ETOOBIG);
    CHECK_MSG(err, "exceeds the 100000000 limit");
    free(big);
    free(buf);
    /* __metadata__ is a map of strings to strings. */
    CHECK(parse("{\"__metadata__\":5}", 0, (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "__metadata__ must be an object of strings");
    CHECK(parse("{\"__metadata__\":{\"format\":1}}", 0, (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "__metadata__ must be an object of strings");
    CHECKF(parse("{\"__metadata__\":{\"format\":\"pt\"}}", 0, (uint64_t)-1, &err) == 0, "%s",
           err.msg);
}

/* The tensors tile the data exactly, as the reference requires: a hole
 * before or between tensors, or bytes after the last, are refused (they
 * loaded here, and transformers refuses the file). */
static void test_holes_and_tails(void)
{
    ds_err err = {0};
    CHECK(parse("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "the last 8 data bytes belong to no tensor");
    CHECK(parse("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "data bytes [0, 4) before tensor 'w' belong to no tensor");
    CHECK(parse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12,
                (uint64_t)-1, &err) != 0);
    CHECK_MSG(err, "data bytes [4, 8) before tensor 'b' belong to no tensor");
    /* Tiled, with an empty tensor anywhere and the header padded with
     * spaces (as the reference writes it): valid. */
    CHECKF(parse("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                 "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                 "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}    ", 8,
                 (uint64_t)-1, &err) == 0, "%s", err.msg);
    CHECKF(parse("{}", 0, (uint64_t)-1, &err) == 0, "%s", err.msg);
}

const ds_test safetensors_tests[] = {
    {"a valid file parses; tensors found by name", test_good_file},
    {"truncated files are refused", test_truncated},
    {"a header length that lies is refused", test_lying_header_length},
    {"malformed header JSON is refused", test_bad_json},
    {"offsets out of range or overlapping are refused", test_offsets},
    {"wrong dtype or shape is refused, naming the tensor", test_dtype_and_shape},
    {"F16 and BF16 conversions round correctly", test_half_conversions},
    {"missing, empty and non-regular files", test_open_errors},
    {"the reference's rules: hidden overlaps, U16/U32/U64, limit, __metadata__",
     test_reference_rules},
    {"the data is tiled exactly: a hole or a tail is refused", test_holes_and_tails},
    {0},
};
