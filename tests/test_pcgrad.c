/* Unit tests for PCGrad and the conflict statistics (src/lib/methods/pcgrad.c).
 *
 * The small cases use vectors whose projections are exact in binary floating
 * point (coefficients like -1/2, -1/4), so the expected values below are
 * derived by hand and most are compared exactly.  The large case checks the
 * library against a separate, plain double-precision implementation. */
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

#include "merge_util.h"
#include "sparse_rows.h"

#define TOL 1e-12 /* for hand-derived stats, computed in double */

/* ------------------------------------------------------------------ helpers */

/* The expressions name themselves in a failure. */
#define assert_close(got, want, tol) tu_assert_close(#got, got, want, tol, 0.0)
#define assert_rel(got, want, rtol) tu_assert_close(#got, got, want, 0.0, rtol)

static void assert_floats_equal(const float *got, const float *want, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (got[k] != want[k]) {
            fprintf(stderr, "element %zu: got %.9g, want %.9g\n", k, got[k], want[k]);
            fail();
        }
    }
}

/* Runs mu_pcgrad on small vectors (n <= 16) with the identity order unless
 * one is given, checking that the inputs are left unchanged. */
static void run_small(float *out, const float *const *g, const int *ids, int n_tasks, size_t n,
                      const int *order, bool project, const mtb_param_group *groups,
                      int n_groups, mtb_conflict_stats *st)
{
    float copy[MTB_MAX_TASKS][16];
    assert_true(n <= 16);
    for (int t = 0; t < n_tasks; t++)
        memcpy(copy[t], g[t], n * sizeof(float));
    int identity[MTB_MAX_TASKS] = {0, 1, 2};
    mu_pcgrad(out, g, ids, n_tasks, n, order ? order : identity, project, groups, n_groups, st);
    for (int t = 0; t < n_tasks; t++)
        assert_floats_equal(g[t], copy[t], n);
}

static void assert_no_projection(const mtb_conflict_stats *st)
{
    for (int i = 0; i < MTB_MAX_TASKS; i++) {
        assert_close(st->change[i], 0.0, 0.0);
        for (int j = 0; j < MTB_MAX_TASKS; j++)
            assert_false(st->projected[i][j]);
    }
}

/* ----------------------------------------------------------- hand-made cases */

/* g1 = (1, 0), g2 = (-1, 1):  g1.g2 = -1, |g1|^2 = 1, |g2|^2 = 2.
 *   g1' = g1 - (-1/2) g2 = (1, 0) + (-1/2, 1/2) = (1/2, 1/2)
 *   g2' = g2 - (-1/1) g1 = (-1, 1) + (1, 0)     = (0, 1)
 *   out = (1/2, 3/2)
 *   cos = -1 / (1 * sqrt 2)
 *   change1 = |(-1/2, 1/2)| / 1       = sqrt(1/2)
 *   change2 = |(1, 0)|      / sqrt(2) = sqrt(1/2) */
static void test_two_conflicting(void **state)
{
    (void)state;
    const float g1[2] = {1, 0}, g2[2] = {-1, 1};
    const float *g[2] = {g1, g2};
    const int ids[2] = {0, 1};
    float out[2];
    mtb_conflict_stats st;
    run_small(out, g, ids, 2, 2, NULL, true, NULL, 0, &st);

    const float want[2] = {0.5f, 1.5f};
    assert_floats_equal(out, want, 2);
    assert_int_equal(st.n_tasks, 2);
    assert_int_equal(st.task[0], 0);
    assert_int_equal(st.task[1], 1);
    assert_int_equal(st.n_pairs, 1);
    assert_int_equal(st.pair[0][0], 0);
    assert_int_equal(st.pair[0][1], 1);
    assert_int_equal(st.n_groups, 0);
    assert_close(st.norm[0], 1.0, TOL);
    assert_close(st.norm[1], sqrt(2.0), TOL);
    assert_close(st.cos[0], -1.0 / sqrt(2.0), TOL);
    assert_true(st.projected[0][1]);
    assert_true(st.projected[1][0]);
    assert_false(st.projected[0][0]);
    assert_false(st.projected[1][1]);
    assert_close(st.change[0], sqrt(0.5), TOL);
    assert_close(st.change[1], sqrt(0.5), TOL);

    /* The other visiting order gives the same vectors (each projection only
     * involves the original gradients) and here the same exact sum. */
    const int order[2] = {1, 0};
    run_small(out, g, ids, 2, 2, order, true, NULL, 0, &st);
    assert_floats_equal(out, want, 2);
}

