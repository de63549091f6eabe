/* A trainer's life outside the step: its options' defaults, creation (the
 * data tokenized, workspaces, gradient buffers and AdamW moments
 * allocated, the step budget planned), destruction, the accessors and
 * evaluation.  The step is trainer_step.c's, checkpoints trainer_state.c's,
 * the thread trainer_thread.c's (see trainer_internal.h). */
#include "trainer_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtbert/evaluate.h"

void mtb_train_options_defaults(mtb_train_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->mode = MTB_MODE_PCGRAD;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        opt->use_task[t] = true;
        opt->batch[t] = 8;
    }
    opt->max_len = 128;
    opt->epochs = 1;
    opt->seed = 11711; /* the seed project's default seed */
    opt->eval_batch = 32;
    opt->dropout = true;
    mtb_adamw_defaults(&opt->adamw);
    mtb_merge_params_defaults(&opt->merge);
    mtb_schedule_defaults(&opt->schedule);
}

double trainer_elapsed_seconds(const mtb_trainer *tr)
{
    return tr->elapsed_base + (mtb_now_seconds() - tr->t0);
}

static void set_active(mtb_trainer *tr)
{
    for (int t = 0; t < MTB_N_TASKS; t++)
        tr->active[t] = tr->opt.mode == MTB_MODE_SINGLE ? t == (int)tr->opt.single_task
                                                        : tr->opt.use_task[t];
}

static int pair_len(const mtb_multitask *mt, int max_len)
{
    int p = 2 * max_len;
    return p < mt->bert.cfg.max_position ? p : mt->bert.cfg.max_position;
}

/* Tokenizes the datasets given (training data must be labelled and not
 * empty) and sets up each task's data order; *max_B: the largest batch. */
static int encode_data(mtb_trainer *tr, const mtb_train_options *opt,
                       const mtb_dataset *const train[MTB_N_TASKS],
                       const mtb_dataset *const dev[MTB_N_TASKS], int max_len, int plen,
                       int *max_B, mtb_error *err)
{
    const mtb_multitask *mt = tr->mt;
    int rc = MTB_OK;
    for (int t = 0; t < MTB_N_TASKS && !rc; t++) {
        if (opt->batch[t] > *max_B)
            *max_B = opt->batch[t];
        if (train && train[t]) {
            rc = mtb_encode_dataset(&tr->train[t], train[t], mt->vocab, max_len, plen, err);
            if (!rc && tr->train[t].n == 0)
                rc = mtb_error_set(err, MTB_EINPUT, "%s: no training examples", train[t]->path);
            if (!rc && !train[t]->labelled)
                rc = mtb_error_set(err, MTB_EINPUT, "%s: training data needs labels",
                                   train[t]->path);
            tr->has_train[t] = !rc;
            if (!rc)
                rc = mtb_order_init(&tr->order[t], (uint32_t)tr->train[t].n,
                                    opt->seed * 1000003u + (uint64_t)t)
                         ? mtb_error_set(err, MTB_EFAIL, "out of memory")
                         : MTB_OK;
        }
        if (!rc && dev && dev[t]) {
            rc = mtb_encode_dataset(&tr->dev[t], dev[t], mt->vocab, max_len, plen, err);
            tr->has_dev[t] = !rc && tr->dev[t].n > 0;
        }
    }
    return rc;
}

/* The step's workspace (one task's, or the joint pass's), the batches, and
 * the buffers: gradients, word rows, AdamW's moments. */
