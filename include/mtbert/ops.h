/* Layer operations with forward and backward side by side.
 *
 * Conventions:
 *  - Row-major float buffers.  N is the number of rows (all tokens of a
 *    batch, B*T), so every dense op is one sgemm over the whole batch.
 *  - Weights are stored [out, in] as in PyTorch's nn.Linear.
 *  - Every backward function ADDS into its d* outputs (parameter and input
 *    gradients alike); callers zero them first.  Accumulation is what a
 *    residual stream and a parameter used in several places need anyway.
 *  - Any d* output pointer may be NULL when that gradient is not wanted.
 */
#ifndef MTBERT_OPS_H
#define MTBERT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "mtbert/rng.h"

/* out (N, out_dim) = in (N, in_dim) @ weight^T + bias.  bias may be NULL. */
void mtb_linear_forward(float *out, const float *in, const float *weight, const float *bias,
                        int n, int in_dim, int out_dim);
/* din (N, in_dim) += dout @ weight;  dweight (out_dim, in_dim) += dout^T @ in;
 * dbias (out_dim) += column sums of dout. */
void mtb_linear_backward(float *din, float *dweight, float *dbias, const float *dout,
                         const float *in, const float *weight, int n, int in_dim, int out_dim);

/* Per-row LayerNorm over dim features.  mean and rstd (N) are saved for backward. */
void mtb_layernorm_forward(float *out, float *mean, float *rstd, const float *in,
                           const float *gamma, const float *beta, int n, int dim, float eps);
void mtb_layernorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                            const float *in, const float *gamma, const float *mean,
                            const float *rstd, int n, int dim);

/* GELU, exact erf form: 0.5 x (1 + erf(x / sqrt 2)). */
void mtb_gelu_forward(float *out, const float *in, size_t n);
void mtb_gelu_backward(float *din, const float *dout, const float *in, size_t n);

/* tanh, backward from the saved output. */
void mtb_tanh_forward(float *out, const float *in, size_t n);
void mtb_tanh_backward(float *din, const float *dout, const float *out, size_t n);

/* Inverted dropout.  scale (n) receives 0 or 1/(1-p) per element so backward
 * replays the same mask.  With p == 0 it copies in to out and fills scale with 1
 * (scale may then be NULL). */
void mtb_dropout_forward(float *out, float *scale, const float *in, size_t n, float p,
                         mtb_rng *rng);
/* scale NULL means no dropout was applied: din += dout. */
void mtb_dropout_backward(float *din, const float *dout, const float *scale, size_t n);

/* out (B, T, H) = wte[ids] + wpe[t] + wtt[types]; ids/types (B, T). */
void mtb_embeddings_forward(float *out, const int *ids, const int *types, int B, int T, int H,
                            const float *wte, const float *wpe, const float *wtt);
void mtb_embeddings_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
                             const int *ids, const int *types, int B, int T, int H);

/* Multi-head self-attention core (after the Q/K/V projections).
 * q, k, v, out: (B, T, H), head h in columns [h*D, (h+1)*D), D = H / NH.
 * lengths (B): tokens at positions >= lengths[b] are padding: as keys they
 * get probability exactly 0 (as Hugging Face's additive mask gives), as
 * queries a zero context.
 * att (B, NH, T, T): softmax probabilities, saved for backward.
 * att_scale (B, NH, T, T): attention-dropout scale (see mtb_dropout_forward),
 * or NULL when p_drop == 0.  Each (batch, head) draws its mask from its own
 * stream derived from dropout_seed, so heads can run on any thread.
 * The (batch, head) pairs run on the worker pool (parallel.h). */
void mtb_attention_forward(float *out, float *att, float *att_scale, const float *q,
                           const float *k, const float *v, const int *lengths, int B, int T,
                           int H, int NH, float p_drop, uint64_t dropout_seed);
/* scratch: (B, NH, T, T) floats of workspace, one (T, T) block per head. */
void mtb_attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                            const float *att, const float *att_scale, const float *q,
                            const float *k, const float *v, const int *lengths, int B, int T,
                            int H, int NH);

#endif
