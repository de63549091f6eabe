/* What the trainer publishes, and the bounded queue that carries it.
 *
 * The trainer thread pushes events; one front end pops them.  The queue is
 * bounded: a producer that finds it full waits, so a slow consumer slows
 * training instead of losing records (the metrics file must be complete). */
#ifndef MTBERT_EVENTS_H
#define MTBERT_EVENTS_H

#include <pthread.h>
#include <stdbool.h>

#include "mtbert/data.h"
#include "mtbert/merge.h"

typedef enum mtb_event_type {
    MTB_EV_STEP,     /* losses of one training step */
    MTB_EV_CONFLICT, /* gradient-conflict statistics of that step */
    MTB_EV_EVAL,     /* validation metrics */
    MTB_EV_LOG,      /* a message for the user */
    MTB_EV_STATE,    /* paused, resumed, saved, stopping */
    MTB_EV_DONE,     /* the trainer finished; last event */
} mtb_event_type;

typedef enum mtb_train_state {
    MTB_STATE_RUNNING,
    MTB_STATE_PAUSED,
    MTB_STATE_SAVED,
    MTB_STATE_STOPPING,
} mtb_train_state;

typedef struct mtb_eval_result {
    bool has[MTB_N_TASKS];     /* a dev set was evaluated for the task */
    double loss[MTB_N_TASKS];  /* mean validation loss */
    double sst_acc, para_acc, sts_corr;
    long n[MTB_N_TASKS];       /* examples evaluated */
} mtb_eval_result;

typedef struct mtb_event {
    mtb_event_type type;
    long step;        /* steps completed when the event was made */
    long total_steps;
    double epoch;     /* fractional epoch */
    double elapsed;   /* seconds since training started */
    union {
        struct {
            bool active[MTB_N_TASKS];
            float loss[MTB_N_TASKS];
            float lr;
            double steps_per_sec;
            long skipped; /* steps the divergence guard skipped so far (--on-nan skip) */
        } step;
        mtb_conflict_stats conflict;
        mtb_eval_result eval;
        struct {
            mtb_train_state state;
            char detail[256]; /* e.g. the folder saved to */
        } state;
        struct {
            char text[256];
        } log;
        struct {
            int status; /* 0 finished, else the error code */
            char message[512];
        } done;
    } u;
} mtb_event;

typedef struct mtb_event_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    mtb_event *ring;
    int cap, head, count;
} mtb_event_queue;

int mtb_event_queue_init(mtb_event_queue *q, int cap);
void mtb_event_queue_destroy(mtb_event_queue *q);
void mtb_event_queue_push(mtb_event_queue *q, const mtb_event *ev);
/* Waits up to timeout_ms (negative: forever); false on timeout. */
bool mtb_event_queue_pop(mtb_event_queue *q, mtb_event *ev, int timeout_ms);

#endif
