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
 * the order written here is the order executed, on any vector width.
 * Elements are independent, so the loop runs in chunks on the worker pool
 * with the same result on any number of threads. */
#include "mtbert/adamw.h"

#include <math.h>

#include "mtbert/parallel.h"
#include "mtbert/merge.h"
#include "sparse_rows.h"
#include "vmath.h"

void mtb_adamw_defaults(mtb_adamw_hparams *hp)
{
    hp->lr = 1e-5f;
    hp->beta1 = 0.9f;
    hp->beta2 = 0.999f;
    hp->eps = 1e-8f;
    hp->weight_decay = 0.0f;
}

typedef struct adamw_job {
    float *params, *m, *v;
    const float *const *grads;
    const mtb_merge_plan *plan;
    int n_tasks, chunks;
    size_t n;
    /* the sparse table, when there is one: row_state per row */
    size_t table_offset, width, n_rows;
    const unsigned char *row_state; /* ROW_* */
    float decay, beta1, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size;
} adamw_job;

/* One element's update from its gradient g. */
#define ADAMW_UPDATE(g_expr)                                                            \
    for (size_t i = b; i < e; i++) {                                                    \
        const float g = (g_expr);                                                       \
        const float p = params[i] * j->decay;                                           \
        const float mi = m[i] * j->beta1 + j->one_minus_beta1 * g;                      \
        const float vi = v[i] * j->beta2 + j->one_minus_beta2 * g * g;                  \
        m[i] = mi;                                                                      \
        v[i] = vi;                                                                      \
        const float denom = sqrtf(vi) / j->bc2_sqrt + j->eps;                           \
        params[i] = p + j->neg_step_size * mi / denom;                                  \
    }

/* The gradient of each element is mtb_combined_grad's expression, written
 * out per task count so that the loop vectorises. */
MTB_VECTOR_CLONES static void adamw_range(const adamw_job *j, const double *w, size_t b,
                                           size_t e)
{
    float *restrict params = j->params, *restrict m = j->m, *restrict v = j->v;
    const float *restrict g0 = j->grads[0];
    if (j->n_tasks == 1 && w[0] == 1.0) {
        ADAMW_UPDATE(g0[i]);
    } else if (j->n_tasks == 1) {
        const double w0 = w[0];
        ADAMW_UPDATE((float)(w0 * (double)g0[i]));
    } else if (j->n_tasks == 2) {
        const float *restrict g1 = j->grads[1];
        const double w0 = w[0], w1 = w[1];
        ADAMW_UPDATE((float)(w0 * (double)g0[i] + w1 * (double)g1[i]));
    } else if (j->n_tasks == 3) {
        const float *restrict g1 = j->grads[1], *restrict g2 = j->grads[2];
        const double w0 = w[0], w1 = w[1], w2 = w[2];
        ADAMW_UPDATE((float)((w0 * (double)g0[i] + w1 * (double)g1[i]) + w2 * (double)g2[i]));
    } else {
        ADAMW_UPDATE(mtb_combined_grad(j->grads, w, j->n_tasks, i));
    }
}

/* A row whose gradient is zero this step: the same update with g = 0,
 * without reading the task gradients. */
MTB_VECTOR_CLONES static void adamw_range_zero_grad(const adamw_job *j, size_t b, size_t e)
{
    float *restrict params = j->params, *restrict m = j->m, *restrict v = j->v;
    ADAMW_UPDATE(0.0f);
}

enum {
    ROW_UNTOUCHED = 0, /* moments zero, no gradient: the update leaves it as it is */
    ROW_ZERO_GRAD = 1, /* moments may be nonzero, no gradient this step */
    ROW_GRAD = 2,      /* a gradient this step */
};

/* [b, e) under one set of weights w */
static void adamw_span(const adamw_job *j, const double *w, size_t b, size_t e)
{
    if (!j->row_state) {
        adamw_range(j, w, b, e);
        return;
    }
    const size_t t0 = j->table_offset, t1 = t0 + j->n_rows * j->width;
    size_t i = b;
    while (i < e) {
        if (i < t0 || i >= t1) {
            const size_t stop = i < t0 ? (t0 < e ? t0 : e) : e;
            adamw_range(j, w, i, stop);
            i = stop;
            continue;
        }
        const size_t row = (i - t0) / j->width;
        size_t stop = t0 + (row + 1) * j->width;
        stop = stop < e ? stop : e;
        if (j->row_state[row] == ROW_GRAD)
            adamw_range(j, w, i, stop);
        else if (j->row_state[row] == ROW_ZERO_GRAD)
            adamw_range_zero_grad(j, i, stop);
        i = stop;
    }
}

