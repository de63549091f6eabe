/* safetensors reader and writer: round trips, dtype conversion, padding and
 * rejection of malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"


/* Writes a file whose 8-byte length field says hlen, followed by the JSON
 * text and data_len bytes of data (0, 1, 2, ...). */
static void write_st_hlen(const char *path, uint64_t hlen, const char *json, size_t data_len)
{
    size_t jl = strlen(json);
    size_t total = 8 + jl + data_len;
    unsigned char *buf = malloc(total);
    assert_non_null(buf);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, json, jl);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + jl + i] = (unsigned char)i;
    tu_write_bytes(path, buf, total);
    free(buf);
}

static void write_st_raw(const char *path, const char *json, size_t data_len)
{
    write_st_hlen(path, strlen(json), json, data_len);
}

/* Opens path expecting MTB_EINPUT with a message naming the file and each
 * non-NULL needle. */
static void expect_bad(const char *path, const char *needle1, const char *needle2)
{
    mtb_safetensors *st = (mtb_safetensors *)0x1;
    mtb_error err = {0};
    int rc = mtb_st_open(&st, path, &err);
    if (rc != MTB_EINPUT)
        fail_msg("%s: expected MTB_EINPUT, got %d (%s)", path, rc, err.msg);
    assert_null(st);
    assert_int_equal(err.code, MTB_EINPUT);
    if (!strstr(err.msg, path))
        fail_msg("message does not name the file: %s", err.msg);
    if (needle1 && !strstr(err.msg, needle1))
        fail_msg("message does not mention '%s': %s", needle1, err.msg);
    if (needle2 && !strstr(err.msg, needle2))
        fail_msg("message does not mention '%s': %s", needle2, err.msg);
}

/* ---- round trip ---- */

static void test_roundtrip(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "rt.safetensors");
    float a[6] = {1.0f, -2.5f, 3.14159274f, 0.0f, -0.0f, 1e-40f};
    float b[3] = {INFINITY, -INFINITY, 65504.0f};
    float c = 42.0f;
    float big[1000];
    for (int i = 0; i < 1000; i++)
        big[i] = sinf((float)i) * 1000.0f;
    mtb_st_entry e[] = {
        {.name = "layer.a.weight", .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "b", .dtype = MTB_ST_F32, .ndim = 1, .shape = {3}, .data = b},
        {.name = "scalar", .ndim = 0, .data = &c},
        {.name = "big/ü", .ndim = 3, .shape = {10, 10, 10}, .data = big},
        {.name = "empty", .ndim = 2, .shape = {0, 5}, .data = NULL},
    };
    mtb_st_meta meta[] = {{"format", "pt"}, {"note", "hello \"world\""}};
    mtb_error err = {0};
    assert_int_equal(mtb_st_write(path, e, 5, meta, 2, &err), MTB_OK);

    mtb_safetensors *st = NULL;
    int rc = mtb_st_open(&st, path, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_string_equal(mtb_st_path(st), path);
    assert_int_equal(mtb_st_count(st), 5);
    for (int i = 0; i < 5; i++) {
        const mtb_st_tensor *t = mtb_st_tensor_at(st, i);
        assert_non_null(t);
        assert_string_equal(t->name, e[i].name);
        assert_int_equal(t->dtype, MTB_ST_F32);
        assert_int_equal(t->ndim, e[i].ndim);
        size_t numel = 1;
        for (int d = 0; d < t->ndim; d++) {
            assert_int_equal(t->shape[d], e[i].shape[d]);
            numel *= (size_t)e[i].shape[d];
        }
        assert_int_equal(t->numel, numel);
        assert_int_equal(t->nbytes, numel * 4);
        assert_int_equal(t->end - t->begin, t->nbytes);
        assert_int_equal(mtb_st_find(st, e[i].name), i);
        assert_ptr_equal(mtb_st_get(st, e[i].name), t);
        if (numel) {
            assert_memory_equal(t->data, e[i].data, numel * 4);
            float *out = malloc(numel * sizeof *out);
            assert_non_null(out);
            assert_int_equal(mtb_st_read_f32(st, i, out, numel, &err), MTB_OK);
            assert_memory_equal(out, e[i].data, numel * 4);
            free(out);
        } else {
            assert_int_equal(mtb_st_read_f32(st, i, NULL, 0, &err), MTB_OK);
        }
    }
    /* contiguous, in the order given */
    size_t pos = 0;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(mtb_st_tensor_at(st, i)->begin, pos);
        pos = mtb_st_tensor_at(st, i)->end;
    }
    assert_null(mtb_st_tensor_at(st, 5));
    assert_null(mtb_st_tensor_at(st, -1));
    assert_int_equal(mtb_st_find(st, "nope"), -1);
    assert_int_equal(mtb_st_find(st, "layer.a"), -1);
    assert_null(mtb_st_get(st, "nope"));

    assert_int_equal(mtb_st_metadata_count(st), 2);
    const char *k, *v;
    mtb_st_metadata_at(st, 0, &k, &v);
    assert_string_equal(k, "format");
    assert_string_equal(v, "pt");
    mtb_st_metadata_at(st, 1, &k, &v);
    assert_string_equal(k, "note");
    assert_string_equal(v, "hello \"world\"");
    assert_string_equal(mtb_st_metadata_get(st, "format"), "pt");
    assert_null(mtb_st_metadata_get(st, "missing"));

    /* wrong buffer size */
    float tmp[5];
    rc = mtb_st_read_f32(st, 0, tmp, 5, &err);
    assert_int_equal(rc, MTB_EINPUT);
    assert_non_null(strstr(err.msg, "layer.a.weight"));
    mtb_st_close(st);

    /* the file size is exactly header + data */
    size_t len;
    unsigned char *raw = (unsigned char *)tu_read_file(path, &len);
    assert_non_null(raw);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | raw[i];
    assert_int_equal(len, 8 + hlen + pos);
    free(raw);
}

