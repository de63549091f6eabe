/* The CS224N minBERT task files: tab-separated, columns found by header name.
 *
 * The three tasks share one example type: text_b and id may be absent and
 * the label's meaning depends on the task.  Loading never prints; problems are
 * MTB_EINPUT errors naming the file and line, and rows the reference loader
 * silently skips (Quora rows with an empty label) are dropped and counted. */
#ifndef MTBERT_DATA_H
#define MTBERT_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mtbert/error.h"

typedef enum mtb_task {
    MTB_TASK_SST = 0,  /* sentiment, SST-5: label 0..4 */
    MTB_TASK_PARA = 1, /* paraphrase, Quora: label 0 or 1 */
    MTB_TASK_STS = 2,  /* similarity, STS-B: label in [0, 5] */
    MTB_N_TASKS = 3
} mtb_task;

/* "sst", "para", "sts" */
const char *mtb_task_name(mtb_task task);
/* Parses "sst", "para" or "sts"; -1 otherwise. */
int mtb_task_parse(const char *name);

/* Each string is its own malloc block, owned by the dataset that holds the
 * example (mtb_dataset_free frees them; mtb_dataset_split moves them). */
typedef struct mtb_example {
    char *id;     /* the id column; NULL when the file has none */
    char *text_a; /* sentence (SST) or sentence1 */
    char *text_b; /* sentence2; NULL for SST */
    float label;  /* NAN when the file is unlabelled */
    long line;    /* 1-based line in the file the example came from */
} mtb_example;

typedef struct mtb_dataset {
    mtb_task task;
    mtb_example *ex;
    size_t n, cap;
    bool labelled;  /* every example has a label (every file loaded had the label column) */
    size_t dropped; /* rows skipped because their label was empty (Quora only) */
    char *path;     /* first file loaded, for messages */
} mtb_dataset;

void mtb_dataset_init(mtb_dataset *ds, mtb_task task);
void mtb_dataset_free(mtb_dataset *ds);

/* Appends the examples of one file.  With want_labels the label column must
 * exist (error otherwise); without it a label column is read if present.
 * Errors (MTB_EINPUT, "path:line: ..."): unreadable file, missing column,
 * wrong field count, non-numeric or out-of-range label, invalid UTF-8,
 * unterminated quote. */
int mtb_dataset_load(mtb_dataset *ds, const char *path, bool want_labels, mtb_error *err);

/* Moves a seeded random fraction (0 < frac < 1, at least one example) of
 * train into val (which must be empty), keeping file order within each.  The
 * same seed and data always give the same split.  round(frac * n) examples
 * move, clamped to 1..n-1 (train needs at least 2); val takes train's task,
 * labelled flag and path. */
int mtb_dataset_split(mtb_dataset *train, mtb_dataset *val, double frac, uint64_t seed,
                      mtb_error *err);

#endif
