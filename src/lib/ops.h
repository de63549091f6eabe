/* Layer operations with forward and backward side by side.
 *
 * Conventions:
 *  - Row-major float buffers.  N is the number of rows: the real tokens of
 *    a batch, packed back to back without padding, so every dense op is one
 *    sgemm over the whole batch and none is spent on padding.
 *  - Weights are stored [out, in] as in PyTorch's nn.Linear.
 *  - Every backward function ADDS into its d* outputs (parameter and input
 *    gradients alike); callers zero them first.  Accumulation is what a
 *    residual stream and a parameter used in several places need anyway.
 *  - Any d* output pointer may be NULL when that gradient is not wanted.
 */
#ifndef MTBERT_OPS_H
#define MTBERT_OPS_H

#include <stdbool.h>
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
/* dweight (out_dim, in_dim) += dout^T in, or with overwrite = (no need to
 * zero it first; n <= 0 then writes zeros). */
void mtb_linear_weight_grad(float *dweight, const float *dout, const float *in, int n,
                            int in_dim, int out_dim, bool overwrite);

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

/* keep[i] = 1 with probability 1 - p, else 0, for 0 < p < 1: the mask every
 * dropout here draws.  Each 64-bit draw gives two 24-bit uniforms (bits
 * 63..40 for an even i, 39..16 for the odd i after it), u_i = k 2^-24, and
 * keep[i] = u_i >= p: half the draws of one number per element, which is
 * what dropout's time went to. */
void mtb_dropout_mask(uint8_t *keep, size_t n, float p, mtb_rng *rng);

/* Inverted dropout.  scale (n) receives 0 or 1/(1-p) per element so backward
 * replays the same mask.  With p == 0 it copies in to out and fills scale with 1
 * (scale may then be NULL). */
void mtb_dropout_forward(float *out, float *scale, const float *in, size_t n, float p,
                         mtb_rng *rng);
/* out = dropout(in) + residual (residual may be NULL; out may be in), on the
 * worker pool: the n elements are cut into MTB_DROPOUT_CHUNK-sized chunks
 * that each draw from their own stream derived from seed, so the mask
 * depends on seed and n only, not on the thread count.  keep (n bytes, may
 * be NULL) records the mask, 1 where the element was kept (scaled by
 * 1/(1-p)), 0 where it was dropped. */
#define MTB_DROPOUT_CHUNK 16384
void mtb_dropout_residual_forward(float *out, uint8_t *keep, const float *in,
                                  const float *residual, size_t n, float p, uint64_t seed);
/* din += dout * mask; keep NULL means no dropout was applied (din += dout). */
void mtb_dropout_mask_backward(float *din, const float *dout, const uint8_t *keep, size_t n,
                               float p);
/* scale NULL means no dropout was applied: din += dout. */
void mtb_dropout_backward(float *din, const float *dout, const float *scale, size_t n);

/* out (N, H) = wte[ids] + wpe[positions] + wtt[types]; ids, types (NULL: all
 * 0) and positions (N), one entry per token. */
void mtb_embeddings_forward(float *out, const int *ids, const int *types, const int *positions,
                            int n, int H, const float *wte, const float *wpe, const float *wtt);
void mtb_embeddings_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
                             const int *ids, const int *types, const int *positions, int n,
                             int H);

/* Multi-head self-attention core (after the Q/K/V projections) over packed
 * sequences: sequence b owns rows [offsets[b], offsets[b+1]) of q, k, v and
 * out (N, H); head h is columns [h*D, (h+1)*D), D = H / NH.  A token attends
 * to the tokens of its own sequence only.
 * att: softmax probabilities, saved for backward, one (L, L) block per
 * (sequence, head) at mtb_attention_block(); mtb_attention_floats() floats
 * in all (at most B * NH * T^2 for sequences of at most T tokens).
 * att_keep (same layout, bytes): the attention-dropout mask, 1 where a
 * probability was kept (and scaled by 1/(1-p)), 0 where dropped; NULL when
 * p_drop == 0 (with p_drop == 0 and att_keep given, it is filled with 1s).
 * work (same size as att) receives the dropped-out probabilities and is
 * needed only when p_drop > 0.  Each (sequence, head) draws its mask, as
 * mtb_dropout_forward would, from its own stream derived from dropout_seed,
 * so heads can run on any thread.  The (sequence, head) pairs run on the
 * worker pool. */
size_t mtb_attention_block(const int *offsets, int b, int h, int NH);
size_t mtb_attention_floats(const int *offsets, int B, int NH);
void mtb_attention_forward(float *out, float *att, uint8_t *att_keep, float *work, const float *q,
                           const float *k, const float *v, const int *offsets, int B, int H,
                           int NH, float p_drop, uint64_t dropout_seed);
/* scratch: as many floats as att, workspace.  att_keep (NULL without
 * dropout) and p_drop as the forward pass had them. */
void mtb_attention_backward(float *dq, float *dk, float *dv, float *scratch, const float *dout,
                            const float *att, const uint8_t *att_keep, float p_drop,
                            const float *q, const float *k, const float *v, const int *offsets,
                            int B, int H, int NH);

#endif