static void test_no_metadata_and_no_tensors(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "empty_list.safetensors");
    mtb_error err = {0};
    assert_int_equal(mtb_st_write(path, NULL, 0, NULL, 0, &err), MTB_OK);
    mtb_safetensors *st = NULL;
    assert_int_equal(mtb_st_open(&st, path, &err), MTB_OK);
    assert_int_equal(mtb_st_count(st), 0);
    assert_int_equal(mtb_st_metadata_count(st), 0);
    assert_int_equal(mtb_st_find(st, "x"), -1);
    mtb_st_close(st);
    mtb_st_close(NULL);
}

/* ---- dtype conversion ---- */

static void test_f16_conversion(void **state)
{
    (void)state;
    static const struct {
        uint16_t h;
        uint32_t f;
    } cases[] = {
        {0x3C00, 0x3F800000}, /* 1.0 */
        {0xC100, 0xC0200000}, /* -2.5 */
        {0x7BFF, 0x477FE000}, /* 65504, largest finite */
        {0x0001, 0x33800000}, /* 2^-24, smallest subnormal */
        {0x8001, 0xB3800000}, /* -2^-24 */
        {0x0200, 0x38000000}, /* 2^-15, subnormal */
        {0x03FF, 0x387FC000}, /* largest subnormal, 1023 * 2^-24 */
        {0x0400, 0x38800000}, /* 2^-14, smallest normal */
        {0x0000, 0x00000000}, /* +0 */
        {0x8000, 0x80000000}, /* -0 */
        {0x7C00, 0x7F800000}, /* inf */
        {0xFC00, 0xFF800000}, /* -inf */
        {0x7E00, 0x7FC00000}, /* quiet nan */
        {0xFE00, 0xFFC00000}, /* negative nan */
        {0x7C01, 0x7F802000}, /* signalling nan: payload kept */
        {0x3555, 0x3EAAA000}, /* 0.333251953125 */
        {0x3BFF, 0x3F7FE000}, /* 1 - 2^-11 */
    };
    const size_t n = sizeof cases / sizeof cases[0];
    uint16_t raw[sizeof cases / sizeof cases[0]];
    for (size_t i = 0; i < n; i++) {
        raw[i] = cases[i].h;
        uint32_t got = tu_bits_of(mtb_st_f16_to_f32(cases[i].h));
        if (got != cases[i].f)
            fail_msg("f16 0x%04x -> 0x%08x, expected 0x%08x", cases[i].h, got, cases[i].f);
    }
    assert_true(mtb_st_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    assert_true(mtb_st_f16_to_f32(0x03FF) == ldexpf(1023.0f, -24));
    assert_true(isnan(mtb_st_f16_to_f32(0x7E00)));
    assert_true(isinf(mtb_st_f16_to_f32(0x7C00)));

    /* Exhaustive: every finite half equals its value computed with ldexp. */
    for (uint32_t h = 0; h < 0x10000; h++) {
        uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
        float s = (h & 0x8000) ? -1.0f : 1.0f;
        if (e == 0x1f)
            continue;
        float want = e == 0 ? s * ldexpf((float)m, -24) : s * ldexpf((float)(1024 + m), (int)e - 25);
        if (tu_bits_of(mtb_st_f16_to_f32((uint16_t)h)) != tu_bits_of(want))
            fail_msg("f16 0x%04x", h);
    }

    /* through a file */
    char path[512];
    tu_temp_path(path, sizeof path, "f16.safetensors");
    mtb_st_entry e = {.name = "h", .dtype = MTB_ST_F16, .ndim = 1, .shape = {(int64_t)n}, .data = raw};
    mtb_error err = {0};
    assert_int_equal(mtb_st_write(path, &e, 1, NULL, 0, &err), MTB_OK);
    mtb_safetensors *st = NULL;
    assert_int_equal(mtb_st_open(&st, path, &err), MTB_OK);
    const mtb_st_tensor *t = mtb_st_tensor_at(st, 0);
    assert_int_equal(t->dtype, MTB_ST_F16);
    assert_int_equal(t->nbytes, 2 * n);
    float out[sizeof cases / sizeof cases[0]];
    assert_int_equal(mtb_st_read_f32(st, 0, out, n, &err), MTB_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tu_bits_of(out[i]), cases[i].f);
    mtb_st_close(st);
}

static void test_bf16_conversion(void **state)
{
    (void)state;
    static const struct {
        uint16_t b;
        uint32_t f;
    } cases[] = {
        {0x3F80, 0x3F800000}, /* 1.0 */
        {0xC020, 0xC0200000}, /* -2.5 */
        {0x7F7F, 0x7F7F0000}, /* largest finite */
        {0x0001, 0x00010000}, /* smallest subnormal, 2^-133 */
        {0x0080, 0x00800000}, /* smallest normal, 2^-126 */
        {0x8000, 0x80000000}, /* -0 */
        {0x7F80, 0x7F800000}, /* inf */
        {0xFF80, 0xFF800000}, /* -inf */
        {0x7FC0, 0x7FC00000}, /* nan */
        {0x3EAB, 0x3EAB0000}, /* 0.333984375 */
    };
    const size_t n = sizeof cases / sizeof cases[0];
    uint16_t raw[sizeof cases / sizeof cases[0]];
    for (size_t i = 0; i < n; i++) {
        raw[i] = cases[i].b;
        assert_int_equal(tu_bits_of(mtb_st_bf16_to_f32(cases[i].b)), cases[i].f);
    }
    assert_true(mtb_st_bf16_to_f32(0x0001) == ldexpf(1.0f, -133));
    assert_true(mtb_st_bf16_to_f32(0x3F80) == 1.0f);
    assert_true(isnan(mtb_st_bf16_to_f32(0x7FC0)));

    char path[512];
    tu_temp_path(path, sizeof path, "bf16.safetensors");
    mtb_st_entry e = {.name = "b", .dtype = MTB_ST_BF16, .ndim = 2, .shape = {2, (int64_t)n / 2},
                      .data = raw};
    mtb_error err = {0};
    assert_int_equal(mtb_st_write(path, &e, 1, NULL, 0, &err), MTB_OK);
    mtb_safetensors *st = NULL;
    assert_int_equal(mtb_st_open(&st, path, &err), MTB_OK);
    float out[sizeof cases / sizeof cases[0]];
    assert_int_equal(mtb_st_read_f32(st, 0, out, n, &err), MTB_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tu_bits_of(out[i]), cases[i].f);
    mtb_st_close(st);
}

static void test_f64_and_integer_dtypes(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "mixed.safetensors");
    double d[3] = {1.5, -2.5, 0.1};
    int64_t ids[4] = {0, 1, 2, 3};
    uint8_t mask[3] = {1, 0, 1};
    int32_t i32[2] = {-7, 7};
    mtb_st_entry e[] = {
        {.name = "d", .dtype = MTB_ST_F64, .ndim = 1, .shape = {3}, .data = d},
        {.name = "position_ids", .dtype = MTB_ST_I64, .ndim = 2, .shape = {1, 4}, .data = ids},
        {.name = "mask", .dtype = MTB_ST_BOOL, .ndim = 1, .shape = {3}, .data = mask},
        {.name = "i32", .dtype = MTB_ST_I32, .ndim = 1, .shape = {2}, .data = i32},
    };
    mtb_error err = {0};
    assert_int_equal(mtb_st_write(path, e, 4, NULL, 0, &err), MTB_OK);
    mtb_safetensors *st = NULL;
    assert_int_equal(mtb_st_open(&st, path, &err), MTB_OK);
    assert_int_equal(mtb_st_count(st), 4);
    assert_int_equal(mtb_st_get(st, "d")->dtype, MTB_ST_F64);
    assert_int_equal(mtb_st_get(st, "position_ids")->dtype, MTB_ST_I64);
    assert_int_equal(mtb_st_get(st, "position_ids")->nbytes, 32);
    assert_memory_equal(mtb_st_get(st, "position_ids")->data, ids, sizeof ids);
    assert_int_equal(mtb_st_get(st, "mask")->dtype, MTB_ST_BOOL);
    assert_int_equal(mtb_st_get(st, "i32")->dtype, MTB_ST_I32);

    float out[4];
    assert_int_equal(mtb_st_read_f32(st, mtb_st_find(st, "d"), out, 3, &err), MTB_OK);
    assert_true(out[0] == 1.5f && out[1] == -2.5f && out[2] == 0.1f);

    int rc = mtb_st_read_f32(st, mtb_st_find(st, "position_ids"), out, 4, &err);
    assert_int_equal(rc, MTB_EINPUT);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "position_ids"));
    assert_non_null(strstr(err.msg, "I64"));
    mtb_st_close(st);

    assert_string_equal(mtb_st_dtype_name(MTB_ST_BF16), "BF16");
    assert_int_equal(mtb_st_dtype_size(MTB_ST_F64), 8);
    assert_int_equal(mtb_st_dtype_size(MTB_ST_BOOL), 1);
    assert_int_equal(mtb_st_dtype_from_name("U8"), MTB_ST_U8);
    assert_int_equal(mtb_st_dtype_from_name("Q7"), -1);
    assert_true(mtb_st_dtype_is_float(MTB_ST_F16));
    assert_false(mtb_st_dtype_is_float(MTB_ST_I8));
}

