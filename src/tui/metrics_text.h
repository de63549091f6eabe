/* The Metrics pane's text: what it says for a run, fitted to the pane.
 * Pure (no curses), so the text at every size can be tested exactly. */
#ifndef MTBERT_TUI_METRICS_TEXT_H
#define MTBERT_TUI_METRICS_TEXT_H

#include <stdbool.h>

#include "tui_data.h"

#define TUI_METRICS_MAX_LINES 16

typedef struct tui_text_line {
    char text[96];
    short slot; /* a tui_slot */
} tui_text_line;

/* The lines for a pane of width columns and rows rows, in reading order.
 * Every line fits the width whole (compact wordings where the full ones do
 * not); when rows are short, the least needed lines go first (blank
 * separators, then the losses, the mode, the speed), never the step or the
 * dev metrics.  Returns the number of lines. */
int tui_metrics_text(const tui_data *d, bool has_validation, int width, int rows,
                     tui_text_line *out);

#endif
