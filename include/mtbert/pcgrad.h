/* PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning") and the
 * gradient-conflict statistics mtbert publishes every step.
 *
 * Each task's gradient of the shared encoder is one flat vector.  Visiting
 * the tasks in the given order, each task's gradient is projected against
 * every OTHER task's original gradient (in that order) where their dot
 * product is negative:  g_i <- g_i - (g_i . g_j / |g_j|^2) g_j.  The merged
 * update is the sum of the projected gradients.  Dot products are
 * accumulated in double in a fixed order, so results are reproducible. */
#ifndef MTBERT_PCGRAD_H
#define MTBERT_PCGRAD_H

#include <stdbool.h>
#include <stddef.h>

#include "mtbert/bert.h"

#define MTB_MAX_TASKS 3
#define MTB_MAX_GROUPS (MTB_MAX_LAYERS + 2)
#define MTB_MAX_PAIRS 3 /* pairs of MTB_MAX_TASKS tasks */

typedef struct mtb_conflict_stats {
    int n_tasks;    /* tasks taking part (1..3) */
    int task[MTB_MAX_TASKS]; /* their ids (mtb_task), ascending */
    int n_pairs;    /* n_tasks choose 2, pairs (0,1), (0,2), (1,2) of the list above */
    int pair[MTB_MAX_PAIRS][2]; /* indices into task[] */
    int n_groups;   /* parameter groups: embeddings, layer.0 ..., pooler */
    double norm[MTB_MAX_TASKS];           /* |g_i| of the original gradients */
    double cos[MTB_MAX_PAIRS];            /* cosine of the original gradients, whole encoder */
    double group_cos[MTB_MAX_PAIRS][MTB_MAX_GROUPS]; /* same, per parameter group */
    bool projected[MTB_MAX_TASKS][MTB_MAX_TASKS]; /* [i][j]: g_i was projected against g_j */
    double change[MTB_MAX_TASKS];         /* |g_i' - g_i| / |g_i| (0 when untouched) */
} mtb_conflict_stats;

/* grads[k] (n floats each) are the gradients of the tasks task_ids[k],
 * k < n_tasks.  order is a permutation of 0..n_tasks-1 (indices into grads).
 * Writes the merged gradient to out (n): the plain sum when project is false
 * (the statistics are still measured), the PCGrad sum when true.  grads are
 * left unchanged; scratch holds n floats.  groups may be NULL (n_groups 0). */
void mtb_pcgrad(float *out, const float *const *grads, const int *task_ids, int n_tasks,
                size_t n, const int *order, bool project, const mtb_param_group *groups,
                int n_groups, mtb_conflict_stats *stats, float *scratch);

#endif
