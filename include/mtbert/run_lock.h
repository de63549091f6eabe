/* One process per run folder.  Two trainings saving into the same folder
 * would overwrite each other's checkpoints; the second one is refused,
 * with the first one's pid named.
 *
 * The lock is DIR.lock beside DIR (not inside: saves swap DIR for a new
 * folder), held with flock while the process lives, so a killed holder
 * never leaves a stale lock; the file is removed on release. */
#ifndef MTBERT_RUN_LOCK_H
#define MTBERT_RUN_LOCK_H

#include "mtbert/error.h"

typedef struct mtb_run_lock {
    int fd; /* -1: not held */
    char path[4096];
} mtb_run_lock;

/* MTB_EINPUT "DIR is in use by another mtbert (pid N) ..." when held. */
int mtb_run_lock_acquire(mtb_run_lock *lock, const char *dir, mtb_error *err);
void mtb_run_lock_release(mtb_run_lock *lock);

#endif
