/* Loss pane: each task's training and validation loss (pane_loss.c). */
#ifndef MTBERT_TUI_PANE_LOSS_H
#define MTBERT_TUI_PANE_LOSS_H

#include "app.h"

void pane_loss_draw(tui_app *app, const tui_rect *r);

#endif
