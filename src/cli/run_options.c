/* The train/tui options: their table (one row per option), its help text,
 * and parsing a command line into a run_config by it.  With --resume the
 * saved run is the base (run_resume.c). */
#include "run_options.h"

#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mtbert/precision.h"

const char *run_mnrl_text(const mtb_pair_losses *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", l->mnrl_para && l->mnrl_sts ? "para,sts"
                             : l->mnrl_para              ? "para"
                             : l->mnrl_sts               ? "sts"
                                                         : "none");
    return buf;
}

bool run_parse_mnrl(const char *text, mtb_pair_losses *l)
{
    if (strcmp(text, "none") == 0)
        l->mnrl_para = l->mnrl_sts = false;
    else if (strcmp(text, "para") == 0)
        l->mnrl_para = true, l->mnrl_sts = false;
    else if (strcmp(text, "sts") == 0)
        l->mnrl_para = false, l->mnrl_sts = true;
    else if (strcmp(text, "para,sts") == 0 || strcmp(text, "sts,para") == 0)
        l->mnrl_para = l->mnrl_sts = true;
    else
        return false;
    return true;
}

bool run_parse_warmup(const char *text, long *steps, double *fraction)
{
    /* Digits alone are a step count; anything with a point or an exponent
     * is a fraction of the run. */
    if (text[strspn(text, "0123456789")] == '\0') {
        *fraction = -1.0;
        return fe_parse_long(text, 0, 1L << 40, steps);
    }
    *steps = 0;
    return fe_parse_double(text, 0.0, 1.0, fraction);
}

/* The K_CUSTOM options' readers: false when the value is refused. */
static bool parse_mode(run_config *rc, const char *arg)
{
    mtb_mode m;
    mtb_task t;
    if (mtb_mode_parse(arg, &m, &t))
        return false;
    run_config_set_str(&rc->mode, arg);
    return true;
}

static bool parse_schedule(run_config *rc, const char *arg)
{
    mtb_schedule_kind kind;
    if (mtb_schedule_parse(arg, &kind))
        return false;
    run_config_set_str(&rc->schedule, arg);
    return true;
}

static bool parse_warmup_opt(run_config *rc, const char *arg)
{
    long steps;
    double fraction;
    if (!run_parse_warmup(arg, &steps, &fraction))
        return false;
    run_config_set_str(&rc->warmup, arg);
    return true;
}

static bool parse_precision_opt(run_config *rc, const char *arg)
{
    const int p = mtb_precision_parse(arg);
    if (p < 0)
        return false;
    rc->precision = p;
    return true;
}

static bool parse_on_nan(run_config *rc, const char *arg)
{
    if (strcmp(arg, "stop") && strcmp(arg, "skip"))
        return false;
    rc->skip_nan = strcmp(arg, "skip") == 0;
    return true;
}

static bool parse_sts_loss(run_config *rc, const char *arg)
{
    if (strcmp(arg, "mse") && strcmp(arg, "cosent"))
        return false;
    rc->losses.sts = strcmp(arg, "cosent") == 0 ? MTB_STS_LOSS_COSENT : MTB_STS_LOSS_MSE;
    return true;
}

static bool parse_mnrl_opt(run_config *rc, const char *arg)
{
    return run_parse_mnrl(arg, &rc->losses);
}

static const char *const config_names[] = {"tiny", "mini", "small", "medium", "base", NULL};
static const char *const pooling_names[] = {"cls", "mean", NULL};

#define AT(field) offsetof(run_config, field)
#define MERGE(field) (AT(merge) + offsetof(mtb_merge_params, field))

