/* The seed's multitask baseline: the sum of the task losses, so the sum of
 * their gradients. */
#include "mtbert/merge.h"

static void sum_merge(const mtb_merge_input *in, const mtb_merge_params *p, mtb_merge_state *st,
                      mtb_merge_output *out)
{
    (void)p;
    (void)st;
    for (int k = 0; k < in->n_tasks; k++)
        out->weight[k] = 1.0;
}

const mtb_merge_method mtb_method_sum = {
    .name = "sum",
    .summary = "sum of the task losses (the seed's baseline)",
    .merge = sum_merge,
};
