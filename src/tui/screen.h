/* One frame of the workbench, drawn with curses (screen.c). */
#ifndef MTBERT_TUI_SCREEN_H
#define MTBERT_TUI_SCREEN_H

#include "app.h"

/* The whole screen for the app's state, then refresh. */
void tui_draw_screen(tui_app *app);

#endif
