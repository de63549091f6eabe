/* Prompt pane: the latest answers and the input line (pane_prompt.c). */
#ifndef MTBERT_TUI_PANE_PROMPT_H
#define MTBERT_TUI_PANE_PROMPT_H

#include "app.h"

void pane_prompt_draw(tui_app *app, const tui_rect *r); /* leaves the cursor on the input */

#endif
