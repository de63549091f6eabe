/* AdamW with torch.optim.AdamW's arithmetic (torch 1.13, single-tensor path,
 * no amsgrad, no maximize).
 *
 * torch does, per step and with Python floats (doubles) for the scalars:
 *
 *     param.mul_(1 - lr * wd)
 *     exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
 *     exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 *     bias_correction1 = 1 - beta1 ** step
 *     bias_correction2 = 1 - beta2 ** step
 *     step_size = lr / bias_correction1
 *     denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps)
 *     param.addcdiv_(exp_avg, denom, value=-step_size)
 *
 * Each tensor op on a float32 tensor converts its Python scalar to float
 * once and then works in float: add computes a + alpha*b, addcmul
 * self + (value*t1)*t2, addcdiv self + (value*t1)/t2.  The loop below does
 * exactly those float operations in that order, with the scalars derived in
 * double from the float hyperparameters first, so a run matches torch given
 * the same float32 hyperparameters.  (torch's vectorised kernels may fuse
 * a + alpha*b into one FMA; that is the only source of a 1-ulp difference.)
 *
 * ISO C mode (-std=c11) keeps gcc from contracting a*b + c into an FMA, so
 * the order written here is the order executed. */
#include "mtbert/adamw.h"

#include <math.h>

void mtb_adamw_defaults(mtb_adamw_hparams *hp)
{
    hp->lr = 1e-5f;
    hp->beta1 = 0.9f;
    hp->beta2 = 0.999f;
    hp->eps = 1e-8f;
    hp->weight_decay = 0.0f;
}

void mtb_adamw_step(const mtb_adamw_hparams *hp, long t, float *params, const float *grads,
                    float *m, float *v, size_t n)
{
    const double lr = hp->lr, b1 = hp->beta1, b2 = hp->beta2;
    const double step = (double)t; /* torch keeps the step count as a float tensor */

    const double bias_correction1 = 1.0 - pow(b1, step);
    const double bias_correction2 = 1.0 - pow(b2, step);
    const double step_size = lr / bias_correction1;

    const float decay = (float)(1.0 - lr * (double)hp->weight_decay);
    const float beta1 = hp->beta1, one_minus_beta1 = (float)(1.0 - b1);
    const float beta2 = hp->beta2, one_minus_beta2 = (float)(1.0 - b2);
    const float bc2_sqrt = (float)sqrt(bias_correction2);
    const float eps = hp->eps;
    const float neg_step_size = (float)(-step_size);

    for (size_t i = 0; i < n; i++) {
        const float g = grads[i];
        const float p = params[i] * decay;
        const float mi = m[i] * beta1 + one_minus_beta1 * g;
        const float vi = v[i] * beta2 + one_minus_beta2 * g * g;
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi) / bc2_sqrt + eps;
        params[i] = p + neg_step_size * mi / denom;
    }
}
