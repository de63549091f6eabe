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

#endif