static int alloc_buffers(mtb_trainer *tr, const mtb_train_options *opt, int max_B, int plen,
                         mtb_error *err)
{
    const mtb_multitask *mt = tr->mt;
    int rc = MTB_OK;
    if (opt->mode == MTB_MODE_SINGLE)
        rc = mtb_task_ws_init(&tr->ws, &mt->bert.cfg, max_B, plen, true, err);
    else {
        rc = mtb_joint_ws_init(&tr->joint, &mt->bert.cfg, max_B, plen, err);
        tr->joint.overwrite_dense = true;
        tr->n_dense = mtb_bert_dense_spans(&mt->bert, tr->dense_off, tr->dense_len,
                                           6 * MTB_MAX_LAYERS);
    }
    for (int t = 0; t < MTB_N_TASKS && !rc; t++)
        if (mtb_task_batch_alloc(&tr->batch[t], (mtb_task)t, max_B, plen))
            rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
    const size_t n = mt->bert.n_params, nh = mt->heads.n_params;
    if (!rc) {
        tr->idx = calloc((size_t)max_B, sizeof *tr->idx);
        tr->m_enc = calloc(n, sizeof(float));
        tr->v_enc = calloc(n, sizeof(float));
        tr->m_heads = calloc(nh, sizeof(float));
        tr->v_heads = calloc(nh, sizeof(float));
        const size_t V = (size_t)mt->bert.cfg.vocab_size;
        const size_t row_cap = (size_t)max_B * (size_t)plen * 2; /* sts: two sequences */
        tr->step_rows = calloc(V < MTB_N_TASKS * row_cap ? V : MTB_N_TASKS * row_cap,
                               sizeof(int));
        tr->row_mark = calloc(V, 1);
        tr->row_touched = calloc(V, 1);
        bool ok = tr->idx && tr->m_enc && tr->v_enc && tr->m_heads && tr->v_heads &&
                  tr->step_rows && tr->row_mark && tr->row_touched;
        for (int t = 0; t < MTB_N_TASKS; t++)
            if (!(tr->rows[t] = calloc(V < row_cap ? V : row_cap, sizeof(int))))
                ok = false;
        if (opt->mode != MTB_MODE_SINGLE) {
            /* Each task backpropagates into its own buffer, and the merged
             * gradient is never stored (AdamW forms it).  Fresh buffers are
             * zero, and their word-embedding pages are only touched for the
             * rows batches use. */
            for (int t = 0; t < MTB_N_TASKS; t++) {
                if (!opt->use_task[t])
                    continue;
                if (!(tr->task_grad[t] = calloc(n, sizeof(float))))
                    ok = false;
                tr->rows_known[t] = true;
                tr->n_rows[t] = 0;
            }
        }
        if (!ok)
            rc = mtb_error_set(err, MTB_EFAIL, "out of memory for the optimizer and gradients "
                               "of %zu parameters", n);
    }
    return rc;
}

/* Steps per epoch and in all, and the random streams. */
static int plan_steps(mtb_trainer *tr, const mtb_train_options *opt,
                      const mtb_dataset *const train[MTB_N_TASKS], mtb_error *err)
{
    int rc = MTB_OK;
    /* An epoch is a pass over the largest task; the others cycle. */
    for (int t = 0; t < MTB_N_TASKS && !rc; t++) {
        if (!tr->active[t])
            continue;
        /* Without datasets at all the caller brings its own batches. */
        if (train && !tr->has_train[t])
            rc = mtb_error_set(err, MTB_EINPUT, "no %s training data for the mode trained",
                               mtb_task_name((mtb_task)t));
        if (tr->has_train[t]) {
            long s = (long)((tr->train[t].n + (size_t)opt->batch[t] - 1) / (size_t)opt->batch[t]);
            if (s > tr->steps_per_epoch)
                tr->steps_per_epoch = s;
        }
    }
    if (!rc) {
        tr->total_steps = opt->epochs > 0 ? opt->epochs * tr->steps_per_epoch : 0;
        if (opt->max_steps > 0 && (tr->total_steps == 0 || opt->max_steps < tr->total_steps))
            tr->total_steps = opt->max_steps;
        tr->opt.schedule.total_steps = tr->total_steps;
        mtb_rng_seed(&tr->rng, opt->seed);
        mtb_rng_seed(&tr->order_rng, opt->seed ^ 0x9e3779b97f4a7c15ull);
    }
    return rc;
}

int mtb_trainer_create(mtb_trainer **out, mtb_multitask *mt, const mtb_train_options *opt,
                       const mtb_dataset *const train[MTB_N_TASKS],
                       const mtb_dataset *const dev[MTB_N_TASKS], mtb_error *err)
{
    *out = NULL;
    mtb_trainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    tr->mt = mt;
    tr->opt = *opt;
    tr->opt.run_json = opt->run_json ? strdup(opt->run_json) : NULL;
    tr->new_lr = NAN;
    tr->new_mode = -1;
    tr->best_score = NAN;
    const char *inject = getenv("MTBERT_INJECT_NAN");
    char task_name[16];
    if (inject && sscanf(inject, "%ld:%15s", &tr->inject_nan_step, task_name) == 2 &&
        mtb_task_parse(task_name) >= 0)
        tr->inject_nan_task = mtb_task_parse(task_name);
    else
        tr->inject_nan_step = 0;
    tr->single_task_run = opt->mode == MTB_MODE_SINGLE;
    pthread_mutex_init(&tr->lock, NULL);
    pthread_cond_init(&tr->wake, NULL);
    pthread_rwlock_init(&tr->weights, NULL);
    int rc = mtb_event_queue_init(&tr->events, 1024) ? mtb_error_set(err, MTB_EFAIL, "out of memory")
                                                     : MTB_OK;
    set_active(tr);

    const int max_len = opt->max_len < mt->bert.cfg.max_position ? opt->max_len
                                                                  : mt->bert.cfg.max_position;
    tr->opt.max_len = max_len;
    const int plen = pair_len(mt, max_len);
    int max_B = 1;
    if (!rc)
        rc = encode_data(tr, opt, train, dev, max_len, plen, &max_B, err);
    if (!rc)
        rc = alloc_buffers(tr, opt, max_B, plen, err);
    if (!rc)
        rc = plan_steps(tr, opt, train, err);
    if (rc) {
        mtb_trainer_destroy(tr);
        return rc;
    }
    *out = tr;
    return MTB_OK;
}

