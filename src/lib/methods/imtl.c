/* IMTL-G (Liu et al. 2021, "Towards Impartial Multi-task Learning",
 * section 3.2): the update whose projections onto every task's unit
 * gradient are equal, d . u_1 = ... = d . u_T with u_t = g_t / |g_t|, and
 * whose weights sum to one.  With D the rows g_1 - g_t and U the rows
 * u_1 - u_t (t = 2..T), their closed form is
 *
 *     alpha_{2..T} = g_1 U' (D U')^{-1},   alpha_1 = 1 - sum alpha_{2..T},
 *
 * every entry of which is a Gram entry over norms:
 *     (g_1 U')_t      = G11/n1 - G1t/nt,
 *     (D U')_{s,t}    = G11/n1 - G1t/nt - Gs1/n1 + Gst/nt.
 * A task without a gradient has no direction to be fair to: it gets weight
 * 0 and the others are solved among themselves.  Where D U' is singular
 * (gradients parallel in the same direction: every combination is equally
 * fair) the update is their mean. */
#include <math.h>

#include "mtbert/merge.h"
#include "small_linalg.h"

static void imtl_merge(const mtb_merge_input *in, const mtb_merge_params *p, mtb_merge_state *st,
                       mtb_merge_output *out)
{
    (void)p;
    (void)st;
    const int T = in->n_tasks;
    int live[MTB_MAX_TASKS], m = 0;
    double norm[MTB_MAX_TASKS];
    for (int k = 0; k < T; k++) {
        norm[k] = sqrt(fmax(sl_gram(in, k, k), 0.0));
        if (norm[k] > 0.0)
            live[m++] = k;
    }
    if (m == 0)
        return;
    if (m == 1) {
        out->weight[live[0]] = 1.0;
        return;
    }
    const int f = live[0];
    double A[(MTB_MAX_TASKS - 1) * (MTB_MAX_TASKS - 1)], rhs[MTB_MAX_TASKS - 1];
    double alpha[MTB_MAX_TASKS - 1];
    const int n = m - 1;
    for (int t = 0; t < n; t++) {
        const int kt = live[t + 1];
        rhs[t] = sl_gram(in, f, f) / norm[f] - sl_gram(in, f, kt) / norm[kt];
        for (int s = 0; s < n; s++) {
            const int ks = live[s + 1];
            /* A = (D U')': row t, column s is (D U')_{s,t} */
            A[t * n + s] = sl_gram(in, f, f) / norm[f] - sl_gram(in, f, kt) / norm[kt] -
                           sl_gram(in, ks, f) / norm[f] + sl_gram(in, ks, kt) / norm[kt];
        }
    }
    if (!sl_solve(A, rhs, n, 1e-10, n, alpha)) {
        for (int i = 0; i < m; i++)
            out->weight[live[i]] = 1.0 / m;
        return;
    }
    double rest = 1.0;
    for (int t = 0; t < n; t++) {
        out->weight[live[t + 1]] = alpha[t];
        rest -= alpha[t];
    }
    out->weight[f] = rest;
}

const mtb_merge_method mtb_method_imtl = {
    .name = "imtl",
    .summary = "IMTL-G: equal projection on every task's direction (Liu et al. 2021)",
    .merge = imtl_merge,
};
