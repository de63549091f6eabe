/* The help window (F1 or ?): keys and prompt syntax. */
#include <curses.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../front/prompt.h"
#include "draw.h"
#include "help.h"
#include "command_table.h"

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
    "  PgUp PgDn            scroll the log (the mouse wheel over it too)",
    "  Shift-PgUp/PgDn      scroll the prompt's earlier answers (the wheel over them)",
    "  mouse click          zoom the pane under it; again: back",
    "  Shift-Left/Right     step cursor: the legends and the Layers pane read that step",
    "  Shift-Home           cursor to the first step; Shift-End: cursor off",
    "  right click          put the cursor at the step under the mouse",
    "  Up Down, Tab         prompt history, complete :commands",
    "  Ctrl-O               with --compare: the task the saved runs are compared on",
    "",
    "Reading the panes",
    "  sst dev (points)     validation loss at each evaluation",
    "  dev last best @N     the last evaluation, the best so far and its step",
    "  heat rows, map       one cell per parameter group (embed, layer 0.., pooler):",
    "                       shade = |cosine| (. ░ ▒ ▓ █), colour = its sign; blank or",
    "                       n/a: no task has a gradient there (the pooler, mean pooling)",
    "  sst<para 46%         share of steps in which SST's gradient was projected",
    "                       against paraphrase's (PCGrad, GradVac)",
    "  |grad|               each task's gradient norm over the whole encoder",
    "  served               cosine of the merged update and a task's gradient",
    "  weights              each task's weight in the update (1 under sum)",
    "",
};

/* Line i of a report (:errors, :confusion). */
static bool report_line(const char *report, int i, char *buf, size_t cap, bool *title)
{
    const char *p = report;
    for (int k = 0; *p; k++) {
        const char *nl = strchr(p, '\n');
        const size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (k == i) {
            snprintf(buf, cap, "%.*s", (int)n, p);
            *title = k == 0;
            return true;
        }
        p = nl ? nl + 1 : p + n;
    }
    return false;
}

/* Line i of the whole help: the keys and panes, then the prompt's help. */
static bool help_line(int i, char *buf, size_t cap, bool *title)
{
    const int n_keys = (int)(sizeof key_help / sizeof *key_help);
    *title = false;
    if (i < n_keys) {
        snprintf(buf, cap, "%s", key_help[i]);
        *title = key_help[i][0] && key_help[i][0] != ' ';
        return true;
    }
    bool ignored;
    return report_line(tui_prompt_help(), i - n_keys, buf, cap, &ignored);
}

/* The overlay's logical line i: the report when there is one, else the
 * help. */
static bool overlay_line(const tui_app *app, int i, char *buf, size_t cap, bool *title)
{
    return app->report ? report_line(app->report, i, buf, cap, title)
                       : help_line(i, buf, cap, title);
}

/* Where a line's text continues when it wraps: under its description
 * ("  KEY    description": after the first run of two or more spaces past
 * the indent), else two columns past its indent. */
static int hang_of(const char *line, int width)
{
    int indent = 0;
    while (line[indent] == ' ')
        indent++;
    const char *gap = strstr(line + indent, "  ");
    int h = indent + 2;
    if (gap) {
        int k = (int)(gap - line);
        while (line[k] == ' ')
            k++;
        if (line[k])
            h = k;
    }
    return h > width / 2 ? indent + 2 : h;
}

/* Line i of the overlay as shown width columns wide: long lines wrap at
 * word boundaries, their continuations under the description, so nothing
 * is cut at 80 columns. */
static bool shown_line(const tui_app *app, int width, int i, char *buf, size_t cap, bool *title)
{
    char line[512];
    for (int k = 0, shown = 0; overlay_line(app, k, line, sizeof line, title); k++) {
        if (tui_utf8_columns(line) <= width || width < 20) {
            if (shown++ == i) {
                snprintf(buf, cap, "%s", line);
                return true;
            }
            continue;
        }
        const int hang = hang_of(line, width);
        /* the head (indent and key) stays on the first line */
        char head[256];
        snprintf(head, sizeof head, "%.*s", hang, line);
        char parts[16][TUI_WRAP_COLS];
        const int n = tui_wrap_words(line + hang, width - hang, parts, 16);
        for (int p = 0; p < n; p++, shown++)
            if (shown == i) {
                /* the head, or as many spaces, then the words */
                size_t len = 0;
                for (int c = 0; c < hang && len + 1 < cap; c++)
                    buf[len++] = p == 0 && head[c] ? head[c] : ' ';
                for (const char *q = parts[p]; *q && len + 1 < cap; q++)
                    buf[len++] = *q;
                buf[len] = '\0';
                *title = *title && p == 0;
                return true;
            }
    }
    return false;
}

/* The overlay's width: the terminal's less a margin, at most 90 columns
 * (110 for a report, whose lines quote texts). */
static int overlay_width(const tui_app *app)
{
    const int most = app->report ? 110 : 90;
    return COLS - 4 < most ? COLS - 4 : most;
}

int help_line_count(const tui_app *app)
{
    char buf[512];
    bool title;
    int n = 0;
    const int width = overlay_width(app) - 4;
    while (shown_line(app, width, n, buf, sizeof buf, &title))
        n++;
    return n;
}

void help_draw(tui_app *app)
{
    const int lines = help_line_count(app);
    const int w = overlay_width(app), h = LINES - 2 < lines + 2 ? LINES - 2 : lines + 2;
    const int rows = h - 2;
    /* taller than the screen: it scrolls (Up/Down, PgUp/PgDn), the title says so */
    if (app->help_scroll > lines - rows)
        app->help_scroll = lines - rows > 0 ? lines - rows : 0;
    if (app->help_scroll < 0)
        app->help_scroll = 0;
    tui_rect r = {(COLS - w) / 2, (LINES - h) / 2, w, h};
    attrset(A_NORMAL);
    for (int y = r.y; y < r.y + r.h; y++)
        mvhline(y, r.x, ' ', r.w);
    char title[64];
    const char *name = app->report ? "Report" : "Help";
    if (rows < lines)
        snprintf(title, sizeof title, "%s (Up/Down/PgUp/PgDn scroll, any other key closes)",
                 name);
    else
        snprintf(title, sizeof title, "%s", name);
    tui_draw_box(app, &r, title, false);
    char line[512];
    bool is_title;
    for (int k = 0; k < rows && shown_line(app, w - 4, app->help_scroll + k, line, sizeof line,
                                           &is_title);
         k++)
        tui_put(app, r.y + 1 + k, r.x + 2, r.w - 4, is_title ? TUI_C_TITLE : TUI_C_DEFAULT, line);
}
