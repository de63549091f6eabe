/* Parameter layout of the BERT encoder: one flat buffer, Hugging Face order. */
#include "mtbert/bert.h"
#include "mtbert/parallel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct layout_builder {
    mtb_bert *m;
    size_t offset;
    int n;
} layout_builder;

/* Records a tensor when m->info is allocated; otherwise only counts, so the
 * same walk both sizes and fills the table. */
static float *add_tensor(layout_builder *lb, float *base, int group, int rows, int cols,
                         const char *fmt, int layer)
{
    size_t numel = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
    size_t off = lb->offset;
    if (lb->m->info) {
        mtb_param_info *pi = &lb->m->info[lb->n];
        snprintf(pi->name, sizeof pi->name, fmt, layer);
        pi->offset = off;
        pi->numel = numel;
        pi->ndim = cols > 0 ? 2 : 1;
        pi->shape[0] = rows;
        pi->shape[1] = cols > 0 ? cols : 0;
        pi->group = group;
    }
    lb->n++;
    lb->offset += numel;
    return base ? base + off : NULL;
}

/* Walks every tensor in state-dict order.  base is params or grads (or NULL
 * while sizing); views receives the named pointers. */
static void walk_layout(mtb_bert *m, float *base, mtb_bert_tensors *views)
{
    const mtb_config *c = &m->cfg;
    const int H = c->hidden_size, I = c->intermediate_size;
    layout_builder lb = {m, 0, 0};
    mtb_bert_tensors v = {0};
    v.layers = views ? views->layers : NULL;

    v.wte = add_tensor(&lb, base, 0, c->vocab_size, H, "embeddings.word_embeddings.weight", 0);
    v.wpe = add_tensor(&lb, base, 0, c->max_position, H, "embeddings.position_embeddings.weight", 0);
    v.wtt = add_tensor(&lb, base, 0, c->type_vocab_size, H, "embeddings.token_type_embeddings.weight", 0);
    v.emb_ln_g = add_tensor(&lb, base, 0, H, 0, "embeddings.LayerNorm.weight", 0);
    v.emb_ln_b = add_tensor(&lb, base, 0, H, 0, "embeddings.LayerNorm.bias", 0);
    for (int l = 0; l < c->num_layers; l++) {
        mtb_layer_tensors lt;
        int g = l + 1;
        lt.q_w = add_tensor(&lb, base, g, H, H, "encoder.layer.%d.attention.self.query.weight", l);
        lt.q_b = add_tensor(&lb, base, g, H, 0, "encoder.layer.%d.attention.self.query.bias", l);
        lt.k_w = add_tensor(&lb, base, g, H, H, "encoder.layer.%d.attention.self.key.weight", l);
        lt.k_b = add_tensor(&lb, base, g, H, 0, "encoder.layer.%d.attention.self.key.bias", l);
        lt.v_w = add_tensor(&lb, base, g, H, H, "encoder.layer.%d.attention.self.value.weight", l);
        lt.v_b = add_tensor(&lb, base, g, H, 0, "encoder.layer.%d.attention.self.value.bias", l);
        lt.attn_out_w = add_tensor(&lb, base, g, H, H, "encoder.layer.%d.attention.output.dense.weight", l);
        lt.attn_out_b = add_tensor(&lb, base, g, H, 0, "encoder.layer.%d.attention.output.dense.bias", l);
        lt.attn_ln_g = add_tensor(&lb, base, g, H, 0, "encoder.layer.%d.attention.output.LayerNorm.weight", l);
        lt.attn_ln_b = add_tensor(&lb, base, g, H, 0, "encoder.layer.%d.attention.output.LayerNorm.bias", l);
        lt.inter_w = add_tensor(&lb, base, g, I, H, "encoder.layer.%d.intermediate.dense.weight", l);
        lt.inter_b = add_tensor(&lb, base, g, I, 0, "encoder.layer.%d.intermediate.dense.bias", l);
        lt.out_w = add_tensor(&lb, base, g, H, I, "encoder.layer.%d.output.dense.weight", l);
        lt.out_b = add_tensor(&lb, base, g, H, 0, "encoder.layer.%d.output.dense.bias", l);
        lt.out_ln_g = add_tensor(&lb, base, g, H, 0, "encoder.layer.%d.output.LayerNorm.weight", l);
        lt.out_ln_b = add_tensor(&lb, base, g, H, 0, "encoder.layer.%d.output.LayerNorm.bias", l);
        if (v.layers)
            v.layers[l] = lt;
    }
    v.pool_w = add_tensor(&lb, base, c->num_layers + 1, H, H, "pooler.dense.weight", 0);
    v.pool_b = add_tensor(&lb, base, c->num_layers + 1, H, 0, "pooler.dense.bias", 0);

    m->n_params = lb.offset;
    m->n_info = lb.n;
    if (views)
        *views = v;
}

