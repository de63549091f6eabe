/* The help overlay (F1 or ?), which also shows reports such as :errors
 * (help.c). */
#ifndef MTBERT_TUI_HELP_H
#define MTBERT_TUI_HELP_H

#include "app.h"

void help_draw(tui_app *app);
/* Lines the overlay takes at the terminal's width, wrapped lines counted. */
int help_line_count(const tui_app *app);

#endif