/* A work item: its pieces under the plan's segments (a plan with one set
 * of weights has none, and the item is one span). */
static void adamw_item(void *arg, int item)
{
    const adamw_job *j = arg;
    const mtb_merge_plan *plan = j->plan;
    size_t b, e;
    mtb_chunk_range(j->n, j->chunks, item, &b, &e);
    size_t i = b;
    for (int s = 0; s < plan->n_segments && i < e; s++) {
        const size_t lo = plan->seg_lo[s], hi = plan->seg_hi[s];
        if (hi <= i)
            continue;
        if (lo >= e)
            break;
        if (i < lo) {
            adamw_span(j, plan->weight, i, lo);
            i = lo;
        }
        const size_t stop = hi < e ? hi : e;
        adamw_span(j, plan->seg_weight[s], i, stop);
        i = stop;
    }
    if (i < e)
        adamw_span(j, plan->weight, i, e);
}

/* Elements per work item: large enough to amortise the hand-off. */
#define ADAMW_ITEM 65536

void mtb_adamw_step_plan(const mtb_adamw_hparams *hp, long t, float *params,
                         const float *const *grads, const mtb_merge_plan *plan, float *m,
                         float *v, size_t n, const mtb_sparse_rows *sparse,
                         unsigned char *row_touched)
{
    const int n_tasks = plan->n_tasks;
    if (n_tasks < 1)
        return;
    const double lr = hp->lr, b1 = hp->beta1, b2 = hp->beta2;
    const double step = (double)t; /* torch keeps the step count as a float tensor */

    const double bias_correction1 = 1.0 - pow(b1, step);
    const double bias_correction2 = 1.0 - pow(b2, step);
    const double step_size = lr / bias_correction1;

    adamw_job j = {
        .params = params, .m = m, .v = v, .grads = grads, .plan = plan, .n_tasks = n_tasks,
        .chunks = mtb_chunk_count(n, ADAMW_ITEM), .n = n,
        .decay = (float)(1.0 - lr * (double)hp->weight_decay),
        .beta1 = hp->beta1, .one_minus_beta1 = (float)(1.0 - b1),
        .beta2 = hp->beta2, .one_minus_beta2 = (float)(1.0 - b2),
        .bc2_sqrt = (float)sqrt(bias_correction2), .eps = hp->eps,
        .neg_step_size = (float)(-step_size),
    };
    if (sparse && row_touched) {
        /* row_touched becomes this step's row states, then what it was
         * plus this step's rows.  With weight decay every row decays, so
         * none can be left out. */
        const unsigned char rest = hp->weight_decay != 0.0f ? ROW_ZERO_GRAD : ROW_UNTOUCHED;
        for (size_t r = 0; r < sparse->n_rows; r++)
            row_touched[r] = row_touched[r] ? ROW_ZERO_GRAD : rest;
        for (size_t k = 0; k < sparse->n_listed; k++)
            row_touched[sparse->rows[k]] = ROW_GRAD;
        j.table_offset = sparse->offset;
        j.width = sparse->width;
        j.n_rows = sparse->n_rows;
        j.row_state = row_touched;
    }
    mtb_parallel_for(j.chunks, adamw_item, &j);
    if (sparse && row_touched)
        for (size_t r = 0; r < sparse->n_rows; r++)
            row_touched[r] = row_touched[r] != ROW_UNTOUCHED;
}

void mtb_adamw_step_merged(const mtb_adamw_hparams *hp, long t, float *params,
                           const float *const *grads, const double *weights, int n_tasks,
                           float *m, float *v, size_t n, const mtb_sparse_rows *sparse,
                           unsigned char *row_touched)
{
    if (n_tasks < 1 || n_tasks > MTB_MAX_TASKS)
        return;
    mtb_merge_plan plan = {.n_tasks = n_tasks};
    for (int k = 0; k < n_tasks; k++)
        plan.weight[k] = weights[k];
    mtb_adamw_step_plan(hp, t, params, grads, &plan, m, v, n, sparse, row_touched);
}

void mtb_adamw_step(const mtb_adamw_hparams *hp, long t, float *params, const float *grads,
                    float *m, float *v, size_t n)
{
    const double one = 1.0;
    mtb_adamw_step_merged(hp, t, params, &grads, &one, 1, m, v, n, NULL, NULL);
}
