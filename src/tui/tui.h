/* The workbench: a live ncurses view of a training run with a readline
 * prompt for probing the model while it trains. */
#ifndef MTBERT_TUI_H
#define MTBERT_TUI_H

#include <stdio.h>

#include "mtbert/multitask.h"
#include "mtbert/trainer.h"

#define TUI_MAX_COMPARE 4

typedef struct tui_options {
    mtb_trainer *trainer;
    mtb_multitask *model;
    const char *mode_name;   /* "pcgrad", "sum", "single:sst" */
    const char *out_dir;     /* where :save and quitting save by default */
    const char *theme;       /* name or path; NULL: config file, then "default" */
    const char *glyphs;      /* braille, block, ascii; NULL: config, then by locale */
    double smoothing;        /* EMA alpha for training curves; < 0: config, then 0.1 */
    int max_len;             /* tokens per sentence when scoring */
    FILE *metrics;           /* JSON lines of every event, as train --metrics; may be NULL */
    const char *history;     /* a metrics file to redraw the run's past from (--resume); NULL */
    long history_until;      /* its last step to take: the checkpoint's */
    const char *compare[TUI_MAX_COMPARE];      /* saved runs' metrics files to overlay */
    const char *compare_name[TUI_MAX_COMPARE]; /* and their names in the legend */
    int n_compare;
    const mtb_dataset *dev[MTB_N_TASKS]; /* the validation texts (:errors), or NULL */
} tui_options;

/* Checks the theme and configuration options before a run is set up, so
 * a typo is reported before minutes of loading. */
int tui_check_options(const tui_options *opt, mtb_error *err);

/* Runs until the user quits; returns the exit status (0 after :quit). */
int tui_run(const tui_options *opt);

#endif
