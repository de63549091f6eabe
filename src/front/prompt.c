/* The sentence prompt: parsing typed lines, help, result text, model loading. */
#include "prompt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtbert/data.h"
#include "mtbert/merge.h"
#include "mtbert/rng.h"

/* ASCII only: isspace() would depend on the locale readline may have set,
 * and a UTF-8 continuation byte must never count as a space. */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Narrows [*begin, *end) to its non-space middle. */
static void trim(const char **begin, const char **end)
{
    while (*begin < *end && is_space(**begin))
        (*begin)++;
    while (*end > *begin && is_space((*end)[-1]))
        (*end)--;
}

static void set_error(prompt_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(prompt_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd->error, sizeof cmd->error, fmt, ap);
    va_end(ap);
    cmd->kind = PROMPT_ERROR;
}

/* Copies [begin, end) into dst (cap bytes); false when it does not fit. */
static bool copy_span(char *dst, size_t cap, const char *begin, const char *end)
{
    size_t n = (size_t)(end - begin);
    if (n >= cap)
        return false;
    memcpy(dst, begin, n);
    dst[n] = '\0';
    return true;
}

static bool span_is(const char *begin, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - begin) == n && memcmp(begin, word, n) == 0;
}

typedef enum { ARG_NONE, ARG_OPTIONAL, ARG_REQUIRED } arg_need;

typedef struct command_def {
    const char *name;
    prompt_kind kind;
    arg_need arg;
} command_def;

static const command_def command_defs[] = {
    {":pause", PROMPT_PAUSE, ARG_NONE},   {":resume", PROMPT_RESUME, ARG_NONE},
    {":save", PROMPT_SAVE, ARG_OPTIONAL}, {":eval", PROMPT_EVAL, ARG_NONE},
    {":mode", PROMPT_MODE, ARG_REQUIRED}, {":lr", PROMPT_LR, ARG_REQUIRED},
    {":scale", PROMPT_SCALE, ARG_REQUIRED}, {":cursor", PROMPT_CURSOR, ARG_REQUIRED},
    {":errors", PROMPT_ERRORS, ARG_REQUIRED}, {":confusion", PROMPT_CONFUSION, ARG_NONE},
    {":help", PROMPT_HELP, ARG_NONE},     {":quit", PROMPT_QUIT, ARG_NONE},
    {":q", PROMPT_QUIT, ARG_NONE},
};

const char *prompt_help_text_scoring(void)
{
    return "Type a sentence to see its sentiment, or two sentences separated by || to see\n"
           "whether they are paraphrases (probability) and how similar they are (0 to 5):\n"
           "  the movie was wonderful\n"
           "  a man is playing a guitar || someone plays the guitar\n"
           "Commands:\n"
           "  :help             show this help\n"
           "  :quit, :q         leave (Ctrl-D too)\n";
}

const char *const *prompt_scoring_command_names(void)
{
    static const char *const names[] = {":help", ":quit", NULL};
    return names;
}

const char *const *prompt_command_names(void)
{
    static const char *const names[] = {":pause", ":resume", ":save",  ":eval", ":mode",
                                        ":lr",    ":scale",  ":cursor", ":errors",
                                        ":confusion", ":help", ":quit",  NULL};
    return names;
}

