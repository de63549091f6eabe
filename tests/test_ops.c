/* Unit tests for the layer operations (ops.h) and the random number generator.
 *
 * Gradient checks compare every analytic gradient element with a central
 * difference of the float forward pass:
 *
 *     numeric = (L(x+) - L(x-)) / (x+ - x-),   L = sum(out * w) in double,
 *
 * where x+ and x- are the float values actually stored after perturbing by
 * FD_STEP, so the rounding of the perturbation itself is not an error source.
 * With L accumulated in double, what remains is the float rounding of the
 * forward pass (about 6e-8 relative per output, i.e. ~1e-6 absolute in L for
 * the sizes used here, which the 2e-3 denominator turns into ~5e-4) plus the
 * O(h^2 f''') truncation term (~1e-6 for these smooth ops at h = 1e-3).
 * The tolerance |a - n| <= FD_ATOL + FD_RTOL |n| with FD_ATOL = 2e-3 and
 * FD_RTOL = 5e-3 leaves a margin of several times the worst error observed
 * (each check prints its worst err/tol ratio), while any real bug - a missing
 * term, a wrong scale, a transposed index - shows up as an O(1) error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "mtbert/parallel.h"
#include "../src/lib/vmath.h"

#define M_PI_VALUE 3.14159265358979323846
#include "mtbert/rng.h"

#define FD_STEP 1e-3
#define FD_ATOL 2e-3
#define FD_RTOL 5e-3

/* ------------------------------------------------------------------ helpers */

static void fill_normal(float *x, size_t n, float mean, float sd, mtb_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = mean + sd * mtb_rng_normal(rng);
}

static double weighted_sum(const float *out, const float *w, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)out[i] * (double)w[i];
    return s;
}

/* The check of every gradient below (see the top of the file). */
static const tu_fd_check OPS_FD = {FD_STEP, FD_ATOL, FD_RTOL, false, 1e-2};

/* ---------------------------------------------------------------------- rng */

