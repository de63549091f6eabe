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

#include "mtbert/parallel.h"

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

typedef struct attention_job {
    float *out, *att, *att_scale;
    const float *q, *k, *v, *dout;
    float *dq, *dk, *dv, *scratch;
    const int *lengths;
    int T, H, NH;
    float p_drop;
    uint64_t seed;
} attention_job;

/* Each (batch, head) pair draws its dropout mask from its own stream, so the
 * masks do not depend on which thread computes which head. */
static void head_rng(mtb_rng *r, uint64_t seed, int bh)
{
    mtb_rng_seed(r, seed ^ ((uint64_t)(bh + 1) * 0x9e3779b97f4a7c15ull));
}

static void forward_head(void *arg, int bh)
{
    const attention_job *j = arg;
    const int T = j->T, H = j->H, NH = j->NH, D = H / NH;
    const int b = bh / NH, h = bh % NH;
    const float alpha = 1.0f / sqrtf((float)D);
    const size_t TT = (size_t)T * T;
    const int L = clamp_len(j->lengths[b], T);
    const size_t off = (size_t)b * T * H + (size_t)h * D;
    const float *qh = j->q + off, *kh = j->k + off, *vh = j->v + off;
    float *oh = j->out + off;
    float *P = j->att + (size_t)bh * TT;
    float *S = j->att_scale ? j->att_scale + (size_t)bh * TT : NULL;
    mtb_rng rng;
    head_rng(&rng, j->seed, bh);

    if (L == 0) {
        /* No key to attend to: nothing to mix, the context is zero. */
        memset(P, 0, TT * sizeof *P);
        mtb_dropout_forward(P, S, P, TT, j->p_drop, &rng);
        for (int t = 0; t < T; t++)
            memset(oh + (size_t)t * H, 0, (size_t)D * sizeof *oh);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, D, alpha, qh, H, kh, H, 0.0f, P,
                T);
    for (int t = 0; t < L; t++)
        softmax_row(P + (size_t)t * T, L, T);
    memset(P + (size_t)L * T, 0, (size_t)(T - L) * T * sizeof *P);
    for (int t = L; t < T; t++)
        memset(oh + (size_t)t * H, 0, (size_t)D * sizeof *oh);

    if (j->p_drop <= 0.0f) {
        if (S)
            for (size_t i = 0; i < TT; i++)
                S[i] = 1.0f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, D, L, 1.0f, P, T, vh, H, 0.0f,
                    oh, H);
        return;
    }
    /* Dropout blocks: bands of whole rows, or pieces of one row when a
     * single row exceeds the buffer.  Either way each block is contiguous in
     * att and blocks are visited in row-major order, so the random draws are
     * the same as one mtb_dropout_forward over the whole (T, T) matrix.  The
     * mask covers padded entries too, so the draws do not depend on lengths. */
    const int cols = T < DROP_BLOCK_FLOATS ? T : DROP_BLOCK_FLOATS;
    const int band = cols < T ? 1 : (DROP_BLOCK_FLOATS / T < T ? DROP_BLOCK_FLOATS / T : T);
    float dropped[DROP_BLOCK_FLOATS];
    for (int t0 = 0; t0 < T; t0 += band) {
        const int rows = T - t0 < band ? T - t0 : band;
        for (int c0 = 0; c0 < T; c0 += cols) {
            const int w = T - c0 < cols ? T - c0 : cols;
            const size_t o = (size_t)t0 * T + c0;
            mtb_dropout_forward(dropped, S ? S + o : NULL, P + o, (size_t)rows * w, j->p_drop,
                                &rng);
            if (c0 >= L || t0 >= L)
                continue;
            const int kk = L - c0 < w ? L - c0 : w;
            const int qrows = L - t0 < rows ? L - t0 : rows;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, qrows, D, kk, 1.0f, dropped, w,
                        vh + (size_t)c0 * H, H, c0 == 0 ? 0.0f : 1.0f, oh + (size_t)t0 * H, H);
        }
    }
}

void mtb_attention_forward(float *out, float *att, float *att_scale, const float *q,
                           const float *k, const float *v, const int *lengths, int B, int T,
                           int H, int NH, float p_drop, uint64_t dropout_seed)
{
    if (B <= 0 || T <= 0 || H <= 0 || NH <= 0)
        return;
    attention_job j = {.out = out, .att = att, .att_scale = att_scale, .q = q, .k = k, .v = v,
                       .lengths = lengths, .T = T, .H = H, .NH = NH, .p_drop = p_drop,
                       .seed = dropout_seed};
    mtb_parallel_for(B * NH, forward_head, &j);
}

static void backward_head(void *arg, int bh)
{
    const attention_job *j = arg;
    const int T = j->T, H = j->H, NH = j->NH, D = H / NH;
    const int b = bh / NH, h = bh % NH;
    const float alpha = 1.0f / sqrtf((float)D);
    const size_t TT = (size_t)T * T;
    const int L = clamp_len(j->lengths[b], T);
    if (L == 0)
        return;
    const size_t off = (size_t)b * T * H + (size_t)h * D;
    const float *qh = j->q + off, *kh = j->k + off, *vh = j->v + off, *doh = j->dout + off;
    const float *P = j->att + (size_t)bh * TT;
    const float *S = j->att_scale ? j->att_scale + (size_t)bh * TT : NULL;
    float *scratch = j->scratch + (size_t)bh * TT;

    /* dv = (P o S)^T dout.  scratch first holds P o S, then is reused for
     * dP below, so one (T, T) workspace per head suffices. */
    if (j->dv) {
        const float *PS = P;
        if (S) {
            for (size_t i = 0; i < TT; i++)
                scratch[i] = P[i] * S[i];
            PS = scratch;
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, D, L, 1.0f, PS, T, doh, H, 1.0f,
                    j->dv + off, H);
    }
    if (!j->dq && !j->dk)
        return;

    /* dP = (dout v^T) o S, then softmax backward in place:
     * dZ = P o (dP - rowsum(dP o P)). */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, D, 1.0f, doh, H, vh, H, 0.0f,
                scratch, T);
    for (int t = 0; t < L; t++) {
        float *g = scratch + (size_t)t * T;
        const float *p = P + (size_t)t * T;
        if (S) {
            const float *sc = S + (size_t)t * T;
            for (int i = 0; i < L; i++)
                g[i] *= sc[i];
        }
        float dot = 0.0f;
        for (int i = 0; i < L; i++)
            dot += g[i] * p[i];
        for (int i = 0; i < L; i++)
            g[i] = p[i] * (g[i] - dot);
    }
    /* Scores were alpha q k^T, hence the alpha on both products. */
    if (j->dq)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, D, L, alpha, scratch, T, kh, H,
                    1.0f, j->dq + off, H);
    if (j->dk)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, D, L, alpha, scratch, T, qh, H,
                    1.0f, j->dk + off, H);
}

void mtb_attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                            const float *att, const float *att_scale, const float *q,
                            const float *k, const float *v, const int *lengths, int B, int T,
                            int H, int NH)
{
    if (B <= 0 || T <= 0 || H <= 0 || NH <= 0)
        return;
    attention_job j = {.att = (float *)att, .att_scale = (float *)att_scale, .q = q, .k = k,
                       .v = v, .dout = dout, .dq = dq, .dk = dk, .dv = dv, .scratch = scratch,
                       .lengths = lengths, .T = T, .H = H, .NH = NH};
    mtb_parallel_for(B * NH, backward_head, &j);
}
