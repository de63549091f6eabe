/* mtbert: command dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"tokenize", cmd_tokenize, "print the WordPiece ids of texts"},
    {"encode", cmd_encode, "print sentence encodings from a BERT checkpoint"},
    {"train", cmd_train, "fine-tune on SST, Quora and STS (sum, PCGrad or one task)"},
    {"eval", cmd_eval, "accuracy and correlation of a trained model on dev files"},
    {"predict", cmd_predict, "write the course's prediction files for test splits"},
    {"bench", cmd_bench, "time training steps on a synthetic workload"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert [--help] [--version] COMMAND [ARGS...]\n"
            "\n"
            "A terminal workbench for multitask fine-tuning of BERT.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Run 'mtbert COMMAND --help' for a command's options, 'man mtbert' for everything.\n"
            "Exit status: 0 success, 1 failure, 2 bad usage or bad input.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return CLI_OK;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("mtbert %s\n", MTBERT_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "mtbert: unknown command '%s'\n", name);
    usage(stderr);
    return CLI_USAGE;
}
