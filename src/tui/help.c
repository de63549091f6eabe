/* The help window (F1 or ?): keys and prompt syntax. */
#include <curses.h>
#include <string.h>

#include "../front/prompt.h"
#include "app.h"

static const char *const key_help[] = {
    "Keys",
    "  F1, ? (empty line)   this help; any key closes it",
    "  F2 F3 F4 F5 F6       zoom Loss, Conflict, Layers, Metrics, Log (again or Esc: back)",
    "  F7                   curve smoothing: off, light, strong",
    "  F8                   glyphs: braille, block, ASCII",
    "  F9                   pause / resume training",
    "  F11                  conflict pane: cosine per pair, task weights, served tasks",
    "  F12                  layers pane: latest step, then each pair's heat map over time",
    "  F10, Ctrl-C, :quit   save the run and quit (also Ctrl-D on an empty line)",
    "  PgUp PgDn            scroll the log",
    "  Up Down, Tab         prompt history, complete :commands",
    "",
};

void help_draw(tui_app *app)
{
    const char *cmd_help = prompt_help_text();
    /* Count lines: the keys, then the prompt's own help text. */
    int lines = (int)(sizeof key_help / sizeof *key_help) + 1;
    for (const char *p = cmd_help; *p; p++)
        lines += *p == '\n';
    int w = COLS - 4 < 90 ? COLS - 4 : 90, h = LINES - 2 < lines + 2 ? LINES - 2 : lines + 2;
    tui_rect r = {(COLS - w) / 2, (LINES - h) / 2, w, h};
    attrset(A_NORMAL);
    for (int y = r.y; y < r.y + r.h; y++)
        mvhline(y, r.x, ' ', r.w);
    tui_draw_box(app, &r, "Help", false);
    int y = r.y + 1;
    for (size_t i = 0; i < sizeof key_help / sizeof *key_help && y < r.y + r.h - 1; i++, y++)
        tui_put(app, y, r.x + 2, r.w - 4, i == 0 ? TUI_C_TITLE : TUI_C_DEFAULT, key_help[i]);
    char line[256];
    const char *p = cmd_help;
    while (*p && y < r.y + r.h - 1) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        tui_put(app, y++, r.x + 2, r.w - 4, TUI_C_DEFAULT, line);
        p = nl ? nl + 1 : p + n;
    }
}