static const run_opt table[OPT_COUNT - OPT_MODE] = {
    [OPT_MODE - OPT_MODE] = {"mode", K_CUSTOM, .parse = parse_mode},
    [OPT_MODEL - OPT_MODE] = {"model", K_STR, AT(model_dir)},
    [OPT_CONFIG - OPT_MODE] = {"config", K_CHOICE, AT(config_name),
                               .bad = "--config must be tiny, mini, small, medium or base",
                               .choices = config_names},
    [OPT_VOCAB - OPT_MODE] = {"vocab", K_STR, AT(vocab_path)},
    [OPT_POOLING - OPT_MODE] = {"pooling", K_CHOICE, AT(pooling),
                                .bad = "--pooling must be cls or mean", .choices = pooling_names},
    [OPT_DROPOUT - OPT_MODE] = {"dropout", K_DOUBLE, AT(dropout), 0.0, 0.99,
                                "--dropout must be a number in [0, 0.99]"},
    [OPT_LR - OPT_MODE] = {"lr", K_DOUBLE, AT(lr), 1e-12, 10.0,
                           "--lr must be a number in (0, 10]"},
    [OPT_WD - OPT_MODE] = {"weight-decay", K_DOUBLE, AT(weight_decay), 0.0, 1.0,
                           "--weight-decay must be in [0, 1]"},
    [OPT_BATCH - OPT_MODE] = {"batch", K_INT, AT(batch), 1, 4096,
                              "batch sizes must be integers in 1..4096"},
    [OPT_SST_BATCH - OPT_MODE] = {"sst-batch", K_INT, AT(task_batch[0]), 1, 4096,
                                  "batch sizes must be integers in 1..4096", .task = 0},
    [OPT_PARA_BATCH - OPT_MODE] = {"para-batch", K_INT, AT(task_batch[1]), 1, 4096,
                                   "batch sizes must be integers in 1..4096", .task = 1},
    [OPT_STS_BATCH - OPT_MODE] = {"sts-batch", K_INT, AT(task_batch[2]), 1, 4096,
                                  "batch sizes must be integers in 1..4096", .task = 2},
    [OPT_MAX_LEN - OPT_MODE] = {"max-length", K_INT, AT(max_len), 4, 4096,
                                "--max-length must be an integer in 4..4096"},
    [OPT_EPOCHS - OPT_MODE] = {"epochs", K_INT, AT(epochs), 1, 100000,
                               "--epochs must be a positive integer", .may_change = true},
    /* 0 used to mean "no limit" without saying so */
    [OPT_MAX_STEPS - OPT_MODE] = {"max-steps", K_LONG, AT(max_steps), 1, 1099511627776.0,
                                  "--max-steps must be a positive integer", .may_change = true},
    [OPT_SEED - OPT_MODE] = {"seed", K_U64, AT(seed), 0, 4611686018427387904.0,
                             "--seed must be a non-negative integer"},
    [OPT_EVAL_EVERY - OPT_MODE] = {"eval-every", K_LONG, AT(eval_every), 0, 1099511627776.0,
                                   "--eval-every must be a non-negative integer",
                                   .may_change = true},
    [OPT_VAL_SPLIT - OPT_MODE] = {"val-split", K_DOUBLE, AT(val_split), 0.0, 0.9,
                                  "--val-split must be a fraction in [0, 0.9]"},
    [OPT_SST_TRAIN - OPT_MODE] = {"sst-train", K_FILES, .task = 0},
    [OPT_PARA_TRAIN - OPT_MODE] = {"para-train", K_FILES, .task = 1},
    [OPT_STS_TRAIN - OPT_MODE] = {"sts-train", K_FILES, .task = 2},
    [OPT_SST_DEV - OPT_MODE] = {"sst-dev", K_FILES, .task = 0, .dev = true},
    [OPT_PARA_DEV - OPT_MODE] = {"para-dev", K_FILES, .task = 1, .dev = true},
    [OPT_STS_DEV - OPT_MODE] = {"sts-dev", K_FILES, .task = 2, .dev = true},
    [OPT_DATA_DIR - OPT_MODE] = {"data-dir", K_STR, AT(data_dir)},
    [OPT_OUT - OPT_MODE] = {"out", K_STR, AT(out_dir), .may_change = true},
    [OPT_METRICS - OPT_MODE] = {"metrics", K_STR, AT(metrics_path), .may_change = true},
    [OPT_THREADS - OPT_MODE] = {"threads", K_INT, AT(threads), 1, 1024,
                                "--threads must be an integer in 1..1024", .may_change = true},
    [OPT_RESUME - OPT_MODE] = {"resume", K_STR, AT(resume_dir), .may_change = true},
    [OPT_QUIET - OPT_MODE] = {"quiet", K_FLAG, AT(quiet), .may_change = true},
    [OPT_SCHEDULE - OPT_MODE] = {"schedule", K_CUSTOM, .parse = parse_schedule,
                                 .bad = "--schedule must be constant, linear or cosine"},
    [OPT_WARMUP - OPT_MODE] = {"warmup", K_CUSTOM, .parse = parse_warmup_opt,
                               .bad = "--warmup must be a step count (100) or a fraction of the "
                                      "run in [0, 1] (0.1)"},
    [OPT_ON_NAN - OPT_MODE] = {"on-nan", K_CUSTOM, .parse = parse_on_nan,
                               .bad = "--on-nan must be stop or skip", .may_change = true},
    [OPT_FORCE - OPT_MODE] = {"force", K_FLAG, AT(force), .may_change = true},
    [OPT_HELP - OPT_MODE] = {"help", K_HELP, .may_change = true},
    [OPT_CAGRAD_C - OPT_MODE] = {"cagrad-c", K_DOUBLE, MERGE(cagrad_c), 0.0, 100.0},
    [OPT_GRADVAC_BETA - OPT_MODE] = {"gradvac-beta", K_DOUBLE, MERGE(gradvac_beta), 0.0, 1.0},
    [OPT_UW_LR - OPT_MODE] = {"uw-lr", K_DOUBLE, MERGE(uw_lr), 0.0, 10.0},
    [OPT_DWA_TEMPERATURE - OPT_MODE] = {"dwa-temperature", K_DOUBLE, MERGE(dwa_temperature),
                                        1e-6, 1e6},
    [OPT_FAMO_LR - OPT_MODE] = {"famo-lr", K_DOUBLE, MERGE(famo_lr), 0.0, 10.0},
    [OPT_FAMO_DECAY - OPT_MODE] = {"famo-decay", K_DOUBLE, MERGE(famo_decay), 0.0, 10.0},
    [OPT_STS_LOSS - OPT_MODE] = {"sts-loss", K_CUSTOM, .parse = parse_sts_loss,
                                 .bad = "--sts-loss must be mse or cosent"},
    [OPT_MNRL - OPT_MODE] = {"mnrl", K_CUSTOM, .parse = parse_mnrl_opt,
                             .bad = "--mnrl must be para, sts, para,sts or none"},
    [OPT_MNRL_SCALE - OPT_MODE] = {"mnrl-scale", K_FLOAT, AT(losses.mnrl_scale), 1e-3, 1e3},
    [OPT_COSENT_SCALE - OPT_MODE] = {"cosent-scale", K_FLOAT, AT(losses.cosent_scale), 1e-3,
                                     1e3},
    [OPT_SAVE_BEST - OPT_MODE] = {"save-best", K_FLAG, AT(save_best), .may_change = true},
    /* checkpoints are fp32 either way: a run may resume in another precision */
    [OPT_PRECISION - OPT_MODE] = {"precision", K_CUSTOM, .parse = parse_precision_opt,
                                  .bad = "--precision must be fp32, bf16 or auto",
                                  .may_change = true},
};

