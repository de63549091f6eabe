/* safetensors reader (read-only mmap, strict validation) and atomic writer. */
#include "safetensors.h"
#include "mtbert/file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* ---- dtypes ---- */

static const struct {
    const char *name;
    size_t size;
    bool is_float;
} dtype_table[MTB_ST_N_DTYPES] = {
    [MTB_ST_F32] = {"F32", 4, true},  [MTB_ST_F16] = {"F16", 2, true},
    [MTB_ST_BF16] = {"BF16", 2, true}, [MTB_ST_F64] = {"F64", 8, true},
    [MTB_ST_I64] = {"I64", 8, false}, [MTB_ST_I32] = {"I32", 4, false},
    [MTB_ST_I16] = {"I16", 2, false}, [MTB_ST_I8] = {"I8", 1, false},
    [MTB_ST_U8] = {"U8", 1, false},   [MTB_ST_BOOL] = {"BOOL", 1, false},
};

static bool dtype_ok(mtb_st_dtype dt)
{
    return (int)dt >= 0 && (int)dt < MTB_ST_N_DTYPES;
}

const char *mtb_st_dtype_name(mtb_st_dtype dt)
{
    return dtype_ok(dt) ? dtype_table[dt].name : "?";
}

size_t mtb_st_dtype_size(mtb_st_dtype dt)
{
    return dtype_ok(dt) ? dtype_table[dt].size : 0;
}

bool mtb_st_dtype_is_float(mtb_st_dtype dt)
{
    return dtype_ok(dt) && dtype_table[dt].is_float;
}

