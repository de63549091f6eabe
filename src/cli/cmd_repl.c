/* mtbert repl: score typed sentences with a trained model, line by line.
 *
 * On a terminal it is a readline prompt with history and Tab completion; on
 * a pipe it reads plain lines and prints no prompt, so that it can be
 * scripted.  Training commands are understood (the workbench shares the
 * parser) but there is no training here to act on. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "mtbert/score.h"
#include "../front/prompt.h"
#include "../front/prompt_readline.h"
#include "../tui/command_table.h"
#include "run_setup.h"


enum { O_HELP = 3000 };

static const struct option repl_options[] = {
    CLI_MODEL_OPTIONS,
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void repl_usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert repl --model DIR [--json] [--max-length N] [--threads N]\n"
            "\n"
            "Scores what you type with a trained model: a sentence gets its sentiment,\n"
            "\"first || second\" the paraphrase probability, the similarity (0 to 5) and\n"
            "both sentiments.  :help lists the commands, :quit or Ctrl-D leaves.\n"
            "\n"
            "On a terminal the prompt has line editing, Tab completion of commands and\n"
            "a history kept in $XDG_STATE_HOME/mtbert/history (default\n"
            "~/.local/state/mtbert/history).  From a pipe it reads plain lines and\n"
            "prints only results, one block per line.\n"
            "\n"
            "  -m, --model DIR       an mtbert checkpoint (heads included)\n"
            "      --json            exactly one JSON object per input line, in order, with\n"
            "                        its line number: the scores (as score --json), or\n"
            "                        {\"line\":N,\"error\":\"...\"}; an empty line is\n"
            "                        {\"line\":N}\n"
            "      --max-length N    tokens per sentence (default 128; pairs 2N)\n"
            "      --threads N       compute threads\n"
            "      --precision P     fp32, bf16 or auto (default; bf16 where the CPU has\n"
            "                        bf16 units)\n"
            "  -h, --help            show this help\n");
}

typedef struct repl {
    mtb_scorer *scorer;
    const bool *trained; /* the model's heads that have trained */
    bool interactive;
    bool json;           /* --json: one object per line */
    long line_no;
    char out[1024];
} repl;

/* A problem with one line: the session goes on.  Scripts get the line
 * number; a person at the prompt has just typed the line. */