/* Rows are placed by their ids, so table[id - OPT_MODE] is id's row. */
const run_opt *run_opt_row(int id)
{
    return id >= OPT_MODE && id < OPT_COUNT ? &table[id - OPT_MODE] : NULL;
}

/* getopt_long's view of the table, made once. */
static const struct option *getopt_table(void)
{
    static struct option opts[OPT_COUNT - OPT_MODE + 1];
    if (!opts[0].name)
        for (int id = OPT_MODE; id < OPT_COUNT; id++) {
            const run_opt *o = run_opt_row(id);
            opts[id - OPT_MODE] = (struct option){
                o->name, o->kind == K_FLAG || o->kind == K_HELP ? no_argument : required_argument,
                NULL, id};
        }
    return opts;
}

void run_config_print_options(FILE *out)
{
    fprintf(out,
            "What to train:\n"
            "      --mode MODE          a multitask method (pcgrad by default; below), or one\n"
            "                           task: single:sst, single:para or single:sts\n"
            "      --sst-train FILE     SST training file (repeatable, like the others)\n"
            "      --para-train FILE    Quora training file; repeat it to concatenate files\n"
            "      --sts-train FILE     STS training file\n"
            "      --sst-dev FILE, --para-dev FILE, --sts-dev FILE\n"
            "                           validation files\n"
            "      --data-dir DIR       take the course's file names from DIR\n"
            "                           (ids-sst-train.csv, quora-train.csv, sts-train.csv\n"
            "                           and the -dev files)\n"
            "      --val-split F        carve a seeded fraction F of each training set out as\n"
            "                           validation data where no dev file is given\n"
            "The model:\n"
            "      --model DIR          start from a Hugging Face BERT folder or an mtbert\n"
            "                           checkpoint\n"
            "      --config NAME        or a fresh random model: tiny (2 layers, hidden 128;\n"
            "                           the default), mini (4/256), small (4/512),\n"
            "                           medium (8/512), base (12/768)\n"
            "      --vocab FILE         vocab.txt of a fresh model\n"
            "      --pooling cls|mean   sentence encoding (default cls from --model, mean for\n"
            "                           a fresh model)\n"
            "      --dropout P          dropout before the heads (default 0.3)\n"
            "How:\n"
            "      --lr LR              AdamW peak learning rate (default 1e-5 from --model,\n"
            "                           " RUN_FRESH_LR_TEXT " for a fresh model)\n"
            "      --schedule KIND      constant, linear or cosine decay to 0 over the run\n"
            "                           (default " RUN_DEFAULT_SCHEDULE ")\n"
            "      --warmup N|F         linear warmup over N steps, or a fraction F of the\n"
            "                           run's steps (default " RUN_DEFAULT_WARMUP ")\n"
            "      --weight-decay W     AdamW decoupled weight decay (default 0)\n"
            "      --batch N            examples per task and step (default 8)\n"
            "      --sst-batch N, --para-batch N, --sts-batch N\n"
            "                           per-task batch sizes\n"
            "      --max-length N       tokens per sentence (default 128; pairs get 2N)\n"
            "      --epochs N           passes over the largest task (default 1, or as many\n"
            "                           as --max-steps needs)\n"
            "      --max-steps N        stop after N steps (the earlier of the two limits)\n"
            "      --seed N             random seed (default 11711)\n"
            "      --eval-every N       evaluate every N steps (default: at the end)\n"
            "      --threads N          compute threads (default: all cores)\n"
            "      --precision P        the dense products: fp32, bf16 (bf16 operands, fp32\n"
            "                           sums; emulated on a CPU without bf16 units) or auto\n"
            "                           (default: bf16 where the CPU has bf16 units)\n"
            "      --on-nan stop|skip   a step with a NaN or infinite loss or gradient stops\n"
            "                           the run, saving nothing (default), or is skipped\n"
            "Output:\n"
            "      --out DIR            checkpoint folder (default runs/MODE-DATE-TIME)\n"
            "      --metrics FILE       JSON lines: losses, conflict statistics, evaluations\n"
            "                           (appended to, and remembered, by --resume)\n"
            "      --force              replace the run or metrics file --out and --metrics\n"
            "                           name (refused otherwise)\n"
            "      --save-best          keep the model of the best evaluation so far (the\n"
            "                           course's mean score) in OUT-best, beside --out\n"
            "      --resume DIR         continue the run saved in DIR; options that define\n"
            "                           the run may be repeated with their saved values\n"
            "      --quiet              no progress display\n");
    fprintf(out, "Multitask methods (--mode):\n");
    for (int i = 0; i < mtb_merge_count(); i++) {
        const mtb_merge_method *m = mtb_merge_at(i);
        fprintf(out, "      %-9s %s\n", m->name, m->summary);
    }
    fprintf(out,
            "Method parameters (the papers' defaults; saved with the run):\n"
            "      --cagrad-c C         CAGrad's radius around the mean gradient (0.4)\n"
            "      --gradvac-beta B     GradVac's EMA rate of the target cosines (0.01)\n"
            "      --uw-lr LR           UW's rate for the log-variances (default: the model's\n"
            "                           learning rate at each step)\n"
            "      --dwa-temperature T  DWA's softmax temperature (2)\n"
            "      --famo-lr LR         FAMO's rate for its task logits (0.025)\n"
            "      --famo-decay G       FAMO's weight decay on its logits (0.001)\n"
            "Pair losses:\n"
            "      --sts-loss mse|cosent  similarity: the seed's MSE on 5 relu(cos) (default)\n"
            "                           or CoSENT (ranks the pairs' cosines by their scores)\n"
            "      --mnrl para|sts|para,sts  add the multiple negatives ranking loss\n"
            "                           (in-batch negatives): paraphrase over the duplicate\n"
            "                           questions encoded apart, similarity over the pairs\n"
            "                           scored >= 4\n"
            "      --mnrl-scale S, --cosent-scale S  their cosine scales (20)\n");
}