static void test_rng_splitmix_seeding(void **state)
{
    (void)state;
    /* splitmix64 from 0: the published first outputs of the reference code. */
    mtb_rng r;
    mtb_rng_seed(&r, 0);
    assert_true(r.s[0] == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(r.s[1] == UINT64_C(0x6e789e6aa1b965f4));
    assert_true(r.s[2] == UINT64_C(0x06c45d188009454f));
    assert_true(r.s[3] == UINT64_C(0xf88bb8a8724c81ec));
}

static void test_rng_xoshiro_reference(void **state)
{
    (void)state;
    /* xoshiro256** reference outputs from the state {1, 2, 3, 4}. */
    static const uint64_t want[] = {
        UINT64_C(11520),
        UINT64_C(0),
        UINT64_C(1509978240),
        UINT64_C(1215971899390074240),
        UINT64_C(1216172134540287360),
        UINT64_C(607988272756665600),
        UINT64_C(16172922978634559625),
        UINT64_C(8476171486693032832),
        UINT64_C(10595114339597558777),
        UINT64_C(2904607092377533576),
    };
    mtb_rng r = {{1, 2, 3, 4}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_true(mtb_rng_next(&r) == want[i]);
}

static void test_rng_determinism(void **state)
{
    (void)state;
    mtb_rng a, b, c;
    mtb_rng_seed(&a, 42);
    mtb_rng_seed(&b, 42);
    mtb_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = mtb_rng_next(&a), y = mtb_rng_next(&b), z = mtb_rng_next(&c);
        assert_true(x == y);
        differ += x != z;
    }
    assert_true(differ > 990);

    /* Every draw function is a pure function of the state. */
    mtb_rng_seed(&a, 7);
    mtb_rng_seed(&b, 7);
    for (int i = 0; i < 100; i++) {
        assert_true(mtb_rng_uniform(&a) == mtb_rng_uniform(&b));
        assert_true(mtb_rng_normal(&a) == mtb_rng_normal(&b));
        assert_true(mtb_rng_below(&a, 1000) == mtb_rng_below(&b, 1000));
    }
    assert_memory_equal(a.s, b.s, sizeof a.s);
}

static void test_rng_uniform(void **state)
{
    (void)state;
    mtb_rng r;
    mtb_rng_seed(&r, 1);
    const int n = 100000;
    double sum = 0.0;
    float lo = 1.0f, hi = 0.0f;
    for (int i = 0; i < n; i++) {
        float u = mtb_rng_uniform(&r);
        assert_true(u >= 0.0f && u < 1.0f);
        /* 24 random bits: u * 2^24 is an integer. */
        float scaled = u * 16777216.0f;
        assert_true(scaled == floorf(scaled));
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    /* Mean of n uniforms: sd = sqrt(1/12 / n) = 9.1e-4; allow 5 sd. */
    tu_assert_close("uniform mean", sum / n, 0.5, 5 * 9.2e-4, 0.0);
    assert_true(lo < 1e-3f && hi > 1.0f - 1e-3f);
}

static void test_rng_normal(void **state)
{
    (void)state;
    mtb_rng r;
    mtb_rng_seed(&r, 2);
    const int n = 100000;
    double sum = 0.0, sumsq = 0.0;
    for (int i = 0; i < n; i++) {
        float z = mtb_rng_normal(&r);
        assert_true(isfinite(z));
        sum += z;
        sumsq += (double)z * z;
    }
    double mean = sum / n;
    double var = sumsq / n - mean * mean;
    print_message("# normal: mean %.5f var %.5f over %d draws\n", mean, var, n);
    /* sd of the mean 1/sqrt(n) = 3.2e-3, of the variance sqrt(2/n) = 4.5e-3:
     * 5 sd each. */
    tu_assert_close("normal mean", mean, 0.0, 0.016, 0.0);
    tu_assert_close("normal variance", var, 1.0, 0.023, 0.0);
}

static void test_rng_below(void **state)
{
    (void)state;
    mtb_rng r;
    mtb_rng_seed(&r, 3);
    static const uint32_t bounds[] = {1, 2, 3, 7, 10, 1000, 1u << 31, (1u << 31) + 1, UINT32_MAX};
    for (size_t k = 0; k < sizeof bounds / sizeof bounds[0]; k++)
        for (int i = 0; i < 10000; i++)
            assert_true(mtb_rng_below(&r, bounds[k]) < bounds[k]);

    /* Each of 7 values ~ Binomial(70000, 1/7): mean 10000, sd 92; 5 sd. */
    int count[7] = {0};
    for (int i = 0; i < 70000; i++)
        count[mtb_rng_below(&r, 7)]++;
    for (int v = 0; v < 7; v++)
        assert_in_range(count[v], 10000 - 460, 10000 + 460);
}

/* ------------------------------------------------------------------- linear */

typedef struct {
    int n, in_dim, out_dim;
    float *in, *w, *b, *out, *lw;
} linear_ctx;

static double linear_loss(void *p)
{
    linear_ctx *c = p;
    mtb_linear_forward(c->out, c->in, c->w, c->b, c->n, c->in_dim, c->out_dim);
    return weighted_sum(c->out, c->lw, (size_t)c->n * c->out_dim);
}

static void linear_setup(linear_ctx *c, int n, int in_dim, int out_dim, uint64_t seed)
{
    mtb_rng r;
    mtb_rng_seed(&r, seed);
    c->n = n;
    c->in_dim = in_dim;
    c->out_dim = out_dim;
    c->in = tu_alloc_floats((size_t)n * in_dim);
    c->w = tu_alloc_floats((size_t)out_dim * in_dim);
    c->b = tu_alloc_floats((size_t)out_dim);
    c->out = tu_alloc_floats((size_t)n * out_dim);
    c->lw = tu_alloc_floats((size_t)n * out_dim);
    tu_fill_uniform(c->in, (size_t)n * in_dim, -1, 1, &r);
    tu_fill_uniform(c->w, (size_t)out_dim * in_dim, -1, 1, &r);
    tu_fill_uniform(c->b, (size_t)out_dim, -1, 1, &r);
    tu_fill_uniform(c->lw, (size_t)n * out_dim, -1, 1, &r);
}

static void linear_teardown(linear_ctx *c)
{
    free(c->in);
    free(c->w);
    free(c->b);
    free(c->out);
    free(c->lw);
}

static void test_linear_forward_naive(void **state)
{
    (void)state;
    linear_ctx c;
    linear_setup(&c, 7, 13, 9, 11);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        /* Garbage in out must not leak into the result (beta = 0 path). */
        for (int i = 0; i < c.n * c.out_dim; i++)
            c.out[i] = 1e6f;
        mtb_linear_forward(c.out, c.in, c.w, with_bias ? c.b : NULL, c.n, c.in_dim, c.out_dim);
        for (int i = 0; i < c.n; i++)
            for (int o = 0; o < c.out_dim; o++) {
                double ref = with_bias ? c.b[o] : 0.0, mag = fabs(ref);
                for (int k = 0; k < c.in_dim; k++) {
                    double t = (double)c.in[i * c.in_dim + k] * c.w[o * c.in_dim + k];
                    ref += t;
                    mag += fabs(t);
                }
                /* Standard float dot-product bound: (K+1) eps sum|terms|. */
                tu_assert_close("linear out", c.out[i * c.out_dim + o], ref,
                                (c.in_dim + 1) * FLT_EPSILON * mag, 0.0);
            }
    }
    linear_teardown(&c);
}

static void test_linear_grad(void **state)
{
    (void)state;
    linear_ctx c;
    linear_setup(&c, 4, 6, 5, 12);
    float *din = tu_alloc_floats((size_t)c.n * c.in_dim);
    float *dw = tu_alloc_floats((size_t)c.out_dim * c.in_dim);
    float *db = tu_alloc_floats((size_t)c.out_dim);
    linear_loss(&c);
    mtb_linear_backward(din, dw, db, c.lw, c.in, c.w, c.n, c.in_dim, c.out_dim);
    tu_check_grad("linear.in", c.in, din, (size_t)c.n * c.in_dim, OPS_FD, linear_loss, &c);
    tu_check_grad("linear.weight", c.w, dw, (size_t)c.out_dim * c.in_dim, OPS_FD, linear_loss, &c);
    tu_check_grad("linear.bias", c.b, db, (size_t)c.out_dim, OPS_FD, linear_loss, &c);
    free(din);
    free(dw);
    free(db);
    linear_teardown(&c);
}

static void test_linear_backward_accumulates(void **state)
{
    (void)state;
    linear_ctx c;
    linear_setup(&c, 9, 10, 11, 13);
    const size_t ni = (size_t)c.n * c.in_dim, nw = (size_t)c.out_dim * c.in_dim;
    float *din1 = tu_alloc_floats(ni), *dw1 = tu_alloc_floats(nw), *db1 = tu_alloc_floats(c.out_dim);
    float *din2 = tu_alloc_floats(ni), *dw2 = tu_alloc_floats(nw), *db2 = tu_alloc_floats(c.out_dim);
    mtb_linear_backward(din1, dw1, db1, c.lw, c.in, c.w, c.n, c.in_dim, c.out_dim);
    for (int rep = 0; rep < 2; rep++)
        mtb_linear_backward(din2, dw2, db2, c.lw, c.in, c.w, c.n, c.in_dim, c.out_dim);
    tu_assert_doubled(din1, din2, ni, 1e-6);
    tu_assert_doubled(dw1, dw2, nw, 1e-6);
    tu_assert_doubled(db1, db2, c.out_dim, 1e-6);

    /* NULL outputs are skipped and do not change the others. */
    float *din3 = tu_alloc_floats(ni), *dw3 = tu_alloc_floats(nw), *db3 = tu_alloc_floats(c.out_dim);
    mtb_linear_backward(din3, NULL, NULL, c.lw, c.in, c.w, c.n, c.in_dim, c.out_dim);
    mtb_linear_backward(NULL, dw3, NULL, c.lw, c.in, c.w, c.n, c.in_dim, c.out_dim);
    mtb_linear_backward(NULL, NULL, db3, c.lw, c.in, c.w, c.n, c.in_dim, c.out_dim);
    assert_memory_equal(din1, din3, ni * sizeof(float));
    assert_memory_equal(dw1, dw3, nw * sizeof(float));
    assert_memory_equal(db1, db3, c.out_dim * sizeof(float));

    free(din1);
    free(dw1);
    free(db1);
    free(din2);
    free(dw2);
    free(db2);
    free(din3);
    free(dw3);
    free(db3);
    linear_teardown(&c);
}

/* ---------------------------------------------------------------- layernorm */

typedef struct {
    int n, dim;
    float eps;
    float *in, *gamma, *beta, *out, *mean, *rstd, *lw;
} ln_ctx;

static double ln_loss(void *p)
{
    ln_ctx *c = p;
    mtb_layernorm_forward(c->out, c->mean, c->rstd, c->in, c->gamma, c->beta, c->n, c->dim,
                          c->eps);
    return weighted_sum(c->out, c->lw, (size_t)c->n * c->dim);
}

static void ln_setup(ln_ctx *c, int n, int dim, float eps, uint64_t seed)
{
    mtb_rng r;
    mtb_rng_seed(&r, seed);
    c->n = n;
    c->dim = dim;
    c->eps = eps;
    const size_t nd = (size_t)n * dim;
    c->in = tu_alloc_floats(nd);
    c->gamma = tu_alloc_floats(dim);
    c->beta = tu_alloc_floats(dim);
    c->out = tu_alloc_floats(nd);
    c->mean = tu_alloc_floats(n);
    c->rstd = tu_alloc_floats(n);
    c->lw = tu_alloc_floats(nd);
    /* Rows with different offsets and spreads, so mean and variance both matter. */
    for (int i = 0; i < n; i++)
        fill_normal(c->in + (size_t)i * dim, dim, (float)(i % 3) * 2.0f - 2.0f,
                    0.5f + 0.5f * (float)(i % 4), &r);
    fill_normal(c->gamma, dim, 1.0f, 0.3f, &r);
    fill_normal(c->beta, dim, 0.0f, 0.5f, &r);
    tu_fill_uniform(c->lw, nd, -1, 1, &r);
}

static void ln_teardown(ln_ctx *c)
{
    free(c->in);
    free(c->gamma);
    free(c->beta);
    free(c->out);
    free(c->mean);
    free(c->rstd);
    free(c->lw);
}

static void test_layernorm_normalises(void **state)
{
    (void)state;
    ln_ctx c;
    ln_setup(&c, 6, 768, 1e-12f, 21);
    for (int i = 0; i < c.dim; i++) {
        c.gamma[i] = 1.0f;
        c.beta[i] = 0.0f;
    }
    ln_loss(&c);
    for (int r = 0; r < c.n; r++) {
        const float *y = c.out + (size_t)r * c.dim;
        double m = 0.0, v = 0.0;
        for (int i = 0; i < c.dim; i++)
            m += y[i];
        m /= c.dim;
        for (int i = 0; i < c.dim; i++)
            v += (y[i] - m) * (y[i] - m);
        v /= c.dim;
        tu_assert_close("normalised mean", m, 0.0, 1e-6, 0.0);
        tu_assert_close("normalised variance", v, 1.0, 1e-5, 0.0);
    }
    ln_teardown(&c);
}

/* The accumulation-precision decision in layernorm.c, checked: at dim 768,
 * even for a row whose mean is 100 times its spread, the float result stays
 * within a few ulps of a double-precision LayerNorm. */
static void test_layernorm_matches_double(void **state)
{
    (void)state;
    ln_ctx c;
    ln_setup(&c, 8, 768, 1e-12f, 22);
    /* A large common offset stresses the variance computation. */
    for (int i = 0; i < c.dim; i++)
        c.in[i] += 50.0f;
    ln_loss(&c);
    double worst = 0.0;
    for (int r = 0; r < c.n; r++) {
        const float *x = c.in + (size_t)r * c.dim;
        double m = 0.0, v = 0.0;
        for (int i = 0; i < c.dim; i++)
            m += x[i];
        m /= c.dim;
        for (int i = 0; i < c.dim; i++)
            v += (x[i] - m) * (x[i] - m);
        v /= c.dim;
        double rs = 1.0 / sqrt(v + c.eps);
        tu_assert_close("saved mean", c.mean[r], m, 1e-6 * (1.0 + fabs(m)), 0.0);
        tu_assert_close("saved rstd", c.rstd[r], rs, 1e-6 * rs, 0.0);
        for (int i = 0; i < c.dim; i++) {
            double ref = (x[i] - m) * rs * c.gamma[i] + c.beta[i];
            double err = fabs(c.out[(size_t)r * c.dim + i] - ref);
            worst = err > worst ? err : worst;
        }
    }
    print_message("# layernorm dim 768 vs double: max abs error %.2e\n", worst);
    /* Outputs reach ~8 here (ulp 9.5e-7); a float-only mean would give ~3e-5
     * on the offset row. */
    assert_true(worst <= 3e-6);
    ln_teardown(&c);
}

static void test_layernorm_grad(void **state)
{
    (void)state;
    ln_ctx c;
    /* dim 19: two 8-wide blocks plus a scalar tail. */
    ln_setup(&c, 4, 19, 1e-5f, 23);
    const size_t nd = (size_t)c.n * c.dim;
    float *din = tu_alloc_floats(nd), *dg = tu_alloc_floats(c.dim), *dbt = tu_alloc_floats(c.dim);
    ln_loss(&c);
    mtb_layernorm_backward(din, dg, dbt, c.lw, c.in, c.gamma, c.mean, c.rstd, c.n, c.dim);
    tu_check_grad("layernorm.in", c.in, din, nd, OPS_FD, ln_loss, &c);
    tu_check_grad("layernorm.gamma", c.gamma, dg, c.dim, OPS_FD, ln_loss, &c);
    tu_check_grad("layernorm.beta", c.beta, dbt, c.dim, OPS_FD, ln_loss, &c);
    free(din);
    free(dg);
    free(dbt);
    ln_teardown(&c);
}

static void test_layernorm_backward_accumulates(void **state)
{
    (void)state;
    ln_ctx c;
    ln_setup(&c, 5, 40, 1e-12f, 24);
    const size_t nd = (size_t)c.n * c.dim;
    float *din1 = tu_alloc_floats(nd), *dg1 = tu_alloc_floats(c.dim), *db1 = tu_alloc_floats(c.dim);
    float *din2 = tu_alloc_floats(nd), *dg2 = tu_alloc_floats(c.dim), *db2 = tu_alloc_floats(c.dim);
    ln_loss(&c);
    mtb_layernorm_backward(din1, dg1, db1, c.lw, c.in, c.gamma, c.mean, c.rstd, c.n, c.dim);
    for (int rep = 0; rep < 2; rep++)
        mtb_layernorm_backward(din2, dg2, db2, c.lw, c.in, c.gamma, c.mean, c.rstd, c.n, c.dim);
    tu_assert_doubled(din1, din2, nd, 1e-6);
    tu_assert_doubled(dg1, dg2, c.dim, 1e-6);
    tu_assert_doubled(db1, db2, c.dim, 1e-6);

    float *din3 = tu_alloc_floats(nd), *dg3 = tu_alloc_floats(c.dim);
    mtb_layernorm_backward(din3, NULL, NULL, c.lw, c.in, c.gamma, c.mean, c.rstd, c.n, c.dim);
    mtb_layernorm_backward(NULL, dg3, NULL, c.lw, c.in, c.gamma, c.mean, c.rstd, c.n, c.dim);
    assert_memory_equal(din1, din3, nd * sizeof(float));
    assert_memory_equal(dg1, dg3, c.dim * sizeof(float));
    free(din1);
    free(dg1);
    free(db1);
    free(din2);
    free(dg2);
    free(db2);
    free(din3);
    free(dg3);
    ln_teardown(&c);
}

/* -------------------------------------------------------------- activations */

static void test_gelu_values(void **state)
{
    (void)state;
    static const struct {
        float x;
        double y;
    } cases[] = {
        {1.0f, 0.8413447460685429},   {-1.0f, -0.15865525393145707},
        {0.0f, 0.0},                  {0.5f, 0.34573123063700656},
        {2.0f, 1.9544997361036416},   {-3.0f, -0.00404969409489031},
        {-0.25f, -0.10032341857926907}, {4.0f, 3.9998733150326675},
    };
    const size_t n = sizeof cases / sizeof cases[0];
    float x[8], y[8];
    for (size_t i = 0; i < n; i++)
        x[i] = cases[i].x;
    mtb_gelu_forward(y, x, n);
    for (size_t i = 0; i < n; i++)
        /* A few ulps relative, plus 2e-7 absolute for the cancellation in
         * 1 + erf(x) at negative x, which the erf form has by definition. */
        tu_assert_close("gelu", y[i], cases[i].y, 2e-7 + 4 * FLT_EPSILON * fabs(cases[i].y), 0.0);
}

/* The vectorised GELU (and its derivative) on a dense grid: within 3e-7 of
 * the exact erf form computed in double, and the same bits as the
 * branch-free formula evaluated here one element at a time in baseline
 * x86-64 code, whatever vector width (AVX-512, AVX2, SSE2) the library
 * picked on this CPU. */
static void test_gelu_grid_and_vector_widths(void **state)
{
    (void)state;
    const size_t n = 200001;
    float *x = tu_alloc_floats(n), *y = tu_alloc_floats(n), *d = tu_alloc_floats(n), *ones = tu_alloc_floats(n);
    for (size_t i = 0; i < n; i++) {
        x[i] = -10.0f + 20.0f * (float)i / (float)(n - 1);
        ones[i] = 1.0f;
    }
    mtb_gelu_forward(y, x, n);
    mtb_gelu_backward(d, ones, x, n);
    double worst = 0, worst_d = 0;
    for (size_t i = 0; i < n; i++) {
        const double xd = x[i];
        const double cdf = 0.5 * erfc(-xd / sqrt(2.0));
        const double want = xd * cdf;
        const double want_d = cdf + xd * exp(-0.5 * xd * xd) / sqrt(2.0 * M_PI_VALUE);
        worst = fmax(worst, fabs(y[i] - want) / fmax(1.0, fabs(want)));
        worst_d = fmax(worst_d, fabs(d[i] - want_d));
        const float scalar = x[i] * mtb_vnormal_cdf(x[i]);
        const float scalar_d = 1.0f * (mtb_vnormal_cdf(x[i]) +
                                       x[i] * (0.39894228040143267794f *
                                               mtb_vexpf(-0.5f * x[i] * x[i])));
        if (memcmp(&scalar, &y[i], sizeof scalar) != 0 ||
            memcmp(&scalar_d, &d[i], sizeof scalar_d) != 0)
            fail_msg("x = %.9g: vector %.9g / %.9g, scalar %.9g / %.9g", x[i], y[i], d[i],
                     scalar, scalar_d);
    }
    printf("# gelu on [-10, 10]: worst error %.3g (forward), %.3g (derivative)\n", worst,
           worst_d);
    assert_true(worst < 3e-7);
    assert_true(worst_d < 3e-7);
    /* A NaN stays NaN (the divergence guard must see it); -inf gives NaN as
     * x Phi(x) does, +inf stays +inf. */
    float special[3] = {NAN, -INFINITY, INFINITY}, out[3], dout[3] = {0, 0, 0};
    mtb_gelu_forward(out, special, 3);
    mtb_gelu_backward(dout, ones, special, 3);
    assert_true(isnan(out[0]) && isnan(dout[0]));
    assert_true(isnan(out[1]));
    assert_true(out[2] == INFINITY);
    free(x);
    free(y);
    free(d);
    free(ones);
}

static void test_tanh_values(void **state)
{
    (void)state;
    float x[7] = {-5.0f, -1.0f, -0.3f, 0.0f, 0.2f, 1.5f, 10.0f}, y[7];
    mtb_tanh_forward(y, x, 7);
    for (int i = 0; i < 7; i++)
        tu_assert_close("tanh", y[i], tanh((double)x[i]),
                        2 * FLT_EPSILON * fabs(tanh(x[i])) + 1e-9, 0.0);
}

typedef struct {
    int kind; /* 0 gelu, 1 tanh, 2 dropout */
    size_t n;
    float p;
    uint64_t seed;
    float *in, *out, *scale, *lw;
} act_ctx;

static double act_loss(void *ptr)
{
    act_ctx *c = ptr;
    if (c->kind == 0) {
        mtb_gelu_forward(c->out, c->in, c->n);
    } else if (c->kind == 1) {
        mtb_tanh_forward(c->out, c->in, c->n);
    } else {
        /* Reseeding replays the same mask at every evaluation. */
        mtb_rng r;
        mtb_rng_seed(&r, c->seed);
        mtb_dropout_forward(c->out, c->scale, c->in, c->n, c->p, &r);
    }
    return weighted_sum(c->out, c->lw, c->n);
}

static void act_setup(act_ctx *c, int kind, size_t n, uint64_t seed)
{
    mtb_rng r;
    mtb_rng_seed(&r, seed);
    c->kind = kind;
    c->n = n;
    c->p = 0.3f;
    c->seed = seed + 1000;
    c->in = tu_alloc_floats(n);
    c->out = tu_alloc_floats(n);
    c->scale = tu_alloc_floats(n);
    c->lw = tu_alloc_floats(n);
    tu_fill_uniform(c->in, n, -4, 4, &r);
    tu_fill_uniform(c->lw, n, -1, 1, &r);
}

static void act_teardown(act_ctx *c)
{
    free(c->in);
    free(c->out);
    free(c->scale);
    free(c->lw);
}

static void act_backward(act_ctx *c, float *din)
{
    act_loss(c);
    if (c->kind == 0)
        mtb_gelu_backward(din, c->lw, c->in, c->n);
    else if (c->kind == 1)
        mtb_tanh_backward(din, c->lw, c->out, c->n);
    else
        mtb_dropout_backward(din, c->lw, c->scale, c->n);
}

static void test_activation_grads(void **state)
{
    (void)state;
    static const char *const names[] = {"gelu.in", "tanh.in", "dropout.in"};
    for (int kind = 0; kind < 3; kind++) {
        act_ctx c;
        act_setup(&c, kind, 64, 30 + kind);
        float *din = tu_alloc_floats(c.n);
        act_backward(&c, din);
        tu_check_grad(names[kind], c.in, din, c.n, OPS_FD, act_loss, &c);

        /* Backward accumulates: exactly twice after a second call. */
        float *din2 = tu_alloc_floats(c.n);
        act_backward(&c, din2);
        act_backward(&c, din2);
        tu_assert_doubled(din, din2, c.n, 0.0);
        free(din);
        free(din2);
        act_teardown(&c);
    }
}

static void test_dropout_p0_is_identity(void **state)
{
    (void)state;
    act_ctx c;
    act_setup(&c, 2, 1000, 40);
    mtb_rng r, before;
    mtb_rng_seed(&r, 5);
    before = r;
    for (size_t i = 0; i < c.n; i++)
        c.scale[i] = -1.0f;
    mtb_dropout_forward(c.out, c.scale, c.in, c.n, 0.0f, &r);
    assert_memory_equal(c.out, c.in, c.n * sizeof(float));
    for (size_t i = 0; i < c.n; i++)
        assert_true(c.scale[i] == 1.0f);
    /* No random numbers consumed. */
    assert_memory_equal(r.s, before.s, sizeof r.s);

    /* scale may be NULL at p == 0, and backward then passes dout through. */
    memset(c.out, 0, c.n * sizeof(float));
    mtb_dropout_forward(c.out, NULL, c.in, c.n, 0.0f, &r);
    assert_memory_equal(c.out, c.in, c.n * sizeof(float));
    float *din = tu_alloc_floats(c.n);
    mtb_dropout_backward(din, c.lw, NULL, c.n);
    assert_memory_equal(din, c.lw, c.n * sizeof(float));
    free(din);
    act_teardown(&c);
}

static void test_dropout_half(void **state)
{
    (void)state;
    const size_t n = 10000;
    act_ctx c;
    act_setup(&c, 2, n, 41);
    mtb_rng r;
    mtb_rng_seed(&r, 1234);
    mtb_dropout_forward(c.out, c.scale, c.in, n, 0.5f, &r);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(c.scale[i] == 0.0f || c.scale[i] == 2.0f);
        assert_true(c.out[i] == c.in[i] * c.scale[i]);
        kept += c.scale[i] != 0.0f;
    }
    print_message("# dropout p=0.5: kept %zu of %zu\n", kept, n);
    /* Binomial(10000, 0.5): sd 50, so 5 sd is +-250; and the seed fixes the
     * exact count. */
    assert_in_range(kept, 5000 - 250, 5000 + 250);
    assert_int_equal(kept, 4974);

    /* Same seed, same mask; a different seed, a different one. */
    float *scale2 = tu_alloc_floats(n), *out2 = tu_alloc_floats(n);
    mtb_rng_seed(&r, 1234);
    mtb_dropout_forward(out2, scale2, c.in, n, 0.5f, &r);
    assert_memory_equal(scale2, c.scale, n * sizeof(float));
    mtb_rng_seed(&r, 1235);
    mtb_dropout_forward(out2, scale2, c.in, n, 0.5f, &r);
    assert_memory_not_equal(scale2, c.scale, n * sizeof(float));

    /* Backward replays the mask. */
    float *din = tu_alloc_floats(n);
    mtb_dropout_backward(din, c.lw, c.scale, n);
    for (size_t i = 0; i < n; i++)
        assert_true(din[i] == c.lw[i] * c.scale[i]);

    /* In place. */
    memcpy(out2, c.in, n * sizeof(float));
    mtb_rng_seed(&r, 1234);
    mtb_dropout_forward(out2, scale2, out2, n, 0.5f, &r);
    assert_memory_equal(out2, c.out, n * sizeof(float));

    free(scale2);
    free(out2);
    free(din);
    act_teardown(&c);
}

