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
