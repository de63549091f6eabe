/* mtbert bench: full training steps on a synthetic workload of fixed shape,
 * or on batches drawn from the course data as `mtbert train` draws them. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "mtbert/batcher.h"
#include "mtbert/clock.h"
#include "mtbert/gemm.h"
#include "mtbert/machine.h"
#include "mtbert/parallel.h"
#include "mtbert/precision.h"
#include "mtbert/profile.h"
#include "mtbert/score.h"
#include "mtbert/trainer.h"
#include "run_setup.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert bench --config NAME --batch B --seq T [--mode MODE] [--threads N]\n"
            "                    [--steps N] [--warmup N] [--precision P] [--gemm WAY]\n"
            "                    [--profile]\n"
            "       mtbert bench --data DIR [--vocab FILE] [--config NAME] [--batch B]\n"
            "                    [--dump-batches FILE] [options above]\n"
            "\n"
            "Times full training steps (forward, backward, gradient merge, AdamW) of a\n"
            "fresh model.  Without --data, on random tokens: an SST batch of B x T\n"
            "tokens, a paraphrase batch of B x 2T and two STS batches of B x T.  With\n"
            "--data, on the course files in DIR, batches drawn and cut as `mtbert train`\n"
            "does (random order, longest sequence at most 128 tokens, pairs 256; the\n"
            "fresh model's defaults: mean pooling, dropout).  Prints ms/step, tokens/s\n"
            "and peak memory; the last line is \"tokens/s=... ms/step=...\".\n"
            "\n"
            "  --config NAME   tiny, mini, small, medium or base (default mini; base at\n"
            "                  8 x 128 needs about 8 GiB of memory)\n"
            "  --batch B       sequences per task batch (default 8)\n"
            "  --seq T         tokens per sequence (default 64)\n"
            "  --mode MODE     sum, pcgrad (default), mgda or single:TASK\n"
            "  --threads N     compute threads (default: all cores)\n"
            "  --steps N       timed steps (default 5)\n"
            "  --warmup N      untimed steps first (default 1)\n"
            "  --precision P   the dense products: fp32, bf16 or auto (default: bf16\n"
            "                  where the CPU has bf16 units)\n"
            "  --gemm WAY      large fp32 products on mtbert's pool (pool), on OpenBLAS's\n"
            "                  threads (openblas), or the faster per kind of product, timed\n"
            "                  once and cached (auto, the default; MTBERT_GEMM sets it too)\n"
            "  --profile       also print the time per kind of operation, and the step's\n"
            "                  dense products alone, each way (pool, OpenBLAS's threads):\n"
            "                  the fastest is the floor of an OpenBLAS engine\n"
            "  --data DIR      the course data folder (ids-sst-train.csv, quora-train*.csv,\n"
            "                  sts-train.csv); mode default sum\n"
            "  --vocab FILE    WordPiece vocabulary (default DIR/bert-base-uncased-vocab.txt)\n"
            "  --dump-batches FILE  write every step's batches (token ids, labels) to FILE,\n"
            "                  so another implementation can replay the same work\n"
            "  -h, --help      show this help\n");
}

static void random_batch(mtb_batch *b, int B, int T, int vocab, bool pair, mtb_rng *rng)
{
    b->B = B;
    b->T = T;
    for (int i = 0; i < B; i++) {
        for (int t = 0; t < T; t++) {
            b->ids[i * T + t] = 1000 + (int)mtb_rng_below(rng, (uint32_t)(vocab - 1000));
            b->types[i * T + t] = pair && t >= T / 2;
        }
        b->ids[i * T] = 101;
        b->ids[i * T + T - 1] = 102;
        b->lengths[i] = T;
    }
}

/* The step's dense products again, alone, each way: what an engine built
 * on this OpenBLAS could at best spend on them (the floor), beside what
 * they took inside the step. */
