/* mtbert encode: sentence encodings from a BERT checkpoint folder. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mtbert/bert.h"
#include "mtbert/model_dir.h"
#include "mtbert/sentence.h"
#include "mtbert/tokenizer.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert encode --model DIR [--pooling cls|mean|pooler] [TEXT...]\n"
            "\n"
            "Prints the sentence encoding of each TEXT (or of each line of standard input)\n"
            "as space-separated floats, one line per text.  Texts are encoded as\n"
            "[CLS] text [SEP] and run through the encoder in padded batches; the result\n"
            "does not depend on the batching.\n"
            "\n"
            "  -m, --model DIR        Hugging Face BERT folder (config.json, vocab.txt,\n"
            "                         model.safetensors)\n"
            "  -p, --pooling MODE     cls: final hidden state of [CLS] (default);\n"
            "                         mean: mean of the final hidden states over the tokens;\n"
            "                         pooler: BERT's tanh pooler output\n"
            "  -b, --batch N          texts per forward pass (default 32)\n"
            "  -l, --max-length N     truncate to N tokens including [CLS] and [SEP]\n"
            "                         (default: the model's max_position_embeddings)\n"
            "  -h, --help             show this help\n");
}

typedef struct encode_job {
    const mtb_bert *model;
    const mtb_vocab *vocab;
    mtb_pooling pooling;
    int batch_cap, max_len;
    mtb_bert_acts acts;
    mtb_tokens work;
    int *ids, *types, *lengths; /* (batch_cap, max_len), (batch_cap, max_len), (batch_cap) */
    float *enc;                 /* (batch_cap, H) */
    int n;                      /* texts queued */
} encode_job;

static int flush_batch(encode_job *job)
{
    if (job->n == 0)
        return FE_OK;
    const int H = job->model->cfg.hidden_size;
    int T = 0;
    for (int b = 0; b < job->n; b++)
        if (job->lengths[b] > T)
            T = job->lengths[b];
    /* Repack from stride max_len to stride T, padding each row. */
    const int pad = mtb_vocab_specials(job->vocab)->pad;
    for (int b = 0; b < job->n; b++) {
        int *row_ids = job->ids + (size_t)b * T, *row_types = job->types + (size_t)b * T;
        memmove(row_ids, job->ids + (size_t)b * job->max_len, sizeof(int) * job->lengths[b]);
        memmove(row_types, job->types + (size_t)b * job->max_len,
                sizeof(int) * job->lengths[b]);
        for (int t = job->lengths[b]; t < T; t++) {
            row_ids[t] = pad;
            row_types[t] = 0;
        }
    }
    mtb_batch batch = {job->n, T, job->ids, job->types, job->lengths};
    mtb_bert_forward(job->model, &job->acts, &batch, false, NULL);
    mtb_sentence_encode(&job->acts, H, job->pooling, job->enc);
    for (int b = 0; b < job->n; b++) {
        const float *e = job->enc + (size_t)b * H;
        for (int h = 0; h < H; h++)
            printf(h ? " %.7g" : "%.7g", e[h]);
        putchar('\n');
    }
    job->n = 0;
    return FE_OK;
}

int cmd_encode(int argc, char **argv)
{
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},
        {"pooling", required_argument, NULL, 'p'},
        {"batch", required_argument, NULL, 'b'},
        {"max-length", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *model_dir = NULL;
    int pooling = MTB_POOL_CLS, batch_cap = 32, max_len = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:b:l:h", options, NULL)) != -1) {
        switch (c) {
        case 'm': model_dir = optarg; break;
        case 'p':
            pooling = mtb_pooling_parse(optarg);
            if (pooling < 0)
                return fe_usage_error("encode", "--pooling must be cls, mean or pooler, not '%s'",
                                       optarg);
            break;
        case 'b':
            if (!fe_parse_int(optarg, 1, 4096, &batch_cap))
                return fe_usage_error("encode", "--batch must be an integer in 1..4096, not '%s'",
                                       optarg);
            break;
        case 'l':
            if (!fe_parse_int(optarg, 2, 1 << 20, &max_len))
                return fe_usage_error("encode", "--max-length must be an integer >= 2, not '%s'",
                                       optarg);
            break;
        case 'h': usage(stdout); return FE_OK;
        default: return fe_bad_option("encode", argv[optind - 1]);
        }
    }
    if (!model_dir)
        return fe_usage_error("encode", "--model DIR is required");

    mtb_error err = {0};
    mtb_bert model;
    mtb_vocab *vocab = NULL;
    if (mtb_model_dir_load(model_dir, &model, &vocab, &err))
        return fe_report(&err);
    if (max_len == 0 || max_len > model.cfg.max_position)
        max_len = model.cfg.max_position;

    encode_job job = {.model = &model, .vocab = vocab, .pooling = (mtb_pooling)pooling,
                      .batch_cap = batch_cap, .max_len = max_len};
    mtb_tokens_init(&job.work);
    int status = FE_OK;
    job.ids = malloc(sizeof(int) * (size_t)batch_cap * max_len);
    job.types = malloc(sizeof(int) * (size_t)batch_cap * max_len);
    job.lengths = malloc(sizeof(int) * (size_t)batch_cap);
    job.enc = malloc(sizeof(float) * (size_t)batch_cap * model.cfg.hidden_size);
    if (!job.ids || !job.types || !job.lengths || !job.enc) {
        mtb_error_set(&err, MTB_EFAIL, "out of memory");
        status = fe_report(&err);
    } else if (mtb_bert_acts_init(&job.acts, &model.cfg, batch_cap, max_len, false, &err)) {
        status = fe_report(&err);
    } else {
        cli_texts texts;
        cli_texts_init(&texts, argv + optind, argc - optind);
        const char *text;
        while ((text = cli_texts_next(&texts)) != NULL) {
            size_t len;
            int b = job.n;
            if (mtb_encode_single(vocab, text, strlen(text), (size_t)max_len, &job.work,
                                  job.ids + (size_t)b * max_len,
                                  job.types + (size_t)b * max_len, &len, &err)) {
                status = fe_report(&err);
                break;
            }
            job.lengths[b] = (int)len;
            if (++job.n == batch_cap)
                flush_batch(&job);
        }
        if (status == FE_OK)
            flush_batch(&job);
        cli_texts_free(&texts);
        mtb_bert_acts_free(&job.acts);
    }
    if (fflush(stdout) != 0 && status == FE_OK) {
        perror("mtbert: standard output");
        status = FE_FAIL;
    }
    free(job.ids);
    free(job.types);
    free(job.lengths);
    free(job.enc);
    mtb_tokens_free(&job.work);
    mtb_vocab_free(vocab);
    mtb_bert_free(&model);
    return status;
}
