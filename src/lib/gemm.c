/* The dense layers' matrix products on the cores (see gemm.h): the two
 * ways (split on the worker pool, or OpenBLAS's own threads), the plan of
 * which way each kind of product takes (timed once, cached per machine),
 * and the recording and replay of a run's shapes for bench. */
#include "mtbert/gemm.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtbert/blas_kernel.h"
#include "mtbert/clock.h"
#include "mtbert/cpu.h"
#include "mtbert/file.h"
#include "mtbert/parallel.h"
#include "mtbert/precision.h"

static atomic_int gemm_mode = MTB_GEMM_POOL;

static CBLAS_TRANSPOSE op(bool trans)
{
    return trans ? CblasTrans : CblasNoTrans;
}

/* ---------------------------------------------------------------- the two ways */

/* One part of a pool-split product: rows of C (or columns, when C has
 * fewer rows than columns) at multiples of 16, OpenBLAS's register tiles.
 * Each part is an independent single-threaded product, so the split
 * depends on the thread count only. */
typedef struct gemm_job {
    bool ta, tb, by_rows;
    int M, N, K, lda, ldb, ldc, parts;
    float alpha, beta;
    const float *A, *B;
    float *C;
} gemm_job;

static void part_range(int total, int parts, int i, int *begin, int *end)
{
    const int tiles = (total + 15) / 16;
    *begin = (int)((long)tiles * i / parts) * 16;
    *end = (int)((long)tiles * (i + 1) / parts) * 16;
    *begin = *begin < total ? *begin : total;
    *end = *end < total ? *end : total;
}

static void gemm_part(void *arg, int i)
{
    const gemm_job *j = arg;
    int b, e;
    if (j->by_rows) {
        part_range(j->M, j->parts, i, &b, &e);
        if (e <= b)
            return;
        const float *A = j->ta ? j->A + b : j->A + (size_t)b * j->lda;
        cblas_sgemm(CblasRowMajor, op(j->ta), op(j->tb), e - b, j->N, j->K, j->alpha, A, j->lda,
                    j->B, j->ldb, j->beta, j->C + (size_t)b * j->ldc, j->ldc);
    } else {
        part_range(j->N, j->parts, i, &b, &e);
        if (e <= b)
            return;
        const float *B = j->tb ? j->B + (size_t)b * j->ldb : j->B + b;
        cblas_sgemm(CblasRowMajor, op(j->ta), op(j->tb), j->M, e - b, j->K, j->alpha, j->A,
                    j->lda, B, j->ldb, j->beta, j->C + b, j->ldc);
    }
}

