/* FAMO (Liu, Liu, Jin, Stone & Liu 2023, "FAMO: Fast Adaptive Multitask
 * Optimization", Algorithm 1 as in the authors' code, with min losses 0):
 * logits xi, z = softmax(xi).  The step minimises sum_k z_k log L_k / c,
 * c = sum_j z_j / L_j, so task k's weight is z_k / (c L_k) (they sum to 1:
 * every task's log-loss is served, not its raw loss).  Before the weights
 * are formed, xi takes one Adam step (torch's, with weight decay gamma
 * added to the gradient) on
 *
 *     grad_xi = J_softmax' delta,   delta_k = log L_k(prev) - log L_k(now),
 *
 * so a task whose loss fell less since the last step gains weight.  The
 * authors re-evaluate the same batch after the update for L(now); mtbert
 * takes the next step's losses (another batch), as LibMTL does, which
 * costs no forward pass.  L + 1e-8 stands for L throughout. */
#include <math.h>

#include "mtbert/merge.h"
#include "small_linalg.h"

#define EPS 1e-8

/* state: xi (T), Adam's m (T), v (T), step count, whether prev exists,
 * the previous step's losses (T) */
#define XI(st, k) ((st)->x[(k)])
#define M(st, k) ((st)->x[MTB_MAX_TASKS + (k)])
#define V(st, k) ((st)->x[2 * MTB_MAX_TASKS + (k)])
#define STEPS(st) ((st)->x[3 * MTB_MAX_TASKS])
#define HAVE_PREV(st) ((st)->x[3 * MTB_MAX_TASKS + 1])
#define PREV(st, k) ((st)->x[3 * MTB_MAX_TASKS + 2 + (k)])

static void softmax(const mtb_merge_state *st, int T, double *z)
{
    double top = -INFINITY, s = 0.0;
    for (int k = 0; k < T; k++)
        top = fmax(top, XI(st, k));
    for (int k = 0; k < T; k++)
        s += (z[k] = exp(XI(st, k) - top));
    for (int k = 0; k < T; k++)
        z[k] /= s;
}

static void famo_merge(const mtb_merge_input *in, const mtb_merge_params *p, mtb_merge_state *st,
                       mtb_merge_output *out)
{
    const int T = in->n_tasks;
    double z[MTB_MAX_TASKS];
    if (HAVE_PREV(st) != 0.0) {
        softmax(st, T, z);
        double delta[MTB_MAX_TASKS], zd = 0.0;
        for (int k = 0; k < T; k++) {
            delta[k] = log(PREV(st, k) + EPS) - log(in->loss[k] + EPS);
            zd += z[k] * delta[k];
        }
        double g[MTB_MAX_TASKS];
        for (int k = 0; k < T; k++)
            g[k] = z[k] * delta[k] - z[k] * zd + p->famo_decay * XI(st, k);
        sl_adam_step(&XI(st, 0), &M(st, 0), &V(st, 0), &STEPS(st), g, T, p->famo_lr);
    }
    softmax(st, T, z);
    double c = 0.0;
    for (int k = 0; k < T; k++)
        c += z[k] / (in->loss[k] + EPS);
    for (int k = 0; k < T; k++)
        out->weight[k] = z[k] / (c * (in->loss[k] + EPS));
    for (int k = 0; k < T; k++)
        PREV(st, k) = in->loss[k];
    HAVE_PREV(st) = 1.0;
}

const mtb_merge_method mtb_method_famo = {
    .name = "famo",
    .summary = "FAMO: balance the tasks' log-loss descent rates (Liu et al. 2023; --famo-lr, "
               "--famo-decay)",
    .loss_weighting = true,
    .stateful = true,
    .state_len = 3 * MTB_MAX_TASKS + 2 + MTB_MAX_TASKS,
    .merge = famo_merge,
};
