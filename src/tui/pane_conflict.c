/* Gradient-conflict pane, three views (F11): the cosine of each task
 * pair's gradients over time (below zero the tasks pull the encoder in
 * opposing directions); each task's weight in the merged update; and how
 * much the update serves each task, the cosine of the update and the
 * task's gradient. */
#include <math.h>
#include <stdio.h>

#include "cursor.h"
#include "draw.h"
#include "pane_conflict.h"

static const char *const view_name[TUI_CONFLICT_VIEWS] = {
    "Gradient conflict",
    "Task weights",
    "Served",
};
static const char *const view_details[TUI_CONFLICT_VIEWS] = {
    "cosine per task pair",
    "in the update",
    "cos(update, task gradient)",
};

void pane_conflict_draw(tui_app *app, const tui_rect *r)
{
    const int view = app->conflict_view >= 0 && app->conflict_view < TUI_CONFLICT_VIEWS
                         ? app->conflict_view
                         : TUI_CONFLICT_COSINE;
    const bool weights = view == TUI_CONFLICT_WEIGHTS;
    const int scale = weights ? app->weights_scale : TUI_SCALE_LINEAR;
    char title[160], name[64], details[96];
    snprintf(name, sizeof name, "%s%s", view_name[view],
             scale == TUI_SCALE_LOG ? " (log scale)"
             : scale == TUI_SCALE_RELATIVE ? " over the first" : "");
    snprintf(details, sizeof details, "%s%s%s", view_details[view],
             weights && app->data.mode[0] ? ", " : "", weights ? app->data.mode : "");
    /* the weights view's title was "Task weights in the update, MODE" */
    if (weights && !app->cursor_on)
        snprintf(title, sizeof title, "%s %s", name, details);
    else
        tui_cursor_title(app, name, details, title, sizeof title);
    tui_draw_box(app, r, title, app->zoomed == TUI_PANE_CONFLICT);
    const int w = r->w - 2, h = r->h - 2;
    app->frame_ok[TUI_PANE_CONFLICT] = false;
    if (w <= 0 || h <= 0 || tui_canvas_fit(&app->canvas, w, h))
        return;
    tui_canvas_clear(&app->canvas);
    static const char *pair_names[MTB_MAX_PAIRS] = {"sst-para", "sst-sts", "para-sts"};
    static tui_series rel[MTB_N_TASKS];
    static char labels[MTB_MAX_PAIRS > MTB_N_TASKS ? MTB_MAX_PAIRS : MTB_N_TASKS][48];
    tui_plot_series s[MTB_MAX_PAIRS];
    int n = 0;
    if (view == TUI_CONFLICT_COSINE) {
        for (int p = 0; p < MTB_MAX_PAIRS; p++)
            if (tui_series_len(&app->data.cos[p]) > 0)
                s[n++] = (tui_plot_series){
                    .s = &app->data.cos[p], .color = (short)(TUI_C_PAIR_SST_PARA + p),
                    .smooth = app->smoothing,
                    .label = tui_cursor_label(app, pair_names[p], &app->data.cos[p], false,
                                              labels[p], sizeof labels[0])};
    } else {
        const tui_series *src = weights ? app->data.weight : app->data.served;
        for (int t = 0; t < MTB_N_TASKS; t++) {
            if (tui_series_len(&src[t]) == 0)
                continue;
            const tui_series *curve = &src[t];
            if (scale == TUI_SCALE_RELATIVE) {
                double x0, base = NAN;
                tui_series_get(curve, 0, &x0, &base);
                if (!tui_series_divided(curve, base, &rel[t]))
                    curve = &rel[t];
            }
            s[n++] = (tui_plot_series){
                .s = curve, .color = (short)(TUI_C_SST + t), .smooth = app->smoothing,
                .log_y = scale == TUI_SCALE_LOG, .mark = TUI_TASK_MARKS[t],
                .label = tui_cursor_label(app, mtb_task_name((mtb_task)t), curve, false,
                                          labels[t], sizeof labels[0])};
        }
    }
    if (n == 0 && app->data.step > 0 && !app->data.has_conflict) {
        tui_canvas_text(&app->canvas, 1, h / 2, "single-task mode: no gradients to compare",
                        TUI_C_LABEL);
    } else {
        tui_plot_opts o = {.glyphs = app->glyphs, .y_lo = NAN, .y_hi = NAN,
                           .zero_line = !weights, .legend = true,
                           .axis_color = TUI_C_AXIS, .label_color = TUI_C_LABEL,
                           .y_log = scale == TUI_SCALE_LOG};
        if (view == TUI_CONFLICT_SERVED) {
            o.y_lo = -1.0;
            o.y_hi = 1.0;
        }
        tui_cursor_apply(app, &o);
        tui_plot_draw(&app->canvas, 0, 0, w, h, s, n, &o);
        tui_cursor_note_frame(app, TUI_PANE_CONFLICT, w, h, s, n, &o);
    }
    tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
}
