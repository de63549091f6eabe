/* Checkpoint weights (safetensors <-> mtb_bert) and config.json handling. */
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

#include "mtbert/bert.h"
#include "checkpoint.h"
#include "mtbert/config.h"
#include "safetensors.h"


static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void assert_msg_has(const mtb_error *err, const char *needle)
{
    if (!strstr(err->msg, needle))
        fail_msg("message does not mention \"%s\": %s", needle, err->msg);
}

/* float32 -> binary16, round to nearest, ties to even. */
static uint16_t f32_to_f16_rne(float f)
{
    uint32_t x = tu_bits_of(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffff;
    if (ax > 0x7f800000)
        return sign | 0x7e00; /* nan */
    if (ax == 0x7f800000)
        return sign | 0x7c00;
    int exp = (int)(ax >> 23);
    if (exp == 0)
        return sign; /* float32 subnormals are far below half's range */
    uint32_t m = (ax & 0x7fffff) | 0x800000; /* value = m * 2^(exp - 150) */
    int eh = exp - 127 + 15;                 /* half's biased exponent */
    if (eh >= 31)
        return sign | 0x7c00;
    int shift = eh >= 1 ? 13 : 13 + 1 - eh;
    uint32_t base = eh >= 1 ? (uint32_t)(eh - 1) << 10 : 0;
    if (shift > 25)
        return sign;
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1)))
        q++;
    uint32_t r = base + q; /* a carry out of the significand bumps the exponent */
    if (r >= 0x7c00)
        r = 0x7c00;
    return (uint16_t)(sign | r);
}

/* float32 -> bfloat16, round to nearest, ties to even. */
static uint16_t f32_to_bf16_rne(float f)
{
    uint32_t x = tu_bits_of(f);
    if ((x & 0x7fffffff) > 0x7f800000)
        return (uint16_t)((x >> 16) | 0x40);
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

static void small_config(mtb_config *cfg)
{
    mtb_config_default(cfg);
    cfg->vocab_size = 50;
    cfg->hidden_size = 16;
    cfg->num_layers = 2;
    cfg->num_heads = 2;
    cfg->intermediate_size = 24;
    cfg->max_position = 20;
}

static void init_model(mtb_bert *m)
{
    mtb_config cfg;
    small_config(&cfg);
    mtb_error err = {0};
    int rc = mtb_bert_init(m, &cfg, &err);
    if (rc)
        fail_msg("mtb_bert_init: %s", err.msg);
}

/* Distinct, sign-mixed values with a few special ones. */
static void fill_pattern(mtb_bert *m, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < m->n_params; i++) {
        s = s * 1664525u + 1013904223u;
        m->params[i] = ((float)(int32_t)s) * 1e-9f;
    }
    m->params[0] = -0.0f;
    m->params[1] = 1e-40f; /* subnormal */
    m->params[2] = 3.0e38f;
    m->params[m->n_params - 1] = -1.0f / 3.0f;
}

/* Writes a file holding the model's tensors under transformed names,
 * optionally dropping one parameter or replacing its entry. */
typedef struct {
    bool prefix;          /* "bert." */
    bool legacy_ln;       /* LayerNorm.gamma / beta */
    bool reverse;         /* write in reverse order */
    bool extras;          /* cls.predictions.bias (F32) and bert.embeddings.position_ids (I64) */
    const char *drop;     /* unprefixed name to leave out */
    const char *override; /* unprefixed name whose entry is replaced by *replacement */
    mtb_st_entry replacement;
} variant;

