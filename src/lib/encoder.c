/* BERT encoder forward and backward (post-LayerNorm, as the original). */
#include "mtbert/bert.h"
#include "mtbert/profile.h"
#include "ops.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Hands out consecutive 64-byte-aligned slices of one block; with base ==
 * NULL it only measures, so sizing and carving share one code path. */
typedef struct carver {
    char *base;
    size_t used;
} carver;

static void *carve(carver *c, size_t bytes)
{
    size_t off = (c->used + 63) & ~(size_t)63;
    c->used = off + bytes;
    return c->base ? c->base + off : NULL;
}

#define CARVE_F(c, n) ((float *)carve((c), sizeof(float) * (size_t)(n)))

static void carve_acts(mtb_bert_acts *a, const mtb_config *cfg, carver *c)
{
    const size_t B = (size_t)a->max_B, T = (size_t)a->max_T;
    const size_t H = (size_t)cfg->hidden_size, I = (size_t)cfg->intermediate_size;
    const size_t NH = (size_t)cfg->num_heads;
    const size_t BT = B * T, ATT = B * NH * T * T;
    const size_t BTH = BT * H, BTI = BT * I;
    const bool tr = a->for_training;

    a->ids = carve(c, sizeof(int) * BT);
    a->types = carve(c, sizeof(int) * BT);
    a->positions = carve(c, sizeof(int) * BT);
    a->lengths = carve(c, sizeof(int) * B);
    a->offsets = carve(c, sizeof(int) * (B + 1));
    a->emb_sum = CARVE_F(c, BTH);
    a->emb_ln = CARVE_F(c, BTH);
    a->emb_ln_mean = CARVE_F(c, BT);
    a->emb_ln_rstd = CARVE_F(c, BT);
    a->emb_drop = tr ? carve(c, BTH) : NULL;
    a->emb_out = tr ? CARVE_F(c, BTH) : a->emb_ln;
    for (int l = 0; l < a->n_layer_sets; l++) {
        mtb_layer_acts *la = &a->layers[l];
        la->q = CARVE_F(c, BTH);
        la->k = CARVE_F(c, BTH);
        la->v = CARVE_F(c, BTH);
        la->att = CARVE_F(c, ATT);
        la->att_keep = tr ? carve(c, ATT) : NULL;
        la->ctx = CARVE_F(c, BTH);
        la->attn_drop = tr ? carve(c, BTH) : NULL;
        la->attn_res = CARVE_F(c, BTH);
        la->attn_ln = CARVE_F(c, BTH);
        la->attn_ln_mean = CARVE_F(c, BT);
        la->attn_ln_rstd = CARVE_F(c, BT);
        la->inter = CARVE_F(c, BTI);
        la->inter_gelu = CARVE_F(c, BTI);
        la->ffn_drop = tr ? carve(c, BTH) : NULL;
        la->ffn_res = CARVE_F(c, BTH);
        la->out = CARVE_F(c, BTH);
        la->out_ln_mean = CARVE_F(c, BT);
        la->out_ln_rstd = CARVE_F(c, BT);
    }
    a->cls = CARVE_F(c, B * H);
    a->pooled = CARVE_F(c, B * H);
    if (tr) {
        a->d_x = CARVE_F(c, BTH);
        a->d_a = CARVE_F(c, BTH);
        a->d_b = CARVE_F(c, BTH);
        a->d_i1 = CARVE_F(c, BTI);
        a->d_i2 = CARVE_F(c, BTI);
        a->d_q = CARVE_F(c, BTH);
        a->d_k = CARVE_F(c, BTH);
        a->d_v = CARVE_F(c, BTH);
        a->d_att = CARVE_F(c, ATT);
        a->d_cls = CARVE_F(c, B * H);
        a->d_pool = CARVE_F(c, B * H);
    }
}

