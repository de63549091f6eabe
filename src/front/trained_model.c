/* Loading a model trained with mtbert for scoring, as repl, score, eval
 * and predict do. */
#include "front.h"

#include <stdbool.h>

#include "mtbert/rng.h"

int fe_load_trained_model(const char *dir, mtb_multitask *mt, mtb_error *err)
{
    /* The rng only seeds heads that a checkpoint without heads would get,
     * and such a folder is refused below. */
    mtb_rng rng;
    mtb_rng_seed(&rng, 1);
    bool has_heads;
    int rc = mtb_multitask_load(mt, dir, MTB_POOL_CLS, 0.3f, &rng, &has_heads, err);
    if (!rc && !has_heads) {
        mtb_multitask_free(mt);
        rc = mtb_error_set(err, MTB_EINPUT,
                           "%s: no heads.safetensors: this is an encoder, not a model trained "
                           "with mtbert train",
                           dir);
    }
    return rc;
}