static void test_dropout_other_rates(void **state)
{
    (void)state;
    const size_t n = 10000;
    act_ctx c;
    act_setup(&c, 2, n, 42);
    mtb_rng r;
    mtb_rng_seed(&r, 99);
    const float p = 0.1f;
    mtb_dropout_forward(c.out, c.scale, c.in, n, p, &r);
    const float keep = 1.0f / (1.0f - p);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(c.scale[i] == 0.0f || c.scale[i] == keep);
        kept += c.scale[i] != 0.0f;
    }
    /* Binomial(10000, 0.9): sd 30; 5 sd. */
    assert_in_range(kept, 9000 - 150, 9000 + 150);

    /* p = 1 drops everything and draws nothing. */
    mtb_rng before = r;
    mtb_dropout_forward(c.out, c.scale, c.in, n, 1.0f, &r);
    for (size_t i = 0; i < n; i++)
        assert_true(c.out[i] == 0.0f && c.scale[i] == 0.0f);
    assert_memory_equal(r.s, before.s, sizeof r.s);
    act_teardown(&c);
}

/* The encoder's dropout: chunks with their own streams, the mask as bytes.
 * out = in * mask / (1 - p) + residual exactly; the same mask on 1 and 2
 * threads and from the same seed; about 1 - p kept; backward applies the
 * mask; in place (out == in) gives the same as out of place. */
