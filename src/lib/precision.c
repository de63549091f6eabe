/* The dense products' precision (see precision.h): the process-wide
 * setting, and the bf16 product, on oneDNN where the CPU has bf16 units or
 * emulated (rounded operands, fp32 OpenBLAS) where it has not. */
#include "mtbert/precision.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bf16.h"
#include "mtbert/gemm.h"
#include "mtbert/parallel.h"

/* libgomp comes with oneDNN; weak, so nothing breaks where it does not */
extern void omp_set_num_threads(int n) __attribute__((weak));

static atomic_int in_force = MTB_PRECISION_FP32;
/* bf16 without oneDNN: rounded operands, fp32 products.  Also set for good
 * when a oneDNN product fails at run time, so a run never stops over it. */
static atomic_bool emulate;

static const char *const names[] = {"fp32", "bf16", "auto"};
static pthread_mutex_t note_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_note[320] = "precision fp32 (not set)";

int mtb_precision_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *mtb_precision_name(mtb_precision p)
{
    return (unsigned)p < 3 ? names[p] : "?";
}

mtb_precision mtb_precision_get(void)
{
    return (mtb_precision)atomic_load(&in_force);
}

bool mtb_precision_emulated(void)
{
    return mtb_precision_get() == MTB_PRECISION_BF16 && atomic_load(&emulate);
}

mtb_precision mtb_precision_set(mtb_precision requested, char *note, size_t cap)
{
    const bool native = mtb_bf16_native();
    const char *units = mtb_bf16_units();
    /* the probe runs oneDNN (its OpenMP threads start): only where it can win */
    const bool dnnl = native && requested != MTB_PRECISION_FP32 && mtb_bf16_gemm_available();
    mtb_precision p = MTB_PRECISION_FP32;
    bool emulated = false;
    switch (requested) {
    case MTB_PRECISION_BF16:
        p = MTB_PRECISION_BF16;
        emulated = !dnnl;
        if (dnnl)
            snprintf(note, cap, "precision bf16, on this CPU's %s units (oneDNN %s)", units,
                     mtb_bf16_gemm_impl());
        else if (native)
            snprintf(note, cap, "precision bf16, emulated: oneDNN has no bf16 product for this "
                                "CPU's %s units, so the operands are rounded to bf16 and "
                                "multiplied in fp32",
                     units);
        else
            snprintf(note, cap, "precision bf16, emulated: this CPU has no bf16 units, so the "
                                "operands are rounded to bf16 and multiplied in fp32 (bf16's "
                                "numbers at fp32's speed or less)");
        break;
    case MTB_PRECISION_AUTO:
        p = dnnl ? MTB_PRECISION_BF16 : MTB_PRECISION_FP32;
        if (dnnl)
            snprintf(note, cap, "precision auto: bf16, on this CPU's %s units (oneDNN %s)", units,
                     mtb_bf16_gemm_impl());
        else if (native)
            snprintf(note, cap, "precision auto: fp32 (this CPU has %s units but oneDNN has no "
                                "bf16 product for them)",
                     units);
        else
            snprintf(note, cap, "precision auto: fp32 (this CPU has no bf16 units)");
        break;
    default: snprintf(note, cap, "precision fp32"); break;
    }
    atomic_store(&emulate, emulated);
    atomic_store(&in_force, (int)p);
    pthread_mutex_lock(&note_lock);
    snprintf(last_note, sizeof last_note, "%s", note);
    pthread_mutex_unlock(&note_lock);
    return p;
}

void mtb_precision_note(char *buf, size_t cap)
{
    pthread_mutex_lock(&note_lock);
    snprintf(buf, cap, "%s", last_note);
    pthread_mutex_unlock(&note_lock);
}

void mtb_precision_describe(char *buf, size_t cap)
{
    if (mtb_precision_get() != MTB_PRECISION_BF16)
        snprintf(buf, cap, "fp32");
    else if (atomic_load(&emulate))
        snprintf(buf, cap, "bf16, emulated (operands rounded to bf16, fp32 products)");
    else
        snprintf(buf, cap, "bf16 (%s, oneDNN %s)", mtb_bf16_units(), mtb_bf16_gemm_impl());
}

/* ---------------------------------------------------------------- products */