int mtb_bert_acts_init(mtb_bert_acts *a, const mtb_config *cfg, int max_B, int max_T,
                       bool for_training, mtb_error *err)
{
    memset(a, 0, sizeof *a);
    if (max_B <= 0 || max_T <= 0)
        return mtb_error_set(err, MTB_EINPUT, "batch shape %d x %d must be positive", max_B,
                             max_T);
    if (max_T > cfg->max_position)
        return mtb_error_set(err, MTB_EINPUT,
                             "sequence length %d exceeds the model's %d positions", max_T,
                             cfg->max_position);
    a->max_B = max_B;
    a->max_T = max_T;
    a->for_training = for_training;
    a->n_layer_sets = for_training ? cfg->num_layers : 1;
    a->layers = calloc((size_t)a->n_layer_sets, sizeof *a->layers);
    if (!a->layers)
        return mtb_error_set(err, MTB_EFAIL, "out of memory");

    carver sizing = {NULL, 0};
    carve_acts(a, cfg, &sizing);
    /* Mapped, not malloc'd: unmapping gives the memory back to the system
     * at once, where a freed heap block of this size would stay resident
     * (an evaluation's workspace, freed and made again at every
     * evaluation, grew the process by megabytes each time).  The kernel's
     * pages come zeroed and are only touched when a pass first uses them. */
    void *block = mmap(NULL, sizing.used, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
    if (block == MAP_FAILED) {
        free(a->layers);
        a->layers = NULL;
        return mtb_error_set(err, MTB_EFAIL,
                             "out of memory: activations for a %d x %d batch need %zu MiB", max_B,
                             max_T, sizing.used >> 20);
    }
    a->block = block;
    a->block_bytes = sizing.used;
    carver real = {a->block, 0};
    carve_acts(a, cfg, &real);
    return MTB_OK;
}

void mtb_bert_acts_free(mtb_bert_acts *a)
{
    if (a->block)
        munmap(a->block, a->block_bytes);
    free(a->layers);
    memset(a, 0, sizeof *a);
}

/* Packs the batch's real tokens back to back: ids, types and positions of
 * every token, and where each sequence starts.  Returns the token count. */
static int pack_batch(mtb_bert_acts *a, const mtb_batch *batch)
{
    const int B = batch->B, T = batch->T;
    int n = 0;
    for (int b = 0; b < B; b++) {
        int len = batch->lengths[b];
        len = len < 1 ? 1 : len > T ? T : len;
        a->lengths[b] = len;
        a->offsets[b] = n;
        const int *ids = batch->ids + (size_t)b * T, *types = batch->types + (size_t)b * T;
        for (int t = 0; t < len; t++, n++) {
            a->ids[n] = ids[t];
            a->types[n] = types[t];
            a->positions[n] = t;
        }
    }
    a->offsets[B] = n;
    return n;
}

void mtb_bert_forward(const mtb_bert *m, mtb_bert_acts *a, const mtb_batch *batch, bool dropout,
                      mtb_rng *rng)
{
    const mtb_config *c = &m->cfg;
    const int B = batch->B, H = c->hidden_size, I = c->intermediate_size;
    const int NH = c->num_heads;
    dropout = dropout && a->for_training;
    const float p_hid = dropout ? c->hidden_dropout : 0.0f;
    const float p_att = dropout ? c->attention_dropout : 0.0f;

    a->B = B;
    a->T = batch->T;
    a->dropout_on = dropout;
    const int N = a->N = pack_batch(a, batch);
    const size_t NxH = (size_t)N * H, NxI = (size_t)N * I;
    /* One seed per mask, drawn in a fixed order, so the masks depend on the
     * generator's state and the batch only. */
#define MASK_SEED() (dropout ? mtb_rng_next(rng) : 0)

    MTB_PROFILED(MTB_PROF_EMBED_FWD,
                 mtb_embeddings_forward(a->emb_sum, a->ids, a->types, a->positions, N, H,
                                        m->p.wte, m->p.wpe, m->p.wtt));
    MTB_PROFILED(MTB_PROF_LAYERNORM_FWD,
                 mtb_layernorm_forward(a->emb_ln, a->emb_ln_mean, a->emb_ln_rstd, a->emb_sum,
                                       m->p.emb_ln_g, m->p.emb_ln_b, N, H, c->layer_norm_eps));
    if (a->for_training)
        MTB_PROFILED(MTB_PROF_DROPOUT_FWD,
                     mtb_dropout_residual_forward(a->emb_out, dropout ? a->emb_drop : NULL,
                                                  a->emb_ln, NULL, NxH, p_hid, MASK_SEED()));

    float *x = a->emb_out;
    for (int l = 0; l < c->num_layers; l++) {
        const mtb_layer_tensors *w = &m->p.layers[l];
        mtb_layer_acts *la = &a->layers[a->for_training ? l : 0];
        /* Inference shares one buffer set: `in` aliases the previous layer's
         * `out`, which is only overwritten after the last read of `in`. */
        la->in = x;
        MTB_PROFILED(MTB_PROF_LINEAR_FWD, mtb_linear_forward(la->q, x, w->q_w, w->q_b, N, H, H));
        MTB_PROFILED(MTB_PROF_LINEAR_FWD, mtb_linear_forward(la->k, x, w->k_w, w->k_b, N, H, H));
        MTB_PROFILED(MTB_PROF_LINEAR_FWD, mtb_linear_forward(la->v, x, w->v_w, w->v_b, N, H, H));
        MTB_PROFILED(MTB_PROF_ATTENTION_FWD,
                     mtb_attention_forward(la->ctx, la->att, dropout ? la->att_keep : NULL,
                                           dropout ? a->d_att : NULL, la->q, la->k, la->v,
                                           a->offsets, B, H, NH, p_att, MASK_SEED()));
        MTB_PROFILED(MTB_PROF_LINEAR_FWD,
                     mtb_linear_forward(la->attn_res, la->ctx, w->attn_out_w, w->attn_out_b, N, H,
                                        H));
        MTB_PROFILED(MTB_PROF_DROPOUT_FWD,
                     mtb_dropout_residual_forward(la->attn_res, dropout ? la->attn_drop : NULL,
                                                  la->attn_res, x, NxH, p_hid, MASK_SEED()));
        MTB_PROFILED(MTB_PROF_LAYERNORM_FWD,
                     mtb_layernorm_forward(la->attn_ln, la->attn_ln_mean, la->attn_ln_rstd,
                                           la->attn_res, w->attn_ln_g, w->attn_ln_b, N, H,
                                           c->layer_norm_eps));
        MTB_PROFILED(MTB_PROF_LINEAR_FWD,
                     mtb_linear_forward(la->inter, la->attn_ln, w->inter_w, w->inter_b, N, H, I));
        MTB_PROFILED(MTB_PROF_GELU_FWD, mtb_gelu_forward(la->inter_gelu, la->inter, NxI));
        MTB_PROFILED(MTB_PROF_LINEAR_FWD,
                     mtb_linear_forward(la->ffn_res, la->inter_gelu, w->out_w, w->out_b, N, I,
                                        H));
        MTB_PROFILED(MTB_PROF_DROPOUT_FWD,
                     mtb_dropout_residual_forward(la->ffn_res, dropout ? la->ffn_drop : NULL,
                                                  la->ffn_res, la->attn_ln, NxH, p_hid,
                                                  MASK_SEED()));
        MTB_PROFILED(MTB_PROF_LAYERNORM_FWD,
                     mtb_layernorm_forward(la->out, la->out_ln_mean, la->out_ln_rstd, la->ffn_res,
                                           w->out_ln_g, w->out_ln_b, N, H, c->layer_norm_eps));
        x = la->out;
    }
#undef MASK_SEED
    a->hidden = x;

    for (int b = 0; b < B; b++)
        memcpy(a->cls + (size_t)b * H, x + (size_t)a->offsets[b] * H, sizeof(float) * (size_t)H);
    MTB_PROFILED(MTB_PROF_POOLER,
                 mtb_linear_forward(a->pooled, a->cls, m->p.pool_w, m->p.pool_b, B, H, H));
    MTB_PROFILED(MTB_PROF_POOLER, mtb_tanh_forward(a->pooled, a->pooled, (size_t)B * H));
}

static void zero(float *p, size_t n)
{
    memset(p, 0, sizeof(float) * n);
}

/* Where segment s's gradient of the parameter at `view` (a pointer into
 * m->grads through m->g) lives: the same offset in the segment's buffer. */
static float *seg_grad(const mtb_bert *m, const mtb_grad_segment *s, const float *view)
{
    return s->grads + (view - m->grads);
}

/* The rows of segment s in the packed activations. */
static void seg_rows(const mtb_bert_acts *a, const mtb_grad_segment *s, int *r0, int *rows)
{
    *r0 = a->offsets[s->first_seq];
    *rows = a->offsets[s->first_seq + s->n_seqs] - *r0;
}

/* A dense layer's backward: the input gradient over all rows at once, the
 * weight and bias gradients of each segment from its own rows. */
static void linear_backward_split(const mtb_bert *m, const mtb_bert_acts *a,
                                  const mtb_grad_segment *segs, int n_segs, float *din,
                                  const float *gw, const float *gb, const float *dout,
                                  const float *in, const float *w, int in_dim, int out_dim)
{
    MTB_PROFILED(MTB_PROF_LINEAR_BWD,
                 mtb_linear_backward(din, NULL, NULL, dout, in, w, a->N, in_dim, out_dim));
    for (int s = 0; s < n_segs; s++) {
        int r0, rows;
        seg_rows(a, &segs[s], &r0, &rows);
        const float *seg_dout = dout + (size_t)r0 * out_dim, *seg_in = in + (size_t)r0 * in_dim;
        MTB_PROFILED(MTB_PROF_LINEAR_BWD, {
            mtb_linear_weight_grad(seg_grad(m, &segs[s], gw), seg_dout, seg_in, rows, in_dim,
                                   out_dim, segs[s].overwrite_dense);
            mtb_linear_backward(NULL, NULL, seg_grad(m, &segs[s], gb), seg_dout, seg_in, w, rows,
                                in_dim, out_dim);
        });
    }
}

/* LayerNorm's backward, split the same way. */
static void layernorm_backward_split(const mtb_bert *m, const mtb_bert_acts *a,
                                     const mtb_grad_segment *segs, int n_segs, float *din,
                                     const float *gg, const float *gb, const float *dout,
                                     const float *in, const float *gamma, const float *mean,
                                     const float *rstd, int H)
{
    MTB_PROFILED(MTB_PROF_LAYERNORM_BWD,
                 mtb_layernorm_backward(din, NULL, NULL, dout, in, gamma, mean, rstd, a->N, H));
    for (int s = 0; s < n_segs; s++) {
        int r0, rows;
        seg_rows(a, &segs[s], &r0, &rows);
        MTB_PROFILED(MTB_PROF_LAYERNORM_BWD,
                     mtb_layernorm_backward(NULL, seg_grad(m, &segs[s], gg),
                                            seg_grad(m, &segs[s], gb), dout + (size_t)r0 * H,
                                            in + (size_t)r0 * H, gamma, mean + r0, rstd + r0,
                                            rows, H));
    }
}

void mtb_bert_backward(mtb_bert *m, mtb_bert_acts *a, const float *dhidden, const float *dpooled)
{
    const mtb_grad_segment all = {0, a->B, m->grads, false};
    mtb_bert_backward_split(m, a, dhidden, dpooled, &all, 1);
}

/* din = the gradient through a dropout whose output gradient is dout
 * (keep: its mask, used only when the forward pass dropped). */
static void dropout_backward(const mtb_bert_acts *a, float *din, const float *dout,
                             const uint8_t *keep, size_t n, float p)
{
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(din, n));
    MTB_PROFILED(MTB_PROF_DROPOUT_BWD,
                 mtb_dropout_mask_backward(din, dout, a->dropout_on ? keep : NULL, n, p));
}