/* The same two gradients handed over as tasks 2 (g1) and 0 (g2): the stats
 * list the tasks ascending, so position 0 is task 0 = g2, position 1 is
 * task 2 = g1.  norm = (sqrt 2, 1), change = (sqrt(1/2), sqrt(1/2)),
 * and projected[pos][pos] refers to those positions. */
static void test_task_id_mapping(void **state)
{
    (void)state;
    const float g1[2] = {1, 0}, g2[2] = {-1, 1};
    const float *g[2] = {g1, g2};
    const int ids[2] = {2, 0};
    float out[2];
    mtb_conflict_stats st;
    run_small(out, g, ids, 2, 2, NULL, true, NULL, 0, &st);
    const float want[2] = {0.5f, 1.5f};
    assert_floats_equal(out, want, 2);
    assert_int_equal(st.task[0], 0);
    assert_int_equal(st.task[1], 2);
    assert_close(st.norm[0], sqrt(2.0), TOL);
    assert_close(st.norm[1], 1.0, TOL);
    assert_close(st.cos[0], -1.0 / sqrt(2.0), TOL);
    assert_true(st.projected[0][1]);
    assert_true(st.projected[1][0]);
}

/* A case where projected[][] is not symmetric, handed over permuted.
 *   g1 = (1, 0, 0), g2 = (-1, 1, 0), g3 = (0, -1, 1)
 *   g1.g2 = -1, g1.g3 = 0, g2.g3 = -1;  |g1|^2 = 1, |g2|^2 = |g3|^2 = 2
 *   cos: (1,2) = -1/sqrt 2, (1,3) = 0, (2,3) = -1/2
 * Visiting order g1, g2, g3 (candidates j in the same order):
 *   g1: + (1/2) g2 = (1/2, 1/2, 0); its dot with g3 = -1/2, + (1/4) g3
 *       -> g1' = (1/2, 1/4, 1/4)  (projected against g3 although g1.g3 = 0)
 *       g1' - g1 = (-1/2, 1/4, 1/4), squared norm 3/8 -> change sqrt(3/8)
 *   g2: + g1 = (0, 1, 0); dot with g3 = -1, + (1/2) g3 -> g2' = (0, 1/2, 1/2)
 *       g2' - g2 = (1, -1/2, 1/2), squared 3/2 -> change sqrt(3/2)/sqrt 2 = sqrt(3/4)
 *   g3: g3.g1 = 0, not projected; + (1/2) g2 -> g3' = (-1/2, -1/2, 1)
 *       g3' - g3 = (-1/2, 1/2, 0), squared 1/2 -> change sqrt(1/2)/sqrt 2 = 1/2
 *   out = (1/2, 1/4, 1/4) + (0, 1/2, 1/2) + (-1/2, -1/2, 1) = (0, 1/4, 7/4)
 * grads = {g3, g1, g2} with ids {9, 1, 4}: ascending ids (1, 4, 9) put g1,
 * g2, g3 at positions 0, 1, 2; the order g1, g2, g3 is {1, 2, 0}. */
