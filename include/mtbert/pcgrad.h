/* PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning") and the
 * gradient-conflict statistics mtbert publishes every step.
 *
 * Each task's gradient of the shared encoder is one flat vector.  Visiting
 * the tasks in the given order, each task's gradient is projected against
 * every OTHER task's original gradient (in that order) where their dot
 * product is negative:  g_i <- g_i - (g_i . g_j / |g_j|^2) g_j.  The merged
 * update is the sum of the projected gradients, which is a weighted sum of
 * the original ones.  Dot products are accumulated in double in a fixed
 * order, so results are reproducible on any number of threads. */
#ifndef MTBERT_PCGRAD_H
#define MTBERT_PCGRAD_H

#include <stdbool.h>
#include <stddef.h>

#include "mtbert/bert.h"
#include "mtbert/sparse_rows.h"

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
    double weight[MTB_MAX_TASKS];         /* each task's weight in the merged update */
} mtb_conflict_stats;

/* How the task gradients become one update. */
typedef enum mtb_merge_rule {
    MTB_MERGE_SUM,    /* their sum */
    MTB_MERGE_PCGRAD, /* PCGrad's projected sum */
    MTB_MERGE_MGDA,   /* MGDA's min-norm point of their convex hull (mgda.h) */
} mtb_merge_rule;

/* grads[k] (n floats each) are the gradients of the tasks task_ids[k],
 * k < n_tasks.  order is a permutation of 0..n_tasks-1 (indices into grads;
 * PCGrad's visiting order).  Measures the statistics and returns the merge
 * as weights: the merged gradient is sum_k weights[k] grads[k] under rule.  Reads each gradient
 * once and writes none.  groups may be NULL (n_groups 0).  sparse (may be
 * NULL) names a table of which only some rows can be nonzero in any of the
 * gradients; the others are not read. */
void mtb_merge_weights(const float *const *grads, const int *task_ids, int n_tasks, size_t n,
                       const int *order, mtb_merge_rule rule, const mtb_param_group *groups,
                       int n_groups, const mtb_sparse_rows *sparse, mtb_conflict_stats *stats,
                       double weights[MTB_MAX_TASKS]);

/* Element k of the merged gradient (n_tasks >= 1), formed in double and
 * rounded once: the one expression every consumer of the weights uses, so a
 * merged gradient written out and one applied inside AdamW are the same
 * bits. */
static inline float mtb_combined_grad(const float *const *grads, const double *weights,
                                      int n_tasks, size_t k)
{
    double acc = weights[0] * (double)grads[0][k];
    for (int t = 1; t < n_tasks; t++)
        acc += weights[t] * (double)grads[t][k];
    return (float)acc;
}

/* out (n) = the merged gradient, element by element (mtb_combined_grad). */
void mtb_grads_combine(float *out, const float *const *grads, const double *weights,
                       int n_tasks, size_t n);

/* mtb_merge_weights (sum, or PCGrad when project), then the merged gradient
 * written to out (n). */
void mtb_pcgrad(float *out, const float *const *grads, const int *task_ids, int n_tasks,
                size_t n, const int *order, bool project, const mtb_param_group *groups,
                int n_groups, mtb_conflict_stats *stats);

#endif
