/* Unit tests for bf16 numbers and products (bf16.h).
 *
 * Conversions are checked bit for bit against patterns worked out by hand.
 *
 * Products are checked against a double-precision reference computed from
 * the same bf16 operands.  A product of two bf16 numbers (8 significant
 * bits each) has at most 16 significant bits, so it is exact in fp32: all
 * error comes from summing K products in fp32 and from applying alpha and
 * beta.  Whatever the order of the sum (OpenBLAS and oneDNN block it
 * differently, and may fuse the multiply-adds), the classic bound is
 *
 *     |C - ref| <= gamma (|alpha| sum_k |a_mk b_kn| + |beta c_mn|),
 *     gamma = (K + 4) u,  u = 2^-24,
 *
 * K - 1 roundings in the sum, one each for alpha, beta and the final add,
 * and one spare.  It is measured against the sum of absolute values, not
 * |ref|, because the random signs make ref cancel.  A real bug (a wrong
 * stride, a transposition, a lost alpha or beta, a padding element read)
 * gives errors of the size of the entries themselves, about 1e4 times the
 * tolerance at these sizes.  Each check prints its worst err/tol ratio.
 * Two products that both satisfy the bound differ by at most twice it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"

/* ------------------------------------------------ conversions */

typedef struct conv_case {
    uint32_t in;  /* float bits */
    uint16_t out; /* bf16 bits */
    const char *what;
} conv_case;

static const conv_case conv_cases[] = {
    {0x3f800000u, 0x3f80, "1.0"},
    {0xc0200000u, 0xc020, "-2.5"},
    {0x00000000u, 0x0000, "+0"},
    {0x80000000u, 0x8000, "-0.0 keeps its sign"},
    {0x3f808000u, 0x3f80, "1 + 2^-8: halfway, down to the even 0x3f80"},
    {0x3f818000u, 0x3f82, "halfway between 0x3f81 and 0x3f82: up to the even one"},
    {0xbf818000u, 0xbf82, "the same, negative"},
    {0x3f807fffu, 0x3f80, "just below halfway"},
    {0x3f808001u, 0x3f81, "just above halfway"},
    {0x3fffffffu, 0x4000, "a carry into the exponent"},
    {0x7f7f7fffu, 0x7f7f, "the largest float that rounds to the largest bf16"},
    {0x7f7f8000u, 0x7f80, "halfway above the largest (odd) bf16: to inf"},
    {0x7f7fffffu, 0x7f80, "FLT_MAX: to inf"},
    {0xff7fffffu, 0xff80, "-FLT_MAX: to -inf"},
    {0x7f800000u, 0x7f80, "inf"},
    {0xff800000u, 0xff80, "-inf"},
    {0x00000001u, 0x0000, "the smallest denormal: to +0"},
    {0x80000001u, 0x8000, "its negative: to -0"},
    {0x00008000u, 0x0000, "a denormal halfway: down to the even 0"},
    {0x00018000u, 0x0002, "a denormal halfway: up to the even 0x0002"},
    {0x00008001u, 0x0001, "just above: the smallest bf16 denormal"},
    {0x007fffffu, 0x0080, "the largest denormal: up to the smallest normal"},
    {0x00400000u, 0x0040, "a denormal bf16 exactly"},
    {0x7fc00000u, 0x7fc0, "the quiet NaN"},
    {0xffc00000u, 0xffc0, "a negative quiet NaN"},
    {0x7f800001u, 0x7fc0, "a signalling NaN with a low payload: quiet, not inf"},
    {0x7f810000u, 0x7fc1, "a signalling NaN keeps its top payload"},
    {0x7fffffffu, 0x7fff, "an all-ones NaN: no carry into the sign"},
    {0xffffffffu, 0xffff, "the negative all-ones NaN"},
};