static void print_floor(int steps, double dense_ms, double step_ms)
{
    const mtb_gemm_shape *shapes;
    const size_t n = mtb_gemm_recorded(&shapes);
    mtb_gemm_floor fl;
    if (n == 0 || mtb_gemm_replay(shapes, n, 3, &fl) != 0 || fl.best <= 0)
        return;
    const double per = 1e3 / steps;
    printf("the same %d products alone (%d shapes, fastest of 3 runs each%s):\n",
           fl.products / steps, fl.shapes,
           mtb_precision_get() == MTB_PRECISION_BF16 ? "; in fp32, the step's were bf16" : "");
    printf("  all on the pool %.1f ms, all on OpenBLAS's threads %.1f ms, "
           "the plan's ways %.1f ms\n",
           fl.seconds[MTB_WAY_POOL] * per, fl.seconds[MTB_WAY_OPENBLAS] * per, fl.planned * per);
    printf("  floor (each shape its faster way; OpenBLAS's threads faster for %d): %.1f ms\n",
           fl.openblas_faster, fl.best * per);
    printf("  in the step the products themselves took %.1f ms (the rest of the dense layers' "
           "%.1f ms: biases and their gradients)\n",
           fl.in_step * per, dense_ms - fl.in_step * per);
    printf("dense products in the step / floor: %.2fx; the step / floor: %.2fx\n",
           fl.in_step * per / (fl.best * per), step_ms / (fl.best * per));
}

/* The profile as a table, most expensive first, with what no operation
 * accounts for (loops between them, the divergence check) as "other". */
static void print_profile(const mtb_profile *p, int steps, double step_seconds)
{
    int order[MTB_PROF_N];
    for (int i = 0; i < MTB_PROF_N; i++)
        order[i] = i;
    for (int i = 1; i < MTB_PROF_N; i++)
        for (int j = i; j > 0 && p->seconds[order[j]] > p->seconds[order[j - 1]]; j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    const double step_ms = step_seconds * 1e3;
    double attributed = 0;
    printf("\n%-28s %10s %7s %9s\n", "operation", "ms/step", "share", "calls");
    for (int i = 0; i < MTB_PROF_N; i++) {
        const int op = order[i];
        const double ms = p->seconds[op] * 1e3 / steps;
        attributed += ms;
        if (p->calls[op] == 0)
            continue;
        printf("%-28s %10.2f %6.1f%% %9ld\n", mtb_profile_name((mtb_prof_op)op), ms,
               100.0 * ms / step_ms, p->calls[op] / steps);
    }
    printf("%-28s %10.2f %6.1f%%\n", "other", step_ms - attributed,
           100.0 * (step_ms - attributed) / step_ms);
    const double dense = (p->seconds[MTB_PROF_LINEAR_FWD] + p->seconds[MTB_PROF_LINEAR_BWD]) *
                         1e3 / steps;
    printf("dense products in the step: %.1f ms; the step takes %.2fx that\n", dense,
           dense > 0 ? step_ms / dense : 0.0);
    print_floor(steps, dense, step_ms);
}

static int bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bench_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mtbert bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return FE_FAIL;
}

/* One line per sequence: STEP TASK ROLE LABEL TYPE1_FROM ID..., ROLE a or b
 * (the second sentence of a similarity pair), TYPE1_FROM the first position
 * of token type 1 (the length when there is none).  bench/torch_bench.py
 * reads it back. */
static void dump_batch(FILE *f, long step, const mtb_task_batch *tb)
{
    const char *task = mtb_task_name(tb->task);
    for (int role = 0; role < (tb->task == MTB_TASK_STS ? 2 : 1); role++) {
        const mtb_batch *b = role ? &tb->b : &tb->a;
        for (int i = 0; i < b->B; i++) {
            const int *ids = b->ids + (size_t)i * b->T, *types = b->types + (size_t)i * b->T;
            const int len = b->lengths[i];
            int type1 = len;
            for (int t = 0; t < len; t++)
                if (types[t]) {
                    type1 = t;
                    break;
                }
            if (tb->task == MTB_TASK_SST)
                fprintf(f, "%ld %s a %d %d", step, task, tb->labels_int[i], type1);
            else
                fprintf(f, "%ld %s %c %.9g %d", step, task, role ? 'b' : 'a',
                        (double)tb->labels[i], type1);
            for (int t = 0; t < len; t++)
                fprintf(f, " %d", ids[t]);
            fputc('\n', f);
        }
    }
}

