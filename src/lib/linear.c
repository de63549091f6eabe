/* Fully connected layer, PyTorch layout: weight is [out, in]. */
#include "ops.h"

#include <cblas.h>
#include <stdbool.h>
#include <string.h>

#include "mtbert/gemm.h"

static void sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                  const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    mtb_sgemm(ta == CblasTrans, tb == CblasTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
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
