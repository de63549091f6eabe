/* Helpers the C tests share: where the fixtures and the shared data are,
 * buffers and random fills, closeness assertions, the finite-difference
 * gradient check, files and a temporary folder per test group.  Header-only (static inline),
 * so a test links nothing more; every name starts with tu_. */
#ifndef MTBERT_TEST_UTIL_H
#define MTBERT_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtbert/rng.h"

/* The tests' folder: $srcdir (set by make check), else "tests". */
static inline const char *tu_srcdir(void)
{
    const char *s = getenv("srcdir");
    return s && *s ? s : "tests";
}

/* srcdir/fixtures/rel, in one of four rotating buffers (so a call's result
 * survives the next three calls). */
static inline const char *tu_fixture(const char *rel)
{
    static char buf[4][1024];
    static int next;
    char *out = buf[next++ % 4];
    snprintf(out, sizeof buf[0], "%s/fixtures/%s", tu_srcdir(), rel);
    return out;
}

/* A file of ../shared/data ($MTBERT_SHARED_DATA when set). */
static inline void tu_shared_path(char *buf, size_t size, const char *file)
{
    const char *env = getenv("MTBERT_SHARED_DATA");
    if (env && *env)
        snprintf(buf, size, "%s/%s", env, file);
    else
        snprintf(buf, size, "%s/../../shared/data/%s", tu_srcdir(), file);
}

/* n zeroed floats (at least one), or the test fails. */
static inline float *tu_alloc_floats(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

static inline void tu_fill_uniform(float *x, size_t n, float lo, float hi, mtb_rng *rng)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * mtb_rng_uniform(rng);
}

/* Uniform in [-1, 1) with 53 random bits: test data drawn in double. */
static inline double tu_uniform_pm1(mtb_rng *rng)
{
    return (double)(mtb_rng_next(rng) >> 11) * 0x1.0p-52 - 1.0;
}

static inline uint32_t tu_bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float tu_float_of_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Seconds on the monotonic clock, for the timings the tests print. */
static inline double tu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------ closeness */

/* |got - want| <= atol + rtol |want| (NaN never is), or the test fails
 * naming what. */
static inline void tu_assert_close(const char *what, double got, double want, double atol,
                                   double rtol)
{
    if (!(fabs(got - want) <= atol + rtol * fabs(want)))
        fail_msg("%s: got %.17g, want %.17g (atol %g, rtol %g)", what, got, want, atol, rtol);
}

/* twice holds the result of two backward calls, once of one: accumulation
 * means twice == 2 * once, to rtol (exact for elementwise ops; to rounding
 * where a gradient is itself a sum, as in sgemm with K blocking). */
static inline void tu_assert_doubled(const float *once, const float *twice, size_t n, double rtol)
{
    for (size_t i = 0; i < n; i++) {
        double want = 2.0 * once[i];
        if (fabs(twice[i] - want) > rtol * (fabs(want) + 1e-30))
            fail_msg("element %zu: once %.9g, twice %.9g", i, once[i], twice[i]);
    }
}

/* ------------------------------------------------ gradient check */

/* A loss that reruns the forward pass from the current inputs. */
typedef double (*tu_loss_fn)(void *ctx);

/* How tu_check_grad judges an element:
 *     |analytic - numeric| <= atol * scale + rtol * |numeric|,
 * scale = max|numeric| over the checked elements when atol_scaled, else 1.
 * The largest |numeric| must exceed min_largest: a gradient that is zero
 * everywhere would pass trivially. */
typedef struct tu_fd_check {
    double step; /* each x[i] is moved by +-step */
    double atol, rtol;
    bool atol_scaled;
    double min_largest;
} tu_fd_check;

/* Compares analytic[i] with the central difference (L(x+) - L(x-)) / (x+ - x-)
 * of loss() in x[i], for every i, where x+ and x- are the float values
 * actually stored (so rounding the perturbation is no error source); prints
 * the worst err/tol. */
static inline void tu_check_grad(const char *what, float *x, const float *analytic, size_t n,
                                 tu_fd_check fd, tu_loss_fn loss, void *ctx)
{
    double *num = malloc((n ? n : 1) * sizeof *num); /* [n] */
    assert_non_null(num);
    double largest = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float orig = x[i];
        x[i] = (float)(orig + fd.step);
        const double xp = x[i];
        const double lp = loss(ctx);
        x[i] = (float)(orig - fd.step);
        const double xm = x[i];
        const double lm = loss(ctx);
        x[i] = orig;
        num[i] = (lp - lm) / (xp - xm);
        if (fabs(num[i]) > largest)
            largest = fabs(num[i]);
    }
    const double scale = fd.atol_scaled ? largest : 1.0;
    double worst_ratio = 0.0, worst_abs = 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double err = fabs((double)analytic[i] - num[i]);
        const double lim = fd.atol * scale + fd.rtol * fabs(num[i]);
        if (err / lim > worst_ratio)
            worst_ratio = err / lim;
        if (err > worst_abs)
            worst_abs = err;
        if (err > lim) {
            if (bad < 5)
                print_error("%s[%zu]: analytic %.8g, numeric %.8g\n", what, i, analytic[i],
                            num[i]);
            bad++;
        }
    }
    print_message("# grad %-22s %4zu elements  max|g| %.3g  max|a-n| %.2e  worst err/tol %.3f\n",
                  what, n, largest, worst_abs, worst_ratio);
    free(num);
    assert_int_equal(bad, 0);
    assert_true(largest > fd.min_largest);
}

/* ------------------------------------------------ a temporary folder */

/* The folder of the running test group (tu_temp_dir_setup makes it). */
static inline char *tu_dir(void)
{
    static char dir[256];
    return dir;
}

static inline int tu_remove_entry(const char *path, const struct stat *sb, int flag,
                                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything in it. */
static inline void tu_remove_tree(const char *dir)
{
    nftw(dir, tu_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* cmocka group setup and teardown: a fresh folder under $TMPDIR (or /tmp). */
static inline int tu_temp_dir_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tu_dir(), 256, "%s/mtbert-test-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tu_dir()) ? 0 : -1;
}

static inline int tu_temp_dir_teardown(void **state)
{
    (void)state;
    tu_remove_tree(tu_dir());
    return 0;
}

/* A fresh empty file under $TMPDIR (or /tmp) whose name starts with
 * prefix, its path into buf; the caller unlinks it. */
static inline void tu_temp_file(char *buf, size_t cap, const char *prefix)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, cap, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix);
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
}

/* tu_dir()/name into buf. */
static inline void tu_temp_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tu_dir(), name);
}

static inline void tu_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static inline void tu_write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n)
        assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The whole of path, NUL-terminated (*len excludes the NUL); NULL when it
 * cannot be opened or read (then *len is 0). */
static inline char *tu_read_file(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

#endif
