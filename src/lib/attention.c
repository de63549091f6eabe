/* Scaled dot-product attention over the interleaved-head layout.
 *
 * Head h of batch b is a (T, D) matrix with row stride H starting at
 * base + b*T*H + h*D, so every per-head product is one sgemm with lda = H
 * and no copies.  Only the first L = lengths[b] positions take part, as keys
 * and as queries: padded keys get probability exactly 0 (what Hugging Face's
 * additive mask gives), and padded query rows get a zero context.  Every
 * product then has the shape of the sequence alone (L x L x D), whatever the
 * padding, so a sequence's numbers do not depend on the batch it is in:
 * OpenBLAS picks different kernels, with different rounding, for different
 * matrix sizes.  Padding rows never reach a real token's output. */
#include "mtbert/ops.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* Workspace for the dropped-out probabilities in the forward pass, which has
 * no scratch argument.  A fixed stack block rather than malloc keeps the
 * function infallible; long sequences are processed a band of rows at a time. */
#ifndef DROP_BLOCK_FLOATS
#define DROP_BLOCK_FLOATS 16384
#endif

static int clamp_len(int len, int T)
{
    return len < 0 ? 0 : len > T ? T : len;
}

static void softmax_row(float *s, int L, int T)
{
    float mx = s[0];
    for (int j = 1; j < L; j++)
        mx = s[j] > mx ? s[j] : mx;
    float sum = 0.0f;
    for (int j = 0; j < L; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
    }
    const float inv = 1.0f / sum;
    for (int j = 0; j < L; j++)
        s[j] *= inv;
    for (int j = L; j < T; j++)
        s[j] = 0.0f;
}

void mtb_attention_forward(float *out, float *att, float *att_scale, const float *q,
                           const float *k, const float *v, const int *lengths, int B, int T,
                           int H, int NH, float p_drop, mtb_rng *rng)
{
    if (B <= 0 || T <= 0 || H <= 0 || NH <= 0)
        return;
    const int D = H / NH;
    const float alpha = 1.0f / sqrtf((float)D);
    const size_t TT = (size_t)T * T;
    /* Dropout blocks: bands of whole rows, or pieces of one row when a
     * single row exceeds the buffer.  Either way each block is contiguous in
     * att and blocks are visited in row-major order, so the random draws are
     * the same as one mtb_dropout_forward over the whole (T, T) matrix. */
    const int cols = T < DROP_BLOCK_FLOATS ? T : DROP_BLOCK_FLOATS;
    const int band = cols < T ? 1 : (DROP_BLOCK_FLOATS / T < T ? DROP_BLOCK_FLOATS / T : T);
    float dropped[DROP_BLOCK_FLOATS];

    for (int b = 0; b < B; b++) {
        const int L = clamp_len(lengths[b], T);
        for (int h = 0; h < NH; h++) {
            const size_t off = (size_t)b * T * H + (size_t)h * D;
            const float *qh = q + off, *kh = k + off, *vh = v + off;
            float *oh = out + off;
            float *P = att + ((size_t)b * NH + h) * TT;
            float *S = att_scale ? att_scale + ((size_t)b * NH + h) * TT : NULL;

            if (L == 0) {
                /* No key to attend to: nothing to mix, the context is zero. */
                memset(P, 0, TT * sizeof *P);
                mtb_dropout_forward(P, S, P, TT, p_drop, rng);
                for (int t = 0; t < T; t++)
                    memset(oh + (size_t)t * H, 0, (size_t)D * sizeof *oh);
                continue;
            }

            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, D, alpha, qh, H, kh, H,
                        0.0f, P, T);
            for (int t = 0; t < L; t++)
                softmax_row(P + (size_t)t * T, L, T);
            memset(P + (size_t)L * T, 0, (size_t)(T - L) * T * sizeof *P);
            for (int t = L; t < T; t++)
                memset(oh + (size_t)t * H, 0, (size_t)D * sizeof *oh);

            if (p_drop <= 0.0f) {
                if (S)
                    for (size_t i = 0; i < TT; i++)
                        S[i] = 1.0f;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, D, L, 1.0f, P, T, vh,
                            H, 0.0f, oh, H);
                continue;
            }
            /* The mask covers all T x T entries, padded keys included, so the
             * number of draws per call does not depend on the lengths. */
            for (int t0 = 0; t0 < T; t0 += band) {
                const int rows = T - t0 < band ? T - t0 : band;
                for (int c0 = 0; c0 < T; c0 += cols) {
                    const int w = T - c0 < cols ? T - c0 : cols;
                    const size_t o = (size_t)t0 * T + c0;
                    mtb_dropout_forward(dropped, S ? S + o : NULL, P + o, (size_t)rows * w,
                                        p_drop, rng);
                    if (c0 >= L || t0 >= L)
                        continue;
                    const int kk = L - c0 < w ? L - c0 : w;
                    const int qrows = L - t0 < rows ? L - t0 : rows;
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, qrows, D, kk, 1.0f,
                                dropped, w, vh + (size_t)c0 * H, H, c0 == 0 ? 0.0f : 1.0f,
                                oh + (size_t)t0 * H, H);
                }
            }
        }
    }
}

void mtb_attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                            const float *att, const float *att_scale, const float *q,
                            const float *k, const float *v, const int *lengths, int B, int T,
                            int H, int NH)
{
    if (B <= 0 || T <= 0 || H <= 0 || NH <= 0)
        return;
    const int D = H / NH;
    const float alpha = 1.0f / sqrtf((float)D);
    const size_t TT = (size_t)T * T;

    for (int b = 0; b < B; b++) {
        const int L = clamp_len(lengths[b], T);
        if (L == 0)
            continue;
        for (int h = 0; h < NH; h++) {
            const size_t off = (size_t)b * T * H + (size_t)h * D;
            const float *qh = q + off, *kh = k + off, *vh = v + off, *doh = dout + off;
            const float *P = att + ((size_t)b * NH + h) * TT;
            const float *S = att_scale ? att_scale + ((size_t)b * NH + h) * TT : NULL;

            /* dv = (P o S)^T dout.  scratch first holds P o S, then is reused
             * for dP below, so one (T, T) workspace suffices. */
            if (dv) {
                const float *PS = P;
                if (S) {
                    for (size_t i = 0; i < TT; i++)
                        scratch[i] = P[i] * S[i];
                    PS = scratch;
                }
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, D, L, 1.0f, PS, T, doh, H,
                            1.0f, dv + off, H);
            }
            if (!dq && !dk)
                continue;

            /* dP = (dout v^T) o S, then softmax backward in place:
             * dZ = P o (dP - rowsum(dP o P)). */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, D, 1.0f, doh, H, vh, H,
                        0.0f, scratch, T);
            for (int t = 0; t < L; t++) {
                float *g = scratch + (size_t)t * T;
                const float *p = P + (size_t)t * T;
                if (S) {
                    const float *s = S + (size_t)t * T;
                    for (int j = 0; j < L; j++)
                        g[j] *= s[j];
                }
                float dot = 0.0f;
                for (int j = 0; j < L; j++)
                    dot += g[j] * p[j];
                for (int j = 0; j < L; j++)
                    g[j] = p[j] * (g[j] - dot);
            }
            /* Scores were alpha q k^T, hence the alpha on both products. */
            if (dq)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, D, L, alpha, scratch, T,
                            kh, H, 1.0f, dq + off, H);
            if (dk)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, D, L, alpha, scratch, T,
                            qh, H, 1.0f, dk + off, H);
        }
    }
}
