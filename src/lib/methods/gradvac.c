/* Gradient Vaccine (Wang et al. 2021, "Gradient Vaccine: Investigating and
 * Improving Multi-task Optimization in Massively Multilingual Models",
 * Algorithm 1), per parameter group (embeddings, each layer, pooler).
 *
 * Each group keeps, for every ordered task pair (i, j), an EMA target
 * rho_hat of the cosine between g_i and g_j.  Where the observed cosine rho
 * of g_i' (g_i as adjusted so far) and g_j falls below the target, g_j is
 * added so the cosine rises to it (their eq. 4):
 *
 *     g_i' += |g_i'| (rho_hat sqrt(1 - rho^2) - rho sqrt(1 - rho_hat^2))
 *             / (|g_j| sqrt(1 - rho_hat^2))  g_j
 *
 * and the target follows every observation, rho_hat <- (1 - beta) rho_hat +
 * beta rho (rho as measured before the adjustment).  Targets start at 0,
 * so the first step is PCGrad's.  Tasks are visited in the step's order,
 * each against the others in that order.  The update is the sum of the
 * adjusted gradients; parameters outside every group are summed as they
 * are.  g_i' stays a combination of the originals in each group, so the
 * group's Gram matrix gives every norm and cosine. */
#include <math.h>

#include "mtbert/merge.h"

#define RHO(st, i, j, k) ((st)->x[((i) * MTB_MAX_TASKS + (j)) * MTB_MAX_GROUPS + (k)])

static void gradvac_merge(const mtb_merge_input *in, const mtb_merge_params *p,
                          mtb_merge_state *st, mtb_merge_output *out)
{
    const int T = in->n_tasks;
    const double beta = p->gradvac_beta;
    for (int k = 0; k < T; k++)
        out->weight[k] = 1.0;
    out->per_group = true;
    for (int g = 0; g < in->n_groups; g++) {
        const double *G = in->group_gram + (size_t)g * T * T;
        for (int oi = 0; oi < T; oi++) {
            const int i = in->order[oi];
            double c[MTB_MAX_TASKS] = {0}; /* g_i' = sum_m c[m] g_m within the group */
            c[i] = 1.0;
            for (int oj = 0; oj < T; oj++) {
                const int j = in->order[oj];
                if (j == i)
                    continue;
                double dot = 0.0, nn = 0.0;
                for (int a = 0; a < T; a++) {
                    dot += c[a] * G[a * T + j];
                    for (int b = 0; b < T; b++)
                        nn += c[a] * c[b] * G[a * T + b];
                }
                const double ni = sqrt(nn > 0.0 ? nn : 0.0);
                const double nj = sqrt(G[j * T + j] > 0.0 ? G[j * T + j] : 0.0);
                double rho = ni > 0.0 && nj > 0.0 ? dot / (ni * nj) : 0.0;
                rho = rho > 1.0 ? 1.0 : rho < -1.0 ? -1.0 : rho;
                const double target = RHO(st, i, j, g);
                const double s_target = sqrt(fmax(1.0 - target * target, 0.0));
                if (rho < target && ni > 0.0 && nj > 0.0 && s_target > 0.0) {
                    const double w = ni * (target * sqrt(fmax(1.0 - rho * rho, 0.0)) -
                                           rho * s_target) / (nj * s_target);
                    c[j] += w;
                    out->projected[i][j] = true;
                }
                RHO(st, i, j, g) = (1.0 - beta) * target + beta * rho;
            }
            for (int m = 0; m < T; m++)
                out->group_weight[g][m] += c[m];
        }
    }
}

const mtb_merge_method mtb_method_gradvac = {
    .name = "gradvac",
    .summary = "GradVac: lift each group's cosines to their running targets (Wang et al. "
               "2021; --gradvac-beta)",
    .stateful = true,
    .state_len = MTB_MAX_TASKS * MTB_MAX_TASKS * MTB_MAX_GROUPS,
    .merge = gradvac_merge,
};