/* Real and padded tokens of the batches a step drew. */
static void count_tokens(const mtb_trainer *tr, long *real, long *padded)
{
    for (int t = 0; t < MTB_N_TASKS; t++) {
        const mtb_task_batch *tb = mtb_trainer_last_batch(tr, (mtb_task)t);
        if (!tb)
            continue;
        for (int role = 0; role < (t == MTB_TASK_STS ? 2 : 1); role++) {
            const mtb_batch *b = role ? &tb->b : &tb->a;
            *padded += (long)b->B * b->T;
            for (int i = 0; i < b->B; i++)
                *real += b->lengths[i];
        }
    }
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* What the workbench's prompt does for a typed pair (all three scores), on
 * the model just trained, with training paused: the median of 21. */
static int time_pair_score(mtb_multitask *mt, int *status)
{
    static const char *a = "A man is playing a guitar on the stage.";
    static const char *b = "Someone plays the guitar in front of an audience.";
    mtb_error err = {0};
    mtb_scorer *sc;
    if (mtb_scorer_create(&sc, mt, 128, &err))
        return *status = fe_report(&err);
    double ms[21];
    mtb_score_result r;
    for (int i = 0; i < 21; i++) {
        double t0 = mtb_now_seconds();
        if (mtb_score(sc, a, b, &r, &err)) {
            mtb_scorer_destroy(sc);
            return *status = fe_report(&err);
        }
        ms[i] = (mtb_now_seconds() - t0) * 1e3;
    }
    mtb_scorer_destroy(sc);
    qsort(ms, 21, sizeof *ms, compare_doubles);
    printf("pair score %.1f ms (median of 21: sentiment of both, paraphrase, similarity)\n",
           ms[10]);
    return FE_OK;
}

typedef struct bench_options {
    const char *config_name, *data_dir, *vocab, *dump;
    int B, T, threads, steps, warmup, precision, gemm;
    bool profile, mode_given;
    mtb_mode mode;
    mtb_task single;
} bench_options;

/* The course workload: a run set up as `mtbert train --data-dir DIR` would
 * be, stepping on the batches its trainer draws. */
static int setup_course(const bench_options *bo, run_config *rc, run_state *st)
{
    run_config_defaults(rc);
    rc->data_dir = strdup(bo->data_dir);
    rc->config_name = strdup(bo->config_name);
    char vocab[4096];
    if (bo->vocab)
        snprintf(vocab, sizeof vocab, "%s", bo->vocab);
    else if (!mtb_path_join(vocab, sizeof vocab, bo->data_dir, "bert-base-uncased-vocab.txt"))
        return fe_usage_error("bench", "--data: path too long");
    rc->vocab_path = strdup(vocab);
    char mode[32];
    mtb_mode_name(bo->mode_given ? bo->mode : MTB_MODE_SUM, bo->single, mode, sizeof mode);
    rc->mode = strdup(mode);
    rc->batch = bo->B;
    rc->max_steps = bo->steps + bo->warmup;
    rc->threads = bo->threads;
    rc->precision = bo->precision;
    rc->quiet = true;
    memset(st, 0, sizeof *st);
    return run_prepare(rc, st, stderr);
}

/* The synthetic workload: a fresh model and fixed random batches. */
typedef struct synthetic {
    mtb_multitask mt;
    mtb_task_batch tb[MTB_N_TASKS];
    mtb_trainer *tr;
} synthetic;

static int setup_synthetic(const bench_options *bo, const mtb_config *cfg, synthetic *sy)
{
    mtb_error err = {0};
    memset(sy, 0, sizeof *sy);
    mtb_rng rng;
    mtb_rng_seed(&rng, 1);
    if (mtb_bert_init(&sy->mt.bert, cfg, &err))
        return fe_report(&err);
    if (mtb_heads_init(&sy->mt.heads, cfg->hidden_size))
        return FE_FAIL;
    mtb_bert_init_random(&sy->mt.bert, &rng);
    mtb_heads_init_random(&sy->mt.heads, &rng);
    sy->mt.pooling = MTB_POOL_CLS;
    sy->mt.head_dropout = 0.3f;

    mtb_train_options opt;
    mtb_train_options_defaults(&opt);
    opt.mode = bo->mode;
    opt.single_task = bo->single;
    opt.max_len = bo->T;
    opt.max_steps = bo->steps + bo->warmup;
    for (int t = 0; t < MTB_N_TASKS; t++)
        opt.batch[t] = bo->B;
    if (mtb_trainer_create(&sy->tr, &sy->mt, &opt, NULL, NULL, &err))
        return fe_report(&err);
    const int B = bo->B, T = bo->T;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        mtb_task_batch *tb = &sy->tb[t];
        if (mtb_task_batch_alloc(tb, (mtb_task)t, B, 2 * T))
            return FE_FAIL;
        random_batch(&tb->a, B, t == MTB_TASK_PARA ? 2 * T : T, cfg->vocab_size,
                     t == MTB_TASK_PARA, &rng);
        if (t == MTB_TASK_STS)
            random_batch(&tb->b, B, T, cfg->vocab_size, false, &rng);
        for (int i = 0; i < B; i++) {
            tb->labels_int[i] = (int)mtb_rng_below(&rng, 5);
            tb->labels[i] = t == MTB_TASK_PARA ? (float)(i & 1) : 5.0f * mtb_rng_uniform(&rng);
        }
    }
    return FE_OK;
}

