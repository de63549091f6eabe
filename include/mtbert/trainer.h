/* Multitask training: the step (one task, or the tasks' gradients merged by
 * one of the registry's methods, merge.h: summed losses, PCGrad, MGDA,
 * CAGrad, ...), the trainer thread that runs it, and its checkpoints.
 *
 * Front ends drive a trainer from another thread: they read its events
 * (mtb_trainer_events), send requests (pause, resume, stop, save, evaluate,
 * learning rate, mode) and, to score sentences while it trains, take the
 * weights' read lock so they never see a half-applied update. */
#ifndef MTBERT_TRAINER_H
#define MTBERT_TRAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "mtbert/adamw.h"
#include "mtbert/batcher.h"
#include "mtbert/data.h"
#include "mtbert/events.h"
#include "mtbert/multitask.h"
#include "mtbert/merge.h"
#include "mtbert/schedule.h"

/* What the divergence guard does with a step whose loss or gradient is not
 * finite: stop the run (nothing is saved over the last checkpoint), or skip
 * the step (its batches are used up, the weights stay). */
typedef enum mtb_on_nan { MTB_ON_NAN_STOP, MTB_ON_NAN_SKIP } mtb_on_nan;

typedef struct mtb_train_options {
    mtb_mode mode;
    mtb_task single_task;
    bool use_task[MTB_N_TASKS]; /* tasks trained in the multitask modes */
    int batch[MTB_N_TASKS];     /* examples per step and task */
    int max_len;                /* tokens per sentence; a paraphrase pair gets twice as many */
    int epochs;                 /* passes over the largest task; 0: max_steps decides */
    long max_steps;             /* 0: no limit beyond epochs */
    uint64_t seed;
    long eval_every;            /* steps between evaluations; 0: only at the end */
    int eval_batch;
    bool dropout;               /* apply dropout while training */
    bool fixed_task_order;      /* PCGrad visits tasks in ascending order (tests) */
    mtb_on_nan on_nan;          /* default: stop */
    mtb_adamw_hparams adamw;    /* adamw.lr is the peak rate the schedule scales */
    mtb_merge_params merge;     /* the merge methods' parameters */
    mtb_schedule schedule;      /* its total_steps is set by the trainer: the run's total */
    char out_dir[4096];         /* saved to at the end and on stop; "" for nowhere */
    char best_dir[4096];        /* the model at its best evaluation so far; "" for none */
    /* periodic checkpoints into out_dir, so a run killed at any moment
     * (kill -9, the OOM killer, a batch system's hard limit) resumes from
     * the last one: every save_every_steps steps, or every
     * save_every_seconds of training; 0 (both, the default) for none */
    long save_every_steps;
    double save_every_seconds;
    char *run_json;             /* front end's own record, kept in trainer.json (owned) */
} mtb_train_options;

void mtb_train_options_defaults(mtb_train_options *opt);

typedef struct mtb_trainer mtb_trainer;

/* train[t] / dev[t] may be NULL.  The trainer tokenizes them and keeps
 * pointers to mt, which it trains in place. */
int mtb_trainer_create(mtb_trainer **out, mtb_multitask *mt, const mtb_train_options *opt,
                       const mtb_dataset *const train[MTB_N_TASKS],
                       const mtb_dataset *const dev[MTB_N_TASKS], mtb_error *err);
void mtb_trainer_destroy(mtb_trainer *tr);

/* Continues from a checkpoint folder written by a trainer with the same
 * options and data: step, data order, random state and optimizer moments.
 * The checkpoint's peak learning rate (after any set_lr), mode, method
 * parameters and state, and schedule (kind and warmup steps) replace the
 * options'; the schedule's horizon is
 * this trainer's total steps, so a larger step budget stretches the decay. */
int mtb_trainer_restore(mtb_trainer *tr, const char *dir, mtb_error *err);

/* Reads the run record ("run" object of DIR/trainer.json) a front end
 * stored; the caller frees it with free(). */
int mtb_trainer_read_run_json(const char *dir, char **run_json, mtb_error *err);

/* A front end's record of the run (its metrics file): called on the
 * trainer thread with every event before the event is queued, so what it
 * writes for a step is written before any checkpoint of that step is, and a
 * run killed at any moment resumes with its records complete.  It must not
 * call the trainer.  Set it before mtb_trainer_start. */
typedef void (*mtb_trainer_recorder)(const mtb_event *ev, void *ctx);
void mtb_trainer_set_recorder(mtb_trainer *tr, mtb_trainer_recorder record, void *ctx);