/* ---- layout ---- */

static void test_header_padding(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "pad.safetensors");
    float v[3] = {1, 2, 3};
    for (int len = 1; len <= 17; len++) {
        char name[32];
        memset(name, 'x', (size_t)len);
        name[len] = '\0';
        mtb_st_entry e = {.name = name, .ndim = 1, .shape = {3}, .data = v};
        mtb_error err = {0};
        assert_int_equal(mtb_st_write(path, &e, 1, NULL, 0, &err), MTB_OK);
        size_t flen;
        unsigned char *raw = (unsigned char *)tu_read_file(path, &flen);
        assert_non_null(raw);
        uint64_t hlen = 0;
        for (int i = 7; i >= 0; i--)
            hlen = (hlen << 8) | raw[i];
        assert_int_equal(hlen % 8, 0);
        assert_int_equal((8 + hlen) % 8, 0);
        assert_int_equal(flen, 8 + hlen + sizeof v);
        /* the JSON ends with '}', then only spaces up to the data */
        size_t j = 8 + (size_t)hlen;
        while (j > 8 && raw[j - 1] == ' ')
            j--;
        assert_true(raw[j - 1] == '}');
        assert_true(8 + hlen - j < 8);
        assert_memory_equal(raw + 8 + hlen, v, sizeof v);
        free(raw);

        mtb_safetensors *st = NULL;
        assert_int_equal(mtb_st_open(&st, path, &err), MTB_OK);
        assert_int_equal(mtb_st_count(st), 1);
        mtb_st_close(st);
    }
}