static void line_message(const repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_message(const repl *r, const char *fmt, ...)
{
    fflush(stdout); /* keep results and messages in order on a shared terminal */
    if (!r->interactive)
        fprintf(stderr, "mtbert repl: line %ld: ", r->line_no);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* A JSON string literal of text (quotes, backslashes and control
 * characters escaped). */
static void put_json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* --json: the line's one object.  kind "error" or "help" with text, or
 * NULL for {"line":N}. */
static void json_line(const repl *r, const char *kind, const char *text)
{
    printf("{\"line\":%ld", r->line_no);
    if (kind) {
        printf(",\"%s\":", kind);
        put_json_string(text);
    }
    fputs("}\n", stdout);
    fflush(stdout);
}

/* A line the repl cannot answer with scores: the message on stderr, or
 * --json's error object in the line's place. */
static void say_error(const repl *r, const char *message)
{
    if (r->json)
        json_line(r, "error", message);
    else
        line_message(r, "%s", message);
}

/* The handlers below return -1 to go on, else the exit status. */
typedef int (*command_handler)(repl *r, const prompt_cmd *cmd);

static int answer_blank(repl *r, const prompt_cmd *cmd)
{
    (void)cmd;
    if (r->json)
        json_line(r, NULL, NULL);
    return -1;
}

static int score_text(repl *r, const prompt_cmd *cmd)
{
    mtb_score_result res;
    mtb_error err = {0};
    const char *b = cmd->kind == PROMPT_PAIR ? cmd->b : NULL;
    if (mtb_score(r->scorer, cmd->a, b, &res, &err)) {
        if (!r->json)
            return fe_report(&err);
        json_line(r, "error", err.msg);
    } else if (r->json) {
        /* the scores' object, with the line number first */
        char body[2048];
        prompt_format_json(&res, r->trained, body, sizeof body);
        printf("{\"line\":%ld,%s", r->line_no, body + 1);
    } else {
        prompt_append_untrained(r->trained, b != NULL, r->out,
                                (size_t)prompt_format_result(&res, cmd->a, b, r->out,
                                                             sizeof r->out),
                                sizeof r->out);
        fputs(r->out, stdout);
    }
    return -1;
}

/* Sentences, pairs, :help and :quit: what works without training. */
static const char *help_text(void)
{
    static char help[1024];
    if (!help[0])
        prompt_write_help(tui_prompt_commands, PROMPT_ANYWHERE, "Commands:", help, sizeof help);
    return help;
}

static int show_help(repl *r, const prompt_cmd *cmd)
{
    (void)cmd;
    if (r->json)
        json_line(r, "help", help_text());
    else
        fputs(help_text(), stdout);
    return -1;
}

static int quit(repl *r, const prompt_cmd *cmd)
{
    (void)cmd;
    if (r->json)
        json_line(r, NULL, NULL);
    return FE_OK;
}

static int show_error(repl *r, const prompt_cmd *cmd)
{
    say_error(r, cmd->error);
    return -1;
}

/* What the repl runs; the other commands are refused by their scope. */
static const command_handler handlers[PROMPT_KINDS] = {
    [PROMPT_EMPTY] = answer_blank, [PROMPT_TEXT] = score_text, [PROMPT_PAIR] = score_text,
    [PROMPT_HELP] = show_help,     [PROMPT_QUIT] = quit,       [PROMPT_ERROR] = show_error,
    /* A slip kept as it was (this table changed no behaviour): :cursor gets
     * its empty error message rather than "that command is the workbench's". */
    [PROMPT_CURSOR] = show_error,
};

/* Returns -1 to go on, else the exit status. */
static int handle_line(repl *r, const char *line)
{
    prompt_cmd cmd;
    /* the workbench's commands, so that one used here is explained as there */
    prompt_parse_in(tui_prompt_commands, line, &cmd);
    int status = -1;
    if (handlers[cmd.kind])
        status = handlers[cmd.kind](r, &cmd);
    else if (cmd.command->scope == PROMPT_TRAINING)
        say_error(r, "no training in this session (use mtbert tui)");
    else
        say_error(r, "that command is the workbench's (mtbert tui)");
    /* A script driving the repl through a pipe waits for each answer. */
    fflush(stdout);
    return status;
}

static int run_piped(repl *r)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int status = -1;
    while (status < 0 && (n = getline(&line, &cap, stdin)) >= 0) {
        r->line_no++;
        status = handle_line(r, line);
    }
    free(line);
    return status < 0 ? FE_OK : status;
}

/* ---- the terminal prompt ---- */

static int run_interactive(repl *r)
{
    /* Lets readline edit multibyte UTF-8 text; numbers stay in the C locale. */
    setlocale(LC_CTYPE, "");
    rl_readline_name = "mtbert";
    /* With stdout redirected to a file, the prompt and banner stay on the
     * terminal and the file gets results only. */
    FILE *ui = isatty(STDOUT_FILENO) ? stdout : stderr;
    rl_outstream = ui;
    rl_attempted_completion_function = prompt_complete;
    prompt_complete_commands(tui_prompt_commands, PROMPT_ANYWHERE); /* nothing to train here */
    char hist[4096];
    bool keep = prompt_history_open(hist, sizeof hist);
    fprintf(ui, "mtbert repl: type a sentence, or two separated by ||; :help for more\n");
    int status = -1;
    char *line;
    while (status < 0 && (line = readline("mtbert> ")) != NULL) {
        r->line_no++;
        prompt_history_add(line, keep ? hist : NULL);
        status = handle_line(r, line);
        free(line);
    }
    if (status < 0)
        fputc('\n', ui); /* Ctrl-D leaves the cursor after the prompt */
    if (keep)
        prompt_history_close(hist);
    return status < 0 ? FE_OK : status;
}

int cmd_repl(int argc, char **argv)
{
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    int c, opt_status;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", repl_options, NULL)) != -1) {
        if (cli_model_option(c, optarg, "repl", &mo, &opt_status)) {
            if (opt_status >= 0)
                return opt_status;
            continue;
        }
        switch (c) {
        case 'h':
        case O_HELP: repl_usage(stdout); return FE_OK;
        default: return fe_bad_option("repl", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fe_usage_error("repl", "unexpected argument '%s' (type sentences at the "
                               "prompt, or use mtbert score)", argv[optind]);
    if (!mo.model_dir)
        return fe_usage_error("repl", "--model DIR is required");
    cli_model_opts_apply(&mo);

    mtb_error err = {0};
    mtb_multitask mt;
    if (fe_load_trained_model(mo.model_dir, &mt, &err))
        return fe_report(&err);
    repl r = {.interactive = isatty(STDIN_FILENO) != 0, .trained = mt.trained, .json = mo.json};
    int status;
    if (mtb_scorer_create(&r.scorer, &mt, mo.max_len, &err))
        status = fe_report(&err);
    else
        status = r.interactive ? run_interactive(&r) : run_piped(&r);
    mtb_scorer_destroy(r.scorer);
    mtb_multitask_free(&mt);
    return status;
}