/* begin..end is the trimmed line, starting with ':'. */
static void parse_command(const char *begin, const char *end, prompt_cmd *cmd)
{
    const char *word_end = begin;
    while (word_end < end && !is_space(*word_end))
        word_end++;
    const char *arg = word_end, *arg_end = end;
    trim(&arg, &arg_end);
    const bool has_arg = arg < arg_end;

    const command_def *def = NULL;
    for (size_t i = 0; i < sizeof command_defs / sizeof *command_defs; i++)
        if (span_is(begin, word_end, command_defs[i].name))
            def = &command_defs[i];
    if (!def) {
        /* Bounded so that a pasted paragraph does not fill the message. */
        int n = (int)(word_end - begin);
        set_error(cmd, "unknown command '%.*s%s' (try :help)", n > 40 ? 40 : n, begin,
                  n > 40 ? "..." : "");
        return;
    }
    if (def->arg == ARG_NONE && has_arg) {
        set_error(cmd, "%s takes no argument", def->name);
        return;
    }
    switch (def->kind) {
    case PROMPT_SAVE:
        if (!copy_span(cmd->a, sizeof cmd->a, arg, arg_end)) {
            cmd->too_long = true;
            set_error(cmd, ":save: the folder name is too long (at most %zu bytes)",
                      sizeof cmd->a - 1);
            return;
        }
        break;
    case PROMPT_MODE: {
        char names[256];
        if (!copy_span(cmd->a, sizeof cmd->a, arg, arg_end) || !mtb_merge_find(cmd->a)) {
            cmd->a[0] = '\0';
            set_error(cmd, ":mode needs a method: %s", mtb_merge_names(names, sizeof names));
            return;
        }
        break;
    }
    case PROMPT_ERRORS: {
        /* "TASK" or "TASK N" */
        const char *sp = arg;
        while (sp < arg_end && *sp != ' ')
            sp++;
        char task[16] = "";
        if (sp - arg < (long)sizeof task)
            memcpy(task, arg, (size_t)(sp - arg)), task[sp - arg] = '\0';
        cmd->value = 5;
        const char *num = sp;
        while (num < arg_end && *num == ' ')
            num++;
        char nbuf[16] = "";
        if (num < arg_end && arg_end - num < (long)sizeof nbuf)
            memcpy(nbuf, num, (size_t)(arg_end - num)), nbuf[arg_end - num] = '\0';
        char *num_end = NULL;
        const long n = nbuf[0] ? strtol(nbuf, &num_end, 10) : 5;
        if (mtb_task_parse(task) < 0 || (nbuf[0] && (*num_end || n < 1 || n > 50)) ||
            (num < arg_end && !nbuf[0])) {
            set_error(cmd, ":errors needs a task (sst, para or sts) and at most 50, e.g. "
                           ":errors sts 10");
            return;
        }
        snprintf(cmd->a, sizeof cmd->a, "%s", task);
        cmd->value = (double)n;
        break;
    }
    case PROMPT_SCALE: {
        /* "KIND" or "PANE KIND"; the pane defaults to the loss pane */
        const char *sp = arg;
        while (sp < arg_end && !is_space(*sp))
            sp++;
        const char *kind = sp, *kind_end = arg_end;
        trim(&kind, &kind_end);
        const char *pane = "loss";
        if (kind == kind_end) {
            kind = arg;
            kind_end = sp;
        } else if (span_is(arg, sp, "loss") || span_is(arg, sp, "weights")) {
            pane = span_is(arg, sp, "loss") ? "loss" : "weights";
        } else {
            set_error(cmd, ":scale's pane is loss or weights (cosines stay on -1..1), e.g. "
                           ":scale weights log");
            return;
        }
        if (!span_is(kind, kind_end, "linear") && !span_is(kind, kind_end, "log") &&
            !span_is(kind, kind_end, "relative")) {
            set_error(cmd, ":scale needs linear, log or relative");
            return;
        }
        copy_span(cmd->a, sizeof cmd->a, kind, kind_end);
        snprintf(cmd->b, sizeof cmd->b, "%s", pane);
        break;
    }
    case PROMPT_CURSOR: {
        char num[32];
        char *num_end;
        if (span_is(arg, arg_end, "off")) {
            snprintf(cmd->a, sizeof cmd->a, "off");
            break;
        }
        errno = 0;
        const bool copied = copy_span(num, sizeof num, arg, arg_end);
        const long step = copied ? strtol(num, &num_end, 10) : -1;
        if (!copied || num_end == num || *num_end || errno || step < 0) {
            set_error(cmd, ":cursor needs a step (a whole number) or off");
            return;
        }
        cmd->value = (double)step;
        break;
    }
    case PROMPT_LR: {
        /* strtod needs a terminated string; a number never needs 64 bytes. */
        char num[64];
        char *num_end;
        double v = 0.0;
        bool good = copy_span(num, sizeof num, arg, arg_end);
        if (good) {
            errno = 0;
            v = strtod(num, &num_end);
            /* The bounds of train --lr: a rate above 10 only ever diverges. */
            good = num_end != num && *num_end == '\0' && errno == 0 && v > 0.0 && v <= 10.0;
        }
        if (!good) {
            set_error(cmd, ":lr needs a number in (0, 10]");
            return;
        }
        cmd->value = v;
        break;
    }
    default:
        break;
    }
    cmd->kind = def->kind;
}

