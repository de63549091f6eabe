/* UPGrad (Quinton & Rey 2024, "Jacobian Descent for Multi-Objective
 * Optimization", section 4; TorchJD's default aggregator) with the mean as
 * preference: every task gradient, scaled by 1/T, is projected onto the
 * dual cone of the gradients {x : g_j . x >= 0 for all j}, and the
 * projections are summed.  The result never opposes any task.
 *
 * The projection of J' u (J the gradients as rows) onto that cone is J' v
 * with v the solution of the box-constrained quadratic programme
 *
 *     minimise v' G v  subject to  v >= u                  (their Prop. 1)
 *
 * so d = J' sum_i v(e_i / T) needs only the Gram matrix.  With T <= 3 the
 * programme is solved by trying each of the 2^T sets of free variables
 * (stationarity on the free ones, the rest at their bound), keeping the
 * feasible candidate of least value, then polishing by projected
 * coordinate descent, which cannot increase it and settles the singular
 * cases (parallel or zero gradients) where a candidate's free system has
 * many solutions. */
#include <math.h>
#include <string.h>

#include "mtbert/merge.h"
#include "small_linalg.h"

/* v = argmin v' G v s.t. v >= u */
static void project_weights(const double *G, int T, const double *u, double *v)
{
    double best = INFINITY;
    memcpy(v, u, sizeof(double) * (size_t)T); /* always feasible */
    best = sl_quad(G, T, v);
    for (int mask = 1; mask < (1 << T); mask++) {
        int free_idx[MTB_MAX_TASKS], nf = 0;
        for (int i = 0; i < T; i++)
            if (mask & (1 << i))
                free_idx[nf++] = i;
        /* G_FF v_F = -G_FA u_A */
        double A[MTB_MAX_TASKS * MTB_MAX_TASKS], b[MTB_MAX_TASKS], x[MTB_MAX_TASKS];
        for (int r = 0; r < nf; r++) {
            b[r] = 0.0;
            for (int c = 0; c < nf; c++)
                A[r * nf + c] = G[free_idx[r] * T + free_idx[c]];
            for (int k = 0; k < T; k++)
                if (!(mask & (1 << k)))
                    b[r] -= G[free_idx[r] * T + k] * u[k];
        }
        if (!sl_solve(A, b, nf, 1e-12, nf, x))
            continue;
        double cand[MTB_MAX_TASKS];
        memcpy(cand, u, sizeof cand);
        bool feasible = true;
        for (int r = 0; r < nf; r++) {
            cand[free_idx[r]] = x[r];
            feasible = feasible && x[r] >= u[free_idx[r]];
        }
        if (!feasible)
            continue;
        const double f = sl_quad(G, T, cand);
        if (f < best) {
            best = f;
            memcpy(v, cand, sizeof cand);
        }
    }
    /* projected coordinate descent: exact minimisation along one
     * coordinate at a time, clamped to its bound */
    for (int sweep = 0; sweep < 200; sweep++) {
        double moved = 0.0;
        for (int i = 0; i < T; i++) {
            const double gii = G[i * T + i];
            if (!(gii > 0.0))
                continue;
            double gv = 0.0;
            for (int k = 0; k < T; k++)
                gv += G[i * T + k] * v[k];
            double next = v[i] - gv / gii;
            next = next < u[i] ? u[i] : next;
            moved = fmax(moved, fabs(next - v[i]));
            v[i] = next;
        }
        if (!(moved > 1e-17))
            break;
    }
}

static void upgrad_merge(const mtb_merge_input *in, const mtb_merge_params *p,
                         mtb_merge_state *st, mtb_merge_output *out)
{
    (void)p;
    (void)st;
    const int T = in->n_tasks;
    for (int i = 0; i < T; i++) {
        double u[MTB_MAX_TASKS] = {0}, v[MTB_MAX_TASKS];
        u[i] = 1.0 / T;
        project_weights(in->gram, T, u, v);
        for (int k = 0; k < T; k++)
            out->weight[k] += v[k];
    }
}

const mtb_merge_method mtb_method_upgrad = {
    .name = "upgrad",
    .summary = "UPGrad: mean of the gradients projected onto the dual cone (Quinton & Rey 2024)",
    .merge = upgrad_merge,
};