static void write_variant(const mtb_bert *m, const char *path, const variant *v)
{
    int cap = m->n_info + 2;
    mtb_st_entry *e = calloc((size_t)cap, sizeof *e);
    char(*names)[160] = calloc((size_t)cap, sizeof *names);
    float *cls_bias = calloc((size_t)m->cfg.vocab_size, sizeof(float));
    int64_t *pos_ids = calloc((size_t)m->cfg.max_position, sizeof(int64_t));
    assert_non_null(e);
    assert_non_null(names);
    assert_non_null(cls_bias);
    assert_non_null(pos_ids);
    for (int i = 0; i < m->cfg.max_position; i++)
        pos_ids[i] = i;
    for (int i = 0; i < m->cfg.vocab_size; i++)
        cls_bias[i] = (float)i;
    int n = 0;
    if (v->extras) {
        e[n] = (mtb_st_entry){.name = "bert.embeddings.position_ids", .dtype = MTB_ST_I64,
                              .ndim = 2, .shape = {1, m->cfg.max_position}, .data = pos_ids};
        n++;
    }
    for (int k = 0; k < m->n_info; k++) {
        int i = v->reverse ? m->n_info - 1 - k : k;
        const mtb_param_info *pi = &m->info[i];
        if (v->drop && strcmp(pi->name, v->drop) == 0)
            continue;
        char base[128];
        snprintf(base, sizeof base, "%s", pi->name);
        if (v->legacy_ln) {
            char *p = strstr(base, "LayerNorm.weight");
            if (p)
                strcpy(p, "LayerNorm.gamma");
            p = strstr(base, "LayerNorm.bias");
            if (p)
                strcpy(p, "LayerNorm.beta");
        }
        snprintf(names[n], sizeof names[n], "%s%s", v->prefix ? "bert." : "", base);
        if (v->override && strcmp(pi->name, v->override) == 0) {
            e[n] = v->replacement;
        } else {
            e[n].dtype = MTB_ST_F32;
            e[n].ndim = pi->ndim;
            e[n].shape[0] = pi->shape[0];
            e[n].shape[1] = pi->shape[1];
            e[n].data = m->params + pi->offset;
        }
        e[n].name = names[n];
        n++;
    }
    if (v->extras) {
        e[n] = (mtb_st_entry){.name = "cls.predictions.bias", .dtype = MTB_ST_F32, .ndim = 1,
                              .shape = {m->cfg.vocab_size}, .data = cls_bias};
        n++;
    }
    mtb_st_meta meta = {"format", "pt"};
    mtb_error err = {0};
    int rc = mtb_st_write(path, e, n, &meta, 1, &err);
    if (rc)
        fail_msg("write_variant: %s", err.msg);
    free(e);
    free(names);
    free(cls_bias);
    free(pos_ids);
}

/* ---- weights ---- */

static void test_save_load_roundtrip(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "model.safetensors");
    mtb_bert a, b;
    init_model(&a);
    init_model(&b);
    fill_pattern(&a, 1);
    mtb_error err = {0};
    int rc = mtb_checkpoint_save_weights(&a, path, &err);
    if (rc)
        fail_msg("%s", err.msg);
    rc = mtb_checkpoint_load_weights(&b, path, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(a.n_params, b.n_params);
    assert_memory_equal(a.params, b.params, a.n_params * sizeof(float));

    /* Saving over an existing file replaces it. */
    fill_pattern(&a, 2);
    assert_int_equal(mtb_checkpoint_save_weights(&a, path, &err), MTB_OK);
    assert_int_equal(mtb_checkpoint_load_weights(&b, path, &err), MTB_OK);
    assert_memory_equal(a.params, b.params, a.n_params * sizeof(float));
    mtb_bert_free(&a);
    mtb_bert_free(&b);
}

static void test_saved_file_layout(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "layout.safetensors");
    mtb_bert m;
    init_model(&m);
    fill_pattern(&m, 3);
    mtb_error err = {0};
    assert_int_equal(mtb_checkpoint_save_weights(&m, path, &err), MTB_OK);

    mtb_safetensors *st = NULL;
    int rc = mtb_st_open(&st, path, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(mtb_st_count(st), m.n_info);
    assert_int_equal(m.n_info, 5 + 16 * 2 + 2);
    size_t pos = 0;
    for (int i = 0; i < m.n_info; i++) {
        const mtb_st_tensor *t = mtb_st_tensor_at(st, i);
        const mtb_param_info *pi = &m.info[i];
        assert_string_equal(t->name, pi->name);
        assert_int_equal(t->dtype, MTB_ST_F32);
        assert_int_equal(t->ndim, pi->ndim);
        for (int d = 0; d < pi->ndim; d++)
            assert_int_equal(t->shape[d], pi->shape[d]);
        assert_int_equal(t->begin, pos);
        assert_int_equal(t->nbytes, pi->numel * sizeof(float));
        assert_memory_equal(t->data, m.params + pi->offset, t->nbytes);
        pos = t->end;
    }
    assert_int_equal(pos, m.n_params * sizeof(float));
    assert_string_equal(mtb_st_tensor_at(st, 0)->name, "embeddings.word_embeddings.weight");
    assert_int_equal(mtb_st_metadata_count(st), 1);
    assert_non_null(mtb_st_metadata_get(st, "format"));
    assert_string_equal(mtb_st_metadata_get(st, "format"), "pt");
    mtb_st_close(st);

    /* data section starts on an 8-byte boundary */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char hdr[8];
    assert_int_equal(fread(hdr, 1, 8, f), 8);
    fclose(f);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | hdr[i];
    assert_int_equal(hlen % 8, 0);
    mtb_bert_free(&m);
}

