/* Curses helpers the panes share: theme slots to curses attributes, boxes
 * with titles, text clipped to a width, and canvases copied to the screen. */
#ifndef MTBERT_TUI_DRAW_H
#define MTBERT_TUI_DRAW_H

#include <stdbool.h>

#include "app.h"

int tui_attr_for(const tui_app *app, int slot);
void tui_draw_box(const tui_app *app, const tui_rect *r, const char *title, bool zoomed);
void tui_blit(const tui_app *app, const tui_canvas *c, int x, int y, int w, int h);
void tui_put(const tui_app *app, int y, int x, int w, int slot, const char *text);
/* Gives the shared canvas w x h cells; nonzero when out of memory. */
int tui_canvas_fit(tui_canvas *c, int w, int h);

#endif
