/* CAGrad (Liu et al. 2021, "Conflict-Averse Gradient Descent for Multi-task
 * Learning"), in the form of their Algorithm 1: with g0 the mean gradient
 * and g_w = sum_k w_k g_k,
 *
 *     w* = argmin over the simplex of  g_w . g0 + c |g0| |g_w|
 *     d  = (g0 + (c |g0| / |g_w*|) g_w*) / (1 + c^2)
 *
 * (the authors' code's default rescaling by 1 + c^2), so c = 0 is the mean
 * gradient and a larger c leans towards the worst-served task.  Both terms
 * are read off the Gram matrix: g_w . g0 = w' G 1 / T, |g_w|^2 = w' G w.
 * The objective is convex on the simplex (a linear term plus a norm); for
 * T <= 3 it is minimised by golden-section search, nested for T = 3 (the
 * partial minimum over one coordinate of a convex function is convex), to
 * ~1e-9 in w, instead of the authors' SLSQP. */
#include <math.h>
#include <string.h>

#include "mtbert/merge.h"
#include "small_linalg.h"

typedef struct cagrad_problem {
    int T;
    double G[MTB_MAX_TASKS * MTB_MAX_TASKS]; /* scaled to a mean diagonal of 1 */
    double b[MTB_MAX_TASKS];                 /* G 1 / T: g_k . g0 */
    double radius;                           /* c |g0| */
    double fixed;                            /* T = 3: the outer search's w[0] */
} cagrad_problem;

static double objective(const cagrad_problem *p, const double *w)
{
    double lin = 0.0;
    for (int k = 0; k < p->T; k++)
        lin += w[k] * p->b[k];
    const double q = sl_quad(p->G, p->T, w);
    return lin + p->radius * sqrt(q > 0.0 ? q : 0.0);
}

#define GOLDEN 0.6180339887498949
#define GOLDEN_STEPS 90 /* 0.618^90 ~ 1e-19 of the interval */

typedef double (*line_fn)(cagrad_problem *p, double x, double *w);

/* argmin over [lo, hi] of a convex f, and its minimiser's w */
static double golden(cagrad_problem *p, line_fn f, double lo, double hi, double *w_best)
{
    double w[MTB_MAX_TASKS];
    double a = lo, b = hi;
    double x1 = b - GOLDEN * (b - a), x2 = a + GOLDEN * (b - a);
    double f1 = f(p, x1, w), f2 = f(p, x2, w);
    for (int i = 0; i < GOLDEN_STEPS && b - a > 1e-15; i++) {
        if (f1 <= f2) {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - GOLDEN * (b - a);
            f1 = f(p, x1, w);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + GOLDEN * (b - a);
            f2 = f(p, x2, w);
        }
    }
    /* the ends too: a minimum on the boundary is common (one task served) */
    double best_x = 0.5 * (a + b), best = f(p, best_x, w_best);
    const double ends[2] = {lo, hi};
    for (int e = 0; e < 2; e++) {
        double fe = f(p, ends[e], w);
        if (fe < best) {
            best = fe;
            best_x = ends[e];
            memcpy(w_best, w, sizeof w);
        }
    }
    (void)best;
    return best_x;
}

/* T = 2: w = (x, 1 - x) */
static double line2(cagrad_problem *p, double x, double *w)
{
    w[0] = x;
    w[1] = 1.0 - x;
    return objective(p, w);
}

/* T = 3, inner: w = (fixed, y, 1 - fixed - y) */
static double line3_inner(cagrad_problem *p, double y, double *w)
{
    w[0] = p->fixed;
    w[1] = y;
    w[2] = 1.0 - p->fixed - y;
    if (w[2] < 0.0)
        w[2] = 0.0;
    return objective(p, w);
}

/* T = 3, outer: the minimum over y for this x */
static double line3(cagrad_problem *p, double x, double *w)
{
    p->fixed = x;
    golden(p, line3_inner, 0.0, 1.0 - x, w);
    return objective(p, w);
}

static void cagrad_merge(const mtb_merge_input *in, const mtb_merge_params *par,
                         mtb_merge_state *st, mtb_merge_output *out)
{
    (void)st;
    const int T = in->n_tasks;
    cagrad_problem p = {.T = T};
    double scale = 0.0;
    for (int k = 0; k < T; k++)
        scale += sl_gram(in, k, k) / T;
    double w[MTB_MAX_TASKS] = {0};
    for (int k = 0; k < T; k++)
        out->weight[k] = 1.0 / T / (1.0 + par->cagrad_c * par->cagrad_c);
    if (!(scale > 0.0) || T == 1)
        return; /* all zero (d = 0 anyway), or one task: its gradient */
    for (int a = 0; a < T; a++)
        for (int b = 0; b < T; b++)
            p.G[a * T + b] = sl_gram(in, a, b) / scale;
    double g0g0 = 0.0;
    for (int a = 0; a < T; a++) {
        p.b[a] = 0.0;
        for (int b = 0; b < T; b++)
            p.b[a] += p.G[a * T + b] / T;
        g0g0 += p.b[a] / T;
    }
    const double g0_norm = sqrt(g0g0 > 0.0 ? g0g0 : 0.0);
    p.radius = par->cagrad_c * g0_norm;
    if (T == 2)
        golden(&p, line2, 0.0, 1.0, w);
    else
        golden(&p, line3, 0.0, 1.0, w);
    const double gw2 = sl_quad(p.G, T, w);
    const double lambda = gw2 > 0.0 ? p.radius / sqrt(gw2) : 0.0;
    for (int k = 0; k < T; k++)
        out->weight[k] = (1.0 / T + lambda * w[k]) / (1.0 + par->cagrad_c * par->cagrad_c);
}

const mtb_merge_method mtb_method_cagrad = {
    .name = "cagrad",
    .summary = "CAGrad: best worst-task step near the mean (Liu et al. 2021; --cagrad-c)",
    .merge = cagrad_merge,
};
