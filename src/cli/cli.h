/* The command-line front end: its commands and what only they share (the
 * pieces the workbench uses too are in src/front/). */
#ifndef MTBERT_CLI_H
#define MTBERT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../front/front.h"
#include "../front/metrics.h"
#include "mtbert/error.h"
#include "mtbert/events.h"

int cmd_tokenize(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_repl(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_info(int argc, char **argv);
/* "kernel     NAME: why", for --version and info. */
void cli_print_kernel_line(FILE *out);
int cmd_tui(int argc, char **argv);

/* The options of every command that scores with a trained model (eval,
 * predict, score, repl): -m/--model DIR, --max-length N, --threads N,
 * --precision P, --json.  CLI_MODEL_OPTIONS goes into a getopt_long table;
 * cli_model_option takes getopt's value. */
enum { CLI_OPT_MODEL = 4000, CLI_OPT_MAX_LEN, CLI_OPT_THREADS, CLI_OPT_PRECISION, CLI_OPT_JSON };
#define CLI_MODEL_OPTIONS                                                                      \
    {"model", required_argument, NULL, CLI_OPT_MODEL},                                         \
        {"max-length", required_argument, NULL, CLI_OPT_MAX_LEN},                              \
        {"threads", required_argument, NULL, CLI_OPT_THREADS},                                 \
        {"precision", required_argument, NULL, CLI_OPT_PRECISION},                             \
        {"json", no_argument, NULL, CLI_OPT_JSON}

typedef struct cli_model_opts {
    const char *model_dir;
    int max_len, threads, precision;
    bool json;
} cli_model_opts;

/* No model, max_len 128, every core, precision auto, no JSON. */
void cli_model_opts_init(cli_model_opts *o);
/* True when c (getopt's value; 'm' included) is one of these options; then
 * *status is -1, or FE_USAGE after the message for a bad value. */
bool cli_model_option(int c, const char *arg, const char *command, cli_model_opts *o,
                      int *status);
/* Puts the thread count and the precision in force (the note on stderr). */
void cli_model_opts_apply(const cli_model_opts *o);

/* The bundled demo data folder: $MTBERT_DATA_DIR/demo, the source tree's
 * data/demo, or the installed copy; NULL when none exists. */
const char *cli_demo_dir(void);

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
