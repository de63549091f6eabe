/* mtbert score: one sentence or one pair, scored once, as text or JSON. */
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mtbert/score.h"
#include "../front/prompt.h"
#include "run_setup.h"

enum { O_HELP = 3100 };

static const struct option score_options[] = {
    CLI_MODEL_OPTIONS,
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void score_usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert score --model DIR [--json] TEXT [TEXT2]\n"
            "\n"
            "Scores TEXT with a trained model: its sentiment, or with TEXT2 the paraphrase\n"
            "probability, the similarity (0 to 5) and both sentiments.\n"
            "\n"
            "  -m, --model DIR       an mtbert checkpoint (heads included)\n"
            "      --json            one JSON line instead of text:\n"
            "                        {\"sentiment\":{\"label\":..,\"name\":..,\"probs\":[..]}}, or\n"
            "                        {\"paraphrase\":..,\"similarity\":..,\"sentiment\":[{..},{..}]}\n"
            "      --max-length N    tokens per sentence (default 128; pairs 2N)\n"
            "      --threads N       compute threads\n"
            "      --precision P     fp32, bf16 or auto (default; bf16 where the CPU has\n"
            "                        bf16 units)\n"
            "  -h, --help            show this help\n");
}

int cmd_score(int argc, char **argv)
{
    cli_model_opts mo;
    cli_model_opts_init(&mo);
    int c, status;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", score_options, NULL)) != -1) {
        if (cli_model_option(c, optarg, "score", &mo, &status)) {
            if (status >= 0)
                return status;
            continue;
        }
        switch (c) {
        case 'h':
        case O_HELP: score_usage(stdout); return FE_OK;
        default: return fe_bad_option("score", argv[optind - 1]);
        }
    }
    if (!mo.model_dir)
        return fe_usage_error("score", "--model DIR is required");
    int n_texts = argc - optind;
    if (n_texts < 1)
        return fe_usage_error("score", "nothing to score: give TEXT, or TEXT TEXT2 for a pair");
    if (n_texts > 2)
        return fe_usage_error("score", "unexpected argument '%s': give one text, or two for "
                               "a pair", argv[optind + 2]);
    const char *a = argv[optind], *b = n_texts == 2 ? argv[optind + 1] : NULL;
    for (int i = 0; i < n_texts; i++)
        if (strlen(argv[optind + i]) > PROMPT_TEXT_MAX)
            return fe_usage_error("score", "%s is too long (at most %d bytes)",
                                   n_texts == 1 ? "the text" : "a sentence of the pair",
                                   PROMPT_TEXT_MAX);
    cli_model_opts_apply(&mo);

    mtb_error err = {0};
    mtb_multitask mt;
    if (fe_load_trained_model(mo.model_dir, &mt, &err))
        return fe_report(&err);
    mtb_scorer *s = NULL;
    mtb_score_result r;
    status = FE_OK;
    if (mtb_scorer_create(&s, &mt, mo.max_len, &err) || mtb_score(s, a, b, &r, &err)) {
        status = fe_report(&err);
    } else if (mo.json) {
        char out[2048];
        prompt_format_json(&r, mt.trained, out, sizeof out);
        fputs(out, stdout);
    } else {
        char out[1024];
        prompt_append_untrained(mt.trained, b != NULL, out,
                                (size_t)prompt_format_result(&r, a, b, out, sizeof out),
                                sizeof out);
        fputs(out, stdout);
    }
    mtb_scorer_destroy(s);
    mtb_multitask_free(&mt);
    return status;
}
