/* Inference over whole datasets: predictions and the minBERT metrics. */
#ifndef MTBERT_EVALUATE_H
#define MTBERT_EVALUATE_H

#include "mtbert/batcher.h"
#include "mtbert/events.h"
#include "mtbert/multitask.h"

/* Per-example outputs per task: SST class probabilities (n, 5), paraphrase
 * probability (n), similarity score (n).  Floats per example: */
int mtb_prediction_width(mtb_task task);

/* Runs mt over e in batches of `batch` without dropout.  out receives
 * n * mtb_prediction_width(task) floats (may be NULL); *mean_loss (may be
 * NULL) the mean loss when e is labelled, else NAN. */
int mtb_predict(mtb_multitask *mt, const mtb_encoded *e, int batch, float *out,
                double *mean_loss, mtb_error *err);

/* SST accuracy, paraphrase accuracy (probability > 0.5) and STS Pearson
 * correlation, plus mean losses, for each dev set that is not NULL. */
int mtb_evaluate(mtb_multitask *mt, const mtb_encoded *const dev[MTB_N_TASKS], int batch,
                 mtb_eval_result *res, mtb_error *err);

/* One dev example the model gets wrong, and how wrong: SST 1 - p(gold
 * class), paraphrase |p - label|, similarity |score - label|. */
typedef struct mtb_error_item {
    size_t index;     /* in the dataset */
    float gold;       /* the label */
    float predicted;  /* SST: the class chosen; para: p(paraphrase); sts: the score */
    float wrongness;
} mtb_error_item;

/* The top (at most n_top) most wrong examples of labelled e, worst first,
 * into items; *n_items their count. */
int mtb_rank_errors(mtb_multitask *mt, const mtb_encoded *e, int batch, int n_top,
                    mtb_error_item *items, int *n_items, mtb_error *err);

/* SST's confusion matrix on labelled e: counts[gold][predicted]. */
int mtb_sst_confusion(mtb_multitask *mt, const mtb_encoded *e, int batch,
                      long counts[MTB_SST_CLASSES][MTB_SST_CLASSES], mtb_error *err);

#endif
