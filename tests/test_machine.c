/* Unit tests for what the machine decides: the OpenBLAS kernel (fed CPUs
 * and OpenBLAS answers, so every decision is checked on every machine),
 * the products' ways (pool, OpenBLAS's threads, auto) against a naive
 * product, and auto mode's plan file. */
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
#include <unistd.h>

#include "mtbert/blas_kernel.h"
#include "mtbert/cpu.h"
#include "mtbert/gemm.h"
#include "mtbert/parallel.h"
#include "bf16.h"
#include "mtbert/precision.h"

/* ------------------------------------------------------------------ CPUs */

static mtb_cpu cpu_sse(void)
{
    return (mtb_cpu){.vendor = MTB_CPU_INTEL, .family = 6, .model = 15, .name = "Core 2",
                     .sse3 = true};
}

static mtb_cpu cpu_avx(void)
{
    mtb_cpu c = cpu_sse();
    c.model = 42;
    c.avx = true;
    return c;
}

static mtb_cpu cpu_avx2(mtb_cpu_vendor vendor)
{
    mtb_cpu c = cpu_avx();
    c.vendor = vendor;
    c.avx2 = c.fma = true;
    return c;
}

static mtb_cpu cpu_avx512(mtb_cpu_vendor vendor, bool bf16, bool amx)
{
    mtb_cpu c = cpu_avx2(vendor);
    c.avx512f = c.avx512cd = c.avx512bw = c.avx512dq = c.avx512vl = true;
    c.avx512_bf16 = bf16;
    c.amx_bf16 = amx;
    return c;
}

static void test_kernel_tiers(void **state)
{
    (void)state;
    assert_int_equal(mtb_blas_kernel_tier("Prescott"), 1);
    assert_int_equal(mtb_blas_kernel_tier("Nehalem"), 1);
    assert_int_equal(mtb_blas_kernel_tier("Sandybridge"), 2);
    assert_int_equal(mtb_blas_kernel_tier("Haswell"), 3);
    assert_int_equal(mtb_blas_kernel_tier("zen"), 3); /* OpenBLAS reads names case-blind */
    assert_int_equal(mtb_blas_kernel_tier("SKYLAKEX"), 4);
    assert_int_equal(mtb_blas_kernel_tier("Cooperlake"), 4);
    assert_int_equal(mtb_blas_kernel_tier("Zen5"), 0);
    assert_int_equal(mtb_blas_kernel_tier(""), 0);
    assert_int_equal(mtb_blas_kernel_tier(NULL), 0);
}

static void test_best_kernel_per_cpu(void **state)
{
    (void)state;
    mtb_cpu c = cpu_sse();
    assert_null(mtb_blas_kernel_best(&c));
    c = cpu_avx();
    assert_string_equal(mtb_blas_kernel_best(&c), "Sandybridge");
    c = cpu_avx2(MTB_CPU_INTEL);
    assert_string_equal(mtb_blas_kernel_best(&c), "Haswell");
    c = cpu_avx2(MTB_CPU_AMD);
    assert_string_equal(mtb_blas_kernel_best(&c), "Zen");
    c = cpu_avx2(MTB_CPU_OTHER);
    assert_string_equal(mtb_blas_kernel_best(&c), "Haswell");
    c = cpu_avx512(MTB_CPU_INTEL, false, false);
    assert_string_equal(mtb_blas_kernel_best(&c), "SkylakeX");
    c = cpu_avx512(MTB_CPU_INTEL, true, true); /* Sapphire/Emerald Rapids */
    assert_string_equal(mtb_blas_kernel_best(&c), "Cooperlake");
    c = cpu_avx512(MTB_CPU_AMD, true, false); /* Zen 4 */
    assert_string_equal(mtb_blas_kernel_best(&c), "Cooperlake");
    /* AVX-512F without BW/DQ/VL (Knights Landing): SkylakeX's kernels would
     * fault, so the AVX2 kernel */
    c = cpu_avx512(MTB_CPU_INTEL, false, false);
    c.avx512bw = c.avx512dq = c.avx512vl = false;
    assert_string_equal(mtb_blas_kernel_best(&c), "Haswell");
    /* AVX2 without FMA: the AVX kernel */
    c = cpu_avx2(MTB_CPU_INTEL);
    c.fma = false;
    assert_string_equal(mtb_blas_kernel_best(&c), "Sandybridge");
}

