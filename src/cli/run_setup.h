/* Options shared by `mtbert train` and `mtbert tui`: what to train on, what
 * model to start from, and how; and the setup that turns them into a
 * running trainer.  The configuration is run_config.c, its options
 * run_options.c (with run_resume.c and run_record.c for --resume); the setup
 * is run_setup.c, loading run_load.c, output protection run_output.c. */
#ifndef MTBERT_RUN_SETUP_H
#define MTBERT_RUN_SETUP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mtbert/data.h"
#include "mtbert/multitask.h"
#include "mtbert/run_lock.h"
#include "mtbert/trainer.h"

#define RUN_MAX_FILES 8

/* Defaults of the front end (the library's own are a constant rate and no
 * warmup, plain torch AdamW).  1e-5 is the seed project's rate for
 * fine-tuning a pretrained encoder; a randomly initialised one learns
 * nothing at it and gets RUN_FRESH_LR instead. */
#define RUN_FINETUNE_LR 1e-5
#define RUN_FRESH_LR 5e-4
#define RUN_FRESH_LR_TEXT "5e-4"
#define RUN_DEFAULT_SCHEDULE "linear"
#define RUN_DEFAULT_WARMUP "0.1"

typedef struct run_config {
    char *mode;          /* "pcgrad", "sum", "single:sst", ... */
    char *model_dir;     /* start from a checkpoint folder */
    char *config_name;   /* fresh model size: tiny, mini, small, medium, base */
    char *vocab_path;    /* fresh model's vocabulary */
    char *pooling;
    char *schedule;      /* "constant", "linear", "cosine"; NULL: RUN_DEFAULT_SCHEDULE */
    char *warmup;        /* steps ("100") or a fraction ("0.1"); NULL: RUN_DEFAULT_WARMUP */
    double dropout, lr, weight_decay, val_split; /* lr 0: unset */
    mtb_merge_params merge; /* the methods' parameters */
    mtb_pair_losses losses; /* --sts-loss, --mnrl, their scales */
    int batch, task_batch[MTB_N_TASKS]; /* task_batch 0: use batch */
    int max_len, epochs, threads;
    int precision; /* an mtb_precision, default auto */
    long max_steps, eval_every;
    uint64_t seed;
    char *train[MTB_N_TASKS][RUN_MAX_FILES];
    int n_train[MTB_N_TASKS];
    char *dev[MTB_N_TASKS][RUN_MAX_FILES];
    int n_dev[MTB_N_TASKS];
    char *data_dir;
    char *out_dir;
    char *metrics_path;
    char *resume_dir;
    bool quiet;
    bool skip_nan;       /* --on-nan skip */
    bool force;          /* --force: replace an existing run or metrics file */
    bool save_best;      /* --save-best: the best evaluation's model in OUT-best */
    char run_id[24];     /* the run's identity, kept in its record and its metrics file */
} run_config;

/* What a run needs while it trains; freed by run_teardown. */
typedef struct run_state {
    mtb_multitask model;
    bool model_loaded;
    mtb_dataset train[MTB_N_TASKS], dev[MTB_N_TASKS];
    mtb_trainer *trainer;
    mtb_train_options options;
    mtb_run_lock lock;   /* on the --out folder while the run lives */
} run_state;

void run_config_defaults(run_config *rc);
void run_config_free(run_config *rc);
/* *dst becomes a copy of src (NULL: none), the old string freed. */
void run_config_set_str(char **dst, const char *src);
/* Appends a copy of path; false when the list already holds RUN_MAX_FILES. */
bool run_config_add_file(char *list[RUN_MAX_FILES], int *n, const char *path);

/* getopt_long table entries and their handling, shared by train and tui.
 * run_config_parse consumes argv; returns -1 to go on, else an exit status
 * (after --help: 0, after a usage error: 2).  usage() prints the command's
 * help. */
int run_config_parse(run_config *rc, int argc, char **argv, const char *command,
                     void (*usage)(FILE *));
/* --warmup's value: a step count (digits only; *fraction = -1) or a
 * fraction of the run in [0, 1]. */
bool run_parse_warmup(const char *text, long *steps, double *fraction);
/* The option help text shared by train and tui. */
void run_config_print_options(FILE *out);

/* Loads data and model, creates (and with --resume restores) the trainer.
 * Messages for the user (dropped rows, truncation) go to log. */
int run_setup(run_config *rc, run_state *st, FILE *log, mtb_error *err);
void run_teardown(run_state *st);

/* run_set_threads and run_setup for a front end: on failure it reports the
 * error, tears st down and returns the exit status; -1 when ready. */
int run_prepare(run_config *rc, run_state *st, FILE *log);

/* Opens --metrics (NULL without it) for the run run_prepare set up:
 * written from its header for a new run, appended to (after a "resumed"
 * record) for a resumed one; line-buffered, so it can be read live.  NULL
 * with a message on stderr when it cannot be opened (*failed set). */
FILE *run_open_metrics(const run_config *rc, const run_state *st, bool *failed);


/* Sizes the compute pool and OpenBLAS together (0: one per core). */
void run_set_threads(int threads);

#endif