static void test_load_prefixed_legacy_extras(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "hf.safetensors");
    mtb_bert a, b;
    init_model(&a);
    init_model(&b);
    fill_pattern(&a, 4);
    variant v = {.prefix = true, .legacy_ln = true, .reverse = true, .extras = true};
    write_variant(&a, path, &v);

    /* the file really holds the unusual names */
    mtb_safetensors *st = NULL;
    mtb_error err = {0};
    assert_int_equal(mtb_st_open(&st, path, &err), MTB_OK);
    assert_true(mtb_st_find(st, "bert.embeddings.LayerNorm.gamma") >= 0);
    assert_true(mtb_st_find(st, "bert.encoder.layer.1.output.LayerNorm.beta") >= 0);
    assert_true(mtb_st_find(st, "embeddings.LayerNorm.weight") < 0);
    assert_int_equal(mtb_st_get(st, "bert.embeddings.position_ids")->dtype, MTB_ST_I64);
    mtb_st_close(st);

    int rc = mtb_checkpoint_load_weights(&b, path, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_memory_equal(a.params, b.params, a.n_params * sizeof(float));

    /* prefix only, modern LayerNorm names */
    variant v2 = {.prefix = true};
    write_variant(&a, path, &v2);
    memset(b.params, 0, b.n_params * sizeof(float));
    assert_int_equal(mtb_checkpoint_load_weights(&b, path, &err), MTB_OK);
    assert_memory_equal(a.params, b.params, a.n_params * sizeof(float));

    /* legacy names without prefix */
    variant v3 = {.legacy_ln = true, .extras = true};
    write_variant(&a, path, &v3);
    memset(b.params, 0, b.n_params * sizeof(float));
    assert_int_equal(mtb_checkpoint_load_weights(&b, path, &err), MTB_OK);
    assert_memory_equal(a.params, b.params, a.n_params * sizeof(float));
    mtb_bert_free(&a);
    mtb_bert_free(&b);
}

static void test_load_missing_tensor(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "missing.safetensors");
    mtb_bert a, b;
    init_model(&a);
    init_model(&b);
    fill_pattern(&a, 5);
    fill_pattern(&b, 6);
    float *before = malloc(b.n_params * sizeof(float));
    assert_non_null(before);
    memcpy(before, b.params, b.n_params * sizeof(float));

    variant v = {.prefix = true, .drop = "encoder.layer.1.output.dense.bias"};
    write_variant(&a, path, &v);
    mtb_error err = {0};
    assert_int_equal(mtb_checkpoint_load_weights(&b, path, &err), MTB_EINPUT);
    assert_int_equal(err.code, MTB_EINPUT);
    assert_msg_has(&err, path);
    assert_msg_has(&err, "'encoder.layer.1.output.dense.bias'");
    /* nothing was overwritten */
    assert_memory_equal(before, b.params, b.n_params * sizeof(float));

    variant v2 = {.drop = "embeddings.LayerNorm.weight"};
    write_variant(&a, path, &v2);
    assert_int_equal(mtb_checkpoint_load_weights(&b, path, &err), MTB_EINPUT);
    assert_msg_has(&err, "'embeddings.LayerNorm.weight'");

    /* a file that does not exist */
    char nopath[512];
    tu_temp_path(nopath, sizeof nopath, "nope.safetensors");
    assert_int_equal(mtb_checkpoint_load_weights(&b, nopath, &err), MTB_EINPUT);
    assert_msg_has(&err, nopath);
    free(before);
    mtb_bert_free(&a);
    mtb_bert_free(&b);
}

static void test_load_wrong_shape(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "shape.safetensors");
    mtb_bert a, b;
    init_model(&a);
    init_model(&b);
    fill_pattern(&a, 7);
    float wrong[16 * 8] = {0};
    variant v = {.prefix = true,
                 .override = "encoder.layer.0.attention.self.query.weight",
                 .replacement = {.dtype = MTB_ST_F32, .ndim = 2, .shape = {16, 8}, .data = wrong}};
    write_variant(&a, path, &v);
    mtb_error err = {0};
    assert_int_equal(mtb_checkpoint_load_weights(&b, path, &err), MTB_EINPUT);
    assert_msg_has(&err, path);
    assert_msg_has(&err, "tensor 'bert.encoder.layer.0.attention.self.query.weight' has shape "
                         "[16, 8], expected [16, 16]");

    /* same element count, different rank */
    float flat[16];
    variant v2 = {.override = "pooler.dense.bias",
                  .replacement = {.dtype = MTB_ST_F32, .ndim = 2, .shape = {1, 16}, .data = flat}};
    memset(flat, 0, sizeof flat);
    write_variant(&a, path, &v2);
    assert_int_equal(mtb_checkpoint_load_weights(&b, path, &err), MTB_EINPUT);
    assert_msg_has(&err, "'pooler.dense.bias' has shape [1, 16], expected [16]");
    mtb_bert_free(&a);
    mtb_bert_free(&b);
}