static void test_dropout_residual_chunks(void **state)
{
    (void)state;
    const size_t n = 3 * MTB_DROPOUT_CHUNK + 123;
    const float p = 0.1f, scale = 1.0f / (1.0f - p);
    float *in = tu_alloc_floats(n), *res = tu_alloc_floats(n), *out1 = tu_alloc_floats(n);
    float *out2 = tu_alloc_floats(n), *din = tu_alloc_floats(n), *dout = tu_alloc_floats(n);
    uint8_t *keep1 = malloc(n), *keep2 = malloc(n);
    assert_non_null(keep1);
    assert_non_null(keep2);
    mtb_rng r;
    mtb_rng_seed(&r, 5);
    fill_normal(in, n, 0, 1, &r);
    fill_normal(res, n, 0, 1, &r);
    tu_fill_uniform(dout, n, -1, 1, &r);
    mtb_set_threads(1);
    mtb_dropout_residual_forward(out1, keep1, in, res, n, p, 77);
    mtb_set_threads(2);
    mtb_dropout_residual_forward(out2, keep2, in, res, n, p, 77);
    assert_memory_equal(keep1, keep2, n);
    assert_memory_equal(out1, out2, n * sizeof(float));
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(keep1[i] <= 1);
        kept += keep1[i];
        assert_true(out1[i] == in[i] * (keep1[i] ? scale : 0.0f) + res[i]);
    }
    /* each chunk's mask is "u >= p" for two 24-bit uniforms per draw of its
     * own stream, compared here in float as the documentation states it,
     * for p on and off the 2^-24 grid */
    const float ps[] = {0.1f, 1.0f / 3.0f, 0.5f, 0.25f, 0.9f};
    for (size_t k = 0; k < sizeof ps / sizeof *ps; k++) {
        mtb_dropout_residual_forward(out2, keep2, in, NULL, n, ps[k], 77);
        for (int chunk = 0; chunk < 4; chunk++) {
            mtb_rng cr;
            mtb_rng_seed(&cr, 77 ^ ((uint64_t)(chunk + 1) * 0x9e3779b97f4a7c15ull));
            const size_t c0 = (size_t)chunk * MTB_DROPOUT_CHUNK;
            const size_t len = n - c0 < MTB_DROPOUT_CHUNK ? n - c0 : MTB_DROPOUT_CHUNK;
            uint64_t x = 0;
            for (size_t i = 0; i < len; i++) {
                if (i % 2 == 0)
                    x = mtb_rng_next(&cr);
                const uint64_t bits = i % 2 == 0 ? x >> 40 : (x >> 16) & 0xFFFFFFu;
                assert_int_equal(keep2[c0 + i], (float)bits * 0x1.0p-24f >= ps[k]);
            }
        }
    }
    const double frac = (double)kept / (double)n;
    printf("# dropout p = 0.1 kept %.4f of %zu\n", frac, n);
    assert_true(fabs(frac - 0.9) < 0.01);
    mtb_dropout_residual_forward(out2, keep2, in, res, n, p, 78);
    assert_memory_not_equal(keep1, keep2, n); /* another seed, another mask */
    memcpy(out2, in, n * sizeof(float));
    mtb_dropout_residual_forward(out2, keep2, out2, res, n, p, 77);
    assert_memory_equal(out1, out2, n * sizeof(float));
    mtb_dropout_mask_backward(din, dout, keep1, n, p);
    for (size_t i = 0; i < n; i++)
        assert_true(din[i] == dout[i] * (keep1[i] ? scale : 0.0f));
    /* p = 0: a copy plus the residual, everything kept */
    mtb_dropout_residual_forward(out2, keep2, in, NULL, n, 0.0f, 1);
    assert_memory_equal(out2, in, n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        assert_true(keep2[i] == 1);
    free(in), free(res), free(out1), free(out2), free(din), free(dout), free(keep1), free(keep2);
}