static void test_conversion_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof conv_cases / sizeof *conv_cases; i++) {
        const conv_case *c = &conv_cases[i];
        const uint16_t got = mtb_bf16_from_float(tu_float_of_bits(c->in));
        if (got != c->out)
            fail_msg("%08x (%s): got %04x, want %04x", (unsigned)c->in, c->what, got, c->out);
        assert_int_equal(tu_bits_of(mtb_bf16_to_float(c->out)), (uint32_t)c->out << 16);
    }
    assert_int_equal(mtb_bf16_from_float(1.0f), 0x3f80);
    assert_int_equal(mtb_bf16_from_float(-2.5f), 0xc020);
    assert_int_equal(mtb_bf16_from_float(-0.0f), 0x8000);
    assert_int_equal(mtb_bf16_from_float(FLT_MAX), 0x7f80);
    assert_int_equal(mtb_bf16_from_float(INFINITY), 0x7f80);
    assert_int_equal(mtb_bf16_from_float(-INFINITY), 0xff80);
    assert_true(isnan(mtb_bf16_to_float(mtb_bf16_from_float(NAN))));
    assert_true(mtb_bf16_from_float(NAN) & 0x0040); /* quiet */
    assert_true(mtb_bf16_to_float(0x3f80) == 1.0f);
    assert_true(mtb_bf16_to_float(0xc020) == -2.5f);
}

/* Every bf16 number widens and narrows back to itself, NaNs to their quiet
 * selves. */
static void test_conversion_round_trip(void **state)
{
    (void)state;
    for (uint32_t h = 0; h <= 0xffff; h++) {
        const bool nan = (h & 0x7fff) > 0x7f80;
        const uint16_t want = (uint16_t)(nan ? h | 0x0040 : h);
        const uint16_t got = mtb_bf16_from_float(mtb_bf16_to_float((uint16_t)h));
        if (got != want)
            fail_msg("%04x came back as %04x", (unsigned)h, got);
    }
}

/* Random bit patterns: every exponent, NaNs, infinities and denormals
 * included; a quarter forced exactly halfway and a quarter next to it, where
 * rounding bugs live.  Odd offsets and lengths give the vector loops
 * misaligned starts and scalar tails. */
