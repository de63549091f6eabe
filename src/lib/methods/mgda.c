/* The min-norm point of up to three vectors' convex hull, from their Gram
 * matrix (see mgda.h). */
#include "mgda.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "mtbert/merge.h"
#include "small_linalg.h"

#define MAX_N 3

/* The minimiser over the line through e_i and e_j, clamped to the segment:
 * f(g) = |g g_i + (1 - g) g_j|^2 is least at g = (Gjj - Gij) / (Gii + Gjj - 2 Gij). */
static void edge(const double *G, int n, int i, int j, double *a)
{
    memset(a, 0, sizeof(double) * (size_t)n);
    const double gii = G[i * n + i], gjj = G[j * n + j], gij = G[i * n + j];
    const double den = gii + gjj - 2.0 * gij;
    double g = den > 0.0 ? (gjj - gij) / den : 0.5;
    g = g < 0.0 ? 0.0 : g > 1.0 ? 1.0 : g;
    a[i] = g;
    a[j] = 1.0 - g;
}

/* The stationary point of f on the plane sum(a) = 1: G a = lambda 1, solved
 * as the bordered system [[G, 1], [1', 0]] by Gaussian elimination with
 * partial pivoting.  False when that system is singular (then a minimiser
 * lies on the boundary) or the point is outside the simplex. */
static bool interior(const double *G, int n, double *a)
{
    const int m = n + 1;
    double A[(MAX_N + 1) * (MAX_N + 1)], b[MAX_N + 1], x[MAX_N + 1];
    double scale = 0.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            A[i * m + j] = G[i * n + j];
            scale = fmax(scale, fabs(G[i * n + j]));
        }
        A[i * m + n] = 1.0;
        b[i] = 0.0;
    }
    for (int j = 0; j < n; j++)
        A[n * m + j] = 1.0;
    A[n * m + n] = 0.0;
    b[n] = 1.0;
    /* relative to the Gram's scale (and the border's 1): below 1e-12 the
     * system is singular up to the rounding its entries carry */
    if (!(scale > 0.0) || !sl_solve(A, b, m, 1e-12, n, x))
        return false;
    for (int i = 0; i < n; i++) {
        if (!(x[i] >= 0.0))
            return false;
        a[i] = x[i];
    }
    return true;
}

void mtb_mgda_min_norm(const double *G, int n, double *alpha)
{
    if (n <= 0)
        return;
    if (n > MAX_N)
        n = MAX_N;
    /* Candidates from the fewest tasks up; a later one must be strictly
     * smaller (beyond rounding) to win, so ties keep the simpler point. */
    double best[MAX_N], cand[MAX_N], fbest = INFINITY;
    const double tol = 1e-12;
    for (int i = 0; i < n; i++) {
        memset(cand, 0, sizeof cand);
        cand[i] = 1.0;
        const double f = sl_quad(G, n, cand);
        if (f < fbest * (1.0 - tol) || fbest == INFINITY) {
            fbest = f;
            memcpy(best, cand, sizeof best);
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            edge(G, n, i, j, cand);
            const double f = sl_quad(G, n, cand);
            if (f < fbest * (1.0 - tol)) {
                fbest = f;
                memcpy(best, cand, sizeof best);
            }
        }
    if (n == 3 && interior(G, n, cand)) {
        const double f = sl_quad(G, n, cand);
        if (f < fbest * (1.0 - tol)) {
            fbest = f;
            memcpy(best, cand, sizeof best);
        }
    }
    memcpy(alpha, best, sizeof(double) * (size_t)n);
}

/* ------------------------------------------------------------ the method */

static void mgda_merge(const mtb_merge_input *in, const mtb_merge_params *p, mtb_merge_state *st,
                       mtb_merge_output *out)
{
    (void)p;
    (void)st;
    mtb_mgda_min_norm(in->gram, in->n_tasks, out->weight);
}

const mtb_merge_method mtb_method_mgda = {
    .name = "mgda",
    .summary = "MGDA: the min-norm point of the gradients' hull (Sener & Koltun 2018)",
    .merge = mgda_merge,
};
