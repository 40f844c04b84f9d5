/* safetensors.h - read Hugging Face .safetensors files, validated.
 *
 * The format: 8 bytes little-endian header length N, N bytes of JSON
 * ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
 * "__metadata__": {...}}), then the raw tensor bytes, offsets relative to
 * the end of the header. st_open mmaps the file read-only; tensors point
 * into the mapping and stay valid until st_close.
 *
 * Everything is checked before anything is used: the header length against
 * the file size, the JSON, each dtype, each shape against its byte size,
 * offsets in range and no two tensors overlapping. Errors name the tensor
 * and what is wrong.
 */
#ifndef DS_SAFETENSORS_H
#define DS_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define ST_MAX_DIMS 8
#define ST_MAX_HEADER 100000000u /* the reference reader's own limit (bytes) */

typedef enum st_dtype {
    ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL,
    ST_F8_E4M3, ST_F8_E5M2, ST_U16, ST_U32, ST_U64,
} st_dtype;

typedef struct st_tensor {
    char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    int64_t numel;
    const uint8_t *data; /* into the file's bytes; not aligned in general */
    size_t nbytes;
} st_tensor;

typedef struct st_file {
    const uint8_t *bytes; /* the whole file (mapped or borrowed) */
    size_t size;
    int mapped;           /* 1 when st_close must munmap bytes */
    st_tensor *tensors;   /* sorted by name */
    int count;
} st_file;

/* Open and validate a file. On success *out is owned by the caller (free
 * with st_close). Cost: one mmap and a parse of the header; tensor bytes are
 * not touched. Returns 0, or -1 with err. */
int st_open(const char *path, st_file **out, ds_err *err);

/* The same checks on bytes already in memory (the fuzz target's entry).
 * buf must outlive the result; st_close will not free it. */
int st_parse(const uint8_t *buf, size_t size, st_file **out, ds_err *err);

/* Release everything; NULL is a harmless no-op. */
void st_close(st_file *f);

/* The tensor called name, or NULL. O(log n). */
const st_tensor *st_find(const st_file *f, const char *name);

/* Name of a dtype as written in files ("F32"). */
const char *st_dtype_name(st_dtype t);

/* Check that t exists, is F32/F16/BF16 and has exactly the given shape
 * (ndim dims). On failure err names the tensor and the mismatch. */
int st_expect(const st_file *f, const char *name, int ndim, const int64_t *shape,
              const st_tensor **out, ds_err *err);

/* Convert a float tensor (F32, F16 or BF16) into dst[numel] as float32. */
void st_to_f32(const st_tensor *t, float *dst);

/* float32 -> IEEE half / bfloat16 with round-to-nearest-even (for writing). */
uint16_t st_f32_to_f16(float f);
uint16_t st_f32_to_bf16(float f);
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t h);

#endif
