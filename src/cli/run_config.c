/* run_config itself: its defaults, freeing it, and setting its strings and
 * file lists (each string is its own copy). */
#include "run_setup.h"

#include <stdlib.h>
#include <string.h>

#include "mtbert/precision.h"

void run_config_defaults(run_config *rc)
{
    memset(rc, 0, sizeof *rc);
    rc->dropout = 0.3;
    rc->lr = 0; /* unset: chosen by run_setup for a fresh or a loaded model */
    rc->weight_decay = 0.0;
    rc->batch = 8;
    rc->max_len = 128;
    rc->epochs = -1; /* unset: 1, or unlimited when --max-steps is given */
    rc->seed = 11711;
    rc->precision = MTB_PRECISION_AUTO;
    mtb_merge_params_defaults(&rc->merge);
    mtb_pair_losses_defaults(&rc->losses);
}

void run_config_set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

void run_config_free(run_config *rc)
{
    free(rc->mode);
    free(rc->model_dir);
    free(rc->config_name);
    free(rc->vocab_path);
    free(rc->pooling);
    free(rc->schedule);
    free(rc->warmup);
    for (int t = 0; t < MTB_N_TASKS; t++) {
        for (int i = 0; i < rc->n_train[t]; i++)
            free(rc->train[t][i]);
        for (int i = 0; i < rc->n_dev[t]; i++)
            free(rc->dev[t][i]);
    }
    free(rc->data_dir);
    free(rc->out_dir);
    free(rc->metrics_path);
    free(rc->resume_dir);
    memset(rc, 0, sizeof *rc);
}

bool run_config_add_file(char *list[RUN_MAX_FILES], int *n, const char *path)
{
    if (*n == RUN_MAX_FILES)
        return false;
    list[(*n)++] = strdup(path);
    return true;
}