static void test_writer_atomic(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "atomic.safetensors");
    float a[2] = {1, 2}, b[4] = {5, 6, 7, 8};
    mtb_st_entry e1 = {.name = "a", .ndim = 1, .shape = {2}, .data = a};
    mtb_st_entry e2 = {.name = "b", .ndim = 2, .shape = {2, 2}, .data = b};
    mtb_error err = {0};
    assert_int_equal(mtb_st_write(path, &e1, 1, NULL, 0, &err), MTB_OK);
    assert_int_equal(mtb_st_write(path, &e2, 1, NULL, 0, &err), MTB_OK);
    mtb_safetensors *st = NULL;
    assert_int_equal(mtb_st_open(&st, path, &err), MTB_OK);
    assert_int_equal(mtb_st_count(st), 1);
    assert_int_equal(mtb_st_find(st, "b"), 0);
    mtb_st_close(st);

    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    struct stat sb;
    assert_int_not_equal(stat(tmp, &sb), 0);

    /* unwritable destination: MTB_EFAIL, old file untouched */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.safetensors", tu_dir());
    assert_int_equal(mtb_st_write(bad, &e1, 1, NULL, 0, &err), MTB_EFAIL);
    assert_non_null(strstr(err.msg, bad));
}

static void test_writer_rejects_bad_entries(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "reject.safetensors");
    float a[2] = {1, 2};
    mtb_error err = {0};

    mtb_st_entry dup[] = {{.name = "w", .ndim = 1, .shape = {2}, .data = a},
                          {.name = "w", .ndim = 1, .shape = {2}, .data = a}};
    assert_int_equal(mtb_st_write(path, dup, 2, NULL, 0, &err), MTB_EINPUT);
    assert_non_null(strstr(err.msg, "'w'"));

    mtb_st_entry reserved = {.name = "__metadata__", .ndim = 1, .shape = {2}, .data = a};
    assert_int_equal(mtb_st_write(path, &reserved, 1, NULL, 0, &err), MTB_EINPUT);

    mtb_st_entry neg = {.name = "n", .ndim = 1, .shape = {-2}, .data = a};
    assert_int_equal(mtb_st_write(path, &neg, 1, NULL, 0, &err), MTB_EINPUT);
    assert_non_null(strstr(err.msg, "'n'"));

    mtb_st_entry nodata = {.name = "n", .ndim = 1, .shape = {2}, .data = NULL};
    assert_int_equal(mtb_st_write(path, &nodata, 1, NULL, 0, &err), MTB_EINPUT);

    mtb_st_entry baddt = {.name = "n", .dtype = (mtb_st_dtype)99, .ndim = 1, .shape = {2}, .data = a};
    assert_int_equal(mtb_st_write(path, &baddt, 1, NULL, 0, &err), MTB_EINPUT);

    mtb_st_entry ok = {.name = "n", .ndim = 1, .shape = {2}, .data = a};
    mtb_st_meta dmeta[] = {{"k", "1"}, {"k", "2"}};
    assert_int_equal(mtb_st_write(path, &ok, 1, dmeta, 2, &err), MTB_EINPUT);

    /* nothing was created */
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
}

