/* The loading steps of run_setup (run_load.c): the data a run trains and
 * validates on, and the model it starts from. */
#ifndef MTBERT_RUN_LOAD_H
#define MTBERT_RUN_LOAD_H

#include <stdio.h>

#include "run_setup.h"

/* --data-dir: the course's file names, for the tasks given no files. */
int run_expand_data_dir(run_config *rc, FILE *log, mtb_error *err);
/* The run's training and validation sets: every file of every task, and a
 * seeded --val-split where a task has no dev file. */
int run_load_data(const run_config *rc, run_state *st, FILE *log, mtb_error *err);
/* The model: a checkpoint or Hugging Face folder (--model, or --resume's),
 * or a fresh one of --config with --vocab; rc's unset rate and pooling get
 * the defaults that suit it. */
int run_load_model(run_config *rc, run_state *st, FILE *log, mtb_error *err);

#endif
