/* BERT hyper-parameters: defaults, validation, Hugging Face config.json I/O. */
#include "mtbert/config.h"
#include "mtbert/file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mtb_config_default(mtb_config *cfg)
{
    cfg->vocab_size = 30522;
    cfg->hidden_size = 768;
    cfg->num_layers = 12;
    cfg->num_heads = 12;
    cfg->intermediate_size = 3072;
    cfg->max_position = 512;
    cfg->type_vocab_size = 2;
    cfg->pad_token_id = 0;
    cfg->layer_norm_eps = 1e-12f;
    cfg->hidden_dropout = 0.1f;
    cfg->attention_dropout = 0.1f;
    cfg->initializer_range = 0.02f;
}

int mtb_config_validate(const mtb_config *cfg, const char *origin, mtb_error *err)
{
    const struct {
        const char *key;
        int value, max;
    } sizes[] = {
        {"vocab_size", cfg->vocab_size, MTB_MAX_VOCAB_SIZE},
        {"hidden_size", cfg->hidden_size, MTB_MAX_HIDDEN_SIZE},
        {"num_hidden_layers", cfg->num_layers, MTB_MAX_LAYERS},
        {"num_attention_heads", cfg->num_heads, MTB_MAX_HIDDEN_SIZE},
        {"intermediate_size", cfg->intermediate_size, MTB_MAX_INTERMEDIATE_SIZE},
        {"max_position_embeddings", cfg->max_position, MTB_MAX_POSITIONS},
        {"type_vocab_size", cfg->type_vocab_size, MTB_MAX_TYPE_VOCAB_SIZE},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (sizes[i].value <= 0)
            return mtb_error_set(err, MTB_EINPUT, "%s: %s must be positive, got %d", origin,
                                 sizes[i].key, sizes[i].value);
        if (sizes[i].value > sizes[i].max)
            return mtb_error_set(err, MTB_EINPUT, "%s: %s %d is more than the %d mtbert "
                                 "supports", origin, sizes[i].key, sizes[i].value, sizes[i].max);
    }
    /* Embeddings, then per layer: Q, K, V, output (H x H + H each), two
     * LayerNorms, the FFN; then the pooler. */
    const double H = cfg->hidden_size, I = cfg->intermediate_size;
    const double params = (cfg->vocab_size + cfg->max_position + cfg->type_vocab_size + 2) * H +
                          cfg->num_layers * (4 * (H * H + H) + 4 * H + 2 * H * I + I + H) +
                          H * H + H;
    if (params > (double)MTB_MAX_PARAMETERS)
        return mtb_error_set(err, MTB_EINPUT, "%s: these sizes make %.0f parameters, more than "
                             "the %ld mtbert supports", origin, params, MTB_MAX_PARAMETERS);
    if (cfg->hidden_size % cfg->num_heads != 0)
        return mtb_error_set(err, MTB_EINPUT,
                             "%s: hidden_size (%d) must be divisible by num_attention_heads (%d)",
                             origin, cfg->hidden_size, cfg->num_heads);
    if (cfg->pad_token_id < 0 || cfg->pad_token_id >= cfg->vocab_size)
        return mtb_error_set(err, MTB_EINPUT, "%s: pad_token_id %d is outside [0, %d)", origin,
                             cfg->pad_token_id, cfg->vocab_size);
    if (!(cfg->layer_norm_eps > 0) || !isfinite(cfg->layer_norm_eps))
        return mtb_error_set(err, MTB_EINPUT, "%s: layer_norm_eps must be positive, got %g",
                             origin, (double)cfg->layer_norm_eps);
    if (!(cfg->hidden_dropout >= 0 && cfg->hidden_dropout < 1))
        return mtb_error_set(err, MTB_EINPUT, "%s: hidden_dropout_prob must be in [0, 1), got %g",
                             origin, (double)cfg->hidden_dropout);
    if (!(cfg->attention_dropout >= 0 && cfg->attention_dropout < 1))
        return mtb_error_set(err, MTB_EINPUT,
                             "%s: attention_probs_dropout_prob must be in [0, 1), got %g", origin,
                             (double)cfg->attention_dropout);
    if (cfg->type_vocab_size < 2)
        return mtb_error_set(err, MTB_EINPUT,
                             "%s: type_vocab_size must be at least 2 (paraphrase pairs use token "
                             "types 0 and 1), got %d",
                             origin, cfg->type_vocab_size);
    if (!(cfg->initializer_range >= 0) || !isfinite(cfg->initializer_range))
        return mtb_error_set(err, MTB_EINPUT,
                             "%s: initializer_range must be a non-negative number, got %g", origin,
                             (double)cfg->initializer_range);
    return MTB_OK;
}

/* Reads an integer key >= min into *out; an absent (or, if optional, null)
 * key leaves *out alone. */
static int get_int(const json_t *root, const char *path, const char *key, bool required,
                   int min, int *out, mtb_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        if (required)
            return mtb_error_set(err, MTB_EINPUT, "%s: missing required key '%s'", path, key);
        return MTB_OK;
    }
    if (json_is_null(v) && !required)
        return MTB_OK;
    const char *what = min > 0 ? "a positive integer" : "a non-negative integer";
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > INT_MAX)
        return mtb_error_set(err, MTB_EINPUT, "%s: key '%s' must be %s", path, key, what);
    *out = (int)json_integer_value(v);
    return MTB_OK;
}

static int get_float(const json_t *root, const char *path, const char *key, float *out,
                     mtb_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return MTB_OK;
    if (!json_is_number(v))
        return mtb_error_set(err, MTB_EINPUT, "%s: key '%s' must be a number", path, key);
    float f = (float)json_number_value(v);
    if (!isfinite(f))
        return mtb_error_set(err, MTB_EINPUT, "%s: key '%s' is out of range", path, key);
    *out = f;
    return MTB_OK;
}

