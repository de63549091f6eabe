/* mtbert tui: the workbench on any run `train` accepts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tui/tui.h"
#include "cli.h"
#include "run_setup.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert tui [--theme NAME|FILE] [--glyphs braille|block|ascii]\n"
            "                  [--smoothing A] [--compare RUN]... [TRAIN OPTIONS]\n"
            "\n"
            "Opens the workbench: live loss curves per task, gradient-conflict curves and\n"
            "per-layer cosines, metrics, a log, and a prompt that scores sentences while the\n"
            "model trains.  Takes every option of 'mtbert train' (see below), including\n"
            "--resume DIR.  Without arguments, 'mtbert' opens it on the bundled demo.\n"
            "\n"
            "      --theme NAME|FILE    colour theme: default, light, mono, or a .theme file\n"
            "                           (also from $XDG_CONFIG_HOME/mtbert/config)\n"
            "      --glyphs MODE        braille (default on UTF-8), block or ascii\n"
            "      --smoothing A        EMA weight of new points in the curves, (0, 1];\n"
            "                           1 = raw (default 0.3)\n"
            "      --compare RUN        overlay a saved run's curves on the loss pane, one\n"
            "                           task at a time (Ctrl-O: next task, off); RUN is a\n"
            "                           run folder or its metrics file; up to 4\n"
            "With --resume, the run's curves are redrawn from its metrics file.  With\n"
            "validation data and no --eval-every, it evaluates every twentieth of the run\n"
            "(at least 10 steps apart).\n"
            "\n");
    run_config_print_options(out);
    fprintf(out, "  -h, --help               show this help\n");
}

/* The metrics files of the --compare runs, and their names in the legend
 * (a run folder's name; for RUN/metrics.jsonl, RUN's). */
static char compare_paths[TUI_MAX_COMPARE][4200];
static char compare_names[TUI_MAX_COMPARE][64];

static int add_compare(tui_options *o, const char *run)
{
    if (o->n_compare >= TUI_MAX_COMPARE)
        return fe_usage_error("tui", "at most %d --compare runs", TUI_MAX_COMPARE);
    const int i = o->n_compare;
    mtb_error err = {0};
    if (metrics_path_of_run(run, compare_paths[i], sizeof compare_paths[i], &err))
        return fe_report(&err);
    metrics_run_name(run, compare_names[i], sizeof compare_names[i]);
    o->compare[i] = compare_paths[i];
    o->compare_name[i] = compare_names[i];
    o->n_compare++;
    return -1;
}

/* Takes --theme, --glyphs, --smoothing and --compare out of argv (in
 * place). */
static int take_tui_options(int *argc, char **argv, tui_options *o)
{
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *names[] = {"--theme", "--glyphs", "--smoothing", "--compare"};
        int which = -1;
        const char *value = NULL;
        for (int k = 0; k < 4; k++) {
            size_t n = strlen(names[k]);
            if (strcmp(argv[i], names[k]) == 0) {
                which = k;
                if (i + 1 >= *argc)
                    return fe_usage_error("tui", "%s needs a value", names[k]);
                value = argv[++i];
            } else if (strncmp(argv[i], names[k], n) == 0 && argv[i][n] == '=') {
                which = k;
                value = argv[i] + n + 1;
            }
        }
        if (which < 0) {
            argv[out++] = argv[i];
            continue;
        }
        if (which == 0) {
            o->theme = value;
        } else if (which == 3) {
            int st = add_compare(o, value);
            if (st >= 0)
                return st;
        } else if (which == 1) {
            if (strcmp(value, "braille") && strcmp(value, "block") && strcmp(value, "ascii"))
                return fe_usage_error("tui", "--glyphs must be braille, block or ascii");
            o->glyphs = value;
        } else {
            char *end;
            double v = strtod(value, &end);
            if (*end || !(v > 0 && v <= 1))
                return fe_usage_error("tui", "--smoothing must be a number in (0, 1]");
            o->smoothing = v;
        }
    }
    *argc = out;
    argv[out] = NULL;
    return -1;
}

int cmd_tui(int argc, char **argv)
{
    tui_options topt = {.smoothing = -1};
    int status = take_tui_options(&argc, argv, &topt);
    if (status >= 0)
        return status;
    run_config rc;
    run_config_defaults(&rc);
    status = run_config_parse(&rc, argc, argv, "tui", usage);
    if (status >= 0) {
        run_config_free(&rc);
        return status;
    }
    mtb_error err = {0};
    if (tui_check_options(&topt, &err)) {
        run_config_free(&rc);
        return fe_report(&err);
    }
    if (rc.quiet) {
        run_config_free(&rc);
        return fe_usage_error("tui", "--quiet is for 'mtbert train': the workbench shows progress");
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "mtbert tui: needs a terminal; use 'mtbert train' for headless runs\n");
        run_config_free(&rc);
        return FE_USAGE;
    }
    run_state st;
    if ((status = run_prepare(&rc, &st, stderr)) >= 0) {
        run_config_free(&rc);
        return status;
    }
    /* the history is read before this run appends to the file */
    if (rc.resume_dir && rc.metrics_path) {
        topt.history = rc.metrics_path;
        topt.history_until = mtb_trainer_step_count(st.trainer);
    }
    bool failed;
    topt.metrics = run_open_metrics(&rc, &st, &failed);
    if (failed) {
        run_teardown(&st);
        run_config_free(&rc);
        return FE_FAIL;
    }
    /* A live view wants dev points along the way, not only at the end:
     * about twenty evaluations a run unless --eval-every says otherwise. */
    if (rc.eval_every == 0 && mtb_trainer_has_validation(st.trainer)) {
        long every = mtb_trainer_total_steps(st.trainer) / 20;
        mtb_trainer_set_eval_every(st.trainer, every > 10 ? every : 10);
    }
    for (int t = 0; t < MTB_N_TASKS; t++)
        topt.dev[t] = st.dev[t].n ? &st.dev[t] : NULL;
    topt.trainer = st.trainer;
    topt.model = &st.model;
    topt.mode_name = rc.mode ? rc.mode : "pcgrad";
    topt.out_dir = rc.out_dir;
    topt.max_len = rc.max_len;
    status = tui_run(&topt);
    if (topt.metrics && fclose(topt.metrics) != 0 && status == FE_OK) {
        fprintf(stderr, "mtbert: %s: write error\n", rc.metrics_path);
        status = FE_FAIL;
    }
    run_teardown(&st);
    run_config_free(&rc);
    return status;
}