/* Each thread's rounded copies of the operands, kept between products (a
 * step multiplies the same shapes hundreds of times) and freed with the
 * thread. */
typedef struct scratch {
    void *buf[2];
    size_t cap[2]; /* bytes */
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    scratch *s = p;
    free(s->buf[0]);
    free(s->buf[1]);
    free(s);
}

static void scratch_key_make(void)
{
    pthread_key_create(&scratch_key, scratch_free);
}

static void *scratch_get(int which, size_t bytes)
{
    pthread_once(&scratch_once, scratch_key_make);
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->cap[which] < bytes) {
        free(s->buf[which]);
        s->buf[which] = malloc(bytes);
        s->cap[which] = s->buf[which] ? bytes : 0;
    }
    return s->buf[which];
}

/* Rows of a row-major matrix (stride ld) rounded into a packed copy:
 * bf16 numbers for oneDNN, or floats holding bf16 values for OpenBLAS. */
typedef struct round_job {
    const float *src;
    int rows, cols, ld, chunks;
    uint16_t *to_bf16;
    float *to_float;
} round_job;

static void round_rows(void *arg, int i)
{
    const round_job *j = arg;
    size_t b, e;
    mtb_chunk_range((size_t)j->rows, j->chunks, i, &b, &e);
    for (size_t r = b; r < e; r++) {
        const float *row = j->src + r * (size_t)j->ld;
        if (j->to_bf16)
            mtb_bf16_convert(j->to_bf16 + r * (size_t)j->cols, row, (size_t)j->cols);
        else
            mtb_bf16_round(j->to_float + r * (size_t)j->cols, row, (size_t)j->cols);
    }
}

static void round_matrix(round_job *j)
{
    const int by_size = mtb_chunk_count((size_t)j->rows * (size_t)j->cols, (size_t)1 << 16);
    j->chunks = by_size < j->rows ? by_size : j->rows;
    mtb_parallel_for(j->chunks, round_rows, j);
}

void mtb_sgemm_bf16(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                    const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0 || K <= 0) {
        mtb_sgemm_fp32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    /* the operands as stored: A (M, K) or, transposed, (K, M); B (K, N) or (N, K) */
    const int a_rows = ta ? K : M, a_cols = ta ? M : K;
    const int b_rows = tb ? N : K, b_cols = tb ? K : N;
    const size_t na = (size_t)a_rows * a_cols, nb = (size_t)b_rows * b_cols;
    if (!atomic_load_explicit(&emulate, memory_order_relaxed)) {
        uint16_t *a16 = scratch_get(0, na * sizeof *a16); /* (a_rows, a_cols) */
        uint16_t *b16 = scratch_get(1, nb * sizeof *b16); /* (b_rows, b_cols) */
        if (a16 && b16) {
            round_job ja = {A, a_rows, a_cols, lda, 0, a16, NULL};
            round_job jb = {B, b_rows, b_cols, ldb, 0, b16, NULL};
            round_matrix(&ja);
            round_matrix(&jb);
            /* oneDNN computes on its OpenMP threads: as many as the pool has
             * (a setting of the calling thread), and the pool's idle threads
             * sleep meanwhile instead of spinning beside them */
            if (omp_set_num_threads)
                omp_set_num_threads(mtb_thread_count());
            mtb_pool_quiet(true);
            const int rc =
                mtb_bf16_gemm(ta, tb, M, N, K, alpha, a16, a_cols, b16, b_cols, beta, C, ldc);
            mtb_pool_quiet(false);
            if (rc == 0)
                return;
            atomic_store(&emulate, true);
        }
    }
    float *af = scratch_get(0, na * sizeof *af); /* (a_rows, a_cols) */
    float *bf = scratch_get(1, nb * sizeof *bf); /* (b_rows, b_cols) */
    if (!af || !bf) {
        /* out of memory for the copies: this product in fp32 */
        mtb_sgemm_fp32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    round_job ja = {A, a_rows, a_cols, lda, 0, NULL, af};
    round_job jb = {B, b_rows, b_cols, ldb, 0, NULL, bf};
    round_matrix(&ja);
    round_matrix(&jb);
    mtb_sgemm_fp32(ta, tb, M, N, K, alpha, af, a_cols, bf, b_cols, beta, C, ldc);
}
