/* The run record: a run's options as JSON, kept in its checkpoint's
 * trainer.json, from which --resume rebuilds them (run_record.c). */
#ifndef MTBERT_RUN_RECORD_H
#define MTBERT_RUN_RECORD_H

#include "run_setup.h"

/* rc as one compact JSON object (malloc'd). */
char *run_record(const run_config *rc);
/* The record text (from dir's trainer.json) into rc, each value checked as
 * strictly as the command line checks it: -1 to go on, else the exit
 * status after a message naming the first bad key. */
int run_apply_record(run_config *rc, const char *text, const char *dir);
/* A path as the record keeps it: absolute where the file exists, so a run
 * resumes from any working directory and two spellings of one file compare
 * equal (malloc'd). */
char *run_canonical_path(const char *path);

#endif
