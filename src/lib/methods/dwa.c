/* Dynamic Weight Average (Liu, Johns & Davison 2019, "End-to-End
 * Multi-Task Learning with Attention", eq. 7): a task whose loss fell less
 * over the last epoch gets more weight,
 *
 *     r_k = Lbar_k(e-1) / Lbar_k(e-2),   w_k = T exp(r_k / temp) / sum_j exp(r_j / temp),
 *
 * with Lbar_k(e) task k's mean training loss over epoch e (mtbert's epoch:
 * a pass over the largest task).  Until two epochs are complete every
 * weight is 1. */
#include <math.h>

#include "mtbert/merge.h"

/* state: 1 + the epoch being averaged (0: none yet), its step count, its
 * loss sums (T), the means of the last two complete epochs (T each), how
 * many epochs are complete (at most 2 counted) */
#define CURRENT(st) ((st)->x[0])
#define COUNT(st) ((st)->x[1])
#define SUM(st, k) ((st)->x[2 + (k)])
#define LAST(st, k) ((st)->x[2 + MTB_MAX_TASKS + (k)])
#define BEFORE(st, k) ((st)->x[2 + 2 * MTB_MAX_TASKS + (k)])
#define DONE(st) ((st)->x[2 + 3 * MTB_MAX_TASKS])

static void dwa_merge(const mtb_merge_input *in, const mtb_merge_params *p, mtb_merge_state *st,
                      mtb_merge_output *out)
{
    const int T = in->n_tasks;
    const double epoch = (double)in->epoch + 1.0;
    if (CURRENT(st) != 0.0 && CURRENT(st) != epoch && COUNT(st) > 0.0) {
        for (int k = 0; k < T; k++) {
            BEFORE(st, k) = LAST(st, k);
            LAST(st, k) = SUM(st, k) / COUNT(st);
            SUM(st, k) = 0.0;
        }
        COUNT(st) = 0.0;
        DONE(st) = DONE(st) < 2.0 ? DONE(st) + 1.0 : 2.0;
    }
    CURRENT(st) = epoch;
    for (int k = 0; k < T; k++)
        out->weight[k] = 1.0;
    if (DONE(st) >= 2.0) {
        double r[MTB_MAX_TASKS], top = -INFINITY, z = 0.0;
        for (int k = 0; k < T; k++) {
            r[k] = BEFORE(st, k) > 0.0 ? LAST(st, k) / BEFORE(st, k) : 1.0;
            r[k] /= p->dwa_temperature;
            top = fmax(top, r[k]);
        }
        for (int k = 0; k < T; k++)
            z += exp(r[k] - top);
        for (int k = 0; k < T; k++)
            out->weight[k] = T * exp(r[k] - top) / z;
    }
    for (int k = 0; k < T; k++)
        SUM(st, k) += in->loss[k];
    COUNT(st) += 1.0;
}

const mtb_merge_method mtb_method_dwa = {
    .name = "dwa",
    .summary = "DWA: weights from each loss's rate of descent per epoch (Liu et al. 2019; "
               "--dwa-temperature)",
    .loss_weighting = true,
    .stateful = true,
    .state_len = 3 + 3 * MTB_MAX_TASKS,
    .merge = dwa_merge,
};
