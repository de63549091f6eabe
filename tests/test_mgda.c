/* MGDA's min-norm point (mgda.h): hand-derived cases, the optimality
 * conditions on random Gram matrices, a brute-force search over the simplex
 * as an independent reference, and the merge through mtb_merge_weights on
 * real vectors (the update never opposes a task). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgda.h"
#include "mtbert/merge.h"

static void gram_of(const double *g, int n, int dim, double *G)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int k = 0; k < dim; k++)
                s += g[i * dim + k] * g[j * dim + k];
            G[i * n + j] = s;
        }
}

static double quad(const double *G, int n, const double *a)
{
    double f = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            f += a[i] * G[i * n + j] * a[j];
    return f;
}

/* alpha of mtb_mgda_min_norm for the n gradients g [n, dim], and their
 * Gram matrix G [n, n]. */
static void min_norm_of(const double *g, int n, int dim, double *G, double *a)
{
    gram_of(g, n, dim, G);
    mtb_mgda_min_norm(G, n, a);
}

/* g1 = (1, 0), g2 = (0, 2): alpha = (4/5, 1/5), d = (4/5, 2/5), and
 * d . g_i = |d|^2 = 4/5 for both (the point is equidistant in that sense). */
static void test_two_orthogonal(void **state)
{
    (void)state;
    const double g[4] = {1, 0, 0, 2};
    double G[4], a[2];
    min_norm_of(g, 2, 2, G, a);
    tu_assert_close("alpha_1", a[0], 0.8, 1e-15, 0.0);
    tu_assert_close("alpha_2", a[1], 0.2, 1e-15, 0.0);
}

/* Opposed gradients of equal norm: the hull holds 0, at alpha = (1/2, 1/2). */
static void test_two_opposed(void **state)
{
    (void)state;
    const double g[6] = {1, -2, 3, -1, 2, -3};
    double G[4], a[2];
    min_norm_of(g, 2, 3, G, a);
    tu_assert_close("alpha_1", a[0], 0.5, 1e-15, 0.0);
    tu_assert_close("|d|^2", quad(G, 2, a), 0.0, 1e-14, 0.0);
}

/* One gradient is much smaller and inside the others' cone: all the weight
 * goes to it (the smallest vertex is the min-norm point). */
static void test_dominated_by_small(void **state)
{
    (void)state;
    const double g[9] = {10, 1, 0, 1, 10, 0, 0.5, 0.5, 0};
    double G[9], a[3];
    min_norm_of(g, 3, 3, G, a);
    tu_assert_close("alpha of the small gradient", a[2], 1.0, 1e-15, 0.0);
    tu_assert_close("the others", a[0] + a[1], 0.0, 1e-15, 0.0);
}

/* A zero gradient: d = 0 by putting all weight on it; parallel equal
 * gradients: every alpha gives the same point, and the first task alone is
 * taken. */
static void test_zero_and_parallel(void **state)
{
    (void)state;
    const double gz[9] = {1, 2, 3, 0, 0, 0, -1, 0, 4};
    double G[9], a[3];
    min_norm_of(gz, 3, 3, G, a);
    tu_assert_close("alpha of the zero gradient", a[1], 1.0, 0.0, 0.0);
    const double gp[9] = {1, 2, 3, 1, 2, 3, 1, 2, 3};
    min_norm_of(gp, 3, 3, G, a);
    tu_assert_close("alpha_1 of equal gradients", a[0], 1.0, 0.0, 0.0);
    /* one task: its own gradient */
    double one = 4.0, a1;
    mtb_mgda_min_norm(&one, 1, &a1);
    tu_assert_close("a single task", a1, 1.0, 0.0, 0.0);
}

/* Three gradients in general position whose min-norm point is interior:
 * g = e1, e2, e3 scaled 1, 2, 4 in R^3.  alpha_i is proportional to 1/|g_i|^2:
 * (16, 4, 1) / 21. */
static void test_interior_point(void **state)
{
    (void)state;
    const double g[9] = {1, 0, 0, 0, 2, 0, 0, 0, 4};
    double G[9], a[3];
    min_norm_of(g, 3, 3, G, a);
    tu_assert_close("alpha_1", a[0], 16.0 / 21, 1e-14, 0.0);
    tu_assert_close("alpha_2", a[1], 4.0 / 21, 1e-14, 0.0);
    tu_assert_close("alpha_3", a[2], 1.0 / 21, 1e-14, 0.0);
}

/* Random gradient sets (2 and 3 tasks, with a shared component of random
 * sign so that some conflict): the result is on the simplex, satisfies the
 * optimality condition (G alpha)_i >= alpha' G alpha for every i, and is no
 * worse than the best point of a 1/400 grid over the simplex. */
