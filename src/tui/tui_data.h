/* What the workbench knows about the run, fed by trainer events.
 *
 * Kept apart from drawing (nvtop's split): panes only read this, and it can
 * be tested by feeding it events. */
#ifndef MTBERT_TUI_DATA_H
#define MTBERT_TUI_DATA_H

#include <stdbool.h>

#include "mtbert/events.h"
#include "series.h"

#define TUI_LOG_LINES 256
#define TUI_LOG_WIDTH 240

typedef struct tui_data {
    /* curves, x = step */
    tui_series loss[MTB_N_TASKS];     /* training loss per step */
    tui_series val_loss[MTB_N_TASKS]; /* validation loss at each evaluation */
    tui_series cos[MTB_MAX_PAIRS];    /* cosine of each task pair */
    tui_series weight[MTB_N_TASKS];   /* each task's weight in the merged update */
    tui_series served[MTB_N_TASKS];   /* cosine of the merged update and each task's gradient */
    /* cosine per pair and parameter group over time (the heat map); NaN
     * where the group had no gradient */
    tui_series group_cos[MTB_MAX_PAIRS][MTB_MAX_GROUPS];
    int n_groups;                     /* groups the statistics reported */
    long conflicts[MTB_MAX_PAIRS];    /* steps in which the pair's cosine was negative */
    /* latest conflict statistics */
    bool has_conflict;
    mtb_conflict_stats last_conflict;
    int pair_task[MTB_MAX_PAIRS][2];  /* task ids of each pair (sst-para, sst-sts, para-sts) */
    long projected[MTB_N_TASKS][MTB_N_TASKS]; /* steps in which task i was projected against j */
    long conflict_steps;
    /* progress */
    bool active[MTB_N_TASKS];
    float last_loss[MTB_N_TASKS];
    long step, total_steps;
    double epoch, elapsed, steps_per_sec;
    float lr;
    char mode[32];
    bool paused, done, stopping;
    int done_status;
    long skipped;          /* steps the divergence guard skipped */
    /* evaluations */
    bool has_eval;
    mtb_eval_result last_eval, best_eval;
    long last_eval_step, best_step[MTB_N_TASKS];
    /* log, a ring of lines */
    char log[TUI_LOG_LINES][TUI_LOG_WIDTH];
    int log_head, log_len;
    long events_seen;
} tui_data;

int tui_data_init(tui_data *d, const char *mode);
void tui_data_free(tui_data *d);
/* Folds one trainer event into the picture. */
void tui_data_apply(tui_data *d, const mtb_event *ev);
void tui_data_log(tui_data *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Line i of the log, 0 = oldest kept. */
const char *tui_data_log_line(const tui_data *d, int i);
/* Index of the pair (a, b) of task ids in cos[] / the stats, or -1. */
int tui_data_pair_index(const tui_data *d, int task_a, int task_b);

#endif
