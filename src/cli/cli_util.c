#include "cli.h"

#include "mtbert/model_dir.h"

#include <errno.h>
#include <math.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