/* --------------------------------------------------------------- embeddings */

enum { EV = 6, EP = 4, ETT = 2, EB = 2, ET = 3, EH = 5 };

typedef struct {
    int ids[EB * ET], types[EB * ET], positions[EB * ET];
    float wte[EV * EH], wpe[EP * EH], wtt[ETT * EH];
    float out[EB * ET * EH], lw[EB * ET * EH];
} emb_ctx;

static double emb_loss(void *p)
{
    emb_ctx *c = p;
    mtb_embeddings_forward(c->out, c->ids, c->types, c->positions, EB * ET, EH, c->wte, c->wpe,
                           c->wtt);
    return weighted_sum(c->out, c->lw, EB * ET * EH);
}

/* exact: tables of small integers and halves, where every sum is exact in
 * float (for the forward check); otherwise O(1) random values, as a finite
 * difference needs outputs whose rounding is small next to the step. */
static void emb_setup(emb_ctx *c, int exact)
{
    /* Word 3 and type 1 repeat, so the backward scatter must add; word 5 is
     * never used and must get no gradient. */
    static const int ids[EB * ET] = {1, 3, 2, 3, 3, 0};
    static const int types[EB * ET] = {0, 0, 1, 0, 1, 1};
    memcpy(c->ids, ids, sizeof ids);
    memcpy(c->types, types, sizeof types);
    for (int tok = 0; tok < EB * ET; tok++)
        c->positions[tok] = tok % ET;
    mtb_rng r;
    mtb_rng_seed(&r, 50);
    tu_fill_uniform(c->lw, EB * ET * EH, -1, 1, &r);
    if (!exact) {
        fill_normal(c->wte, EV * EH, 0, 1, &r);
        fill_normal(c->wpe, EP * EH, 0, 1, &r);
        fill_normal(c->wtt, ETT * EH, 0, 1, &r);
        return;
    }
    for (int v = 0; v < EV; v++)
        for (int i = 0; i < EH; i++)
            c->wte[v * EH + i] = (float)(100 * v + i);
    for (int t = 0; t < EP; t++)
        for (int i = 0; i < EH; i++)
            c->wpe[t * EH + i] = (float)(10 * t) + 0.5f * (float)i;
    for (int y = 0; y < ETT; y++)
        for (int i = 0; i < EH; i++)
            c->wtt[y * EH + i] = (float)(1000 * y) + 0.25f * (float)i;
}