static void test_decide_emerald_rapids_fallback(void **state)
{
    (void)state;
    const mtb_cpu c = cpu_avx512(MTB_CPU_INTEL, true, true);
    mtb_kernel_choice k;
    mtb_blas_kernel_decide(&c, "Prescott", NULL, &k);
    assert_int_equal(k.source, MTB_KERNEL_RAISED);
    assert_string_equal(k.kernel, "Cooperlake");
    assert_string_equal(k.openblas, "Prescott");
    assert_string_equal(k.reason, "OpenBLAS chose Prescott, a fallback below what this CPU runs "
                                  "(AVX2 FMA AVX-512 AVX512_BF16 AMX-BF16): mtbert uses "
                                  "Cooperlake");
    /* an empty OPENBLAS_CORETYPE is no choice of the user's */
    mtb_blas_kernel_decide(&c, "Prescott", "", &k);
    assert_int_equal(k.source, MTB_KERNEL_RAISED);
}

static void test_decide_user_always_wins(void **state)
{
    (void)state;
    const mtb_cpu c = cpu_avx512(MTB_CPU_INTEL, true, true);
    mtb_kernel_choice k;
    mtb_blas_kernel_decide(&c, "Haswell", "Haswell", &k);
    assert_int_equal(k.source, MTB_KERNEL_USER);
    assert_string_equal(k.kernel, "Haswell");
    assert_string_equal(k.reason, "OPENBLAS_CORETYPE=Haswell is set in the environment, so "
                                  "OpenBLAS runs Haswell; this CPU (AVX2 FMA AVX-512 "
                                  "AVX512_BF16 AMX-BF16) could run Cooperlake");
    /* the user's choice at the top is reported without advice */
    mtb_blas_kernel_decide(&c, "SkylakeX", "SkylakeX", &k);
    assert_int_equal(k.source, MTB_KERNEL_USER);
    assert_string_equal(k.reason,
                        "OPENBLAS_CORETYPE=SkylakeX is set in the environment, so OpenBLAS runs "
                        "SkylakeX");
    /* even a kernel below the CPU's: the user may know it is wrong here */
    mtb_blas_kernel_decide(&c, "Prescott", "Prescott", &k);
    assert_int_equal(k.source, MTB_KERNEL_USER);
    assert_string_equal(k.kernel, "Prescott");
}

static void test_decide_keeps_good_choices(void **state)
{
    (void)state;
    mtb_kernel_choice k;
    mtb_cpu c = cpu_avx2(MTB_CPU_AMD);
    mtb_blas_kernel_decide(&c, "Zen", NULL, &k);
    assert_int_equal(k.source, MTB_KERNEL_OPENBLAS);
    assert_string_equal(k.kernel, "Zen");
    assert_string_equal(k.reason, "OpenBLAS chose Zen, the best kernel for this CPU (AVX2 FMA)");
    /* another kernel of the same instruction set is no fallback */
    mtb_blas_kernel_decide(&c, "Haswell", NULL, &k);
    assert_int_equal(k.source, MTB_KERNEL_OPENBLAS);
    assert_string_equal(k.kernel, "Haswell");
    /* a kernel newer than mtbert knows is trusted */
    c = cpu_avx512(MTB_CPU_AMD, true, false);
    mtb_blas_kernel_decide(&c, "Zen5", NULL, &k);
    assert_int_equal(k.source, MTB_KERNEL_OPENBLAS);
    assert_string_equal(k.kernel, "Zen5");
    assert_string_equal(k.reason, "OpenBLAS chose Zen5, a kernel newer than mtbert knows; kept");
    /* a CPU without AVX has nothing better than the SSE kernels */
    c = cpu_sse();
    mtb_blas_kernel_decide(&c, "Prescott", NULL, &k);
    assert_int_equal(k.source, MTB_KERNEL_OPENBLAS);
    assert_string_equal(k.reason,
                        "OpenBLAS chose Prescott, the best kernel for this CPU (SSE3)");
    /* never above what the CPU runs: an AVX2 CPU is not raised to SkylakeX */
    c = cpu_avx2(MTB_CPU_INTEL);
    mtb_blas_kernel_decide(&c, "Sandybridge", NULL, &k);
    assert_int_equal(k.source, MTB_KERNEL_RAISED);
    assert_string_equal(k.kernel, "Haswell");
    /* Zen 4 under an OpenBLAS that runs its AVX2 kernel */
    c = cpu_avx512(MTB_CPU_AMD, true, false);
    mtb_blas_kernel_decide(&c, "Zen", NULL, &k);
    assert_int_equal(k.source, MTB_KERNEL_RAISED);
    assert_string_equal(k.kernel, "Cooperlake");
}

