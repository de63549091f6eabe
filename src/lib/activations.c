/* Elementwise activations and inverted dropout. */
#include "mtbert/ops.h"

#include <math.h>

#include "mtbert/parallel.h"
#include <string.h>

/* Spelled out rather than M_SQRT1_2 and friends, which strict C11 hides. */
#define INV_SQRT2 0.70710678118654752440f
#define INV_SQRT_2PI 0.39894228040143267794f

typedef struct gelu_job {
    float *out, *din;
    const float *in, *dout;
    size_t n;
    int chunks;
} gelu_job;

/* erff dominates; 16K elements per item keeps hand-off cost negligible. */
#define GELU_PER_ITEM 16384

static void gelu_forward_chunk(void *arg, int item)
{
    const gelu_job *j = arg;
    size_t i0, i1;
    mtb_chunk_range(j->n, j->chunks, item, &i0, &i1);
    for (size_t i = i0; i < i1; i++) {
        float x = j->in[i];
        j->out[i] = 0.5f * x * (1.0f + erff(x * INV_SQRT2));
    }
}

void mtb_gelu_forward(float *out, const float *in, size_t n)
{
    gelu_job j = {.out = out, .in = in, .n = n, .chunks = mtb_chunk_count(n, GELU_PER_ITEM)};
    mtb_parallel_for(j.chunks, gelu_forward_chunk, &j);
}

/* d/dx [x Phi(x)] = Phi(x) + x phi(x). */
static void gelu_backward_chunk(void *arg, int item)
{
    const gelu_job *j = arg;
    size_t i0, i1;
    mtb_chunk_range(j->n, j->chunks, item, &i0, &i1);
    for (size_t i = i0; i < i1; i++) {
        float x = j->in[i];
        float cdf = 0.5f * (1.0f + erff(x * INV_SQRT2));
        float pdf = INV_SQRT_2PI * expf(-0.5f * x * x);
        j->din[i] += j->dout[i] * (cdf + x * pdf);
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
    for (size_t i = 0; i < n; i++) {
        /* u is uniform on [0, 1) so P(u >= p) = 1 - p, up to 2^-24. */
        float s = mtb_rng_uniform(rng) >= p ? keep_scale : 0.0f;
        if (scale)
            scale[i] = s;
        out[i] = in[i] * s;
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
