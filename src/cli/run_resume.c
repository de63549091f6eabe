/* --resume: the saved run's options are the base; the command line may
 * repeat them and may change what does not define the run (how long it
 * goes on, where it reports and saves, how fast it runs). */
#include "run_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_record.h"

/* Options that may differ when a run resumes: how long it goes on, where
 * it reports and saves, how fast it runs.  Every other option defines the
 * run and must repeat the saved value, if given at all. */
static bool may_change_on_resume(int opt)
{
    return run_opt_row(opt) && run_opt_row(opt)->may_change;
}

static void render_files(char *buf, size_t cap, char *const *files, int n)
{
    size_t used = 0;
    buf[0] = '\0';
    if (n == 0)
        snprintf(buf, cap, "(none)");
    for (int i = 0; i < n && used < cap; i++) {
        char *c = run_canonical_path(files[i]);
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? " " : "", c);
        free(c);
    }
}

static void render_path(char *buf, size_t cap, const char *path, const char *none)
{
    if (!path) {
        snprintf(buf, cap, "%s", none);
        return;
    }
    char *c = run_canonical_path(path);
    snprintf(buf, cap, "%s", c);
    free(c);
}

/* An option's value in rc as text, for comparing a resumed run's command
 * line with the saved run. */
static void render_option(const run_config *rc, int opt, char *buf, size_t cap)
{
    const run_opt *o = run_opt_row(opt);
    const void *field = (const char *)rc + (o ? o->offset : 0);
    if (o && o->kind == K_DOUBLE) {
        snprintf(buf, cap, "%.9g", *(const double *)field);
        return;
    }
    if (o && o->kind == K_FLOAT) {
        snprintf(buf, cap, "%.9g", (double)*(const float *)field);
        return;
    }
    if (o && o->kind == K_INT && (opt < OPT_SST_BATCH || opt > OPT_STS_BATCH)) {
        snprintf(buf, cap, "%d", *(const int *)field);
        return;
    }
    switch (opt) {
    case OPT_MODE: snprintf(buf, cap, "%s", rc->mode ? rc->mode : "pcgrad"); break;
    case OPT_MODEL: render_path(buf, cap, rc->model_dir, "(none: a fresh model)"); break;
    case OPT_CONFIG:
        snprintf(buf, cap, "%s", rc->config_name ? rc->config_name
                                 : rc->model_dir ? "(none: --model)" : "tiny");
        break;
    case OPT_VOCAB: render_path(buf, cap, rc->vocab_path, "(none)"); break;
    case OPT_POOLING: snprintf(buf, cap, "%s", rc->pooling ? rc->pooling : "cls"); break;
    case OPT_SCHEDULE:
        snprintf(buf, cap, "%s", rc->schedule ? rc->schedule : RUN_DEFAULT_SCHEDULE);
        break;
    case OPT_WARMUP: {
        long steps = 0;
        double fraction = -1;
        run_parse_warmup(rc->warmup ? rc->warmup : RUN_DEFAULT_WARMUP, &steps, &fraction);
        if (fraction >= 0)
            snprintf(buf, cap, "%.9g", fraction);
        else
            snprintf(buf, cap, "%ld", steps);
        break;
    }
    case OPT_SST_BATCH: case OPT_PARA_BATCH: case OPT_STS_BATCH: {
        int b = rc->task_batch[opt - OPT_SST_BATCH];
        if (b)
            snprintf(buf, cap, "%d", b);
        else
            snprintf(buf, cap, "(unset: --batch %d)", rc->batch);
        break;
    }
    case OPT_SEED: snprintf(buf, cap, "%llu", (unsigned long long)rc->seed); break;
    case OPT_SST_TRAIN: case OPT_PARA_TRAIN: case OPT_STS_TRAIN:
        render_files(buf, cap, rc->train[opt - OPT_SST_TRAIN], rc->n_train[opt - OPT_SST_TRAIN]);
        break;
    case OPT_SST_DEV: case OPT_PARA_DEV: case OPT_STS_DEV:
        render_files(buf, cap, rc->dev[opt - OPT_SST_DEV], rc->n_dev[opt - OPT_SST_DEV]);
        break;
    case OPT_DATA_DIR: render_path(buf, cap, rc->data_dir, "(none)"); break;
    case OPT_STS_LOSS:
        snprintf(buf, cap, "%s", rc->losses.sts == MTB_STS_LOSS_COSENT ? "cosent" : "mse");
        break;
    case OPT_MNRL: run_mnrl_text(&rc->losses, buf, cap); break;
    default: snprintf(buf, cap, "?"); break;
    }
}

static const char *option_name(int opt)
{
    return run_opt_row(opt) ? run_opt_row(opt)->name : "?";
}

/* The command line of a resumed run against the saved one: an option that
 * defines the run passes when it repeats the saved value (re-running the
 * first command with --resume appended must work), and is refused, naming
 * both values, when it would change the run. */
static int check_resume_options(const run_config *saved, const run_config *cmd,
                                const bool given[OPT_COUNT], const char *command)
{
    for (int opt = OPT_MODE; opt < OPT_COUNT; opt++) {
        if (!given[opt] || may_change_on_resume(opt))
            continue;
        char was[2048], now[2048];
        render_option(saved, opt, was, sizeof was);
        render_option(cmd, opt, now, sizeof now);
        if (strcmp(was, now) != 0)
            return fe_usage_error(command, "--resume %s: --%s %s would change the run, which was "
                                   "saved with --%s %s; repeat the saved value or leave the "
                                   "option out (a different run needs a new --out)",
                                   saved->resume_dir, option_name(opt), now, option_name(opt),
                                   was);
    }
    return -1;
}

/* What a resumed run takes from its command line over the saved run. */
static void take_changeable(run_config *rc, const run_config *cmd, const bool given[OPT_COUNT])
{
    if (given[OPT_MAX_STEPS])
        rc->max_steps = cmd->max_steps;
    if (given[OPT_EPOCHS])
        rc->epochs = cmd->epochs;
    if (given[OPT_EVAL_EVERY])
        rc->eval_every = cmd->eval_every;
    if (given[OPT_METRICS])
        run_config_set_str(&rc->metrics_path, cmd->metrics_path);
    if (given[OPT_OUT])
        run_config_set_str(&rc->out_dir, cmd->out_dir);
    rc->threads = cmd->threads;
    rc->precision = cmd->precision;
    rc->quiet = cmd->quiet;
    rc->skip_nan = cmd->skip_nan;
    rc->force = cmd->force;
}

int run_config_resume(run_config *rc, const run_config *cmd, const bool given[OPT_COUNT],
                      const char *command)
{
    mtb_error err = {0};
    char *record = NULL;
    if (mtb_trainer_read_run_json(cmd->resume_dir, &record, &err))
        return fe_report(&err);
    run_config_set_str(&rc->resume_dir, cmd->resume_dir);
    int st = record ? run_apply_record(rc, record, cmd->resume_dir) : -1;
    free(record);
    if (st < 0)
        st = check_resume_options(rc, cmd, given, command);
    if (st < 0)
        take_changeable(rc, cmd, given);
    return st;
}
