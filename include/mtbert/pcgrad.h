/* PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning").
 *
 * Each task's gradient of the shared encoder is one flat vector.  Visiting
 * the tasks in the given order, each task's gradient is projected against
 * every OTHER task's original gradient (in that order) where their dot
 * product is negative:  g_i <- g_i - (g_i . g_j / |g_j|^2) g_j.  The merged
 * update is the sum of the projected gradients, which is a weighted sum of
 * the original ones (mtb_method_pcgrad, merge.h).  Dot products are
 * accumulated in double in a fixed order, so results are reproducible on
 * any number of threads. */
#ifndef MTBERT_PCGRAD_H
#define MTBERT_PCGRAD_H

#include <stdbool.h>
#include <stddef.h>

#include "mtbert/merge.h"

/* mtb_merge_weights (sum, or PCGrad when project), then the merged gradient
 * written to out (n). */
void mtb_pcgrad(float *out, const float *const *grads, const int *task_ids, int n_tasks,
                size_t n, const int *order, bool project, const mtb_param_group *groups,
                int n_groups, mtb_conflict_stats *stats);

#endif
