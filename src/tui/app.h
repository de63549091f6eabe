/* The workbench's state, shared by its components.  Each component (the
 * panes, draw, screen, input, output, cursor, help, commands, scoring)
 * has its own header with its functions; this one holds only the state
 * they read and the values its fields take. */
#ifndef MTBERT_TUI_APP_H
#define MTBERT_TUI_APP_H

#include <stdbool.h>

#include "canvas.h"
#include "layout.h"
#include "plot.h"
#include "theme.h"
#include "tui.h"
#include "tui_data.h"

#define TUI_OUTPUT_LINES 64
#define TUI_OUTPUT_WIDTH 256

/* ASCII marks by task (sst, para, sts), the same in every chart: training
 * curves, then evaluations */
#define TUI_TASK_MARKS "*o%"
#define TUI_TASK_DEV_MARKS "+x@"

enum { TUI_SCALE_LINEAR, TUI_SCALE_LOG, TUI_SCALE_RELATIVE };
enum { TUI_CONFLICT_COSINE, TUI_CONFLICT_WEIGHTS, TUI_CONFLICT_SERVED, TUI_CONFLICT_VIEWS };

typedef struct tui_app {
    tui_options opt;
    tui_data data;
    tui_layout layout;
    tui_theme theme;
    bool color;
    tui_glyphs glyphs;
    bool glyphs_chosen;   /* by --glyphs or the config file (else by locale and colour) */
    double smoothing;     /* EMA alpha applied to training curves; 1 = raw */
    int zoomed;           /* -1 or a tui_pane */
    int conflict_view;    /* F11: TUI_CONFLICT_COSINE, _WEIGHTS, _SERVED */
    int layers_view;      /* F12: 0 the latest step, 1 + p pair p's heat map over time */
    /* saved runs overlaid on the loss pane (--compare), one task at a time */
    tui_data compare[TUI_MAX_COMPARE];
    int n_compare;
    int compare_task;     /* Ctrl-O: -1 off, else the task whose curves are compared */
    int loss_scale;       /* :scale: TUI_SCALE_* of the loss pane's y axis */
    int weights_scale;    /* :scale weights: the same for the task-weights view */
    /* the step cursor (cursor.c) */
    bool cursor_on;
    double cursor_step;
    /* where each chart drew its x axis in the last frame, for the mouse */
    tui_plot_frame_info frame[TUI_N_PANES];
    bool frame_ok[TUI_N_PANES];
    bool help_open;
    char *report;         /* a report shown in the help's place (:errors, :confusion) */
    int help_scroll;      /* the help's first line shown */
    bool has_validation;  /* the run has dev data: evaluations will come */
    bool quit_requested, quitting;
    bool dirty;
    int log_scroll;       /* lines scrolled back from the newest */
    int output_scroll;    /* the prompt's answers scrolled back (Shift-PgUp, the wheel) */
    /* prompt */
    char output[TUI_OUTPUT_LINES][TUI_OUTPUT_WIDTH]; /* answers, newest last */
    int output_len;
    char history_path[4096];
    char saved_to[4096];  /* the last folder :save DIR asked for ("" none) */
    struct tui_scoring *scoring; /* the scoring thread (scoring.h); NULL until started */
    tui_canvas canvas;
} tui_app;

#endif