/* ---- malformed files ---- */

static void test_bad_empty_file(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "empty.safetensors");
    tu_write_bytes(path, "", 0);
    expect_bad(path, "too short", NULL);
}

static void test_bad_truncated(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "short.safetensors");
    tu_write_bytes(path, "\x10\0\0\0\0", 5);
    expect_bad(path, "too short", NULL);
}

static void test_bad_header_length(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "hlen.safetensors");
    write_st_hlen(path, 1000, "{}", 4);
    expect_bad(path, "header length 1000", NULL);
    /* a length whose high bits are set must not wrap around */
    write_st_hlen(path, UINT64_MAX - 3, "{}", 4);
    expect_bad(path, "header length", NULL);
}

static void test_bad_json(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "json.safetensors");
    write_st_raw(path, "{\"w\": {\"dtype\": \"F32\", ", 0);
    expect_bad(path, "JSON", NULL);
    write_st_raw(path, "{\"w\": 1} trailing", 0);
    expect_bad(path, "JSON", NULL);
    write_st_raw(path, "", 0);
    expect_bad(path, "JSON", NULL);
    /* invalid UTF-8 */
    write_st_raw(path, "{\"\xff\xfe\": {}}", 0);
    expect_bad(path, "JSON", NULL);
}

static void test_bad_not_object(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "array.safetensors");
    write_st_raw(path, "[1, 2, 3]", 0);
    expect_bad(path, "not a JSON object", NULL);
    write_st_raw(path, "\"str\"", 0);
    expect_bad(path, "not a JSON object", NULL);
}

