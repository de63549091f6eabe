/* What a run writes, kept from harm (run_output.c): its --out folder, its
 * --save-best folder and its --metrics file. */
#ifndef MTBERT_RUN_OUTPUT_H
#define MTBERT_RUN_OUTPUT_H

#include <stdio.h>

#include "run_setup.h"

/* Locks --out, cleans up what a killed save left there, and refuses an
 * existing run, best model or metrics file unless the run resumes its own
 * or --force says to replace it. */
int run_protect_outputs(run_config *rc, run_state *st, FILE *log, mtb_error *err);
/* mkdir -p of the folder that will hold path. */
void run_make_parent_dirs(const char *path);

#endif
