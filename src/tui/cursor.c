/* The step cursor: a step chosen with Shift-Left/Right, a right click or
 * :cursor STEP, marked in every chart over steps, whose legends then read
 * out each curve's value there.  The charts report where they drew their
 * x axis (tui_cursor_note_frame), so a column on the screen maps back to
 * the step it shows. */
#include <math.h>
#include <stdio.h>

#include "cursor.h"

/* The run's first and last step over the curves that have points. */
static bool step_range(const tui_app *app, double *first, double *last)
{
    bool any = false;
    const tui_series *all[MTB_N_TASKS + MTB_MAX_PAIRS];
    int n = 0;
    for (int t = 0; t < MTB_N_TASKS; t++)
        all[n++] = &app->data.loss[t];
    for (int p = 0; p < MTB_MAX_PAIRS; p++)
        all[n++] = &app->data.cos[p];
    for (int i = 0; i < n; i++) {
        double x0, x1;
        if (tui_series_len(all[i]) == 0)
            continue;
        tui_series_get(all[i], 0, &x0, NULL);
        tui_series_last(all[i], &x1, NULL);
        if (!any || x0 < *first)
            *first = x0;
        if (!any || x1 > *last)
            *last = x1;
        any = true;
    }
    return any;
}

bool tui_cursor_set(tui_app *app, double step)
{
    double first, last;
    if (!step_range(app, &first, &last))
        return false;
    if (step < first)
        step = first;
    if (step > last)
        step = last;
    app->cursor_on = true;
    app->cursor_step = floor(step + 0.5);
    app->dirty = true;
    return true;
}

void tui_cursor_hide(tui_app *app)
{
    app->cursor_on = false;
    app->dirty = true;
}

/* The chart whose columns the keys step through: the zoomed one, else the
 * loss pane's, else the conflict pane's. */
static const tui_plot_frame_info *key_frame(const tui_app *app)
{
    if (app->zoomed >= 0 && app->zoomed < TUI_N_PANES && app->frame_ok[app->zoomed])
        return &app->frame[app->zoomed];
    if (app->frame_ok[TUI_PANE_LOSS])
        return &app->frame[TUI_PANE_LOSS];
    if (app->frame_ok[TUI_PANE_CONFLICT])
        return &app->frame[TUI_PANE_CONFLICT];
    return NULL;
}

bool tui_cursor_move(tui_app *app, int cols)
{
    double first, last;
    if (!step_range(app, &first, &last))
        return false;
    const tui_plot_frame_info *f = key_frame(app);
    /* one column's worth of steps, and never less than one step */
    double per_col = f && f->cols > 0 ? (f->xhi - f->xlo) / f->cols : (last - first) / 50;
    if (per_col < 1.0)
        per_col = 1.0;
    const double from = app->cursor_on ? app->cursor_step : last;
    double to = from + cols * per_col;
    /* a move always moves while there is room, however the step rounds */
    if (cols < 0 && floor(to + 0.5) >= from)
        to = from - 1;
    if (cols > 0 && floor(to + 0.5) <= from)
        to = from + 1;
    return tui_cursor_set(app, to);
}

bool tui_cursor_first(tui_app *app)
{
    return tui_cursor_set(app, -INFINITY); /* clamped to the first step */
}

void tui_cursor_note_frame(tui_app *app, int pane, int w, int h, const tui_plot_series *series,
                           int n, const tui_plot_opts *opt)
{
    app->frame_ok[pane] = tui_plot_frame(w, h, series, n, opt, &app->frame[pane]);
}

bool tui_cursor_click(tui_app *app, int pane, int screen_x)
{
    if (pane < 0 || pane >= TUI_N_PANES || !app->frame_ok[pane])
        return false;
    const tui_plot_frame_info *f = &app->frame[pane];
    /* the chart's column 0 is the pane's first column inside its border */
    return tui_cursor_set(app, tui_plot_frame_x(f, screen_x - (app->layout.pane[pane].x + 1)));
}

void tui_cursor_apply(const tui_app *app, tui_plot_opts *o)
{
    o->cursor = app->cursor_on;
    o->cursor_x = app->cursor_step;
}

const char *tui_cursor_label(const tui_app *app, const char *name, const tui_series *s,
                             bool at_or_before, char *buf, size_t cap)
{
    if (!app->cursor_on)
        return name;
    double x, y;
    if (!tui_series_nearest(s, app->cursor_step, at_or_before, &x, &y)) {
        /* a validation series before its first evaluation: nothing to read */
        snprintf(buf, cap, "%s", at_or_before ? "" : name);
        return buf;
    }
    snprintf(buf, cap, "%s %.3g", name, y);
    return buf;
}

void tui_cursor_title(const tui_app *app, const char *name, const char *details, char *buf,
                      size_t cap)
{
    if (app->cursor_on)
        snprintf(buf, cap, "%s at step %.0f: %s", name, app->cursor_step,
                 "Shift-Left/Right move, Shift-End leaves");
    else
        snprintf(buf, cap, "%s%s%s", name, details[0] ? ": " : "", details);
}
