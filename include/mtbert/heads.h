/* The three task heads of the minBERT multitask model, forward and backward
 * side by side.  Each takes sentence encodings (B, H) from the encoder and
 * returns the mean loss over the batch when labels are given.
 *
 *  sentiment:  logits = W dropout(u) + b, W (5, H);  mean cross-entropy
 *  paraphrase: logit  = w . dropout(u) + b, w (1, H); mean BCE with logits
 *  similarity: pred   = 5 relu(cos(u, v));           mean squared error
 *
 * cos(u, v) = u.v / sqrt(max(|u|^2, 1e-16) max(|v|^2, 1e-16)), as torch
 * 1.13's cosine_similarity with eps 1e-8 (each squared norm clamped on its
 * own).  Backward functions ADD into their d* outputs, like the ops in ops.h. */
#ifndef MTBERT_HEADS_H
#define MTBERT_HEADS_H

#include <stddef.h>

#include "mtbert/rng.h"

#define MTB_SST_CLASSES 5

/* Head parameters in one flat buffer (gradients in a second one laid out
 * the same way), so the optimizer treats them like the encoder's. */
typedef struct mtb_heads {
    int H;
    size_t n_params; /* 5H + 5 + H + 1 */
    float *params, *grads;
    /* views into params / grads */
    float *sst_w, *sst_b;   /* (5, H), (5) */
    float *para_w, *para_b; /* (1, H), (1) */
    float *g_sst_w, *g_sst_b, *g_para_w, *g_para_b;
} mtb_heads;

/* Allocates zeroed parameters; 0 or MTB_EFAIL. */
int mtb_heads_init(mtb_heads *h, int H);
/* nn.Linear's default: uniform(-1/sqrt(H), 1/sqrt(H)) for weights and biases. */
void mtb_heads_init_random(mtb_heads *h, mtb_rng *rng);
void mtb_heads_free(mtb_heads *h);
void mtb_heads_zero_grad(mtb_heads *h);
/* A loss weighting reweighs the whole loss, so each head's gradient takes
 * its task's weight too: the head of task task_ids[k] (an mtb_task) is
 * multiplied by weight[k], k < n_tasks (the similarity head has no
 * parameters). */
void mtb_heads_scale_grads(mtb_heads *h, const int *task_ids, const double *weight, int n_tasks);

/* Per-batch workspace of a head: sized for max_B rows. */
typedef struct mtb_head_ws {
    float *dropped; /* (B, H) dropout(u) */
    float *scale;   /* (B, H) dropout scale, or unused when p == 0 */
    float *out;     /* (B, 5) logits, (B) logit, or (B) prediction */
    float *aux;     /* (B) cosine for similarity */
    int B;
    float p;        /* dropout probability used by the last forward */
} mtb_head_ws;

int mtb_head_ws_init(mtb_head_ws *ws, int max_B, int H);
void mtb_head_ws_free(mtb_head_ws *ws);

/* labels may be NULL (inference): the return value is then 0.  rng may be
 * NULL when p == 0. */
float mtb_sentiment_forward(mtb_head_ws *ws, const mtb_heads *h, const float *u, const int *labels,
                            int B, float p, mtb_rng *rng);
void mtb_sentiment_backward(mtb_heads *h, float *du, const mtb_head_ws *ws, const int *labels);
/* Class probabilities (B, 5) from ws->out. */
void mtb_sentiment_probs(const mtb_head_ws *ws, float *probs);

float mtb_paraphrase_forward(mtb_head_ws *ws, const mtb_heads *h, const float *u,
                             const float *labels, int B, float p, mtb_rng *rng);
void mtb_paraphrase_backward(mtb_heads *h, float *du, const mtb_head_ws *ws, const float *labels);

float mtb_similarity_forward(mtb_head_ws *ws, const float *u, const float *v, const float *labels,
                             int B, int H);
void mtb_similarity_backward(float *du, float *dv, const mtb_head_ws *ws, const float *u,
                             const float *v, const float *labels, int H);

#endif
