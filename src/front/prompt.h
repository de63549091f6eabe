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

/* What a line is; for a command, which one.  The values name the commands
 * so that the front ends can index their handler tables by them. */
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
    PROMPT_SCALE,  /* :scale, the workbench's (tui/command_table.h says what a and b hold) */
    PROMPT_CURSOR, /* :cursor, the workbench's (tui/command_table.h) */
    PROMPT_ERRORS, /* :errors sst|para|sts [N]: a is the task, value N (default 5, 1..50) */
    PROMPT_CONFUSION, /* :confusion: SST's confusion matrix on the dev set */
    PROMPT_HELP,   /* :help */
    PROMPT_QUIT,   /* :quit or :q */
    PROMPT_ERROR,  /* error holds the message; stays last (it sizes the handler tables) */
} prompt_kind;

#define PROMPT_KINDS (PROMPT_ERROR + 1)

/* The longest text a prompt line, a repl line or `score` takes, in bytes:
 * the same limit everywhere a user types text. */
#define PROMPT_TEXT_MAX 2047

struct prompt_command;

typedef struct prompt_cmd {
    prompt_kind kind;
    const struct prompt_command *command; /* the command typed, or NULL */
    char a[PROMPT_TEXT_MAX + 1], b[PROMPT_TEXT_MAX + 1]; /* texts, or :save DIR / :mode NAME */
    double value;          /* :lr, :errors N, :cursor STEP */
    char error[256];
    bool too_long;         /* the error is a text over PROMPT_TEXT_MAX */
} prompt_cmd;

/* Where a command can run, narrowest first: a front end runs the commands
 * up to the scope it has, and refuses the others by their scope. */
typedef enum {
    PROMPT_ANYWHERE, /* every prompt: :help, :quit */
    PROMPT_TRAINING, /* a session that trains a run */
    PROMPT_WORKBENCH /* only the workbench (its charts, its dev-set reports) */
} prompt_scope;

/* One command's syntax and help (tmux's cmd_entry without its exec: each
 * front end pairs the command with its own handler, by kind). */
typedef struct prompt_command {
    const char *name;  /* ":quit" */
    const char *alias; /* ":q", or NULL */
    prompt_kind kind;
    prompt_scope scope;
    /* Reads the trimmed argument [arg, end), maybe empty, into cmd; false
     * once it has set the error.  NULL: the command takes no argument. */
    bool (*parse)(const char *arg, const char *end, prompt_cmd *cmd);
    /* What Tab offers for the argument (NULL-terminated), or NULL. */
    const char *const *(*arg_words)(void);
    bool arg_is_path;  /* Tab completes file names for the argument */
    const char *usage; /* its lines of the help, each ending in '\n' */
} prompt_command;

/* The commands every front end shares.  A front end lists the commands it
 * knows, in the order its help shows them, in a NULL-terminated array. */
extern const prompt_command prompt_cmd_pause, prompt_cmd_resume, prompt_cmd_save, prompt_cmd_eval,
    prompt_cmd_mode, prompt_cmd_lr, prompt_cmd_errors, prompt_cmd_confusion, prompt_cmd_help,
    prompt_cmd_quit;

/* Reads one line (a trailing newline is fine).  Lines starting with ':' are
 * commands of set; a line with "||" is a pair, each side trimmed and
 * non-empty; anything else non-blank is one trimmed sentence.  Texts longer
 * than sizeof a - 1 bytes are an error, never cut. */
void prompt_parse_in(const prompt_command *const *set, const char *line, prompt_cmd *cmd);
/* The same with the shared commands only. */
void prompt_parse(const char *line, prompt_cmd *cmd);

/* The names of set's commands up to scope, then NULL, in names (cap
 * entries): what Tab completes (aliases are left out). */
void prompt_command_names(const prompt_command *const *set, prompt_scope upto, const char **names,
                          size_t cap);

/* The help: sentences and pairs, then heading and the usage of each of
 * set's commands up to scope, each line ending in '\n'.  Returns the
 * length, like snprintf. */
int prompt_write_help(const prompt_command *const *set, prompt_scope upto, const char *heading,
                      char *buf, size_t cap);

/* For command parsers.  Spaces are ASCII only: isspace() would depend on
 * the locale readline may have set, and a UTF-8 continuation byte must
 * never count as a space. */
bool prompt_is_space(char c);
/* Narrows [*begin, *end) to its non-space middle. */
void prompt_trim(const char **begin, const char **end);
/* Whether [begin, end) is word. */
bool prompt_span_is(const char *begin, const char *end, const char *word);
/* Copies [begin, end) into dst (cap bytes); false when it does not fit. */
bool prompt_copy_span(char *dst, size_t cap, const char *begin, const char *end);
/* Makes cmd an error with the message. */
void prompt_set_error(prompt_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
