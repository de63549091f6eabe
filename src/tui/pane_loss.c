/* Loss pane: each task's training loss (smoothed) and validation points;
 * with saved runs to compare (--compare, Ctrl-O), one task's curves of
 * this run and of each saved run, in the run's colour. */
#include <math.h>
#include <stdio.h>

#include "app.h"

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

/* :scale relative: each task's curve over its first stored value, so a
 * task whose loss is ten times another's shows its progress at the same
 * size.  The copies are remade every frame (a few thousand points). */
static const tui_series *relative(const tui_series *src, double base, tui_series *dst)
{
    if (!dst->x && tui_series_init(dst, src->cap > 4 ? src->cap : 4))
        return src;
    tui_series_clear(dst);
    for (int i = 0; i < tui_series_len(src); i++) {
        double x, y;
        tui_series_get(src, i, &x, &y);
        tui_series_push(dst, x, base > 0 ? y / base : y);
    }
    return dst;
}

void pane_loss_draw(tui_app *app, const tui_rect *r)
{
    const int task = app->compare_task;
    const bool comparing = task >= 0 && task < MTB_N_TASKS && app->n_compare > 0;
    char title[96];
    if (comparing)
        snprintf(title, sizeof title, "Loss %s: this run and %d saved (Ctrl-O: task)",
                 mtb_task_name((mtb_task)task), app->n_compare);
    else
        snprintf(title, sizeof title, "Loss%s: training (line), validation (points)",
                 app->loss_scale == TUI_SCALE_LOG        ? " (log scale)"
                 : app->loss_scale == TUI_SCALE_RELATIVE ? " over each task's first"
                                                         : "");
    tui_draw_box(app, r, title, app->zoomed == TUI_PANE_LOSS);
    const int w = r->w - 2, h = r->h - 2;
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
    const bool log_y = app->loss_scale == TUI_SCALE_LOG;
    int n = 0;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (!app->data.active[t] && tui_series_len(&app->data.loss[t]) == 0)
            continue;
        const tui_series *train = &app->data.loss[t], *val = &app->data.val_loss[t];
        if (app->loss_scale == TUI_SCALE_RELATIVE) {
            double x0, base = NAN;
            tui_series_get(train, 0, &x0, &base);
            train = relative(train, base, &rel[t]);
            val = relative(val, base, &rel_val[t]);
        }
        s[n++] = (tui_plot_series){.s = train, .color = (short)(TUI_C_SST + t),
                                   .smooth = app->smoothing, .label = names[t], .log_y = log_y};
        if (tui_series_len(val) > 0)
            s[n++] = (tui_plot_series){.s = val, .color = (short)(TUI_C_SST + t), .markers = true,
                                       .smooth = 1.0, .label = val_names[t], .log_y = log_y};
    }
    tui_plot_opts o = {.glyphs = app->glyphs, .y_lo = NAN, .y_hi = NAN, .legend = true,
                       .axis_color = TUI_C_AXIS, .label_color = TUI_C_LABEL, .y_log = log_y};
    tui_plot_draw(&app->canvas, 0, 0, w, h, s, n, &o);
    tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
}