static void test_this_machine(void **state)
{
    (void)state;
    const mtb_cpu *c = mtb_cpu_this();
    assert_true(c->name[0] != '\0');
    /* implied features are consistent whatever the CPU */
    if (c->avx2)
        assert_true(c->avx);
    if (c->avx512bw)
        assert_true(c->avx512f);
    if (c->avx512_bf16)
        assert_true(c->avx512f);
    /* the kernel in use computes exactly what it must */
    assert_true(mtb_blas_kernel_selfcheck());
    /* whatever OpenBLAS chose, the decision names it */
    const mtb_kernel_choice *k = mtb_blas_kernel_current();
    assert_true(k->kernel[0] != '\0');
    assert_non_null(strstr(k->reason, "OpenBLAS"));
}

/* ------------------------------------------------------------------ products */

static void naive(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                  const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                     (double)(tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
            C[(size_t)i * ldc + j] = (float)(alpha * s + beta * C[(size_t)i * ldc + j]);
        }
}

/* Every way and every transpose against the double product, at a size the
 * pool splits (by rows and by columns) and one it does not. */
static void check_mode(mtb_gemm_mode mode)
{
    mtb_set_threads(2);
    mtb_gemm_set_mode(mode);
    const int sizes[][3] = {{97, 130, 75}, {150, 70, 60}, {30, 20, 10}};
    mtb_rng rng;
    mtb_rng_seed(&rng, 7);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int t = 0; t < 4; t++) {
            const bool ta = t & 1, tb = t & 2;
            const int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
            const int lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
            float *A = tu_alloc_floats((size_t)lda * (ta ? K : M));
            float *B = tu_alloc_floats((size_t)ldb * (tb ? N : K));
            float *C = tu_alloc_floats((size_t)ldc * M), *want = tu_alloc_floats((size_t)ldc * M);
            tu_fill_uniform(A, (size_t)lda * (ta ? K : M), -1, 1, &rng);
            tu_fill_uniform(B, (size_t)ldb * (tb ? N : K), -1, 1, &rng);
            tu_fill_uniform(C, (size_t)ldc * M, -1, 1, &rng);
            memcpy(want, C, sizeof(float) * (size_t)ldc * M);
            mtb_sgemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1.0f, C, ldc);
            naive(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1.0f, want, ldc);
            double worst = 0;
            for (size_t i = 0; i < (size_t)ldc * M; i++)
                worst = fmax(worst, fabs((double)C[i] - want[i]));
            /* K float products of magnitude <= 1, rounded once each */
            assert_true(worst < 1e-5 * K);
            free(A);
            free(B);
            free(C);
            free(want);
        }
    mtb_gemm_set_mode(MTB_GEMM_POOL);
}

static void test_sgemm_pool(void **state)
{
    (void)state;
    check_mode(MTB_GEMM_POOL);
}

static void test_sgemm_openblas_threads(void **state)
{
    (void)state;
    check_mode(MTB_GEMM_OPENBLAS);
}

static void test_sgemm_auto(void **state)
{
    (void)state;
    mtb_gemm_plan_clear();
    check_mode(MTB_GEMM_AUTO);
}

