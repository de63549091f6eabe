/* Loss pane: each task's training loss (smoothed) and validation points;
 * with saved runs to compare (--compare, Ctrl-O), one task's curves of
 * this run and of each saved run, in the run's colour. */
#include <math.h>
#include <stdio.h>

#include "cursor.h"
#include "draw.h"
#include "pane_loss.h"

static void draw_compare(tui_app *app, int w, int h, int task)
{
    tui_plot_series s[2 * (1 + TUI_MAX_COMPARE)];
    static char labels[1 + TUI_MAX_COMPARE][48];
    int n = 0;
    for (int i = -1; i < app->n_compare; i++) {
        const tui_data *d = i < 0 ? &app->data : &app->compare[i];
        const short color = (short)(i < 0 ? TUI_C_SST + task : TUI_C_COMPARE_1 + i);
        snprintf(labels[i + 1], sizeof labels[0], "%.40s", i < 0 ? "this run" : d->mode);
        s[n++] = (tui_plot_series){.s = &d->loss[task], .color = color,
                                   .smooth = app->smoothing, .label = labels[i + 1]};
        if (tui_series_len(&d->val_loss[task]) > 0)
            s[n++] = (tui_plot_series){.s = &d->val_loss[task], .color = color,
                                       .markers = true, .smooth = 1.0};
    }
    tui_plot_opts o = {.glyphs = app->glyphs, .y_lo = NAN, .y_hi = NAN, .legend = true,
                       .axis_color = TUI_C_AXIS, .label_color = TUI_C_LABEL};
    tui_plot_draw(&app->canvas, 0, 0, w, h, s, n, &o);
}

void pane_loss_draw(tui_app *app, const tui_rect *r)
{
    const int task = app->compare_task;
    const bool comparing = task >= 0 && task < MTB_N_TASKS && app->n_compare > 0;
    char title[128], details[96];
    if (comparing) {
        snprintf(details, sizeof details, "this run and %d saved (Ctrl-O: task)", app->n_compare);
        snprintf(title, sizeof title, "Loss %s: %s", mtb_task_name((mtb_task)task), details);
    } else {
        snprintf(details, sizeof details, "training (line), validation (points)");
        tui_cursor_title(app,
                         app->loss_scale == TUI_SCALE_LOG        ? "Loss (log scale)"
                         : app->loss_scale == TUI_SCALE_RELATIVE ? "Loss over each task's first"
                                                                 : "Loss",
                         details, title, sizeof title);
    }
    tui_draw_box(app, r, title, app->zoomed == TUI_PANE_LOSS);
    const int w = r->w - 2, h = r->h - 2;
    app->frame_ok[TUI_PANE_LOSS] = false;
    if (w <= 0 || h <= 0 || tui_canvas_fit(&app->canvas, w, h))
        return;
    tui_canvas_clear(&app->canvas);
    if (comparing) {
        draw_compare(app, w, h, task);
        tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
        return;
    }
    static const char *names[MTB_N_TASKS] = {"sst", "para", "sts"};
    static const char *val_names[MTB_N_TASKS] = {"sst dev", "para dev", "sts dev"};
    tui_plot_series s[2 * MTB_N_TASKS];
    static tui_series rel[MTB_N_TASKS], rel_val[MTB_N_TASKS];
    static char labels[2 * MTB_N_TASKS][48];
    const bool log_y = app->loss_scale == TUI_SCALE_LOG;
    int n = 0;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (!app->data.active[t] && tui_series_len(&app->data.loss[t]) == 0)
            continue;
        const tui_series *train = &app->data.loss[t], *val = &app->data.val_loss[t];
        if (app->loss_scale == TUI_SCALE_RELATIVE) {
            /* each task over its first stored value, so a task whose loss is
             * ten times another's shows its progress at the same size */
            double x0, base = NAN;
            tui_series_get(train, 0, &x0, &base);
            if (!tui_series_divided(train, base, &rel[t]))
                train = &rel[t];
            if (!tui_series_divided(val, base, &rel_val[t]))
                val = &rel_val[t];
        }
        const char *label = tui_cursor_label(app, names[t], train, false, labels[n], 48);
        s[n++] = (tui_plot_series){.s = train, .color = (short)(TUI_C_SST + t),
                                   .smooth = app->smoothing, .label = label, .log_y = log_y,
                                   .mark = TUI_TASK_MARKS[t]};
        if (tui_series_len(val) > 0) {
            label = tui_cursor_label(app, val_names[t], val, true, labels[n], 48);
            s[n++] = (tui_plot_series){.s = val, .color = (short)(TUI_C_SST + t), .markers = true,
                                       .smooth = 1.0, .label = label, .log_y = log_y,
                                       .mark = TUI_TASK_DEV_MARKS[t]};
        }
    }
    tui_plot_opts o = {.glyphs = app->glyphs, .y_lo = NAN, .y_hi = NAN, .legend = true,
                       .axis_color = TUI_C_AXIS, .label_color = TUI_C_LABEL, .y_log = log_y};
    tui_cursor_apply(app, &o);
    tui_plot_draw(&app->canvas, 0, 0, w, h, s, n, &o);
    tui_cursor_note_frame(app, TUI_PANE_LOSS, w, h, s, n, &o);
    tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
}
