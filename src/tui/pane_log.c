/* Log pane: the trainer's messages, newest at the bottom; PgUp/PgDn scroll. */
#include "app.h"

void pane_log_draw(tui_app *app, const tui_rect *r)
{
    tui_draw_box(app, r, app->log_scroll ? "Log (scrolled: PgDn)" : "Log",
                 app->zoomed == TUI_PANE_LOG);
    const int rows = r->h - 2;
    const tui_data *d = &app->data;
    int last = d->log_len - 1 - app->log_scroll;
    int first = last - rows + 1;
    if (first < 0)
        first = 0;
    for (int i = first, y = r->y + 1; i <= last && y < r->y + r->h - 1; i++, y++)
        tui_put(app, y, r->x + 1, r->w - 2, TUI_C_DEFAULT, tui_data_log_line(d, i));
}