static void test_bad_entry_not_object(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "entry.safetensors");
    write_st_raw(path, "{\"wte\": [1, 2]}", 0);
    expect_bad(path, "'wte'", "not a JSON object");
}

static void test_bad_missing_keys(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "missing.safetensors");
    write_st_raw(path, "{\"emb.weight\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8);
    expect_bad(path, "'emb.weight'", "data_offsets");
    write_st_raw(path, "{\"emb.weight\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", 8);
    expect_bad(path, "'emb.weight'", "dtype");
    write_st_raw(path, "{\"emb.weight\": {\"dtype\": \"F32\", \"data_offsets\": [0, 8]}}", 8);
    expect_bad(path, "'emb.weight'", "shape");
}

static void test_bad_wrong_types(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "types.safetensors");
    write_st_raw(path, "{\"t\": {\"dtype\": 3, \"shape\": [2], \"data_offsets\": [0, 8]}}", 8);
    expect_bad(path, "'t'", "dtype");
    write_st_raw(path, "{\"t\": {\"dtype\": \"F32\", \"shape\": 2, \"data_offsets\": [0, 8]}}", 8);
    expect_bad(path, "'t'", "shape");
    write_st_raw(path, "{\"t\": {\"dtype\": \"F32\", \"shape\": [2.0], \"data_offsets\": [0, 8]}}",
                 8);
    expect_bad(path, "'t'", "shape");
    write_st_raw(path, "{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": \"0-8\"}}",
                 8);
    expect_bad(path, "'t'", "data_offsets");
    write_st_raw(path, "{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}", 8);
    expect_bad(path, "'t'", "data_offsets");
    write_st_raw(path, "{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}}",
                 8);
    expect_bad(path, "'t'", "data_offsets");
    write_st_raw(path, "{\"t\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8, 16]}}",
                 16);
    expect_bad(path, "'t'", "data_offsets");
}

static void test_bad_offsets_out_of_range(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "range.safetensors");
    write_st_raw(path, "{\"pooler.dense.bias\": {\"dtype\": \"F32\", \"shape\": [2], "
                       "\"data_offsets\": [0, 8]}}",
                 4);
    expect_bad(path, "'pooler.dense.bias'", "beyond the data section");
    write_st_raw(path, "{\"pooler.dense.bias\": {\"dtype\": \"F32\", \"shape\": [2], "
                       "\"data_offsets\": [18446744073709551608, 18446744073709551615]}}",
                 4);
    expect_bad(path, NULL, NULL);
}

