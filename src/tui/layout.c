/* Pane rectangles for a terminal size (the rules are in layout.h), and the
 * text fitting the panes share: word wrapping, titles cut to a width. */
#include "layout.h"

#include <stdio.h>
#include <string.h>

#include "canvas.h"

static tui_rect rect(int x, int y, int w, int h)
{
    tui_rect r = {x, y, w, h};
    return r;
}

static void show(tui_layout *l, tui_pane p, tui_rect r)
{
    l->pane[p] = r;
    l->visible[p] = true;
}

void tui_layout_compute(tui_layout *l, int cols, int rows, int zoomed)
{
    memset(l, 0, sizeof *l);
    l->cols = cols;
    l->rows = rows;
    if (cols < TUI_MIN_COLS || rows < TUI_MIN_ROWS) {
        l->too_small = true;
        return;
    }

    show(l, TUI_PANE_FOOTER, rect(0, rows - 1, cols, 1));
    show(l, TUI_PANE_PROMPT, rect(0, rows - 1 - TUI_PROMPT_ROWS, cols, TUI_PROMPT_ROWS));
    int h = rows - 1 - TUI_PROMPT_ROWS;

    if (zoomed >= TUI_PANE_LOSS && zoomed <= TUI_PANE_LOG) {
        show(l, (tui_pane)zoomed, rect(0, 0, cols, h));
        return;
    }

    if (cols < 80) {
        int m = h / 3;
        int a = (h - m + 1) / 2;
        show(l, TUI_PANE_LOSS, rect(0, 0, cols, a));
        show(l, TUI_PANE_CONFLICT, rect(0, a, cols, h - m - a));
        show(l, TUI_PANE_METRICS, rect(0, h - m, cols, m));
        return;
    }

    int top = (6 * h + 5) / 10;
    int bottom = h - top;
    int mw = TUI_METRICS_COLS;
    if (cols >= 120) {
        int lw = cols * 55 / 100;
        int gw = cols * 35 / 100;
        show(l, TUI_PANE_LOSS, rect(0, 0, lw, top));
        show(l, TUI_PANE_CONFLICT, rect(lw, 0, cols - lw, top));
        show(l, TUI_PANE_METRICS, rect(0, top, mw, bottom));
        show(l, TUI_PANE_LAYERS, rect(mw, top, cols - mw - gw, bottom));
        show(l, TUI_PANE_LOG, rect(cols - gw, top, gw, bottom));
    } else {
        int lw = cols / 2;
        show(l, TUI_PANE_LOSS, rect(0, 0, lw, top));
        show(l, TUI_PANE_CONFLICT, rect(lw, 0, cols - lw, top));
        show(l, TUI_PANE_METRICS, rect(0, top, mw, bottom));
        show(l, TUI_PANE_LAYERS, rect(mw, top, cols - mw, bottom));
    }
}

const char *tui_pane_name(tui_pane p)
{
    static const char *const names[TUI_N_PANES] = {
        [TUI_PANE_LOSS] = "Loss",
        [TUI_PANE_CONFLICT] = "Gradient conflict",
        [TUI_PANE_LAYERS] = "Layers",
        [TUI_PANE_METRICS] = "Metrics",
        [TUI_PANE_LOG] = "Log",
        [TUI_PANE_PROMPT] = "Prompt",
        [TUI_PANE_FOOTER] = "",
    };
    /* Compared as unsigned so that a negative id from a caller's cast lands
     * out of range too. */
    if ((unsigned)p >= TUI_N_PANES)
        return "";
    return names[p];
}

void tui_too_small_message(int cols, int rows, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    snprintf(buf, cap, "Terminal too small: %dx%d, need at least %dx%d (F10 quits)", cols, rows,
             TUI_MIN_COLS, TUI_MIN_ROWS);
}

int tui_wrap_words(const char *text, int width, char lines[][TUI_WRAP_COLS], int max_lines)
{
    if (width < 1)
        width = 1;
    if (width > TUI_WRAP_COLS - 1)
        width = TUI_WRAP_COLS - 1;
    int n = 0;
    const char *p = text;
    while (*p && n < max_lines) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        /* the longest run of whole words that fits; a word longer than the
         * width is cut */
        int take = 0, last_space = -1;
        while (p[take] && take < width) {
            if (p[take] == ' ')
                last_space = take;
            take++;
        }
        if (p[take] && p[take] != ' ' && last_space > 0)
            take = last_space;
        memcpy(lines[n], p, (size_t)take);
        lines[n][take] = '\0';
        while (take > 0 && lines[n][take - 1] == ' ')
            lines[n][--take] = '\0';
        n++;
        p += take;
    }
    return n;
}

void tui_fit_title(char *title, int width)
{
    if (width < 1 || tui_utf8_columns(title) <= width)
        return;
    /* " Name: details " -> " Name " */
    char *colon = strchr(title, ':');
    if (colon) {
        colon[0] = ' ';
        colon[1] = '\0';
        if (tui_utf8_columns(title) <= width)
            return;
    }
    /* else whole words while they fit */
    char lines[1][TUI_WRAP_COLS];
    if (tui_wrap_words(title, width - 1, lines, 1) == 1)
        snprintf(title, TUI_WRAP_COLS, " %.250s ", lines[0]);
}

void tui_squeeze_spaces(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++)
        if (!(*r == ' ' && r > s && r[-1] == ' '))
            *w++ = *r;
    *w = '\0';
}
