/* What a line typed at the workbench's prompt does (commands.c). */
#ifndef MTBERT_TUI_COMMANDS_H
#define MTBERT_TUI_COMMANDS_H

#include "app.h"

void tui_handle_line(tui_app *app, const char *line);

#endif
