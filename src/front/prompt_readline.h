/* The readline side of the prompt, shared by `mtbert repl` and the
 * workbench: history kept across sessions and Tab completion. */
#ifndef MTBERT_PROMPT_READLINE_H
#define MTBERT_PROMPT_READLINE_H

#include <stdbool.h>
#include <stddef.h>

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

/* rl_attempted_completion_function: command names after a leading ':',
 * the modes after ":mode ", file names after ":save ", nothing in text. */
char **prompt_complete(const char *text, int start, int end);
/* The command names prompt_complete offers (default: every command, as
 * prompt_command_names). */
void prompt_complete_commands(const char *const *names);

#endif
