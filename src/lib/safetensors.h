/* Reading and writing the safetensors format.
 *
 * Layout: an 8-byte little-endian length N, N bytes of UTF-8 JSON mapping
 * each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (plus
 * an optional "__metadata__" object of strings), then the data section.
 * Offsets are relative to the start of the data section.
 *
 * The reader maps the file read-only and checks the header strictly when it
 * opens it; every problem is an MTB_EINPUT error whose message names the
 * file and, where there is one, the tensor.  Tensors are listed in header
 * order.  The writer replaces its target atomically (temporary file, fsync,
 * rename). */
#ifndef MTBERT_SAFETENSORS_H
#define MTBERT_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtbert/error.h"

/* MTB_ST_F32 is 0 so that a zero-initialised writer entry means float32. */
typedef enum mtb_st_dtype {
    MTB_ST_F32 = 0,
    MTB_ST_F16,
    MTB_ST_BF16,
    MTB_ST_F64,
    MTB_ST_I64,
    MTB_ST_I32,
    MTB_ST_I16,
    MTB_ST_I8,
    MTB_ST_U8,
    MTB_ST_BOOL,
    MTB_ST_N_DTYPES
} mtb_st_dtype;

/* "F32", "BF16", ...; "?" for an out-of-range value. */
const char *mtb_st_dtype_name(mtb_st_dtype dt);
/* Bytes per element; 0 for an out-of-range value. */
size_t mtb_st_dtype_size(mtb_st_dtype dt);
/* True for the dtypes mtb_st_read_f32 converts: F32, F16, BF16, F64. */
bool mtb_st_dtype_is_float(mtb_st_dtype dt);
/* Parses a dtype name; returns -1 if unknown. */
int mtb_st_dtype_from_name(const char *name);

/* One tensor of an open file.  Pointers stay valid until mtb_st_close. */
typedef struct mtb_st_tensor {
    const char *name;
    mtb_st_dtype dtype;
    int ndim;              /* 0 for a scalar */
    const int64_t *shape;  /* [ndim] */
    size_t numel;          /* product of shape (1 for a scalar) */
    size_t nbytes;         /* numel * element size == end - begin */
    size_t begin, end;     /* data_offsets, relative to the data section */
    const void *data;      /* raw little-endian bytes in the mapping; not aligned */
} mtb_st_tensor;

typedef struct mtb_safetensors mtb_safetensors;

/* Opens and validates path.  On success *out owns the mapping; on error *out
 * is NULL.  A file that cannot be opened or is malformed is MTB_EINPUT;
 * mapping or memory failures are MTB_EFAIL. */
int mtb_st_open(mtb_safetensors **out, const char *path, mtb_error *err);
void mtb_st_close(mtb_safetensors *st); /* NULL is fine */

const char *mtb_st_path(const mtb_safetensors *st);
int mtb_st_count(const mtb_safetensors *st);
/* i in [0, count), header order. */
const mtb_st_tensor *mtb_st_tensor_at(const mtb_safetensors *st, int i);
/* Index of the tensor called name, or -1. */
int mtb_st_find(const mtb_safetensors *st, const char *name);
/* Shortcut: the tensor called name, or NULL. */
const mtb_st_tensor *mtb_st_get(const mtb_safetensors *st, const char *name);

/* __metadata__ entries, in header order. */
int mtb_st_metadata_count(const mtb_safetensors *st);
void mtb_st_metadata_at(const mtb_safetensors *st, int i, const char **key, const char **value);
/* Value for key, or NULL. */
const char *mtb_st_metadata_get(const mtb_safetensors *st, const char *key);

/* Converts tensor i to float32 into dst, which holds n floats; n must equal
 * the tensor's numel.  F32 is copied, F16 and BF16 are widened exactly
 * (subnormals, infinities and NaNs included), F64 is rounded to nearest.
 * Another dtype, or a wrong n, is MTB_EINPUT naming the file and tensor. */
int mtb_st_read_f32(const mtb_safetensors *st, int i, float *dst, size_t n, mtb_error *err);

/* Exact scalar conversions used by mtb_st_read_f32. */
float mtb_st_f16_to_f32(uint16_t h);
float mtb_st_bf16_to_f32(uint16_t b);

/* ---- writer ---- */

#define MTB_ST_MAX_NDIM 8

typedef struct mtb_st_entry {
    const char *name;
    mtb_st_dtype dtype;    /* MTB_ST_F32 (0) for float32 */
    int ndim;              /* 0..MTB_ST_MAX_NDIM */
    int64_t shape[MTB_ST_MAX_NDIM];
    const void *data;      /* numel * element size bytes, little-endian */
} mtb_st_entry;

typedef struct mtb_st_meta {
    const char *key;
    const char *value;
} mtb_st_meta;

/* Writes the tensors, data contiguous in the order given, with the optional
 * metadata (n_meta may be 0) to path: first to "path.tmp.<pid>", which is
 * fsynced and renamed over path.  The header is padded with spaces so the
 * data section starts at a multiple of 8.  A bad entry (empty, duplicate or
 * reserved name, negative dimension, unknown dtype) is MTB_EINPUT; I/O
 * failure is MTB_EFAIL and leaves path untouched. */
int mtb_st_write(const char *path, const mtb_st_entry *tensors, int n, const mtb_st_meta *meta,
                 int n_meta, mtb_error *err);

#endif