static void free_synthetic(synthetic *sy)
{
    for (int t = 0; t < MTB_N_TASKS; t++)
        mtb_task_batch_free(&sy->tb[t]);
    mtb_trainer_destroy(sy->tr);
    mtb_bert_free(&sy->mt.bert);
    mtb_heads_free(&sy->mt.heads);
}

/* The options that take a number: where it goes, its range, what a bad
 * one is told. */
typedef struct bench_number {
    int id;
    size_t offset; /* an int in bench_options */
    int lo, hi;
    const char *bad;
} bench_number;

static const bench_number bench_numbers[] = {
    {'b', offsetof(bench_options, B), 1, 4096, "--batch must be an integer in 1..4096"},
    {'s', offsetof(bench_options, T), 4, 256,
     "--seq must be an integer in 4..256 (pairs use 2T of the model's 512 positions)"},
    {'j', offsetof(bench_options, threads), 1, 1024, "--threads must be an integer in 1..1024"},
    {'n', offsetof(bench_options, steps), 1, 100000, "--steps must be a positive integer"},
    {'w', offsetof(bench_options, warmup), 0, 100000, "--warmup must be a non-negative integer"},
};

/* And those that take a string, kept as given. */
typedef struct bench_text {
    int id;
    size_t offset; /* a const char * in bench_options */
} bench_text;

static const bench_text bench_texts[] = {
    {'c', offsetof(bench_options, config_name)},
    {'d', offsetof(bench_options, data_dir)},
    {'v', offsetof(bench_options, vocab)},
    {'D', offsetof(bench_options, dump)},
};

