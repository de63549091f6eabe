/* Where a training step's time goes, per kind of operation: what
 * `mtbert bench --profile` prints, so the next bottleneck is visible.
 *
 * Off by default and per thread: the thread that turns it on (bench, which
 * steps the trainer itself) accumulates; every other thread pays one
 * thread-local test per operation.  Times are wall-clock and include the
 * worker pool and OpenBLAS threads an operation waits for. */
#ifndef MTBERT_PROFILE_H
#define MTBERT_PROFILE_H

#include <stdbool.h>

#include "mtbert/clock.h"

typedef enum mtb_prof_op {
    MTB_PROF_EMBED_FWD,
    MTB_PROF_EMBED_BWD,
    MTB_PROF_LINEAR_FWD, /* the dense layers' matrix products and biases */
    MTB_PROF_LINEAR_BWD,
    MTB_PROF_ATTENTION_FWD,
    MTB_PROF_ATTENTION_BWD,
    MTB_PROF_LAYERNORM_FWD,
    MTB_PROF_LAYERNORM_BWD,
    MTB_PROF_GELU_FWD,
    MTB_PROF_GELU_BWD,
    MTB_PROF_DROPOUT_FWD, /* dropout and the residual adds after it */
    MTB_PROF_DROPOUT_BWD,
    MTB_PROF_POOLER, /* [CLS] copies, pooler dense and tanh, both directions */
    MTB_PROF_HEADS,  /* sentence encodings and the task heads, both directions */
    MTB_PROF_GRAD_BOOKKEEPING, /* zeroing gradients and buffers, copying task gradients */
    MTB_PROF_MERGE, /* merging the task gradients, whatever the method: the Gram
                     * matrix, the conflict statistics, the weights */
    MTB_PROF_ADAMW,
    MTB_PROF_N
} mtb_prof_op;

typedef struct mtb_profile {
    double seconds[MTB_PROF_N];
    long calls[MTB_PROF_N];
} mtb_profile;

extern _Thread_local bool mtb_profiling;

/* Turns this thread's profile on (from zero) or off (keeping its totals). */
void mtb_profile_enable(bool on);
/* This thread's totals since it was enabled. */
const mtb_profile *mtb_profile_get(void);
const char *mtb_profile_name(mtb_prof_op op);

static inline double mtb_prof_begin(void)
{
    if (!mtb_profiling)
        return 0;
    return mtb_now_seconds();
}

void mtb_prof_end(mtb_prof_op op, double t0);

/* Runs stmt and charges its time to op. */
#define MTB_PROFILED(op, stmt)                                                                  \
    do {                                                                                        \
        const double mtb_prof_t0_ = mtb_prof_begin();                                           \
        stmt;                                                                                   \
        mtb_prof_end((op), mtb_prof_t0_);                                                       \
    } while (0)

#endif
