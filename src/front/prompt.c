/* The sentence prompt: what a typed line means (the commands themselves are
 * in prompt_commands.c and the front ends' tables), the help, and the result
 * text. */
#include "prompt.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mtbert/data.h"

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

bool prompt_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void prompt_trim(const char **begin, const char **end)
{
    while (*begin < *end && prompt_is_space(**begin))
        (*begin)++;
    while (*end > *begin && prompt_is_space((*end)[-1]))
        (*end)--;
}

void prompt_set_error(prompt_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd->error, sizeof cmd->error, fmt, ap);
    va_end(ap);
    cmd->kind = PROMPT_ERROR;
}

bool prompt_copy_span(char *dst, size_t cap, const char *begin, const char *end)
{
    size_t n = (size_t)(end - begin);
    if (n >= cap)
        return false;
    memcpy(dst, begin, n);
    dst[n] = '\0';
    return true;
}

bool prompt_span_is(const char *begin, const char *end, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(end - begin) == n && memcmp(begin, word, n) == 0;
}

static const prompt_command *const shared_commands[] = {
    &prompt_cmd_pause, &prompt_cmd_resume, &prompt_cmd_save,      &prompt_cmd_eval,
    &prompt_cmd_mode,  &prompt_cmd_lr,     &prompt_cmd_errors,    &prompt_cmd_confusion,
    &prompt_cmd_help,  &prompt_cmd_quit,   NULL,
};

static const prompt_command *find_command(const prompt_command *const *set, const char *begin,
                                          const char *end)
{
    for (; *set; set++)
        if (prompt_span_is(begin, end, (*set)->name) ||
            ((*set)->alias && prompt_span_is(begin, end, (*set)->alias)))
            return *set;
    return NULL;
}

/* begin..end is the trimmed line, starting with ':'. */
static void parse_command(const prompt_command *const *set, const char *begin, const char *end,
                          prompt_cmd *cmd)
{
    const char *word_end = begin;
    while (word_end < end && !prompt_is_space(*word_end))
        word_end++;
    const char *arg = word_end, *arg_end = end;
    prompt_trim(&arg, &arg_end);

    const prompt_command *c = find_command(set, begin, word_end);
    if (!c) {
        /* Bounded so that a pasted paragraph does not fill the message. */
        int n = (int)(word_end - begin);
        prompt_set_error(cmd, "unknown command '%.*s%s' (try :help)", n > 40 ? 40 : n, begin,
                         n > 40 ? "..." : "");
        return;
    }
    if (!c->parse && arg < arg_end) {
        /* as typed: the name or the alias */
        prompt_set_error(cmd, "%.*s takes no argument", (int)(word_end - begin), begin);
        return;
    }
    if (c->parse && !c->parse(arg, arg_end, cmd))
        return;
    cmd->kind = c->kind;
    cmd->command = c;
}

void prompt_parse_in(const prompt_command *const *set, const char *line, prompt_cmd *cmd)
{
    memset(cmd, 0, sizeof *cmd);
    const char *begin = line, *end = line + strlen(line);
    prompt_trim(&begin, &end);
    if (begin == end) {
        cmd->kind = PROMPT_EMPTY;
        return;
    }
    if (*begin == ':') {
        parse_command(set, begin, end, cmd);
        return;
    }
    const char *bar = memmem(begin, (size_t)(end - begin), "||", 2);
    if (!bar) {
        if (!prompt_copy_span(cmd->a, sizeof cmd->a, begin, end)) {
            cmd->too_long = true;
            prompt_set_error(cmd, "the text is too long (at most %zu bytes)", sizeof cmd->a - 1);
            return;
        }
        cmd->kind = PROMPT_TEXT;
        return;
    }
    if (memmem(bar + 2, (size_t)(end - bar - 2), "||", 2)) {
        prompt_set_error(cmd, "a pair has exactly one ||");
        return;
    }
    const char *a = begin, *a_end = bar, *b = bar + 2, *b_end = end;
    prompt_trim(&a, &a_end);
    prompt_trim(&b, &b_end);
    if (a == a_end || b == b_end) {
        prompt_set_error(cmd, "a pair needs a sentence on each side of ||");
        return;
    }
    if (!prompt_copy_span(cmd->a, sizeof cmd->a, a, a_end) ||
        !prompt_copy_span(cmd->b, sizeof cmd->b, b, b_end)) {
        cmd->too_long = true;
        prompt_set_error(cmd, "a sentence of the pair is too long (at most %zu bytes)",
                         sizeof cmd->a - 1);
        return;
    }
    cmd->kind = PROMPT_PAIR;
}

void prompt_parse(const char *line, prompt_cmd *cmd)
{
    prompt_parse_in(shared_commands, line, cmd);
}

void prompt_command_names(const prompt_command *const *set, prompt_scope upto, const char **names,
                          size_t cap)
{
    size_t n = 0;
    for (; *set && n + 1 < cap; set++)
        if ((*set)->scope <= upto)
            names[n++] = (*set)->name;
    if (cap > 0)
        names[n] = NULL;
}

int prompt_write_help(const prompt_command *const *set, prompt_scope upto, const char *heading,
                      char *buf, size_t cap)
{
    size_t len = 0;
    if (cap > 0)
        buf[0] = '\0';
    append(buf, cap, &len,
           "Type a sentence to see its sentiment, or two sentences separated by || to see\n"
           "whether they are paraphrases (probability) and how similar they are (0 to 5):\n"
           "  the movie was wonderful\n"
           "  a man is playing a guitar || someone plays the guitar\n"
           "%s\n",
           heading);
    for (; *set; set++)
        if ((*set)->scope <= upto)
            append(buf, cap, &len, "%s", (*set)->usage);
    return (int)len;
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