static void test_embeddings_forward(void **state)
{
    (void)state;
    emb_ctx c;
    emb_setup(&c, 1);
    emb_loss(&c);
    for (int b = 0; b < EB; b++)
        for (int t = 0; t < ET; t++)
            for (int i = 0; i < EH; i++) {
                int tok = b * ET + t;
                float want = (float)(100 * c.ids[tok] + i) + (float)(10 * t) + 0.5f * (float)i +
                             (float)(1000 * c.types[tok]) + 0.25f * (float)i;
                assert_true(c.out[tok * EH + i] == want);
            }
    /* Two entries by hand: b=0 t=2 (word 2, type 1) and b=1 t=1 (word 3, type 1),
     * feature 4: 204 + (20 + 2) + (1000 + 1) and 304 + (10 + 2) + (1000 + 1). */
    assert_true(c.out[(0 * ET + 2) * EH + 4] == 1227.0f);
    assert_true(c.out[(1 * ET + 1) * EH + 4] == 1317.0f);
}

static void test_embeddings_grad(void **state)
{
    (void)state;
    emb_ctx c;
    emb_setup(&c, 0);
    float dwte[EV * EH] = {0}, dwpe[EP * EH] = {0}, dwtt[ETT * EH] = {0};
    emb_loss(&c);
    mtb_embeddings_backward(dwte, dwpe, dwtt, c.lw, c.ids, c.types, c.positions, EB * ET, EH);
    for (int i = 0; i < EH; i++)
        assert_true(dwte[5 * EH + i] == 0.0f);
    /* Positions T..P-1 are beyond this batch. */
    for (int i = (ET)*EH; i < EP * EH; i++)
        assert_true(dwpe[i] == 0.0f);
    tu_check_grad("embeddings.wte", c.wte, dwte, EV * EH, OPS_FD, emb_loss, &c);
    tu_check_grad("embeddings.wpe", c.wpe, dwpe, EP * EH, OPS_FD, emb_loss, &c);
    tu_check_grad("embeddings.wtt", c.wtt, dwtt, ETT * EH, OPS_FD, emb_loss, &c);

    float twte[EV * EH] = {0}, twpe[EP * EH] = {0}, twtt[ETT * EH] = {0};
    for (int rep = 0; rep < 2; rep++)
        mtb_embeddings_backward(twte, twpe, twtt, c.lw, c.ids, c.types, c.positions, EB * ET, EH);
    /* Not bit-exact: a repeated id sums several rows, and (a+b)+a+b need not
     * round like 2(a+b). */
    tu_assert_doubled(dwte, twte, EV * EH, 1e-6);
    tu_assert_doubled(dwpe, twpe, EP * EH, 1e-6);
    tu_assert_doubled(dwtt, twtt, ETT * EH, 1e-6);

    /* NULL tables are skipped. */
    float owte[EV * EH] = {0};
    mtb_embeddings_backward(owte, NULL, NULL, c.lw, c.ids, c.types, c.positions, EB * ET, EH);
    assert_memory_equal(owte, dwte, sizeof owte);
}

/* ---------------------------------------------------------------- attention */

/* Packed sequences: sequence b owns rows [off[b], off[b+1]) of q, k, v, out. */
typedef struct {
    int B, N, H, NH;
    int off[4];
    float p;
    uint64_t seed;
    size_t na; /* entries of att, att_keep and work */
    float *q, *k, *v, *out, *att, *work, *lw;
    uint8_t *att_keep;
} att_ctx;