void prompt_parse(const char *line, prompt_cmd *cmd)
{
    memset(cmd, 0, sizeof *cmd);
    const char *begin = line, *end = line + strlen(line);
    trim(&begin, &end);
    if (begin == end) {
        cmd->kind = PROMPT_EMPTY;
        return;
    }
    if (*begin == ':') {
        parse_command(begin, end, cmd);
        return;
    }
    const char *bar = memmem(begin, (size_t)(end - begin), "||", 2);
    if (!bar) {
        if (!copy_span(cmd->a, sizeof cmd->a, begin, end)) {
            cmd->too_long = true;
            set_error(cmd, "the text is too long (at most %zu bytes)", sizeof cmd->a - 1);
            return;
        }
        cmd->kind = PROMPT_TEXT;
        return;
    }
    if (memmem(bar + 2, (size_t)(end - bar - 2), "||", 2)) {
        set_error(cmd, "a pair has exactly one ||");
        return;
    }
    const char *a = begin, *a_end = bar, *b = bar + 2, *b_end = end;
    trim(&a, &a_end);
    trim(&b, &b_end);
    if (a == a_end || b == b_end) {
        set_error(cmd, "a pair needs a sentence on each side of ||");
        return;
    }
    if (!copy_span(cmd->a, sizeof cmd->a, a, a_end) ||
        !copy_span(cmd->b, sizeof cmd->b, b, b_end)) {
        cmd->too_long = true;
        set_error(cmd, "a sentence of the pair is too long (at most %zu bytes)",
                  sizeof cmd->a - 1);
        return;
    }
    cmd->kind = PROMPT_PAIR;
}

const char *prompt_help_text(void)
{
    return "Type a sentence to see its sentiment, or two sentences separated by || to see\n"
           "whether they are paraphrases (probability) and how similar they are (0 to 5):\n"
           "  the movie was wonderful\n"
           "  a man is playing a guitar || someone plays the guitar\n"
           "Commands (the training ones act on the run the workbench trains):\n"
           "  :pause            pause training\n"
           "  :resume           resume training\n"
           "  :save [DIR]       save a checkpoint to the run's output folder, or to DIR\n"
           "  :eval             evaluate on the dev sets now\n"
           "  :mode METHOD      switch how the task gradients are combined: sum, pcgrad,\n"
           "                    mgda, cagrad, gradvac, imtl, nashmtl, aligned, upgrad,\n"
           "                    uw, dwa, famo (see mtbert train --help)\n"
           "  :lr VALUE         set the peak learning rate, e.g. :lr 2e-5\n"
           "  :scale [PANE] KIND\n"
           "                    a y axis: linear, log, or relative (each task's curve over\n"
           "                    its first value); PANE is loss (the default) or weights\n"
           "                    (the conflict pane's task weights, F11)\n"
           "  :cursor STEP|off  read every chart's values at a step (Shift-Left/Right\n"
           "                    move it, a right click places it, Shift-End leaves)\n"
           "  :errors TASK [N]  the N (5) dev examples of sst, para or sts the model gets\n"
           "                    most wrong, with their texts\n"
           "  :confusion        SST's confusion matrix on the dev set\n"
           "  :help             show this help\n"
           "  :quit, :q         leave (Ctrl-D too)\n";
}

/* Appends to buf like snprintf at offset *len, which counts what the whole
 * text needs even after buf is full. */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < cap ? buf + *len : NULL, *len < cap ? cap - *len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n;
}

/* Short names keep a pair's sentiment line within 85 columns even for
 * "very negative"; the full name of the winning class comes first. */
static void append_sentiment(char *buf, size_t cap, size_t *len, const char *what,
                             const float *p, int label)
{
    append(buf, cap, len,
           "%s: %s (%d)   v.neg %.2f  neg %.2f  neu %.2f  pos %.2f  v.pos %.2f\n", what,
           mtb_sst_label_name(label), label, (double)p[0], (double)p[1], (double)p[2],
           (double)p[3], (double)p[4]);
}