/* The pooler's backward: its gradient per segment, and the [CLS] rows'
 * share added into dx. */
static void pooler_backward_split(mtb_bert *m, mtb_bert_acts *a, const float *dpooled,
                                  const mtb_grad_segment *segs, int n_segs, float *dx)
{
    const int B = a->B, H = m->cfg.hidden_size;
    const mtb_bert_tensors *p = &m->p, *g = &m->g;
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(a->d_pool, (size_t)B * H));
    MTB_PROFILED(MTB_PROF_POOLER,
                 mtb_tanh_backward(a->d_pool, dpooled, a->pooled, (size_t)B * H));
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(a->d_cls, (size_t)B * H));
    MTB_PROFILED(MTB_PROF_POOLER, mtb_linear_backward(a->d_cls, NULL, NULL, a->d_pool, a->cls,
                                                      p->pool_w, B, H, H));
    /* The pooler's rows are sequences, not tokens. */
    for (int s = 0; s < n_segs; s++) {
        const size_t b0 = (size_t)segs[s].first_seq * H;
        MTB_PROFILED(MTB_PROF_POOLER,
                     mtb_linear_backward(NULL, seg_grad(m, &segs[s], g->pool_w),
                                         seg_grad(m, &segs[s], g->pool_b), a->d_pool + b0,
                                         a->cls + b0, p->pool_w, segs[s].n_seqs, H, H));
    }
    for (int b = 0; b < B; b++) {
        float *row = dx + (size_t)a->offsets[b] * H;
        const float *src = a->d_cls + (size_t)b * H;
        for (int h = 0; h < H; h++)
            row[h] += src[h];
    }
}

