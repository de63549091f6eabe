/* The BERT encoder: parameters in one flat buffer, forward and backward over
 * a right-padded batch of variable-length sequences.
 *
 * Every parameter tensor is a slice of `params`; its gradient is the slice at
 * the same offset of `grads`.  The slices are laid out in Hugging Face's
 * state-dict order and grouped (embeddings, each layer, pooler) so that "the
 * encoder's gradient" or "layer 3's gradient" is one contiguous range.  That
 * is what lets PCGrad and AdamW be loops over a single vector. */
#ifndef MTBERT_BERT_H
#define MTBERT_BERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtbert/config.h"
#include "mtbert/error.h"
#include "mtbert/rng.h"

#define MTB_PARAM_NAME_MAX 96

typedef struct mtb_param_info {
    char name[MTB_PARAM_NAME_MAX]; /* Hugging Face BertModel name, no "bert." prefix */
    size_t offset;                 /* in floats, into params/grads */
    size_t numel;
    int ndim;                      /* 1 or 2 */
    int shape[2];
    int group;                     /* 0 embeddings, 1..L encoder layer i-1, L+1 pooler */
} mtb_param_info;

/* Contiguous range of one parameter group. */
typedef struct mtb_param_group {
    char name[32]; /* "embeddings", "layer.0", ..., "pooler" */
    size_t offset;
    size_t numel;
} mtb_param_group;

typedef struct mtb_layer_tensors {
    float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b; /* (H, H), (H) */
    float *attn_out_w, *attn_out_b;           /* (H, H), (H) */
    float *attn_ln_g, *attn_ln_b;             /* (H) */
    float *inter_w, *inter_b;                 /* (I, H), (I) */
    float *out_w, *out_b;                     /* (H, I), (H) */
    float *out_ln_g, *out_ln_b;               /* (H) */
} mtb_layer_tensors;

/* Named views into a flat buffer (parameters or gradients). */
typedef struct mtb_bert_tensors {
    float *wte;                 /* (V, H) word embeddings */
    float *wpe;                 /* (P, H) position embeddings */
    float *wtt;                 /* (TT, H) token-type embeddings */
    float *emb_ln_g, *emb_ln_b; /* (H) */
    mtb_layer_tensors *layers;  /* [num_layers] */
    float *pool_w, *pool_b;     /* (H, H), (H) */
} mtb_bert_tensors;

typedef struct mtb_bert {
    mtb_config cfg;
    size_t n_params;
    float *params; /* (n_params) */
    float *grads;  /* (n_params) */
    mtb_param_info *info;
    int n_info;
    mtb_param_group *groups;
    int n_groups; /* num_layers + 2 */
    mtb_bert_tensors p, g;
} mtb_bert;

/* Allocates parameters (zeroed) and gradients for cfg. */
int mtb_bert_init(mtb_bert *m, const mtb_config *cfg, mtb_error *err);
/* BERT's initialisation: weights N(0, initializer_range), biases 0,
 * LayerNorm gamma 1 and beta 0. */
void mtb_bert_init_random(mtb_bert *m, mtb_rng *rng);
void mtb_bert_free(mtb_bert *m);
void mtb_bert_zero_grad(mtb_bert *m);
/* Looks a parameter up by its unprefixed Hugging Face name; NULL if unknown. */
const mtb_param_info *mtb_bert_find_param(const mtb_bert *m, const char *name);

/* A right-padded batch.  Rows shorter than T are padded with pad_token_id and
 * type 0; lengths[b] counts the real tokens of row b (1..T). */
typedef struct mtb_batch {
    int B, T;
    int *ids;     /* (B, T) */
    int *types;   /* (B, T) */
    int *lengths; /* (B) */
} mtb_batch;

/* Saved activations for one forward pass, sized once for (max_B, max_T) so
 * that a step allocates nothing.  The encoder works on the batch's real
 * tokens only, packed back to back: N rows, sequence b at rows
 * [offsets[b], offsets[b+1]); padding is never computed.  Buffers are mapped
 * for the largest batch but only the rows a batch uses are ever touched, so
 * memory follows the real token count.  Inference-only activations share
 * one set of layer buffers between all layers; training activations keep
 * every layer's for the backward pass.  ATT below is the attention block
 * space of ops.h: one (L, L) block per sequence and head. */
typedef struct mtb_layer_acts {
    float *in;             /* (N, H) layer input: a view of the previous output */
    float *q, *k, *v;      /* (N, H) */
    float *att;            /* (ATT) softmax probabilities */
    uint8_t *att_keep;     /* (ATT) attention-dropout mask (1 kept); NULL without dropout */
    float *ctx;            /* (N, H) attention context */
    uint8_t *attn_drop;    /* (N, H) dropout mask (1 kept); NULL without dropout */
    float *attn_res;       /* (N, H) dropout(dense(ctx)) + in, before LayerNorm */
    float *attn_ln;        /* (N, H) */
    float *attn_ln_mean, *attn_ln_rstd; /* (N) */
    float *inter;          /* (N, I) intermediate dense, before GELU */
    float *inter_gelu;     /* (N, I) */
    uint8_t *ffn_drop;     /* (N, H) dropout mask (1 kept); NULL without dropout */
    float *ffn_res;        /* (N, H) dropout(dense(inter_gelu)) + attn_ln, before LayerNorm */
    float *out;            /* (N, H) layer output */
    float *out_ln_mean, *out_ln_rstd; /* (N) */
} mtb_layer_acts;

