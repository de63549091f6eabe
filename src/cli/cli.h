/* Shared pieces of the command-line front end. */
#ifndef MTBERT_CLI_H
#define MTBERT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "mtbert/error.h"
#include "mtbert/events.h"

/* Exit statuses: 0 success, 1 failure, 2 bad usage or bad input. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cmd_tokenize(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_repl(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_tui(int argc, char **argv);

/* Prints "mtbert: <message>" to stderr and returns the error's exit status. */
int cli_report(const mtb_error *err);
/* Prints "mtbert COMMAND: <message>" plus a pointer to --help; returns CLI_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The bundled demo data folder: $MTBERT_DATA_DIR/demo, the source tree's
 * data/demo, or the installed copy; NULL when none exists. */
const char *cli_demo_dir(void);

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

/* "45s", "3m07s", "2h05m"; "--" for a negative or unknown time. */
void cli_format_duration(double seconds, char *buf, size_t cap);

/* For getopt's '?': names the unknown option or the one missing its value. */
int cli_bad_option(const char *command, const char *arg);

/* What a folder holds: "run" (a checkpoint with training state), "model"
 * (a saved model), or NULL (nothing mtbert saved). */
const char *cli_saved_kind(const char *dir);
/* Two spellings of one folder compare equal once both exist. */
bool cli_same_folder(const char *a, const char *b);
/* Whether :save DIR may write DIR: a new or empty folder, the run's own
 * out_dir (may be NULL), or saved_before (the last folder :save wrote, may be
 * NULL); a folder holding another saved model or run is refused, named. */
int cli_check_save_dir(const char *dir, const char *out_dir, const char *saved_before,
                       mtb_error *err);

/* Parse a whole number in [min, max]; false on anything else. */
bool cli_parse_int(const char *text, int min, int max, int *out);
bool cli_parse_long(const char *text, long min, long max, long *out);
bool cli_parse_double(const char *text, double min, double max, double *out);

/* handler(sig) on SIGINT and SIGTERM (no SA_RESTART: a blocking wait
 * returns EINTR so the caller can look at what it set). */
void cli_on_stop_signals(void (*handler)(int));

/* mkdir -p; true when dir exists afterwards. */
bool cli_mkdir_p(const char *dir, int mode);

/* Texts to process: the positional arguments if any, else each line of
 * standard input (without its newline).  next() returns NULL at the end; a
 * line's storage is valid until the following call. */
typedef struct cli_texts {
    char **args;
    int n_args, pos;
    char *line;
    size_t line_cap;
    long line_no;
} cli_texts;

void cli_texts_init(cli_texts *t, char **args, int n_args);
const char *cli_texts_next(cli_texts *t);
void cli_texts_free(cli_texts *t);

#endif