void mtb_trainer_destroy(mtb_trainer *tr)
{
    if (!tr)
        return;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        mtb_encoded_free(&tr->train[t]);
        mtb_encoded_free(&tr->dev[t]);
        mtb_order_free(&tr->order[t]);
        mtb_task_batch_free(&tr->batch[t]);
        free(tr->task_grad[t]);
        free(tr->rows[t]);
    }
    free(tr->step_rows);
    free(tr->row_mark);
    free(tr->row_touched);
    mtb_task_ws_free(&tr->ws);
    mtb_joint_ws_free(&tr->joint);
    free(tr->idx);
    free(tr->m_enc);
    free(tr->v_enc);
    free(tr->m_heads);
    free(tr->v_heads);
    free(tr->opt.run_json);
    if (tr->events.ring)
        mtb_event_queue_destroy(&tr->events);
    pthread_mutex_destroy(&tr->lock);
    pthread_cond_destroy(&tr->wake);
    pthread_rwlock_destroy(&tr->weights);
    free(tr);
}

long mtb_trainer_step_count(const mtb_trainer *tr) { return tr->step; }

bool mtb_trainer_has_validation(const mtb_trainer *tr)
{
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (tr->has_dev[t])
            return true;
    return false;
}

void mtb_trainer_set_eval_every(mtb_trainer *tr, long n) { tr->opt.eval_every = n > 0 ? n : 0; }
long mtb_trainer_total_steps(const mtb_trainer *tr) { return tr->total_steps; }
const mtb_schedule *mtb_trainer_schedule(const mtb_trainer *tr) { return &tr->opt.schedule; }

float mtb_trainer_lr_at(const mtb_trainer *tr, long step)
{
    return (float)((double)tr->opt.adamw.lr * mtb_schedule_factor(&tr->opt.schedule, step));
}

const mtb_encoded *mtb_trainer_dev_data(const mtb_trainer *tr, mtb_task task)
{
    return tr->has_dev[task] ? &tr->dev[task] : NULL;
}

const mtb_encoded *mtb_trainer_train_data(const mtb_trainer *tr, mtb_task task)
{
    return tr->has_train[task] ? &tr->train[task] : NULL;
}

const mtb_task_batch *mtb_trainer_last_batch(const mtb_trainer *tr, mtb_task t)
{
    return (int)t >= 0 && t < MTB_N_TASKS && tr->drew[t] ? &tr->batch[t] : NULL;
}

const char *mtb_trainer_divergence(const mtb_trainer *tr) { return tr->diverged; }
long mtb_trainer_skipped_steps(const mtb_trainer *tr) { return tr->skipped; }

int mtb_trainer_evaluate(mtb_trainer *tr, mtb_eval_result *res, mtb_error *err)
{
    const mtb_encoded *dev[MTB_N_TASKS];
    for (int t = 0; t < MTB_N_TASKS; t++)
        dev[t] = tr->has_dev[t] ? &tr->dev[t] : NULL;
    return mtb_evaluate(tr->mt, dev, tr->opt.eval_batch, res, err);
}

double mtb_eval_score(const mtb_eval_result *r)
{
    const double v[MTB_N_TASKS] = {r->sst_acc, r->para_acc, (r->sts_corr + 1.0) / 2.0};
    double s = 0.0;
    int n = 0;
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (r->has[t] && isfinite(v[t])) {
            s += v[t];
            n++;
        }
    return n ? s / n : NAN;
}