static void run_way(mtb_gemm_way way, bool ta, bool tb, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb, float beta, float *C,
                    int ldc)
{
    const int n = mtb_thread_count();
    if (way == MTB_WAY_OPENBLAS) {
        mtb_pool_quiet(true);
        openblas_set_num_threads(n);
        cblas_sgemm(CblasRowMajor, op(ta), op(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        openblas_set_num_threads(1);
        mtb_pool_quiet(false);
        return;
    }
    gemm_job j = {ta, tb, M >= N, M, N, K, lda, ldb, ldc, n, alpha, beta, A, B, C};
    mtb_parallel_for(n, gemm_part, &j);
}

/* ---------------------------------------------------------------- the plan */

/* A kind of product: transposes and each size to half an octave, so the
 * token counts of ragged batches fall into a few kinds. */
typedef struct plan_key {
    unsigned char ta, tb, m, n, k;
} plan_key;

typedef struct plan_entry {
    plan_key key;
    mtb_gemm_way way;
    float ms[MTB_WAY_N];
} plan_entry;

#define PLAN_MAX 512
#define OPENBLAS_MARGIN 0.97

static struct {
    pthread_mutex_t lock;
    plan_entry entries[PLAN_MAX];
    int n;
    char cache_path[4096];
    bool default_cache; /* the path follows the thread count (mtb_gemm_use_default_cache) */
    int cache_threads;  /* the thread count the plan in memory is for */
} plan = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int load_plan_locked(const char *path, char *err, size_t err_cap);

static unsigned char half_octave(int x)
{
    return (unsigned char)(x <= 1 ? 0 : (int)floor(2.0 * log2((double)x)));
}

static plan_key key_of(bool ta, bool tb, int M, int N, int K)
{
    return (plan_key){ta, tb, half_octave(M), half_octave(N), half_octave(K)};
}

static bool same_key(plan_key a, plan_key b)
{
    return a.ta == b.ta && a.tb == b.tb && a.m == b.m && a.n == b.n && a.k == b.k;
}

/* Caller holds plan.lock. */
static plan_entry *find(plan_key key)
{
    for (int i = 0; i < plan.n; i++)
        if (same_key(plan.entries[i].key, key))
            return &plan.entries[i];
    return NULL;
}

/* Scratch operands for timing a shape: values small enough that no
 * product overflows, never the caller's buffers (beta 1 would accumulate). */
typedef struct scratch {
    float *A, *B, *C;
    int lda, ldb;
} scratch;

static bool scratch_alloc(scratch *s, bool ta, bool tb, int M, int N, int K)
{
    const size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
    s->A = malloc(na * sizeof(float)); /* (M, K) or (K, M) */
    s->B = malloc(nb * sizeof(float)); /* (K, N) or (N, K) */
    s->C = calloc(nc, sizeof(float));  /* (M, N) */
    s->lda = ta ? M : K;
    s->ldb = tb ? K : N;
    if (!s->A || !s->B || !s->C) {
        free(s->A);
        free(s->B);
        free(s->C);
        return false;
    }
    for (size_t i = 0; i < na; i++)
        s->A[i] = (float)((i * 7) % 13) * 0.01f - 0.06f;
    for (size_t i = 0; i < nb; i++)
        s->B[i] = (float)((i * 5) % 11) * 0.01f - 0.05f;
    return true;
}

static void scratch_free(scratch *s)
{
    free(s->A);
    free(s->B);
    free(s->C);
}

/* The fastest of reps runs of each way, alternating so a slow spell of
 * the machine hits both; one untimed run of each first. */
static void time_shape(const mtb_gemm_shape *sh, const scratch *s, int reps,
                       double best[MTB_WAY_N])
{
    for (int w = 0; w < MTB_WAY_N; w++)
        best[w] = INFINITY;
    for (int r = -1; r < reps; r++)
        for (int w = 0; w < MTB_WAY_N; w++) {
            const double t0 = mtb_now_seconds();
            run_way((mtb_gemm_way)w, sh->trans_a, sh->trans_b, sh->M, sh->N, sh->K, 1.0f, s->A,
                    s->lda, s->B, s->ldb, sh->beta, s->C, sh->N);
            const double t = mtb_now_seconds() - t0;
            if (r >= 0 && t < best[w])
                best[w] = t;
        }
}

/* One line of the plan file: "ta tb m n k way pool_ms openblas_ms". */
static bool parse_plan_line(const char *line, plan_entry *e)
{
    int ta, tb, m, n, k;
    char way[16];
    float pool_ms, blas_ms;
    if (line[0] == '#' ||
        sscanf(line, "%d %d %d %d %d %15s %f %f", &ta, &tb, &m, &n, &k, way, &pool_ms,
               &blas_ms) != 8)
        return false;
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1) || m < 0 || m > 255 || n < 0 || n > 255 ||
        k < 0 || k > 255 || (strcmp(way, "openblas") != 0 && strcmp(way, "pool") != 0))
        return false;
    e->key = (plan_key){(unsigned char)ta, (unsigned char)tb, (unsigned char)m,
                        (unsigned char)n, (unsigned char)k};
    e->way = strcmp(way, "openblas") == 0 ? MTB_WAY_OPENBLAS : MTB_WAY_POOL;
    e->ms[MTB_WAY_POOL] = pool_ms;
    e->ms[MTB_WAY_OPENBLAS] = blas_ms;
    return true;
}

