/* The workbench's state, shared by its components (one file each:
 * pane_*.c, input.c, scoring.c, tui.c). */
#ifndef MTBERT_TUI_APP_H
#define MTBERT_TUI_APP_H

#include <pthread.h>
#include <stdbool.h>

#include "canvas.h"
#include "layout.h"
#include "mtbert/score.h"
#include "plot.h"
#include "theme.h"
#include "tui.h"
#include "tui_data.h"

#define TUI_OUTPUT_LINES 64
#define TUI_OUTPUT_WIDTH 256

/* Sentence scoring runs on its own thread so a slow model never freezes
 * the screen; the UI posts a job and picks the answer up when it is ready. */
enum { TUI_JOB_SCORE, TUI_JOB_ERRORS, TUI_JOB_CONFUSION };

typedef struct tui_scoring {
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool job, busy, result_ready, quit;
    int kind;             /* the job: TUI_JOB_* */
    int result_kind;      /* the kind of the job result holds */
    int task, count;      /* :errors TASK N */
    char a[2048], b[2048];
    bool pair;
    char result[8192];
    mtb_scorer *scorer;
    mtb_trainer *trainer;
    const bool *trained;  /* (MTB_N_TASKS) the model's heads that have trained */
    const tui_options *opt;
} tui_scoring;

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
    tui_scoring scoring;
    tui_canvas canvas;
} tui_app;

/* Prompt output area. */
void tui_output(tui_app *app, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tui_output_text(tui_app *app, const char *text); /* splits lines */

/* draw.c: curses helpers */
int tui_attr_for(const tui_app *app, int slot);
void tui_draw_box(const tui_app *app, const tui_rect *r, const char *title, bool zoomed);
void tui_blit(const tui_app *app, const tui_canvas *c, int x, int y, int w, int h);
void tui_put(const tui_app *app, int y, int x, int w, int slot, const char *text);
/* Gives the shared canvas w x h cells; nonzero when out of memory. */
int tui_canvas_fit(tui_canvas *c, int w, int h);

/* screen.c: draws the whole screen (curses, then refresh) */
void tui_draw_screen(tui_app *app);

/* panes */
void pane_loss_draw(tui_app *app, const tui_rect *r);
void pane_conflict_draw(tui_app *app, const tui_rect *r);
void pane_layers_draw(tui_app *app, const tui_rect *r);
void pane_metrics_draw(tui_app *app, const tui_rect *r);
void pane_log_draw(tui_app *app, const tui_rect *r);
void pane_prompt_draw(tui_app *app, const tui_rect *r); /* leaves the cursor on the input */
void pane_footer_draw(tui_app *app, const tui_rect *r);
void help_draw(tui_app *app);
int help_line_count(const tui_app *app);

/* input.c: GNU readline in callback mode, fed keys by the main loop */
void tui_input_init(tui_app *app);
void tui_input_done(tui_app *app);
void tui_input_key(tui_app *app, int is_key_code, unsigned int ch);
bool tui_input_line_empty(void);
const char *tui_input_prompt(void);
const char *tui_input_buffer(void);
int tui_input_point(void);

/* commands typed at the prompt */
void tui_handle_line(tui_app *app, const char *line);

/* cursor.c: the step cursor.  set/move/first: false (nothing changes)
 * while no curve has points; the step is clamped to the run's and rounded. */
bool tui_cursor_set(tui_app *app, double step);
/* By cols columns of the chart the keys follow (the zoomed one, else the
 * loss pane's), at least one step; from the newest step when hidden. */
bool tui_cursor_move(tui_app *app, int cols);
bool tui_cursor_first(tui_app *app);
void tui_cursor_hide(tui_app *app);
/* A click at screen column screen_x in a chart pane: the step there. */
bool tui_cursor_click(tui_app *app, int pane, int screen_x);
/* A chart pane, after drawing w x h inside its border, records its frame
 * for the mouse and keys. */
void tui_cursor_note_frame(tui_app *app, int pane, int w, int h, const tui_plot_series *series,
                           int n, const tui_plot_opts *opt);
/* Sets the plot options' cursor from the app's. */
void tui_cursor_apply(const tui_app *app, tui_plot_opts *o);
/* A legend label: name, or with the cursor on "name VALUE" for the point
 * nearest the cursor (at_or_before: the last at or before it, and "" when
 * there is none, for evaluations).  Returns name or buf. */
const char *tui_cursor_label(const tui_app *app, const char *name, const tui_series *s,
                             bool at_or_before, char *buf, size_t cap);
/* A pane title "name: details", or with the cursor on
 * "name at step N: how to move and leave". */
void tui_cursor_title(const tui_app *app, const char *name, const char *details, char *buf,
                      size_t cap);

/* scoring.c */
int tui_scoring_start(tui_app *app, mtb_error *err);
void tui_scoring_stop(tui_app *app);
bool tui_scoring_submit(tui_app *app, const char *a, const char *b);
/* :errors and :confusion, on the dev data, in the same thread (kind
 * TUI_JOB_ERRORS or TUI_JOB_CONFUSION); the answer opens as a report. */
bool tui_scoring_submit_report(tui_app *app, int kind, int task, int count);
/* Moves a finished answer into the output; true if there was one. */
bool tui_scoring_poll(tui_app *app);

#endif
