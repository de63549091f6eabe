/* The minBERT multitask model: one BERT encoder, three task heads.
 *
 * A task's forward pass encodes its batch (one sequence per SST example,
 * one "[CLS] a [SEP] b [SEP]" sequence per paraphrase pair, two separate
 * sequences per similarity pair), pools it into sentence encodings and
 * applies the head; its backward pass adds that task's gradient into the
 * encoder's and the heads' gradient buffers. */
#ifndef MTBERT_MULTITASK_H
#define MTBERT_MULTITASK_H

#include <stdbool.h>

#include "mtbert/bert.h"
#include "mtbert/data.h"
#include "mtbert/heads.h"
#include "mtbert/model_dir.h"
#include "mtbert/sentence.h"
#include "mtbert/tokenizer.h"

/* The training losses of the pair tasks: the seed heads' BCE and MSE, and
 * the options beside them (src/lib/pair_losses.h has the formulas):
 * CoSENT for similarity, and the multiple negatives ranking loss (MNRL)
 * over the duplicate questions or the similar pairs. */
typedef enum { MTB_STS_LOSS_MSE, MTB_STS_LOSS_COSENT } mtb_sts_loss;

typedef struct mtb_pair_losses {
    mtb_sts_loss sts;   /* similarity: the seed's MSE on 5 relu(cos), or CoSENT */
    bool mnrl_para;     /* add MNRL over the duplicate questions, encoded separately */
    bool mnrl_sts;      /* add MNRL over the similarity pairs scored >= MTB_MNRL_STS_POSITIVE */
    float mnrl_scale;   /* 20 */
    float cosent_scale; /* 20 */
} mtb_pair_losses;

#define MTB_MNRL_STS_POSITIVE 4.0f

/* The seed's losses (MSE, no MNRL), scales 20. */
void mtb_pair_losses_defaults(mtb_pair_losses *l);

typedef struct mtb_multitask {
    mtb_bert bert;
    mtb_heads heads;
    mtb_vocab *vocab;
    mtb_pooling pooling; /* cls or mean (pooler also works) */
    float head_dropout;  /* dropout before the sentiment and paraphrase heads */
    mtb_pair_losses losses; /* training losses of the pair tasks (defaults: the seed's) */
    bool trained[MTB_N_TASKS]; /* the heads a trainer has trained (saved in mtbert.json) */
} mtb_multitask;

/* A fresh model: encoder and heads initialised from rng. */
int mtb_multitask_init_random(mtb_multitask *mt, const mtb_config *cfg, mtb_vocab *vocab,
                              mtb_pooling pooling, float head_dropout, mtb_rng *rng,
                              mtb_error *err);
/* Loads DIR: a Hugging Face BERT folder (heads start random from rng) or an
 * mtbert checkpoint (heads.safetensors and mtbert.json present: heads,
 * pooling, dropout and which heads were trained are restored; the
 * pooling/dropout arguments are then only defaults for fields the
 * checkpoint lacks, and a checkpoint from before "trained" was recorded
 * counts every head as trained). *has_heads tells which. */
int mtb_multitask_load(mtb_multitask *mt, const char *dir, mtb_pooling pooling,
                       float head_dropout, mtb_rng *rng, bool *has_heads, mtb_error *err);
/* Writes DIR: the encoder in Hugging Face layout (config.json, vocab.txt,
 * model.safetensors), heads.safetensors and mtbert.json.  extra_files
 * (may be NULL) is called with the temporary folder before it replaces DIR,
 * so a trainer can add its own state to the same atomic save. */
int mtb_multitask_save(const mtb_multitask *mt, const char *dir, mtb_dir_writer_fn extra,
                       void *ctx, mtb_error *err);
void mtb_multitask_free(mtb_multitask *mt);

/* One task's batch, already tokenized and padded.  For similarity, a and b
 * are the two sentences; otherwise only a is used. */
typedef struct mtb_task_batch {
    mtb_task task;
    mtb_batch a, b;
    int *labels_int;   /* (B) SST classes */
    float *labels;     /* (B) paraphrase 0/1 or similarity score */
} mtb_task_batch;

