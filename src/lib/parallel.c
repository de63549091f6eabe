/* The compute worker pool (see parallel.h): threads that take a region's
 * work items in turn under the pool's lock, spin briefly between regions
 * and then sleep; and the chunking that gives every item its own outputs. */
#include "mtbert/parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 256

static struct {
    pthread_mutex_t lock;     /* guards the fields below */
    pthread_cond_t work, done;
    pthread_mutex_t busy;     /* held by the thread running a region */
    int n_threads;            /* including the caller */
    int n_workers_started;
    pthread_t workers[MAX_THREADS];
    /* the current region */
    unsigned long generation;
    atomic_ulong published;   /* generation, readable without the lock (spinning) */
    atomic_int pending;       /* items of the current region not yet finished */
    atomic_bool quiet;        /* idle threads sleep at once: OpenBLAS's threads compute */
    void (*fn)(void *, int);
    void *ctx;
    int n_items, next_item, items_done;
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
    .busy = PTHREAD_MUTEX_INITIALIZER,
    .n_threads = 1,
};

/* Takes items until none are left; returns with the lock held. */
static void drain(void)
{
    while (pool.next_item < pool.n_items) {
        int i = pool.next_item++;
        void (*fn)(void *, int) = pool.fn;
        void *ctx = pool.ctx;
        pthread_mutex_unlock(&pool.lock);
        fn(ctx, i);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
        pthread_mutex_lock(&pool.lock);
        if (++pool.items_done == pool.n_items)
            pthread_cond_broadcast(&pool.done);
    }
}

/* How long a thread spins for the next region (or for the last items of
 * its own) before it sleeps: a step runs hundreds of short regions a few
 * microseconds apart, and waking a sleeping thread costs more than that. */
#define SPIN_ROUNDS 20000

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg)
{
    (void)arg;
    unsigned long seen = 0;
    for (;;) {
        for (int i = 0; i < SPIN_ROUNDS &&
                        atomic_load_explicit(&pool.published, memory_order_acquire) == seen &&
                        !atomic_load_explicit(&pool.quiet, memory_order_relaxed);
             i++)
            cpu_relax();
        pthread_mutex_lock(&pool.lock);
        while (pool.generation == seen)
            pthread_cond_wait(&pool.work, &pool.lock);
        seen = pool.generation;
        drain();
        pthread_mutex_unlock(&pool.lock);
    }
    return NULL;
}

void mtb_set_threads(int n)
{
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (int)cpus : 1;
    }
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    pthread_mutex_lock(&pool.busy);
    pthread_mutex_lock(&pool.lock);
    while (pool.n_workers_started < n - 1) {
        if (pthread_create(&pool.workers[pool.n_workers_started], NULL, worker_main, NULL) != 0)
            break;
        pthread_detach(pool.workers[pool.n_workers_started]);
        pool.n_workers_started++;
    }
    /* Extra workers from a larger earlier setting stay parked: they only
     * take items, and n_threads is just the splitting hint. */
    pool.n_threads = pool.n_workers_started + 1 < n ? pool.n_workers_started + 1 : n;
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
    /* OpenBLAS runs single-threaded, always: large products are split over
     * this pool instead (mtb_sgemm), so its own threads never spin beside
     * the pool's and no more than n threads ever compute. */
    openblas_set_num_threads(1);
}

bool mtb_pool_idle(void)
{
    if (pool.n_threads <= 1 || pthread_mutex_trylock(&pool.busy) != 0)
        return false;
    pthread_mutex_unlock(&pool.busy);
    return true;
}

void mtb_pool_quiet(bool quiet)
{
    atomic_store_explicit(&pool.quiet, quiet, memory_order_relaxed);
}

int mtb_thread_count(void)
{
    return pool.n_threads;
}

void mtb_parallel_for(int n, void (*fn)(void *ctx, int i), void *ctx)
{
    if (n <= 0)
        return;
    if (n == 1 || pool.n_threads <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
        for (int i = 0; i < n; i++)
            fn(ctx, i);
        return;
    }
    pthread_mutex_lock(&pool.lock);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.n_items = n;
    pool.next_item = 0;
    pool.items_done = 0;
    atomic_store_explicit(&pool.pending, n, memory_order_relaxed);
    pool.generation++;
    atomic_store_explicit(&pool.published, pool.generation, memory_order_release);
    pthread_cond_broadcast(&pool.work);
    drain();
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < SPIN_ROUNDS &&
                    atomic_load_explicit(&pool.pending, memory_order_acquire) > 0;
         i++)
        cpu_relax();
    pthread_mutex_lock(&pool.lock);
    while (pool.items_done < pool.n_items)
        pthread_cond_wait(&pool.done, &pool.lock);
    pool.n_items = 0;
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.busy);
}

typedef struct zero_job {
    float *p;
    size_t n;
    int chunks;
} zero_job;

static void zero_item(void *arg, int item)
{
    const zero_job *j = arg;
    size_t b, e;
    mtb_chunk_range(j->n, j->chunks, item, &b, &e);
    memset(j->p + b, 0, (e - b) * sizeof(float));
}

void mtb_zero_floats(float *p, size_t n)
{
    zero_job j = {p, n, mtb_chunk_count(n, (size_t)1 << 18)};
    mtb_parallel_for(j.chunks, zero_item, &j);
}

int mtb_chunk_count(size_t total, size_t grain)
{
    if (total == 0)
        return 0;
    size_t c = (total + grain - 1) / grain;
    return c > 4096 ? 4096 : (int)c;
}

void mtb_chunk_range(size_t total, int chunks, int i, size_t *begin, size_t *end)
{
    *begin = total * (size_t)i / (size_t)chunks;
    *end = total * (size_t)(i + 1) / (size_t)chunks;
}