static void test_load_non_float_dtype(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "dtype.safetensors");
    mtb_bert a, b;
    init_model(&a);
    init_model(&b);
    int32_t ints[16] = {0};
    variant v = {.prefix = true,
                 .override = "pooler.dense.bias",
                 .replacement = {.dtype = MTB_ST_I32, .ndim = 1, .shape = {16}, .data = ints}};
    write_variant(&a, path, &v);
    mtb_error err = {0};
    assert_int_equal(mtb_checkpoint_load_weights(&b, path, &err), MTB_EINPUT);
    assert_msg_has(&err, path);
    assert_msg_has(&err, "'bert.pooler.dense.bias'");
    assert_msg_has(&err, "I32");
    mtb_bert_free(&a);
    mtb_bert_free(&b);
}

static void test_load_corrupt_file(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "corrupt.safetensors");
    tu_write_text(path, "not a safetensors file at all");
    mtb_bert b;
    init_model(&b);
    mtb_error err = {0};
    assert_int_equal(mtb_checkpoint_load_weights(&b, path, &err), MTB_EINPUT);
    assert_msg_has(&err, path);
    mtb_bert_free(&b);
}

/* Half-precision files we write ourselves load as the rounded F32 values. */
static void test_load_half_precision(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "half.safetensors");
    mtb_bert a, b;
    init_model(&a);
    init_model(&b);
    fill_pattern(&a, 8);
    for (size_t i = 0; i < a.n_params; i++)
        a.params[i] *= 1e5f; /* spread over half's range, some overflow to inf */
    uint16_t *h = malloc(a.n_params * sizeof *h);
    assert_non_null(h);
    for (int pass = 0; pass < 2; pass++) {
        mtb_st_dtype dt = pass == 0 ? MTB_ST_F16 : MTB_ST_BF16;
        for (size_t i = 0; i < a.n_params; i++)
            h[i] = dt == MTB_ST_F16 ? f32_to_f16_rne(a.params[i]) : f32_to_bf16_rne(a.params[i]);
        mtb_st_entry *e = calloc((size_t)a.n_info, sizeof *e);
        assert_non_null(e);
        for (int i = 0; i < a.n_info; i++) {
            e[i].name = a.info[i].name;
            e[i].dtype = dt;
            e[i].ndim = a.info[i].ndim;
            e[i].shape[0] = a.info[i].shape[0];
            e[i].shape[1] = a.info[i].shape[1];
            e[i].data = h + a.info[i].offset;
        }
        mtb_error err = {0};
        assert_int_equal(mtb_st_write(path, e, a.n_info, NULL, 0, &err), MTB_OK);
        free(e);
        int rc = mtb_checkpoint_load_weights(&b, path, &err);
        if (rc)
            fail_msg("%s", err.msg);
        for (size_t i = 0; i < a.n_params; i++) {
            float want = dt == MTB_ST_F16 ? mtb_st_f16_to_f32(h[i]) : mtb_st_bf16_to_f32(h[i]);
            assert_int_equal(tu_bits_of(b.params[i]), tu_bits_of(want));
        }
    }
    free(h);
    mtb_bert_free(&a);
    mtb_bert_free(&b);
}