static void test_asymmetric_ids(void **state)
{
    (void)state;
    const float g1[3] = {1, 0, 0}, g2[3] = {-1, 1, 0}, g3[3] = {0, -1, 1};
    const float *g[3] = {g3, g1, g2};
    const int ids[3] = {9, 1, 4};
    const int order[3] = {1, 2, 0};
    float out[3];
    mtb_conflict_stats st;
    run_small(out, g, ids, 3, 3, order, true, NULL, 0, &st);
    const float want[3] = {0, 0.25f, 1.75f};
    assert_floats_equal(out, want, 3);
    assert_int_equal(st.task[0], 1);
    assert_int_equal(st.task[1], 4);
    assert_int_equal(st.task[2], 9);
    assert_close(st.norm[0], 1.0, TOL);
    assert_close(st.norm[1], sqrt(2.0), TOL);
    assert_close(st.norm[2], sqrt(2.0), TOL);
    assert_close(st.cos[0], -1.0 / sqrt(2.0), TOL);
    assert_close(st.cos[1], 0.0, TOL);
    assert_close(st.cos[2], -0.5, TOL);
    const bool want_proj[3][3] = {{false, true, true}, {true, false, true}, {false, true, false}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            assert_int_equal(st.projected[i][j], want_proj[i][j]);
    assert_close(st.change[0], sqrt(3.0 / 8.0), TOL);
    assert_close(st.change[1], sqrt(0.75), TOL);
    assert_close(st.change[2], 0.5, TOL);
}

/* Aligned: g1 = (1, 2, 0), g2 = (2, 1, 1), g1.g2 = 4 > 0: nothing projected,
 * out = (3, 3, 1), cos = 4 / (sqrt 5 sqrt 6) = 4 / sqrt 30. */
static void test_aligned(void **state)
{
    (void)state;
    const float g1[3] = {1, 2, 0}, g2[3] = {2, 1, 1};
    const float *g[2] = {g1, g2};
    const int ids[2] = {0, 1};
    float out[3];
    mtb_conflict_stats st;
    run_small(out, g, ids, 2, 3, NULL, true, NULL, 0, &st);
    const float want[3] = {3, 3, 1};
    assert_floats_equal(out, want, 3);
    assert_close(st.cos[0], 4.0 / sqrt(30.0), TOL);
    assert_close(st.norm[0], sqrt(5.0), TOL);
    assert_close(st.norm[1], sqrt(6.0), TOL);
    assert_no_projection(&st);
}

/* Three tasks in 3-D:  g1 = (1, 0, 0), g2 = (-1, 1, 0), g3 = (-1, 0, 1).
 *   g1.g2 = -1, g1.g3 = -1, g2.g3 = 1;  |g1|^2 = 1, |g2|^2 = |g3|^2 = 2.
 *   cos: (1,2) = -1/sqrt 2, (1,3) = -1/sqrt 2, (2,3) = 1/2.
 *
 * g1, order (g2, g3):  g1 + (1/2) g2 = (1/2, 1/2, 0); its dot with g3 is
 *   -1/2 < 0, so + (1/4) g3  ->  g1' = (1/4, 1/2, 1/4).
 * g1, order (g3, g2):  g1 + (1/2) g3 = (1/2, 0, 1/2); dot with g2 = -1/2,
 *   + (1/4) g2  ->  g1' = (1/4, 1/4, 1/2).
 * Either way g1' - g1 has squared norm 9/16 + 1/4 + 1/16 = 7/8.
 * g2: g2.g1 = -1 -> g2 + g1 = (0, 1, 0), whose dot with g3 is 0 (not
 *   projected); g2.g3 = 1 > 0 when g3 comes first.  g2' = (0, 1, 0),
 *   change |(1, 0, 0)| / sqrt 2.
 * g3 likewise: g3' = (0, 0, 1), change 1/sqrt 2, not projected against g2.
 * out, order (1, 2, 3) = (1/4, 3/2, 5/4);  order (1, 3, 2) = (1/4, 5/4, 3/2).
 *
 * Projections must use the ORIGINAL g1: had g2 been projected against the
 * projected g1' = (1/4, 1/2, 1/4), g2.g1' = 1/4 > 0 and g2 would be left
 * alone (out_x would then be 1/4 - 1 + ... != 1/4). */
static const float G3_1[3] = {1, 0, 0}, G3_2[3] = {-1, 1, 0}, G3_3[3] = {-1, 0, 1};

static void check_three_way_stats(const mtb_conflict_stats *st)
{
    assert_int_equal(st->n_tasks, 3);
    assert_int_equal(st->n_pairs, 3);
    const int pairs[3][2] = {{0, 1}, {0, 2}, {1, 2}};
    for (int p = 0; p < 3; p++) {
        assert_int_equal(st->pair[p][0], pairs[p][0]);
        assert_int_equal(st->pair[p][1], pairs[p][1]);
    }
    assert_close(st->norm[0], 1.0, TOL);
    assert_close(st->norm[1], sqrt(2.0), TOL);
    assert_close(st->norm[2], sqrt(2.0), TOL);
    assert_close(st->cos[0], -1.0 / sqrt(2.0), TOL);
    assert_close(st->cos[1], -1.0 / sqrt(2.0), TOL);
    assert_close(st->cos[2], 0.5, TOL);
}

static void check_three_way_projection(const mtb_conflict_stats *st)
{
    const bool want[3][3] = {{false, true, true}, {true, false, false}, {true, false, false}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            assert_int_equal(st->projected[i][j], want[i][j]);
    assert_close(st->change[0], sqrt(7.0 / 8.0), TOL);
    assert_close(st->change[1], 1.0 / sqrt(2.0), TOL);
    assert_close(st->change[2], 1.0 / sqrt(2.0), TOL);
}

static void test_three_way_order(void **state)
{
    (void)state;
    const float *g[3] = {G3_1, G3_2, G3_3};
    const int ids[3] = {0, 1, 2};
    float out[3];
    mtb_conflict_stats st;

    const int order_a[3] = {0, 1, 2};
    const float want_a[3] = {0.25f, 1.5f, 1.25f};
    run_small(out, g, ids, 3, 3, order_a, true, NULL, 0, &st);
    assert_floats_equal(out, want_a, 3);
    check_three_way_stats(&st);
    check_three_way_projection(&st);

    const int order_b[3] = {0, 2, 1};
    const float want_b[3] = {0.25f, 1.25f, 1.5f};
    run_small(out, g, ids, 3, 3, order_b, true, NULL, 0, &st);
    assert_floats_equal(out, want_b, 3);
    check_three_way_stats(&st);
    check_three_way_projection(&st);

    /* g1 meets g2 before g3 in (1, 2, 0) too, so this matches order_a. */
    const int order_c[3] = {1, 2, 0};
    run_small(out, g, ids, 3, 3, order_c, true, NULL, 0, &st);
    assert_floats_equal(out, want_a, 3);
    check_three_way_projection(&st);
}

/* The three-way vectors handed over as grads = {g3, g1, g2} with task ids
 * {7, 2, 5}: ascending ids (2, 5, 7) put g1, g2, g3 at positions 0, 1, 2, so
 * every statistic matches the identity case.  order {1, 2, 0} (indices into
 * grads: g1, g2, g3) is order_a above. */
static void test_three_way_ids(void **state)
{
    (void)state;
    const float *g[3] = {G3_3, G3_1, G3_2};
    const int ids[3] = {7, 2, 5};
    const int order[3] = {1, 2, 0};
    float out[3];
    mtb_conflict_stats st;
    run_small(out, g, ids, 3, 3, order, true, NULL, 0, &st);
    const float want[3] = {0.25f, 1.5f, 1.25f};
    assert_floats_equal(out, want, 3);
    assert_int_equal(st.task[0], 2);
    assert_int_equal(st.task[1], 5);
    assert_int_equal(st.task[2], 7);
    check_three_way_stats(&st);
    check_three_way_projection(&st);
}

/* Orthogonal gradients (dot exactly 0) are not projected: only a strictly
 * negative dot counts.  (1, 1).(1, -1) = 0 -> out = (2, 0), cos 0. */
static void test_orthogonal(void **state)
{
    (void)state;
    const float g1[2] = {1, 1}, g2[2] = {1, -1};
    const float *g[2] = {g1, g2};
    const int ids[2] = {0, 1};
    float out[2];
    mtb_conflict_stats st;
    run_small(out, g, ids, 2, 2, NULL, true, NULL, 0, &st);
    const float want[2] = {2, 0};
    assert_floats_equal(out, want, 2);
    assert_close(st.cos[0], 0.0, 0.0);
    assert_no_projection(&st);
}

/* project == false: out = g1 + g2 + g3 = (-1, 1, 1), and the statistics of
 * the original gradients are those of the projected run. */
static void test_no_project(void **state)
{
    (void)state;
    const float *g[3] = {G3_1, G3_2, G3_3};
    const int ids[3] = {0, 1, 2};
    const mtb_param_group groups[2] = {{"a", 0, 1}, {"b", 1, 2}};
    float out[3];
    mtb_conflict_stats on, off;
    run_small(out, g, ids, 3, 3, NULL, true, groups, 2, &on);
    run_small(out, g, ids, 3, 3, NULL, false, groups, 2, &off);
    const float want[3] = {-1, 1, 1};
    assert_floats_equal(out, want, 3);
    check_three_way_stats(&off);
    assert_no_projection(&off);

    assert_int_equal(off.n_tasks, on.n_tasks);
    assert_memory_equal(off.task, on.task, sizeof on.task);
    assert_int_equal(off.n_pairs, on.n_pairs);
    assert_memory_equal(off.pair, on.pair, sizeof on.pair);
    assert_int_equal(off.n_groups, on.n_groups);
    assert_memory_equal(off.norm, on.norm, sizeof on.norm);
    assert_memory_equal(off.cos, on.cos, sizeof on.cos);
    assert_memory_equal(off.group_cos, on.group_cos, sizeof on.group_cos);
}

/* Per-group cosines, n = 6, groups given out of address order with a gap:
 *   index:   0   1 | 2 | 3  4 | 5
 *   group:     a   | c |   b  | (gap)
 *   g1 =     1   2 | 5 | 0  0 | 1
 *   g2 =     2   4 |-1 | 1  0 | 0
 * group b (index 0): g1 is zero there  -> cos 0
 * group a (index 1): g2 = 2 g1         -> cos 1
 * group c (index 2): 5 * -1 < 0, 1-D   -> cos -1
 * whole vector: g1.g2 = 2 + 8 - 5 = 5, |g1|^2 = 1 + 4 + 25 + 1 = 31,
 *   |g2|^2 = 4 + 16 + 1 + 1 = 22  -> cos 5 / sqrt(682), not projected. */
static void test_group_cos(void **state)
{
    (void)state;
    const float g1[6] = {1, 2, 5, 0, 0, 1}, g2[6] = {2, 4, -1, 1, 0, 0};
    const float *g[2] = {g1, g2};
    const int ids[2] = {0, 1};
    const mtb_param_group groups[3] = {{"b", 3, 2}, {"a", 0, 2}, {"c", 2, 1}};
    float out[6];
    mtb_conflict_stats st;
    run_small(out, g, ids, 2, 6, NULL, true, groups, 3, &st);
    assert_int_equal(st.n_groups, 3);
    assert_close(st.group_cos[0][0], 0.0, 0.0);
    assert_close(st.group_cos[0][1], 1.0, TOL);
    assert_close(st.group_cos[0][2], -1.0, TOL);
    assert_close(st.cos[0], 5.0 / sqrt(682.0), TOL);
    assert_close(st.norm[0], sqrt(31.0), TOL);
    assert_close(st.norm[1], sqrt(22.0), TOL);
    const float want[6] = {3, 6, 4, 1, 0, 1};
    assert_floats_equal(out, want, 6);
    assert_no_projection(&st);

    /* Overlapping groups (mtbert never makes them, but they must still be
     * measured right):  [0, 4): g1 = (1, 2, 5, 0), g2 = (2, 4, -1, 1):
     *   dot 5, |g1|^2 30, |g2|^2 22 -> 5 / sqrt(660)
     * [2, 6): g1 = (5, 0, 0, 1), g2 = (-1, 1, 0, 0):
     *   dot -5, |g1|^2 26, |g2|^2 2 -> -5 / sqrt(52) */
    const mtb_param_group overlap[2] = {{"x", 0, 4}, {"y", 2, 4}};
    run_small(out, g, ids, 2, 6, NULL, true, overlap, 2, &st);
    assert_close(st.group_cos[0][0], 5.0 / sqrt(660.0), TOL);
    assert_close(st.group_cos[0][1], -5.0 / sqrt(52.0), TOL);
    assert_close(st.cos[0], 5.0 / sqrt(682.0), TOL);
    assert_floats_equal(out, want, 6);
}

static void assert_stats_finite(const mtb_conflict_stats *st)
{
    for (int i = 0; i < st->n_tasks; i++) {
        assert_true(isfinite(st->norm[i]));
        assert_true(isfinite(st->change[i]));
    }
    for (int p = 0; p < st->n_pairs; p++) {
        assert_true(isfinite(st->cos[p]));
        for (int k = 0; k < st->n_groups; k++)
            assert_true(isfinite(st->group_cos[p][k]));
    }
}

/* A task whose gradient is zero: g1 = (1, 2), g2 = (0, 0), g3 = (-1, 0).
 * Pairs with g2 have cosine 0, g2 is never projected nor projected against.
 *   g1.g3 = -1:  g1' = g1 + (1/1) g3 = (0, 2),      change |g3| / |g1| = 1/sqrt 5
 *   g3' = g3 + (1/5) g1 = (-4/5, 2/5),             change (1/5)|g1| / 1 = 1/sqrt 5
 *   out = (0, 2) + (0, 0) + (-4/5, 2/5) = (-4/5, 12/5)
 *   cos(1, 3) = -1 / sqrt 5. */
static void test_zero_task(void **state)
{
    (void)state;
    const float g1[2] = {1, 2}, g2[2] = {0, 0}, g3[2] = {-1, 0};
    const float *g[3] = {g1, g2, g3};
    const int ids[3] = {0, 1, 2};
    const mtb_param_group groups[2] = {{"a", 0, 1}, {"b", 1, 1}};
    float out[2];
    mtb_conflict_stats st;
    run_small(out, g, ids, 3, 2, NULL, true, groups, 2, &st);
    assert_stats_finite(&st);
    assert_close(out[0], -0.8, 1e-7);
    assert_close(out[1], 2.4, 2e-7);
    assert_close(st.norm[1], 0.0, 0.0);
    assert_close(st.cos[0], 0.0, 0.0);
    assert_close(st.cos[1], -1.0 / sqrt(5.0), TOL);
    assert_close(st.cos[2], 0.0, 0.0);
    /* group a (index 0): g1 = 1, g3 = -1 -> -1; group b: g3 is 0 there -> 0 */
    assert_close(st.group_cos[1][0], -1.0, TOL);
    assert_close(st.group_cos[1][1], 0.0, 0.0);
    for (int k = 0; k < 2; k++) {
        assert_close(st.group_cos[0][k], 0.0, 0.0);
        assert_close(st.group_cos[2][k], 0.0, 0.0);
    }
    assert_true(st.projected[0][2]);
    assert_true(st.projected[2][0]);
    assert_false(st.projected[0][1]);
    assert_false(st.projected[1][0]);
    assert_false(st.projected[1][2]);
    assert_false(st.projected[2][1]);
    assert_close(st.change[0], 1.0 / sqrt(5.0), TOL);
    assert_close(st.change[1], 0.0, 0.0);
    assert_close(st.change[2], 1.0 / sqrt(5.0), TOL);

    /* All gradients zero: out = 0 and no NaN anywhere. */
    const float *z[2] = {g2, g2};
    run_small(out, z, ids, 2, 2, NULL, true, groups, 2, &st);
    assert_stats_finite(&st);
    assert_floats_equal(out, g2, 2);
    assert_no_projection(&st);
}

/* One task: out = g, no pairs, |g| = |(3, 4)| = 5. */
static void test_single_task(void **state)
{
    (void)state;
    const float g1[2] = {3, 4};
    const float *g[1] = {g1};
    const int ids[1] = {2};
    const int order[1] = {0};
    float out[2];
    mtb_conflict_stats st;
    run_small(out, g, ids, 1, 2, order, true, NULL, 0, &st);
    assert_floats_equal(out, g1, 2);
    assert_int_equal(st.n_tasks, 1);
    assert_int_equal(st.task[0], 2);
    assert_int_equal(st.n_pairs, 0);
    assert_close(st.norm[0], 5.0, TOL);
    assert_no_projection(&st);
}

/* ---------------------------------------------------------------- large case */

static double ref_dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t k = 0; k < n; k++)
        s += a[k] * b[k];
    return s;
}

