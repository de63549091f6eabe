/* Gradient-conflict pane: the cosine of each task pair's gradients over
 * time.  Below zero the tasks pull the encoder in opposing directions. */
#include <math.h>

#include "app.h"

void pane_conflict_draw(tui_app *app, const tui_rect *r)
{
    tui_draw_box(app, r, "Gradient conflict: cosine per task pair",
                 app->zoomed == TUI_PANE_CONFLICT);
    const int w = r->w - 2, h = r->h - 2;
    if (w <= 0 || h <= 0 || tui_canvas_fit(&app->canvas, w, h))
        return;
    tui_canvas_clear(&app->canvas);
    static const char *names[MTB_MAX_PAIRS] = {"sst-para", "sst-sts", "para-sts"};
    tui_plot_series s[MTB_MAX_PAIRS];
    int n = 0;
    for (int p = 0; p < MTB_MAX_PAIRS; p++)
        if (tui_series_len(&app->data.cos[p]) > 0)
            s[n++] = (tui_plot_series){.s = &app->data.cos[p],
                                       .color = (short)(TUI_C_PAIR_SST_PARA + p),
                                       .smooth = app->smoothing, .label = names[p]};
    if (n == 0 && app->data.step > 0 && !app->data.has_conflict) {
        tui_canvas_text(&app->canvas, 1, h / 2, "single-task mode: no gradients to compare",
                        TUI_C_LABEL);
    } else {
        tui_plot_opts o = {.glyphs = app->glyphs, .y_lo = NAN, .y_hi = NAN, .zero_line = true,
                           .legend = true, .axis_color = TUI_C_AXIS, .label_color = TUI_C_LABEL};
        tui_plot_draw(&app->canvas, 0, 0, w, h, s, n, &o);
    }
    tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
}
