/* Unit tests for AdamW (adamw.h) against torch.optim.AdamW.
 *
 * The expected values below were produced once, by hand, with torch 1.13 in
 * float32 (the hyperparameters are the float32 values the C struct holds,
 * passed to torch as the Python floats they convert to):
 *
 *   import torch   # run as is, and with ATEN_CPU_CAPABILITY=default
 *   f32 = lambda x: float(torch.tensor(x, dtype=torch.float32))
 *   p0 = [0.5, -1.25, 2.0, 0.0, -0.375, 3.5, -0.0625]
 *   G = [[0.1, -0.2, 0.0, 1.5, -3.0, 0.25, 1e-3],
 *        [0.3, 0.05, 0.0, -1.0, 2.0, -0.5, 2e-3],
 *        [-0.7, 0.4, 1e-4, 0.75, -0.125, 4.0, -1e-3],
 *        [0.2, -0.9, -2e-4, 0.0, 1.0, -2.5, 5e-4],
 *        [1.1, 0.6, 0.5, -0.3, -0.8, 0.125, 0.0]]
 *   p = torch.nn.Parameter(torch.tensor(p0, dtype=torch.float32))
 *   opt = torch.optim.AdamW([p], lr=f32(1e-2), betas=(f32(0.9), f32(0.999)),
 *                           eps=f32(1e-8), weight_decay=f32(0.1), foreach=False)
 *   fmt = lambda t: ", ".join("%.9gf" % float(x) for x in t)
 *   for g in G:
 *       p.grad = torch.tensor(g, dtype=torch.float32)
 *       opt.step()
 *       print("{" + fmt(p.detach()) + "},")
 *   st = opt.state[p]
 *   print("m", fmt(st["exp_avg"]))
 *   print("v", fmt(st["exp_avg_sq"]))
 *
 * run twice: with ATEN_CPU_CAPABILITY=default (torch's portable kernels,
 * which do every float operation separately: "want_*") and with the AVX2
 * kernels this torch build picks by default ("fused_*").  %.9g round-trips
 * a float exactly.
 *
 * The C code performs torch's float operations in torch's order without
 * fusing, so it matches the portable kernels bit for bit; the test allows
 * what the contract promises, 2 ulp or 1e-7 relative.  torch's AVX2 kernels
 * (built with FMA) fuse exp_avg.add_(g, alpha) into fma(alpha, g, m) and
 * addcmul into fma(value*g, g, v), so they differ by a rounding per step;
 * cancellation in m then magnifies it (m[1] is 0.0019 after partial sums of
 * +-0.06, and lands 5 ulp away).  Against those the test allows
 * |diff| <= 1e-6 |want| + 1e-9: the observed gap is below 4e-7 relative,
 * while a genuine arithmetic mistake (decay after the update, eps inside
 * the square root, a wrong bias correction) moves values by 1e-5 or more.
 */
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

#include "mtbert/adamw.h"
#include "sparse_rows.h"

#define N 7
#define STEPS 5

static const float p0[N] = {0.5f, -1.25f, 2.0f, 0.0f, -0.375f, 3.5f, -0.0625f};

static const float grads[STEPS][N] = {
    {0.1f, -0.2f, 0.0f, 1.5f, -3.0f, 0.25f, 1e-3f},
    {0.3f, 0.05f, 0.0f, -1.0f, 2.0f, -0.5f, 2e-3f},
    {-0.7f, 0.4f, 1e-4f, 0.75f, -0.125f, 4.0f, -1e-3f},
    {0.2f, -0.9f, -2e-4f, 0.0f, 1.0f, -2.5f, 5e-4f},
    {1.1f, 0.6f, 0.5f, -0.3f, -0.8f, 0.125f, 0.0f},
};

