/* The compute worker pool.
 *
 * One process-wide pool of threads runs independent work items: attention
 * heads, row blocks of LayerNorm, chunks of elementwise loops.  Every item
 * writes its own outputs, so results do not depend on which thread ran it or
 * on how many threads there are.
 *
 * mtb_set_threads(n) sizes the pool.  OpenBLAS always runs single-threaded;
 * large matrix products (linear.c) are split into n parts on the pool, so
 * training never runs more than n compute threads, and no idle OpenBLAS
 * thread spins beside them.  Between regions the pool's threads spin
 * briefly before they sleep, since regions come microseconds apart.  A
 * parallel region entered while another thread holds the pool (a front end
 * scoring a sentence during training) runs on the calling thread alone. */
#ifndef MTBERT_PARALLEL_H
#define MTBERT_PARALLEL_H

#include <stdbool.h>
#include <stddef.h>

/* n >= 1; 0 means one per online CPU. */
void mtb_set_threads(int n);
/* The pool's size: how many parts a large product is split into. */
int mtb_thread_count(void);

/* True when no thread is running a region now (and there is more than one
 * thread): a moment to time the pool. */
bool mtb_pool_idle(void);

/* While quiet, idle pool threads sleep instead of spinning for the next
 * region: OpenBLAS's own threads need the cores (gemm.c). */
void mtb_pool_quiet(bool quiet);

/* Calls fn(ctx, i) for every i in [0, n) and returns when all are done. */
void mtb_parallel_for(int n, void (*fn)(void *ctx, int i), void *ctx);

/* Sets n floats to zero, on the pool: one core alone does not saturate the
 * memory bus. */
void mtb_zero_floats(float *p, size_t n);

/* Splits [0, total) into about `grain`-sized chunks: item i covers
 * [*begin, *end).  The split depends on total and grain only. */
int mtb_chunk_count(size_t total, size_t grain);
void mtb_chunk_range(size_t total, int chunks, int i, size_t *begin, size_t *end);


#endif
