/* Log pane: the trainer's messages, newest at the bottom (pane_log.c). */
#ifndef MTBERT_TUI_PANE_LOG_H
#define MTBERT_TUI_PANE_LOG_H

#include "app.h"

void pane_log_draw(tui_app *app, const tui_rect *r);

#endif