/* The test's own rounding helpers against known values. */
static void test_rounding_helpers(void **state)
{
    (void)state;
    assert_int_equal(f32_to_f16_rne(1.0f), 0x3C00);
    assert_int_equal(f32_to_f16_rne(-2.5f), 0xC100);
    assert_int_equal(f32_to_f16_rne(65504.0f), 0x7BFF);
    assert_int_equal(f32_to_f16_rne(65519.0f), 0x7BFF);
    assert_int_equal(f32_to_f16_rne(65520.0f), 0x7C00); /* ties to even: overflow */
    assert_int_equal(f32_to_f16_rne(ldexpf(1.0f, -24)), 0x0001);
    assert_int_equal(f32_to_f16_rne(ldexpf(1.0f, -25)), 0x0000); /* tie to even zero */
    assert_int_equal(f32_to_f16_rne(ldexpf(1.5f, -25)), 0x0001);
    assert_int_equal(f32_to_f16_rne(ldexpf(3.0f, -25)), 0x0002); /* 1.5 units: tie to 2 */
    assert_int_equal(f32_to_f16_rne(ldexpf(1023.5f, -24)), 0x0400); /* to smallest normal */
    assert_int_equal(f32_to_f16_rne(1.0f + ldexpf(1.0f, -11)), 0x3C00);          /* tie, even */
    assert_int_equal(f32_to_f16_rne(1.0f + 3 * ldexpf(1.0f, -11)), 0x3C02);      /* tie, up */
    assert_int_equal(f32_to_f16_rne(-INFINITY), 0xFC00);
    assert_true(isnan(mtb_st_f16_to_f32(f32_to_f16_rne(NAN))));
    assert_int_equal(f32_to_bf16_rne(1.0f), 0x3F80);
    assert_int_equal(f32_to_bf16_rne(tu_float_of_bits(0x3F808000)), 0x3F80); /* tie, even */
    assert_int_equal(f32_to_bf16_rne(tu_float_of_bits(0x3F818000)), 0x3F82); /* tie, up */
    assert_int_equal(f32_to_bf16_rne(tu_float_of_bits(0x3F808001)), 0x3F81);
    assert_int_equal(f32_to_bf16_rne(tu_float_of_bits(0x7F7FFFFF)), 0x7F80); /* overflow */
    /* every float16 value maps back to itself */
    for (uint32_t u = 0; u < 0x10000; u++) {
        if ((u & 0x7c00) == 0x7c00 && (u & 0x3ff))
            continue;
        assert_int_equal(f32_to_f16_rne(mtb_st_f16_to_f32((uint16_t)u)), u);
    }
}

/* ---- fixtures produced by PyTorch (skipped when absent) ---- */

