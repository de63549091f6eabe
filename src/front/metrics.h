/* The --metrics file: JSON lines written from trainer events, and read
 * back as the events that wrote them. */
#ifndef MTBERT_FRONT_METRICS_H
#define MTBERT_FRONT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mtbert/bert.h"
#include "mtbert/error.h"
#include "mtbert/events.h"

/* The file's first record: {"mtbert_metrics": 1, "run_id", "config" (the
 * run record run_json, parsed), "groups" (the parameter groups' names, in
 * the order of every "group_cos" array)}. */
void metrics_write_header(FILE *f, const char *run_id, const char *run_json,
                          const mtb_bert *model);
/* {"resumed": {"run_id", "step": N, "machine"}}: where a resumed run's
 * records continue; they supersede those of steps after N before it. */
void metrics_write_resumed(FILE *f, const char *run_id, long step);
/* Before a resumed run appends to path: cuts away a last line without its
 * newline (a run killed while writing it), with a warning on log naming the
 * file and line.  A file that does not exist is fine. */
int metrics_prepare_append(const char *path, FILE *log, mtb_error *err);
/* A run's metrics file while it trains (metrics_record.c). */
typedef struct metrics_record {
    FILE *f;
    char path[4096];
    char run_id[64];
    long resumed_step;   /* the step a resumed run continues from; -1: a new run */
    bool marker_written; /* the "resumed" marker is in the file */
    int write_errno;     /* the first write error; 0: none */
} metrics_record;

/* Opens path for the run: a new run (resumed_step < 0) truncates it and
 * writes the header; a resumed one cuts an unfinished last line (warning
 * on log) and appends, its marker going in with its first record. */
int metrics_record_open(metrics_record *m, const char *path, const char *run_id,
                        const char *run_json, const mtb_bert *model, long resumed_step, FILE *log,
                        mtb_error *err);
/* The trainer's recorder (mtb_trainer_set_recorder; ctx the metrics_record):
 * the records of ev, on the trainer thread. */
void metrics_record_event(const mtb_event *ev, void *ctx);
/* Closes the file: MTB_EFAIL "PATH: write error: REASON" when any write
 * or the close failed. */
int metrics_record_close(metrics_record *m, mtb_error *err);
/* The run id in a metrics file's header: 1 and id (cap bytes) when the file
 * starts with one, 0 when it has none (empty, or older than headers), -1
 * when it cannot be read. */
int metrics_read_run_id(const char *path, char *id, size_t cap);
/* Appends the JSON lines --metrics records for ev (nothing for other events).
 * Values that are not finite are written "nan", "inf" or "-inf"; null (or
 * no key) means not measured. */
void metrics_write(FILE *f, const mtb_event *ev);
/* Reads a metrics file back as the events that wrote it, in order: step
 * events (a step's per-task records gathered into one), conflict and
 * evaluation events; records past max_step (>= 0) are left out, and the
 * header and resume records give no event.  The policy every reader shares
 * (metrics_read.c): a damaged line is skipped with a warning on stderr
 * naming file and line, a last line without its newline quietly; records a
 * later "resumed" marker supersedes are left out; another run's header or
 * marker, and steps going backwards, are MTB_EINPUT naming file and line. */
int metrics_replay(const char *path, long max_step, void (*sink)(const mtb_event *ev, void *ctx),
                   void *ctx, mtb_error *err);
/* The metrics file of a run: RUN itself when it is a file, RUN/metrics.jsonl
 * (an experiment's run), or the --metrics file RUN/trainer.json names. */
int metrics_path_of_run(const char *run, char *out, size_t cap, mtb_error *err);
/* A run's name in a legend: its folder's (for RUN/metrics.jsonl, RUN's). */
void metrics_run_name(const char *run, char *buf, size_t cap);

#endif
