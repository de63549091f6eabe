/* The sentence prompt shared by `mtbert repl`, `mtbert score` and the
 * workbench: what a typed line means, the help that explains it, and how a
 * result is shown.  No terminal code here (no readline, no curses), so the
 * unit tests link it on its own. */
#ifndef MTBERT_FRONT_PROMPT_H
#define MTBERT_FRONT_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "mtbert/error.h"
#include "mtbert/multitask.h"
#include "mtbert/score.h"

typedef enum {
    PROMPT_EMPTY,  /* blank line */
    PROMPT_TEXT,   /* a sentence, in a */
    PROMPT_PAIR,   /* "first || second", in a and b */
    PROMPT_PAUSE,  /* :pause */
    PROMPT_RESUME, /* :resume */
    PROMPT_SAVE,   /* :save [DIR]; a is DIR or "" */
    PROMPT_EVAL,   /* :eval */
    PROMPT_MODE,   /* :mode sum|pcgrad|mgda; a is the mode's name */
    PROMPT_LR,     /* :lr VALUE; value > 0 */
    PROMPT_SCALE,  /* :scale [loss|weights] linear|log|relative (the workbench's charts):
                      a is the scale, b the pane */
    PROMPT_CURSOR, /* :cursor STEP|off: a is "off", or value the step (>= 0) */
    PROMPT_ERRORS, /* :errors sst|para|sts [N]: a is the task, value N (default 5, 1..50) */
    PROMPT_CONFUSION, /* :confusion: SST's confusion matrix on the dev set */
    PROMPT_HELP,   /* :help */
    PROMPT_QUIT,   /* :quit or :q */
    PROMPT_ERROR,  /* error holds the message */
} prompt_kind;

/* The longest text a prompt line, a repl line or `score` takes, in bytes:
 * the same limit everywhere a user types text. */
#define PROMPT_TEXT_MAX 2047

typedef struct prompt_cmd {
    prompt_kind kind;
    char a[PROMPT_TEXT_MAX + 1], b[PROMPT_TEXT_MAX + 1]; /* texts, or :save DIR / :mode NAME */
    double value;          /* :lr */
    char error[256];
    bool too_long;         /* the error is a text over PROMPT_TEXT_MAX */
} prompt_cmd;

/* Reads one line (a trailing newline is fine).  Lines starting with ':' are
 * commands; a line with "||" is a pair, each side trimmed and non-empty;
 * anything else non-blank is one trimmed sentence.  Texts longer than
 * sizeof a - 1 bytes are an error, never cut. */
void prompt_parse(const char *line, prompt_cmd *cmd);

/* ":pause", ":resume", ..., NULL: the names Tab completes (":q" is left out,
 * an alias of :quit). */
const char *const *prompt_command_names(void);

/* Several lines, each ending in '\n', explaining sentences, pairs and every
 * command. */
const char *prompt_help_text(void);
/* The same for a prompt that only scores (repl): sentences, pairs, :help
 * and :quit; and the command names Tab completes there. */
const char *prompt_help_text_scoring(void);
const char *const *prompt_scoring_command_names(void);

/* Writes r as text: for a sentence one line
 *   sentiment: positive (3)   v.neg 0.02  neg 0.05  neu 0.10  pos 0.60  v.pos 0.23
 * and for a pair three:
 *   paraphrase: 0.734   similarity: 3.21 / 5
 *   sentiment A: positive (3)   v.neg 0.02  neg 0.05  neu 0.10  pos 0.60  v.pos 0.23
 *   sentiment B: ...
 * each ending in '\n' and at most 85 columns.  a and b (either may be NULL)
 * are the scored texts: the lines call them A and B rather than repeat them,
 * since the user has just typed them; r->pair decides the layout.  Returns the
 * length of the whole text, like snprintf: the output was cut when that is
 * >= cap.  buf is always NUL-terminated when cap > 0. */
int prompt_format_result(const mtb_score_result *r, const char *a, const char *b, char *buf,
                         size_t cap);

/* A last line for a result whose scores include heads that never trained
 * (trained[t] false), e.g. after `train --mode single:sst`:
 *   note: the paraphrase and similarity heads never trained: their scores are noise
 * appended to buf (of len used bytes, cap in all); nothing when every head
 * the result shows was trained.  Returns the new length, like snprintf. */
int prompt_append_untrained(const bool trained[MTB_N_TASKS], bool pair, char *buf, size_t len,
                            size_t cap);

/* r as one JSON line:
 *   {"sentiment":{"label":3,"name":"positive","probs":[...]}}
 *   {"paraphrase":0.734,"similarity":3.21,"sentiment":[{...},{...}]}
 * with "untrained":["para","sts"] naming the tasks among them whose heads
 * never trained (trained may be NULL: all trained); non-finite numbers
 * are null.  Returns the length, like snprintf. */
int prompt_format_json(const mtb_score_result *r, const bool trained[MTB_N_TASKS], char *buf,
                       size_t cap);

#endif