long mtb_trainer_step_count(const mtb_trainer *tr);
/* Whether any task has validation data (evaluations will report). */
bool mtb_trainer_has_validation(const mtb_trainer *tr);
/* Evaluations every n steps (0: at the end only); before mtb_trainer_start. */
void mtb_trainer_set_eval_every(mtb_trainer *tr, long n);
long mtb_trainer_total_steps(const mtb_trainer *tr);
/* The learning rate step `step` (1-based) applies: the peak times the
 * schedule's factor. */
float mtb_trainer_lr_at(const mtb_trainer *tr, long step);
const mtb_schedule *mtb_trainer_schedule(const mtb_trainer *tr);
const mtb_encoded *mtb_trainer_train_data(const mtb_trainer *tr, mtb_task task);
/* The validation set of a task, tokenized; NULL when it has none. */
const mtb_encoded *mtb_trainer_dev_data(const mtb_trainer *tr, mtb_task task);

/* ---- synchronous use (tests, bench) ---- */

/* One training step on the given batches (tb[t] for each task the mode
 * trains; the others are ignored) or, with tb == NULL, on the trainer's
 * own data.  loss[t] receives each trained task's loss (NAN for the rest);
 * stats (may be NULL) the conflict statistics of a multitask step.
 * MTB_EINPUT when a task has no data; MTB_EFAIL when the divergence guard
 * found a non-finite loss or gradient under MTB_ON_NAN_STOP (nothing was
 * updated; mtb_trainer_divergence says what).  Under MTB_ON_NAN_SKIP such a
 * step returns MTB_OK without an update and counts as skipped.
 * MTBERT_INJECT_NAN=STEP:TASK in the environment (read at creation) makes
 * that task's gradient NaN at that step, to test the guard. */
int mtb_trainer_step(mtb_trainer *tr, const mtb_task_batch *const *tb, float loss[MTB_N_TASKS],
                     mtb_conflict_stats *stats);
/* The batch the last step drew for task t from the training data, or NULL
 * when that step did not draw one (the task is not trained, or the caller
 * brought its own batches).  Valid until the next step. */
const mtb_task_batch *mtb_trainer_last_batch(const mtb_trainer *tr, mtb_task t);
/* What the guard found last ("step 12, task sts: the gradient of
 * 'encoder.layer.0...' holds NaN or infinite values"); "" if nothing. */
const char *mtb_trainer_divergence(const mtb_trainer *tr);
long mtb_trainer_skipped_steps(const mtb_trainer *tr);
int mtb_trainer_evaluate(mtb_trainer *tr, mtb_eval_result *res, mtb_error *err);
/* The score --save-best keeps the best of: the mean over the evaluated
 * tasks of SST accuracy, Quora accuracy and (STS r + 1) / 2, the course's
 * overall score; NAN when nothing was evaluated. */
double mtb_eval_score(const mtb_eval_result *r);
/* Writes a checkpoint (model, heads, optimizer and data-order state). */
int mtb_trainer_save(mtb_trainer *tr, const char *dir, mtb_error *err);

/* ---- the trainer thread ---- */

int mtb_trainer_start(mtb_trainer *tr, mtb_error *err);
/* Waits for the thread; returns its status (0 when training finished). */
int mtb_trainer_join(mtb_trainer *tr);
mtb_event_queue *mtb_trainer_events(mtb_trainer *tr);

void mtb_trainer_pause(mtb_trainer *tr);
void mtb_trainer_resume(mtb_trainer *tr);
/* save: write a checkpoint to out_dir before exiting. */
void mtb_trainer_stop(mtb_trainer *tr, bool save);
/* dir NULL or "": the options' out_dir. */
void mtb_trainer_request_save(mtb_trainer *tr, const char *dir);
void mtb_trainer_request_eval(mtb_trainer *tr);
/* Sets the peak rate: the schedule keeps its shape and scales to it. */
void mtb_trainer_set_lr(mtb_trainer *tr, float lr);
/* Switches between the multitask modes (multitask runs only; a stateful
 * method starts from a fresh state); false if refused. */
bool mtb_trainer_set_mode(mtb_trainer *tr, mtb_mode mode);

/* Hold the read lock while running the model from another thread. */
void mtb_trainer_read_lock(mtb_trainer *tr);
void mtb_trainer_read_unlock(mtb_trainer *tr);

#endif
