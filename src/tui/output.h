/* The prompt's output area: the answers and messages shown above the
 * input line, newest last (output.c). */
#ifndef MTBERT_TUI_OUTPUT_H
#define MTBERT_TUI_OUTPUT_H

#include "app.h"

void tui_output(tui_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds text a line per newline. */
void tui_output_text(tui_app *app, const char *text);

#endif