typedef struct mtb_bert_acts {
    int max_B, max_T;
    int B, T;          /* shape of the last forward pass's batch */
    int N;             /* its real tokens */
    bool for_training; /* per-layer storage, dropout masks and gradient workspace exist */
    bool dropout_on;   /* the last forward pass applied dropout */
    int *ids, *types, *positions; /* (N) packed tokens */
    int *lengths;      /* (B) */
    int *offsets;      /* (B + 1) first row of each sequence; offsets[B] = N */
    float *emb_sum;    /* (N, H) embeddings before LayerNorm */
    float *emb_ln;     /* (N, H) */
    float *emb_ln_mean, *emb_ln_rstd; /* (N) */
    uint8_t *emb_drop; /* (N, H) dropout mask (1 kept); NULL without dropout */
    float *emb_out;    /* (N, H) */
    int n_layer_sets;  /* num_layers when training, else 1 */
    mtb_layer_acts *layers; /* [n_layer_sets] */
    float *hidden;     /* (N, H) final hidden states: view of the last layer's out */
    float *cls;        /* (B, H) final hidden state of [CLS] */
    float *pooled;     /* (B, H) tanh(dense(cls)) */
    /* gradient workspace (training only) */
    float *d_x;        /* (N, H) gradient flowing down the residual stream */
    float *d_a, *d_b;  /* (N, H) */
    float *d_i1, *d_i2; /* (N, I) */
    float *d_q, *d_k, *d_v; /* (N, H) */
    float *d_att;      /* (ATT) attention scratch: dropped-out probabilities in the
                        * forward pass, the softmax backward in the backward pass */
    float *d_cls;      /* (B, H) */
    float *d_pool;     /* (B, H) */
    void *block;       /* the single mapping behind every buffer */
    size_t block_bytes;
} mtb_bert_acts;

/* Final hidden state of token t of sequence b in the last forward pass. */
static inline const float *mtb_bert_hidden_row(const mtb_bert_acts *a, int H, int b, int t)
{
    return a->hidden + (size_t)(a->offsets[b] + t) * H;
}

/* for_training allocates what mtb_bert_backward needs (and dropout masks). */
int mtb_bert_acts_init(mtb_bert_acts *a, const mtb_config *cfg, int max_B, int max_T,
                       bool for_training, mtb_error *err);
void mtb_bert_acts_free(mtb_bert_acts *a);

/* Runs the encoder.  dropout = true applies the config's dropout
 * probabilities (the acts must be for_training).  batch->B and batch->T must
 * not exceed the acts' capacity, nor T the model's max_position. */
void mtb_bert_forward(const mtb_bert *m, mtb_bert_acts *a, const mtb_batch *batch,
                      bool dropout, mtb_rng *rng);

/* Backpropagates upstream gradients of the last forward pass into m->grads
 * (accumulating).  dhidden (N, H), packed as acts->hidden, and dpooled (B, H)
 * may each be NULL. */
void mtb_bert_backward(mtb_bert *m, mtb_bert_acts *a, const float *dhidden,
                       const float *dpooled);

/* Sequences [first_seq, first_seq + n_seqs) of a forward pass and the
 * n_params buffer their parameter gradients go to. */
typedef struct mtb_grad_segment {
    int first_seq, n_seqs;
    float *grads;
    /* The weight gradients of the encoder's dense layers (mtb_bert_dense_spans)
     * are written, not added to, so the caller need not zero them: the
     * largest part of a gradient buffer, zeroed and then overwritten once
     * per step otherwise.  Everything else is still added to. */
    bool overwrite_dense;
} mtb_grad_segment;

/* The encoder's dense-layer weight matrices (queries, keys, values,
 * attention output, intermediate, output; not the pooler) as offsets and
 * lengths into the flat buffer, in address order; returns how many (6 per
 * layer), or -1 when cap is smaller than that. */
int mtb_bert_dense_spans(const mtb_bert *m, size_t *offset, size_t *numel, int cap);

/* mtb_bert_backward for a forward pass that held several tasks' sequences:
 * the gradients flowing through the activations are computed for all rows
 * at once (large products), each segment's parameter gradients from its own
 * rows into its own buffer (accumulating), so one pass yields every task's
 * gradient separately.  Segments must not overlap; sequences in none get no
 * parameter gradient.  mtb_bert_backward is the one segment of all
 * sequences into m->grads. */
void mtb_bert_backward_split(mtb_bert *m, mtb_bert_acts *a, const float *dhidden,
                             const float *dpooled, const mtb_grad_segment *segs, int n_segs);

#endif
