/* The pieces both front ends (the command line and the workbench) share,
 * built on the library alone: exit statuses and messages, number parsing,
 * durations, the folders :save and --out may write, stop signals, loading
 * a trained model.  The prompt (prompt.h, prompt_readline.h) and the
 * metrics files (metrics.h) have headers of their own. */
#ifndef MTBERT_FRONT_H
#define MTBERT_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "mtbert/error.h"
#include "mtbert/file.h" /* mtb_mkdir_p and the file reads the front ends share */
#include "mtbert/multitask.h"

/* Exit statuses: 0 success, 1 failure, 2 bad usage or bad input. */
enum { FE_OK = 0, FE_FAIL = 1, FE_USAGE = 2 };

/* Prints "mtbert: <message>" to stderr and returns the error's exit status. */
int fe_report(const mtb_error *err);
/* Prints "mtbert COMMAND: <message>" plus a pointer to --help; returns FE_USAGE. */
int fe_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* For getopt's '?': names the unknown option or the one missing its value. */
int fe_bad_option(const char *command, const char *arg);

/* Parse a whole number in [min, max]; false on anything else. */
bool fe_parse_int(const char *text, int min, int max, int *out);
bool fe_parse_long(const char *text, long min, long max, long *out);
bool fe_parse_double(const char *text, double min, double max, double *out);

/* "45s", "3m07s", "2h05m"; "--" for a negative or unknown time. */
void fe_format_duration(double seconds, char *buf, size_t cap);

/* What a folder holds: "run" (a checkpoint with training state), "model"
 * (a saved model), or NULL (nothing mtbert saved). */
const char *fe_saved_kind(const char *dir);
/* Two spellings of one folder or file compare equal once both exist. */
bool fe_same_path(const char *a, const char *b);
/* Whether :save DIR may write DIR: a new or empty folder, the run's own
 * out_dir (may be NULL), or saved_before (the last folder :save wrote, may be
 * NULL); a folder holding another saved model or run is refused, named. */
int fe_check_save_dir(const char *dir, const char *out_dir, const char *saved_before,
                       mtb_error *err);

/* handler(sig) on SIGINT and SIGTERM (no SA_RESTART: a blocking wait
 * returns EINTR so the caller can look at what it set). */
void fe_on_stop_signals(void (*handler)(int));

/* text with control bytes and C1 controls shown as "\033" / "\u009b" and
 * bytes that are not UTF-8 as "\xff", into out (cap bytes, cut at a whole
 * character; always terminated when cap > 0): text from a file or a user,
 * made safe to print on a terminal.  Returns the length written. */
size_t fe_visible(char *out, size_t cap, const char *text);
/* A JSON string of text with every byte that is not UTF-8 replaced by
 * U+FFFD, so a strict parser reads the line (NULL when out of memory). */
json_t *fe_json_text(const char *text);

/* The engine's process-wide settings from the environment, before any
 * product: MTBERT_GEMM=pool|openblas|auto (default auto, its plan cached
 * per CPU, kernel and thread count under $XDG_CACHE_HOME/mtbert).  Prints
 * the problem and returns nonzero for a value it does not know. */
int fe_engine_setup(void);

/* --precision: the mtb_precision named by arg, or -1 after printing
 * "mtbert COMMAND: --precision must be fp32, bf16 or auto". */
int fe_parse_precision(const char *command, const char *arg);
/* Puts the precision in force; says what was chosen and why on log when it
 * is bf16 or bf16 was asked for (fp32 is the unremarkable case). */
void fe_apply_precision(int requested, FILE *log);

/* Loads an mtbert checkpoint for scoring: DIR must hold heads.safetensors
 * (MTB_EINPUT "DIR: no heads.safetensors: ..." for a bare encoder, whose
 * heads would be random). */
int fe_load_trained_model(const char *dir, mtb_multitask *mt, mtb_error *err);

#endif