/* Reads arg into rc as row o says; false when the value is refused. */
static bool apply_option(run_config *rc, const run_opt *o, const char *arg)
{
    void *field = (char *)rc + o->offset;
    long lv;
    double dv;
    switch (o->kind) {
    case K_STR: run_config_set_str((char **)field, arg); return true;
    case K_CHOICE:
        for (const char *const *c = o->choices; *c; c++)
            if (strcmp(*c, arg) == 0) {
                run_config_set_str((char **)field, arg);
                return true;
            }
        return false;
    case K_DOUBLE:
    case K_FLOAT:
        if (!fe_parse_double(arg, o->lo, o->hi, &dv))
            return false;
        if (o->kind == K_DOUBLE)
            *(double *)field = dv;
        else
            *(float *)field = (float)dv;
        return true;
    case K_INT:
    case K_LONG:
    case K_U64:
        if (!fe_parse_long(arg, (long)o->lo, (long)o->hi, &lv))
            return false;
        if (o->kind == K_INT)
            *(int *)field = (int)lv;
        else if (o->kind == K_LONG)
            *(long *)field = lv;
        else
            *(uint64_t *)field = (uint64_t)lv;
        return true;
    case K_FLAG: *(bool *)field = true; return true;
    case K_CUSTOM: return o->parse(rc, arg);
    case K_FILES:
    case K_HELP: break;
    }
    return false;
}

