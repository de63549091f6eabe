/* The workbench's prompt commands: the list of them, and the syntax of the
 * commands only the workbench has.  No curses here, so the prompt's unit
 * test links it on its own. */
#include "command_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* "KIND" or "PANE KIND"; the pane defaults to the loss pane. */
static bool parse_scale(const char *arg, const char *end, prompt_cmd *cmd)
{
    const char *sp = arg;
    while (sp < end && !prompt_is_space(*sp))
        sp++;
    const char *kind = sp, *kind_end = end;
    prompt_trim(&kind, &kind_end);
    const char *pane = "loss";
    if (kind == kind_end) {
        kind = arg;
        kind_end = sp;
    } else if (prompt_span_is(arg, sp, "loss") || prompt_span_is(arg, sp, "weights")) {
        pane = prompt_span_is(arg, sp, "loss") ? "loss" : "weights";
    } else {
        prompt_set_error(cmd, ":scale's pane is loss or weights (cosines stay on -1..1), e.g. "
                              ":scale weights log");
        return false;
    }
    if (!prompt_span_is(kind, kind_end, "linear") && !prompt_span_is(kind, kind_end, "log") &&
        !prompt_span_is(kind, kind_end, "relative")) {
        prompt_set_error(cmd, ":scale needs linear, log or relative");
        return false;
    }
    prompt_copy_span(cmd->a, sizeof cmd->a, kind, kind_end);
    snprintf(cmd->b, sizeof cmd->b, "%s", pane);
    return true;
}

static const char *const *scale_words(void)
{
    static const char *const scales[] = {"linear", "log", "relative", NULL};
    return scales;
}

static bool parse_cursor(const char *arg, const char *end, prompt_cmd *cmd)
{
    char num[32];
    char *num_end;
    if (prompt_span_is(arg, end, "off")) {
        snprintf(cmd->a, sizeof cmd->a, "off");
        return true;
    }
    errno = 0;
    const bool copied = prompt_copy_span(num, sizeof num, arg, end);
    const long step = copied ? strtol(num, &num_end, 10) : -1;
    if (!copied || num_end == num || *num_end || errno || step < 0) {
        prompt_set_error(cmd, ":cursor needs a step (a whole number) or off");
        return false;
    }
    cmd->value = (double)step;
    return true;
}

const prompt_command tui_cmd_scale = {
    .name = ":scale", .kind = PROMPT_SCALE, .scope = PROMPT_WORKBENCH, .parse = parse_scale,
    .arg_words = scale_words,
    .usage = "  :scale [PANE] KIND\n"
             "                    a y axis: linear, log, or relative (each task's curve over\n"
             "                    its first value); PANE is loss (the default) or weights\n"
             "                    (the conflict pane's task weights, F11)\n",
};
const prompt_command tui_cmd_cursor = {
    .name = ":cursor", .kind = PROMPT_CURSOR, .scope = PROMPT_WORKBENCH, .parse = parse_cursor,
    .usage = "  :cursor STEP|off  read every chart's values at a step (Shift-Left/Right\n"
             "                    move it, a right click places it, Shift-End leaves)\n",
};

const prompt_command *const tui_prompt_commands[] = {
    &prompt_cmd_pause, &prompt_cmd_resume, &prompt_cmd_save,   &prompt_cmd_eval,
    &prompt_cmd_mode,  &prompt_cmd_lr,     &tui_cmd_scale,     &tui_cmd_cursor,
    &prompt_cmd_errors, &prompt_cmd_confusion, &prompt_cmd_help, &prompt_cmd_quit,
    NULL,
};

const char *const *tui_prompt_command_names(void)
{
    static const char *names[sizeof tui_prompt_commands / sizeof *tui_prompt_commands];
    if (!names[0])
        prompt_command_names(tui_prompt_commands, PROMPT_WORKBENCH, names,
                             sizeof names / sizeof *names);
    return names;
}

const char *tui_prompt_help(void)
{
    static char help[4096];
    if (!help[0])
        prompt_write_help(tui_prompt_commands, PROMPT_WORKBENCH,
                          "Commands (the training ones act on the run the workbench trains):",
                          help, sizeof help);
    return help;
}
