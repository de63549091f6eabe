/* What a line typed at the workbench's prompt does: sentences and pairs go
 * to the scoring thread, :commands to the trainer.  The syntax of the
 * commands is in command_table.c; here is one handler per command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../front/front.h"
#include "../front/prompt.h"
#include "commands.h"
#include "cursor.h"
#include "output.h"
#include "scoring.h"
#include "command_table.h"

typedef void (*command_handler)(tui_app *app, const prompt_cmd *cmd);

static void score_text(tui_app *app, const prompt_cmd *cmd)
{
    if (!tui_scoring_submit(app, cmd->a, cmd->kind == PROMPT_PAIR ? cmd->b : NULL))
        tui_output(app, "still scoring the previous line; try again in a moment");
}

static void pause_training(tui_app *app, const prompt_cmd *cmd)
{
    (void)cmd;
    mtb_trainer_pause(app->opt.trainer);
    tui_output(app, app->data.paused ? "already paused" : "pausing after this step");
}

static void resume_training(tui_app *app, const prompt_cmd *cmd)
{
    (void)cmd;
    mtb_trainer_resume(app->opt.trainer);
    tui_output(app, app->data.paused ? "resuming" : "not paused");
}

static void save_checkpoint(tui_app *app, const prompt_cmd *cmd)
{
    if (!cmd->a[0] && !app->opt.out_dir) {
        tui_output(app, "error: no folder to save to: use :save DIR");
        return;
    }
    if (cmd->a[0]) {
        mtb_error err = {0};
        if (fe_check_save_dir(cmd->a, app->opt.out_dir, app->saved_to, &err)) {
            tui_output(app, "error: %s", err.msg);
            return;
        }
        snprintf(app->saved_to, sizeof app->saved_to, "%s", cmd->a);
    }
    mtb_trainer_request_save(app->opt.trainer, cmd->a);
    tui_output(app, "saving to %s after this step", cmd->a[0] ? cmd->a : app->opt.out_dir);
}

static void evaluate(tui_app *app, const prompt_cmd *cmd)
{
    (void)cmd;
    if (!app->has_validation) {
        tui_output(app, "no validation data to evaluate on: give --sst-dev, --para-dev, "
                        "--sts-dev or --val-split F");
        return;
    }
    mtb_trainer_request_eval(app->opt.trainer);
    tui_output(app, "evaluating after this step");
}

static void switch_mode(tui_app *app, const prompt_cmd *cmd)
{
    mtb_mode mode;
    mtb_task task;
    if (mtb_mode_parse(cmd->a, &mode, &task) || mode == MTB_MODE_SINGLE)
        tui_output(app, "error: :mode takes a multitask method (:help lists them)");
    else if (!mtb_trainer_set_mode(app->opt.trainer, mode))
        tui_output(app, "error: a single-task run cannot switch modes");
    else {
        snprintf(app->data.mode, sizeof app->data.mode, "%.31s", cmd->a);
        tui_output(app, "switching to %s after this step", cmd->a);
    }
}

static void set_lr(tui_app *app, const prompt_cmd *cmd)
{
    mtb_trainer_set_lr(app->opt.trainer, (float)cmd->value);
    tui_output(app, "peak learning rate %g from the next step", cmd->value);
}

static void set_scale(tui_app *app, const prompt_cmd *cmd)
{
    const int scale = strcmp(cmd->a, "log") == 0        ? TUI_SCALE_LOG
                      : strcmp(cmd->a, "relative") == 0 ? TUI_SCALE_RELATIVE
                                                        : TUI_SCALE_LINEAR;
    if (strcmp(cmd->b, "weights") == 0) {
        app->weights_scale = scale;
        app->conflict_view = TUI_CONFLICT_WEIGHTS; /* show what changed */
        tui_output(app, "task weights: %s scale", cmd->a);
    } else {
        app->loss_scale = scale;
        tui_output(app, "loss pane: %s scale", cmd->a);
    }
}

static void place_cursor(tui_app *app, const prompt_cmd *cmd)
{
    if (strcmp(cmd->a, "off") == 0) {
        tui_cursor_hide(app);
        tui_output(app, "cursor off: the charts follow the run");
    } else if (!tui_cursor_set(app, cmd->value)) {
        tui_output(app, "no curves yet for the cursor to read");
    } else {
        tui_output(app, "cursor at step %.0f%s: the legends show the values there",
                   app->cursor_step,
                   app->cursor_step != cmd->value ? " (the nearest the run has)" : "");
    }
}

/* :errors and :confusion: a report on a dev set, from the scoring thread. */
static void report_on_dev_set(tui_app *app, const prompt_cmd *cmd)
{
    const bool confusion = cmd->kind == PROMPT_CONFUSION;
    const int task = confusion ? MTB_TASK_SST : mtb_task_parse(cmd->a);
    if (!mtb_trainer_dev_data(app->opt.trainer, (mtb_task)task)) {
        tui_output(app, "no %s validation data: give --%s-dev or --val-split F",
                   mtb_task_name((mtb_task)task), mtb_task_name((mtb_task)task));
        return;
    }
    if (!tui_scoring_submit_report(app, confusion ? TUI_JOB_CONFUSION : TUI_JOB_ERRORS, task,
                                   (int)cmd->value))
        tui_output(app, "still scoring the previous line; try again in a moment");
    else
        tui_output(app, "running the model over the %s dev set...",
                   mtb_task_name((mtb_task)task));
}

static void open_help(tui_app *app, const prompt_cmd *cmd)
{
    (void)cmd;
    /* the whole help, in the overlay F1 opens; the 3-line output area
     * would show only its end */
    free(app->report);
    app->report = NULL;
    app->help_open = true;
    app->help_scroll = 0;
    tui_output(app, "help is open: any key closes it (F1 opens it again)");
}

static void quit(tui_app *app, const prompt_cmd *cmd)
{
    (void)cmd;
    app->quit_requested = true;
}

static void show_error(tui_app *app, const prompt_cmd *cmd)
{
    tui_output(app, "error: %s", cmd->error);
}

/* Every command of tui_prompt_commands has one; a blank line none. */
static const command_handler handlers[PROMPT_KINDS] = {
    [PROMPT_TEXT] = score_text,          [PROMPT_PAIR] = score_text,
    [PROMPT_PAUSE] = pause_training,     [PROMPT_RESUME] = resume_training,
    [PROMPT_SAVE] = save_checkpoint,     [PROMPT_EVAL] = evaluate,
    [PROMPT_MODE] = switch_mode,         [PROMPT_LR] = set_lr,
    [PROMPT_SCALE] = set_scale,          [PROMPT_CURSOR] = place_cursor,
    [PROMPT_ERRORS] = report_on_dev_set, [PROMPT_CONFUSION] = report_on_dev_set,
    [PROMPT_HELP] = open_help,           [PROMPT_QUIT] = quit,
    [PROMPT_ERROR] = show_error,
};

void tui_handle_line(tui_app *app, const char *line)
{
    prompt_cmd cmd;
    prompt_parse_in(tui_prompt_commands, line, &cmd);
    /* the input above its answer, so the output area reads as a history */
    if (cmd.kind != PROMPT_EMPTY)
        tui_output(app, "> %.*s", TUI_OUTPUT_WIDTH - 8, line);
    /* Once training has ended the training commands have nothing to act on. */
    const bool over = app->data.done || app->quitting;
    if (over && cmd.command && cmd.command->scope == PROMPT_TRAINING)
        tui_output(app, "training has ended; the prompt still scores sentences");
    else if (handlers[cmd.kind])
        handlers[cmd.kind](app, &cmd);
    app->dirty = true;
}