static void test_vector_matches_scalar(void **state)
{
    (void)state;
    enum { N = 100000 };
    float *src = tu_alloc_floats(N);        /* (N) */
    float *rounded = tu_alloc_floats(N);    /* (N) */
    uint16_t *dst = calloc(N, sizeof *dst); /* (N) */
    assert_non_null(dst);
    mtb_rng rng;
    mtb_rng_seed(&rng, 1616);
    for (int i = 0; i < N; i++) {
        uint32_t u = (uint32_t)(mtb_rng_next(&rng) >> 32);
        if (i % 4 == 1)
            u = (u & 0xffff0000u) | 0x8000u;
        else if (i % 4 == 2)
            u = (u & 0xffff0000u) | (i % 8 == 2 ? 0x7fffu : 0x8001u);
        memcpy(&src[i], &u, sizeof u);
    }
    const size_t offsets[] = {0, 1, 3};
    for (size_t o = 0; o < sizeof offsets / sizeof *offsets; o++) {
        const size_t off = offsets[o], n = N - 2 * off;
        memset(dst, 0, N * sizeof *dst);
        mtb_bf16_convert(dst + off, src + off, n);
        mtb_bf16_round(rounded + off, src + off, n);
        for (size_t i = off; i < off + n; i++) {
            const uint16_t want = mtb_bf16_from_float(src[i]);
            if (dst[i] != want)
                fail_msg("convert: %08x gave %04x, scalar %04x", (unsigned)tu_bits_of(src[i]),
                         dst[i], want);
            if (tu_bits_of(rounded[i]) != (uint32_t)want << 16)
                fail_msg("round: %08x gave %08x, want %08x", (unsigned)tu_bits_of(src[i]),
                         (unsigned)tu_bits_of(rounded[i]), (unsigned)want << 16);
        }
        if (off) { /* nothing written outside [off, off + n) */
            assert_int_equal(dst[off - 1], 0);
            assert_int_equal(dst[off + n], 0);
        }
    }
    /* in place */
    memcpy(rounded, src, N * sizeof *src);
    mtb_bf16_round(rounded, rounded, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(tu_bits_of(rounded[i]), (uint32_t)mtb_bf16_from_float(src[i]) << 16);
    free(src);
    free(rounded);
    free(dst);
}

/* ------------------------------------------------ the CPU */

/* Linux lists a flag only when the CPU has it and the kernel supports its
 * state, so whatever mtb_bf16_native sees the kernel must list. */
static bool cpuinfo_has(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return false;
    char line[8192];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        if (strncmp(line, "flags", 5) == 0) {
            for (char *t = strtok(line, " \t\n"); t && !found; t = strtok(NULL, " \t\n"))
                found = strcmp(t, flag) == 0;
            break;
        }
    fclose(f);
    return found;
}

static void test_units(void **state)
{
    (void)state;
    const char *units = mtb_bf16_units();
    assert_true(strcmp(units, "AMX-BF16") == 0 || strcmp(units, "AVX512_BF16") == 0 ||
                strcmp(units, "none") == 0);
    assert_true(mtb_bf16_native() == (strcmp(units, "none") != 0));
    assert_string_equal(mtb_bf16_units(), units); /* the same answer every time */
    const bool os_amx = cpuinfo_has("amx_bf16"), os_avx = cpuinfo_has("avx512_bf16");
    print_message("bf16 units: %s; /proc/cpuinfo: amx_bf16 %s, avx512_bf16 %s\n", units,
                  os_amx ? "yes" : "no", os_avx ? "yes" : "no");
    if (strcmp(units, "AMX-BF16") == 0)
        assert_true(os_amx);
    if (strcmp(units, "AVX512_BF16") == 0)
        assert_true(os_avx);
}

/* ------------------------------------------------ products */

typedef struct gemm_case {
    bool ta, tb;
    int M, N, K;
    float alpha, beta;
} gemm_case;

/* A case's operands, stored as its transposes say with leading dimensions
 * wider than the rows: padding holds NaN, so a product that reads it fails. */
typedef struct operands {
    gemm_case c;
    int lda, ldb, ldc, a_rows, b_rows;
    uint16_t *a, *b; /* A (a_rows, lda), B (b_rows, ldb) */
    float *af, *bf;  /* the same values widened, same layout */
    float *c0;       /* C (M, ldc) before the product; padding columns are canaries */
    double *ref;     /* (M, N) */
    double *absum;   /* (M, N): |alpha| sum |a b| + |beta c0| */
} operands;

#define PAD_CANARY 777.0f

static void make_operands(operands *o, const gemm_case *c, uint64_t seed)
{
    memset(o, 0, sizeof *o);
    o->c = *c;
    const int a_cols = c->ta ? c->M : c->K, b_cols = c->tb ? c->K : c->N;
    o->a_rows = c->ta ? c->K : c->M;
    o->b_rows = c->tb ? c->N : c->K;
    o->lda = a_cols + 3;
    o->ldb = b_cols + 5;
    o->ldc = c->N + 7;
    const size_t na = (size_t)o->a_rows * o->lda, nb = (size_t)o->b_rows * o->ldb;
    o->a = malloc(na * sizeof *o->a);
    o->b = malloc(nb * sizeof *o->b);
    assert_non_null(o->a);
    assert_non_null(o->b);
    o->af = tu_alloc_floats(na);
    o->bf = tu_alloc_floats(nb);
    o->c0 = tu_alloc_floats((size_t)c->M * o->ldc);
    o->ref = calloc((size_t)c->M * c->N, sizeof *o->ref);
    o->absum = calloc((size_t)c->M * c->N, sizeof *o->absum);
    assert_non_null(o->ref);
    assert_non_null(o->absum);
    mtb_rng rng;
    mtb_rng_seed(&rng, seed);
    const uint16_t nan = mtb_bf16_from_float(NAN);
    for (size_t i = 0; i < na; i++)
        o->a[i] = (int)(i % o->lda) < a_cols
                      ? mtb_bf16_from_float(2.0f * mtb_rng_uniform(&rng) - 1.0f)
                      : nan;
    for (size_t i = 0; i < nb; i++)
        o->b[i] = (int)(i % o->ldb) < b_cols
                      ? mtb_bf16_from_float(2.0f * mtb_rng_uniform(&rng) - 1.0f)
                      : nan;
    for (size_t i = 0; i < na; i++)
        o->af[i] = mtb_bf16_to_float(o->a[i]);
    for (size_t i = 0; i < nb; i++)
        o->bf[i] = mtb_bf16_to_float(o->b[i]);
    for (int m = 0; m < c->M; m++)
        for (int n = 0; n < o->ldc; n++)
            o->c0[(size_t)m * o->ldc + n] = n >= c->N       ? PAD_CANARY
                                            : c->beta == 0.0f ? NAN /* must not be read */
                                                              : 4.0f * mtb_rng_uniform(&rng) - 2.0f;
    for (int m = 0; m < c->M; m++)
        for (int n = 0; n < c->N; n++) {
            double dot = 0.0, abs_dot = 0.0;
            for (int k = 0; k < c->K; k++) {
                const double a = c->ta ? o->af[(size_t)k * o->lda + m] : o->af[(size_t)m * o->lda + k];
                const double b = c->tb ? o->bf[(size_t)n * o->ldb + k] : o->bf[(size_t)k * o->ldb + n];
                dot += a * b;
                abs_dot += fabs(a * b);
            }
            const double c0 = c->beta == 0.0f ? 0.0 : o->c0[(size_t)m * o->ldc + n];
            o->ref[(size_t)m * c->N + n] = c->alpha * dot + c->beta * c0;
            o->absum[(size_t)m * c->N + n] = fabs(c->alpha) * abs_dot + fabs(c->beta * c0);
        }
}

static void free_operands(operands *o)
{
    free(o->a);
    free(o->b);
    free(o->af);
    free(o->bf);
    free(o->c0);
    free(o->ref);
    free(o->absum);
}

static float *fresh_c(const operands *o)
{
    float *C = tu_alloc_floats((size_t)o->c.M * o->ldc);
    memcpy(C, o->c0, sizeof *C * (size_t)o->c.M * o->ldc);
    return C;
}

static double gamma_k(int K)
{
    return (K + 4) * 0x1p-24;
}

/* C (M, ldc) against want (M, N, row stride want_ld; double or float by
 * want_d/want_f) within factor * gamma * absum; padding untouched.  Returns
 * the worst err/tol ratio. */
static double check_c(const float *C, const operands *o, const double *want_d,
                      const float *want_f, double factor, const char *what)
{
    const gemm_case *c = &o->c;
    const double g = factor * gamma_k(c->K);
    double worst = 0.0;
    for (int m = 0; m < c->M; m++) {
        for (int n = 0; n < c->N; n++) {
            const float got = C[(size_t)m * o->ldc + n];
            const double want =
                want_d ? want_d[(size_t)m * c->N + n] : want_f[(size_t)m * o->ldc + n];
            const double tol = g * o->absum[(size_t)m * c->N + n] + 1e-30;
            const double err = fabs(got - want);
            if (!(err <= tol))
                fail_msg("%s ta=%d tb=%d %dx%dx%d alpha=%g beta=%g: C[%d][%d] = %.9g, want "
                         "%.9g (err %.3g > tol %.3g)",
                         what, c->ta, c->tb, c->M, c->N, c->K, c->alpha, c->beta, m, n, got,
                         want, err, tol);
            worst = fmax(worst, err / tol);
        }
        for (int n = c->N; n < o->ldc; n++)
            if (C[(size_t)m * o->ldc + n] != PAD_CANARY)
                fail_msg("%s: C padding [%d][%d] was written", what, m, n);
    }
    return worst;
}

/* Every transpose combination, alpha 1 and not, beta 0 / 1 / 0.5, at odd
 * sizes; then a layer-sized product with long sums and vector tails. */
static size_t product_cases(gemm_case *out)
{
    size_t n = 0;
    const float alphas[] = {1.0f, -0.75f}, betas[] = {0.0f, 1.0f, 0.5f};
    for (int t = 0; t < 4; t++)
        for (size_t a = 0; a < 2; a++)
            for (size_t b = 0; b < 3; b++)
                out[n++] = (gemm_case){t & 1, t >> 1, 37, 53, 71, alphas[a], betas[b]};
    for (int t = 0; t < 4; t++)
        out[n++] = (gemm_case){t & 1, t >> 1, 67, 96, 768, 0.5f, 1.0f};
    return n;
}
#define MAX_CASES 32

static void test_emulated_matches_reference(void **state)
{
    (void)state;
    gemm_case cases[MAX_CASES];
    const size_t n = product_cases(cases);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        operands o;
        make_operands(&o, &cases[i], 100 + i);
        float *C = fresh_c(&o);
        mtb_bf16_gemm_emulated(o.c.ta, o.c.tb, o.c.M, o.c.N, o.c.K, o.c.alpha, o.a, o.lda, o.b,
                               o.ldb, o.c.beta, C, o.ldc);
        worst = fmax(worst, check_c(C, &o, o.ref, NULL, 1.0, "emulated"));
        free(C);
        free_operands(&o);
    }
    print_message("emulated: worst err/tol %.3g over %zu products\n", worst, n);
}

