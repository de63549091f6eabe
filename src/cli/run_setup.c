/* run_setup: a configured run made ready to train, in its steps (data and
 * model loaded, the trainer's options filled in, the outputs protected,
 * the trainer created or restored), and taken down again. */
#include "run_setup.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mtbert/parallel.h"
#include "mtbert/run_lock.h"
#include "run_load.h"
#include "run_output.h"
#include "run_record.h"

void run_set_threads(int threads)
{
    mtb_set_threads(threads);
}

/* The trainer's options from the command line, --out's default included. */
static void fill_train_options(run_config *rc, run_state *st, mtb_mode mode, mtb_task single,
                               FILE *log)
{
    mtb_train_options *o = &st->options;
    mtb_train_options_defaults(o);
    o->mode = mode;
    o->single_task = single;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        o->use_task[t] = st->train[t].n > 0;
        o->batch[t] = rc->task_batch[t] ? rc->task_batch[t] : rc->batch;
    }
    o->max_len = rc->max_len;
    const int max_pos = st->model.bert.cfg.max_position;
    if (o->max_len > max_pos) {
        if (log)
            fprintf(log, "mtbert: warning: --max-length %d is more than the model's %d "
                    "positions; using %d\n", o->max_len, max_pos, max_pos);
        o->max_len = max_pos;
    }
    o->epochs = rc->epochs >= 0 ? rc->epochs : rc->max_steps > 0 ? 0 : 1;
    o->max_steps = rc->max_steps;
    o->seed = rc->seed;
    o->eval_every = rc->eval_every;
    o->on_nan = rc->skip_nan ? MTB_ON_NAN_SKIP : MTB_ON_NAN_STOP;
    o->adamw.lr = (float)rc->lr;
    o->adamw.weight_decay = (float)rc->weight_decay;
    o->merge = rc->merge;
    mtb_schedule_parse(rc->schedule ? rc->schedule : RUN_DEFAULT_SCHEDULE, &o->schedule.kind);
    run_parse_warmup(rc->warmup ? rc->warmup : RUN_DEFAULT_WARMUP, &o->schedule.warmup_steps,
                     &o->schedule.warmup_fraction);
    if (!rc->out_dir) {
        if (rc->resume_dir) {
            run_config_set_str(&rc->out_dir, rc->resume_dir);
        } else {
            char name[128], stamp[32];
            time_t now = time(NULL);
            strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
            snprintf(name, sizeof name, "runs/%s-%s", rc->mode ? rc->mode : "pcgrad", stamp);
            for (char *p = name; *p; p++)
                if (*p == ':')
                    *p = '-';
            run_config_set_str(&rc->out_dir, name);
        }
    }
    snprintf(o->out_dir, sizeof o->out_dir, "%s", rc->out_dir);
    if (rc->save_best)
        snprintf(o->best_dir, sizeof o->best_dir, "%s-best", rc->out_dir);
    run_make_parent_dirs(o->out_dir);
}

/* The trainer, restored from --resume's checkpoint, and what truncation
 * its data took. */
static int create_trainer(const run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    const mtb_train_options *o = &st->options;
    const int max_pos = st->model.bert.cfg.max_position;
    int status;
    const mtb_dataset *train[MTB_N_TASKS], *dev[MTB_N_TASKS];
    for (int t = 0; t < MTB_N_TASKS; t++) {
        train[t] = st->train[t].n ? &st->train[t] : NULL;
        dev[t] = st->dev[t].n ? &st->dev[t] : NULL;
    }
    status = mtb_trainer_create(&st->trainer, &st->model, o, train, dev, err);
    if (!status && rc->resume_dir)
        status = mtb_trainer_restore(st->trainer, rc->resume_dir, err);
    if (!status && log && !rc->quiet) {
        for (int t = 0; t < MTB_N_TASKS; t++) {
            const mtb_encoded *e = mtb_trainer_train_data(st->trainer, (mtb_task)t);
            if (e && e->truncated)
                fprintf(log, "mtbert: %s: %zu of %zu examples truncated to %d tokens%s\n",
                        mtb_task_name((mtb_task)t), e->truncated, e->n,
                        t == MTB_TASK_PARA ? (2 * o->max_len < max_pos ? 2 * o->max_len
                                                                       : max_pos)
                                           : o->max_len,
                        t == MTB_TASK_PARA ? " per pair" : "");
        }
    }
    return status;
}

/* 64 random bits as hex: a run's identity in its record and metrics. */
static void new_run_id(run_config *rc)
{
    uint64_t x = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&x, sizeof x, 1, f) != 1) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        x = ((uint64_t)t.tv_sec * 1000000007u) ^ (uint64_t)t.tv_nsec ^ ((uint64_t)getpid() << 40);
    }
    if (f)
        fclose(f);
    snprintf(rc->run_id, sizeof rc->run_id, "%016llx", (unsigned long long)x);
}

int run_setup(run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    memset(st, 0, sizeof *st);
    st->lock.fd = -1;
    /* A resumed run's saved file lists are its data: expanding the folder
     * again could add a file that appeared since. */
    if (rc->data_dir && !rc->resume_dir) {
        int drc = run_expand_data_dir(rc, log, err);
        if (drc)
            return drc;
    }
    mtb_mode mode = MTB_MODE_PCGRAD;
    mtb_task single = MTB_TASK_SST;
    if (rc->mode)
        mtb_mode_parse(rc->mode, &mode, &single);

    bool any = false;
    for (int t = 0; t < MTB_N_TASKS; t++)
        any |= rc->n_train[t] > 0;
    if (!any)
        return mtb_error_set(err, MTB_EINPUT,
                             "no training data: give --sst-train, --para-train, --sts-train or "
                             "--data-dir");
    if (mode == MTB_MODE_SINGLE && rc->n_train[single] == 0)
        return mtb_error_set(err, MTB_EINPUT, "--mode single:%s needs --%s-train",
                             mtb_task_name(single), mtb_task_name(single));
    int status = run_load_data(rc, st, log, err);
    if (!status)
        status = run_load_model(rc, st, log, err);
    if (status)
        return status;
    if (!rc->resume_dir || !rc->run_id[0])
        new_run_id(rc);
    fill_train_options(rc, st, mode, single, log);
    status = run_protect_outputs(rc, st, log, err);
    if (status)
        return status;
    st->options.run_json = run_record(rc);
    return create_trainer(rc, st, log, err);
}

void run_teardown(run_state *st)
{
    mtb_run_lock_release(&st->lock);
    mtb_trainer_destroy(st->trainer);
    for (int t = 0; t < MTB_N_TASKS; t++) {
        mtb_dataset_free(&st->train[t]);
        mtb_dataset_free(&st->dev[t]);
    }
    if (st->model_loaded)
        mtb_multitask_free(&st->model);
    free(st->options.run_json);
    memset(st, 0, sizeof *st);
    st->lock.fd = -1;
}

int run_prepare(run_config *rc, run_state *st, FILE *log)
{
    run_set_threads(rc->threads);
    fe_apply_precision(rc->precision, log);
    mtb_error err = {0};
    if (run_setup(rc, st, log, &err)) {
        run_teardown(st);
        return fe_report(&err);
    }
    return -1;
}
