/* Scaled dot-product attention over packed sequences.
 *
 * The batch's real tokens lie back to back: sequence b owns rows
 * [offsets[b], offsets[b+1]) of q, k, v and out, and head h of it is an
 * (L, D) matrix with row stride H starting at column h*D, so every per-head
 * product is one sgemm with lda = H and no copies.  Nothing is padded: a
 * sequence's products have the shape of the sequence alone (L x L x D),
 * whatever else is in the batch, so its numbers do not depend on the batch
 * (OpenBLAS picks different kernels, with different rounding, for different
 * matrix sizes) and no work is spent on padding.
 *
 * att, att_keep and the scratch hold one (L, L) block per (sequence, head),
 * sequence by sequence, head by head (mtb_attention_block). */
#include "ops.h"

#include <cblas.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "mtbert/parallel.h"
#include "vmath.h"

size_t mtb_attention_block(const int *offsets, int b, int h, int NH)
{
    size_t start = 0;
    for (int i = 0; i < b; i++) {
        const size_t L = (size_t)(offsets[i + 1] - offsets[i]);
        start += L * L;
    }
    const size_t L = (size_t)(offsets[b + 1] - offsets[b]);
    return start * (size_t)NH + (size_t)h * L * L;
}

size_t mtb_attention_floats(const int *offsets, int B, int NH)
{
    return mtb_attention_block(offsets, B - 1, NH, NH);
}

/* The exponentials vectorise (mtb_vexpf); the sum stays a sequential float
 * sum, so a row's result does not depend on the vector width. */
MTB_VECTOR_CLONES static void softmax_row(float *restrict s, int L)
{
    float mx = s[0];
    for (int j = 1; j < L; j++)
        mx = s[j] > mx ? s[j] : mx;
    for (int j = 0; j < L; j++)
        s[j] = mtb_vexpf(s[j] - mx);
    float sum = 0.0f;
    for (int j = 0; j < L; j++)
        sum += s[j];
    const float inv = 1.0f / sum;
    for (int j = 0; j < L; j++)
        s[j] *= inv;
}

typedef struct attention_job {
    float *out, *att, *work;
    uint8_t *att_keep;
    const float *q, *k, *v, *dout;
    float *dq, *dk, *dv, *scratch;
    const int *offsets;
    int H, NH;
    float p_drop;
    uint64_t seed;
} attention_job;

/* Each (sequence, head) pair draws its dropout mask from its own stream, so
 * the masks do not depend on which thread computes which head. */
static void head_rng(mtb_rng *r, uint64_t seed, int bh)
{
    mtb_rng_seed(r, seed ^ ((uint64_t)(bh + 1) * 0x9e3779b97f4a7c15ull));
}

static void forward_head(void *arg, int bh)
{
    const attention_job *j = arg;
    const int H = j->H, NH = j->NH, D = H / NH;
    const int b = bh / NH, h = bh % NH;
    const int L = j->offsets[b + 1] - j->offsets[b];
    if (L <= 0)
        return;
    const float alpha = 1.0f / sqrtf((float)D);
    const size_t LL = (size_t)L * L, blk = mtb_attention_block(j->offsets, b, h, NH);
    const size_t off = (size_t)j->offsets[b] * H + (size_t)h * D;
    const float *qh = j->q + off, *kh = j->k + off, *vh = j->v + off;
    float *oh = j->out + off;
    float *P = j->att + blk;

    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, D, alpha, qh, H, kh, H, 0.0f, P,
                L);
    for (int t = 0; t < L; t++)
        softmax_row(P + (size_t)t * L, L);

    const float *mixed = P;
    if (j->p_drop > 0.0f) {
        /* mtb_dropout_forward's mask, kept as bytes */
        mtb_rng rng;
        head_rng(&rng, j->seed, bh);
        const float keep_scale = j->p_drop >= 1.0f ? 0.0f : 1.0f / (1.0f - j->p_drop);
        uint8_t *keep = j->att_keep + blk;
        float *dropped = j->work + blk;
        if (j->p_drop < 1.0f)
            mtb_dropout_mask(keep, LL, j->p_drop, &rng);
        else
            memset(keep, 0, LL);
        for (size_t i = 0; i < LL; i++)
            dropped[i] = P[i] * (keep[i] ? keep_scale : 0.0f);
        mixed = dropped;
    } else if (j->att_keep) {
        memset(j->att_keep + blk, 1, LL);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, D, L, 1.0f, mixed, L, vh, H, 0.0f,
                oh, H);
}

