/* Elementwise activations and inverted dropout. */
#include "ops.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "mtbert/parallel.h"
#include "vmath.h"

/* Spelled out rather than M_SQRT1_2 and friends, which strict C11 hides. */
#define INV_SQRT_2PI 0.39894228040143267794f

typedef struct gelu_job {
    float *out, *din;
    const float *in, *dout;
    size_t n;
    int chunks;
} gelu_job;

/* 16K elements per item keeps hand-off cost negligible. */
#define GELU_PER_ITEM 16384

MTB_VECTOR_CLONES static void gelu_forward_chunk(void *arg, int item)
{
    const gelu_job *j = arg;
    size_t i0, i1;
    mtb_chunk_range(j->n, j->chunks, item, &i0, &i1);
    float *restrict out = j->out;
    const float *restrict in = j->in;
    for (size_t i = i0; i < i1; i++)
        out[i] = in[i] * mtb_vnormal_cdf(in[i]);
}

void mtb_gelu_forward(float *out, const float *in, size_t n)
{
    gelu_job j = {.out = out, .in = in, .n = n, .chunks = mtb_chunk_count(n, GELU_PER_ITEM)};
    mtb_parallel_for(j.chunks, gelu_forward_chunk, &j);
}

/* d/dx [x Phi(x)] = Phi(x) + x phi(x). */
MTB_VECTOR_CLONES static void gelu_backward_chunk(void *arg, int item)
{
    const gelu_job *j = arg;
    size_t i0, i1;
    mtb_chunk_range(j->n, j->chunks, item, &i0, &i1);
    float *restrict din = j->din;
    const float *restrict in = j->in;
    const float *restrict dout = j->dout;
    for (size_t i = i0; i < i1; i++) {
        const float x = in[i];
        const float pdf = INV_SQRT_2PI * mtb_vexpf(-0.5f * x * x);
        din[i] += dout[i] * (mtb_vnormal_cdf(x) + x * pdf);
    }
}

void mtb_gelu_backward(float *din, const float *dout, const float *in, size_t n)
{
    if (!din)
        return;
    gelu_job j = {.din = din, .in = in, .dout = dout, .n = n,
                  .chunks = mtb_chunk_count(n, GELU_PER_ITEM)};
    mtb_parallel_for(j.chunks, gelu_backward_chunk, &j);
}

void mtb_tanh_forward(float *out, const float *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = tanhf(in[i]);
}

void mtb_tanh_backward(float *din, const float *dout, const float *out, size_t n)
{
    if (!din)
        return;
    for (size_t i = 0; i < n; i++)
        din[i] += dout[i] * (1.0f - out[i] * out[i]);
}

void mtb_dropout_mask(uint8_t *keep, size_t n, float p, mtb_rng *rng)
{
    /* u = k 2^-24 >= p exactly when k >= ceil(p 2^24) (p 2^24 is exact) */
    const uint64_t threshold = (uint64_t)ceilf(p * 0x1.0p24f);
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        const uint64_t x = mtb_rng_next(rng);
        keep[i] = (x >> 40) >= threshold;
        keep[i + 1] = ((x >> 16) & 0xFFFFFFu) >= threshold;
    }
    if (i < n)
        keep[i] = (mtb_rng_next(rng) >> 40) >= threshold;
}

