/* The run as the workbench knows it, built from trainer events (see
 * tui_data.h): curves, the latest statistics and the log. */
#include "tui_data.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CURVE_POINTS 2048
#define HEAT_POINTS 512 /* per pair and group: 3 x 14 of them */

int tui_data_init(tui_data *d, const char *mode)
{
    memset(d, 0, sizeof *d);
    snprintf(d->mode, sizeof d->mode, "%s", mode ? mode : "");
    int bad = 0;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        bad |= tui_series_init(&d->loss[t], CURVE_POINTS);
        bad |= tui_series_init(&d->val_loss[t], 512);
        bad |= tui_series_init(&d->weight[t], CURVE_POINTS);
        bad |= tui_series_init(&d->served[t], CURVE_POINTS);
        d->last_loss[t] = NAN;
    }
    /* Pairs in the order the statistics list them for all three tasks. */
    static const int pairs[MTB_MAX_PAIRS][2] = {{0, 1}, {0, 2}, {1, 2}};
    for (int p = 0; p < MTB_MAX_PAIRS; p++) {
        bad |= tui_series_init(&d->cos[p], CURVE_POINTS);
        for (int g = 0; g < MTB_MAX_GROUPS; g++)
            bad |= tui_series_init(&d->group_cos[p][g], HEAT_POINTS);
        d->pair_task[p][0] = pairs[p][0];
        d->pair_task[p][1] = pairs[p][1];
    }
    d->last_eval.sst_acc = d->last_eval.para_acc = d->last_eval.sts_corr = NAN;
    d->best_eval = d->last_eval;
    if (bad) {
        tui_data_free(d);
        return -1;
    }
    return 0;
}

void tui_data_free(tui_data *d)
{
    for (int t = 0; t < MTB_N_TASKS; t++) {
        tui_series_free(&d->loss[t]);
        tui_series_free(&d->val_loss[t]);
        tui_series_free(&d->weight[t]);
        tui_series_free(&d->served[t]);
    }
    for (int p = 0; p < MTB_MAX_PAIRS; p++) {
        tui_series_free(&d->cos[p]);
        for (int g = 0; g < MTB_MAX_GROUPS; g++)
            tui_series_free(&d->group_cos[p][g]);
    }
}

void tui_data_log(tui_data *d, const char *fmt, ...)
{
    int slot = (d->log_head + d->log_len) % TUI_LOG_LINES;
    if (d->log_len == TUI_LOG_LINES)
        d->log_head = (d->log_head + 1) % TUI_LOG_LINES;
    else
        d->log_len++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->log[slot], TUI_LOG_WIDTH, fmt, ap);
    va_end(ap);
}

const char *tui_data_log_line(const tui_data *d, int i)
{
    if (i < 0 || i >= d->log_len)
        return "";
    return d->log[(d->log_head + i) % TUI_LOG_LINES];
}

int tui_data_pair_index(const tui_data *d, int a, int b)
{
    for (int p = 0; p < MTB_MAX_PAIRS; p++)
        if ((d->pair_task[p][0] == a && d->pair_task[p][1] == b) ||
            (d->pair_task[p][0] == b && d->pair_task[p][1] == a))
            return p;
    return -1;
}

static void apply_conflict(tui_data *d, const mtb_event *ev)
{
    const mtb_conflict_stats *cs = &ev->u.conflict;
    d->has_conflict = true;
    d->last_conflict = *cs;
    d->conflict_steps++;
    d->n_groups = cs->n_groups;
    const double x = (double)ev->step;
    for (int p = 0; p < cs->n_pairs; p++) {
        int a = cs->task[cs->pair[p][0]], b = cs->task[cs->pair[p][1]];
        int k = tui_data_pair_index(d, a, b);
        if (k < 0)
            continue;
        tui_series_push(&d->cos[k], x, cs->cos[p]);
        d->conflicts[k] += cs->cos[p] < 0.0;
        /* a group no task has a gradient in has no cosine: its cell stays
         * empty rather than showing 0 ("orthogonal") */
        for (int g = 0; g < cs->n_groups; g++)
            if (!cs->group_zero[g])
                tui_series_push(&d->group_cos[k][g], x, cs->group_cos[p][g]);
    }
    for (int i = 0; i < cs->n_tasks; i++) {
        tui_series_push(&d->weight[cs->task[i]], x, cs->weight[i]);
        tui_series_push(&d->served[cs->task[i]], x, cs->served[i]);
    }
    for (int i = 0; i < cs->n_tasks; i++)
        for (int j = 0; j < cs->n_tasks; j++)
            if (cs->projected[i][j])
                d->projected[cs->task[i]][cs->task[j]]++;
}

