/* The prompt commands every front end shares: their names, how their
 * arguments read, and their lines of the help.  What a command does is the
 * front end's (src/tui/commands.c, src/cli/cmd_repl.c). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtbert/data.h"
#include "mtbert/merge.h"
#include "prompt.h"

static bool parse_save(const char *arg, const char *end, prompt_cmd *cmd)
{
    if (!prompt_copy_span(cmd->a, sizeof cmd->a, arg, end)) {
        cmd->too_long = true;
        prompt_set_error(cmd, ":save: the folder name is too long (at most %zu bytes)",
                         sizeof cmd->a - 1);
        return false;
    }
    return true;
}

static bool parse_mode(const char *arg, const char *end, prompt_cmd *cmd)
{
    char names[256];
    if (!prompt_copy_span(cmd->a, sizeof cmd->a, arg, end) || !mtb_merge_find(cmd->a)) {
        cmd->a[0] = '\0';
        prompt_set_error(cmd, ":mode needs a method: %s", mtb_merge_names(names, sizeof names));
        return false;
    }
    return true;
}

/* The methods, for Tab after ":mode ". */
static const char *const *mode_words(void)
{
    static const char *modes[32];
    if (!modes[0])
        for (int i = 0; i < mtb_merge_count() && i < 31; i++)
            modes[i] = mtb_merge_at(i)->name;
    return modes;
}

static bool parse_lr(const char *arg, const char *end, prompt_cmd *cmd)
{
    /* strtod needs a terminated string; a number never needs 64 bytes. */
    char num[64];
    char *num_end;
    double v = 0.0;
    bool good = prompt_copy_span(num, sizeof num, arg, end);
    if (good) {
        errno = 0;
        v = strtod(num, &num_end);
        /* The bounds of train --lr: a rate above 10 only ever diverges. */
        good = num_end != num && *num_end == '\0' && errno == 0 && v > 0.0 && v <= 10.0;
    }
    if (!good) {
        prompt_set_error(cmd, ":lr needs a number in (0, 10]");
        return false;
    }
    cmd->value = v;
    return true;
}

/* "TASK" or "TASK N", split at plain spaces. */
static bool parse_errors(const char *arg, const char *end, prompt_cmd *cmd)
{
    const char *sp = arg;
    while (sp < end && *sp != ' ')
        sp++;
    char task[16] = "";
    if (sp - arg < (long)sizeof task)
        memcpy(task, arg, (size_t)(sp - arg)), task[sp - arg] = '\0';
    cmd->value = 5;
    const char *num = sp;
    while (num < end && *num == ' ')
        num++;
    char nbuf[16] = "";
    if (num < end && end - num < (long)sizeof nbuf)
        memcpy(nbuf, num, (size_t)(end - num)), nbuf[end - num] = '\0';
    char *num_end = NULL;
    const long n = nbuf[0] ? strtol(nbuf, &num_end, 10) : 5;
    if (mtb_task_parse(task) < 0 || (nbuf[0] && (*num_end || n < 1 || n > 50)) ||
        (num < end && !nbuf[0])) {
        prompt_set_error(cmd, ":errors needs a task (sst, para or sts) and at most 50, e.g. "
                              ":errors sts 10");
        return false;
    }
    snprintf(cmd->a, sizeof cmd->a, "%s", task);
    cmd->value = (double)n;
    return true;
}

/* In the order of the workbench's help; each front end lists its own. */
const prompt_command prompt_cmd_pause = {
    .name = ":pause", .kind = PROMPT_PAUSE, .scope = PROMPT_TRAINING,
    .usage = "  :pause            pause training\n",
};
const prompt_command prompt_cmd_resume = {
    .name = ":resume", .kind = PROMPT_RESUME, .scope = PROMPT_TRAINING,
    .usage = "  :resume           resume training\n",
};
const prompt_command prompt_cmd_save = {
    .name = ":save", .kind = PROMPT_SAVE, .scope = PROMPT_TRAINING, .parse = parse_save,
    .arg_is_path = true,
    .usage = "  :save [DIR]       save a checkpoint to the run's output folder, or to DIR\n",
};
const prompt_command prompt_cmd_eval = {
    .name = ":eval", .kind = PROMPT_EVAL, .scope = PROMPT_TRAINING,
    .usage = "  :eval             evaluate on the dev sets now\n",
};
const prompt_command prompt_cmd_mode = {
    .name = ":mode", .kind = PROMPT_MODE, .scope = PROMPT_TRAINING, .parse = parse_mode,
    .arg_words = mode_words,
    .usage = "  :mode METHOD      switch how the task gradients are combined: sum, pcgrad,\n"
             "                    mgda, cagrad, gradvac, imtl, nashmtl, aligned, upgrad,\n"
             "                    uw, dwa, famo (see mtbert train --help)\n",
};
const prompt_command prompt_cmd_lr = {
    .name = ":lr", .kind = PROMPT_LR, .scope = PROMPT_TRAINING, .parse = parse_lr,
    .usage = "  :lr VALUE         set the peak learning rate, e.g. :lr 2e-5\n",
};
const prompt_command prompt_cmd_errors = {
    .name = ":errors", .kind = PROMPT_ERRORS, .scope = PROMPT_WORKBENCH, .parse = parse_errors,
    .usage = "  :errors TASK [N]  the N (5) dev examples of sst, para or sts the model gets\n"
             "                    most wrong, with their texts\n",
};
const prompt_command prompt_cmd_confusion = {
    .name = ":confusion", .kind = PROMPT_CONFUSION, .scope = PROMPT_WORKBENCH,
    .usage = "  :confusion        SST's confusion matrix on the dev set\n",
};
const prompt_command prompt_cmd_help = {
    .name = ":help", .kind = PROMPT_HELP, .scope = PROMPT_ANYWHERE,
    .usage = "  :help             show this help\n",
};
const prompt_command prompt_cmd_quit = {
    .name = ":quit", .alias = ":q", .kind = PROMPT_QUIT, .scope = PROMPT_ANYWHERE,
    .usage = "  :quit, :q         leave (Ctrl-D too)\n",
};