/* argv into bo; -1 to go on, else the exit status. */
static int parse_bench_options(int argc, char **argv, bench_options *bo)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'}, {"batch", required_argument, NULL, 'b'},
        {"seq", required_argument, NULL, 's'},    {"mode", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 'j'}, {"steps", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'}, {"profile", no_argument, NULL, 'p'},
        {"data", required_argument, NULL, 'd'},   {"vocab", required_argument, NULL, 'v'},
        {"dump-batches", required_argument, NULL, 'D'}, {"help", no_argument, NULL, 'h'},
        {"precision", required_argument, NULL, 'P'}, {"gemm", required_argument, NULL, 'G'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        bool known = false;
        for (size_t k = 0; k < sizeof bench_numbers / sizeof *bench_numbers; k++)
            if (bench_numbers[k].id == c) {
                const bench_number *n = &bench_numbers[k];
                if (!fe_parse_int(optarg, n->lo, n->hi, (int *)((char *)bo + n->offset)))
                    return fe_usage_error("bench", "%s", n->bad);
                known = true;
            }
        for (size_t k = 0; k < sizeof bench_texts / sizeof *bench_texts; k++)
            if (bench_texts[k].id == c) {
                *(const char **)((char *)bo + bench_texts[k].offset) = optarg;
                known = true;
            }
        if (known)
            continue;
        switch (c) {
        case 'p': bo->profile = true; break;
        case 'P':
            if ((bo->precision = fe_parse_precision("bench", optarg)) < 0)
                return FE_USAGE;
            break;
        case 'G':
            if ((bo->gemm = mtb_gemm_mode_parse(optarg)) < 0)
                return fe_usage_error("bench", "--gemm must be pool, openblas or auto");
            mtb_gemm_set_mode((mtb_gemm_mode)bo->gemm);
            break;
        case 'm':
            if (mtb_mode_parse(optarg, &bo->mode, &bo->single))
                return fe_usage_error("bench", "--mode must be sum, pcgrad, mgda or single:TASK");
            bo->mode_given = true;
            break;
        case 'h': usage(stdout); return FE_OK;
        default: return fe_bad_option("bench", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fe_bad_option("bench", argv[optind]);
    if ((bo->vocab || bo->dump) && !bo->data_dir)
        return fe_usage_error("bench", "--vocab and --dump-batches need --data DIR");
    return -1;
}

/* What the timed steps measured. */
typedef struct bench_tally {
    long real, padded; /* tokens the steps held, and padded to each batch's longest */
    double elapsed;    /* seconds in the timed steps */
} bench_tally;

/* The warmup steps, then the timed ones with the profile on; each step's
 * batches into dump (may be NULL).  0, or the exit status of a failure. */
static int run_steps(mtb_trainer *tr, const mtb_task_batch *const *batches,
                     const bench_options *bo, FILE *dump, bench_tally *tally)
{
    float loss[MTB_N_TASKS];
    long step = 0;
    for (int i = 0; i < bo->warmup + bo->steps; i++, step++) {
        const bool timed = i >= bo->warmup;
        if (i == bo->warmup) {
            mtb_profile_enable(bo->profile);
            mtb_gemm_record(bo->profile);
        }
        double t0 = mtb_now_seconds();
        int rcode = mtb_trainer_step(tr, batches, loss, NULL);
        if (timed)
            tally->elapsed += mtb_now_seconds() - t0;
        if (rcode)
            return bench_fail("step %ld failed: %s", step + 1, mtb_trainer_divergence(tr));
        if (timed)
            count_tokens(tr, &tally->real, &tally->padded);
        for (int t = 0; dump && t < MTB_N_TASKS; t++)
            if (mtb_trainer_last_batch(tr, (mtb_task)t))
                dump_batch(dump, step, mtb_trainer_last_batch(tr, (mtb_task)t));
        if (timed)
            fprintf(stderr, "\rstep %d/%d", i - bo->warmup + 1, bo->steps);
    }
    fputc('\n', stderr);
    mtb_profile_enable(false);
    mtb_gemm_record(false);
    return FE_OK;
}

/* The workload the timed steps run on. */
typedef struct bench_workload {
    bool course;   /* the course data's, set up as train would; else synthetic */
    run_config rc; /* the course's run */
    run_state st;
    synthetic sy;
    FILE *dump;    /* --dump-batches */
    mtb_trainer *tr;
    const mtb_multitask *mt;
    const mtb_task_batch *sy_batches[MTB_N_TASKS];
    const mtb_task_batch *const *batches; /* NULL: the trainer draws them */
} bench_workload;

/* The course's run set up (by setup_course) and --dump-batches opened. */
static int open_course(const bench_options *bo, bench_workload *w)
{
    w->tr = w->st.trainer;
    w->mt = &w->st.model;
    if (bo->dump && !(w->dump = fopen(bo->dump, "w")))
        return bench_fail("%s: %s", bo->dump, strerror(errno));
    if (w->dump)
        fprintf(w->dump, "# mtbert bench --data batches: STEP TASK ROLE LABEL TYPE1_FROM "
                         "ID...\n");
    return FE_OK;
}

static int open_synthetic(const bench_options *bo, const mtb_config *cfg, bench_workload *w)
{
    run_set_threads(bo->threads);
    fe_apply_precision(bo->precision, stderr);
    int status = setup_synthetic(bo, cfg, &w->sy);
    if (status)
        return status;
    w->tr = w->sy.tr;
    w->mt = &w->sy.mt;
    for (int t = 0; t < MTB_N_TASKS; t++)
        w->sy_batches[t] = &w->sy.tb[t];
    w->batches = w->sy_batches;
    return FE_OK;
}

static int close_workload(const bench_options *bo, bench_workload *w, int status)
{
    if (w->dump && fclose(w->dump) != 0 && status == FE_OK)
        status = bench_fail("%s: %s", bo->dump, strerror(errno));
    if (w->course) {
        run_teardown(&w->st);
        run_config_free(&w->rc);
    } else {
        free_synthetic(&w->sy);
    }
    return status;
}

/* The machine, the model and the workload, before the steps. */
static void print_setup(const bench_options *bo, const bench_workload *w, mtb_mode mode)
{
    char machine[512], mode_name[32];
    mtb_machine_describe(machine, sizeof machine);
    printf("machine: %s\n", machine);
    const mtb_config *mc = &w->mt->bert.cfg;
    printf("config %s: %d layers, hidden %d, %zu parameters; mode %s; pooling %s; ",
           bo->config_name, mc->num_layers, mc->hidden_size, w->mt->bert.n_params,
           mtb_mode_name(mode, bo->single, mode_name, sizeof mode_name),
           mtb_pooling_name(w->mt->pooling));
    if (w->course)
        printf("course data %s, batch %d per task\n", bo->data_dir, bo->B);
    else
        printf("batch %d x %d tokens\n", bo->B, bo->T);
}

/* The synthetic batches' tokens: every one real, none padding. */
static void add_synthetic_tokens(const bench_options *bo, mtb_mode mode, bench_tally *tally)
{
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (mode == MTB_MODE_SINGLE ? t == (int)bo->single : true)
            tally->real += (long)bo->B * bo->T * (t == MTB_TASK_SST ? 1 : 2) * bo->steps;
    tally->padded = tally->real;
}

/* Time and tokens per step, peak memory, and how the products ran. */
static void print_rates(const bench_options *bo, bool course, const bench_tally *tally,
                        double dt, double tokens)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("ms/step    %.1f\n", dt * 1e3);
    printf("tokens/s   %.0f (%.0f tokens per step", tokens / dt, tokens);
    if (course)
        printf("; padded to the longest in each batch they would be %.0f: %.0f%% real",
               (double)tally->padded / bo->steps,
               100.0 * (double)tally->real / (double)tally->padded);
    printf(")\n");
    printf("peak RSS   %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    char gemm[160], precision[96];
    mtb_gemm_describe(gemm, sizeof gemm);
    mtb_precision_describe(precision, sizeof precision);
    printf("products   %s\n", gemm);
    printf("precision  %s\n", precision);
}

/* The steps on w, and their report. */
static int bench_workload_run(const bench_options *bo, bench_workload *w)
{
    const mtb_mode mode = w->course && !bo->mode_given ? MTB_MODE_SUM : bo->mode;
    print_setup(bo, w, mode);
    bench_tally tally = {0};
    int status = run_steps(w->tr, w->batches, bo, w->dump, &tally);
    if (status)
        return status;
    if (!w->course)
        add_synthetic_tokens(bo, mode, &tally);
    const double dt = tally.elapsed / bo->steps;
    const double tokens = (double)tally.real / bo->steps;
    print_rates(bo, w->course, &tally, dt, tokens);
    if (w->course && time_pair_score(&w->st.model, &status))
        return status;
    if (bo->profile)
        print_profile(mtb_profile_get(), bo->steps, dt);
    printf("tokens/s=%.0f ms/step=%.1f\n", tokens / dt, dt * 1e3);
    return FE_OK;
}

int cmd_bench(int argc, char **argv)
{
    /* mini: a default that fits any machine in seconds */
    bench_options bo = {.config_name = "mini", .B = 8, .T = 64, .steps = 5, .warmup = 1,
                        .mode = MTB_MODE_PCGRAD, .single = MTB_TASK_SST,
                        .precision = MTB_PRECISION_AUTO, .gemm = -1};
    int status = parse_bench_options(argc, argv, &bo);
    if (status >= 0)
        return status;
    mtb_config cfg;
    if (mtb_config_named(bo.config_name, 30522, &cfg))
        return fe_usage_error("bench", "--config must be tiny, mini, small, medium or base");

    bench_workload w;
    memset(&w, 0, sizeof w);
    w.course = bo.data_dir != NULL;
    if (w.course) {
        if ((status = setup_course(&bo, &w.rc, &w.st)) >= 0) {
            run_config_free(&w.rc);
            return status;
        }
        status = open_course(&bo, &w);
    } else {
        status = open_synthetic(&bo, &cfg, &w);
    }
    if (status == FE_OK)
        status = bench_workload_run(&bo, &w);
    return close_workload(&bo, &w, status);
}
