/* The step cursor: one step marked in every chart over steps, whose
 * legends then read out each curve's value there (cursor.c). */
#ifndef MTBERT_TUI_CURSOR_H
#define MTBERT_TUI_CURSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"

/* set/move/first: false (nothing changes) while no curve has points; the
 * step is clamped to the run's and rounded. */
bool tui_cursor_set(tui_app *app, double step);
/* By cols columns of the chart the keys follow (the zoomed one, else the
 * loss pane's), at least one step; from the newest step when hidden. */
bool tui_cursor_move(tui_app *app, int cols);
bool tui_cursor_first(tui_app *app);
void tui_cursor_hide(tui_app *app);
/* A click at screen column screen_x in a chart pane: the step there. */
bool tui_cursor_click(tui_app *app, int pane, int screen_x);
/* A chart pane, after drawing w x h inside its border, records its frame
 * for the mouse and keys. */
void tui_cursor_note_frame(tui_app *app, int pane, int w, int h, const tui_plot_series *series,
                           int n, const tui_plot_opts *opt);
/* Sets the plot options' cursor from the app's. */
void tui_cursor_apply(const tui_app *app, tui_plot_opts *o);
/* A legend label: name, or with the cursor on "name VALUE" for the point
 * nearest the cursor (at_or_before: the last at or before it, and "" when
 * there is none, for evaluations).  Returns name or buf. */
const char *tui_cursor_label(const tui_app *app, const char *name, const tui_series *s,
                             bool at_or_before, char *buf, size_t cap);
/* A pane title "name: details", or with the cursor on
 * "name at step N: how to move and leave". */
void tui_cursor_title(const tui_app *app, const char *name, const char *details, char *buf,
                      size_t cap);

#endif
