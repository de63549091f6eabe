/* AdamW (Loshchilov & Hutter): decoupled weight decay and bias correction,
 * with the same arithmetic as torch.optim.AdamW:
 *   p -= lr * wd * p
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * One loop over a flat vector: the encoder and the heads are two calls with
 * the same step number t. */
#ifndef MTBERT_ADAMW_H
#define MTBERT_ADAMW_H

#include <stddef.h>

#include "mtbert/merge.h"

typedef struct mtb_adamw_hparams {
    float lr;           /* default 1e-5, as the seed project */
    float beta1, beta2; /* 0.9, 0.999 */
    float eps;          /* 1e-8 */
    float weight_decay; /* 0.0, as the seed project */
} mtb_adamw_hparams;

void mtb_adamw_defaults(mtb_adamw_hparams *hp);

/* t is the 1-based step number.  m and v are the moment buffers (n each). */
void mtb_adamw_step(const mtb_adamw_hparams *hp, long t, float *params, const float *grads,
                    float *m, float *v, size_t n);

/* The same step on a merged gradient that is never written out: element i's
 * gradient is sum_k weights[k] grads[k][i], formed as mtb_combined_grad
 * (merge.h) does, so this equals mtb_grads_combine followed by
 * mtb_adamw_step, bit for bit, with one pass over memory instead of two.
 *
 * sparse and row_touched (both or neither may be NULL) skip the work that a
 * sparse table's untouched rows do not need, again without changing a bit:
 * rows not listed in sparse have a zero gradient, so their task gradients
 * are not read; rows whose moments are still zero (row_touched[r] == 0, one
 * byte per table row) and that get no gradient are left out altogether
 * (with weight_decay 0 AdamW leaves them as they are).  row_touched is
 * updated with this step's rows. */
void mtb_adamw_step_merged(const mtb_adamw_hparams *hp, long t, float *params,
                           const float *const *grads, const double *weights, int n_tasks,
                           float *m, float *v, size_t n, const mtb_sparse_rows *sparse,
                           unsigned char *row_touched);

/* The same with the weights of a merge plan (merge.h): per range of the
 * vector where the method weighs each parameter group on its own. */
void mtb_adamw_step_plan(const mtb_adamw_hparams *hp, long t, float *params,
                         const float *const *grads, const mtb_merge_plan *plan, float *m,
                         float *v, size_t n, const mtb_sparse_rows *sparse,
                         unsigned char *row_touched);

#endif