int mtb_st_dtype_from_name(const char *name)
{
    for (int i = 0; i < MTB_ST_N_DTYPES; i++)
        if (strcmp(dtype_table[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- scalar conversions ---- */

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float mtb_st_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    uint32_t bits;
    if (exp == 0x1f) { /* inf / nan: keep the payload */
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: mant * 2^-24, renormalised for float32 */
            int e = -14;
            while (!(mant & 0x400)) {
                mant <<= 1;
                e--;
            }
            mant &= 0x3ff;
            bits = sign | ((uint32_t)(e + 127) << 23) | (mant << 13);
        }
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    return f32_from_bits(bits);
}

float mtb_st_bf16_to_f32(uint16_t b)
{
    return f32_from_bits((uint32_t)b << 16);
}

/* ---- reader ---- */

typedef struct st_rec {
    mtb_st_tensor pub;
    char *name;
    int64_t *shape;
} st_rec;

struct mtb_safetensors {
    char *path;
    void *map;
    size_t map_len;
    const unsigned char *data; /* start of the data section */
    size_t data_len;
    int n;
    st_rec *rec;       /* [n], header order */
    st_rec **by_name;  /* [n], sorted by name */
    int n_meta;
    char **meta_key, **meta_val;
};

static int vbad(mtb_error *err, int code, const char *path, const char *fmt, va_list ap)
{
    char buf[768];
    vsnprintf(buf, sizeof buf, fmt, ap);
    return mtb_error_set(err, code, "%.250s: %s", path, buf);
}

static int bad_input(mtb_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad_input(mtb_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vbad(err, MTB_EINPUT, path, fmt, ap);
    va_end(ap);
    return rc;
}

static int failure(mtb_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failure(mtb_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vbad(err, MTB_EFAIL, path, fmt, ap);
    va_end(ap);
    return rc;
}

/* "[2, 3]" */
static void format_shape(char *buf, size_t cap, const int64_t *shape, int ndim)
{
    size_t len = 0;
    buf[0] = '\0';
    len += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "",
                                (long long)shape[i]);
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

void mtb_st_close(mtb_safetensors *st)
{
    if (!st)
        return;
    if (st->map)
        munmap(st->map, st->map_len);
    for (int i = 0; i < st->n; i++) {
        free(st->rec[i].name);
        free(st->rec[i].shape);
    }
    for (int i = 0; i < st->n_meta; i++) {
        free(st->meta_key[i]);
        free(st->meta_val[i]);
    }
    free(st->rec);
    free(st->by_name);
    free(st->meta_key);
    free(st->meta_val);
    free(st->path);
    free(st);
}

static int cmp_by_name(const void *a, const void *b)
{
    const st_rec *x = *(st_rec *const *)a, *y = *(st_rec *const *)b;
    return strcmp(x->pub.name, y->pub.name);
}

static int cmp_by_offset(const void *a, const void *b)
{
    const st_rec *x = *(st_rec *const *)a, *y = *(st_rec *const *)b;
    if (x->pub.begin != y->pub.begin)
        return x->pub.begin < y->pub.begin ? -1 : 1;
    if (x->pub.end != y->pub.end)
        return x->pub.end < y->pub.end ? -1 : 1;
    return 0;
}

/* Extracts the key from jansson's "duplicate object key near '"KEY"'". */
static void duplicate_key_name(const char *text, char *out, size_t cap)
{
    const char *p = strstr(text, "near '");
    out[0] = '\0';
    if (!p)
        return;
    p += 6;
    if (*p == '"')
        p++;
    size_t len = strlen(p);
    if (len > 0 && p[len - 1] == '\'')
        len--;
    if (len > 0 && p[len - 1] == '"')
        len--;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

static int parse_metadata(mtb_safetensors *st, json_t *meta, mtb_error *err)
{
    if (!json_is_object(meta))
        return bad_input(err, st->path, "__metadata__ must be a JSON object of strings");
    size_t n = json_object_size(meta);
    st->meta_key = calloc(n ? n : 1, sizeof *st->meta_key);
    st->meta_val = calloc(n ? n : 1, sizeof *st->meta_val);
    if (!st->meta_key || !st->meta_val)
        return failure(err, st->path, "out of memory");
    const char *key;
    json_t *val;
    json_object_foreach(meta, key, val) {
        if (!json_is_string(val))
            return bad_input(err, st->path, "__metadata__ key '%.200s' must have a string value",
                             key);
        char *k = strdup(key), *v = strdup(json_string_value(val));
        if (!k || !v) {
            free(k);
            free(v);
            return failure(err, st->path, "out of memory");
        }
        st->meta_key[st->n_meta] = k;
        st->meta_val[st->n_meta] = v;
        st->n_meta++;
    }
    return MTB_OK;
}

/* Reads a JSON integer >= 0; false if val is not one. */
static bool get_nonneg(const json_t *val, uint64_t *out)
{
    if (!json_is_integer(val) || json_integer_value(val) < 0)
        return false;
    *out = (uint64_t)json_integer_value(val);
    return true;
}

static int parse_entry(mtb_safetensors *st, st_rec *r, const char *key, json_t *val,
                       mtb_error *err)
{
    const char *path = st->path;
    r->name = strdup(key);
    if (!r->name)
        return failure(err, path, "out of memory");
    r->pub.name = r->name;

    if (!json_is_object(val))
        return bad_input(err, path, "tensor '%.200s': entry is not a JSON object", key);

    json_t *jd = json_object_get(val, "dtype");
    if (!jd)
        return bad_input(err, path, "tensor '%.200s': missing key 'dtype'", key);
    if (!json_is_string(jd))
        return bad_input(err, path, "tensor '%.200s': 'dtype' must be a string", key);
    int dt = mtb_st_dtype_from_name(json_string_value(jd));
    if (dt < 0)
        return bad_input(err, path, "tensor '%.200s': unknown dtype '%.40s'", key,
                         json_string_value(jd));
    r->pub.dtype = (mtb_st_dtype)dt;

    json_t *js = json_object_get(val, "shape");
    if (!js)
        return bad_input(err, path, "tensor '%.200s': missing key 'shape'", key);
    if (!json_is_array(js))
        return bad_input(err, path, "tensor '%.200s': 'shape' must be an array", key);
    size_t ndim = json_array_size(js);
    if (ndim > 64)
        return bad_input(err, path, "tensor '%.200s': shape has %zu dimensions", key, ndim);
    r->shape = calloc(ndim ? ndim : 1, sizeof *r->shape);
    if (!r->shape)
        return failure(err, path, "out of memory");
    r->pub.shape = r->shape;
    r->pub.ndim = (int)ndim;
    size_t numel = 1;
    bool overflow = false;
    for (size_t i = 0; i < ndim; i++) {
        json_t *d = json_array_get(js, i);
        if (!json_is_integer(d))
            return bad_input(err, path, "tensor '%.200s': shape entry %zu is not an integer", key,
                             i);
        json_int_t v = json_integer_value(d);
        if (v < 0)
            return bad_input(err, path, "tensor '%.200s': negative dimension %lld in shape", key,
                             (long long)v);
        r->shape[i] = (int64_t)v;
        if ((uint64_t)v > SIZE_MAX || __builtin_mul_overflow(numel, (size_t)v, &numel))
            overflow = true;
    }
    size_t esize = dtype_table[dt].size, nbytes = 0;
    if (overflow || __builtin_mul_overflow(numel, esize, &nbytes)) {
        char sh[256];
        format_shape(sh, sizeof sh, r->shape, r->pub.ndim);
        return bad_input(err, path, "tensor '%.200s': shape %s is too large", key, sh);
    }
    r->pub.numel = numel;
    r->pub.nbytes = nbytes;

    json_t *jo = json_object_get(val, "data_offsets");
    if (!jo)
        return bad_input(err, path, "tensor '%.200s': missing key 'data_offsets'", key);
    uint64_t begin, end;
    if (!json_is_array(jo) || json_array_size(jo) != 2 ||
        !get_nonneg(json_array_get(jo, 0), &begin) || !get_nonneg(json_array_get(jo, 1), &end))
        return bad_input(err, path,
                         "tensor '%.200s': 'data_offsets' must be an array of two non-negative "
                         "integers",
                         key);
    if (begin > end)
        return bad_input(err, path,
                         "tensor '%.200s': data_offsets [%llu, %llu] have begin after end", key,
                         (unsigned long long)begin, (unsigned long long)end);
    if (end > st->data_len)
        return bad_input(err, path,
                         "tensor '%.200s': data_offsets [%llu, %llu] extend beyond the data "
                         "section (%zu bytes)",
                         key, (unsigned long long)begin, (unsigned long long)end, st->data_len);
    if (end - begin != nbytes) {
        char sh[256];
        format_shape(sh, sizeof sh, r->shape, r->pub.ndim);
        return bad_input(err, path,
                         "tensor '%.200s': shape %s of %s needs %zu bytes but data_offsets "
                         "[%llu, %llu] cover %llu",
                         key, sh, dtype_table[dt].name, nbytes, (unsigned long long)begin,
                         (unsigned long long)end, (unsigned long long)(end - begin));
    }
    r->pub.begin = (size_t)begin;
    r->pub.end = (size_t)end;
    r->pub.data = st->data + begin;
    return MTB_OK;
}

static int parse_header(mtb_safetensors *st, const char *text, size_t len, mtb_error *err)
{
    const char *path = st->path;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        if (json_error_code(&jerr) == json_error_duplicate_key) {
            char key[256];
            duplicate_key_name(jerr.text, key, sizeof key);
            return bad_input(err, path,
                             "duplicate key '%s' in the header (line %d, column %d): tensor "
                             "names must be unique",
                             key, jerr.line, jerr.column);
        }
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return failure(err, path, "out of memory parsing the header");
        return bad_input(err, path, "header is not valid JSON: %s (line %d, column %d)", jerr.text,
                         jerr.line, jerr.column);
    }
    int rc = MTB_OK;
    if (!json_is_object(root)) {
        rc = bad_input(err, path, "header is not a JSON object");
        goto out;
    }
    size_t n = json_object_size(root);
    st->rec = calloc(n ? n : 1, sizeof *st->rec);
    st->by_name = calloc(n ? n : 1, sizeof *st->by_name);
    if (!st->rec || !st->by_name) {
        rc = failure(err, path, "out of memory");
        goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            rc = parse_metadata(st, val, err);
        } else {
            st_rec *r = &st->rec[st->n++];
            rc = parse_entry(st, r, key, val, err);
        }
        if (rc)
            goto out;
    }

    /* Byte ranges must not overlap (empty tensors occupy no bytes). */
    for (int i = 0; i < st->n; i++)
        st->by_name[i] = &st->rec[i];
    qsort(st->by_name, (size_t)st->n, sizeof *st->by_name, cmp_by_offset);
    const st_rec *last = NULL;
    for (int i = 0; i < st->n; i++) {
        const st_rec *r = st->by_name[i];
        if (r->pub.begin == r->pub.end)
            continue;
        if (last && r->pub.begin < last->pub.end) {
            rc = bad_input(err, path,
                           "tensors '%.200s' [%zu, %zu] and '%.200s' [%zu, %zu] overlap in the "
                           "data section",
                           last->pub.name, last->pub.begin, last->pub.end, r->pub.name,
                           r->pub.begin, r->pub.end);
            goto out;
        }
        if (!last || r->pub.end > last->pub.end)
            last = r;
    }
    qsort(st->by_name, (size_t)st->n, sizeof *st->by_name, cmp_by_name);
out:
    json_decref(root);
    return rc;
}

int mtb_st_open(mtb_safetensors **out, const char *path, mtb_error *err)
{
    *out = NULL;
    mtb_safetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    }
    int rc = MTB_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = bad_input(err, path, "cannot open: %s", strerror(errno));
        goto fail;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rc = failure(err, path, "cannot stat: %s", strerror(errno));
        close(fd);
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = bad_input(err, path, "not a regular file");
        close(fd);
        goto fail;
    }
    if (sb.st_size < 8) {
        rc = bad_input(err, path,
                       "file is too short for a safetensors header (%lld bytes, need at least 8)",
                       (long long)sb.st_size);
        close(fd);
        goto fail;
    }
    if ((unsigned long long)sb.st_size > SIZE_MAX) {
        rc = failure(err, path, "file too large to map");
        close(fd);
        goto fail;
    }
    st->map_len = (size_t)sb.st_size;
    void *map = mmap(NULL, st->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    close(fd);
    if (map == MAP_FAILED) {
        rc = failure(err, path, "cannot map the file: %s", strerror(map_errno));
        goto fail;
    }
    st->map = map;
    const unsigned char *bytes = map;

    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | bytes[i];
    if (hlen > (uint64_t)st->map_len - 8) {
        rc = bad_input(err, path,
                       "header length %llu exceeds the file size (%zu bytes after the 8-byte "
                       "length)",
                       (unsigned long long)hlen, st->map_len - 8);
        goto fail;
    }
    st->data = bytes + 8 + hlen;
    st->data_len = st->map_len - 8 - (size_t)hlen;
    rc = parse_header(st, (const char *)bytes + 8, (size_t)hlen, err);
    if (rc)
        goto fail;
    *out = st;
    return MTB_OK;
fail:
    mtb_st_close(st);
    return rc;
}

const char *mtb_st_path(const mtb_safetensors *st)
{
    return st->path;
}

int mtb_st_count(const mtb_safetensors *st)
{
    return st->n;
}

const mtb_st_tensor *mtb_st_tensor_at(const mtb_safetensors *st, int i)
{
    if (i < 0 || i >= st->n)
        return NULL;
    return &st->rec[i].pub;
}

int mtb_st_find(const mtb_safetensors *st, const char *name)
{
    size_t lo = 0, hi = (size_t)st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, st->by_name[mid]->pub.name);
        if (c == 0)
            return (int)(st->by_name[mid] - st->rec);
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

const mtb_st_tensor *mtb_st_get(const mtb_safetensors *st, const char *name)
{
    return mtb_st_tensor_at(st, mtb_st_find(st, name));
}

int mtb_st_metadata_count(const mtb_safetensors *st)
{
    return st->n_meta;
}

void mtb_st_metadata_at(const mtb_safetensors *st, int i, const char **key, const char **value)
{
    if (i < 0 || i >= st->n_meta) {
        *key = *value = NULL;
        return;
    }
    *key = st->meta_key[i];
    *value = st->meta_val[i];
}

const char *mtb_st_metadata_get(const mtb_safetensors *st, const char *key)
{
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta_key[i], key) == 0)
            return st->meta_val[i];
    return NULL;
}

int mtb_st_read_f32(const mtb_safetensors *st, int i, float *dst, size_t n, mtb_error *err)
{
    if (i < 0 || i >= st->n)
        return bad_input(err, st->path, "no tensor number %d (file has %d)", i, st->n);
    const mtb_st_tensor *t = &st->rec[i].pub;
    if (!mtb_st_dtype_is_float(t->dtype))
        return bad_input(err, st->path,
                         "tensor '%.200s' has dtype %s, which cannot be converted to float32",
                         t->name, mtb_st_dtype_name(t->dtype));
    if (n != t->numel)
        return bad_input(err, st->path, "tensor '%.200s' has %zu elements, buffer holds %zu",
                         t->name, t->numel, n);
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case MTB_ST_F32:
        if (n)
            memcpy(dst, p, n * sizeof(float));
        break;
    case MTB_ST_F16:
        for (size_t j = 0; j < n; j++)
            dst[j] = mtb_st_f16_to_f32((uint16_t)(p[2 * j] | (p[2 * j + 1] << 8)));
        break;
    case MTB_ST_BF16:
        for (size_t j = 0; j < n; j++)
            dst[j] = mtb_st_bf16_to_f32((uint16_t)(p[2 * j] | (p[2 * j + 1] << 8)));
        break;
    case MTB_ST_F64:
        for (size_t j = 0; j < n; j++) {
            double d;
            memcpy(&d, p + 8 * j, sizeof d);
            dst[j] = (float)d;
        }
        break;
    default:
        break;
    }
    return MTB_OK;
}