/* Buffers for one task step, sized once for the largest batch. */
typedef struct mtb_task_ws {
    int max_B, max_T;
    mtb_bert_acts acts_a, acts_b;
    mtb_head_ws head;
    float *enc_a, *enc_b;   /* (B, H); enc_b (2B, H): MNRL's separate questions */
    float *denc_a, *denc_b; /* the same */
    float *dhidden;         /* (2B, T, H) */
    float *dpooled;         /* (2B, H) */
    mtb_batch split;        /* (2B, T) a paraphrase batch's questions, a's then b's */
} mtb_task_ws;

/* max_T bounds every sequence (pairs included). */
int mtb_task_ws_init(mtb_task_ws *ws, const mtb_config *cfg, int max_B, int max_T,
                     bool for_training, mtb_error *err);
void mtb_task_ws_free(mtb_task_ws *ws);

/* Forward (and, with backward, backward) of one task batch.  dropout turns
 * the encoder's and the head's dropout on.  Returns the mean loss: with
 * backward, the training loss mt->losses asks for (the head's, CoSENT's,
 * plus MNRL's); without, the seed heads' own (validation). */
float mtb_multitask_step(mtb_multitask *mt, mtb_task_ws *ws, const mtb_task_batch *tb,
                         bool dropout, bool backward, mtb_rng *rng);

/* Buffers for a whole multitask training step: every task's sequences go
 * through the encoder in one pass, so each dense product covers all of the
 * step's tokens instead of one task's. */
typedef struct mtb_joint_ws {
    int max_seqs, max_T;
    mtb_bert_acts acts;
    mtb_head_ws head;
    mtb_batch batch;        /* the step's sequences, task after task: (max_seqs, max_T) */
    mtb_batch split;        /* (2 max_B, max_T) scratch: a paraphrase batch's questions */
    float *enc, *denc;      /* (max_seqs, H) sentence encodings and their gradients */
    float *dhidden;         /* (max_seqs * max_T, H) */
    float *dpooled;         /* (max_seqs, H) */
    int first[MTB_N_TASKS]; /* where each batch's sequences start in batch (last step) */
    int count[MTB_N_TASKS]; /* and how many (an STS batch has 2B: its a's, then its b's; a
                               paraphrase batch with MNRL 3B: its pairs, a's, b's) */
    /* Set by a caller that leaves the dense layers' weight gradients in
     * grads[k] unzeroed (see mtb_grad_segment): they are written, not added. */
    bool overwrite_dense;
} mtb_joint_ws;

/* max_B sequences per task batch, each at most max_T tokens. */
int mtb_joint_ws_init(mtb_joint_ws *ws, const mtb_config *cfg, int max_B, int max_T,
                      mtb_error *err);
void mtb_joint_ws_free(mtb_joint_ws *ws);

/* Forward and backward of n task batches (n <= 3, one per task) in one
 * encoder pass, with dropout when asked.  Batch k's encoder gradient is
 * added into grads[k] (n_params floats; with ws->overwrite_dense its dense
 * weight gradients are written); the heads' gradients into
 * mt->heads.grads.  losses[k] receives batch k's mean loss.  The same
 * numbers as mtb_multitask_step on each batch in turn, up to the rounding
 * of larger products and the order of dropout draws. */
void mtb_multitask_joint_step(mtb_multitask *mt, mtb_joint_ws *ws,
                              const mtb_task_batch *const *tbs, int n, float *const *grads,
                              bool dropout, mtb_rng *rng, float *losses);

/* Inference outputs of the last mtb_multitask_step on ws (no labels needed):
 * SST class probabilities (B, 5), paraphrase probability (B), similarity
 * score (B) in [0, 5]. */
void mtb_multitask_sst_probs(const mtb_task_ws *ws, float *probs);
void mtb_multitask_para_probs(const mtb_task_ws *ws, float *probs);
void mtb_multitask_sts_scores(const mtb_task_ws *ws, float *scores);

#endif
