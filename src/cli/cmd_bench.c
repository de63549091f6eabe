/* mtbert bench: full training steps on a synthetic workload of fixed shape. */
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli.h"
#include "mtbert/batcher.h"
#include "mtbert/parallel.h"
#include "mtbert/profile.h"
#include "mtbert/trainer.h"
#include "run_setup.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert bench --config NAME --batch B --seq T [--mode MODE] [--threads N]\n"
            "                    [--steps N] [--warmup N] [--profile]\n"
            "\n"
            "Times full training steps (forward, backward, gradient merge, AdamW) of a\n"
            "fresh model on random tokens: an SST batch of B x T tokens, a paraphrase\n"
            "batch of B x 2T and two STS batches of B x T.  Prints ms/step, tokens/s and\n"
            "peak memory; the last line is \"tokens/s=... ms/step=...\".\n"
            "\n"
            "  --config NAME   tiny, mini, small, medium or base (default mini; base at\n"
            "                  8 x 128 needs about 8 GiB of memory)\n"
            "  --batch B       sequences per task batch (default 8)\n"
            "  --seq T         tokens per sequence (default 64)\n"
            "  --mode MODE     sum, pcgrad (default) or single:TASK\n"
            "  --threads N     compute threads (default: all cores)\n"
            "  --steps N       timed steps (default 5)\n"
            "  --warmup N      untimed steps first (default 1)\n"
            "  --profile       also print the time per kind of operation, and the dense\n"
            "                  layers' products alone (the floor of an OpenBLAS engine)\n"
            "  -h, --help      show this help\n");
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
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
    printf("dense products alone: %.1f ms; the step takes %.2fx that\n", dense,
           dense > 0 ? step_ms / dense : 0.0);
}