static void test_emulated_edges(void **state)
{
    (void)state;
    const uint16_t a[6] = {0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0, 0x40c0}; /* 1..6 */
    float C[6] = {1, 2, 3, 4, 5, 6};
    /* K == 0: C = beta C, and beta == 0 writes zeros without reading */
    mtb_bf16_gemm_emulated(false, false, 2, 3, 0, 1.0f, a, 1, a, 3, 0.5f, C, 3);
    for (int i = 0; i < 6; i++)
        assert_true(C[i] == 0.5f * (float)(i + 1));
    C[4] = NAN;
    mtb_bf16_gemm_emulated(false, false, 2, 3, 0, 1.0f, a, 1, a, 3, 0.0f, C, 3);
    for (int i = 0; i < 6; i++)
        assert_true(C[i] == 0.0f);
    /* M == 0, and an lda below the width: nothing happens */
    for (int i = 0; i < 6; i++)
        C[i] = (float)i;
    mtb_bf16_gemm_emulated(false, false, 0, 3, 2, 1.0f, a, 2, a, 3, 0.0f, C, 3);
    mtb_bf16_gemm_emulated(false, false, 2, 3, 2, 1.0f, a, 1, a, 3, 0.0f, C, 3);
    mtb_bf16_gemm_emulated(false, false, -1, 3, 2, 1.0f, a, 2, a, 3, 0.0f, C, 3);
    for (int i = 0; i < 6; i++)
        assert_true(C[i] == (float)i);
    /* (1 2; 3 4) (1 2 3; 4 5 6) = (9 12 15; 19 26 33), by hand */
    const uint16_t b[6] = {0x3f80, 0x4000, 0x4040, 0x4080, 0x40a0, 0x40c0};
    mtb_bf16_gemm_emulated(false, false, 2, 3, 2, 1.0f, a, 2, b, 3, 0.0f, C, 3);
    const float want[6] = {9, 12, 15, 19, 26, 33};
    for (int i = 0; i < 6; i++)
        assert_true(C[i] == want[i]);
}