static void test_bad_begin_after_end(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "order.safetensors");
    write_st_raw(path, "{\"q\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}",
                 16);
    expect_bad(path, "'q'", "begin after end");
}

static void test_bad_overlap(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "overlap.safetensors");
    write_st_raw(path,
                 "{\"k\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]},"
                 " \"j\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}",
                 12);
    expect_bad(path, "'j'", "'k'");
    /* identical ranges */
    write_st_raw(path,
                 "{\"k\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                 " \"j\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}",
                 8);
    expect_bad(path, "overlap", NULL);
    /* one range inside a longer one that is not its sort neighbour */
    write_st_raw(path,
                 "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                 " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]},"
                 " \"c\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}",
                 16);
    expect_bad(path, "overlap", "'a'");
}

static void test_gaps_and_empty_tensors_ok(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "gaps.safetensors");
    /* adjacent, a zero-size tensor between, and unused bytes at the end */
    write_st_raw(path,
                 "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                 " \"z\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 4]},"
                 " \"b\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [4, 8]}}",
                 12);
    mtb_safetensors *st = NULL;
    mtb_error err = {0};
    int rc = mtb_st_open(&st, path, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(mtb_st_count(st), 3);
    assert_string_equal(mtb_st_tensor_at(st, 1)->name, "z");
    assert_int_equal(mtb_st_tensor_at(st, 1)->numel, 0);
    mtb_st_close(st);
}

static void test_bad_size_mismatch(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "size.safetensors");
    write_st_raw(path, "{\"v\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}",
                 8);
    expect_bad(path, "'v'", "[3]");
    write_st_raw(path, "{\"v\": {\"dtype\": \"F16\", \"shape\": [2, 2], \"data_offsets\": [0, 16]}}",
                 16);
    expect_bad(path, "'v'", "[2, 2]");
}

static void test_bad_unknown_dtype(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "dtype.safetensors");
    write_st_raw(path, "{\"odd\": {\"dtype\": \"Q7\", \"shape\": [2], \"data_offsets\": [0, 2]}}",
                 2);
    expect_bad(path, "'odd'", "Q7");
}

static void test_bad_duplicate_name(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "dup.safetensors");
    write_st_raw(path,
                 "{\"twice\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},\n"
                 " \"twice\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
                 8);
    expect_bad(path, "'twice'", "duplicate");
}

static void test_bad_negative_dim(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "neg.safetensors");
    write_st_raw(path, "{\"neg\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}",
                 8);
    expect_bad(path, "'neg'", "negative");
}

static void test_bad_shape_overflow(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "huge.safetensors");
    write_st_raw(path,
                 "{\"huge\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, "
                 "4611686018427387904], \"data_offsets\": [0, 0]}}",
                 8);
    expect_bad(path, "'huge'", "too large");
    /* product wraps to exactly zero bytes in 64 bits: must still be rejected */
    write_st_raw(path,
                 "{\"huge\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], "
                 "\"data_offsets\": [0, 0]}}",
                 8);
    expect_bad(path, "'huge'", NULL);
}

static void test_bad_metadata(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "meta.safetensors");
    write_st_raw(path, "{\"__metadata__\": {\"format\": 1}}", 0);
    expect_bad(path, "__metadata__", "format");
    write_st_raw(path, "{\"__metadata__\": [\"pt\"]}", 0);
    expect_bad(path, "__metadata__", NULL);
}

static void test_bad_not_found(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "does-not-exist.safetensors");
    expect_bad(path, "cannot open", NULL);
    expect_bad(tu_dir(), "not a regular file", NULL);
}

/* Every truncation and many single-byte corruptions of a valid file must
 * either open or fail with MTB_EINPUT, never crash (run under ASan). */