static double ref_cos(const double *a, const double *b, size_t n)
{
    double na = sqrt(ref_dot(a, a, n)), nb = sqrt(ref_dot(b, b, n));
    return na > 0 && nb > 0 ? ref_dot(a, b, n) / (na * nb) : 0.0;
}

/* Straightforward PCGrad in double, in the index space of grads. */
static void ref_pcgrad(double *out, double *const *g, int T, size_t n, const int *order,
                       bool projected[3][3], double change[3])
{
    double *gp = malloc(n * sizeof *gp);
    assert_non_null(gp);
    memset(out, 0, n * sizeof *out);
    for (int oi = 0; oi < T; oi++) {
        int i = order[oi];
        memcpy(gp, g[i], n * sizeof *gp);
        for (int oj = 0; oj < T; oj++) {
            int j = order[oj];
            projected[i][j] = false;
            if (j == i)
                continue;
            double d = ref_dot(gp, g[j], n), jj = ref_dot(g[j], g[j], n);
            if (jj > 0 && d < 0) {
                for (size_t k = 0; k < n; k++)
                    gp[k] -= d / jj * g[j][k];
                projected[i][j] = true;
            }
        }
        double diff = 0.0;
        for (size_t k = 0; k < n; k++) {
            diff += (gp[k] - g[i][k]) * (gp[k] - g[i][k]);
            out[k] += gp[k];
        }
        change[i] = sqrt(diff) / sqrt(ref_dot(g[i], g[i], n));
    }
    free(gp);
}

