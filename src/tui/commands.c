/* What a line typed at the workbench's prompt does: sentences and pairs go
 * to the scoring thread, :commands to the trainer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../front/front.h"
#include "../front/prompt.h"
#include "commands.h"
#include "cursor.h"
#include "output.h"
#include "scoring.h"

static bool training_over(tui_app *app)
{
    if (app->data.done || app->quitting) {
        tui_output(app, "training has ended; the prompt still scores sentences");
        return true;
    }
    return false;
}

void tui_handle_line(tui_app *app, const char *line)
{
    prompt_cmd cmd;
    prompt_parse(line, &cmd);
    mtb_trainer *tr = app->opt.trainer;
    /* the input above its answer, so the output area reads as a history */
    if (cmd.kind != PROMPT_EMPTY)
        tui_output(app, "> %.*s", TUI_OUTPUT_WIDTH - 8, line);
    switch (cmd.kind) {
    case PROMPT_EMPTY: break;
    case PROMPT_TEXT:
    case PROMPT_PAIR:
        if (!tui_scoring_submit(app, cmd.a, cmd.kind == PROMPT_PAIR ? cmd.b : NULL))
            tui_output(app, "still scoring the previous line; try again in a moment");
        break;
    case PROMPT_PAUSE:
        if (!training_over(app)) {
            mtb_trainer_pause(tr);
            tui_output(app, app->data.paused ? "already paused" : "pausing after this step");
        }
        break;
    case PROMPT_RESUME:
        if (!training_over(app)) {
            mtb_trainer_resume(tr);
            tui_output(app, app->data.paused ? "resuming" : "not paused");
        }
        break;
    case PROMPT_SAVE:
        if (training_over(app))
            break;
        if (!cmd.a[0] && !app->opt.out_dir) {
            tui_output(app, "error: no folder to save to: use :save DIR");
            break;
        }
        if (cmd.a[0]) {
            mtb_error err = {0};
            if (fe_check_save_dir(cmd.a, app->opt.out_dir, app->saved_to, &err)) {
                tui_output(app, "error: %s", err.msg);
                break;
            }
            snprintf(app->saved_to, sizeof app->saved_to, "%s", cmd.a);
        }
        mtb_trainer_request_save(tr, cmd.a);
        tui_output(app, "saving to %s after this step", cmd.a[0] ? cmd.a : app->opt.out_dir);
        break;
    case PROMPT_EVAL:
        if (training_over(app))
            break;
        if (!app->has_validation) {
            tui_output(app, "no validation data to evaluate on: give --sst-dev, --para-dev, "
                            "--sts-dev or --val-split F");
            break;
        }
        mtb_trainer_request_eval(tr);
        tui_output(app, "evaluating after this step");
        break;
    case PROMPT_MODE: {
        mtb_mode mode;
        mtb_task task;
        if (training_over(app))
            break;
        if (mtb_mode_parse(cmd.a, &mode, &task) || mode == MTB_MODE_SINGLE)
            tui_output(app, "error: :mode takes a multitask method (:help lists them)");
        else if (!mtb_trainer_set_mode(tr, mode))
            tui_output(app, "error: a single-task run cannot switch modes");
        else {
            snprintf(app->data.mode, sizeof app->data.mode, "%.31s", cmd.a);
            tui_output(app, "switching to %s after this step", cmd.a);
        }
        break;
    }
    case PROMPT_LR:
        if (!training_over(app)) {
            mtb_trainer_set_lr(tr, (float)cmd.value);
            tui_output(app, "peak learning rate %g from the next step", cmd.value);
        }
        break;
    case PROMPT_SCALE: {
        const int scale = strcmp(cmd.a, "log") == 0        ? TUI_SCALE_LOG
                          : strcmp(cmd.a, "relative") == 0 ? TUI_SCALE_RELATIVE
                                                           : TUI_SCALE_LINEAR;
        if (strcmp(cmd.b, "weights") == 0) {
            app->weights_scale = scale;
            app->conflict_view = TUI_CONFLICT_WEIGHTS; /* show what changed */
            tui_output(app, "task weights: %s scale", cmd.a);
        } else {
            app->loss_scale = scale;
            tui_output(app, "loss pane: %s scale", cmd.a);
        }
        break;
    }
    case PROMPT_CURSOR:
        if (strcmp(cmd.a, "off") == 0) {
            tui_cursor_hide(app);
            tui_output(app, "cursor off: the charts follow the run");
        } else if (!tui_cursor_set(app, cmd.value)) {
            tui_output(app, "no curves yet for the cursor to read");
        } else {
            tui_output(app, "cursor at step %.0f%s: the legends show the values there",
                       app->cursor_step,
                       app->cursor_step != cmd.value ? " (the nearest the run has)" : "");
        }
        break;
    case PROMPT_ERRORS:
    case PROMPT_CONFUSION: {
        const int task = cmd.kind == PROMPT_CONFUSION ? MTB_TASK_SST : mtb_task_parse(cmd.a);
        if (!mtb_trainer_dev_data(tr, (mtb_task)task)) {
            tui_output(app, "no %s validation data: give --%s-dev or --val-split F",
                       mtb_task_name((mtb_task)task), mtb_task_name((mtb_task)task));
            break;
        }
        if (!tui_scoring_submit_report(app, cmd.kind == PROMPT_CONFUSION ? TUI_JOB_CONFUSION
                                                                          : TUI_JOB_ERRORS,
                                       task, (int)cmd.value))
            tui_output(app, "still scoring the previous line; try again in a moment");
        else
            tui_output(app, "running the model over the %s dev set...",
                       mtb_task_name((mtb_task)task));
        break;
    }
    case PROMPT_HELP:
        /* the whole help, in the overlay F1 opens; the 3-line output area
         * would show only its end */
        free(app->report);
        app->report = NULL;
        app->help_open = true;
        app->help_scroll = 0;
        tui_output(app, "help is open: any key closes it (F1 opens it again)");
        break;
    case PROMPT_QUIT: app->quit_requested = true; break;
    case PROMPT_ERROR: tui_output(app, "error: %s", cmd.error); break;
    }
    app->dirty = true;
}
