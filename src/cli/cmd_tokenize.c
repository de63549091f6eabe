/* mtbert tokenize: WordPiece ids of texts, one line each. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mtbert/tokenizer.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert tokenize --vocab FILE [TEXT...]\n"
            "\n"
            "Prints the WordPiece ids of each TEXT (or of each line of standard input),\n"
            "one line per text, separated by single spaces, without [CLS] and [SEP].\n"
            "Tokenization is BERT's uncased basic tokenizer followed by WordPiece.\n"
            "\n"
            "  -v, --vocab FILE   vocab.txt: one token per line, id = line number\n"
            "  -h, --help         show this help\n");
}

int cmd_tokenize(int argc, char **argv)
{
    static const struct option options[] = {
        {"vocab", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *vocab_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "v:h", options, NULL)) != -1) {
        switch (c) {
        case 'v': vocab_path = optarg; break;
        case 'h': usage(stdout); return FE_OK;
        default: return fe_bad_option("tokenize", argv[optind - 1]);
        }
    }
    if (!vocab_path)
        return fe_usage_error("tokenize", "--vocab FILE is required");

    mtb_error err = {0};
    mtb_vocab *vocab = NULL;
    if (mtb_vocab_load(vocab_path, &vocab, &err))
        return fe_report(&err);

    mtb_tokens tokens;
    mtb_tokens_init(&tokens);
    cli_texts texts;
    cli_texts_init(&texts, argv + optind, argc - optind);
    int status = FE_OK;
    const char *text;
    while ((text = cli_texts_next(&texts)) != NULL) {
        if (mtb_tokenize(vocab, text, strlen(text), &tokens, &err)) {
            status = fe_report(&err);
            break;
        }
        for (size_t i = 0; i < tokens.len; i++)
            printf(i ? " %d" : "%d", (int)tokens.ids[i]);
        putchar('\n');
    }
    if (fflush(stdout) != 0 && status == FE_OK) {
        perror("mtbert: standard output");
        status = FE_FAIL;
    }
    cli_texts_free(&texts);
    mtb_tokens_free(&tokens);
    mtb_vocab_free(vocab);
    return status;
}
