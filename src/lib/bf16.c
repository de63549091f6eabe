/* bf16 numbers, the CPU's bf16 units, and products through oneDNN's
 * matmul or an fp32 emulation on OpenBLAS. */
#include "bf16.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtbert/cpu.h"

/* ------------------------------------------------------------ numbers */

static inline uint32_t bits_of(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float float_of(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Branch-free, so the vector loops below vectorise and every path shares
 * one definition (bit-exact by construction).  Adding 0x7fff rounds
 * everything above the halfway point up and the halfway point down; the
 * lowest kept bit added on top turns the halfway case into ties-to-even.
 * A carry into the exponent is the right answer, up to inf.  NaNs would
 * carry into the sign or become inf, so they keep their top bits instead,
 * with the quiet bit set. */
static inline uint16_t bf16_of_bits(uint32_t u)
{
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const uint32_t quiet = (u >> 16) | 0x40u;
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? quiet : rounded);
}

uint16_t mtb_bf16_from_float(float x)
{
    return bf16_of_bits(bits_of(x));
}

float mtb_bf16_to_float(uint16_t h)
{
    return float_of((uint32_t)h << 16);
}

void mtb_bf16_convert(uint16_t *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = bf16_of_bits(bits_of(src[i]));
}

void mtb_bf16_round(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = float_of((uint32_t)bf16_of_bits(bits_of(src[i])) << 16);
}

/* ------------------------------------------------------------ the CPU */

/* Linux also wants a per-process arch_prctl before the first AMX tile
 * instruction; oneDNN makes that request itself. */
bool mtb_bf16_native(void)
{
    return mtb_cpu_has_bf16(mtb_cpu_this());
}

const char *mtb_bf16_units(void)
{
    const mtb_cpu *cpu = mtb_cpu_this();
    return cpu->amx_bf16 ? "AMX-BF16" : cpu->avx512_bf16 ? "AVX512_BF16" : "none";
}

/* ------------------------------------------------------------ shapes */

static bool valid_shape(bool trans_a, bool trans_b, int M, int N, int K, int lda, int ldb,
                        int ldc)
{
    const int a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
    return M >= 0 && N >= 0 && K >= 0 && lda >= (a_cols > 1 ? a_cols : 1) &&
           ldb >= (b_cols > 1 ? b_cols : 1) && ldc >= (N > 1 ? N : 1);
}

/* C (M, N) = beta C: the whole product when K == 0.  beta == 0 writes
 * zeros without reading C, as cblas does. */
static void scale_c(float *C, int M, int N, int ldc, float beta)
{
    for (int i = 0; i < M; i++) {
        float *row = C + (size_t)i * ldc;
        for (int j = 0; j < N; j++)
            row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    }
}

const char *mtb_bf16_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
    case MTB_BF16_EINVAL:
        return "invalid matrix sizes or leading dimensions";
    case MTB_BF16_EUNIMPL:
        return "oneDNN has no bf16 matrix product for this CPU";
    case MTB_BF16_EDNNL:
        return "oneDNN failed (out of memory or an internal error)";
    default:
        return "unknown bf16 error";
    }
}

/* ------------------------------------------------------------ oneDNN */

/* The BERT step has a dozen distinct product shapes (forward and both
 * backward products of each layer kind); this leaves room for two batch
 * shapes at once and for the tests. */
#define CACHE_SLOTS 64

typedef struct gemm_key {
    dnnl_data_type_t type; /* of A and B; C is always f32 */
    bool trans_a, trans_b;
    int M, N, K, lda, ldb, ldc;
    uint32_t alpha, beta; /* the bits, so that every float, even NaN, keys itself */
} gemm_key;

typedef struct gemm_entry {
    bool used;
    gemm_key key;
    int status;            /* 0, or MTB_BF16_EUNIMPL remembered so it is not retried */
    dnnl_primitive_t prim; /* NULL when status != 0 */
    /* Without buffers: each call points them at its operands. */
    dnnl_memory_t src, weights, dst;
    char impl[64];
} gemm_entry;

/* One lock over the engine, the stream and the cache.  Products run under
 * it too: another caller's miss could evict the entry being executed, and
 * a oneDNN stream is not meant for concurrent use.  oneDNN threads each
 * product itself, so serialising callers costs little. */