/* n = 1,000,003 (not a multiple of the block or lane counts), three tasks
 * with a shared component so that they conflict:
 *   g_A = c + r1,  g_B = -c + r2,  g_C = 0.01 (0.5 r1 - 0.5 r2 + r3)
 * (cos(A, B) ~ -1/2, B.C < 0, A.C > 0; C is 100x smaller).  Handed over as
 * grads = {A, B, C} with task ids {2, 0, 1}, so position p in the stats is
 * the grads index k with ids[k] == p; order {2, 0, 1}.  Five groups of
 * uneven sizes with gaps between and after them. */
static void test_large_random(void **state)
{
    (void)state;
    const size_t n = 1000003;
    const int T = 3, ids[3] = {2, 0, 1}, order[3] = {2, 0, 1};
    const mtb_param_group groups[5] = {{"embeddings", 0, 123457},   {"layer.0", 123457, 300000},
                                       {"layer.1", 423457, 250001}, {"layer.2", 673460, 300000},
                                       {"pooler", 973460, 20000}};
    double *gd[3], *ref = malloc(n * sizeof *ref);
    float *gf[3], *copy[3];
    assert_non_null(ref);
    mtb_rng rng;
    mtb_rng_seed(&rng, 12345);
    for (int t = 0; t < T; t++) {
        gd[t] = malloc(n * sizeof *gd[t]);
        assert_non_null(gd[t]);
        gf[t] = tu_alloc_floats(n);
        copy[t] = tu_alloc_floats(n);
    }
    for (size_t k = 0; k < n; k++) {
        double c = tu_uniform_pm1(&rng), r1 = tu_uniform_pm1(&rng), r2 = tu_uniform_pm1(&rng),
               r3 = tu_uniform_pm1(&rng);
        /* round to float first so that both implementations see the same input */
        gf[0][k] = (float)(c + r1);
        gf[1][k] = (float)(-c + r2);
        gf[2][k] = (float)(0.01 * (0.5 * r1 - 0.5 * r2 + r3));
    }
    for (int t = 0; t < T; t++) {
        for (size_t k = 0; k < n; k++)
            gd[t][k] = gf[t][k];
        memcpy(copy[t], gf[t], n * sizeof(float));
    }

    float *out = tu_alloc_floats(n), *out2 = tu_alloc_floats(n);
    const float *cg[3] = {gf[0], gf[1], gf[2]};
    mtb_conflict_stats st, st2;
    mu_pcgrad(out, cg, ids, T, n, order, true, groups, 5, &st);
    for (int t = 0; t < T; t++)
        assert_memory_equal(gf[t], copy[t], n * sizeof(float));

    bool rproj[3][3];
    double rchange[3];
    ref_pcgrad(ref, gd, T, n, order, rproj, rchange);

    /* position p <-> grads index k with ids[k] == p */
    int at[3];
    for (int k = 0; k < T; k++)
        at[ids[k]] = k;
    const double rtol = 1e-6;
    assert_int_equal(st.n_pairs, 3);
    for (int p = 0; p < T; p++) {
        assert_int_equal(st.task[p], p);
        assert_rel(st.norm[p], sqrt(ref_dot(gd[at[p]], gd[at[p]], n)), rtol);
        assert_rel(st.change[p], rchange[at[p]], rtol);
        for (int q = 0; q < T; q++)
            assert_int_equal(st.projected[p][q], rproj[at[p]][at[q]]);
    }
    int n_projected = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            n_projected += rproj[i][j];
    assert_true(n_projected >= 3); /* the case exercises several projections */
    for (int pr = 0; pr < 3; pr++) {
        const double *a = gd[at[st.pair[pr][0]]], *b = gd[at[st.pair[pr][1]]];
        assert_rel(st.cos[pr], ref_cos(a, b, n), rtol);
        for (int k = 0; k < 5; k++) {
            size_t off = groups[k].offset;
            assert_close(st.group_cos[pr][k], ref_cos(a + off, b + off, groups[k].numel), 1e-9);
        }
    }
    double err = 0.0, norm = 0.0;
    for (size_t k = 0; k < n; k++) {
        err += (out[k] - ref[k]) * (out[k] - ref[k]);
        norm += ref[k] * ref[k];
    }
    printf("large: |out - ref| / |ref| = %.3g, projections %d, cos %.4f %.4f %.4f\n",
           sqrt(err / norm), n_projected, st.cos[0], st.cos[1], st.cos[2]);
    assert_true(sqrt(err / norm) <= rtol);

    /* bit-reproducible */
    mu_pcgrad(out2, cg, ids, T, n, order, true, groups, 5, &st2);
    assert_memory_equal(out, out2, n * sizeof(float));
    assert_memory_equal(st.norm, st2.norm, sizeof st.norm);
    assert_memory_equal(st.cos, st2.cos, sizeof st.cos);
    assert_memory_equal(st.group_cos, st2.group_cos, sizeof st.group_cos);
    assert_memory_equal(st.change, st2.change, sizeof st.change);
    assert_memory_equal(st.projected, st2.projected, sizeof st.projected);

    free(out);
    free(out2);
    free(ref);
    for (int t = 0; t < T; t++) {
        free(gd[t]);
        free(gf[t]);
        free(copy[t]);
    }
}