static void apply_eval(tui_data *d, const mtb_event *ev)
{
    const mtb_eval_result *r = &ev->u.eval;
    d->has_eval = true;
    d->last_eval = *r;
    d->last_eval_step = ev->step;
    const double now[MTB_N_TASKS] = {r->sst_acc, r->para_acc, r->sts_corr};
    double *best[MTB_N_TASKS] = {&d->best_eval.sst_acc, &d->best_eval.para_acc,
                                 &d->best_eval.sts_corr};
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (!r->has[t])
            continue;
        tui_series_push(&d->val_loss[t], (double)ev->step, r->loss[t]);
        if (isnan(*best[t]) || now[t] > *best[t]) {
            *best[t] = now[t];
            d->best_eval.loss[t] = r->loss[t];
            d->best_eval.has[t] = true;
            d->best_step[t] = ev->step;
        }
    }
    char line[TUI_LOG_WIDTH];
    int n = snprintf(line, sizeof line, "eval @%ld:", ev->step);
    if (r->has[MTB_TASK_SST])
        n += snprintf(line + n, sizeof line - (size_t)n, " sst acc %.3f", r->sst_acc);
    if (r->has[MTB_TASK_PARA] && n < (int)sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " para acc %.3f", r->para_acc);
    if (r->has[MTB_TASK_STS] && n < (int)sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, " sts corr %.3f", r->sts_corr);
    tui_data_log(d, "%s", line);
}

void tui_data_apply(tui_data *d, const mtb_event *ev)
{
    d->events_seen++;
    d->step = ev->step;
    d->total_steps = ev->total_steps;
    d->epoch = ev->epoch;
    d->elapsed = ev->elapsed;
    switch (ev->type) {
    case MTB_EV_STEP:
        for (int t = 0; t < MTB_N_TASKS; t++) {
            d->active[t] = ev->u.step.active[t];
            if (!ev->u.step.active[t])
                continue;
            d->last_loss[t] = ev->u.step.loss[t];
            tui_series_push(&d->loss[t], (double)ev->step, ev->u.step.loss[t]);
        }
        d->lr = ev->u.step.lr;
        d->steps_per_sec = ev->u.step.steps_per_sec;
        d->skipped = ev->u.step.skipped;
        break;
    case MTB_EV_CONFLICT: apply_conflict(d, ev); break;
    case MTB_EV_EVAL: apply_eval(d, ev); break;
    case MTB_EV_LOG: tui_data_log(d, "%s", ev->u.log.text); break;
    case MTB_EV_STATE:
        switch (ev->u.state.state) {
        case MTB_STATE_PAUSED:
            d->paused = true;
            tui_data_log(d, "paused at step %ld", ev->step);
            break;
        case MTB_STATE_RUNNING:
            d->paused = false;
            tui_data_log(d, "resumed");
            break;
        case MTB_STATE_SAVED: tui_data_log(d, "saved %s (step %ld)", ev->u.state.detail, ev->step); break;
        case MTB_STATE_STOPPING:
            d->stopping = true;
            tui_data_log(d, "stopping at step %ld", ev->step);
            break;
        }
        break;
    case MTB_EV_DONE:
        d->done = true;
        d->done_status = ev->u.done.status;
        tui_data_log(d, "training %s at step %ld", ev->u.done.message, ev->step);
        break;
    }
}
