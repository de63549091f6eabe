/* Loss pane: each task's training loss (smoothed) and validation points. */
#include <math.h>

#include "app.h"

void pane_loss_draw(tui_app *app, const tui_rect *r)
{
    tui_draw_box(app, r, "Loss: training (line), validation (points)",
                 app->zoomed == TUI_PANE_LOSS);
    const int w = r->w - 2, h = r->h - 2;
    if (w <= 0 || h <= 0 || tui_canvas_fit(&app->canvas, w, h))
        return;
    tui_canvas_clear(&app->canvas);
    static const char *names[MTB_N_TASKS] = {"sst", "para", "sts"};
    static const char *val_names[MTB_N_TASKS] = {"sst dev", "para dev", "sts dev"};
    tui_plot_series s[2 * MTB_N_TASKS];
    int n = 0;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (!app->data.active[t] && tui_series_len(&app->data.loss[t]) == 0)
            continue;
        s[n++] = (tui_plot_series){.s = &app->data.loss[t], .color = (short)(TUI_C_SST + t),
                                   .smooth = app->smoothing, .label = names[t]};
        if (tui_series_len(&app->data.val_loss[t]) > 0)
            s[n++] = (tui_plot_series){.s = &app->data.val_loss[t],
                                       .color = (short)(TUI_C_SST + t), .markers = true,
                                       .smooth = 1.0, .label = val_names[t]};
    }
    tui_plot_opts o = {.glyphs = app->glyphs, .y_lo = NAN, .y_hi = NAN, .legend = true,
                       .axis_color = TUI_C_AXIS, .label_color = TUI_C_LABEL};
    tui_plot_draw(&app->canvas, 0, 0, w, h, s, n, &o);
    tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
}
