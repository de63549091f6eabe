/* Metrics pane: progress, speed, settings, latest and best validation
 * (the text is metrics_text.c's). */
#include "draw.h"
#include "metrics_text.h"
#include "pane_metrics.h"

void pane_metrics_draw(tui_app *app, const tui_rect *r)
{
    tui_draw_box(app, r, "Metrics", app->zoomed == TUI_PANE_METRICS);
    const int x = r->x + 2, w = r->w - 3, rows = r->h - 2;
    if (w <= 0 || rows <= 0)
        return;
    tui_text_line lines[TUI_METRICS_MAX_LINES];
    const int n = tui_metrics_text(&app->data, app->has_validation, w, rows, lines);
    for (int i = 0; i < n; i++)
        tui_put(app, r->y + 1 + i, x, w, lines[i].slot, lines[i].text);
}
