/* PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning",
 * Algorithm 1).  Visiting the tasks in the given order, each task's
 * gradient is projected against every OTHER task's original gradient (in
 * that order) where their dot product is negative:
 *     g_i <- g_i - (g_i . g_j / |g_j|^2) g_j,
 * and the update is the sum of the projected gradients.  Every projected
 * gradient is a linear combination of the originals, g_i' = sum_k c_ik g_k,
 * so its dot with g_j is sum_k c_ik G[k][j] and |g_i' - g_i| is
 * sqrt(sum_jl c_ij c_il G[j][l]) over j, l != i: the whole algorithm runs
 * on the Gram matrix. */
#include <math.h>

#include "mtbert/merge.h"
#include "small_linalg.h"

static void pcgrad_merge(const mtb_merge_input *in, const mtb_merge_params *p,
                         mtb_merge_state *st, mtb_merge_output *out)
{
    (void)p;
    (void)st;
    const int T = in->n_tasks;
    for (int oi = 0; oi < T; oi++) {
        const int i = in->order[oi];
        double coef[MTB_MAX_TASKS] = {0}; /* g_i' = sum_k coef[k] g_k */
        coef[i] = 1.0;
        bool touched = false;
        for (int oj = 0; oj < T; oj++) {
            const int j = in->order[oj];
            const double jj = sl_gram(in, j, j);
            if (j == i || !(jj > 0.0))
                continue;
            double d = 0.0; /* g_i' . g_j; exactly G[i][j] before any projection */
            for (int k = 0; k < T; k++)
                d += coef[k] * sl_gram(in, k, j);
            if (d < 0.0) {
                coef[j] -= d / jj;
                touched = true;
                out->projected[i][j] = true;
            }
        }
        for (int k = 0; k < T; k++)
            out->weight[k] += coef[k];
        if (touched && sl_gram(in, i, i) > 0.0) {
            double dd = 0.0; /* |g_i' - g_i|^2, g_i' - g_i = sum_{k != i} coef[k] g_k */
            for (int a = 0; a < T; a++)
                for (int b = 0; b < T; b++)
                    if (a != i && b != i)
                        dd += coef[a] * coef[b] * sl_gram(in, a, b);
            out->change[i] = sqrt(dd > 0.0 ? dd : 0.0) / sqrt(sl_gram(in, i, i));
        }
    }
}

const mtb_merge_method mtb_method_pcgrad = {
    .name = "pcgrad",
    .summary = "PCGrad: project away conflicting components (Yu et al. 2020)",
    .merge = pcgrad_merge,
};
