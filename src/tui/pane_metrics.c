/* Metrics pane: progress, speed, settings, latest and best validation. */
#include <math.h>
#include <stdio.h>

#include "../front/front.h"
#include "../front/metrics.h"
#include "app.h"

static void metric(char *buf, size_t cap, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "  -  ");
    else
        snprintf(buf, cap, "%5.3f", v);
}

void pane_metrics_draw(tui_app *app, const tui_rect *r)
{
    tui_draw_box(app, r, "Metrics", app->zoomed == TUI_PANE_METRICS);
    const tui_data *d = &app->data;
    const int x = r->x + 2, w = r->w - 3;
    int y = r->y + 1;
    const int bottom = r->y + r->h - 1;
    char line[256], eta[32], a[16], b[16];
    fe_format_duration(
        d->steps_per_sec > 0 ? (double)(d->total_steps - d->step) / d->steps_per_sec : NAN, eta,
        sizeof eta);
    const char *state = d->done ? (d->done_status ? "FAILED" : "finished")
                         : d->stopping ? "stopping"
                         : d->paused   ? "PAUSED"
                                       : "training";
    snprintf(line, sizeof line, "step %ld/%ld  %s", d->step, d->total_steps, state);
    if (y < bottom)
        tui_put(app, y++, x, w,
                d->done && d->done_status ? TUI_C_ERROR
                : d->paused               ? TUI_C_WARNING
                                          : TUI_C_DEFAULT,
                line);
    /* Loud, not buried in the log: steps lost to NaN or infinity. */
    if (d->skipped > 0 && y < bottom) {
        snprintf(line, sizeof line, "NaN: %ld step%s skipped", d->skipped,
                 d->skipped == 1 ? "" : "s");
        tui_put(app, y++, x, w, TUI_C_ERROR, line);
    }
    snprintf(line, sizeof line, "epoch %.2f  %.2f steps/s  ETA %s", d->epoch, d->steps_per_sec,
             eta);
    if (y < bottom)
        tui_put(app, y++, x, w, TUI_C_DEFAULT, line);
    snprintf(line, sizeof line, "mode %s  lr %.3g", d->mode, (double)d->lr);
    if (y < bottom)
        tui_put(app, y++, x, w, TUI_C_DEFAULT, line);
    if (y < bottom)
        y++;
    if (!app->has_validation) {
        /* said where the numbers would be, not left as a column of dashes */
        if (y < bottom)
            tui_put(app, y++, x, w, TUI_C_WARNING, "no validation data:");
        if (y < bottom)
            tui_put(app, y++, x, w, TUI_C_LABEL, "give --*-dev or --val-split");
    } else if (y < bottom)
        tui_put(app, y++, x, w, TUI_C_LABEL, "dev       last  best");
    static const char *names[MTB_N_TASKS] = {"sst acc ", "para acc", "sts corr"};
    const double last[MTB_N_TASKS] = {d->last_eval.sst_acc, d->last_eval.para_acc,
                                      d->last_eval.sts_corr};
    const double best[MTB_N_TASKS] = {d->best_eval.sst_acc, d->best_eval.para_acc,
                                      d->best_eval.sts_corr};
    for (int t = 0; app->has_validation && t < MTB_N_TASKS && y < bottom; t++) {
        metric(a, sizeof a, last[t]);
        metric(b, sizeof b, best[t]);
        if (isnan(best[t]))
            snprintf(line, sizeof line, "%s  %s %s", names[t], a, b);
        else
            snprintf(line, sizeof line, "%s  %s %s @%ld", names[t], a, b, d->best_step[t]);
        tui_put(app, y++, x, w, TUI_C_SST + t, line);
    }
    if (y < bottom)
        y++;
    for (int t = 0; t < MTB_N_TASKS && y < bottom; t++) {
        if (!d->active[t])
            continue;
        snprintf(line, sizeof line, "loss %-4s %.4f", mtb_task_name((mtb_task)t),
                 (double)d->last_loss[t]);
        tui_put(app, y++, x, w, TUI_C_SST + t, line);
    }
}