/* ---- writer ---- */

static int write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len > 0) {
        size_t chunk = len > ((size_t)1 << 30) ? ((size_t)1 << 30) : len;
        ssize_t w = write(fd, p, chunk);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}


/* The "__metadata__" object of the header: string keys to string values. */
static int add_metadata(json_t *root, const char *path, const mtb_st_meta *meta, int n_meta,
                        mtb_error *err)
{
    json_t *m = json_object();
    if (!m || json_object_set_new(root, "__metadata__", m) != 0)
        return failure(err, path, "out of memory");
    for (int i = 0; i < n_meta; i++) {
        if (!meta[i].key || !meta[i].value)
            return bad_input(err, path, "metadata entry %d has a NULL key or value", i);
        if (json_object_get(m, meta[i].key))
            return bad_input(err, path, "duplicate metadata key '%.200s'", meta[i].key);
        json_t *v = json_string(meta[i].value);
        if (!v)
            return bad_input(err, path, "metadata '%.200s' is not valid UTF-8", meta[i].key);
        if (json_object_set_new(m, meta[i].key, v) != 0)
            return bad_input(err, path, "metadata key '%.200s' is not valid UTF-8",
                             meta[i].key);
    }
    return MTB_OK;
}

/* Tensor i's entry of the header (dtype, shape, data_offsets), its data
 * starting at *offset, which moves past it. */