int cmd_bench(int argc, char **argv)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'}, {"batch", required_argument, NULL, 'b'},
        {"seq", required_argument, NULL, 's'},    {"mode", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 'j'}, {"steps", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'}, {"profile", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_name = "mini"; /* a default that fits any machine in seconds */
    int B = 8, T = 64, threads = 0, steps = 5, warmup = 1;
    bool profile = false;
    mtb_mode mode = MTB_MODE_PCGRAD;
    mtb_task single = MTB_TASK_SST;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'c': config_name = optarg; break;
        case 'p': profile = true; break;
        case 'b':
            if (!cli_parse_int(optarg, 1, 4096, &B))
                return cli_usage_error("bench", "--batch must be an integer in 1..4096");
            break;
        case 's':
            if (!cli_parse_int(optarg, 4, 256, &T))
                return cli_usage_error("bench", "--seq must be an integer in 4..256 (pairs use 2T "
                                       "of the model's 512 positions)");
            break;
        case 'm':
            if (mtb_mode_parse(optarg, &mode, &single))
                return cli_usage_error("bench", "--mode must be sum, pcgrad or single:TASK");
            break;
        case 'j':
            if (!cli_parse_int(optarg, 1, 1024, &threads))
                return cli_usage_error("bench", "--threads must be an integer in 1..1024");
            break;
        case 'n':
            if (!cli_parse_int(optarg, 1, 100000, &steps))
                return cli_usage_error("bench", "--steps must be a positive integer");
            break;
        case 'w':
            if (!cli_parse_int(optarg, 0, 100000, &warmup))
                return cli_usage_error("bench", "--warmup must be a non-negative integer");
            break;
        case 'h': usage(stdout); return CLI_OK;
        default: return cli_bad_option("bench", argv[optind - 1]);
        }
    }
    mtb_config cfg;
    if (mtb_config_named(config_name, 30522, &cfg))
        return cli_usage_error("bench", "--config must be tiny, mini, small, medium or base");
    run_set_threads(threads);

    mtb_error err = {0};
    mtb_multitask mt;
    memset(&mt, 0, sizeof mt);
    mtb_rng rng;
    mtb_rng_seed(&rng, 1);
    if (mtb_bert_init(&mt.bert, &cfg, &err))
        return cli_report(&err);
    if (mtb_heads_init(&mt.heads, cfg.hidden_size)) {
        mtb_bert_free(&mt.bert);
        return CLI_FAIL;
    }
    mtb_bert_init_random(&mt.bert, &rng);
    mtb_heads_init_random(&mt.heads, &rng);
    mt.pooling = MTB_POOL_CLS;
    mt.head_dropout = 0.3f;

    mtb_train_options opt;
    mtb_train_options_defaults(&opt);
    opt.mode = mode;
    opt.single_task = single;
    opt.max_len = T;
    opt.max_steps = steps + warmup;
    for (int t = 0; t < MTB_N_TASKS; t++)
        opt.batch[t] = B;
    mtb_trainer *tr = NULL;
    int status = CLI_OK;
    mtb_task_batch tb[MTB_N_TASKS];
    memset(tb, 0, sizeof tb);
    if (mtb_trainer_create(&tr, &mt, &opt, NULL, NULL, &err)) {
        status = cli_report(&err);
        goto done;
    }
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (mtb_task_batch_alloc(&tb[t], (mtb_task)t, B, 2 * T)) {
            status = CLI_FAIL;
            goto done;
        }
        random_batch(&tb[t].a, B, t == MTB_TASK_PARA ? 2 * T : T, cfg.vocab_size,
                     t == MTB_TASK_PARA, &rng);
        if (t == MTB_TASK_STS)
            random_batch(&tb[t].b, B, T, cfg.vocab_size, false, &rng);
        for (int i = 0; i < B; i++) {
            tb[t].labels_int[i] = (int)mtb_rng_below(&rng, 5);
            tb[t].labels[i] = t == MTB_TASK_PARA ? (float)(i & 1) : 5.0f * mtb_rng_uniform(&rng);
        }
    }
    const mtb_task_batch *ptr[MTB_N_TASKS] = {&tb[0], &tb[1], &tb[2]};
    long tokens = 0;
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (mode == MTB_MODE_SINGLE ? t == (int)single : true)
            tokens += (long)B * T * (t == MTB_TASK_SST ? 1 : 2);

    char machine[512];
    mtb_machine_describe(machine, sizeof machine);
    printf("machine: %s\n", machine);
    printf("config %s: %d layers, hidden %d, %zu parameters; mode %s; batch %d x %d tokens\n",
           config_name, cfg.num_layers, cfg.hidden_size, mt.bert.n_params,
           mode == MTB_MODE_SUM ? "sum" : mode == MTB_MODE_PCGRAD ? "pcgrad" : "single", B, T);
    float loss[MTB_N_TASKS];
    for (int i = 0; i < warmup; i++)
        mtb_trainer_step(tr, ptr, loss, NULL);
    mtb_profile_enable(profile);
    double t0 = seconds();
    for (int i = 0; i < steps; i++) {
        mtb_trainer_step(tr, ptr, loss, NULL);
        fprintf(stderr, "\rstep %d/%d", i + 1, steps);
    }
    double dt = (seconds() - t0) / steps;
    fputc('\n', stderr);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("ms/step    %.1f\n", dt * 1e3);
    printf("tokens/s   %.0f (%ld tokens per step)\n", (double)tokens / dt, tokens);
    printf("peak RSS   %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
    if (profile) {
        mtb_profile_enable(false);
        print_profile(mtb_profile_get(), steps, dt);
    }
    printf("tokens/s=%.0f ms/step=%.1f\n", (double)tokens / dt, dt * 1e3);
done:
    for (int t = 0; t < MTB_N_TASKS; t++)
        mtb_task_batch_free(&tb[t]);
    mtb_trainer_destroy(tr);
    mtb_bert_free(&mt.bert);
    mtb_heads_free(&mt.heads);
    return status;
}