/* The oneDNN path itself (strides, transposes, output scales, the sum
 * post-op, the cache), run with fp32 operands, which oneDNN implements on
 * every CPU: the bf16 matmul runs the same code with another data type. */
static void test_dnnl_path_f32(void **state)
{
    (void)state;
    gemm_case cases[MAX_CASES];
    const size_t n = product_cases(cases);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        operands o;
        make_operands(&o, &cases[i], 200 + i);
        float *C = fresh_c(&o);
        const long before = mtb_bf16_primitives_created();
        const int rc = mtb_bf16_dnnl_sgemm(o.c.ta, o.c.tb, o.c.M, o.c.N, o.c.K, o.c.alpha, o.af,
                                           o.lda, o.bf, o.ldb, o.c.beta, C, o.ldc);
        if (rc)
            fail_msg("oneDNN fp32 matmul: %s", mtb_bf16_strerror(rc));
        assert_int_equal(mtb_bf16_primitives_created(), before + 1);
        worst = fmax(worst, check_c(C, &o, o.ref, NULL, 1.0, "oneDNN fp32"));
        /* the same shape again: the cached primitive, the same bits */
        float *C2 = fresh_c(&o);
        assert_int_equal(mtb_bf16_dnnl_sgemm(o.c.ta, o.c.tb, o.c.M, o.c.N, o.c.K, o.c.alpha,
                                             o.af, o.lda, o.bf, o.ldb, o.c.beta, C2, o.ldc),
                         0);
        assert_int_equal(mtb_bf16_primitives_created(), before + 1);
        assert_memory_equal(C, C2, sizeof *C * (size_t)o.c.M * o.ldc);
        free(C);
        free(C2);
        free_operands(&o);
    }
    print_message("oneDNN fp32 path: worst err/tol %.3g over %zu products\n", worst, n);
}

