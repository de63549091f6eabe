/* The dense layers' matrix products, and how they are spread over cores.
 *
 * Two ways to run a large product on n threads, and which wins depends on
 * the CPU, the OpenBLAS kernel and the shape:
 *   - pool: OpenBLAS single-threaded, the product split into n
 *     independent parts (by rows of C, or by columns when C is wider than
 *     tall) on mtbert's worker pool;
 *   - OpenBLAS: one call on OpenBLAS's own n threads, which share the
 *     packed panels of the operands (the pool's idle threads sleep
 *     meanwhile instead of spinning beside them).
 * In auto mode each kind of product (transposes and the size of M, N and K
 * to half an octave) is timed both ways the first time it is met, on
 * scratch buffers (the fastest of five runs each), and the faster way is
 * kept for it, OpenBLAS's threads only when 3% faster: in memory, and in a
 * cache file per CPU model, kernel and thread count when one is set
 * (mtb_gemm_use_cache), so a machine decides once.
 *
 * The way changes the order of additions inside a product, so bit-equal
 * repeats (reproducibility.h) hold for the same plan: a shape's way is
 * fixed from its first product on, and the cache carries it to later runs
 * and resumes.  Products smaller than MTB_GEMM_SPLIT_MIN multiply-adds
 * always run in one piece on the calling thread. */
#ifndef MTBERT_GEMM_H
#define MTBERT_GEMM_H

#include <stdbool.h>
#include <stddef.h>

#define MTB_GEMM_SPLIT_MIN (1L << 18)

typedef enum mtb_gemm_mode {
    MTB_GEMM_POOL,     /* every large product split over the pool (the default) */
    MTB_GEMM_OPENBLAS, /* every large product on OpenBLAS's threads */
    MTB_GEMM_AUTO,     /* the faster of the two, per kind of product */
} mtb_gemm_mode;

typedef enum mtb_gemm_way {
    MTB_WAY_POOL,
    MTB_WAY_OPENBLAS,
    MTB_WAY_N
} mtb_gemm_way;

/* C (M, N) = alpha op(A) op(B) + beta C, row-major, in the precision in
 * force (precision.h). */
void mtb_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha, const float *A,
               int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* The same in fp32 whatever the precision. */
void mtb_sgemm_fp32(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb, float beta, float *C,
                    int ldc);

void mtb_gemm_set_mode(mtb_gemm_mode mode);
mtb_gemm_mode mtb_gemm_get_mode(void);
/* "pool", "openblas", "auto"; parse returns -1 for anything else. */
const char *mtb_gemm_mode_name(mtb_gemm_mode mode);
int mtb_gemm_mode_parse(const char *name);
const char *mtb_gemm_way_name(mtb_gemm_way way);

/* Auto mode's plan file: read now if it exists (lines it cannot read are
 * ignored and rewritten), and written after each newly timed shape by a
 * replace-in-one-rename.  NULL forgets the file (the plan stays in
 * memory).  Returns the number of shapes read, or -1 with the reason in
 * err when the file exists but cannot be read. */
int mtb_gemm_use_cache(const char *path, char *err, size_t err_cap);
/* The plan file at mtb_gemm_default_cache_path, for whatever thread count
 * the pool has at each product (read when that count is first met). */
void mtb_gemm_use_default_cache(void);
/* "$XDG_CACHE_HOME/mtbert/gemm-<cpu>-<kernel>-<threads>t.tsv" (or under
 * ~/.cache) for this CPU, OpenBLAS kernel and pool size. */
void mtb_gemm_default_cache_path(char *buf, size_t cap);
/* Forgets every timed shape (tests). */
void mtb_gemm_plan_clear(void);

/* One line for bench, logs and the metrics file: the mode and, in auto,
 * how many kinds of product went each way. */
void mtb_gemm_describe(char *buf, size_t cap);

/* A kind of product as auto mode tells them apart. */
typedef struct mtb_gemm_shape {
    bool trans_a, trans_b;
    int M, N, K;
    float beta;
    double seconds; /* recorded: how long the product took where it ran */
} mtb_gemm_shape;

/* Recording: while on, every product through mtb_sgemm from any thread is
 * appended (up to a limit), for bench's replay. */
void mtb_gemm_record(bool on);
/* The recorded products since recording was last turned on. */
size_t mtb_gemm_recorded(const mtb_gemm_shape **shapes);

typedef struct mtb_gemm_floor {
    double seconds[MTB_WAY_N]; /* the recorded products, all one way */
    double best;               /* each product its faster way: the floor */
    double planned;            /* each product the way the current plan gives it */
    double in_step;            /* the recorded products' own time, where they ran */
    int shapes, products;      /* distinct shapes, products replayed */
    int openblas_faster;       /* distinct shapes where OpenBLAS's threads won */
} mtb_gemm_floor;

/* Times the recorded products alone, on scratch buffers, every way (the
 * fastest of `reps` runs of each distinct shape). */
int mtb_gemm_replay(const mtb_gemm_shape *shapes, size_t n, int reps, mtb_gemm_floor *out);

#endif