static void save_plan_locked(void)
{
    if (!plan.cache_path[0])
        return;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", plan.cache_path, (long)getpid());
    char dir[4200];
    mtb_path_parent(tmp, dir, sizeof dir);
    mtb_mkdir_p(dir, 0755);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    /* Another process may have timed shapes since this one read the file:
     * its lines stay, and where both timed a shape the file's way stays,
     * so every later run gets the way the first one used. */
    FILE *old = fopen(plan.cache_path, "r");
    bool *written = calloc((size_t)plan.n + 1, sizeof *written);
    char line[256];
    fprintf(f, "# mtbert gemm plan: ta tb M N K (half-octaves) way pool_ms openblas_ms\n");
    while (old && fgets(line, sizeof line, old)) {
        plan_entry e;
        if (!parse_plan_line(line, &e))
            continue;
        const plan_entry *mine = find(e.key);
        if (mine && written)
            written[mine - plan.entries] = true;
        fputs(line, f);
    }
    if (old)
        fclose(old);
    for (int i = 0; i < plan.n; i++) {
        const plan_entry *e = &plan.entries[i];
        if (written && written[i])
            continue;
        fprintf(f, "%d %d %d %d %d %s %.4f %.4f\n", e->key.ta, e->key.tb, e->key.m, e->key.n,
                e->key.k, mtb_gemm_way_name(e->way), e->ms[MTB_WAY_POOL],
                e->ms[MTB_WAY_OPENBLAS]);
    }
    free(written);
    if (fclose(f) != 0 || rename(tmp, plan.cache_path) != 0)
        unlink(tmp);
}

/* With the default cache, the plan in memory is the one for the pool's
 * thread count: a plan is only good for the count it was timed with. */
static void follow_threads_locked(void)
{
    if (!plan.default_cache || plan.cache_threads == mtb_thread_count())
        return;
    char path[4096], err[256];
    mtb_gemm_default_cache_path(path, sizeof path);
    plan.n = 0;
    load_plan_locked(path, err, sizeof err);
    plan.cache_threads = mtb_thread_count();
}

/* The way for a product in auto mode: the plan's, or timed now.  Timing
 * needs the pool to itself; while another thread holds it (a front end
 * scoring during training) the product runs on the pool and nothing is
 * decided. */
static mtb_gemm_way planned_way(bool ta, bool tb, int M, int N, int K, float beta)
{
    const plan_key key = key_of(ta, tb, M, N, K);
    pthread_mutex_lock(&plan.lock);
    follow_threads_locked();
    plan_entry *e = find(key);
    if (e) {
        const mtb_gemm_way way = e->way;
        pthread_mutex_unlock(&plan.lock);
        return way;
    }
    scratch s;
    if (plan.n >= PLAN_MAX || !mtb_pool_idle() || !scratch_alloc(&s, ta, tb, M, N, K)) {
        pthread_mutex_unlock(&plan.lock);
        return MTB_WAY_POOL;
    }
    const mtb_gemm_shape sh = {ta, tb, M, N, K, beta, 0};
    double best[MTB_WAY_N];
    time_shape(&sh, &s, 5, best);
    scratch_free(&s);
    e = &plan.entries[plan.n++];
    e->key = key;
    /* OpenBLAS's threads must win clearly: after a product they spin for a
     * while beside the pool's next region, a cost the timing cannot see */
    e->way = best[MTB_WAY_OPENBLAS] < OPENBLAS_MARGIN * best[MTB_WAY_POOL] ? MTB_WAY_OPENBLAS
                                                                          : MTB_WAY_POOL;
    for (int w = 0; w < MTB_WAY_N; w++)
        e->ms[w] = (float)(best[w] * 1e3);
    save_plan_locked();
    const mtb_gemm_way way = e->way;
    pthread_mutex_unlock(&plan.lock);
    return way;
}

/* ---------------------------------------------------------------- recording */

#define RECORD_MAX 65536

static struct {
    pthread_mutex_t lock;
    atomic_bool on;
    mtb_gemm_shape *shapes;
    size_t n;
} rec = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void record(bool ta, bool tb, int M, int N, int K, float beta, double seconds)
{
    pthread_mutex_lock(&rec.lock);
    if (!rec.shapes)
        rec.shapes = malloc(RECORD_MAX * sizeof *rec.shapes);
    if (rec.shapes && rec.n < RECORD_MAX)
        rec.shapes[rec.n++] = (mtb_gemm_shape){ta, tb, M, N, K, beta, seconds};
    pthread_mutex_unlock(&rec.lock);
}

void mtb_gemm_record(bool on)
{
    pthread_mutex_lock(&rec.lock);
    if (on)
        rec.n = 0;
    atomic_store(&rec.on, on);
    pthread_mutex_unlock(&rec.lock);
}

size_t mtb_gemm_recorded(const mtb_gemm_shape **shapes)
{
    pthread_mutex_lock(&rec.lock);
    *shapes = rec.shapes;
    const size_t n = rec.n;
    pthread_mutex_unlock(&rec.lock);
    return n;
}

/* ---------------------------------------------------------------- the product */