int mtb_bert_init(mtb_bert *m, const mtb_config *cfg, mtb_error *err)
{
    memset(m, 0, sizeof *m);
    int rc = mtb_config_validate(cfg, "model config", err);
    if (rc)
        return rc;
    m->cfg = *cfg;
    walk_layout(m, NULL, NULL); /* sizes only */
    m->info = calloc((size_t)m->n_info, sizeof *m->info);
    m->n_groups = cfg->num_layers + 2;
    m->groups = calloc((size_t)m->n_groups, sizeof *m->groups);
    m->params = calloc(m->n_params, sizeof(float));
    m->grads = calloc(m->n_params, sizeof(float));
    m->p.layers = calloc((size_t)cfg->num_layers, sizeof(mtb_layer_tensors));
    m->g.layers = calloc((size_t)cfg->num_layers, sizeof(mtb_layer_tensors));
    if (!m->info || !m->groups || !m->params || !m->grads || !m->p.layers || !m->g.layers) {
        size_t n = m->n_params;
        mtb_bert_free(m);
        return mtb_error_set(err, MTB_EFAIL, "out of memory allocating a model of %zu parameters",
                             n);
    }
    walk_layout(m, m->params, &m->p);
    walk_layout(m, m->grads, &m->g);

    for (int gi = 0; gi < m->n_groups; gi++) {
        mtb_param_group *g = &m->groups[gi];
        if (gi == 0)
            snprintf(g->name, sizeof g->name, "embeddings");
        else if (gi == m->n_groups - 1)
            snprintf(g->name, sizeof g->name, "pooler");
        else
            snprintf(g->name, sizeof g->name, "layer.%d", gi - 1);
        g->offset = (size_t)-1;
    }
    for (int i = 0; i < m->n_info; i++) {
        mtb_param_group *g = &m->groups[m->info[i].group];
        if (g->offset == (size_t)-1)
            g->offset = m->info[i].offset;
        g->numel += m->info[i].numel;
    }
    return MTB_OK;
}

void mtb_bert_init_random(mtb_bert *m, mtb_rng *rng)
{
    const float std = m->cfg.initializer_range;
    for (int i = 0; i < m->n_info; i++) {
        const mtb_param_info *pi = &m->info[i];
        float *w = m->params + pi->offset;
        bool is_ln = strstr(pi->name, "LayerNorm") != NULL;
        if (pi->ndim == 2) {
            for (size_t j = 0; j < pi->numel; j++)
                w[j] = std * mtb_rng_normal(rng);
        } else {
            float fill = is_ln && strstr(pi->name, ".weight") ? 1.0f : 0.0f;
            for (size_t j = 0; j < pi->numel; j++)
                w[j] = fill;
        }
    }
    /* BERT zeroes the padding token's embedding row. */
    if (m->cfg.pad_token_id >= 0 && m->cfg.pad_token_id < m->cfg.vocab_size)
        memset(m->p.wte + (size_t)m->cfg.pad_token_id * m->cfg.hidden_size, 0,
               sizeof(float) * (size_t)m->cfg.hidden_size);
}

void mtb_bert_free(mtb_bert *m)
{
    free(m->info);
    free(m->groups);
    free(m->params);
    free(m->grads);
    free(m->p.layers);
    free(m->g.layers);
    memset(m, 0, sizeof *m);
}

void mtb_bert_zero_grad(mtb_bert *m)
{
    mtb_zero_floats(m->grads, m->n_params);
}

const mtb_param_info *mtb_bert_find_param(const mtb_bert *m, const char *name)
{
    for (int i = 0; i < m->n_info; i++)
        if (strcmp(m->info[i].name, name) == 0)
            return &m->info[i];
    return NULL;
}

int mtb_bert_dense_spans(const mtb_bert *m, size_t *offset, size_t *numel, int cap)
{
    const size_t H = (size_t)m->cfg.hidden_size, I = (size_t)m->cfg.intermediate_size;
    if (cap < 6 * m->cfg.num_layers)
        return -1;
    int n = 0;
    for (int l = 0; l < m->cfg.num_layers; l++) {
        const mtb_layer_tensors *t = &m->p.layers[l];
        const float *w[6] = {t->q_w, t->k_w, t->v_w, t->attn_out_w, t->inter_w, t->out_w};
        const size_t len[6] = {H * H, H * H, H * H, H * H, I * H, H * I};
        for (int k = 0; k < 6; k++) {
            /* inserted in address order: the layout's order is its own business */
            const size_t off = (size_t)(w[k] - m->params);
            int at = n++;
            for (; at > 0 && offset[at - 1] > off; at--) {
                offset[at] = offset[at - 1];
                numel[at] = numel[at - 1];
            }
            offset[at] = off;
            numel[at] = len[k];
        }
    }
    return n;
}
