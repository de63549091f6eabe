/* The trainer's own header, private to its four files: struct mtb_trainer
 * and the few functions they share.  Library-internal.
 *
 *   trainer_step.c    the step as named stages: draw batches, task gradients,
 *                     merge, the divergence guard, apply the update (start
 *                     reading here); word-row bookkeeping and finiteness checks
 *   trainer.c         create, destroy, options' defaults, accessors, evaluation
 *   trainer_state.c   checkpoints: trainer.json, the optimizer's moments and the
 *                     data order, saved and restored
 *   trainer_thread.c  the trainer thread: events, requests (pause, stop, save,
 *                     evaluate, learning rate, mode) and the read lock
 *
 * The merge methods and the mode names are merge.c's; scaling the heads'
 * gradients is heads.c's. */
#ifndef MTBERT_TRAINER_INTERNAL_H
#define MTBERT_TRAINER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "mtbert/clock.h"
#include "mtbert/trainer.h"

struct mtb_trainer {
    mtb_multitask *mt;
    mtb_train_options opt;
    bool active[MTB_N_TASKS]; /* tasks the current mode trains */
    bool single_task_run;     /* fixed at creation */
    bool has_train[MTB_N_TASKS], has_dev[MTB_N_TASKS];
    mtb_encoded train[MTB_N_TASKS], dev[MTB_N_TASKS];
    mtb_order order[MTB_N_TASKS];
    mtb_task_batch batch[MTB_N_TASKS];
    mtb_task_ws ws;           /* single-task runs */
    mtb_joint_ws joint;       /* multitask runs: all tasks in one encoder pass */
    uint32_t *idx;            /* (max batch) */
    float *task_grad[MTB_N_TASKS]; /* (n_params) each: one task's encoder gradient */
    /* The dense layers' weight gradients, which the joint pass overwrites:
     * zeroing leaves them alone (most of each buffer). */
    size_t dense_off[6 * MTB_MAX_LAYERS], dense_len[6 * MTB_MAX_LAYERS];
    int n_dense;
    /* Word-embedding rows: a step's gradients are zero outside the rows its
     * batches use, so zeroing, the Gram matrix and AdamW visit those only. */
    int *rows[MTB_N_TASKS];   /* rows task t's gradient buffer may hold, ascending */
    int n_rows[MTB_N_TASKS];
    bool rows_known[MTB_N_TASKS]; /* false: the buffer may hold any row (zero it all) */
    int *step_rows;           /* the union over the step's tasks */
    int n_step_rows;
    unsigned char *row_mark;  /* (vocab) scratch */
    unsigned char *row_touched; /* (vocab) rows whose AdamW moments may be nonzero */
    float *m_enc, *v_enc, *m_heads, *v_heads; /* AdamW moments */
    long step;
    long steps_per_epoch, total_steps;
    mtb_rng rng;              /* dropout */
    mtb_rng order_rng;        /* PCGrad task order */
    mtb_merge_state merge_state; /* the mode's method's memory (GradVac, UW, DWA, FAMO) */
    double best_score;        /* the best evaluation's mtb_eval_score (NAN: none yet) */
    long best_step;

    /* thread and requests, guarded by lock */
    pthread_t thread;
    bool started;
    int status;
    char failure[512];        /* why status is not 0 */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool paused, stop, stop_save, eval_req, save_req;
    bool reported_paused;     /* the pause state the last STATE event announced */
    bool drew[MTB_N_TASKS];   /* the last step drew batch[t] from the data */
    char save_dir[4096];
    float new_lr;             /* NAN: no change */
    int new_mode;             /* -1: no change */
    pthread_rwlock_t weights;
    mtb_event_queue events;
    mtb_trainer_recorder record; /* the front end's record, or NULL */
    void *record_ctx;
    double last_save_time;    /* trainer_elapsed_seconds of the last checkpoint (or the start) */
    double t0;                /* mtb_now_seconds() when the thread started */
    double elapsed_base;      /* seconds spent before a restore */
    char restore_note[256];   /* what a restore changed, logged when the thread starts */
    long updates;             /* AdamW updates applied: steps less skipped ones */
    long skipped;             /* steps skipped by the divergence guard */
    bool skipped_last;        /* the last step was one of them */
    char diverged[320];       /* what the guard last found */
    long inject_nan_step;     /* MTBERT_INJECT_NAN=STEP:TASK (0: off) */
    int inject_nan_task;
};

/* trainer.c: seconds of training, those before a restore included. */
double trainer_elapsed_seconds(const mtb_trainer *tr);

/* trainer_step.c: after a restore, the word rows whose moments are not
 * zero, as AdamW would have recorded them while it made them. */
void trainer_note_touched_rows(mtb_trainer *tr);

#endif