/* Parameters after each step. */
static const float want_params[STEPS][N] = {
    {0.489500016f, -1.23874998f, 1.99800003f, -0.00999999978f, -0.364625007f, 3.48650002f,
     -0.0724373981f},
    {0.479832709f, -1.23281658f, 1.99600208f, -0.0114352051f, -0.362815171f, 3.48667455f,
     -0.0820167214f},
    {0.482255667f, -1.23560202f, 1.98761916f, -0.0149106123f, -0.361114353f, 3.47725272f,
     -0.0861355662f},
    {0.482609242f, -1.2306391f, 1.98849034f, -0.0177519098f, -0.361251354f, 3.47270203f,
     -0.090584226f},
    {0.478114635f, -1.22949803f, 1.98104811f, -0.0192904249f, -0.360159993f, 3.46817875f,
     -0.0943265706f},
};

/* Moment buffers after the last step. */
static const float want_m[N] = {0.0997310281f,  0.00192300603f, 0.0499901101f,  0.056265004f,
                                -0.0511550158f, 0.0914525166f,  0.000175410038f};
static const float want_v[N] = {0.00183864729f, 0.00137118518f, 0.00024999684f, 0.00388934207f,
                                0.014606473f,   0.0225386024f,  6.23168983e-09f};

/* The same run on torch's default (AVX2, FMA) kernels, after the last step. */
static const float fused_params[N] = {0.478114635f,   -1.22949803f, 1.98104811f, -0.0192904249f,
                                      -0.360159993f,  3.46817875f,  -0.0943265706f};
static const float fused_m[N] = {0.0997310281f,  0.00192300545f, 0.0499901101f,  0.056265004f,
                                 -0.0511550158f, 0.0914525166f,  0.000175410038f};
static const float fused_v[N] = {0.00183864718f, 0.0013711853f, 0.00024999684f, 0.00388934207f,
                                 0.014606473f,   0.0225386024f, 6.23168983e-09f};

/* Distance in units in the last place between two finite floats, counting
 * across zero (the bit patterns mapped onto a monotonic integer line). */
static int64_t ulp_distance(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
    int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return la > lb ? la - lb : lb - la;
}

static void assert_float_near(const char *what, size_t i, float got, float want)
{
    int64_t ulps = ulp_distance(got, want);
    double rel = fabs((double)got - (double)want) / fabs((double)want);
    if (!(isfinite(got) && (ulps <= 2 || rel <= 1e-7))) {
        print_error("%s[%zu]: got %.9g, want %.9g (%lld ulp)\n", what, i, got, want,
                    (long long)ulps);
        fail();
    }
}

static void test_defaults(void **state)
{
    (void)state;
    mtb_adamw_hparams hp;
    memset(&hp, 0xff, sizeof hp);
    mtb_adamw_defaults(&hp);
    assert_true(hp.lr == 1e-5f);
    assert_true(hp.beta1 == 0.9f);
    assert_true(hp.beta2 == 0.999f);
    assert_true(hp.eps == 1e-8f);
    assert_true(hp.weight_decay == 0.0f);
}

static void test_matches_torch(void **state)
{
    (void)state;
    mtb_adamw_hparams hp;
    mtb_adamw_defaults(&hp);
    hp.lr = 1e-2f;
    hp.weight_decay = 0.1f;

    float p[N], m[N] = {0}, v[N] = {0};
    memcpy(p, p0, sizeof p);
    int64_t worst = 0;
    for (int t = 1; t <= STEPS; t++) {
        mtb_adamw_step(&hp, t, p, grads[t - 1], m, v, N);
        for (size_t i = 0; i < N; i++) {
            char what[32];
            snprintf(what, sizeof what, "param step %d", t);
            assert_float_near(what, i, p[i], want_params[t - 1][i]);
            int64_t d = ulp_distance(p[i], want_params[t - 1][i]);
            if (d > worst)
                worst = d;
        }
    }
    for (size_t i = 0; i < N; i++) {
        assert_float_near("m", i, m[i], want_m[i]);
        assert_float_near("v", i, v[i], want_v[i]);
        int64_t dm = ulp_distance(m[i], want_m[i]), dv = ulp_distance(v[i], want_v[i]);
        if (dm > worst)
            worst = dm;
        if (dv > worst)
            worst = dv;
    }
    print_message("# adamw vs torch (portable kernels): worst distance %lld ulp\n",
                  (long long)worst);

    double worst_rel = 0.0;
    const float *fused[3] = {fused_params, fused_m, fused_v};
    const float *got[3] = {p, m, v};
    static const char *const names[3] = {"param", "m", "v"};
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < N; i++) {
            double diff = fabs((double)got[k][i] - (double)fused[k][i]);
            double want = fabs((double)fused[k][i]);
            if (diff / want > worst_rel)
                worst_rel = diff / want;
            if (!(diff <= 1e-6 * want + 1e-9)) {
                print_error("%s[%zu]: got %.9g, fused torch %.9g\n", names[k], i, got[k][i],
                            fused[k][i]);
                fail();
            }
        }
    }
    print_message("# adamw vs torch (FMA kernels): worst relative difference %.2e\n", worst_rel);
}