static void test_random_against_grid(void **state)
{
    (void)state;
    mtb_rng rng;
    mtb_rng_seed(&rng, 2024);
    int interior_cases = 0;
    for (int c = 0; c < 200; c++) {
        const int n = 2 + c % 2, dim = 5;
        double g[3 * 5], G[9], a[3];
        const double shared = tu_uniform_pm1(&rng) * 2.0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < dim; k++)
                g[i * dim + k] = tu_uniform_pm1(&rng) + (k == 0 ? (i % 2 ? -shared : shared) : 0.0);
        gram_of(g, n, dim, G);
        mtb_mgda_min_norm(G, n, a);
        double sum = 0.0;
        int support = 0;
        for (int i = 0; i < n; i++) {
            assert_true(a[i] >= 0.0);
            sum += a[i];
            support += a[i] > 0.0;
        }
        interior_cases += n == 3 && support == 3;
        tu_assert_close("sum of alpha", sum, 1.0, 1e-12, 0.0);
        const double f = quad(G, n, a);
        for (int i = 0; i < n; i++) {
            double gi = 0.0;
            for (int j = 0; j < n; j++)
                gi += G[i * n + j] * a[j];
            if (gi < f - 1e-9 * (1.0 + f))
                fail_msg("case %d: (G alpha)_%d = %.12g < |d|^2 = %.12g", c, i, gi, f);
        }
        double best = INFINITY;
        const int steps = 400;
        for (int x = 0; x <= steps; x++)
            for (int y = 0; n == 3 ? y <= steps - x : y == 0; y++) {
                double p[3] = {(double)x / steps, 0, 0};
                if (n == 2) {
                    p[1] = 1.0 - p[0];
                } else {
                    p[1] = (double)y / steps;
                    p[2] = 1.0 - p[0] - p[1];
                }
                best = fmin(best, quad(G, n, p));
            }
        if (f > best + 1e-12 * (1.0 + best))
            fail_msg("case %d: |d|^2 = %.12g above the grid's %.12g", c, f, best);
    }
    printf("# 200 random sets: %d of the 3-task ones with all three in the support\n",
           interior_cases);
    assert_true(interior_cases > 10); /* the interior solve is exercised */
}

/* Through mtb_merge_weights on float vectors: the weights are the solver's
 * (stats record them per task), and the merged update has no negative inner
 * product with any task gradient. */
static void test_merge_never_opposes_a_task(void **state)
{
    (void)state;
    enum { N = 10007 };
    static float g[3][N];
    mtb_rng rng;
    mtb_rng_seed(&rng, 9);
    for (size_t k = 0; k < N; k++) {
        const double c = tu_uniform_pm1(&rng);
        g[0][k] = (float)(c + 0.3 * tu_uniform_pm1(&rng));
        g[1][k] = (float)(-c + 0.3 * tu_uniform_pm1(&rng));
        g[2][k] = (float)(0.1 * tu_uniform_pm1(&rng) + 0.2 * c);
    }
    const float *cg[3] = {g[0], g[1], g[2]};
    const int ids[3] = {0, 1, 2}, order[3] = {0, 1, 2};
    mtb_merge_plan plan;
    const double *w = plan.weight;
    mtb_conflict_stats st;
    mtb_merge_weights(cg, ids, 3, N, order, &mtb_method_mgda, NULL, NULL, 0, NULL, &st, &plan);
    tu_assert_close("weights sum", w[0] + w[1] + w[2], 1.0, 1e-12, 0.0);
    static float d[N];
    mtb_grads_combine(d, cg, &plan, N);
    for (int t = 0; t < 3; t++) {
        double dot = 0.0;
        for (size_t k = 0; k < N; k++)
            dot += (double)d[k] * g[t][k];
        printf("# merged . g_%d = %.6g (weight %.6f)\n", t, dot, w[t]);
        assert_true(dot >= -1e-6);
        tu_assert_close("stats weight", st.weight[t], w[t], 0.0, 0.0);
    }
    /* sum mode records weights of 1 */
    mtb_merge_weights(cg, ids, 3, N, order, &mtb_method_sum, NULL, NULL, 0, NULL, &st, &plan);
    for (int t = 0; t < 3; t++)
        tu_assert_close("sum weight", st.weight[t], 1.0, 0.0, 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_orthogonal),
        cmocka_unit_test(test_two_opposed),
        cmocka_unit_test(test_dominated_by_small),
        cmocka_unit_test(test_zero_and_parallel),
        cmocka_unit_test(test_interior_point),
        cmocka_unit_test(test_random_against_grid),
        cmocka_unit_test(test_merge_never_opposes_a_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