/* More shapes than the cache holds: evicted entries are released and
 * created again, and every answer stays right. */
static void test_dnnl_cache_eviction(void **state)
{
    (void)state;
    enum { SHAPES = 150, N = 3, K = 2 };
    float A[SHAPES * K], B[K * N] = {1, 2, 3, -1, 0.5f, 4}, C[SHAPES * N];
    for (int i = 0; i < SHAPES * K; i++)
        A[i] = (float)(i % 7) - 3.0f;
    for (int round = 0; round < 2; round++)
        for (int M = 1; M <= SHAPES; M++) {
            const long before = mtb_bf16_primitives_created();
            assert_int_equal(
                mtb_bf16_dnnl_sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N), 0);
            /* Round robin over 64 slots: 150 shapes in turn always miss. */
            assert_int_equal(mtb_bf16_primitives_created(), before + 1);
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++)
                    assert_true(C[m * N + n] ==
                                A[m * K] * B[n] + A[m * K + 1] * B[N + n]); /* exact: small ints */
        }
    /* the latest shape is still there */
    const long before = mtb_bf16_primitives_created();
    assert_int_equal(
        mtb_bf16_dnnl_sgemm(false, false, SHAPES, N, K, 1.0f, A, K, B, N, 0.0f, C, N), 0);
    assert_int_equal(mtb_bf16_primitives_created(), before);
}

/* Threads whose shapes keep evicting each other's primitives: the cache
 * and the executions are serialised, so every answer is right (and the
 * sanitizer build sees no use after free). */
enum { THREADS = 4, THREAD_CALLS = 100 };

static void *hammer(void *arg)
{
    const int id = (int)(intptr_t)arg;
    float A[8 * 2], B[2 * 3] = {1, -2, 0.5f, 3, 1, -1}, C[8 * 3];
    for (int i = 0; i < 16; i++)
        A[i] = (float)((i + id) % 5) - 2.0f;
    for (int call = 0; call < THREAD_CALLS; call++) {
        const int M = 1 + (call * THREADS + id) % 8;
        /* a different alpha per thread and call: ~800 keys for 64 slots */
        const float alpha = (float)(1 + (call * 7 + id) % 100);
        if (mtb_bf16_dnnl_sgemm(false, false, M, 3, 2, alpha, A, 2, B, 3, 0.0f, C, 3) != 0)
            return "oneDNN failed";
        for (int m = 0; m < M; m++)
            for (int n = 0; n < 3; n++)
                if (C[m * 3 + n] != alpha * (A[m * 2] * B[n] + A[m * 2 + 1] * B[3 + n]))
                    return "wrong answer";
    }
    return NULL;
}

static void test_dnnl_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++) {
        void *res;
        assert_int_equal(pthread_join(t[i], &res), 0);
        if (res)
            fail_msg("thread %d: %s", i, (const char *)res);
    }
}

static void test_gemm_invalid_arguments(void **state)
{
    (void)state;
    const uint16_t a[4] = {0x3f80, 0x3f80, 0x3f80, 0x3f80};
    float C[4] = {1, 2, 3, 4};
    assert_int_equal(mtb_bf16_gemm(false, false, 2, 2, 2, 1.0f, a, 1, a, 2, 0.0f, C, 2),
                     MTB_BF16_EINVAL);
    assert_int_equal(mtb_bf16_gemm(false, true, 2, 2, 2, 1.0f, a, 2, a, 1, 0.0f, C, 2),
                     MTB_BF16_EINVAL);
    assert_int_equal(mtb_bf16_gemm(false, false, 2, 2, 2, 1.0f, a, 2, a, 2, 0.0f, C, 1),
                     MTB_BF16_EINVAL);
    assert_int_equal(mtb_bf16_gemm(false, false, -2, 2, 2, 1.0f, a, 2, a, 2, 0.0f, C, 2),
                     MTB_BF16_EINVAL);
    for (int i = 0; i < 4; i++)
        assert_true(C[i] == (float)(i + 1));
    /* nothing to multiply: done without oneDNN, on every CPU */
    assert_int_equal(mtb_bf16_gemm(false, false, 0, 2, 2, 1.0f, a, 2, a, 2, 0.0f, C, 2), 0);
    assert_int_equal(mtb_bf16_gemm(false, false, 2, 2, 0, 1.0f, a, 1, a, 2, 2.0f, C, 2), 0);
    for (int i = 0; i < 4; i++)
        assert_true(C[i] == 2.0f * (float)(i + 1));
    assert_string_equal(mtb_bf16_strerror(MTB_BF16_EUNIMPL),
                        "oneDNN has no bf16 matrix product for this CPU");
}