/* Without weight decay, a parameter whose gradient has always been zero has
 * m = v = 0, so its update is -step * 0 / eps = 0: it stays bit-identical.
 * The other parameters move. */
static void test_zero_grad_unchanged_without_decay(void **state)
{
    (void)state;
    mtb_adamw_hparams hp;
    mtb_adamw_defaults(&hp);
    hp.lr = 1e-2f;

    enum { n = 19 }; /* more than a vector width, with a tail */
    float p[n], g[n], m[n] = {0}, v[n] = {0}, start[n];
    for (int i = 0; i < n; i++)
        p[i] = start[i] = 0.25f * (float)(i - 9);
    for (int t = 1; t <= 10; t++) {
        for (int i = 0; i < n; i++)
            g[i] = i % 3 == 0 ? 0.0f : 0.1f * (float)((i + t) % 5) - 0.2f;
        g[1] = 0.5f; /* never zero, so at least one parameter must move */
        mtb_adamw_step(&hp, t, p, g, m, v, n);
    }
    int moved = 0;
    for (int i = 0; i < n; i++) {
        if (i % 3 == 0) {
            assert_memory_equal(&p[i], &start[i], sizeof p[i]);
            assert_true(m[i] == 0.0f && v[i] == 0.0f);
        } else {
            moved += p[i] != start[i];
        }
    }
    assert_true(moved > 0);
    assert_true(p[1] < start[1]);

    /* All-zero gradients from the start leave everything untouched. */
    float q[n], z[n] = {0}, m2[n] = {0}, v2[n] = {0};
    memcpy(q, start, sizeof q);
    for (int t = 1; t <= 3; t++)
        mtb_adamw_step(&hp, t, q, z, m2, v2, n);
    assert_memory_equal(q, start, sizeof q);
}

/* With weight decay and zero gradients the only change is p *= 1 - lr*wd. */
static void test_decay_only(void **state)
{
    (void)state;
    mtb_adamw_hparams hp;
    mtb_adamw_defaults(&hp);
    hp.lr = 1e-2f;
    hp.weight_decay = 0.1f;
    float p[3] = {1.0f, -2.0f, 0.0f}, g[3] = {0}, m[3] = {0}, v[3] = {0};
    mtb_adamw_step(&hp, 1, p, g, m, v, 3);
    const float k = (float)(1.0 - (double)1e-2f * (double)0.1f);
    assert_true(p[0] == k);
    assert_true(p[1] == -2.0f * k);
    assert_true(p[2] == 0.0f);
}

/* ------------------------------------------- merged and sparse variants */

static float frand(mtb_rng *rng)
{
    return (float)tu_uniform_pm1(rng);
}

static void assert_bits_equal(const float *a, const float *b, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
            fail_msg("%s[%zu]: %.9g vs %.9g", what, i, a[i], b[i]);
}

/* AdamW on the merged gradient never written out equals AdamW on the
 * gradient that mtb_grads_combine writes, bit for bit, for 1, 2 and 3
 * tasks and over several steps (n is not a multiple of any vector width or
 * work item). */