int prompt_format_result(const mtb_score_result *r, const char *a, const char *b, char *buf,
                         size_t cap)
{
    (void)a; /* named A and B in the text; see prompt.h */
    (void)b;
    size_t len = 0;
    if (cap > 0)
        buf[0] = '\0';
    if (!mtb_score_finite(r)) {
        append(buf, cap, &len, "no scores: the model's outputs are NaN or infinite (its weights "
               "overflowed)\n");
        return (int)len;
    }
    if (!r->pair) {
        append_sentiment(buf, cap, &len, "sentiment", r->sst[0], r->sst_label[0]);
    } else {
        append(buf, cap, &len, "paraphrase: %.3f   similarity: %.2f / 5\n",
               (double)r->para_prob, (double)r->sts_score);
        append_sentiment(buf, cap, &len, "sentiment A", r->sst[0], r->sst_label[0]);
        append_sentiment(buf, cap, &len, "sentiment B", r->sst[1], r->sst_label[1]);
    }
    return (int)len;
}

int prompt_append_untrained(const bool trained[MTB_N_TASKS], bool pair, char *buf, size_t len,
                            size_t cap)
{
    static const char *const head[MTB_N_TASKS] = {"sentiment", "paraphrase", "similarity"};
    const char *names[MTB_N_TASKS];
    int n = 0;
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (!trained[t] && (pair || t == MTB_TASK_SST))
            names[n++] = head[t];
    if (n == 0)
        return (int)len;
    append(buf, cap, &len, "note: this model never trained %s%s%s%s%s: %s nothing yet\n",
           names[0], n == 3 ? ", " : n == 2 ? " and " : "", n >= 2 ? names[1] : "",
           n == 3 ? " and " : "", n == 3 ? names[2] : "",
           n > 1 ? "those scores mean" : "that score means");
    return (int)len;
}

/* JSON has no NaN or infinity; a broken model's output becomes null. */
static void append_json_number(char *buf, size_t cap, size_t *len, double v)
{
    if (isfinite(v))
        append(buf, cap, len, "%.6f", v);
    else
        append(buf, cap, len, "null");
}

static void append_json_sentiment(char *buf, size_t cap, size_t *len, const float *probs,
                                  int label)
{
    bool finite = true;
    for (int c = 0; c < MTB_SST_CLASSES; c++)
        finite = finite && isfinite(probs[c]);
    if (finite)
        append(buf, cap, len, "{\"label\":%d,\"name\":\"%s\",\"probs\":[", label,
               mtb_sst_label_name(label));
    else
        append(buf, cap, len, "{\"label\":null,\"name\":null,\"probs\":[");
    for (int c = 0; c < MTB_SST_CLASSES; c++) {
        if (c)
            append(buf, cap, len, ",");
        append_json_number(buf, cap, len, (double)probs[c]);
    }
    append(buf, cap, len, "]}");
}

int prompt_format_json(const mtb_score_result *r, const bool trained[MTB_N_TASKS], char *buf,
                       size_t cap)
{
    size_t len = 0;
    if (cap > 0)
        buf[0] = '\0';
    if (!r->pair) {
        append(buf, cap, &len, "{\"sentiment\":");
        append_json_sentiment(buf, cap, &len, r->sst[0], r->sst_label[0]);
    } else {
        append(buf, cap, &len, "{\"paraphrase\":");
        append_json_number(buf, cap, &len, (double)r->para_prob);
        append(buf, cap, &len, ",\"similarity\":");
        append_json_number(buf, cap, &len, (double)r->sts_score);
        append(buf, cap, &len, ",\"sentiment\":[");
        append_json_sentiment(buf, cap, &len, r->sst[0], r->sst_label[0]);
        append(buf, cap, &len, ",");
        append_json_sentiment(buf, cap, &len, r->sst[1], r->sst_label[1]);
        append(buf, cap, &len, "]");
    }
    bool any = false;
    for (int t = 0; trained && t < MTB_N_TASKS; t++)
        if (!trained[t] && (r->pair || t == MTB_TASK_SST)) {
            append(buf, cap, &len, "%s\"%s\"", any ? "," : ",\"untrained\":[",
                   mtb_task_name((mtb_task)t));
            any = true;
        }
    append(buf, cap, &len, "%s}\n", any ? "]" : "");
    return (int)len;
}