static int load_fixture_model(mtb_bert *m, const char *weights_rel)
{
    const char *cfg_path = tu_fixture("tiny-bert/config.json"), *w_path = tu_fixture(weights_rel);
    if (!file_exists(cfg_path) || !file_exists(w_path))
        return -1;
    mtb_config cfg;
    mtb_error err = {0};
    int rc = mtb_config_load_json(&cfg, cfg_path, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(cfg.hidden_size, 32);
    assert_int_equal(cfg.num_layers, 2);
    assert_int_equal(cfg.num_heads, 4);
    assert_int_equal(cfg.intermediate_size, 48);
    assert_int_equal(cfg.max_position, 40);
    rc = mtb_bert_init(m, &cfg, &err);
    if (rc)
        fail_msg("%s", err.msg);
    rc = mtb_checkpoint_load_weights(m, w_path, &err);
    if (rc)
        fail_msg("%s", err.msg);
    return 0;
}

static void test_fixture_f32(void **state)
{
    (void)state;
    mtb_bert m;
    if (load_fixture_model(&m, "tiny-bert/model.safetensors") != 0) {
        skip();
        return;
    }
    /* every parameter equals the file's bytes (under either naming) */
    const char *w_path = tu_fixture("tiny-bert/model.safetensors");
    mtb_safetensors *st = NULL;
    mtb_error err = {0};
    assert_int_equal(mtb_st_open(&st, w_path, &err), MTB_OK);
    int nonzero = 0;
    for (int i = 0; i < m.n_info; i++) {
        const mtb_param_info *pi = &m.info[i];
        char name[160];
        snprintf(name, sizeof name, "bert.%s", pi->name);
        const mtb_st_tensor *t = mtb_st_get(st, name);
        if (!t)
            t = mtb_st_get(st, pi->name);
        assert_non_null(t);
        assert_int_equal(t->dtype, MTB_ST_F32);
        assert_memory_equal(t->data, m.params + pi->offset, pi->numel * sizeof(float));
        for (size_t j = 0; j < pi->numel; j++) {
            assert_true(isfinite(m.params[pi->offset + j]));
            nonzero += m.params[pi->offset + j] != 0.0f;
        }
    }
    assert_true(nonzero > (int)(m.n_params / 2));
    mtb_st_close(st);
    mtb_bert_free(&m);
}

static void check_reduced_fixture(const char *rel, bool bf16)
{
    mtb_bert ref, m;
    if (load_fixture_model(&ref, "tiny-bert/model.safetensors") != 0) {
        skip();
        return;
    }
    if (load_fixture_model(&m, rel) != 0) {
        mtb_bert_free(&ref);
        skip();
        return;
    }
    for (int i = 0; i < m.n_info; i++) {
        const mtb_param_info *pi = &m.info[i];
        for (size_t j = 0; j < pi->numel; j++) {
            float r = ref.params[pi->offset + j];
            float want = bf16 ? mtb_st_bf16_to_f32(f32_to_bf16_rne(r))
                              : mtb_st_f16_to_f32(f32_to_f16_rne(r));
            float got = m.params[pi->offset + j];
            if (tu_bits_of(got) != tu_bits_of(want))
                fail_msg("%s: %s[%zu]: got %a, expected %a (f32 %a)", rel, pi->name, j,
                         (double)got, (double)want, (double)r);
        }
    }
    mtb_bert_free(&ref);
    mtb_bert_free(&m);
}

static void test_fixture_f16(void **state)
{
    (void)state;
    check_reduced_fixture("tiny-bert-f16.safetensors", false);
}

static void test_fixture_bf16(void **state)
{
    (void)state;
    check_reduced_fixture("tiny-bert-bf16.safetensors", true);
}

/* ---- config ---- */

static const char *valid_config_json =
    "{\n"
    "  \"architectures\": [\"BertForMaskedLM\"],\n"
    "  \"attention_probs_dropout_prob\": 0.15,\n"
    "  \"classifier_dropout\": null,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.2,\n"
    "  \"hidden_size\": 64,\n"
    "  \"initializer_range\": 0.05,\n"
    "  \"intermediate_size\": 256,\n"
    "  \"layer_norm_eps\": 1e-07,\n"
    "  \"max_position_embeddings\": 128,\n"
    "  \"model_type\": \"bert\",\n"
    "  \"num_attention_heads\": 4,\n"
    "  \"num_hidden_layers\": 3,\n"
    "  \"pad_token_id\": 1,\n"
    "  \"position_embedding_type\": \"absolute\",\n"
    "  \"torch_dtype\": \"float32\",\n"
    "  \"transformers_version\": \"4.40.0\",\n"
    "  \"type_vocab_size\": 3,\n"
    "  \"use_cache\": true,\n"
    "  \"vocab_size\": 1000\n"
    "}\n";

static void test_config_default_validate(void **state)
{
    (void)state;
    mtb_config c;
    mtb_config_default(&c);
    assert_int_equal(c.vocab_size, 30522);
    assert_int_equal(c.hidden_size, 768);
    assert_int_equal(c.num_layers, 12);
    assert_int_equal(c.num_heads, 12);
    assert_int_equal(c.intermediate_size, 3072);
    assert_int_equal(c.max_position, 512);
    assert_int_equal(c.type_vocab_size, 2);
    assert_int_equal(c.pad_token_id, 0);
    assert_true(c.layer_norm_eps == 1e-12f);
    assert_true(c.hidden_dropout == 0.1f && c.attention_dropout == 0.1f);
    assert_true(c.initializer_range == 0.02f);
    mtb_error err = {0};
    assert_int_equal(mtb_config_validate(&c, "origin", &err), MTB_OK);

    mtb_config bad = c;
    bad.num_heads = 5;
    assert_int_equal(mtb_config_validate(&bad, "my-origin", &err), MTB_EINPUT);
    assert_msg_has(&err, "my-origin: ");
    assert_msg_has(&err, "num_attention_heads");
    bad = c;
    bad.vocab_size = 0;
    assert_int_equal(mtb_config_validate(&bad, "o", &err), MTB_EINPUT);
    assert_msg_has(&err, "vocab_size");
    bad = c;
    bad.num_layers = -1;
    assert_int_equal(mtb_config_validate(&bad, "o", &err), MTB_EINPUT);
    assert_msg_has(&err, "num_hidden_layers");
    bad = c;
    bad.hidden_dropout = 1.0f;
    assert_int_equal(mtb_config_validate(&bad, "o", &err), MTB_EINPUT);
    assert_msg_has(&err, "hidden_dropout_prob");
    bad = c;
    bad.attention_dropout = -0.1f;
    assert_int_equal(mtb_config_validate(&bad, "o", &err), MTB_EINPUT);
    assert_msg_has(&err, "attention_probs_dropout_prob");
    bad = c;
    bad.attention_dropout = NAN;
    assert_int_equal(mtb_config_validate(&bad, "o", &err), MTB_EINPUT);
    bad = c;
    bad.layer_norm_eps = 0.0f;
    assert_int_equal(mtb_config_validate(&bad, "o", &err), MTB_EINPUT);
    assert_msg_has(&err, "layer_norm_eps");
    bad = c;
    bad.pad_token_id = c.vocab_size;
    assert_int_equal(mtb_config_validate(&bad, "o", &err), MTB_EINPUT);
    assert_msg_has(&err, "pad_token_id");
    bad = c;
    bad.pad_token_id = -1;
    assert_int_equal(mtb_config_validate(&bad, "o", &err), MTB_EINPUT);
}

static void test_config_load_valid(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "config.json");
    tu_write_text(path, valid_config_json);
    mtb_config c;
    mtb_error err = {0};
    int rc = mtb_config_load_json(&c, path, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(c.vocab_size, 1000);
    assert_int_equal(c.hidden_size, 64);
    assert_int_equal(c.num_layers, 3);
    assert_int_equal(c.num_heads, 4);
    assert_int_equal(c.intermediate_size, 256);
    assert_int_equal(c.max_position, 128);
    assert_int_equal(c.type_vocab_size, 3);
    assert_int_equal(c.pad_token_id, 1);
    assert_true(c.layer_norm_eps == 1e-7f);
    assert_true(c.hidden_dropout == 0.2f);
    assert_true(c.attention_dropout == 0.15f);
    assert_true(c.initializer_range == 0.05f);

    /* optional keys absent: bert-base values */
    tu_write_text(path, "{\"vocab_size\": 100, \"hidden_size\": 8, \"num_hidden_layers\": 1,"
                     " \"num_attention_heads\": 2, \"intermediate_size\": 16,"
                     " \"max_position_embeddings\": 10, \"type_vocab_size\": 2}");
    assert_int_equal(mtb_config_load_json(&c, path, &err), MTB_OK);
    assert_int_equal(c.pad_token_id, 0);
    assert_true(c.layer_norm_eps == 1e-12f);
    assert_true(c.hidden_dropout == 0.1f && c.attention_dropout == 0.1f);
    assert_true(c.initializer_range == 0.02f);
}

/* Writes the valid config with one line replaced (or removed, if repl is
 * NULL) and expects MTB_EINPUT mentioning the path and needle. */
static void expect_config_error(const char *line_key, const char *repl, const char *needle)
{
    char path[512];
    tu_temp_path(path, sizeof path, "bad_config.json");
    char text[4096] = "";
    const char *p = valid_config_json;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        if (strstr(line, line_key)) {
            if (repl)
                strcat(text, repl);
        } else {
            strcat(text, line);
        }
        p += len;
    }
    tu_write_text(path, text);
    mtb_config c;
    mtb_config_default(&c);
    c.hidden_size = 12345;
    mtb_error err = {0};
    int rc = mtb_config_load_json(&c, path, &err);
    if (rc != MTB_EINPUT)
        fail_msg("replacing %s: expected MTB_EINPUT, got %d (%s)", line_key, rc, err.msg);
    assert_msg_has(&err, path);
    assert_msg_has(&err, needle);
    assert_int_equal(c.hidden_size, 12345); /* untouched on error */
}

