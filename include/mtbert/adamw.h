/* AdamW (Loshchilov & Hutter): decoupled weight decay and bias correction,
 * with the same arithmetic as torch.optim.AdamW:
 *   p -= lr * wd * p
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * One loop over a flat vector: the encoder and the heads are two calls with
 * the same step number t. */
#ifndef MTBERT_ADAMW_H
#define MTBERT_ADAMW_H

#include <stddef.h>

typedef struct mtb_adamw_hparams {
    float lr;           /* default 1e-5, as the seed project */
    float beta1, beta2; /* 0.9, 0.999 */
    float eps;          /* 1e-8 */
    float weight_decay; /* 0.0, as the seed project */
} mtb_adamw_hparams;

void mtb_adamw_defaults(mtb_adamw_hparams *hp);

/* t is the 1-based step number.  m and v are the moment buffers (n each). */
void mtb_adamw_step(const mtb_adamw_hparams *hp, long t, float *params, const float *grads,
                    float *m, float *v, size_t n);

#endif
