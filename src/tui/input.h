/* The prompt's input line: GNU readline in callback mode, fed keys by the
 * main loop (input.c). */
#ifndef MTBERT_TUI_INPUT_H
#define MTBERT_TUI_INPUT_H

#include <stdbool.h>

#include "app.h"

void tui_input_init(tui_app *app);
void tui_input_done(tui_app *app);
void tui_input_key(tui_app *app, int is_key_code, unsigned int ch);
bool tui_input_line_empty(void);
const char *tui_input_prompt(void);
const char *tui_input_buffer(void);
int tui_input_point(void); /* the edit point, a byte offset into the buffer */

#endif
