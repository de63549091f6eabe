/* Layers pane: where in the encoder the tasks disagree, at the latest
 * step or one task pair over time, as F12 picks (pane_layers.c). */
#ifndef MTBERT_TUI_PANE_LAYERS_H
#define MTBERT_TUI_PANE_LAYERS_H

#include "app.h"

void pane_layers_draw(tui_app *app, const tui_rect *r);

#endif
