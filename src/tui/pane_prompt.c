/* Prompt pane: the latest answers above, the readline input line below. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "input.h"
#include "pane_prompt.h"
#include "scoring.h"

/* No side borders: the answers (three lines for a pair) and the input line
 * get every row below the title rule. */
void pane_prompt_draw(tui_app *app, const tui_rect *r)
{
    const bool utf8 = app->glyphs != TUI_GLYPHS_ASCII;
    attrset(tui_attr_for(app, TUI_C_BORDER));
    for (int i = 0; i < r->w; i++)
        mvaddstr(r->y, r->x + i, utf8 ? "─" : "-");
    attrset(A_NORMAL);
    tui_put(app, r->y, r->x + 2, r->w - 4, TUI_C_TITLE,
            app->output_scroll ? " Prompt: earlier answers (Shift-PgDn, wheel: newer) "
                               : " Prompt: a sentence, 'first || second', or :help ");
    const int x = r->x, w = r->w;
    const int input_y = r->y + r->h - 1;
    const int out_rows = r->h - 2;
    if (app->output_scroll > app->output_len - out_rows)
        app->output_scroll = app->output_len - out_rows > 0 ? app->output_len - out_rows : 0;
    int first = app->output_len - out_rows - app->output_scroll;
    if (first < 0)
        first = 0;
    for (int i = first, y = r->y + 1; i < app->output_len && y < input_y; i++, y++) {
        /* a line wider than the terminal loses its padding before any
         * number: "v.pos 0.61" stays on screen at 80 columns */
        char fitted[TUI_OUTPUT_WIDTH];
        snprintf(fitted, sizeof fitted, "%s", app->output[i]);
        if (tui_utf8_columns(fitted) > w)
            tui_squeeze_spaces(fitted);
        tui_put(app, y, x, w, strncmp(app->output[i], "error", 5) ? TUI_C_DEFAULT : TUI_C_ERROR,
                fitted);
    }

    const char *prompt = tui_input_prompt();
    const char *buf = tui_input_buffer();
    const int plen = tui_utf8_columns(prompt);
    const int avail = w - plen - 1;
    const int cursor = tui_utf8_columns_n(buf, (size_t)tui_input_point());
    /* Scroll horizontally so the cursor stays in view. */
    int start = cursor > avail ? cursor - avail : 0;
    tui_put(app, input_y, x, w, TUI_C_PROMPT, prompt);
    if (avail > 0)
        tui_put(app, input_y, x + plen, avail + 1, TUI_C_DEFAULT,
                buf + tui_utf8_offset(buf, start));
    if (tui_scoring_busy(app))
        tui_put(app, r->y, r->x + r->w - 12, 10, TUI_C_WARNING, " scoring ");
    move(input_y, x + plen + cursor - start);
}