void mtb_dropout_forward(float *out, float *scale, const float *in, size_t n, float p,
                         mtb_rng *rng)
{
    if (p <= 0.0f) {
        /* No random numbers drawn, so switching dropout off (evaluation)
         * leaves the generator where a caller expects it. */
        if (out != in)
            memmove(out, in, n * sizeof *out);
        if (scale)
            for (size_t i = 0; i < n; i++)
                scale[i] = 1.0f;
        return;
    }
    if (p >= 1.0f) {
        /* 1/(1-p) is infinite here; everything is dropped and nothing drawn. */
        for (size_t i = 0; i < n; i++)
            out[i] = 0.0f;
        if (scale)
            for (size_t i = 0; i < n; i++)
                scale[i] = 0.0f;
        return;
    }
    const float keep_scale = 1.0f / (1.0f - p);
    uint8_t keep[256];
    for (size_t i0 = 0; i0 < n; i0 += sizeof keep) {
        const size_t len = n - i0 < sizeof keep ? n - i0 : sizeof keep;
        mtb_dropout_mask(keep, len, p, rng);
        for (size_t i = 0; i < len; i++) {
            const float s = keep[i] ? keep_scale : 0.0f;
            if (scale)
                scale[i0 + i] = s;
            out[i0 + i] = in[i0 + i] * s;
        }
    }
}

void mtb_dropout_backward(float *din, const float *dout, const float *scale, size_t n)
{
    if (!din)
        return;
    if (!scale) {
        for (size_t i = 0; i < n; i++)
            din[i] += dout[i];
        return;
    }
    for (size_t i = 0; i < n; i++)
        din[i] += dout[i] * scale[i];
}

typedef struct dropout_job {
    float *out;
    uint8_t *keep;
    const float *in, *residual;
    size_t n;
    int chunks;
    float p;
    uint64_t seed;
} dropout_job;

/* mtb_dropout_forward's mask from each chunk's own stream, recorded as bytes:
 * a quarter of the memory of a float scale, for masks kept for backward. */
static void dropout_residual_chunk(void *arg, int item)
{
    const dropout_job *j = arg;
    const size_t i0 = (size_t)item * MTB_DROPOUT_CHUNK;
    const size_t len = j->n - i0 < MTB_DROPOUT_CHUNK ? j->n - i0 : MTB_DROPOUT_CHUNK;
    float *restrict out = j->out + i0;
    const float *in = j->in + i0;
    const float *restrict res = j->residual ? j->residual + i0 : NULL;
    uint8_t *keep = j->keep ? j->keep + i0 : NULL;
    if (j->p <= 0.0f) {
        if (out != in)
            memmove(out, in, len * sizeof *out);
        if (keep)
            memset(keep, 1, len);
    } else if (j->p >= 1.0f) {
        memset(out, 0, len * sizeof *out);
        if (keep)
            memset(keep, 0, len);
    } else {
        mtb_rng rng;
        mtb_rng_seed(&rng, j->seed ^ ((uint64_t)(item + 1) * 0x9e3779b97f4a7c15ull));
        const float keep_scale = 1.0f / (1.0f - j->p);
        uint8_t local[MTB_DROPOUT_CHUNK];
        uint8_t *mask = keep ? keep : local;
        mtb_dropout_mask(mask, len, j->p, &rng);
        for (size_t i = 0; i < len; i++)
            out[i] = in[i] * (mask[i] ? keep_scale : 0.0f);
    }
    if (res)
        for (size_t i = 0; i < len; i++)
            out[i] += res[i];
}

void mtb_dropout_residual_forward(float *out, uint8_t *keep, const float *in,
                                  const float *residual, size_t n, float p, uint64_t seed)
{
    dropout_job j = {.out = out, .keep = keep, .in = in, .residual = residual, .n = n, .p = p,
                     .seed = seed};
    j.chunks = (int)((n + MTB_DROPOUT_CHUNK - 1) / MTB_DROPOUT_CHUNK);
    mtb_parallel_for(j.chunks, dropout_residual_chunk, &j);
}

void mtb_dropout_mask_backward(float *din, const float *dout, const uint8_t *keep, size_t n,
                               float p)
{
    if (!din)
        return;
    if (!keep) {
        for (size_t i = 0; i < n; i++)
            din[i] += dout[i];
        return;
    }
    const float keep_scale = p >= 1.0f ? 0.0f : 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        din[i] += dout[i] * (keep[i] ? keep_scale : 0.0f);
}
