/* The workbench's prompt commands: every command, in the order its help
 * lists them, the shared ones of front/ and its own (:scale, :cursor). */
#ifndef MTBERT_TUI_COMMAND_TABLE_H
#define MTBERT_TUI_COMMAND_TABLE_H

#include "../front/prompt.h"

/* :scale [loss|weights] linear|log|relative: a is the scale, b the pane.
 * :cursor STEP|off: a is "off", or value the step (>= 0). */
extern const prompt_command tui_cmd_scale, tui_cmd_cursor;

/* NULL-terminated.  The repl parses with it too, so that it explains a
 * workbench command the way the workbench would, before refusing it. */
extern const prompt_command *const tui_prompt_commands[];

/* The names Tab completes, NULL-terminated (":q" is left out, an alias of
 * :quit). */
const char *const *tui_prompt_command_names(void);
/* The whole help of the workbench's prompt, each line ending in '\n'. */
const char *tui_prompt_help(void);

#endif