void mtb_attention_forward(float *out, float *att, uint8_t *att_keep, float *work, const float *q,
                           const float *k, const float *v, const int *offsets, int B, int H,
                           int NH, float p_drop, uint64_t dropout_seed)
{
    if (B <= 0 || H <= 0 || NH <= 0)
        return;
    attention_job j = {.out = out, .att = att, .att_keep = att_keep, .work = work, .q = q,
                       .k = k, .v = v, .offsets = offsets, .H = H, .NH = NH,
                       .p_drop = att_keep && work ? p_drop : 0.0f, .seed = dropout_seed};
    mtb_parallel_for(B * NH, forward_head, &j);
}

static void backward_head(void *arg, int bh)
{
    const attention_job *j = arg;
    const int H = j->H, NH = j->NH, D = H / NH;
    const int b = bh / NH, h = bh % NH;
    const int L = j->offsets[b + 1] - j->offsets[b];
    if (L <= 0)
        return;
    const float alpha = 1.0f / sqrtf((float)D);
    const size_t LL = (size_t)L * L, blk = mtb_attention_block(j->offsets, b, h, NH);
    const size_t off = (size_t)j->offsets[b] * H + (size_t)h * D;
    const float *qh = j->q + off, *kh = j->k + off, *vh = j->v + off, *doh = j->dout + off;
    const float *P = j->att + blk;
    const uint8_t *S = j->att_keep ? j->att_keep + blk : NULL; /* the mask, scaled below */
    const float keep_scale = j->p_drop >= 1.0f ? 0.0f : 1.0f / (1.0f - j->p_drop);
    float *scratch = j->scratch + blk;

    /* dv = (P o S)^T dout.  scratch first holds P o S, then is reused for
     * dP below, so one (L, L) workspace per head suffices. */
    if (j->dv) {
        const float *PS = P;
        if (S) {
            for (size_t i = 0; i < LL; i++)
                scratch[i] = P[i] * (S[i] ? keep_scale : 0.0f);
            PS = scratch;
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, D, L, 1.0f, PS, L, doh, H, 1.0f,
                    j->dv + off, H);
    }
    if (!j->dq && !j->dk)
        return;

    /* dP = (dout v^T) o S, then softmax backward in place:
     * dZ = P o (dP - rowsum(dP o P)). */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, L, D, 1.0f, doh, H, vh, H, 0.0f,
                scratch, L);
    for (int t = 0; t < L; t++) {
        float *g = scratch + (size_t)t * L;
        const float *p = P + (size_t)t * L;
        if (S) {
            const uint8_t *sc = S + (size_t)t * L;
            for (int i = 0; i < L; i++)
                g[i] *= sc[i] ? keep_scale : 0.0f;
        }
        float dot = 0.0f;
        for (int i = 0; i < L; i++)
            dot += g[i] * p[i];
        for (int i = 0; i < L; i++)
            g[i] = p[i] * (g[i] - dot);
    }
    /* Scores were alpha q k^T, hence the alpha on both products. */
    if (j->dq)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, D, L, alpha, scratch, L, kh, H,
                    1.0f, j->dq + off, H);
    if (j->dk)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, D, L, alpha, scratch, L, qh, H,
                    1.0f, j->dk + off, H);
}

void mtb_attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                            const float *att, const uint8_t *att_keep, float p_drop,
                            const float *q, const float *k, const float *v, const int *offsets,
                            int B, int H, int NH)
{
    if (B <= 0 || H <= 0 || NH <= 0)
        return;
    attention_job j = {.att = (float *)att, .att_keep = (uint8_t *)att_keep, .q = q, .k = k,
                       .v = v, .dout = dout, .dq = dq, .dk = dk, .dv = dv, .scratch = scratch,
                       .offsets = offsets, .H = H, .NH = NH, .p_drop = p_drop};
    mtb_parallel_for(B * NH, backward_head, &j);
}