/* The merge is a weighted sum of the original gradients: mu_pcgrad's out is
 * mtb_grads_combine of mtb_merge_weights' weights, bit for bit.  Naming the
 * rows of a table that can be nonzero changes no statistic beyond rounding
 * (1e-12) and no projection decision. */
static void test_weights_and_sparse_rows(void **state)
{
    (void)state;
    enum { ROWS = 300, W = 64 };
    const size_t table = ROWS * W, n = table + 5000;
    const int T = 3, ids[3] = {0, 1, 2}, order[3] = {1, 2, 0};
    const mtb_param_group groups[2] = {{"embeddings", 0, table + 1000}, {"layer.0", table + 1000, 4000}};
    static const int listed[] = {3, 17, 18, 150, 299};
    const int n_listed = (int)(sizeof listed / sizeof *listed);
    float *g[3];
    mtb_rng rng;
    mtb_rng_seed(&rng, 99);
    for (int t = 0; t < T; t++)
        g[t] = tu_alloc_floats(n);
    for (size_t k = 0; k < n; k++) {
        bool in_table = k < table, live = !in_table;
        for (int i = 0; in_table && i < n_listed; i++)
            live |= k / W == (size_t)listed[i];
        if (!live)
            continue;
        double c = tu_uniform_pm1(&rng);
        g[0][k] = (float)(c + tu_uniform_pm1(&rng));
        g[1][k] = (float)(-c + tu_uniform_pm1(&rng));
        g[2][k] = (float)(0.3 * tu_uniform_pm1(&rng) - 0.2 * c);
    }
    const float *cg[3] = {g[0], g[1], g[2]};
    mtb_merge_plan p_dense, p_sparse;
    const double *w_dense = p_dense.weight, *w_sparse = p_sparse.weight;
    mtb_conflict_stats dense, sparse;
    const mtb_sparse_rows sp = {0, W, ROWS, listed, (size_t)n_listed};
    mtb_merge_weights(cg, ids, T, n, order, &mtb_method_pcgrad, NULL, groups, 2, NULL, &dense,
                      &p_dense);
    mtb_merge_weights(cg, ids, T, n, order, &mtb_method_pcgrad, NULL, groups, 2, &sp, &sparse,
                      &p_sparse);
    assert_memory_equal(dense.projected, sparse.projected, sizeof dense.projected);
    int n_projected = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            n_projected += dense.projected[i][j];
    assert_true(n_projected > 0);
    for (int t = 0; t < T; t++) {
        assert_rel(sparse.norm[t], dense.norm[t], 1e-12);
        assert_rel(sparse.change[t], dense.change[t], 1e-12);
        assert_rel(w_sparse[t], w_dense[t], 1e-12);
    }
    for (int pr = 0; pr < 3; pr++) {
        assert_close(sparse.cos[pr], dense.cos[pr], 1e-12);
        for (int k = 0; k < 2; k++)
            assert_close(sparse.group_cos[pr][k], dense.group_cos[pr][k], 1e-12);
    }

    float *out = tu_alloc_floats(n), *combined = tu_alloc_floats(n);
    mu_pcgrad(out, cg, ids, T, n, order, true, groups, 2, NULL);
    mtb_grads_combine(combined, cg, &p_dense, n);
    assert_memory_equal(out, combined, n * sizeof(float));
    /* and the weights are PCGrad's: against the double reference */
    double *gd[3], *ref = malloc(n * sizeof *ref);
    assert_non_null(ref);
    for (int t = 0; t < T; t++) {
        gd[t] = malloc(n * sizeof *gd[t]);
        assert_non_null(gd[t]);
        for (size_t k = 0; k < n; k++)
            gd[t][k] = g[t][k];
    }
    bool rproj[3][3];
    double rchange[3];
    ref_pcgrad(ref, gd, T, n, order, rproj, rchange);
    for (size_t k = 0; k < n; k++)
        assert_close(out[k], ref[k], 1e-6 * (fabs(ref[k]) + 1e-3));
    for (int t = 0; t < T; t++) {
        free(g[t]);
        free(gd[t]);
    }
    free(ref);
    free(out);
    free(combined);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_conflicting),
        cmocka_unit_test(test_task_id_mapping),
        cmocka_unit_test(test_asymmetric_ids),
        cmocka_unit_test(test_aligned),
        cmocka_unit_test(test_three_way_order),
        cmocka_unit_test(test_three_way_ids),
        cmocka_unit_test(test_orthogonal),
        cmocka_unit_test(test_no_project),
        cmocka_unit_test(test_group_cos),
        cmocka_unit_test(test_zero_task),
        cmocka_unit_test(test_single_task),
        cmocka_unit_test(test_large_random),
        cmocka_unit_test(test_weights_and_sparse_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