/* Layer l's backward: dx holds the gradient of its output on entry and of
 * its input on return. */
static void layer_backward_split(mtb_bert *m, mtb_bert_acts *a, int l,
                                 const mtb_grad_segment *segs, int n_segs)
{
    const mtb_config *c = &m->cfg;
    const int B = a->B, N = a->N, H = c->hidden_size, I = c->intermediate_size;
    const int NH = c->num_heads;
    const size_t NxH = (size_t)N * H, NxI = (size_t)N * I;
    float *dx = a->d_x, *da = a->d_a, *db = a->d_b;
    const mtb_layer_tensors *w = &m->p.layers[l];
    const mtb_layer_tensors *gw = &m->g.layers[l];
    mtb_layer_acts *la = &a->layers[l];

    /* out = LN(ffn_res): da = d ffn_res */
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(da, NxH));
    layernorm_backward_split(m, a, segs, n_segs, da, gw->out_ln_g, gw->out_ln_b, dx,
                             la->ffn_res, w->out_ln_g, la->out_ln_mean, la->out_ln_rstd, H);
    /* ffn_res = drop(dense(inter_gelu)) + attn_ln: dx = d dense; da stays as the
     * residual share of d attn_ln and accumulates the FFN branch below. */
    dropout_backward(a, dx, da, la->ffn_drop, NxH, c->hidden_dropout);
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(a->d_i1, NxI));
    linear_backward_split(m, a, segs, n_segs, a->d_i1, gw->out_w, gw->out_b, dx,
                          la->inter_gelu, w->out_w, I, H);
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(a->d_i2, NxI));
    MTB_PROFILED(MTB_PROF_GELU_BWD, mtb_gelu_backward(a->d_i2, a->d_i1, la->inter, NxI));
    linear_backward_split(m, a, segs, n_segs, da, gw->inter_w, gw->inter_b, a->d_i2,
                          la->attn_ln, w->inter_w, H, I);
    /* attn_ln = LN(attn_res): dx = d attn_res */
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(dx, NxH));
    layernorm_backward_split(m, a, segs, n_segs, dx, gw->attn_ln_g, gw->attn_ln_b, da,
                             la->attn_res, w->attn_ln_g, la->attn_ln_mean, la->attn_ln_rstd,
                             H);
    /* attn_res = drop(dense(ctx)) + in: dx keeps the residual share of d in */
    dropout_backward(a, da, dx, la->attn_drop, NxH, c->hidden_dropout);
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(db, NxH));
    linear_backward_split(m, a, segs, n_segs, db, gw->attn_out_w, gw->attn_out_b, da, la->ctx,
                          w->attn_out_w, H, H);
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(a->d_q, NxH));
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(a->d_k, NxH));
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(a->d_v, NxH));
    MTB_PROFILED(MTB_PROF_ATTENTION_BWD,
                 mtb_attention_backward(a->d_q, a->d_k, a->d_v, a->d_att, db, la->att,
                                        a->dropout_on ? la->att_keep : NULL,
                                        c->attention_dropout, la->q, la->k, la->v, a->offsets,
                                        B, H, NH));
    linear_backward_split(m, a, segs, n_segs, dx, gw->q_w, gw->q_b, a->d_q, la->in, w->q_w, H,
                          H);
    linear_backward_split(m, a, segs, n_segs, dx, gw->k_w, gw->k_b, a->d_k, la->in, w->k_w, H,
                          H);
    linear_backward_split(m, a, segs, n_segs, dx, gw->v_w, gw->v_b, a->d_v, la->in, w->v_w, H,
                          H);
}