void mtb_sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc)
{
    const bool recording = atomic_load_explicit(&rec.on, memory_order_relaxed);
    const double t0 = recording ? mtb_now_seconds() : 0;
    if (mtb_precision_get() == MTB_PRECISION_BF16)
        mtb_sgemm_bf16(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        mtb_sgemm_fp32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (recording)
        record(ta, tb, M, N, K, beta, mtb_now_seconds() - t0);
}

void mtb_sgemm_fp32(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                    int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (mtb_thread_count() <= 1 || (long)M * N * K < MTB_GEMM_SPLIT_MIN) {
        cblas_sgemm(CblasRowMajor, op(ta), op(tb), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    const int mode = atomic_load_explicit(&gemm_mode, memory_order_relaxed);
    const mtb_gemm_way way = mode == MTB_GEMM_POOL       ? MTB_WAY_POOL
                             : mode == MTB_GEMM_OPENBLAS ? MTB_WAY_OPENBLAS
                                                         : planned_way(ta, tb, M, N, K, beta);
    run_way(way, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* ---------------------------------------------------------------- replay */

static int compare_shapes(const void *pa, const void *pb)
{
    const mtb_gemm_shape *a = pa, *b = pb;
    const int ka[] = {a->trans_a, a->trans_b, a->M, a->N, a->K, a->beta != 0};
    const int kb[] = {b->trans_a, b->trans_b, b->M, b->N, b->K, b->beta != 0};
    for (int i = 0; i < 6; i++)
        if (ka[i] != kb[i])
            return ka[i] < kb[i] ? -1 : 1;
    return 0;
}

int mtb_gemm_replay(const mtb_gemm_shape *shapes, size_t n, int reps, mtb_gemm_floor *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return 0;
    mtb_gemm_shape *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, shapes, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_shapes);
    int status = 0;
    for (size_t i = 0; i < n;) {
        size_t same = 1;
        while (i + same < n && compare_shapes(&sorted[i], &sorted[i + same]) == 0)
            same++;
        const mtb_gemm_shape *sh = &sorted[i];
        double best[MTB_WAY_N];
        if ((long)sh->M * sh->N * sh->K < MTB_GEMM_SPLIT_MIN || mtb_thread_count() <= 1) {
            /* one piece on the calling thread either way */
            scratch s;
            if (!scratch_alloc(&s, sh->trans_a, sh->trans_b, sh->M, sh->N, sh->K)) {
                status = -1;
                break;
            }
            double t = INFINITY;
            for (int r = -1; r < reps; r++) {
                const double t0 = mtb_now_seconds();
                cblas_sgemm(CblasRowMajor, op(sh->trans_a), op(sh->trans_b), sh->M, sh->N, sh->K,
                            1.0f, s.A, s.lda, s.B, s.ldb, sh->beta, s.C, sh->N);
                if (r >= 0 && mtb_now_seconds() - t0 < t)
                    t = mtb_now_seconds() - t0;
            }
            scratch_free(&s);
            best[MTB_WAY_POOL] = best[MTB_WAY_OPENBLAS] = t;
        } else {
            scratch s;
            if (!scratch_alloc(&s, sh->trans_a, sh->trans_b, sh->M, sh->N, sh->K)) {
                status = -1;
                break;
            }
            time_shape(sh, &s, reps, best);
            scratch_free(&s);
            out->openblas_faster += best[MTB_WAY_OPENBLAS] < best[MTB_WAY_POOL];
        }
        mtb_gemm_way planned = MTB_WAY_POOL;
        const int mode = mtb_gemm_get_mode();
        if (mode == MTB_GEMM_OPENBLAS)
            planned = MTB_WAY_OPENBLAS;
        else if (mode == MTB_GEMM_AUTO) {
            pthread_mutex_lock(&plan.lock);
            const plan_entry *e = find(key_of(sh->trans_a, sh->trans_b, sh->M, sh->N, sh->K));
            planned = e ? e->way : MTB_WAY_POOL;
            pthread_mutex_unlock(&plan.lock);
        }
        for (size_t k = i; k < i + same; k++)
            out->in_step += sorted[k].seconds;
        for (int w = 0; w < MTB_WAY_N; w++)
            out->seconds[w] += best[w] * (double)same;
        out->best += fmin(best[MTB_WAY_POOL], best[MTB_WAY_OPENBLAS]) * (double)same;
        out->planned += best[planned] * (double)same;
        out->shapes++;
        out->products += (int)same;
        i += same;
    }
    free(sorted);
    return status;
}

/* ---------------------------------------------------------------- settings */

void mtb_gemm_set_mode(mtb_gemm_mode mode)
{
    atomic_store(&gemm_mode, (int)mode);
}

mtb_gemm_mode mtb_gemm_get_mode(void)
{
    return (mtb_gemm_mode)atomic_load(&gemm_mode);
}

static const char *const mode_names[] = {"pool", "openblas", "auto"};

const char *mtb_gemm_mode_name(mtb_gemm_mode mode)
{
    return (unsigned)mode < 3 ? mode_names[mode] : "?";
}

int mtb_gemm_mode_parse(const char *name)
{
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, mode_names[i]) == 0)
            return i;
    return -1;
}

const char *mtb_gemm_way_name(mtb_gemm_way way)
{
    return way == MTB_WAY_OPENBLAS ? "openblas" : "pool";
}

void mtb_gemm_plan_clear(void)
{
    pthread_mutex_lock(&plan.lock);
    plan.n = 0;
    pthread_mutex_unlock(&plan.lock);
}

int mtb_gemm_use_cache(const char *path, char *err, size_t err_cap)
{
    pthread_mutex_lock(&plan.lock);
    plan.default_cache = false;
    plan.cache_path[0] = '\0';
    const int read = path ? load_plan_locked(path, err, err_cap) : 0;
    pthread_mutex_unlock(&plan.lock);
    return read;
}

void mtb_gemm_use_default_cache(void)
{
    pthread_mutex_lock(&plan.lock);
    plan.default_cache = true;
    plan.cache_threads = 0; /* loaded at the first product, once threads are set */
    pthread_mutex_unlock(&plan.lock);
}

/* Caller holds plan.lock. */
static int load_plan_locked(const char *path, char *err, size_t err_cap)
{
    snprintf(plan.cache_path, sizeof plan.cache_path, "%s", path);
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, err_cap, "%s: a folder or device, not a plan file", path);
        plan.cache_path[0] = '\0';
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        return -1;
    }
    int read = 0;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        plan_entry parsed;
        if (!parse_plan_line(line, &parsed))
            continue;
        plan_entry *e = find(parsed.key);
        if (!e && plan.n >= PLAN_MAX)
            continue;
        if (!e)
            e = &plan.entries[plan.n++];
        *e = parsed;
        read++;
    }
    fclose(f);
    return read;
}

