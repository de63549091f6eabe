/* Loading what a configured run needs: the course files of --data-dir,
 * the task files (with --val-split), and the model it starts from. */
#include "run_load.h"

#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "mtbert/model_dir.h"

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int run_expand_data_dir(run_config *rc, FILE *log, mtb_error *err)
{
    struct stat st;
    if (stat(rc->data_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return mtb_error_set(err, MTB_EINPUT, "--data-dir %s: not a folder", rc->data_dir);
    int before = 0, after = 0;
    for (int t = 0; t < MTB_N_TASKS; t++)
        before += rc->n_train[t] + rc->n_dev[t];
    static const char *train_names[MTB_N_TASKS][2] = {
        {"ids-sst-train.csv", NULL},
        {"quora-train.csv", "quora-train-partial.csv"},
        {"sts-train.csv", NULL},
    };
    static const char *dev_names[MTB_N_TASKS] = {"ids-sst-dev.csv", "quora-dev.csv",
                                                 "sts-dev.csv"};
    char path[4096];
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (rc->n_train[t] == 0)
            for (int k = 0; k < 2 && train_names[t][k]; k++)
                if (mtb_path_join(path, sizeof path, rc->data_dir, train_names[t][k]) &&
                    file_exists(path)) {
                    run_config_add_file(rc->train[t], &rc->n_train[t], path);
                    break;
                }
        if (rc->n_dev[t] == 0 && mtb_path_join(path, sizeof path, rc->data_dir, dev_names[t]) &&
            file_exists(path))
            run_config_add_file(rc->dev[t], &rc->n_dev[t], path);
    }
    for (int t = 0; t < MTB_N_TASKS; t++) {
        after += rc->n_train[t] + rc->n_dev[t];
        if (rc->n_train[t] == 0 && log)
            fprintf(log, "mtbert: warning: --data-dir %s has no %s training file (%s); that "
                    "task is not trained\n", rc->data_dir, mtb_task_name((mtb_task)t),
                    train_names[t][0]);
    }
    if (after == before && before == 0)
        return mtb_error_set(err, MTB_EINPUT,
                             "--data-dir %s: none of the course's files (ids-sst-train.csv, "
                             "quora-train.csv, sts-train.csv, ...) is there",
                             rc->data_dir);
    return MTB_OK;
}

static int load_task_files(mtb_dataset *ds, mtb_task task, char *const *files, int n, FILE *log,
                           mtb_error *err)
{
    mtb_dataset_init(ds, task);
    for (int i = 0; i < n; i++) {
        size_t before = ds->dropped;
        int rc = mtb_dataset_load(ds, files[i], true, err);
        if (rc)
            return rc;
        if (ds->dropped > before && log)
            fprintf(log, "mtbert: warning: %s: dropped %zu rows with an empty label\n", files[i],
                    ds->dropped - before);
    }
    return MTB_OK;
}

/* The learning rate and pooling a run gets when the command line names
 * none.  The seed project's 1e-5 and [CLS] suit fine-tuning a pretrained
 * encoder; a fresh, randomly initialised one learns nothing at 1e-5, and
 * its [CLS] state carries little until attention has learnt to gather
 * into it, so it gets RUN_FRESH_LR and mean pooling (measured in README). */
static void resolve_defaults(run_config *rc, bool fresh, FILE *log)
{
    char said[128] = "";
    if (!(rc->lr > 0)) {
        rc->lr = fresh ? RUN_FRESH_LR : RUN_FINETUNE_LR;
        if (fresh)
            snprintf(said, sizeof said, "at --lr %g", rc->lr);
    } else if (fresh && rc->lr <= 2 * RUN_FINETUNE_LR && log) {
        fprintf(log, "mtbert: warning: --lr %g is a fine-tuning rate; a fresh, randomly "
                "initialised model barely learns at it (try --lr %g)\n", rc->lr, RUN_FRESH_LR);
    }
    if (!rc->pooling) {
        run_config_set_str(&rc->pooling, fresh ? "mean" : "cls");
        if (fresh)
            snprintf(said + strlen(said), sizeof said - strlen(said), "%swith --pooling mean",
                     said[0] ? " " : "");
    }
    if (said[0] && log && !rc->quiet)
        fprintf(log, "mtbert: a fresh model trains %s by default (--lr %g and --pooling cls "
                "suit fine-tuning a pretrained encoder)\n", said, RUN_FINETUNE_LR);
}

int run_load_data(const run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    int status = MTB_OK;
    for (int t = 0; t < MTB_N_TASKS && !status; t++) {
        mtb_dataset_init(&st->dev[t], (mtb_task)t);
        status = load_task_files(&st->train[t], (mtb_task)t, rc->train[t], rc->n_train[t], log,
                                 err);
        if (!status)
            status = load_task_files(&st->dev[t], (mtb_task)t, rc->dev[t], rc->n_dev[t], log, err);
        if (!status && rc->n_train[t] > 0 && st->train[t].n == 0)
            status = mtb_error_set(err, MTB_EINPUT, "%s: no training examples", rc->train[t][0]);
        if (!status && rc->n_dev[t] > 0 && st->dev[t].n == 0 && log)
            fprintf(log, "mtbert: warning: %s: no validation examples\n", rc->dev[t][0]);
        if (!status && rc->val_split > 0 && rc->n_dev[t] == 0 && st->train[t].n >= 2)
            status = mtb_dataset_split(&st->train[t], &st->dev[t], rc->val_split,
                                       rc->seed + 7919u * (uint64_t)t, err);
    }
    return status;
}

int run_load_model(run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    int status;
    mtb_rng init_rng;
    mtb_rng_seed(&init_rng, rc->seed);
    const char *model_dir = rc->resume_dir ? rc->resume_dir : rc->model_dir;
    resolve_defaults(rc, !model_dir, log);
    mtb_pooling pooling = strcmp(rc->pooling, "mean") == 0 ? MTB_POOL_MEAN : MTB_POOL_CLS;
    if (model_dir) {
        bool has_heads;
        status = mtb_multitask_load(&st->model, model_dir, pooling, (float)rc->dropout,
                                    &init_rng, &has_heads, err);
        if (!status && log && !rc->quiet)
            fprintf(log, "mtbert: loaded %s (%s)\n", model_dir,
                    has_heads ? "mtbert checkpoint" : "encoder only; new task heads");
        /* A trained model brings its own pooling: record what the run uses. */
        if (!status)
            run_config_set_str(&rc->pooling, st->model.pooling == MTB_POOL_MEAN ? "mean" : "cls");
    } else {
        if (!rc->vocab_path)
            return mtb_error_set(err, MTB_EINPUT,
                                 "a fresh model needs --vocab FILE (or start from --model DIR)");
        mtb_vocab *vocab;
        status = mtb_vocab_load(rc->vocab_path, &vocab, err);
        if (status)
            return status;
        mtb_config cfg;
        mtb_config_named(rc->config_name ? rc->config_name : "tiny", (int)mtb_vocab_size(vocab),
                     &cfg);
        status = mtb_multitask_init_random(&st->model, &cfg, vocab, pooling, (float)rc->dropout,
                                           &init_rng, err);
        if (status)
            mtb_vocab_free(vocab);
    }
    if (status)
        return status;
    st->model_loaded = true;
    st->model.losses = rc->losses;
    return MTB_OK;
}
