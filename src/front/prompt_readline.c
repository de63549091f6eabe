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
#include "mtbert/merge.h"
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

/* What Tab offers: command names for a first word starting with ':', the
 * methods after ":mode ". */
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

static const char *const *command_words;

void prompt_complete_commands(const char *const *names)
{
    command_words = names;
}

char **prompt_complete(const char *text, int start, int end)
{
    static const char *const scales[] = {"linear", "log", "relative", NULL};
    static const char *modes[32];
    if (!modes[0])
        for (int i = 0; i < mtb_merge_count() && i < 31; i++)
            modes[i] = mtb_merge_at(i)->name;
    (void)end;
    int first = 0;
    while (rl_line_buffer[first] == ' ' || rl_line_buffer[first] == '\t')
        first++;
    const char *line = rl_line_buffer + first;
    if (strncmp(line, ":save", 5) == 0 && start > first)
        return NULL; /* readline's own file name completion for DIR */
    /* Sentences are not completed at all (no file names). */
    rl_attempted_completion_over = 1;
    if (start == first && text[0] == ':')
        completion_words = command_words ? command_words : prompt_command_names();
    else if (strncmp(line, ":mode ", 6) == 0 && !command_words)
        completion_words = modes;
    else if (strncmp(line, ":scale ", 7) == 0 && !command_words)
        completion_words = scales;
    else
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
    prompt_parse(line, &cmd);
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

