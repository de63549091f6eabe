/* The --metrics file: JSON lines written from trainer events, and read
 * back as the events that wrote them. */
#ifndef MTBERT_FRONT_METRICS_H
#define MTBERT_FRONT_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include "mtbert/error.h"
#include "mtbert/events.h"

/* Appends the JSON lines --metrics records for ev (nothing for other events). */
void metrics_write(FILE *f, const mtb_event *ev);
/* Reads a metrics file back as the events that wrote it, in order: step
 * events (a step's per-task records gathered into one), conflict and
 * evaluation events; records past max_step (>= 0) are left out.  A partial
 * last line (a run killed mid-write) ends the file; any other bad line is
 * MTB_EINPUT, naming file and line. */
int metrics_replay(const char *path, long max_step, void (*sink)(const mtb_event *ev, void *ctx),
                   void *ctx, mtb_error *err);
/* The metrics file of a run: RUN itself when it is a file, RUN/metrics.jsonl
 * (an experiment's run), or the --metrics file RUN/trainer.json names. */
int metrics_path_of_run(const char *run, char *out, size_t cap, mtb_error *err);

#endif
