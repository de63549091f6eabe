/* The train/tui option table, for the files that read or check a run's
 * options by it: its ids and rows (run_options.c holds the table and the
 * parsing), the --mnrl value's text, and the resumed run's merge of the
 * saved options with the command line (run_resume.c). */
#ifndef MTBERT_RUN_OPTIONS_H
#define MTBERT_RUN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "run_setup.h"

/* The options' ids, getopt_long's values for them. */
enum {
    OPT_MODE = 1000, OPT_MODEL, OPT_CONFIG, OPT_VOCAB, OPT_POOLING, OPT_DROPOUT, OPT_LR,
    OPT_WD, OPT_BATCH, OPT_SST_BATCH, OPT_PARA_BATCH, OPT_STS_BATCH, OPT_MAX_LEN, OPT_EPOCHS,
    OPT_MAX_STEPS, OPT_SEED, OPT_EVAL_EVERY, OPT_VAL_SPLIT, OPT_SST_TRAIN, OPT_PARA_TRAIN,
    OPT_STS_TRAIN, OPT_SST_DEV, OPT_PARA_DEV, OPT_STS_DEV, OPT_DATA_DIR, OPT_OUT, OPT_METRICS,
    OPT_THREADS, OPT_RESUME, OPT_QUIET, OPT_SCHEDULE, OPT_WARMUP, OPT_ON_NAN, OPT_FORCE, OPT_HELP,
    OPT_CAGRAD_C, OPT_GRADVAC_BETA, OPT_UW_LR, OPT_DWA_TEMPERATURE, OPT_FAMO_LR, OPT_FAMO_DECAY,
    OPT_STS_LOSS, OPT_MNRL, OPT_MNRL_SCALE, OPT_COSENT_SCALE, OPT_SAVE_BEST, OPT_PRECISION,
    OPT_COUNT /* one past the last */
};

/* One row per option: how its value is read into run_config, what a bad
 * value is told, whether a resumed run may change it. */
typedef enum {
    K_STR,    /* a string, char * at offset */
    K_CHOICE, /* one of choices[], char * at offset */
    K_DOUBLE, /* a number in [lo, hi], double at offset */
    K_FLOAT,  /* the same into a float */
    K_INT,    /* an integer in [lo, hi], int at offset */
    K_LONG,   /* the same into a long */
    K_U64,    /* the same into a uint64_t */
    K_FILES,  /* appended to the file list of task `task` (train or dev) */
    K_FLAG,   /* no value: bool at offset set */
    K_CUSTOM, /* parse() reads it */
    K_HELP,
} opt_kind;

typedef struct run_opt {
    const char *name;
    opt_kind kind;
    size_t offset;               /* in run_config */
    double lo, hi;
    const char *bad;             /* "--lr must be a number in (0, 10]"; NULL: made from the bounds */
    const char *const *choices;  /* K_CHOICE, NULL-terminated */
    bool may_change;             /* on --resume: how long, where, how fast, not what */
    int task;                    /* K_FILES and the per-task batches */
    bool dev;                    /* K_FILES: a dev file */
    bool (*parse)(run_config *rc, const char *arg); /* K_CUSTOM */
} run_opt;

/* id's row; NULL for an id that is not an option. */
const run_opt *run_opt_row(int id);

/* --mnrl's value: "none", "para", "sts" or "para,sts" (sts,para is read
 * too); run_parse_mnrl is false for anything else. */
const char *run_mnrl_text(const mtb_pair_losses *l, char *buf, size_t cap);
bool run_parse_mnrl(const char *text, mtb_pair_losses *l);

/* --resume: rc becomes the saved run (its record read from cmd's
 * --resume folder), with the options of cmd that may change on a resume
 * taken over; one given in cmd that would change the run is refused.
 * -1 to go on, else the exit status (after the message). */
int run_config_resume(run_config *rc, const run_config *cmd, const bool given[OPT_COUNT],
                      const char *command);

#endif