static struct {
    pthread_mutex_t lock;
    bool engine_tried;
    int engine_status;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    gemm_entry slot[CACHE_SLOTS];
    int next_victim;
    long created;
} dn = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int code_of(dnnl_status_t s)
{
    return s == dnnl_success ? 0 : s == dnnl_unimplemented ? MTB_BF16_EUNIMPL : MTB_BF16_EDNNL;
}

static bool key_equal(const gemm_key *x, const gemm_key *y)
{
    return x->type == y->type && x->trans_a == y->trans_a && x->trans_b == y->trans_b &&
           x->M == y->M && x->N == y->N && x->K == y->K && x->lda == y->lda &&
           x->ldb == y->ldb && x->ldc == y->ldc && x->alpha == y->alpha && x->beta == y->beta;
}

static void release_entry(gemm_entry *e)
{
    if (e->src)
        dnnl_memory_destroy(e->src);
    if (e->weights)
        dnnl_memory_destroy(e->weights);
    if (e->dst)
        dnnl_memory_destroy(e->dst);
    if (e->prim)
        dnnl_primitive_destroy(e->prim);
    memset(e, 0, sizeof *e);
}

/* Under dn.lock, with the engine up.  On failure e is left empty. */
static int create_entry(gemm_entry *e, const gemm_key *k)
{
    memset(e, 0, sizeof *e);
    const float alpha = float_of(k->alpha), beta = float_of(k->beta);
    /* A transposed operand is the stored matrix read with swapped strides,
     * so it needs no copy: op(A)[m][k] is A[k lda + m]. */
    const dnnl_dims_t a_dims = {k->M, k->K}, b_dims = {k->K, k->N}, c_dims = {k->M, k->N};
    const dnnl_dims_t a_strides = {k->trans_a ? 1 : k->lda, k->trans_a ? k->lda : 1};
    const dnnl_dims_t b_strides = {k->trans_b ? 1 : k->ldb, k->trans_b ? k->ldb : 1};
    const dnnl_dims_t c_strides = {k->ldc, 1};
    dnnl_memory_desc_t a_md, b_md, c_md;
    dnnl_matmul_desc_t desc;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post_ops = NULL;
    dnnl_primitive_desc_t pd = NULL;

    dnnl_status_t s = dnnl_memory_desc_init_by_strides(&a_md, 2, a_dims, k->type, a_strides);
    if (s == dnnl_success)
        s = dnnl_memory_desc_init_by_strides(&b_md, 2, b_dims, k->type, b_strides);
    if (s == dnnl_success)
        s = dnnl_memory_desc_init_by_strides(&c_md, 2, c_dims, dnnl_f32, c_strides);
    if (s == dnnl_success)
        s = dnnl_matmul_desc_init(&desc, &a_md, &b_md, NULL, &c_md);
    if (s == dnnl_success)
        s = dnnl_primitive_attr_create(&attr);
    /* dst = output_scale (A B) + sum_scale dst: the attributes apply the
     * scale first, then the post-ops.  Leaving out the trivial ones keeps
     * the attributes empty for the common shape, the one every
     * implementation supports. */
    if (s == dnnl_success && alpha != 1.0f)
        s = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha);
    if (s == dnnl_success && beta != 0.0f) {
        s = dnnl_post_ops_create(&post_ops);
        if (s == dnnl_success)
            s = dnnl_post_ops_append_sum(post_ops, beta);
        if (s == dnnl_success)
            s = dnnl_primitive_attr_set_post_ops(attr, post_ops);
    }
    if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&pd, &desc, attr, dn.engine, NULL);
    if (s == dnnl_success) {
        const char *impl = NULL;
        if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success &&
            impl)
            snprintf(e->impl, sizeof e->impl, "%s", impl);
        s = dnnl_primitive_create(&e->prim, pd);
    }
    /* The memory descriptors are fully specified (no format "any"), so they
     * are exactly what the primitive expects. */
    if (s == dnnl_success)
        s = dnnl_memory_create(&e->src, &a_md, dn.engine, DNNL_MEMORY_NONE);
    if (s == dnnl_success)
        s = dnnl_memory_create(&e->weights, &b_md, dn.engine, DNNL_MEMORY_NONE);
    if (s == dnnl_success)
        s = dnnl_memory_create(&e->dst, &c_md, dn.engine, DNNL_MEMORY_NONE);

    /* the primitive keeps its own copy of all three */
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (post_ops)
        dnnl_post_ops_destroy(post_ops);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) {
        release_entry(e);
        return code_of(s);
    }
    e->used = true;
    e->key = *k;
    dn.created++;
    return 0;
}