static void test_corruption_never_crashes(void **state)
{
    (void)state;
    char path[512], bad[512];
    tu_temp_path(path, sizeof path, "good.safetensors");
    tu_temp_path(bad, sizeof bad, "corrupt.safetensors");
    float a[4] = {1, 2, 3, 4};
    uint16_t h[2] = {0x3C00, 0x7C00};
    mtb_st_entry e[] = {{.name = "a", .ndim = 2, .shape = {2, 2}, .data = a},
                        {.name = "h", .dtype = MTB_ST_F16, .ndim = 1, .shape = {2}, .data = h}};
    mtb_st_meta meta = {"format", "pt"};
    mtb_error err = {0};
    assert_int_equal(mtb_st_write(path, e, 2, &meta, 1, &err), MTB_OK);
    size_t len;
    unsigned char *raw = (unsigned char *)tu_read_file(path, &len);
    assert_non_null(raw);
    for (size_t cut = 0; cut < len; cut++) {
        tu_write_bytes(bad, raw, cut);
        mtb_safetensors *st = NULL;
        int rc = mtb_st_open(&st, bad, &err);
        assert_int_equal(rc, MTB_EINPUT);
        assert_null(st);
    }
    static const unsigned char subst[] = {'0', '9', '-', '"', '{', '}', '[', ']', ',', ':',
                                          ' ', 'x', 0x00, 0xff, 0x80};
    unsigned char *copy = malloc(len);
    assert_non_null(copy);
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t s = 0; s < sizeof subst; s++) {
            if (raw[pos] == subst[s])
                continue;
            memcpy(copy, raw, len);
            copy[pos] = subst[s];
            tu_write_bytes(bad, copy, len);
            mtb_safetensors *st = NULL;
            int rc = mtb_st_open(&st, bad, &err);
            assert_true(rc == MTB_OK || rc == MTB_EINPUT);
            if (rc == MTB_OK) {
                for (int i = 0; i < mtb_st_count(st); i++) {
                    const mtb_st_tensor *t = mtb_st_tensor_at(st, i);
                    if (!mtb_st_dtype_is_float(t->dtype) || t->numel > 64)
                        continue;
                    float out[64];
                    assert_int_equal(mtb_st_read_f32(st, i, out, t->numel, &err), MTB_OK);
                }
                mtb_st_close(st);
            } else {
                assert_null(st);
            }
        }
    }
    free(copy);
    free(raw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_no_metadata_and_no_tensors),
        cmocka_unit_test(test_f16_conversion),
        cmocka_unit_test(test_bf16_conversion),
        cmocka_unit_test(test_f64_and_integer_dtypes),
        cmocka_unit_test(test_header_padding),
        cmocka_unit_test(test_writer_atomic),
        cmocka_unit_test(test_writer_rejects_bad_entries),
        cmocka_unit_test(test_bad_empty_file),
        cmocka_unit_test(test_bad_truncated),
        cmocka_unit_test(test_bad_header_length),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_not_object),
        cmocka_unit_test(test_bad_entry_not_object),
        cmocka_unit_test(test_bad_missing_keys),
        cmocka_unit_test(test_bad_wrong_types),
        cmocka_unit_test(test_bad_offsets_out_of_range),
        cmocka_unit_test(test_bad_begin_after_end),
        cmocka_unit_test(test_bad_overlap),
        cmocka_unit_test(test_gaps_and_empty_tensors_ok),
        cmocka_unit_test(test_bad_size_mismatch),
        cmocka_unit_test(test_bad_unknown_dtype),
        cmocka_unit_test(test_bad_duplicate_name),
        cmocka_unit_test(test_bad_negative_dim),
        cmocka_unit_test(test_bad_shape_overflow),
        cmocka_unit_test(test_bad_metadata),
        cmocka_unit_test(test_bad_not_found),
        cmocka_unit_test(test_corruption_never_crashes),
    };
    return cmocka_run_group_tests(tests, tu_temp_dir_setup, tu_temp_dir_teardown);
}