static double att_loss(void *ptr)
{
    att_ctx *c = ptr;
    mtb_attention_forward(c->out, c->att, c->p > 0 ? c->att_keep : NULL,
                          c->p > 0 ? c->work : NULL, c->q, c->k, c->v, c->off, c->B, c->H, c->NH,
                          c->p, c->seed);
    return weighted_sum(c->out, c->lw, (size_t)c->N * c->H);
}

static void att_setup(att_ctx *c, int B, int H, int NH, const int *lengths, float p,
                      uint64_t seed)
{
    mtb_rng r;
    mtb_rng_seed(&r, seed);
    c->B = B;
    c->H = H;
    c->NH = NH;
    c->off[0] = 0;
    for (int b = 0; b < B; b++)
        c->off[b + 1] = c->off[b] + lengths[b];
    c->N = c->off[B];
    c->p = p;
    c->seed = seed + 1;
    const size_t nx = (size_t)c->N * H;
    c->na = mtb_attention_floats(c->off, B, NH);
    size_t squares = 0;
    for (int b = 0; b < B; b++)
        squares += (size_t)lengths[b] * lengths[b];
    assert_true(c->na == squares * (size_t)NH);
    c->q = tu_alloc_floats(nx);
    c->k = tu_alloc_floats(nx);
    c->v = tu_alloc_floats(nx);
    c->out = tu_alloc_floats(nx);
    c->lw = tu_alloc_floats(nx);
    c->att = tu_alloc_floats(c->na);
    c->att_keep = calloc(c->na, 1);
    assert_non_null(c->att_keep);
    c->work = tu_alloc_floats(c->na);
    fill_normal(c->q, nx, 0, 1, &r);
    fill_normal(c->k, nx, 0, 1, &r);
    fill_normal(c->v, nx, 0, 1, &r);
    tu_fill_uniform(c->lw, nx, -1, 1, &r);
}

static void att_teardown(att_ctx *c)
{
    free(c->q);
    free(c->k);
    free(c->v);
    free(c->out);
    free(c->lw);
    free(c->att);
    free(c->att_keep);
    free(c->work);
}

static void att_backward(att_ctx *c, float *dq, float *dk, float *dv)
{
    float *scratch = tu_alloc_floats(c->na);
    att_loss(c);
    mtb_attention_backward(dq, dk, dv, scratch, c->lw, c->att, c->p > 0 ? c->att_keep : NULL,
                           c->p, c->q, c->k, c->v, c->off, c->B, c->H, c->NH);
    free(scratch);
}

/* Naive double-precision attention, sequence by sequence: checks the
 * probabilities in att (one L x L block per sequence and head, in order)
 * and the context in out. */
static void att_check_against_naive(const att_ctx *c, int use_scale, double prob_tol,
                                    double out_tol)
{
    const int H = c->H, NH = c->NH, D = H / NH;
    double srow[160];
    size_t expect_block = 0;
    for (int b = 0; b < c->B; b++) {
        const int L = c->off[b + 1] - c->off[b], o = c->off[b];
        assert_true(L <= 160);
        for (int h = 0; h < NH; h++) {
            const size_t blk = mtb_attention_block(c->off, b, h, NH);
            assert_true(blk == expect_block);
            expect_block += (size_t)L * L;
            const float *P = c->att + blk;
            const uint8_t *S = c->att_keep + blk;
            const double keep_scale = c->p > 0 ? 1.0 / (1.0 - (double)(float)c->p) : 1.0;
            for (int i = 0; i < L; i++) {
                double mx = -INFINITY, sum = 0.0;
                for (int j = 0; j < L; j++) {
                    double sc = 0.0;
                    for (int d = 0; d < D; d++)
                        sc += (double)c->q[((size_t)o + i) * H + h * D + d] *
                              c->k[((size_t)o + j) * H + h * D + d];
                    srow[j] = sc / sqrt((double)D);
                    mx = srow[j] > mx ? srow[j] : mx;
                }
                for (int j = 0; j < L; j++) {
                    srow[j] = exp(srow[j] - mx);
                    sum += srow[j];
                }
                double rowsum = 0.0;
                for (int j = 0; j < L; j++) {
                    float got = P[(size_t)i * L + j];
                    tu_assert_close("attention prob", got, srow[j] / sum, prob_tol, 0.0);
                    rowsum += got;
                }
                tu_assert_close("attention row sum", rowsum, 1.0, 1e-6, 0.0);
                for (int d = 0; d < D; d++) {
                    double acc = 0.0;
                    for (int j = 0; j < L; j++) {
                        double pj = P[(size_t)i * L + j];
                        if (use_scale)
                            pj *= S[(size_t)i * L + j] ? (double)(float)keep_scale : 0.0;
                        acc += pj * c->v[((size_t)o + j) * H + h * D + d];
                    }
                    tu_assert_close("attention out", c->out[((size_t)o + i) * H + h * D + d], acc,
                                    out_tol, 0.0);
                }
            }
        }
    }
    assert_true(expect_block == c->na);
}

static const int att_lengths[2] = {5, 3};

static void test_attention_forward(void **state)
{
    (void)state;
    att_ctx c;
    att_setup(&c, 2, 8, 2, att_lengths, 0.0f, 60);
    att_loss(&c);
    att_check_against_naive(&c, 0, 1e-6, 1e-5);

    /* A non-NULL mask with p = 0 is filled with ones (all kept), and the
     * result is unchanged. */
    const size_t nx = (size_t)c.N * c.H;
    float *out0 = tu_alloc_floats(nx);
    memcpy(out0, c.out, nx * sizeof(float));
    mtb_attention_forward(c.out, c.att, c.att_keep, c.work, c.q, c.k, c.v, c.off, c.B, c.H, c.NH,
                          0.0f, 1);
    for (size_t i = 0; i < c.na; i++)
        assert_true(c.att_keep[i] == 1);
    assert_memory_equal(out0, c.out, nx * sizeof(float));

    /* A token attends to its own sequence only: changing the keys and values
     * of sequence 1 leaves sequence 0's context bit for bit as it was. */
    for (size_t i = (size_t)c.off[1] * c.H; i < nx; i++) {
        c.k[i] += 1.0f;
        c.v[i] -= 2.0f;
    }
    att_loss(&c);
    assert_memory_equal(out0, c.out, (size_t)c.off[1] * c.H * sizeof(float));
    assert_memory_not_equal(out0 + (size_t)c.off[1] * c.H, c.out + (size_t)c.off[1] * c.H,
                            (size_t)(c.N - c.off[1]) * c.H * sizeof(float));
    free(out0);
    att_teardown(&c);
}