/* Under dn.lock.  The entry for k, creating it on a miss; NULL with *rc set
 * when it cannot be had. */
static gemm_entry *lookup(const gemm_key *k, int *rc)
{
    if (!dn.engine_tried) {
        dn.engine_tried = true;
        dnnl_status_t s = dnnl_engine_create(&dn.engine, dnnl_cpu, 0);
        if (s == dnnl_success)
            s = dnnl_stream_create(&dn.stream, dn.engine, dnnl_stream_default_flags);
        dn.engine_status = code_of(s);
    }
    if (dn.engine_status) {
        *rc = dn.engine_status;
        return NULL;
    }
    gemm_entry *free_slot = NULL;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        gemm_entry *e = &dn.slot[i];
        if (!e->used) {
            if (!free_slot)
                free_slot = e;
        } else if (key_equal(&e->key, k)) {
            *rc = e->status;
            return e->status ? NULL : e;
        }
    }
    gemm_entry *e = free_slot;
    if (!e) {
        /* Round robin: a training step cycles through all its shapes, so
         * recency says little about which comes back first. */
        e = &dn.slot[dn.next_victim];
        dn.next_victim = (dn.next_victim + 1) % CACHE_SLOTS;
        release_entry(e);
    }
    *rc = create_entry(e, k);
    if (*rc == MTB_BF16_EUNIMPL) {
        /* Will not change while the program runs; a failure to allocate
         * might, so only this one is kept. */
        e->used = true;
        e->key = *k;
        e->status = *rc;
    }
    return *rc ? NULL : e;
}

static int run_matmul(dnnl_data_type_t type, bool trans_a, bool trans_b, int M, int N, int K,
                     float alpha, const void *A, int lda, const void *B, int ldb, float beta,
                     float *C, int ldc, char *impl, size_t impl_cap)
{
    if (!valid_shape(trans_a, trans_b, M, N, K, lda, ldb, ldc))
        return MTB_BF16_EINVAL;
    if (M == 0 || N == 0)
        return 0;
    if (K == 0) {
        scale_c(C, M, N, ldc, beta);
        return 0;
    }
    const gemm_key key = {type,
                          trans_a,
                          trans_b,
                          M,
                          N,
                          K,
                          lda,
                          ldb,
                          ldc,
                          bits_of(alpha),
                          bits_of(beta)};
    int rc;
    pthread_mutex_lock(&dn.lock);
    gemm_entry *e = lookup(&key, &rc);
    if (e) {
        if (impl)
            snprintf(impl, impl_cap, "%s", e->impl);
        /* oneDNN takes every handle as void *; it only reads src and weights */
        dnnl_status_t s = dnnl_memory_set_data_handle(e->src, (void *)(uintptr_t)A);
        if (s == dnnl_success)
            s = dnnl_memory_set_data_handle(e->weights, (void *)(uintptr_t)B);
        if (s == dnnl_success)
            s = dnnl_memory_set_data_handle(e->dst, C);
        if (s == dnnl_success) {
            const dnnl_exec_arg_t args[] = {
                {DNNL_ARG_SRC, e->src},
                {DNNL_ARG_WEIGHTS, e->weights},
                {DNNL_ARG_DST, e->dst},
            };
            s = dnnl_primitive_execute(e->prim, dn.stream, 3, args);
        }
        if (s == dnnl_success)
            s = dnnl_stream_wait(dn.stream);
        rc = code_of(s);
    }
    pthread_mutex_unlock(&dn.lock);
    return rc;
}

int mtb_bf16_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                  const uint16_t *A, int lda, const uint16_t *B, int ldb, float beta, float *C,
                  int ldc)
{
    return run_matmul(dnnl_bf16, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                     NULL, 0);
}