static void test_gemm_matches_emulated(void **state)
{
    (void)state;
    if (!mtb_bf16_gemm_available()) {
        print_message("oneDNN has no bf16 matmul on this CPU (bf16 units: %s): skipped\n",
                      mtb_bf16_units());
        skip();
        return;
    }
    print_message("oneDNN bf16 matmul: %s (bf16 units: %s)\n", mtb_bf16_gemm_impl(),
                  mtb_bf16_units());
    gemm_case cases[MAX_CASES];
    const size_t n = product_cases(cases);
    double worst = 0.0, worst_ref = 0.0;
    for (size_t i = 0; i < n; i++) {
        operands o;
        make_operands(&o, &cases[i], 300 + i);
        float *want = fresh_c(&o), *C = fresh_c(&o);
        mtb_bf16_gemm_emulated(o.c.ta, o.c.tb, o.c.M, o.c.N, o.c.K, o.c.alpha, o.a, o.lda, o.b,
                               o.ldb, o.c.beta, want, o.ldc);
        const int rc = mtb_bf16_gemm(o.c.ta, o.c.tb, o.c.M, o.c.N, o.c.K, o.c.alpha, o.a, o.lda,
                                     o.b, o.ldb, o.c.beta, C, o.ldc);
        if (rc)
            fail_msg("mtb_bf16_gemm: %s", mtb_bf16_strerror(rc));
        worst = fmax(worst, check_c(C, &o, NULL, want, 2.0, "oneDNN bf16 vs emulated"));
        worst_ref = fmax(worst_ref, check_c(C, &o, o.ref, NULL, 1.0, "oneDNN bf16 vs double"));
        free(want);
        free(C);
        free_operands(&o);
    }
    print_message("oneDNN bf16: worst err/tol %.3g against the emulation, %.3g against the "
                  "double reference, over %zu products\n",
                  worst, worst_ref, n);
}

static void test_gemm_unavailable_fails_cleanly(void **state)
{
    (void)state;
    if (mtb_bf16_gemm_available()) {
        print_message("oneDNN has a bf16 matmul here (%s): nothing to refuse\n",
                      mtb_bf16_gemm_impl());
        skip();
        return;
    }
    assert_string_equal(mtb_bf16_gemm_impl(), "none");
    const gemm_case c = {false, true, 37, 53, 71, 1.0f, 0.5f};
    operands o;
    make_operands(&o, &c, 400);
    float *C = fresh_c(&o);
    const long before = mtb_bf16_primitives_created();
    for (int attempt = 0; attempt < 2; attempt++) { /* the second from the cache */
        const int rc = mtb_bf16_gemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.a, o.lda, o.b, o.ldb,
                                     c.beta, C, o.ldc);
        print_message("mtb_bf16_gemm here: %d (%s)\n", rc, mtb_bf16_strerror(rc));
        assert_int_equal(rc, MTB_BF16_EUNIMPL);
    }
    assert_int_equal(mtb_bf16_primitives_created(), before);
    assert_memory_equal(C, o.c0, sizeof *C * (size_t)c.M * o.ldc);
    free(C);
    free_operands(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversion_values),
        cmocka_unit_test(test_conversion_round_trip),
        cmocka_unit_test(test_vector_matches_scalar),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_emulated_matches_reference),
        cmocka_unit_test(test_emulated_edges),
        cmocka_unit_test(test_dnnl_path_f32),
        cmocka_unit_test(test_dnnl_cache_eviction),
        cmocka_unit_test(test_dnnl_threads),
        cmocka_unit_test(test_gemm_invalid_arguments),
        cmocka_unit_test(test_gemm_matches_emulated),
        cmocka_unit_test(test_gemm_unavailable_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
