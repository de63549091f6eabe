/* Loading and saving BERT weights as safetensors. */
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "safetensors.h"

/* "[32, 16]" */
static void format_dims(char *buf, size_t cap, const int64_t *shape, int ndim)
{
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "",
                                (long long)shape[i]);
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
}

/* Replaces a trailing "LayerNorm.weight"/"LayerNorm.bias" with the legacy
 * TensorFlow-era "LayerNorm.gamma"/"LayerNorm.beta"; false if name has neither. */
static bool legacy_name(const char *name, char *out, size_t cap)
{
    static const struct {
        const char *from, *to;
    } map[] = {{"LayerNorm.weight", "LayerNorm.gamma"}, {"LayerNorm.bias", "LayerNorm.beta"}};
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t fl = strlen(map[i].from);
        if (len >= fl && strcmp(name + len - fl, map[i].from) == 0) {
            int w = snprintf(out, cap, "%.*s%s", (int)(len - fl), name, map[i].to);
            return w > 0 && (size_t)w < cap;
        }
    }
    return false;
}

/* Index of the tensor holding parameter `name`, or -1. */
static int find_param_tensor(const mtb_safetensors *st, const char *name)
{
    char legacy[MTB_PARAM_NAME_MAX + 16], buf[sizeof legacy + 8];
    int idx = mtb_st_find(st, name);
    if (idx >= 0)
        return idx;
    snprintf(buf, sizeof buf, "bert.%s", name);
    if ((idx = mtb_st_find(st, buf)) >= 0)
        return idx;
    if (legacy_name(name, legacy, sizeof legacy)) {
        if ((idx = mtb_st_find(st, legacy)) >= 0)
            return idx;
        snprintf(buf, sizeof buf, "bert.%s", legacy);
        if ((idx = mtb_st_find(st, buf)) >= 0)
            return idx;
    }
    return -1;
}

int mtb_checkpoint_load_weights(mtb_bert *m, const char *safetensors_path, mtb_error *err)
{
    mtb_safetensors *st = NULL;
    int rc = mtb_st_open(&st, safetensors_path, err);
    if (rc)
        return rc;
    int *which = calloc((size_t)(m->n_info > 0 ? m->n_info : 1), sizeof *which);
    if (!which) {
        mtb_st_close(st);
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", safetensors_path);
    }
    /* Resolve and check everything before touching the parameters. */
    for (int i = 0; i < m->n_info && !rc; i++) {
        const mtb_param_info *pi = &m->info[i];
        int idx = find_param_tensor(st, pi->name);
        if (idx < 0) {
            rc = mtb_error_set(err, MTB_EINPUT, "%s: missing tensor '%s' (also tried 'bert.%s')",
                               safetensors_path, pi->name, pi->name);
            break;
        }
        const mtb_st_tensor *t = mtb_st_tensor_at(st, idx);
        int64_t want[2] = {pi->shape[0], pi->shape[1]};
        bool same = t->ndim == pi->ndim;
        for (int d = 0; same && d < pi->ndim; d++)
            same = t->shape[d] == want[d];
        if (!same) {
            char got_s[256], want_s[64];
            format_dims(got_s, sizeof got_s, t->shape, t->ndim);
            format_dims(want_s, sizeof want_s, want, pi->ndim);
            rc = mtb_error_set(err, MTB_EINPUT, "%s: tensor '%.200s' has shape %s, expected %s",
                               safetensors_path, t->name, got_s, want_s);
            break;
        }
        if (!mtb_st_dtype_is_float(t->dtype)) {
            rc = mtb_error_set(err, MTB_EINPUT,
                               "%s: tensor '%.200s' has dtype %s, expected a floating-point type "
                               "(F32, F16, BF16 or F64)",
                               safetensors_path, t->name, mtb_st_dtype_name(t->dtype));
            break;
        }
        which[i] = idx;
    }
    for (int i = 0; i < m->n_info && !rc; i++) {
        const mtb_param_info *pi = &m->info[i];
        rc = mtb_st_read_f32(st, which[i], m->params + pi->offset, pi->numel, err);
    }
    free(which);
    mtb_st_close(st);
    return rc;
}

int mtb_checkpoint_save_weights(const mtb_bert *m, const char *path, mtb_error *err)
{
    mtb_st_entry *e = calloc((size_t)(m->n_info > 0 ? m->n_info : 1), sizeof *e);
    if (!e)
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    for (int i = 0; i < m->n_info; i++) {
        const mtb_param_info *pi = &m->info[i];
        e[i].name = pi->name;
        e[i].dtype = MTB_ST_F32;
        e[i].ndim = pi->ndim;
        for (int d = 0; d < pi->ndim; d++)
            e[i].shape[d] = pi->shape[d];
        e[i].data = m->params + pi->offset;
    }
    const mtb_st_meta meta[] = {{"format", "pt"}};
    int rc = mtb_st_write(path, e, m->n_info, meta, 1, err);
    free(e);
    return rc;
}
