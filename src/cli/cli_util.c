/* What several commands share and nothing else does: the texts to process
 * (arguments or standard input), the bundled demo data's folder, and the
 * options of every command that scores with a trained model. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mtbert/precision.h"
#include "run_setup.h"

void cli_texts_init(cli_texts *t, char **args, int n_args)
{
    memset(t, 0, sizeof *t);
    t->args = args;
    t->n_args = n_args;
}

const char *cli_texts_next(cli_texts *t)
{
    if (t->n_args > 0)
        return t->pos < t->n_args ? t->args[t->pos++] : NULL;
    ssize_t n = getline(&t->line, &t->line_cap, stdin);
    if (n < 0)
        return NULL;
    t->line_no++;
    while (n > 0 && (t->line[n - 1] == '\n' || t->line[n - 1] == '\r'))
        t->line[--n] = '\0';
    return t->line;
}

void cli_texts_free(cli_texts *t)
{
    free(t->line);
    memset(t, 0, sizeof *t);
}

const char *cli_demo_dir(void)
{
    static char path[4096];
    struct stat st;
    const char *env = getenv("MTBERT_DATA_DIR");
    const char *candidates[] = {env, MTBERT_SOURCE_DATA_DIR, MTBERT_INSTALLED_DATA_DIR};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        if (!candidates[i] || !*candidates[i])
            continue;
        snprintf(path, sizeof path, "%s/demo", candidates[i]);
        char vocab[4200];
        snprintf(vocab, sizeof vocab, "%s/vocab.txt", path);
        if (stat(vocab, &st) == 0)
            return path;
    }
    return NULL;
}

void cli_model_opts_init(cli_model_opts *o)
{
    *o = (cli_model_opts){.max_len = 128, .precision = MTB_PRECISION_AUTO};
}

bool cli_model_option(int c, const char *arg, const char *command, cli_model_opts *o,
                      int *status)
{
    *status = -1;
    switch (c) {
    case 'm':
    case CLI_OPT_MODEL: o->model_dir = arg; return true;
    case CLI_OPT_JSON: o->json = true; return true;
    case CLI_OPT_MAX_LEN:
        if (!fe_parse_int(arg, 4, 4096, &o->max_len))
            *status = fe_usage_error(command, "--max-length must be an integer in 4..4096");
        return true;
    case CLI_OPT_THREADS:
        if (!fe_parse_int(arg, 1, 1024, &o->threads))
            *status = fe_usage_error(command, "--threads must be an integer in 1..1024");
        return true;
    case CLI_OPT_PRECISION:
        if ((o->precision = fe_parse_precision(command, arg)) < 0)
            *status = FE_USAGE;
        return true;
    default: return false;
    }
}

void cli_model_opts_apply(const cli_model_opts *o)
{
    run_set_threads(o->threads);
    fe_apply_precision(o->precision, stderr);
}
