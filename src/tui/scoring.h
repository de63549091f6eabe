/* Sentence scoring on its own thread, so a slow model never freezes the
 * screen: the UI posts a job and picks the answer up when it is ready.
 * The job's state is scoring.c's, behind its lock; the UI sees it only
 * through these functions. */
#ifndef MTBERT_TUI_SCORING_H
#define MTBERT_TUI_SCORING_H

#include <stdbool.h>

#include "app.h"
#include "mtbert/error.h"

/* The kinds of job */
enum { TUI_JOB_SCORE, TUI_JOB_ERRORS, TUI_JOB_CONFUSION };

typedef struct tui_scoring tui_scoring;

/* Starts the thread for app->opt's model and trainer (app->scoring). */
int tui_scoring_start(tui_app *app, mtb_error *err);
/* Stops the thread and frees app->scoring; nothing happens if never started. */
void tui_scoring_stop(tui_app *app);
/* Scores a sentence, or a pair when b is not NULL; false while a job is
 * still queued or running. */
bool tui_scoring_submit(tui_app *app, const char *a, const char *b);
/* :errors and :confusion, on the dev data, in the same thread (kind
 * TUI_JOB_ERRORS or TUI_JOB_CONFUSION); the answer opens as a report. */
bool tui_scoring_submit_report(tui_app *app, int kind, int task, int count);
/* Moves a finished answer into the output; true if there was one. */
bool tui_scoring_poll(tui_app *app);
/* Whether a job is queued or running. */
bool tui_scoring_busy(const tui_app *app);

#endif
