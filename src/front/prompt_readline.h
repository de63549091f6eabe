/* The readline side of the prompt, shared by `mtbert repl` and the
 * workbench: history kept across sessions and Tab completion. */
#ifndef MTBERT_PROMPT_READLINE_H
#define MTBERT_PROMPT_READLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "prompt.h"

/* Lines of history kept across sessions. */
#define PROMPT_HISTORY_LINES 1000

/* Finds $XDG_STATE_HOME/mtbert/history (else ~/.local/state/mtbert/history),
 * creates it and its folder, and loads it into readline's history.  false
 * when there is nowhere to keep it: the prompt then works without. */
bool prompt_history_open(char *path, size_t cap);
/* Records a line typed at the prompt (not blanks, not a repeat of the last
 * one) and appends it to path at once, so a killed session keeps it. */
void prompt_history_add(const char *line, const char *path);
/* Trims the file to PROMPT_HISTORY_LINES. */
void prompt_history_close(const char *path);

/* rl_attempted_completion_function: the names of the commands given to
 * prompt_complete_commands after a leading ':', their argument words after
 * a name (the methods after ":mode "), file names after ":save ", nothing
 * in text. */
char **prompt_complete(const char *text, int start, int end);
/* What prompt_complete offers: the commands of set up to scope upto (the
 * ones the front end runs).  Nothing is completed before it is called. */
void prompt_complete_commands(const prompt_command *const *set, prompt_scope upto);

#endif
