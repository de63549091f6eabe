/* Fully connected layer, PyTorch layout: weight is [out, in]. */
#include "mtbert/ops.h"

#include <cblas.h>
#include <stdbool.h>
#include <string.h>

#include "mtbert/parallel.h"

/* C (M, N) = alpha op(A) op(B) + beta C, row-major, split over the pool by
 * rows of C (or columns, when C has fewer rows than columns) at multiples
 * of 16, OpenBLAS's register tiles.  Each part is an independent
 * single-threaded product, so the split depends on the thread count only. */
typedef struct gemm_job {
    CBLAS_TRANSPOSE ta, tb;
    int M, N, K, lda, ldb, ldc, parts;
    bool by_rows;
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
        const float *A = j->ta == CblasNoTrans ? j->A + (size_t)b * j->lda : j->A + b;
        cblas_sgemm(CblasRowMajor, j->ta, j->tb, e - b, j->N, j->K, j->alpha, A, j->lda, j->B,
                    j->ldb, j->beta, j->C + (size_t)b * j->ldc, j->ldc);
    } else {
        part_range(j->N, j->parts, i, &b, &e);
        if (e <= b)
            return;
        const float *B = j->tb == CblasNoTrans ? j->B + b : j->B + (size_t)b * j->ldb;
        cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->M, e - b, j->K, j->alpha, j->A, j->lda, B,
                    j->ldb, j->beta, j->C + b, j->ldc);
    }
}

/* Products smaller than this many multiply-adds run in one piece. */
#define GEMM_SPLIT_MIN (1L << 18)

static void sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    gemm_job j = {ta, tb, M, N, K, lda, ldb, ldc, mtb_thread_count(), M >= N, alpha, beta,
                  A, B, C};
    if (j.parts <= 1 || (long)M * N * K < GEMM_SPLIT_MIN) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    mtb_parallel_for(j.parts, gemm_part, &j);
}

void mtb_linear_forward(float *out, const float *in, const float *weight, const float *bias,
                        int n, int in_dim, int out_dim)
{
    if (n <= 0 || out_dim <= 0)
        return;
    float beta = 0.0f;
    if (bias) {
        /* Pre-filling with the bias and letting sgemm add on top (beta = 1)
         * costs one write pass instead of a separate read-modify-write pass. */
        for (int i = 0; i < n; i++)
            memcpy(out + (size_t)i * out_dim, bias, (size_t)out_dim * sizeof *out);
        beta = 1.0f;
    }
    if (in_dim <= 0) {
        if (!bias)
            memset(out, 0, (size_t)n * out_dim * sizeof *out);
        return;
    }
    sgemm(CblasNoTrans, CblasTrans, n, out_dim, in_dim, 1.0f, in, in_dim, weight, in_dim, beta,
          out, out_dim);
}

void mtb_linear_weight_grad(float *dweight, const float *dout, const float *in, int n,
                            int in_dim, int out_dim, bool overwrite)
{
    if (in_dim <= 0 || out_dim <= 0)
        return;
    if (n <= 0) {
        if (overwrite)
            memset(dweight, 0, sizeof(float) * (size_t)out_dim * (size_t)in_dim);
        return;
    }
    /* beta 0 on a zeroed buffer and beta 1 give the same bits: every
     * element is 0 + its dot product either way */
    sgemm(CblasTrans, CblasNoTrans, out_dim, in_dim, n, 1.0f, dout, out_dim, in, in_dim,
          overwrite ? 0.0f : 1.0f, dweight, in_dim);
}

void mtb_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                         const float *in, const float *weight, int n, int in_dim, int out_dim)
{
    if (n <= 0 || out_dim <= 0)
        return;
    if (din && in_dim > 0)
        sgemm(CblasNoTrans, CblasNoTrans, n, in_dim, out_dim, 1.0f, dout, out_dim, weight, in_dim,
              1.0f, din, in_dim);
    if (dweight)
        mtb_linear_weight_grad(dweight, dout, in, n, in_dim, out_dim, false);
    if (dbias) {
        /* Row by row so the inner loop runs along contiguous memory and
         * vectorises; a column-wise sum would stride by out_dim. */
        for (int i = 0; i < n; i++) {
            const float *row = dout + (size_t)i * out_dim;
            for (int j = 0; j < out_dim; j++)
                dbias[j] += row[j];
        }
    }
}