/* The embeddings' backward from dx, the gradient of the embedding output. */
static void embeddings_backward_split(mtb_bert *m, mtb_bert_acts *a,
                                      const mtb_grad_segment *segs, int n_segs)
{
    const mtb_config *c = &m->cfg;
    const int H = c->hidden_size;
    const size_t NxH = (size_t)a->N * H;
    const mtb_bert_tensors *p = &m->p, *g = &m->g;
    float *dx = a->d_x, *da = a->d_a, *db = a->d_b;
    /* emb_out = drop(emb_ln); emb_ln = LN(emb_sum) */
    dropout_backward(a, da, dx, a->emb_drop, NxH, c->hidden_dropout);
    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(db, NxH));
    layernorm_backward_split(m, a, segs, n_segs, db, g->emb_ln_g, g->emb_ln_b, da, a->emb_sum,
                             p->emb_ln_g, a->emb_ln_mean, a->emb_ln_rstd, H);
    for (int s = 0; s < n_segs; s++) {
        int r0, rows;
        seg_rows(a, &segs[s], &r0, &rows);
        MTB_PROFILED(MTB_PROF_EMBED_BWD,
                     mtb_embeddings_backward(seg_grad(m, &segs[s], g->wte),
                                             seg_grad(m, &segs[s], g->wpe),
                                             seg_grad(m, &segs[s], g->wtt), db + (size_t)r0 * H,
                                             a->ids + r0, a->types + r0, a->positions + r0, rows,
                                             H));
    }
}

void mtb_bert_backward_split(mtb_bert *m, mtb_bert_acts *a, const float *dhidden,
                             const float *dpooled, const mtb_grad_segment *segs, int n_segs)
{
    const size_t NxH = (size_t)a->N * m->cfg.hidden_size;
    /* d_x: gradient of the loss w.r.t. the current layer's output. */
    float *dx = a->d_x;
    if (dhidden)
        memcpy(dx, dhidden, sizeof(float) * NxH);
    else
        MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero(dx, NxH));
    if (dpooled)
        pooler_backward_split(m, a, dpooled, segs, n_segs, dx);
    for (int l = m->cfg.num_layers - 1; l >= 0; l--)
        layer_backward_split(m, a, l, segs, n_segs);
    embeddings_backward_split(m, a, segs, n_segs);
}