int mtb_bf16_dnnl_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb, float beta, float *C,
                        int ldc)
{
    return run_matmul(dnnl_f32, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                     NULL, 0);
}

long mtb_bf16_primitives_created(void)
{
    pthread_mutex_lock(&dn.lock);
    const long n = dn.created;
    pthread_mutex_unlock(&dn.lock);
    return n;
}

static bool gemm_works;
static char gemm_impl[64] = "none";
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

/* Small integers and halves, so every product and sum is exact in any
 * order and the answer can be compared bit for bit.  B is transposed, as
 * in a linear layer, and alpha and beta are both non-trivial, so the
 * probe needs everything a training step will ask for. */
static void probe(void)
{
    enum { M = 3, N = 5, K = 7 };
    uint16_t A[M * K], B[N * K]; /* (M, K), (N, K) */
    float C[M * N];              /* (M, N) */
    for (int i = 0; i < M * K; i++)
        A[i] = mtb_bf16_from_float((float)(i % 5 - 2));
    for (int i = 0; i < N * K; i++)
        B[i] = mtb_bf16_from_float((float)(i % 7 - 3));
    for (int i = 0; i < M * N; i++)
        C[i] = (float)(i % 3);
    char impl[64] = "";
    if (run_matmul(dnnl_bf16, false, true, M, N, K, 0.5f, A, K, B, K, 2.0f, C, N, impl,
                  sizeof impl) != 0)
        return;
    bool exact = true;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double dot = 0.0;
            for (int k = 0; k < K; k++)
                dot += (double)((m * K + k) % 5 - 2) * ((n * K + k) % 7 - 3);
            exact = exact && C[m * N + n] == (float)(0.5 * dot + 2.0 * ((m * N + n) % 3));
        }
    gemm_works = exact;
    snprintf(gemm_impl, sizeof gemm_impl, "%s%s", impl[0] ? impl : "unnamed",
             exact ? "" : " (wrong results)");
}

bool mtb_bf16_gemm_available(void)
{
    pthread_once(&probe_once, probe);
    return gemm_works;
}

const char *mtb_bf16_gemm_impl(void)
{
    pthread_once(&probe_once, probe);
    return gemm_impl;
}

/* ------------------------------------------------------------ emulated */

static void widen(float *dst, const uint16_t *src, int rows, int cols, int ld)
{
    for (int i = 0; i < rows; i++) {
        const uint16_t *s = src + (size_t)i * ld;
        float *d = dst + (size_t)i * cols;
        for (int j = 0; j < cols; j++)
            d[j] = float_of((uint32_t)s[j] << 16);
    }
}

void mtb_bf16_gemm_emulated(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                            const uint16_t *A, int lda, const uint16_t *B, int ldb, float beta,
                            float *C, int ldc)
{
    if (!valid_shape(trans_a, trans_b, M, N, K, lda, ldb, ldc) || M == 0 || N == 0)
        return;
    if (K == 0) {
        scale_c(C, M, N, ldc, beta);
        return;
    }
    /* the operands as stored, widened and packed: A (M, K) or, with
     * trans_a, (K, M); B (K, N) or, with trans_b, (N, K) */
    const int a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
    const int b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
    float *wa = malloc(sizeof *wa * (size_t)a_rows * (size_t)a_cols);
    float *wb = malloc(sizeof *wb * (size_t)b_rows * (size_t)b_cols);
    if (wa && wb) {
        widen(wa, A, a_rows, a_cols, lda);
        widen(wb, B, b_rows, b_cols, ldb);
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, wa, a_cols, wb, b_cols,
                    beta, C, ldc);
    } else {
        /* Out of memory: the same sums without the copies, slowly, since
         * there is no way to report the failure. */
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                float acc = 0.0f;
                for (int k = 0; k < K; k++) {
                    const uint16_t a = trans_a ? A[(size_t)k * lda + m] : A[(size_t)m * lda + k];
                    const uint16_t b = trans_b ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n];
                    acc += mtb_bf16_to_float(a) * mtb_bf16_to_float(b);
                }
                float *c = C + (size_t)m * ldc + n;
                *c = beta == 0.0f ? alpha * acc : alpha * acc + beta * *c;
            }
    }
    free(wa);
    free(wb);
}