static int add_tensor_entry(json_t *root, const char *path, const mtb_st_entry *e, int i,
                            uint64_t *offset, mtb_error *err)
{
    const char *name = e->name;
    if (!name || !name[0])
        return bad_input(err, path, "tensor %d has no name", i);
    if (strcmp(name, "__metadata__") == 0)
        return bad_input(err, path, "tensor %d: '__metadata__' is reserved", i);
    if (json_object_get(root, name))
        return bad_input(err, path, "tensor '%.200s': duplicate name", name);
    if (!dtype_ok(e->dtype))
        return bad_input(err, path, "tensor '%.200s': invalid dtype %d", name, (int)e->dtype);
    if (e->ndim < 0 || e->ndim > MTB_ST_MAX_NDIM)
        return bad_input(err, path, "tensor '%.200s': ndim %d out of range", name, e->ndim);
    uint64_t nbytes = dtype_table[e->dtype].size;
    json_t *shape = json_array();
    json_t *ent = json_object();
    json_t *offs = json_array();
    if (!shape || !ent || !offs) {
        json_decref(shape);
        json_decref(ent);
        json_decref(offs);
        return failure(err, path, "out of memory");
    }
    json_object_set_new(ent, "dtype", json_string(dtype_table[e->dtype].name));
    json_object_set_new(ent, "shape", shape);
    json_object_set_new(ent, "data_offsets", offs);
    if (json_object_set_new(root, name, ent) != 0)
        return bad_input(err, path, "tensor %d: name is not valid UTF-8", i);
    for (int d = 0; d < e->ndim; d++) {
        if (e->shape[d] < 0)
            return bad_input(err, path, "tensor '%.200s': negative dimension %lld", name,
                             (long long)e->shape[d]);
        if (__builtin_mul_overflow(nbytes, (uint64_t)e->shape[d], &nbytes))
            return bad_input(err, path, "tensor '%.200s': shape is too large", name);
        json_array_append_new(shape, json_integer((json_int_t)e->shape[d]));
    }
    if (nbytes > 0 && !e->data)
        return bad_input(err, path, "tensor '%.200s': no data", name);
    uint64_t end;
    if (__builtin_add_overflow(*offset, nbytes, &end) || end > (uint64_t)LLONG_MAX)
        return bad_input(err, path, "tensor '%.200s': data too large", name);
    json_array_append_new(offs, json_integer((json_int_t)*offset));
    json_array_append_new(offs, json_integer((json_int_t)end));
    *offset = end;
    return MTB_OK;
}