static int check_string(const json_t *root, const char *path, const char *key,
                        const char *expected, mtb_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!v)
        return MTB_OK;
    if (!json_is_string(v))
        return mtb_error_set(err, MTB_EINPUT, "%s: key '%s' must be a string", path, key);
    if (strcmp(json_string_value(v), expected) != 0)
        return mtb_error_set(err, MTB_EINPUT,
                             "%s: key '%s' is \"%.100s\", but only \"%s\" is supported", path, key,
                             json_string_value(v), expected);
    return MTB_OK;
}

int mtb_config_load_json(mtb_config *cfg, const char *path, mtb_error *err)
{
    json_t *root = mtb_json_load_file(path, err);
    if (!root)
        return err ? err->code : MTB_EINPUT;
    int rc = MTB_OK;
    mtb_config c;
    mtb_config_default(&c);
    if (!json_is_object(root)) {
        rc = mtb_error_set(err, MTB_EINPUT, "%s: top level must be a JSON object", path);
        goto out;
    }
    if ((rc = get_int(root, path, "vocab_size", true, 1, &c.vocab_size, err)) ||
        (rc = get_int(root, path, "hidden_size", true, 1, &c.hidden_size, err)) ||
        (rc = get_int(root, path, "num_hidden_layers", true, 1, &c.num_layers, err)) ||
        (rc = get_int(root, path, "num_attention_heads", true, 1, &c.num_heads, err)) ||
        (rc = get_int(root, path, "intermediate_size", true, 1, &c.intermediate_size, err)) ||
        (rc = get_int(root, path, "max_position_embeddings", true, 1, &c.max_position, err)) ||
        (rc = get_int(root, path, "type_vocab_size", true, 1, &c.type_vocab_size, err)) ||
        (rc = get_int(root, path, "pad_token_id", false, 0, &c.pad_token_id, err)) ||
        (rc = get_float(root, path, "layer_norm_eps", &c.layer_norm_eps, err)) ||
        (rc = get_float(root, path, "hidden_dropout_prob", &c.hidden_dropout, err)) ||
        (rc = get_float(root, path, "attention_probs_dropout_prob", &c.attention_dropout, err)) ||
        (rc = get_float(root, path, "initializer_range", &c.initializer_range, err)) ||
        (rc = check_string(root, path, "hidden_act", "gelu", err)) ||
        (rc = check_string(root, path, "position_embedding_type", "absolute", err)))
        goto out;
    if ((rc = mtb_config_validate(&c, path, err)))
        goto out;
    *cfg = c;
out:
    json_decref(root);
    return rc;
}

/* The double nearest to the shortest decimal that reads back as f, so that
 * printing it with 9 significant digits (trailing zeros dropped) gives that
 * short decimal: 0.1f is written "0.1", not "0.100000001". */
static double short_double(float f)
{
    char buf[64];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        double d = strtod(buf, NULL);
        if (strtof(buf, NULL) == f && (float)d == f)
            return d;
    }
    return (double)f;
}


int mtb_config_save_json(const mtb_config *cfg, const char *path, mtb_error *err)
{
    int rc = mtb_config_validate(cfg, path, err);
    if (rc)
        return rc;
    json_t *root = json_pack(
        "{s:[s], s:f, s:s, s:f, s:i, s:f, s:i, s:f, s:i, s:s, s:i, s:i, s:i, s:s, s:i, s:i}",
        "architectures", "BertModel",
        "attention_probs_dropout_prob", short_double(cfg->attention_dropout),
        "hidden_act", "gelu",
        "hidden_dropout_prob", short_double(cfg->hidden_dropout),
        "hidden_size", cfg->hidden_size,
        "initializer_range", short_double(cfg->initializer_range),
        "intermediate_size", cfg->intermediate_size,
        "layer_norm_eps", short_double(cfg->layer_norm_eps),
        "max_position_embeddings", cfg->max_position,
        "model_type", "bert",
        "num_attention_heads", cfg->num_heads,
        "num_hidden_layers", cfg->num_layers,
        "pad_token_id", cfg->pad_token_id,
        "position_embedding_type", "absolute",
        "type_vocab_size", cfg->type_vocab_size,
        "vocab_size", cfg->vocab_size);
    if (!root)
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(9));
    json_decref(root);
    if (!text)
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    size_t len = strlen(text);
    char *with_nl = malloc(len + 2);
    if (!with_nl) {
        free(text);
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    }
    memcpy(with_nl, text, len);
    with_nl[len] = '\n';
    with_nl[len + 1] = '\0';
    free(text);
    rc = mtb_write_file_atomic(path, with_nl, len + 1, err);
    free(with_nl);
    return rc;
}

int mtb_config_named(const char *name, int vocab_size, mtb_config *cfg)
{
    static const struct {
        const char *name;
        int layers, hidden;
    } sizes[] = {{"tiny", 2, 128}, {"mini", 4, 256}, {"small", 4, 512}, {"medium", 8, 512},
                 {"base", 12, 768}};
    mtb_config_default(cfg);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        if (strcmp(sizes[i].name, name) == 0) {
            cfg->num_layers = sizes[i].layers;
            cfg->hidden_size = sizes[i].hidden;
            cfg->num_heads = sizes[i].hidden / 64;
            cfg->intermediate_size = 4 * sizes[i].hidden;
            cfg->vocab_size = vocab_size;
            return 0;
        }
    return -1;
}
