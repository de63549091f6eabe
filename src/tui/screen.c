/* One frame of the workbench: the layout for the terminal's size, each
 * visible pane, then the help overlay or the prompt (which leaves the
 * terminal's cursor on the input line).  Apart from the main loop so that
 * a test can draw a scripted run into a virtual screen and read it back. */
#include <curses.h>
#include <string.h>

#include "draw.h"
#include "help.h"
#include "pane_conflict.h"
#include "pane_footer.h"
#include "pane_layers.h"
#include "pane_log.h"
#include "pane_loss.h"
#include "pane_metrics.h"
#include "pane_prompt.h"
#include "screen.h"

void tui_draw_screen(tui_app *app)
{
    erase();
    tui_layout_compute(&app->layout, COLS, LINES, app->zoomed);
    if (app->layout.too_small) {
        /* the whole message, wrapped and centred, even at 40x10 */
        char msg[128], lines[8][TUI_WRAP_COLS];
        tui_too_small_message(COLS, LINES, msg, sizeof msg);
        const int n = tui_wrap_words(msg, COLS, lines, 8);
        for (int i = 0; i < n; i++) {
            const int len = (int)strlen(lines[i]);
            tui_put(app, (LINES - n) / 2 + i, len < COLS ? (COLS - len) / 2 : 0, COLS,
                    TUI_C_WARNING, lines[i]);
        }
        app->help_open = false; /* an overlay there would be invisible and eat a key */
        refresh();
        return;
    }
    static void (*const draw_pane[TUI_N_PANES])(tui_app *, const tui_rect *) = {
        pane_loss_draw, pane_conflict_draw, pane_layers_draw, pane_metrics_draw,
        pane_log_draw,  pane_prompt_draw,   pane_footer_draw,
    };
    for (int p = 0; p < TUI_N_PANES; p++)
        if (app->layout.visible[p] && p != TUI_PANE_PROMPT)
            draw_pane[p](app, &app->layout.pane[p]);
    if (app->help_open) {
        curs_set(0);
        help_draw(app);
    } else {
        /* The prompt last: it leaves the cursor on the input line. */
        curs_set(1);
        pane_prompt_draw(app, &app->layout.pane[TUI_PANE_PROMPT]);
    }
    refresh();
}
