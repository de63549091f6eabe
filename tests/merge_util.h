/* A merge in one call for the tests that check PCGrad and the plain sum on
 * written-out vectors: the library only returns a plan (mtb_merge_weights)
 * and leaves the combining to its caller.  Header-only (static inline), so
 * a test links nothing more; every name starts with mu_. */
#ifndef MTBERT_MERGE_UTIL_H
#define MTBERT_MERGE_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "mtbert/merge.h"

/* mtb_merge_weights (sum, or PCGrad when project), then the merged gradient
 * written to out (n). */
static inline void mu_pcgrad(float *out, const float *const *grads, const int *task_ids,
                             int n_tasks, size_t n, const int *order, bool project,
                             const mtb_param_group *groups, int n_groups,
                             mtb_conflict_stats *stats)
{
    mtb_merge_plan plan;
    mtb_merge_weights(grads, task_ids, n_tasks, n, order,
                      project ? &mtb_method_pcgrad : &mtb_method_sum, NULL, groups, n_groups,
                      NULL, stats, &plan);
    mtb_grads_combine(out, grads, &plan, n);
}

#endif
