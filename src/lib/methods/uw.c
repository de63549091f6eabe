/* Uncertainty weighting (Kendall, Gal & Cipolla 2018, "Multi-Task Learning
 * Using Uncertainty to Weigh Losses for Scene Geometry and Semantics",
 * eq. 7 in the form their and LibMTL's code use): with s_k = log sigma_k^2
 * learned alongside the model,
 *
 *     L = sum_k 1/2 exp(-s_k) L_k + 1/2 s_k,
 *
 * so task k's weight is 1/2 exp(-s_k), and after each step s_k takes one
 * Adam step (betas 0.9, 0.999, eps 1e-8, torch's arithmetic) on
 * dL/ds_k = 1/2 - 1/2 exp(-s_k) L_k at the step's learning rate (the
 * log-variances are ordinary parameters of the model's optimizer there)
 * or --uw-lr.  s starts at 0: weights 1/2. */
#include <math.h>

#include "mtbert/merge.h"
#include "small_linalg.h"

/* state: s (T), Adam's m (T) and v (T), Adam's step count */
#define S(st, k) ((st)->x[(k)])
#define M(st, k) ((st)->x[MTB_MAX_TASKS + (k)])
#define V(st, k) ((st)->x[2 * MTB_MAX_TASKS + (k)])
#define STEPS(st) ((st)->x[3 * MTB_MAX_TASKS])

static void uw_merge(const mtb_merge_input *in, const mtb_merge_params *p, mtb_merge_state *st,
                     mtb_merge_output *out)
{
    const int T = in->n_tasks;
    for (int k = 0; k < T; k++)
        out->weight[k] = 0.5 * exp(-S(st, k));
    const double lr = p->uw_lr > 0.0 ? p->uw_lr : in->lr;
    double g[MTB_MAX_TASKS];
    for (int k = 0; k < T; k++)
        g[k] = 0.5 - 0.5 * exp(-S(st, k)) * in->loss[k];
    sl_adam_step(&S(st, 0), &M(st, 0), &V(st, 0), &STEPS(st), g, T, lr);
}

const mtb_merge_method mtb_method_uw = {
    .name = "uw",
    .summary = "uncertainty weighting: learned log-variances weigh the losses (Kendall et "
               "al. 2018; --uw-lr)",
    .loss_weighting = true,
    .stateful = true,
    .state_len = 3 * MTB_MAX_TASKS + 1,
    .merge = uw_merge,
};