static void test_attention_dropout_forward(void **state)
{
    (void)state;
    att_ctx c;
    const float p = 0.25f;
    att_setup(&c, 2, 8, 2, att_lengths, p, 61);
    att_loss(&c);
    /* att keeps the probabilities before dropout; the context uses att * scale. */
    att_check_against_naive(&c, 1, 1e-6, 1e-5);
    size_t dropped = 0;
    for (size_t i = 0; i < c.na; i++) {
        assert_true(c.att_keep[i] == 0 || c.att_keep[i] == 1);
        assert_true(c.work[i] == c.att[i] * (c.att_keep[i] ? 1.0f / (1.0f - p) : 0.0f));
        dropped += c.att_keep[i] == 0;
    }
    assert_true(dropped > 0 && dropped < c.na);
    att_teardown(&c);
}

/* Each (sequence, head) draws its mask from its own documented stream,
 * seed ^ (b * NH + h + 1) * golden ratio, as one dropout over its L x L
 * block, so masks do not depend on threads; a 130-token sequence has more
 * entries than any fixed buffer would hold. */
static void test_attention_dropout_streams(void **state)
{
    (void)state;
    static const int lengths[2] = {130, 7};
    att_ctx c;
    const float p = 0.2f;
    att_setup(&c, 2, 8, 2, lengths, p, 62);
    att_loss(&c);
    float *ones = tu_alloc_floats(130 * 130), *tmp = tu_alloc_floats(130 * 130);
    float *ref = tu_alloc_floats(c.na);
    uint8_t *ref_keep = calloc(c.na, 1);
    assert_non_null(ref_keep);
    for (size_t i = 0; i < 130 * 130; i++)
        ones[i] = 1.0f;
    for (int b = 0; b < c.B; b++)
        for (int h = 0; h < c.NH; h++) {
            const size_t L = (size_t)lengths[b];
            mtb_rng r;
            mtb_rng_seed(&r, c.seed ^ ((uint64_t)(b * c.NH + h + 1) * 0x9e3779b97f4a7c15ull));
            mtb_dropout_forward(tmp, ref + mtb_attention_block(c.off, b, h, c.NH), ones, L * L, p,
                                &r);
        }
    for (size_t i = 0; i < c.na; i++)
        ref_keep[i] = ref[i] != 0.0f;
    assert_memory_equal(ref_keep, c.att_keep, c.na);
    att_check_against_naive(&c, 1, 1e-6, 1e-5);
    free(ones);
    free(tmp);
    free(ref);
    free(ref_keep);
    att_teardown(&c);
}

static void attention_grad_case(float p, uint64_t seed, const char *tag)
{
    att_ctx c;
    att_setup(&c, 2, 8, 2, att_lengths, p, seed);
    const size_t nx = (size_t)c.N * c.H;
    float *dq = tu_alloc_floats(nx), *dk = tu_alloc_floats(nx), *dv = tu_alloc_floats(nx);
    att_backward(&c, dq, dk, dv);

    char name[64];
    snprintf(name, sizeof name, "attention%s.q", tag);
    tu_check_grad(name, c.q, dq, nx, OPS_FD, att_loss, &c);
    snprintf(name, sizeof name, "attention%s.k", tag);
    tu_check_grad(name, c.k, dk, nx, OPS_FD, att_loss, &c);
    snprintf(name, sizeof name, "attention%s.v", tag);
    tu_check_grad(name, c.v, dv, nx, OPS_FD, att_loss, &c);
    free(dq);
    free(dk);
    free(dv);
    att_teardown(&c);
}

static void test_attention_grad(void **state)
{
    (void)state;
    attention_grad_case(0.0f, 70, "");
}

static void test_attention_grad_dropout(void **state)
{
    (void)state;
    attention_grad_case(0.3f, 71, "+drop");
}

static void test_attention_backward_accumulates(void **state)
{
    (void)state;
    att_ctx c;
    att_setup(&c, 2, 8, 2, att_lengths, 0.2f, 72);
    const size_t nx = (size_t)c.N * c.H;
    float *dq1 = tu_alloc_floats(nx), *dk1 = tu_alloc_floats(nx), *dv1 = tu_alloc_floats(nx);
    float *dq2 = tu_alloc_floats(nx), *dk2 = tu_alloc_floats(nx), *dv2 = tu_alloc_floats(nx);
    att_backward(&c, dq1, dk1, dv1);
    att_backward(&c, dq2, dk2, dv2);
    att_backward(&c, dq2, dk2, dv2);
    tu_assert_doubled(dq1, dq2, nx, 1e-6);
    tu_assert_doubled(dk1, dk2, nx, 1e-6);
    tu_assert_doubled(dv1, dv2, nx, 1e-6);

    /* Each gradient alone equals its part of the full call. */
    float *dq3 = tu_alloc_floats(nx), *dk3 = tu_alloc_floats(nx), *dv3 = tu_alloc_floats(nx);
    att_backward(&c, dq3, NULL, NULL);
    att_backward(&c, NULL, dk3, NULL);
    att_backward(&c, NULL, NULL, dv3);
    assert_memory_equal(dq1, dq3, nx * sizeof(float));
    assert_memory_equal(dk1, dk3, nx * sizeof(float));
    assert_memory_equal(dv1, dv3, nx * sizeof(float));
    free(dq1);
    free(dk1);
    free(dv1);
    free(dq2);
    free(dk2);
    free(dv2);
    free(dq3);
    free(dk3);
    free(dv3);
    att_teardown(&c);
}

/* ---------------------------------------------------------------------- main */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_splitmix_seeding),
        cmocka_unit_test(test_rng_xoshiro_reference),
        cmocka_unit_test(test_rng_determinism),
        cmocka_unit_test(test_rng_uniform),
        cmocka_unit_test(test_rng_normal),
        cmocka_unit_test(test_rng_below),
        cmocka_unit_test(test_linear_forward_naive),
        cmocka_unit_test(test_linear_grad),
        cmocka_unit_test(test_linear_backward_accumulates),
        cmocka_unit_test(test_layernorm_normalises),
        cmocka_unit_test(test_layernorm_matches_double),
        cmocka_unit_test(test_layernorm_grad),
        cmocka_unit_test(test_layernorm_backward_accumulates),
        cmocka_unit_test(test_gelu_values),
        cmocka_unit_test(test_gelu_grid_and_vector_widths),
        cmocka_unit_test(test_tanh_values),
        cmocka_unit_test(test_activation_grads),
        cmocka_unit_test(test_dropout_p0_is_identity),
        cmocka_unit_test(test_dropout_half),
        cmocka_unit_test(test_dropout_other_rates),
        cmocka_unit_test(test_dropout_residual_chunks),
        cmocka_unit_test(test_embeddings_forward),
        cmocka_unit_test(test_embeddings_grad),
        cmocka_unit_test(test_attention_forward),
        cmocka_unit_test(test_attention_dropout_forward),
        cmocka_unit_test(test_attention_dropout_streams),
        cmocka_unit_test(test_attention_grad),
        cmocka_unit_test(test_attention_grad_dropout),
        cmocka_unit_test(test_attention_backward_accumulates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