/* Parses argv into rc, noting which options were given. */
static int parse_options(run_config *rc, bool given[OPT_COUNT], int argc, char **argv,
                         const char *command, void (*usage)(FILE *))
{
    int c;
    optind = 1;
    int li = 0;
    while ((c = getopt_long(argc, argv, "h", getopt_table(), &li)) != -1) {
        const run_opt *o = run_opt_row(c);
        if (c == 'h' || (o && o->kind == K_HELP)) {
            usage(stdout);
            return FE_OK;
        }
        if (!o)
            return fe_bad_option(command, argv[optind - 1]);
        given[c] = true;
        if (o->kind == K_FILES) {
            if (!run_config_add_file(o->dev ? rc->dev[o->task] : rc->train[o->task],
                                     o->dev ? &rc->n_dev[o->task] : &rc->n_train[o->task],
                                     optarg))
                return fe_usage_error(command, "at most %d files per task", RUN_MAX_FILES);
            continue;
        }
        if (apply_option(rc, o, optarg))
            continue;
        if (c == OPT_MODE) {
            char names[256];
            return fe_usage_error(command, "--mode must be a method (%s) or single:TASK (sst, "
                                  "para, sts), not '%s'", mtb_merge_names(names, sizeof names),
                                  optarg);
        }
        if (o->bad)
            return fe_usage_error(command, "%s, not '%s'", o->bad, optarg);
        return fe_usage_error(command, "--%s must be a number in [%g, %g], not '%s'", o->name,
                              o->lo, o->hi, optarg);
    }
    if (optind < argc)
        return fe_usage_error(command, "unexpected argument '%s'", argv[optind]);
    return -1;
}

int run_config_parse(run_config *rc, int argc, char **argv, const char *command,
                     void (*usage)(FILE *))
{
    run_config cmd;
    run_config_defaults(&cmd);
    bool given[OPT_COUNT] = {false};
    int st = parse_options(&cmd, given, argc, argv, command, usage);
    if (st >= 0 || !cmd.resume_dir) {
        /* A new run: the command line is the whole story. */
        run_config_free(rc);
        *rc = cmd;
        return st;
    }
    st = run_config_resume(rc, &cmd, given, command);
    run_config_free(&cmd);
    return st;
}
