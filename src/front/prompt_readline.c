/* The prompt's readline side: the history file across sessions, and Tab
 * completion from a front end's command table. */
#include "prompt_readline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "front.h"
#include "prompt.h"

/* $XDG_STATE_HOME/mtbert/history (the spec ignores a relative value), else
 * ~/.local/state/mtbert/history; its folder is created.  false when there
 * is nowhere to keep it: the prompt then works without saved history. */
static bool history_path(char *buf, size_t cap)
{
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (state && state[0] == '/')
        n = snprintf(buf, cap, "%s/mtbert", state);
    else if (home && home[0])
        n = snprintf(buf, cap, "%s/.local/state/mtbert", home);
    else
        return false;
    if (n < 0 || (size_t)n + sizeof "/history" > cap || !mtb_mkdir_p(buf, 0700))
        return false;
    strcat(buf, "/history");
    return true;
}

/* What Tab offers for the word being completed. */
static const char *const *completion_words;

static char *completion_generator(const char *text, int state)
{
    static size_t next, len;
    if (!state) {
        next = 0;
        len = strlen(text);
    }
    while (completion_words[next]) {
        const char *w = completion_words[next++];
        if (strncmp(w, text, len) == 0)
            return strdup(w); /* readline frees it */
    }
    return NULL;
}

/* The front end's commands, and the widest scope of those it runs. */
static const prompt_command *const *commands;
static prompt_scope runs_upto;
static const char *command_names[64];

void prompt_complete_commands(const prompt_command *const *set, prompt_scope upto)
{
    commands = set;
    runs_upto = upto;
    prompt_command_names(set, upto, command_names, sizeof command_names / sizeof *command_names);
}

/* Whether the line (its leading blanks skipped) starts with c's name and
 * then a space: its argument is being typed. */
static bool typing_argument_of(const char *line, const prompt_command *c)
{
    size_t n = strlen(c->name);
    return strncmp(line, c->name, n) == 0 && line[n] == ' ';
}

char **prompt_complete(const char *text, int start, int end)
{
    (void)end;
    if (!commands)
        return NULL;
    int first = 0;
    while (rl_line_buffer[first] == ' ' || rl_line_buffer[first] == '\t')
        first++;
    const char *line = rl_line_buffer + first;
    for (const prompt_command *const *c = commands; *c; c++)
        if ((*c)->arg_is_path && strncmp(line, (*c)->name, strlen((*c)->name)) == 0 &&
            start > first)
            return NULL; /* readline's own file name completion */
    /* Sentences are not completed at all (no file names). */
    rl_attempted_completion_over = 1;
    completion_words = NULL;
    if (start == first && text[0] == ':')
        completion_words = command_names;
    else
        for (const prompt_command *const *c = commands; *c && !completion_words; c++)
            if ((*c)->scope <= runs_upto && (*c)->arg_words && typing_argument_of(line, *c))
                completion_words = (*c)->arg_words();
    if (!completion_words)
        return NULL;
    return rl_completion_matches(text, completion_generator);
}

static bool same_as_last_entry(const char *line)
{
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    return last && strcmp(last->line, line) == 0;
}

bool prompt_history_open(char *path, size_t cap)
{
    using_history();
    stifle_history(PROMPT_HISTORY_LINES);
    if (!history_path(path, cap))
        return false;
    /* append_history() needs the file to exist. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0)
        close(fd);
    read_history(path);
    return true;
}

void prompt_history_add(const char *line, const char *path)
{
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p || same_as_last_entry(line))
        return;
    /* A line too long to take is refused, and kept out of the history. */
    prompt_cmd cmd;
    prompt_parse(line, &cmd); /* only texts and :save DIR can be too long */
    if (cmd.too_long)
        return;
    add_history(line);
    if (path)
        append_history(1, path);
}

void prompt_history_close(const char *path)
{
    history_truncate_file(path, PROMPT_HISTORY_LINES);
}