static void slug(char *dst, size_t cap, const char *src)
{
    size_t o = 0;
    for (const char *p = src; *p && o + 1 < cap; p++) {
        const char c = *p;
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (keep)
            dst[o++] = c;
        else if (o > 0 && dst[o - 1] != '_')
            dst[o++] = '_';
    }
    while (o > 0 && dst[o - 1] == '_')
        o--;
    dst[o] = '\0';
}

void mtb_gemm_default_cache_path(char *buf, size_t cap)
{
    const mtb_cpu *cpu = mtb_cpu_this();
    char name[64];
    slug(name, sizeof name, cpu->name);
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[4096];
    if (xdg && xdg[0] == '/')
        snprintf(dir, sizeof dir, "%s/mtbert", xdg);
    else
        snprintf(dir, sizeof dir, "%s/.cache/mtbert", home && home[0] ? home : "/tmp");
    snprintf(buf, cap, "%s/gemm-%s-f%dm%d-%s-%dt.tsv", dir, name, cpu->family, cpu->model,
             mtb_blas_kernel_current()->kernel, mtb_thread_count());
}

void mtb_gemm_describe(char *buf, size_t cap)
{
    const int mode = mtb_gemm_get_mode();
    if (mode != MTB_GEMM_AUTO || mtb_thread_count() <= 1) {
        snprintf(buf, cap, "%s%s", mtb_gemm_mode_name((mtb_gemm_mode)mode),
                 mtb_thread_count() <= 1 ? " (1 thread: every product in one piece)" : "");
        return;
    }
    pthread_mutex_lock(&plan.lock);
    follow_threads_locked();
    int blas = 0;
    for (int i = 0; i < plan.n; i++)
        blas += plan.entries[i].way == MTB_WAY_OPENBLAS;
    snprintf(buf, cap, "auto: %d of %d kinds of product timed faster on OpenBLAS's threads", blas,
             plan.n);
    pthread_mutex_unlock(&plan.lock);
}
