/* See metrics_text.h. */
#include "metrics_text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../front/front.h"
#include "canvas.h"
#include "layout.h"
#include "theme.h"

typedef struct candidate {
    tui_text_line line;
    int priority; /* 0 kept first; larger goes first when rows run out */
} candidate;

static void add(candidate *c, int *n, int priority, short slot, const char *full,
                const char *compact, int width)
{
    if (*n >= TUI_METRICS_MAX_LINES)
        return;
    const char *text = compact && tui_utf8_columns(full) > width ? compact : full;
    snprintf(c[*n].line.text, sizeof c[*n].line.text, "%.95s", text);
    c[*n].line.slot = slot;
    c[*n].priority = priority;
    (*n)++;
}

static void metric(char *buf, size_t cap, double v)
{
    if (isnan(v))
        snprintf(buf, cap, "  -  ");
    else
        snprintf(buf, cap, "%5.3f", v);
}

int tui_metrics_text(const tui_data *d, bool has_validation, int width, int rows,
                     tui_text_line *out)
{
    candidate c[TUI_METRICS_MAX_LINES];
    int n = 0;
    char full[160], compact[160], eta[32], a[16], b[16];
    const char *state = d->done ? (d->done_status ? "FAILED" : "finished")
                        : d->stopping ? "stopping"
                        : d->paused   ? "PAUSED"
                                      : "training";
    snprintf(full, sizeof full, "step %ld/%ld  %s", d->step, d->total_steps, state);
    add(c, &n, 0,
        d->done && d->done_status ? TUI_C_ERROR : d->paused ? TUI_C_WARNING : TUI_C_DEFAULT, full,
        NULL, width);
    /* Loud, not buried in the log: steps lost to NaN or infinity. */
    if (d->skipped > 0) {
        snprintf(full, sizeof full, "NaN: %ld step%s skipped", d->skipped,
                 d->skipped == 1 ? "" : "s");
        add(c, &n, 0, TUI_C_ERROR, full, NULL, width);
    }
    fe_format_duration(
        d->steps_per_sec > 0 ? (double)(d->total_steps - d->step) / d->steps_per_sec : NAN, eta,
        sizeof eta);
    const int eta_line = n;
    snprintf(full, sizeof full, "epoch %.2f  %.2f steps/s  ETA %s", d->epoch, d->steps_per_sec,
             eta);
    snprintf(compact, sizeof compact, "ep %.2f %.1f/s ETA %s", d->epoch, d->steps_per_sec, eta);
    add(c, &n, 3, TUI_C_DEFAULT, full, compact, width);
    snprintf(full, sizeof full, "mode %s  lr %.3g", d->mode, (double)d->lr);
    snprintf(compact, sizeof compact, "%s lr %.2g", d->mode, (double)d->lr);
    add(c, &n, 4, TUI_C_DEFAULT, full, compact, width);
    add(c, &n, 9, TUI_C_DEFAULT, "", NULL, width);
    if (!has_validation) {
        add(c, &n, 1, TUI_C_WARNING, "no validation data:", NULL, width);
        add(c, &n, 2, TUI_C_LABEL, "give --*-dev or --val-split", "--*-dev, --val-split", width);
    } else {
        add(c, &n, 1, TUI_C_LABEL, "dev       last  best", NULL, width);
        static const char *names[MTB_N_TASKS] = {"sst acc ", "para acc", "sts corr"};
        const double last[MTB_N_TASKS] = {d->last_eval.sst_acc, d->last_eval.para_acc,
                                          d->last_eval.sts_corr};
        const double best[MTB_N_TASKS] = {d->best_eval.sst_acc, d->best_eval.para_acc,
                                          d->best_eval.sts_corr};
        for (int t = 0; t < MTB_N_TASKS; t++) {
            metric(a, sizeof a, last[t]);
            metric(b, sizeof b, best[t]);
            if (isnan(best[t]))
                snprintf(full, sizeof full, "%s  %s %s", names[t], a, b);
            else
                snprintf(full, sizeof full, "%s  %s %s @%ld", names[t], a, b, d->best_step[t]);
            snprintf(compact, sizeof compact, "%s %s %s", names[t], a, b);
            add(c, &n, 1, (short)(TUI_C_SST + t), full, compact, width);
        }
    }
    add(c, &n, 9, TUI_C_DEFAULT, "", NULL, width);
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (!d->active[t])
            continue;
        snprintf(full, sizeof full, "loss %-4s %.4f", mtb_task_name((mtb_task)t),
                 (double)d->last_loss[t]);
        add(c, &n, 5, (short)(TUI_C_SST + t), full, NULL, width);
    }
    /* Drop the least needed lines until the rest fit, then keep the order. */
    bool keep[TUI_METRICS_MAX_LINES];
    int kept = n;
    for (int i = 0; i < n; i++)
        keep[i] = true;
    for (int prio = 9; prio > 0 && kept > rows; prio--)
        for (int i = n - 1; i >= 0 && kept > rows; i--)
            if (keep[i] && c[i].priority == prio) {
                keep[i] = false;
                kept--;
            }
    /* Too few rows for the ETA's line: while training (the state the step
     * line would say) the ETA takes the state's place there. */
    char with_eta[96];
    snprintf(with_eta, sizeof with_eta, "step %ld/%ld  ETA %s", d->step, d->total_steps, eta);
    if (!keep[eta_line] && strcmp(state, "training") == 0 && isfinite(d->steps_per_sec) &&
        d->steps_per_sec > 0 && tui_utf8_columns(with_eta) <= width)
        snprintf(c[0].line.text, sizeof c[0].line.text, "%s", with_eta);
    int m = 0;
    for (int i = 0; i < n && m < rows; i++)
        if (keep[i]) {
            out[m] = c[i].line;
            /* the last resort: cut, never past the pane */
            char *t = out[m].text;
            while (tui_utf8_columns(t) > width && *t)
                t[strlen(t) - 1] = '\0';
            m++;
        }
    /* no blank at the bottom */
    while (m > 0 && !out[m - 1].text[0])
        m--;
    return m;
}