static void test_config_missing_key(void **state)
{
    (void)state;
    expect_config_error("\"hidden_size\"", NULL, "'hidden_size'");
    expect_config_error("\"vocab_size\"", "  \"unused\": 1\n", "'vocab_size'");
    expect_config_error("\"num_hidden_layers\"", NULL, "'num_hidden_layers'");
}

static void test_config_wrong_type(void **state)
{
    (void)state;
    expect_config_error("\"hidden_size\"", "  \"hidden_size\": \"64\",\n",
                        "key 'hidden_size' must be a positive integer");
    expect_config_error("\"hidden_size\"", "  \"hidden_size\": 64.5,\n", "'hidden_size'");
    expect_config_error("\"hidden_size\"", "  \"hidden_size\": 0,\n", "'hidden_size'");
    expect_config_error("\"hidden_size\"", "  \"hidden_size\": 4294967360,\n", "'hidden_size'");
    expect_config_error("\"num_attention_heads\"", "  \"num_attention_heads\": -4,\n",
                        "'num_attention_heads'");
    expect_config_error("\"layer_norm_eps\"", "  \"layer_norm_eps\": \"small\",\n",
                        "'layer_norm_eps' must be a number");
    expect_config_error("\"hidden_dropout_prob\"", "  \"hidden_dropout_prob\": [0.1],\n",
                        "'hidden_dropout_prob'");
    expect_config_error("\"pad_token_id\"", "  \"pad_token_id\": true,\n", "'pad_token_id'");
    /* well-typed but inconsistent */
    expect_config_error("\"num_attention_heads\"", "  \"num_attention_heads\": 5,\n",
                        "divisible");
    expect_config_error("\"hidden_dropout_prob\"", "  \"hidden_dropout_prob\": 1.5,\n",
                        "hidden_dropout_prob");
    expect_config_error("\"pad_token_id\"", "  \"pad_token_id\": 1000,\n", "pad_token_id");
}

static void test_config_bad_strings(void **state)
{
    (void)state;
    expect_config_error("\"hidden_act\"", "  \"hidden_act\": \"relu\",\n", "'hidden_act'");
    expect_config_error("\"hidden_act\"", "  \"hidden_act\": 1,\n", "'hidden_act'");
    expect_config_error("\"position_embedding_type\"",
                        "  \"position_embedding_type\": \"relative_key\",\n",
                        "'position_embedding_type'");
}