/* Builds the JSON header; returns MTB_OK and a malloc'd string. */
static int build_header(const char *path, const mtb_st_entry *tensors, int n,
                        const mtb_st_meta *meta, int n_meta, char **out, mtb_error *err)
{
    json_t *root = json_object();
    if (!root)
        return failure(err, path, "out of memory");
    int rc = n_meta > 0 ? add_metadata(root, path, meta, n_meta, err) : MTB_OK;
    uint64_t offset = 0;
    for (int i = 0; rc == MTB_OK && i < n; i++)
        rc = add_tensor_entry(root, path, &tensors[i], i, &offset, err);
    if (rc == MTB_OK) {
        *out = json_dumps(root, JSON_COMPACT);
        if (!*out)
            rc = failure(err, path, "out of memory");
    }
    json_decref(root);
    return rc;
}

static size_t entry_bytes(const mtb_st_entry *e)
{
    size_t nbytes = dtype_table[e->dtype].size;
    for (int d = 0; d < e->ndim; d++)
        nbytes *= (size_t)e->shape[d];
    return nbytes;
}

int mtb_st_write(const char *path, const mtb_st_entry *tensors, int n, const mtb_st_meta *meta,
                 int n_meta, mtb_error *err)
{
    if (n < 0 || n_meta < 0 || (n > 0 && !tensors) || (n_meta > 0 && !meta))
        return bad_input(err, path, "invalid tensor or metadata list");
    char *header = NULL;
    int rc = build_header(path, tensors, n, meta, n_meta, &header, err);
    if (rc)
        return rc;

    size_t hlen = strlen(header);
    size_t padded = (hlen + 7) & ~(size_t)7;
    char *hbuf = malloc(8 + padded);
    if (!hbuf) {
        free(header);
        return failure(err, path, "out of memory");
    }
    for (int i = 0; i < 8; i++)
        hbuf[i] = (char)(((uint64_t)padded >> (8 * i)) & 0xff);
    memcpy(hbuf + 8, header, hlen);
    memset(hbuf + 8 + hlen, ' ', padded - hlen);
    free(header);

    char tmp[PATH_MAX];
    int tl = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (tl < 0 || (size_t)tl >= sizeof tmp) {
        free(hbuf);
        return bad_input(err, path, "path is too long");
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        rc = failure(err, path, "cannot create %s: %s", tmp, strerror(errno));
        free(hbuf);
        return rc;
    }
    int ok = write_all(fd, hbuf, 8 + padded) == 0;
    for (int i = 0; ok && i < n; i++) {
        size_t nb = entry_bytes(&tensors[i]);
        if (nb > 0)
            ok = write_all(fd, tensors[i].data, nb) == 0;
    }
    free(hbuf);
    if (!ok) {
        rc = failure(err, path, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (fsync(fd) != 0) {
        rc = failure(err, path, "cannot sync %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (close(fd) != 0) {
        rc = failure(err, path, "cannot close %s: %s", tmp, strerror(errno));
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        rc = failure(err, path, "cannot rename %s over it: %s", tmp, strerror(errno));
        unlink(tmp);
        return rc;
    }
    char parent[PATH_MAX];
    mtb_path_parent(path, parent, sizeof parent);
    mtb_fsync_dir(parent); /* makes the rename durable */
    return MTB_OK;
}
