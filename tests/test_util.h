/* Helpers the C tests share: where the fixtures and the shared data are,
 * buffers, a temporary folder per test group.  Header-only (static inline),
 * so a test links nothing more; every name starts with tu_. */
#ifndef MTBERT_TEST_UTIL_H
#define MTBERT_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static inline uint32_t tu_bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
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

#endif