static void test_merged_equals_combined(void **state)
{
    (void)state;
    const size_t n = 70001;
    const double weights[3] = {0.75, -0.3125, 1.0 / 3.0};
    mtb_rng seed;
    mtb_rng_seed(&seed, 7);
    float *g[3];
    for (int t = 0; t < 3; t++) {
        g[t] = tu_alloc_floats(n);
        for (size_t i = 0; i < n; i++)
            g[t][i] = frand(&seed) * (float)(t + 1);
    }
    const float *cg[3] = {g[0], g[1], g[2]};
    mtb_adamw_hparams hp;
    mtb_adamw_defaults(&hp);
    hp.lr = 1e-3f;
    hp.weight_decay = 0.01f;
    for (int tasks = 1; tasks <= 3; tasks++) {
        float *p1 = tu_alloc_floats(n), *m1 = tu_alloc_floats(n), *v1 = tu_alloc_floats(n);
        float *p2 = tu_alloc_floats(n), *m2 = tu_alloc_floats(n), *v2 = tu_alloc_floats(n), *merged = tu_alloc_floats(n);
        for (size_t i = 0; i < n; i++)
            p1[i] = p2[i] = frand(&seed);
        for (long step = 1; step <= 3; step++) {
            mtb_adamw_step_merged(&hp, step, p1, cg, weights, tasks, m1, v1, n, NULL, NULL);
            mtb_merge_plan plan = {.n_tasks = tasks};
            for (int k = 0; k < tasks; k++)
                plan.weight[k] = weights[k];
            mtb_grads_combine(merged, cg, &plan, n);
            mtb_adamw_step(&hp, step, p2, merged, m2, v2, n);
        }
        assert_bits_equal(p1, p2, n, "params");
        assert_bits_equal(m1, m2, n, "m");
        assert_bits_equal(v1, v2, n, "v");
        free(p1), free(m1), free(v1), free(p2), free(m2), free(v2), free(merged);
    }
    for (int t = 0; t < 3; t++)
        free(g[t]);
}

/* A table whose untouched rows are skipped gives the same parameters and
 * moments as the dense update (== on floats: the sign of a zero moment may
 * differ, which no later step can see), with and without weight decay;
 * row_touched collects the rows that got a gradient. */
static void sparse_case(float weight_decay)
{
    enum { ROWS = 40, W = 13, TAIL = 29 };
    const size_t n = ROWS * W + TAIL;
    mtb_adamw_hparams hp;
    mtb_adamw_defaults(&hp);
    hp.lr = 2e-3f;
    hp.weight_decay = weight_decay;
    mtb_rng seed;
    mtb_rng_seed(&seed, 11);
    float *pd = tu_alloc_floats(n), *md = tu_alloc_floats(n), *vd = tu_alloc_floats(n);
    float *ps = tu_alloc_floats(n), *ms = tu_alloc_floats(n), *vs = tu_alloc_floats(n);
    float *g[2] = {tu_alloc_floats(n), tu_alloc_floats(n)};
    for (size_t i = 0; i < n; i++)
        pd[i] = ps[i] = frand(&seed);
    unsigned char touched[ROWS] = {0};
    static const int step_rows[3][4] = {{1, 5, 6, 30}, {5, 7, 39, -1}, {0, 2, 6, -1}};
    const double w[2] = {1.0, 1.0};
    for (int step = 0; step < 3; step++) {
        int listed[4], n_listed = 0;
        for (size_t i = 0; i < n; i++)
            g[0][i] = g[1][i] = 0.0f;
        for (int k = 0; k < 4 && step_rows[step][k] >= 0; k++) {
            const int r = step_rows[step][k];
            listed[n_listed++] = r;
            for (int c = 0; c < W; c++) {
                g[0][r * W + c] = frand(&seed);
                g[1][r * W + c] = frand(&seed);
            }
        }
        for (size_t i = ROWS * W; i < n; i++)
            g[0][i] = frand(&seed);
        const float *cg[2] = {g[0], g[1]};
        const mtb_sparse_rows sp = {0, W, ROWS, listed, (size_t)n_listed};
        mtb_adamw_step_merged(&hp, step + 1, pd, cg, w, 2, md, vd, n, NULL, NULL);
        mtb_adamw_step_merged(&hp, step + 1, ps, cg, w, 2, ms, vs, n, &sp, touched);
    }
    for (size_t i = 0; i < n; i++) {
        if (!(pd[i] == ps[i] && md[i] == ms[i] && vd[i] == vs[i]))
            fail_msg("element %zu (decay %g): %.9g %.9g %.9g vs %.9g %.9g %.9g", i,
                     (double)weight_decay, pd[i], md[i], vd[i], ps[i], ms[i], vs[i]);
    }
    static const int ever[] = {0, 1, 2, 5, 6, 7, 30, 39};
    int n_touched = 0;
    for (int r = 0; r < ROWS; r++)
        n_touched += touched[r];
    if (weight_decay == 0.0f) {
        assert_int_equal(n_touched, (int)(sizeof ever / sizeof *ever));
        for (size_t k = 0; k < sizeof ever / sizeof *ever; k++)
            assert_true(touched[ever[k]]);
        /* a row never touched kept its parameters exactly */
        const size_t row3 = 3 * W;
        float fresh[W];
        mtb_rng seed2;
        mtb_rng_seed(&seed2, 11);
        for (size_t i = 0; i < n; i++) {
            float x = frand(&seed2);
            if (i >= row3 && i < row3 + W)
                fresh[i - row3] = x;
        }
        assert_memory_equal(ps + row3, fresh, sizeof fresh);
    } else {
        assert_int_equal(n_touched, ROWS); /* decay reaches every row */
    }
    free(pd), free(md), free(vd), free(ps), free(ms), free(vs), free(g[0]), free(g[1]);
}

