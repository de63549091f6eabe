/* Aligned-MTL (Senushkin et al. 2023, "Independent Component Alignment for
 * Multi-Task Learning", Algorithm 1): the gradient matrix is replaced by the
 * closest one with orthogonal, equal-norm components, G' = sigma_min U V',
 * so the update stops favouring the dominant task and conflicting
 * directions stop cancelling.  Through the eigen-decomposition of the Gram
 * matrix, G = V diag(lambda) V' (lambda = sigma^2):
 *
 *     B = sqrt(lambda_min) V diag(lambda^-1/2) V',   d = sum_k (B 1)_k g_k
 *
 * over the eigenpairs above lambda_max T eps_float (the rank the float
 * gradients support; lambda_min is the smallest of those), with the paper's
 * task weights all 1. */
#include <float.h>
#include <math.h>

#include "mtbert/merge.h"
#include "small_linalg.h"

static void aligned_merge(const mtb_merge_input *in, const mtb_merge_params *p,
                          mtb_merge_state *st, mtb_merge_output *out)
{
    (void)p;
    (void)st;
    const int T = in->n_tasks;
    double lambda[MTB_MAX_TASKS], V[MTB_MAX_TASKS * MTB_MAX_TASKS];
    sl_sym_eigen(in->gram, T, lambda, V);
    const double lmax = lambda[T - 1];
    if (!(lmax > 0.0))
        return; /* no gradient at all */
    const double tol = lmax * T * FLT_EPSILON;
    double lmin = lmax;
    for (int j = 0; j < T; j++)
        if (lambda[j] > tol && lambda[j] < lmin)
            lmin = lambda[j];
    for (int i = 0; i < T; i++) {
        double w = 0.0; /* (B 1)_i = sqrt(lmin) sum_j V_ij (sum_k V_kj) / sqrt(lambda_j) */
        for (int j = 0; j < T; j++) {
            if (!(lambda[j] > tol))
                continue;
            double col = 0.0;
            for (int k = 0; k < T; k++)
                col += V[k * T + j];
            w += V[i * T + j] * col / sqrt(lambda[j]);
        }
        out->weight[i] = sqrt(lmin) * w;
    }
}

const mtb_merge_method mtb_method_aligned = {
    .name = "aligned",
    .summary = "Aligned-MTL: align the gradients' principal components (Senushkin et al. 2023)",
    .merge = aligned_merge,
};
