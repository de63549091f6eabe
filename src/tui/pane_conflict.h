/* Gradient-conflict pane: task pairs' cosines, task weights or served
 * tasks over time, as F11 picks (pane_conflict.c). */
#ifndef MTBERT_TUI_PANE_CONFLICT_H
#define MTBERT_TUI_PANE_CONFLICT_H

#include "app.h"

void pane_conflict_draw(tui_app *app, const tui_rect *r);

#endif
