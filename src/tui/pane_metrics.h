/* Metrics pane: progress, speed, settings and validation results
 * (pane_metrics.c). */
#ifndef MTBERT_TUI_PANE_METRICS_H
#define MTBERT_TUI_PANE_METRICS_H

#include "app.h"

void pane_metrics_draw(tui_app *app, const tui_rect *r);

#endif