/* Auto mode times a kind of product once, writes it to the plan file and
 * reads it back; lines it cannot read are skipped. */
static void test_auto_plan_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/mtbert-gemm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[256] = "";
    snprintf(path, sizeof path, "%s/sub/plan.tsv", dir);
    mtb_gemm_plan_clear();
    assert_int_equal(mtb_gemm_use_cache(path, err, sizeof err), 0); /* absent: nothing read */
    mtb_set_threads(2);
    mtb_gemm_set_mode(MTB_GEMM_AUTO);
    const int M = 128, N = 96, K = 64;
    float *A = tu_alloc_floats((size_t)M * K), *B = tu_alloc_floats((size_t)K * N);
    float *C = tu_alloc_floats((size_t)M * N);
    mtb_sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    mtb_sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N); /* the same kind */
    mtb_sgemm(false, true, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);  /* another */
    mtb_sgemm(false, false, 16, 16, 16, 1.0f, A, K, B, N, 0.0f, C, N); /* too small to time */
    char line[256];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int lines = 0;
    while (fgets(line, sizeof line, f))
        if (line[0] != '#') {
            lines++;
            assert_true(strstr(line, " pool ") || strstr(line, " openblas "));
        }
    fclose(f);
    assert_int_equal(lines, 2);
    char text[160];
    mtb_gemm_describe(text, sizeof text);
    assert_non_null(strstr(text, "of 2 kinds of product"));

    f = fopen(path, "a");
    assert_non_null(f);
    fputs("garbage line\n1 1 300 1 1 pool 1 1\n1 1 10 10 10 openblas 2.5 1.5\n", f);
    fclose(f);
    mtb_gemm_plan_clear();
    assert_int_equal(mtb_gemm_use_cache(path, err, sizeof err), 3);
    mtb_gemm_describe(text, sizeof text);
    assert_non_null(strstr(text, "auto: "));
    assert_non_null(strstr(text, "of 3 kinds of product"));

    /* Another process's lines survive this one's next save, and where both
     * timed a shape the file's way stays: "0 1 ..." below is the NT shape of
     * 128 x 96 x 64, which this process times again after forgetting it. */
    mtb_gemm_plan_clear();
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "0 0 5 5 5 openblas 9 1\n0 1 %d %d %d openblas 9 1\n", (int)floor(2 * log2(M)),
            (int)floor(2 * log2(N)), (int)floor(2 * log2(K)));
    fclose(f);
    mtb_gemm_use_cache(NULL, err, sizeof err);
    mtb_gemm_plan_clear();
    snprintf(line, sizeof line, "%s", path);
    assert_int_equal(mtb_gemm_use_cache(line, err, sizeof err), 2);
    mtb_gemm_plan_clear(); /* as if this process had read the file before the other wrote */
    mtb_sgemm(false, true, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
    mtb_sgemm(true, false, M, N, K, 1.0f, A, M, B, N, 0.0f, C, N);
    f = fopen(path, "r");
    assert_non_null(f);
    int kept_other = 0, kept_first = 0, added = 0;
    while (fgets(line, sizeof line, f)) {
        kept_other += strncmp(line, "0 0 5 5 5 openblas 9", 20) == 0;
        kept_first += strncmp(line, "0 1 ", 4) == 0 && strstr(line, " openblas 9 1") != NULL;
        added += strncmp(line, "1 0 ", 4) == 0;
    }
    fclose(f);
    assert_int_equal(kept_other, 1);
    assert_int_equal(kept_first, 1);
    assert_int_equal(added, 1);

    /* a folder in the file's place is an error with the path named */
    mtb_gemm_plan_clear();
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(mtb_gemm_use_cache(path, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "a folder"));
    mtb_gemm_use_cache(NULL, err, sizeof err);
    mtb_gemm_set_mode(MTB_GEMM_POOL);
    free(A);
    free(B);
    free(C);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The replay counts every recorded product once and prices the floor at or
 * below either way alone. */
static void test_record_and_replay(void **state)
{
    (void)state;
    mtb_set_threads(2);
    mtb_gemm_set_mode(MTB_GEMM_POOL);
    const int M = 96, N = 80, K = 64;
    float *A = tu_alloc_floats((size_t)M * K), *B = tu_alloc_floats((size_t)K * N);
    float *C = tu_alloc_floats((size_t)M * N);
    mtb_gemm_record(true);
    for (int i = 0; i < 3; i++)
        mtb_sgemm(false, true, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
    mtb_sgemm(true, false, K, N, M, 1.0f, A, K, B, N, 1.0f, C, N);
    mtb_gemm_record(false);
    mtb_sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N); /* not recorded */
    const mtb_gemm_shape *shapes;
    const size_t n = mtb_gemm_recorded(&shapes);
    assert_int_equal(n, 4);
    assert_true(shapes[3].trans_a && !shapes[3].trans_b && shapes[3].M == K);
    mtb_gemm_floor fl;
    assert_int_equal(mtb_gemm_replay(shapes, n, 2, &fl), 0);
    assert_int_equal(fl.products, 4);
    assert_int_equal(fl.shapes, 2);
    assert_true(fl.best > 0);
    assert_true(fl.best <= fl.seconds[MTB_WAY_POOL] + 1e-12);
    assert_true(fl.best <= fl.seconds[MTB_WAY_OPENBLAS] + 1e-12);
    assert_true(fabs(fl.planned - fl.seconds[MTB_WAY_POOL]) < 1e-12); /* pool mode plans pool */
    free(A);
    free(B);
    free(C);
}

/* ------------------------------------------------------------------ bf16 */

/* In bf16 every product equals the double product of the bf16-rounded
 * operands up to fp32 summation: (K + 4) roundings of 2^-24 each, of the
 * sum of the terms' magnitudes (bf16 x bf16 is exact in fp32).  And it is
 * not the fp32 product: rounding the operands moves the result by about
 * 2^-9 of its terms, far above fp32's error. */
static void test_sgemm_bf16(void **state)
{
    (void)state;
    char note[320];
    mtb_set_threads(2);
    mtb_precision_set(MTB_PRECISION_BF16, note, sizeof note);
    assert_int_equal(mtb_precision_get(), MTB_PRECISION_BF16);
    mtb_rng rng;
    mtb_rng_seed(&rng, 11);
    const int sizes[][3] = {{97, 130, 75}, {37, 53, 71}};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (int t = 0; t < 4; t++) {
            const bool ta = t & 1, tb = t & 2;
            const int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
            const int lda = (ta ? M : K) + 1, ldb = (tb ? K : N) + 2, ldc = N;
            const size_t na = (size_t)lda * (ta ? K : M), nb = (size_t)ldb * (tb ? N : K);
            float *A = tu_alloc_floats(na), *B = tu_alloc_floats(nb);
            float *Ar = tu_alloc_floats(na), *Br = tu_alloc_floats(nb);
            float *C = tu_alloc_floats((size_t)M * N), *C32 = tu_alloc_floats((size_t)M * N);
            float *want = tu_alloc_floats((size_t)M * N), *mag = tu_alloc_floats((size_t)M * N);
            tu_fill_uniform(A, na, -1, 1, &rng);
            tu_fill_uniform(B, nb, -1, 1, &rng);
            tu_fill_uniform(C, (size_t)M * N, -1, 1, &rng);
            memcpy(C32, C, sizeof(float) * (size_t)M * N);
            memcpy(want, C, sizeof(float) * (size_t)M * N);
            mtb_bf16_round(Ar, A, na);
            mtb_bf16_round(Br, B, nb);
            mtb_sgemm(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, 0.5f, C, ldc);
            mtb_sgemm_fp32(ta, tb, M, N, K, 0.75f, A, lda, B, ldb, 0.5f, C32, ldc);
            naive(ta, tb, M, N, K, 0.75f, Ar, lda, Br, ldb, 0.5f, want, ldc);
            for (size_t i = 0; i < na; i++)
                Ar[i] = fabsf(Ar[i]);
            for (size_t i = 0; i < nb; i++)
                Br[i] = fabsf(Br[i]);
            naive(ta, tb, M, N, K, 0.75f, Ar, lda, Br, ldb, 0.5f, mag, ldc);
            double worst = 0, moved = 0;
            for (size_t i = 0; i < (size_t)M * N; i++) {
                /* mag holds |alpha| sum |a||b|; |beta c| <= 0.5 */
                const double tol = (K + 4) * 0x1p-24 * (mag[i] + 0.5);
                worst = fmax(worst, fabs((double)C[i] - want[i]) / tol);
                moved = fmax(moved, fabs((double)C[i] - C32[i]));
            }
            assert_true(worst <= 1.0);
            assert_true(moved > 1e-3);
            free(A);
            free(B);
            free(Ar);
            free(Br);
            free(C);
            free(C32);
            free(want);
            free(mag);
        }
    mtb_precision_set(MTB_PRECISION_FP32, note, sizeof note);
    assert_string_equal(note, "precision fp32");
}

/* auto takes bf16 exactly where the CPU has bf16 units and oneDNN runs
 * there, and says so; bf16 asked for is bf16, emulated elsewhere. */
static void test_precision_choice(void **state)
{
    (void)state;
    char note[320], text[96];
    const bool native = mtb_bf16_native() && mtb_bf16_gemm_available();
    mtb_precision p = mtb_precision_set(MTB_PRECISION_AUTO, note, sizeof note);
    assert_int_equal(p, native ? MTB_PRECISION_BF16 : MTB_PRECISION_FP32);
    if (!mtb_bf16_native())
        assert_string_equal(note, "precision auto: fp32 (this CPU has no bf16 units)");
    else if (native)
        assert_non_null(strstr(note, "precision auto: bf16, on this CPU's "));
    p = mtb_precision_set(MTB_PRECISION_BF16, note, sizeof note);
    assert_int_equal(p, MTB_PRECISION_BF16);
    assert_int_equal(mtb_precision_emulated(), !native);
    mtb_precision_describe(text, sizeof text);
    assert_non_null(strstr(text, native ? "bf16 (" : "bf16, emulated"));
    if (!mtb_bf16_native())
        assert_non_null(strstr(note, "this CPU has no bf16 units"));
    p = mtb_precision_set(MTB_PRECISION_FP32, note, sizeof note);
    assert_int_equal(p, MTB_PRECISION_FP32);
    mtb_precision_describe(text, sizeof text);
    assert_string_equal(text, "fp32");
    assert_int_equal(mtb_precision_parse("bf16"), MTB_PRECISION_BF16);
    assert_int_equal(mtb_precision_parse("BF16"), -1);
    assert_string_equal(mtb_precision_name(MTB_PRECISION_AUTO), "auto");
}

static void test_mode_names(void **state)
{
    (void)state;
    assert_int_equal(mtb_gemm_mode_parse("pool"), MTB_GEMM_POOL);
    assert_int_equal(mtb_gemm_mode_parse("openblas"), MTB_GEMM_OPENBLAS);
    assert_int_equal(mtb_gemm_mode_parse("auto"), MTB_GEMM_AUTO);
    assert_int_equal(mtb_gemm_mode_parse("Auto"), -1);
    assert_int_equal(mtb_gemm_mode_parse(NULL), -1);
    assert_string_equal(mtb_gemm_mode_name(MTB_GEMM_OPENBLAS), "openblas");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_tiers),
        cmocka_unit_test(test_best_kernel_per_cpu),
        cmocka_unit_test(test_decide_emerald_rapids_fallback),
        cmocka_unit_test(test_decide_user_always_wins),
        cmocka_unit_test(test_decide_keeps_good_choices),
        cmocka_unit_test(test_this_machine),
        cmocka_unit_test(test_sgemm_pool),
        cmocka_unit_test(test_sgemm_openblas_threads),
        cmocka_unit_test(test_sgemm_auto),
        cmocka_unit_test(test_auto_plan_file),
        cmocka_unit_test(test_record_and_replay),
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_sgemm_bf16),
        cmocka_unit_test(test_precision_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