static void test_sparse_rows_equal_dense(void **state)
{
    (void)state;
    sparse_case(0.0f);
    sparse_case(0.01f);
}

/* A plan with per-group weights (GradVac's): AdamW's pass equals AdamW on
 * mtb_grads_combine's vector, bit for bit, with segments that start and
 * end inside work items and a gap between them that takes the plan's
 * outside weights. */
static void test_plan_segments_equal_combined(void **state)
{
    (void)state;
    const size_t n = 200003;
    mtb_rng seed;
    mtb_rng_seed(&seed, 12);
    float *g[2];
    for (int t = 0; t < 2; t++) {
        g[t] = tu_alloc_floats(n);
        for (size_t i = 0; i < n; i++)
            g[t][i] = frand(&seed);
    }
    const float *cg[2] = {g[0], g[1]};
    mtb_merge_plan plan = {.n_tasks = 2, .weight = {1.0, 1.0}, .n_segments = 2,
                           .seg_lo = {1000, 70000}, .seg_hi = {65537, 199999},
                           .seg_weight = {{0.5, 1.25}, {1.0, -0.125}}};
    mtb_adamw_hparams hp;
    mtb_adamw_defaults(&hp);
    hp.lr = 1e-3f;
    float *p1 = tu_alloc_floats(n), *m1 = tu_alloc_floats(n), *v1 = tu_alloc_floats(n);
    float *p2 = tu_alloc_floats(n), *m2 = tu_alloc_floats(n), *v2 = tu_alloc_floats(n), *merged = tu_alloc_floats(n);
    for (size_t i = 0; i < n; i++)
        p1[i] = p2[i] = frand(&seed);
    for (long step = 1; step <= 2; step++) {
        mtb_adamw_step_plan(&hp, step, p1, cg, &plan, m1, v1, n, NULL, NULL);
        mtb_grads_combine(merged, cg, &plan, n);
        mtb_adamw_step(&hp, step, p2, merged, m2, v2, n);
    }
    assert_bits_equal(p1, p2, n, "params");
    assert_bits_equal(m1, m2, n, "m");
    /* and the segments' weights were used: element 2000 is 0.5 g0 + 1.25 g1 */
    assert_true(merged[2000] == (float)(0.5 * (double)g[0][2000] + 1.25 * (double)g[1][2000]));
    assert_true(merged[68000] == (float)((double)g[0][68000] + (double)g[1][68000]));
    free(p1), free(m1), free(v1), free(p2), free(m2), free(v2), free(merged);
    free(g[0]), free(g[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_matches_torch),
        cmocka_unit_test(test_zero_grad_unchanged_without_decay),
        cmocka_unit_test(test_decay_only),
        cmocka_unit_test(test_merged_equals_combined),
        cmocka_unit_test(test_plan_segments_equal_combined),
        cmocka_unit_test(test_sparse_rows_equal_dense),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
