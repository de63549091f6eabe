/* Gradient-conflict pane, three views (F11): the cosine of each task
 * pair's gradients over time (below zero the tasks pull the encoder in
 * opposing directions); each task's weight in the merged update; and how
 * much the update serves each task, the cosine of the update and the
 * task's gradient. */
#include <math.h>
#include <stdio.h>

#include "app.h"

static const char *const view_title[TUI_CONFLICT_VIEWS] = {
    "Gradient conflict: cosine per task pair",
    "Task weights in the update",
    "Served: cos(update, task gradient)",
};

void pane_conflict_draw(tui_app *app, const tui_rect *r)
{
    const int view = app->conflict_view >= 0 && app->conflict_view < TUI_CONFLICT_VIEWS
                         ? app->conflict_view
                         : TUI_CONFLICT_COSINE;
    char title[128];
    snprintf(title, sizeof title, "%s%s%s", view_title[view],
             view == TUI_CONFLICT_WEIGHTS && app->data.mode[0] ? ", " : "",
             view == TUI_CONFLICT_WEIGHTS ? app->data.mode : "");
    tui_draw_box(app, r, title, app->zoomed == TUI_PANE_CONFLICT);
    const int w = r->w - 2, h = r->h - 2;
    if (w <= 0 || h <= 0 || tui_canvas_fit(&app->canvas, w, h))
        return;
    tui_canvas_clear(&app->canvas);
    static const char *pair_names[MTB_MAX_PAIRS] = {"sst-para", "sst-sts", "para-sts"};
    tui_plot_series s[MTB_MAX_PAIRS];
    int n = 0;
    if (view == TUI_CONFLICT_COSINE) {
        for (int p = 0; p < MTB_MAX_PAIRS; p++)
            if (tui_series_len(&app->data.cos[p]) > 0)
                s[n++] = (tui_plot_series){.s = &app->data.cos[p],
                                           .color = (short)(TUI_C_PAIR_SST_PARA + p),
                                           .smooth = app->smoothing, .label = pair_names[p]};
    } else {
        const tui_series *src = view == TUI_CONFLICT_WEIGHTS ? app->data.weight : app->data.served;
        for (int t = 0; t < MTB_N_TASKS; t++)
            if (tui_series_len(&src[t]) > 0)
                s[n++] = (tui_plot_series){.s = &src[t], .color = (short)(TUI_C_SST + t),
                                           .smooth = app->smoothing,
                                           .label = mtb_task_name((mtb_task)t)};
    }
    if (n == 0 && app->data.step > 0 && !app->data.has_conflict) {
        tui_canvas_text(&app->canvas, 1, h / 2, "single-task mode: no gradients to compare",
                        TUI_C_LABEL);
    } else {
        tui_plot_opts o = {.glyphs = app->glyphs, .y_lo = NAN, .y_hi = NAN,
                           .zero_line = view != TUI_CONFLICT_WEIGHTS, .legend = true,
                           .axis_color = TUI_C_AXIS, .label_color = TUI_C_LABEL};
        if (view == TUI_CONFLICT_SERVED) {
            o.y_lo = -1.0;
            o.y_hi = 1.0;
        }
        tui_plot_draw(&app->canvas, 0, 0, w, h, s, n, &o);
    }
    tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
}