static void test_config_syntax_error(void **state)
{
    (void)state;
    char path[512], want[600];
    tu_temp_path(path, sizeof path, "syntax.json");
    tu_write_text(path, "{\n  \"vocab_size\": 100,\n  \"hidden_size\": 8,,\n}\n");
    mtb_config c;
    mtb_error err = {0};
    assert_int_equal(mtb_config_load_json(&c, path, &err), MTB_EINPUT);
    snprintf(want, sizeof want, "%s:3:", path);
    assert_msg_has(&err, want);

    tu_write_text(path, "[1, 2]");
    assert_int_equal(mtb_config_load_json(&c, path, &err), MTB_EINPUT);
    assert_msg_has(&err, path);
    assert_msg_has(&err, "object");

    tu_write_text(path, "{\"vocab_size\": 1, \"vocab_size\": 2}");
    assert_int_equal(mtb_config_load_json(&c, path, &err), MTB_EINPUT);
    assert_msg_has(&err, path);

    tu_write_text(path, "");
    assert_int_equal(mtb_config_load_json(&c, path, &err), MTB_EINPUT);
    assert_msg_has(&err, path);

    tu_temp_path(path, sizeof path, "no-such-config.json");
    assert_int_equal(mtb_config_load_json(&c, path, &err), MTB_EINPUT);
    assert_msg_has(&err, path);
}

static void test_config_roundtrip(void **state)
{
    (void)state;
    char path[512];
    tu_temp_path(path, sizeof path, "saved_config.json");
    mtb_config a, b;
    mtb_error err = {0};

    /* defaults: the written text uses short decimals */
    mtb_config_default(&a);
    assert_int_equal(mtb_config_save_json(&a, path, &err), MTB_OK);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "\"model_type\": \"bert\""));
    assert_non_null(strstr(text, "\"BertModel\""));
    assert_non_null(strstr(text, "\"hidden_act\": \"gelu\""));
    assert_non_null(strstr(text, "\"position_embedding_type\": \"absolute\""));
    assert_non_null(strstr(text, "\"layer_norm_eps\": 1e-12"));
    assert_non_null(strstr(text, "\"hidden_dropout_prob\": 0.1,"));
    assert_non_null(strstr(text, "\"initializer_range\": 0.02,"));
    assert_non_null(strstr(text, "\"vocab_size\": 30522"));
    assert_true(n > 0 && text[n - 1] == '\n');
    memset(&b, 0, sizeof b);
    assert_int_equal(mtb_config_load_json(&b, path, &err), MTB_OK);
    assert_memory_equal(&a, &b, sizeof a);

    /* awkward values survive bit for bit */
    small_config(&a);
    a.layer_norm_eps = 1e-7f;
    a.hidden_dropout = 0.3f;
    a.attention_dropout = nextafterf(0.1f, 1.0f);
    a.initializer_range = 1.0f / 3.0f;
    a.pad_token_id = 7;
    a.type_vocab_size = 4;
    assert_int_equal(mtb_config_save_json(&a, path, &err), MTB_OK);
    memset(&b, 0, sizeof b);
    assert_int_equal(mtb_config_load_json(&b, path, &err), MTB_OK);
    assert_memory_equal(&a, &b, sizeof a);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_false(file_exists(tmp));

    /* an invalid config is not written */
    a.num_heads = 3;
    tu_temp_path(path, sizeof path, "invalid_config.json");
    assert_int_equal(mtb_config_save_json(&a, path, &err), MTB_EINPUT);
    assert_false(file_exists(path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_load_roundtrip),
        cmocka_unit_test(test_saved_file_layout),
        cmocka_unit_test(test_load_prefixed_legacy_extras),
        cmocka_unit_test(test_load_missing_tensor),
        cmocka_unit_test(test_load_wrong_shape),
        cmocka_unit_test(test_load_non_float_dtype),
        cmocka_unit_test(test_load_corrupt_file),
        cmocka_unit_test(test_load_half_precision),
        cmocka_unit_test(test_rounding_helpers),
        cmocka_unit_test(test_fixture_f32),
        cmocka_unit_test(test_fixture_f16),
        cmocka_unit_test(test_fixture_bf16),
        cmocka_unit_test(test_config_default_validate),
        cmocka_unit_test(test_config_load_valid),
        cmocka_unit_test(test_config_missing_key),
        cmocka_unit_test(test_config_wrong_type),
        cmocka_unit_test(test_config_bad_strings),
        cmocka_unit_test(test_config_syntax_error),
        cmocka_unit_test(test_config_roundtrip),
    };
    return cmocka_run_group_tests(tests, tu_temp_dir_setup, tu_temp_dir_teardown);
}
