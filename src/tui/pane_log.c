/* Log pane: the trainer's messages, newest at the bottom, each wrapped at
 * word boundaries to the pane's width (never cut); PgUp/PgDn scroll by
 * messages. */
#include <string.h>

#include "draw.h"
#include "pane_log.h"

#define MAX_WRAP 8 /* lines one message may take */

void pane_log_draw(tui_app *app, const tui_rect *r)
{
    tui_draw_box(app, r, app->log_scroll ? "Log (scrolled: PgDn)" : "Log",
                 app->zoomed == TUI_PANE_LOG);
    const int w = r->w - 2, rows = r->h - 2 < 256 ? r->h - 2 : 256;
    if (rows <= 0 || w <= 0)
        return;
    const tui_data *d = &app->data;
    /* From the newest shown message upwards until the rows are full; then
     * drawn top to bottom. */
    static char lines[256][TUI_WRAP_COLS];
    int used = 0;
    char wrapped[MAX_WRAP][TUI_WRAP_COLS];
    for (int i = d->log_len - 1 - app->log_scroll; i >= 0 && used < rows; i--) {
        const int n = tui_wrap_words(tui_data_log_line(d, i), w, wrapped, MAX_WRAP);
        if (used + n > rows && used > 0)
            break;
        /* shift what is there down by n, put this message on top */
        const int take = n < rows - used ? n : rows - used;
        for (int k = used - 1; k >= 0; k--)
            memcpy(lines[k + take], lines[k], sizeof lines[0]);
        for (int k = 0; k < take; k++)
            memcpy(lines[k], wrapped[n - take + k], sizeof lines[0]);
        used += take;
    }
    for (int k = 0; k < used; k++)
        tui_put(app, r->y + 1 + k, r->x + 1, w, TUI_C_DEFAULT, lines[k]);
}
