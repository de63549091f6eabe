/* Nash-MTL (Navon et al. 2022, "Multi-Task Learning as a Bargaining Game"):
 * the Nash bargaining solution d = sum_k alpha_k g_k with alpha > 0 solving
 *
 *     (G alpha)_i = 1 / alpha_i   for every task i          (their eq. 2)
 *
 * on the Gram matrix normalised by its Frobenius norm, as the authors'
 * code does.  That equation is the stationarity condition of the strictly
 * convex f(alpha) = 1/2 alpha' G alpha - sum_i log alpha_i, which mtbert
 * minimises exactly by damped Newton steps (the authors approximate it
 * with a few convex-concave iterations through cvxpy).  A zero gradient
 * cannot bargain (its equation has no solution): it gets weight 0.  Where
 * gradients cancel exactly (a positive combination of them is zero) f has
 * no minimum and the paper's weights diverge; then a ridge of 1e-8
 * (relative to the normalised G) keeps them finite. */
#include <math.h>
#include <stdbool.h>

#include "mtbert/merge.h"
#include "small_linalg.h"

#define RIDGE 1e-8

static double nash_objective(const double *G, int n, const double *a)
{
    double f = 0.5 * sl_quad(G, n, a);
    for (int i = 0; i < n; i++)
        f -= log(a[i]);
    return f;
}

/* Damped Newton on f from the orthogonal gradients' solution; true when
 * it reached (G a)_i a_i = 1 (to 1e-13, or 1e-9 where rounding stops it),
 * false when f kept falling (no minimum) or the system broke down. */
static bool newton(const double *G, int m, double *a)
{
    for (int i = 0; i < m; i++)
        a[i] = 1.0 / sqrt(G[i * m + i]); /* the solution when the gradients are orthogonal */
    double f = nash_objective(G, m, a);
    for (int it = 0; it < 200; it++) {
        double grad[MTB_MAX_TASKS], H[MTB_MAX_TASKS * MTB_MAX_TASKS], step[MTB_MAX_TASKS];
        double gnorm = 0.0;
        for (int i = 0; i < m; i++) {
            double ga = 0.0;
            for (int j = 0; j < m; j++) {
                ga += G[i * m + j] * a[j];
                H[i * m + j] = G[i * m + j];
            }
            grad[i] = ga - 1.0 / a[i];
            H[i * m + i] += 1.0 / (a[i] * a[i]);
            gnorm = fmax(gnorm, fabs(grad[i] * a[i])); /* relative: |(G a)_i a_i - 1| */
        }
        if (gnorm < 1e-13)
            return true;
        if (!sl_solve(H, grad, m, 0.0, m, step))
            return false;
        /* stay positive, then halve until f decreases */
        double t = 1.0;
        for (int i = 0; i < m; i++)
            if (step[i] > 0.0 && t * step[i] >= a[i])
                t = 0.99 * a[i] / step[i];
        double next[MTB_MAX_TASKS], fn = f;
        /* Near the solution f's changes drop below its rounding: take the
         * full steps there, where Newton converges quadratically. */
        const bool close = gnorm < 1e-6 && t == 1.0;
        for (int halvings = 0; halvings < 60; halvings++, t *= 0.5) {
            for (int i = 0; i < m; i++)
                next[i] = a[i] - t * step[i];
            fn = nash_objective(G, m, next);
            if (fn <= f || close)
                break;
        }
        if (!close && !(fn <= f))
            return gnorm < 1e-9; /* rounding stops it: converged, or stuck */
        for (int i = 0; i < m; i++)
            a[i] = next[i];
        f = fn;
    }
    return false;
}

static void nashmtl_merge(const mtb_merge_input *in, const mtb_merge_params *p,
                          mtb_merge_state *st, mtb_merge_output *out)
{
    (void)p;
    (void)st;
    const int T = in->n_tasks;
    int live[MTB_MAX_TASKS], m = 0;
    for (int k = 0; k < T; k++)
        if (sl_gram(in, k, k) > 0.0)
            live[m++] = k;
    if (m == 0)
        return;
    double G[MTB_MAX_TASKS * MTB_MAX_TASKS], fro = 0.0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) {
            G[i * m + j] = sl_gram(in, live[i], live[j]);
            fro += G[i * m + j] * G[i * m + j];
        }
    fro = sqrt(fro);
    for (int i = 0; i < m * m; i++)
        G[i] /= fro;

    double a[MTB_MAX_TASKS];
    if (!newton(G, m, a)) {
        for (int i = 0; i < m; i++)
            G[i * m + i] += RIDGE;
        newton(G, m, a);
    }
    for (int i = 0; i < m; i++)
        out->weight[live[i]] = a[i];
}

const mtb_merge_method mtb_method_nashmtl = {
    .name = "nashmtl",
    .summary = "Nash-MTL: the Nash bargaining solution between tasks (Navon et al. 2022)",
    .merge = nashmtl_merge,
};
