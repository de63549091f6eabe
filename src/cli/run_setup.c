#include "run_setup.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "../front/metrics.h"
#include "mtbert/model_dir.h"
#include "mtbert/parallel.h"
#include "mtbert/precision.h"
#include "mtbert/run_lock.h"

enum {
    OPT_MODE = 1000, OPT_MODEL, OPT_CONFIG, OPT_VOCAB, OPT_POOLING, OPT_DROPOUT, OPT_LR,
    OPT_WD, OPT_BATCH, OPT_SST_BATCH, OPT_PARA_BATCH, OPT_STS_BATCH, OPT_MAX_LEN, OPT_EPOCHS,
    OPT_MAX_STEPS, OPT_SEED, OPT_EVAL_EVERY, OPT_VAL_SPLIT, OPT_SST_TRAIN, OPT_PARA_TRAIN,
    OPT_STS_TRAIN, OPT_SST_DEV, OPT_PARA_DEV, OPT_STS_DEV, OPT_DATA_DIR, OPT_OUT, OPT_METRICS,
    OPT_THREADS, OPT_RESUME, OPT_QUIET, OPT_SCHEDULE, OPT_WARMUP, OPT_ON_NAN, OPT_FORCE, OPT_HELP,
    OPT_CAGRAD_C, OPT_GRADVAC_BETA, OPT_UW_LR, OPT_DWA_TEMPERATURE, OPT_FAMO_LR, OPT_FAMO_DECAY,
    OPT_STS_LOSS, OPT_MNRL, OPT_MNRL_SCALE, OPT_COSENT_SCALE, OPT_SAVE_BEST, OPT_PRECISION,
    OPT_COUNT /* one past the last */
};


/* ----------------------------------------------------------- the options
 *
 * One row per option: how its value is read into run_config, what a bad
 * value is told, whether a resumed run may change it.  Rows are in OPT_
 * order (checked at startup), so table[id - OPT_MODE] is id's row. */

typedef enum {
    K_STR,    /* a string, char * at offset */
    K_CHOICE, /* one of choices[], char * at offset */
    K_DOUBLE, /* a number in [lo, hi], double at offset */
    K_FLOAT,  /* the same into a float */
    K_INT,    /* an integer in [lo, hi], int at offset */
    K_LONG,   /* the same into a long */
    K_U64,    /* the same into a uint64_t */
    K_FILES,  /* appended to the file list of task `task` (train or dev) */
    K_FLAG,   /* no value: bool at offset set */
    K_CUSTOM, /* parse() reads it */
    K_HELP,
} opt_kind;

typedef struct run_opt {
    const char *name;
    opt_kind kind;
    size_t offset;               /* in run_config */
    double lo, hi;
    const char *bad;             /* "--lr must be a number in (0, 10]"; NULL: made from the bounds */
    const char *const *choices;  /* K_CHOICE, NULL-terminated */
    bool may_change;             /* on --resume: how long, where, how fast, not what */
    int task;                    /* K_FILES and the per-task batches */
    bool dev;                    /* K_FILES: a dev file */
    bool (*parse)(run_config *rc, const char *arg); /* K_CUSTOM */
} run_opt;

static bool parse_mode(run_config *rc, const char *arg);
static bool parse_schedule(run_config *rc, const char *arg);
static bool parse_warmup_opt(run_config *rc, const char *arg);
static bool parse_on_nan(run_config *rc, const char *arg);
static bool parse_sts_loss(run_config *rc, const char *arg);
static bool parse_mnrl_opt(run_config *rc, const char *arg);
static bool parse_precision_opt(run_config *rc, const char *arg);

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

static const run_opt *opt_row(int id)
{
    return id >= OPT_MODE && id < OPT_COUNT ? &table[id - OPT_MODE] : NULL;
}

/* getopt_long's view of the table, made once. */
static const struct option *getopt_table(void)
{
    static struct option opts[OPT_COUNT - OPT_MODE + 1];
    if (!opts[0].name)
        for (int id = OPT_MODE; id < OPT_COUNT; id++)
            opts[id - OPT_MODE] = (struct option){
                opt_row(id)->name,
                opt_row(id)->kind == K_FLAG || opt_row(id)->kind == K_HELP ? no_argument
                                                                           : required_argument,
                NULL, id};
    return opts;
}

/* The run's merge-method parameters, as the run record names them. */
typedef struct method_option {
    int opt;
    const char *key;
} method_option;

static const method_option method_options[] = {
    {OPT_CAGRAD_C, "cagrad_c"}, {OPT_GRADVAC_BETA, "gradvac_beta"},
    {OPT_UW_LR, "uw_lr"},       {OPT_DWA_TEMPERATURE, "dwa_temperature"},
    {OPT_FAMO_LR, "famo_lr"},   {OPT_FAMO_DECAY, "famo_decay"},
};
#define N_METHOD_OPTIONS (sizeof method_options / sizeof method_options[0])

static double *field_double(run_config *rc, int id)
{
    return (double *)((char *)rc + opt_row(id)->offset);
}

static double field_double_value(const run_config *rc, int id)
{
    return *(const double *)((const char *)rc + opt_row(id)->offset);
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

void run_config_defaults(run_config *rc)
{
    memset(rc, 0, sizeof *rc);
    rc->dropout = 0.3;
    rc->lr = 0; /* unset: chosen by run_setup for a fresh or a loaded model */
    rc->weight_decay = 0.0;
    rc->batch = 8;
    rc->max_len = 128;
    rc->epochs = -1; /* unset: 1, or unlimited when --max-steps is given */
    rc->seed = 11711;
    rc->precision = MTB_PRECISION_AUTO;
    mtb_merge_params_defaults(&rc->merge);
    mtb_pair_losses_defaults(&rc->losses);
}

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

void run_config_free(run_config *rc)
{
    free(rc->mode);
    free(rc->model_dir);
    free(rc->config_name);
    free(rc->vocab_path);
    free(rc->pooling);
    free(rc->schedule);
    free(rc->warmup);
    for (int t = 0; t < MTB_N_TASKS; t++) {
        for (int i = 0; i < rc->n_train[t]; i++)
            free(rc->train[t][i]);
        for (int i = 0; i < rc->n_dev[t]; i++)
            free(rc->dev[t][i]);
    }
    free(rc->data_dir);
    free(rc->out_dir);
    free(rc->metrics_path);
    free(rc->resume_dir);
    memset(rc, 0, sizeof *rc);
}

static bool add_file(char *list[RUN_MAX_FILES], int *n, const char *path)
{
    if (*n == RUN_MAX_FILES)
        return false;
    list[(*n)++] = strdup(path);
    return true;
}

/* A path as the run record keeps it: absolute where the file exists, so a
 * run resumes from any working directory and two spellings of one file
 * compare equal. */
static char *canonical_path(const char *path)
{
    char *real = realpath(path, NULL);
    return real ? real : strdup(path);
}

static json_t *json_path(const char *path)
{
    char *c = canonical_path(path);
    json_t *j = json_string(c);
    free(c);
    return j;
}

/* The run record kept in trainer.json, from which --resume rebuilds the
 * options of the interrupted run. */
static json_t *files_json(char *const *files, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_path(files[i]));
    return a;
}

static void set_path(json_t *o, const char *key, const char *path)
{
    if (path)
        json_object_set_new(o, key, json_path(path));
}

/* --mnrl's value: "none", "para", "sts" or "para,sts". */
static const char *mnrl_text(const mtb_pair_losses *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", l->mnrl_para && l->mnrl_sts ? "para,sts"
                             : l->mnrl_para              ? "para"
                             : l->mnrl_sts               ? "sts"
                                                         : "none");
    return buf;
}

static bool parse_mnrl(const char *text, mtb_pair_losses *l)
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

static char *run_record(const run_config *rc)
{
    json_t *o = json_object();
    json_object_set_new(o, "run_id", json_string(rc->run_id));
    json_object_set_new(o, "mode", json_string(rc->mode ? rc->mode : "pcgrad"));
    set_path(o, "model", rc->model_dir);
    if (rc->config_name)
        json_object_set_new(o, "config", json_string(rc->config_name));
    set_path(o, "vocab", rc->vocab_path);
    json_object_set_new(o, "pooling", json_string(rc->pooling ? rc->pooling : "cls"));
    json_object_set_new(o, "dropout", json_real(rc->dropout));
    json_object_set_new(o, "lr", json_real(rc->lr));
    json_object_set_new(o, "weight_decay", json_real(rc->weight_decay));
    json_object_set_new(o, "schedule", json_string(rc->schedule ? rc->schedule
                                                                : RUN_DEFAULT_SCHEDULE));
    json_object_set_new(o, "warmup", json_string(rc->warmup ? rc->warmup : RUN_DEFAULT_WARMUP));
    json_object_set_new(o, "val_split", json_real(rc->val_split));
    json_object_set_new(o, "batch", json_integer(rc->batch));
    json_t *tb = json_array();
    for (int t = 0; t < MTB_N_TASKS; t++)
        json_array_append_new(tb, json_integer(rc->task_batch[t]));
    json_object_set_new(o, "task_batch", tb);
    json_object_set_new(o, "max_length", json_integer(rc->max_len));
    json_object_set_new(o, "epochs", json_integer(rc->epochs));
    json_object_set_new(o, "max_steps", json_integer(rc->max_steps));
    json_object_set_new(o, "eval_every", json_integer(rc->eval_every));
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)rc->seed);
    json_object_set_new(o, "seed", json_string(seed));
    set_path(o, "data_dir", rc->data_dir);
    set_path(o, "metrics", rc->metrics_path);
    json_t *train = json_object(), *dev = json_object();
    for (int t = 0; t < MTB_N_TASKS; t++) {
        json_object_set_new(train, mtb_task_name((mtb_task)t),
                            files_json(rc->train[t], rc->n_train[t]));
        json_object_set_new(dev, mtb_task_name((mtb_task)t), files_json(rc->dev[t], rc->n_dev[t]));
    }
    json_object_set_new(o, "train", train);
    json_object_set_new(o, "dev", dev);
    json_t *mp = json_object();
    for (size_t i = 0; i < N_METHOD_OPTIONS; i++)
        json_object_set_new(mp, method_options[i].key,
                            json_real(field_double_value(rc, method_options[i].opt)));
    json_object_set_new(o, "method_params", mp);
    char mnrl[32];
    json_object_set_new(o, "losses",
                        json_pack("{s:s, s:s, s:f, s:f}", "sts",
                                  rc->losses.sts == MTB_STS_LOSS_COSENT ? "cosent" : "mse",
                                  "mnrl", mnrl_text(&rc->losses, mnrl, sizeof mnrl), "mnrl_scale",
                                  (double)rc->losses.mnrl_scale, "cosent_scale",
                                  (double)rc->losses.cosent_scale));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Reads the record back as strictly as the command line is parsed: a value
 * that the options would refuse is refused here too, naming the key. */
typedef struct record_reader {
    json_t *o;
    const char *dir;
    const char *bad; /* the first key that failed */
} record_reader;

static void rec_str(record_reader *r, const char *key, char **dst)
{
    json_t *v = json_object_get(r->o, key);
    if (!v)
        return;
    if (!json_is_string(v)) {
        r->bad = r->bad ? r->bad : key;
        return;
    }
    set_str(dst, json_string_value(v));
}

static void rec_num(record_reader *r, const char *key, double lo, double hi, double *dst)
{
    json_t *v = json_object_get(r->o, key);
    if (!v)
        return;
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= lo && d <= hi))
        r->bad = r->bad ? r->bad : key;
    else
        *dst = d;
}

static void rec_long(record_reader *r, json_t *v, const char *key, long lo, long hi, long *dst)
{
    if (!v)
        return;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        r->bad = r->bad ? r->bad : key;
    else
        *dst = (long)json_integer_value(v);
}

static void rec_int(record_reader *r, const char *key, int lo, int hi, int *dst)
{
    long l = *dst;
    rec_long(r, json_object_get(r->o, key), key, lo, hi, &l);
    *dst = (int)l;
}

static void rec_files(record_reader *r, const char *key, char *list[MTB_N_TASKS][RUN_MAX_FILES],
                      int n[MTB_N_TASKS])
{
    json_t *obj = json_object_get(r->o, key);
    for (int t = 0; t < MTB_N_TASKS; t++) {
        json_t *a = json_object_get(obj, mtb_task_name((mtb_task)t));
        if (!a)
            continue;
        if (!json_is_array(a) || json_array_size(a) > RUN_MAX_FILES) {
            r->bad = r->bad ? r->bad : key;
            continue;
        }
        for (size_t i = 0; i < json_array_size(a); i++) {
            const char *f = json_string_value(json_array_get(a, i));
            if (!f)
                r->bad = r->bad ? r->bad : key;
            else
                add_file(list[t], &n[t], f);
        }
    }
}

static int apply_record(run_config *rc, const char *text, const char *dir)
{
    json_error_t jerr;
    record_reader r = {json_loads(text, 0, &jerr), dir, NULL};
    if (!json_is_object(r.o)) {
        json_decref(r.o);
        fprintf(stderr, "mtbert: %s/trainer.json: unreadable run record\n", dir);
        return FE_USAGE;
    }
    rec_str(&r, "mode", &rc->mode);
    /* Runs recorded before run ids had none: their metrics are not checked. */
    const char *rid = json_string_value(json_object_get(r.o, "run_id"));
    snprintf(rc->run_id, sizeof rc->run_id, "%s", rid ? rid : "");
    rec_str(&r, "model", &rc->model_dir);
    rec_str(&r, "config", &rc->config_name);
    rec_str(&r, "vocab", &rc->vocab_path);
    rec_str(&r, "pooling", &rc->pooling);
    /* Runs recorded before schedules existed trained at a constant rate. */
    set_str(&rc->schedule, "constant");
    set_str(&rc->warmup, "0");
    rec_str(&r, "schedule", &rc->schedule);
    rec_str(&r, "warmup", &rc->warmup);
    rec_str(&r, "data_dir", &rc->data_dir);
    rec_str(&r, "metrics", &rc->metrics_path);
    char *seed = NULL;
    rec_str(&r, "seed", &seed);
    if (seed) {
        char *end;
        errno = 0;
        rc->seed = strtoull(seed, &end, 10);
        if (errno || *end || end == seed)
            r.bad = r.bad ? r.bad : "seed";
        free(seed);
    }
    rec_num(&r, "dropout", 0.0, 0.99, &rc->dropout);
    rec_num(&r, "lr", 1e-12, 10.0, &rc->lr);
    rec_num(&r, "weight_decay", 0.0, 1.0, &rc->weight_decay);
    rec_num(&r, "val_split", 0.0, 0.9, &rc->val_split);
    rec_int(&r, "batch", 1, 4096, &rc->batch);
    json_t *tb = json_object_get(r.o, "task_batch");
    if (tb && (!json_is_array(tb) || json_array_size(tb) != MTB_N_TASKS))
        r.bad = r.bad ? r.bad : "task_batch";
    for (int t = 0; t < MTB_N_TASKS && json_is_array(tb); t++) {
        long l = rc->task_batch[t];
        rec_long(&r, json_array_get(tb, (size_t)t), "task_batch", 0, 4096, &l);
        rc->task_batch[t] = (int)l;
    }
    rec_int(&r, "max_length", 4, 4096, &rc->max_len);
    rec_int(&r, "epochs", -1, 100000, &rc->epochs);
    rec_long(&r, json_object_get(r.o, "max_steps"), "max_steps", 0, 1L << 40, &rc->max_steps);
    rec_long(&r, json_object_get(r.o, "eval_every"), "eval_every", 0, 1L << 40, &rc->eval_every);
    rec_files(&r, "train", rc->train, rc->n_train);
    rec_files(&r, "dev", rc->dev, rc->n_dev);
    /* Runs recorded before the methods had parameters used the defaults. */
    json_t *mp = json_object_get(r.o, "method_params");
    if (mp && !json_is_object(mp))
        r.bad = r.bad ? r.bad : "method_params";
    for (size_t i = 0; i < N_METHOD_OPTIONS && json_is_object(mp); i++) {
        record_reader sub = {mp, dir, NULL};
        const run_opt *o = opt_row(method_options[i].opt);
        rec_num(&sub, method_options[i].key, o->lo, o->hi, field_double(rc, method_options[i].opt));
        if (sub.bad)
            r.bad = r.bad ? r.bad : sub.bad;
    }
    /* Runs recorded before the pair losses existed trained with the seed's. */
    json_t *lj = json_object_get(r.o, "losses");
    if (lj) {
        const char *sts = json_string_value(json_object_get(lj, "sts"));
        const char *mnrl = json_string_value(json_object_get(lj, "mnrl"));
        record_reader sub = {lj, dir, NULL};
        double ms = rc->losses.mnrl_scale, cs = rc->losses.cosent_scale;
        rec_num(&sub, "mnrl_scale", 1e-3, 1e3, &ms);
        rec_num(&sub, "cosent_scale", 1e-3, 1e3, &cs);
        rc->losses.mnrl_scale = (float)ms;
        rc->losses.cosent_scale = (float)cs;
        if (!sts || (strcmp(sts, "mse") && strcmp(sts, "cosent")) || !mnrl ||
            !parse_mnrl(mnrl, &rc->losses) || sub.bad)
            r.bad = r.bad ? r.bad : "losses";
        else
            rc->losses.sts = strcmp(sts, "cosent") == 0 ? MTB_STS_LOSS_COSENT : MTB_STS_LOSS_MSE;
    }
    mtb_mode mode;
    mtb_task task;
    mtb_schedule_kind kind;
    if (!r.bad && rc->mode && mtb_mode_parse(rc->mode, &mode, &task))
        r.bad = "mode";
    if (!r.bad && rc->schedule && mtb_schedule_parse(rc->schedule, &kind))
        r.bad = "schedule";
    long ws;
    double wf;
    if (!r.bad && rc->warmup && !run_parse_warmup(rc->warmup, &ws, &wf))
        r.bad = "warmup";
    json_decref(r.o);
    if (r.bad) {
        fprintf(stderr, "mtbert: %s/trainer.json: the run record's '%s' is not a valid value\n",
                dir, r.bad);
        return FE_USAGE;
    }
    return -1;
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

/* Options that may differ when a run resumes: how long it goes on, where
 * it reports and saves, how fast it runs.  Every other option defines the
 * run and must repeat the saved value, if given at all. */
static bool may_change_on_resume(int opt)
{
    return opt_row(opt) && opt_row(opt)->may_change;
}

static void render_files(char *buf, size_t cap, char *const *files, int n)
{
    size_t used = 0;
    buf[0] = '\0';
    if (n == 0)
        snprintf(buf, cap, "(none)");
    for (int i = 0; i < n && used < cap; i++) {
        char *c = canonical_path(files[i]);
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? " " : "", c);
        free(c);
    }
}

static void render_path(char *buf, size_t cap, const char *path, const char *none)
{
    if (!path) {
        snprintf(buf, cap, "%s", none);
        return;
    }
    char *c = canonical_path(path);
    snprintf(buf, cap, "%s", c);
    free(c);
}

/* An option's value in rc as text, for comparing a resumed run's command
 * line with the saved run. */
static void render_option(const run_config *rc, int opt, char *buf, size_t cap)
{
    const run_opt *o = opt_row(opt);
    const void *field = (const char *)rc + (o ? o->offset : 0);
    if (o && o->kind == K_DOUBLE) {
        snprintf(buf, cap, "%.9g", *(const double *)field);
        return;
    }
    if (o && o->kind == K_FLOAT) {
        snprintf(buf, cap, "%.9g", (double)*(const float *)field);
        return;
    }
    if (o && o->kind == K_INT && (opt < OPT_SST_BATCH || opt > OPT_STS_BATCH)) {
        snprintf(buf, cap, "%d", *(const int *)field);
        return;
    }
    switch (opt) {
    case OPT_MODE: snprintf(buf, cap, "%s", rc->mode ? rc->mode : "pcgrad"); break;
    case OPT_MODEL: render_path(buf, cap, rc->model_dir, "(none: a fresh model)"); break;
    case OPT_CONFIG:
        snprintf(buf, cap, "%s", rc->config_name ? rc->config_name
                                 : rc->model_dir ? "(none: --model)" : "tiny");
        break;
    case OPT_VOCAB: render_path(buf, cap, rc->vocab_path, "(none)"); break;
    case OPT_POOLING: snprintf(buf, cap, "%s", rc->pooling ? rc->pooling : "cls"); break;
    case OPT_SCHEDULE:
        snprintf(buf, cap, "%s", rc->schedule ? rc->schedule : RUN_DEFAULT_SCHEDULE);
        break;
    case OPT_WARMUP: {
        long steps = 0;
        double fraction = -1;
        run_parse_warmup(rc->warmup ? rc->warmup : RUN_DEFAULT_WARMUP, &steps, &fraction);
        if (fraction >= 0)
            snprintf(buf, cap, "%.9g", fraction);
        else
            snprintf(buf, cap, "%ld", steps);
        break;
    }
    case OPT_SST_BATCH: case OPT_PARA_BATCH: case OPT_STS_BATCH: {
        int b = rc->task_batch[opt - OPT_SST_BATCH];
        if (b)
            snprintf(buf, cap, "%d", b);
        else
            snprintf(buf, cap, "(unset: --batch %d)", rc->batch);
        break;
    }
    case OPT_SEED: snprintf(buf, cap, "%llu", (unsigned long long)rc->seed); break;
    case OPT_SST_TRAIN: case OPT_PARA_TRAIN: case OPT_STS_TRAIN:
        render_files(buf, cap, rc->train[opt - OPT_SST_TRAIN], rc->n_train[opt - OPT_SST_TRAIN]);
        break;
    case OPT_SST_DEV: case OPT_PARA_DEV: case OPT_STS_DEV:
        render_files(buf, cap, rc->dev[opt - OPT_SST_DEV], rc->n_dev[opt - OPT_SST_DEV]);
        break;
    case OPT_DATA_DIR: render_path(buf, cap, rc->data_dir, "(none)"); break;
    case OPT_STS_LOSS:
        snprintf(buf, cap, "%s", rc->losses.sts == MTB_STS_LOSS_COSENT ? "cosent" : "mse");
        break;
    case OPT_MNRL: mnrl_text(&rc->losses, buf, cap); break;
    default: snprintf(buf, cap, "?"); break;
    }
}

static const char *option_name(int opt);

/* Parses argv into rc, noting which options were given. */
static bool parse_mode(run_config *rc, const char *arg)
{
    mtb_mode m;
    mtb_task t;
    if (mtb_mode_parse(arg, &m, &t))
        return false;
    set_str(&rc->mode, arg);
    return true;
}

static bool parse_schedule(run_config *rc, const char *arg)
{
    mtb_schedule_kind kind;
    if (mtb_schedule_parse(arg, &kind))
        return false;
    set_str(&rc->schedule, arg);
    return true;
}

static bool parse_warmup_opt(run_config *rc, const char *arg)
{
    long steps;
    double fraction;
    if (!run_parse_warmup(arg, &steps, &fraction))
        return false;
    set_str(&rc->warmup, arg);
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
    return parse_mnrl(arg, &rc->losses);
}

/* Reads arg into rc as row o says; false when the value is refused. */
static bool apply_option(run_config *rc, const run_opt *o, const char *arg)
{
    void *field = (char *)rc + o->offset;
    long lv;
    double dv;
    switch (o->kind) {
    case K_STR: set_str((char **)field, arg); return true;
    case K_CHOICE:
        for (const char *const *c = o->choices; *c; c++)
            if (strcmp(*c, arg) == 0) {
                set_str((char **)field, arg);
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
        const run_opt *o = opt_row(c);
        if (c == 'h' || (o && o->kind == K_HELP)) {
            usage(stdout);
            return FE_OK;
        }
        if (!o)
            return fe_bad_option(command, argv[optind - 1]);
        given[c] = true;
        if (o->kind == K_FILES) {
            if (!add_file(o->dev ? rc->dev[o->task] : rc->train[o->task],
                          o->dev ? &rc->n_dev[o->task] : &rc->n_train[o->task], optarg))
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

static const char *option_name(int opt)
{
    return opt_row(opt) ? opt_row(opt)->name : "?";
}

/* The command line of a resumed run against the saved one: an option that
 * defines the run passes when it repeats the saved value (re-running the
 * first command with --resume appended must work), and is refused, naming
 * both values, when it would change the run. */
static int check_resume_options(const run_config *saved, const run_config *cmd,
                                const bool given[OPT_COUNT], const char *command)
{
    for (int opt = OPT_MODE; opt < OPT_COUNT; opt++) {
        if (!given[opt] || may_change_on_resume(opt))
            continue;
        char was[2048], now[2048];
        render_option(saved, opt, was, sizeof was);
        render_option(cmd, opt, now, sizeof now);
        if (strcmp(was, now) != 0)
            return fe_usage_error(command, "--resume %s: --%s %s would change the run, which was "
                                   "saved with --%s %s; repeat the saved value or leave the "
                                   "option out (a different run needs a new --out)",
                                   saved->resume_dir, option_name(opt), now, option_name(opt),
                                   was);
    }
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

    /* --resume: the saved run's options are the base; the command line may
     * repeat them and may change what does not define the run. */
    mtb_error err = {0};
    char *record = NULL;
    if (mtb_trainer_read_run_json(cmd.resume_dir, &record, &err)) {
        run_config_free(&cmd);
        return fe_report(&err);
    }
    set_str(&rc->resume_dir, cmd.resume_dir);
    st = record ? apply_record(rc, record, cmd.resume_dir) : -1;
    free(record);
    if (st < 0)
        st = check_resume_options(rc, &cmd, given, command);
    if (st < 0) {
        if (given[OPT_MAX_STEPS])
            rc->max_steps = cmd.max_steps;
        if (given[OPT_EPOCHS])
            rc->epochs = cmd.epochs;
        if (given[OPT_EVAL_EVERY])
            rc->eval_every = cmd.eval_every;
        if (given[OPT_METRICS])
            set_str(&rc->metrics_path, cmd.metrics_path);
        if (given[OPT_OUT])
            set_str(&rc->out_dir, cmd.out_dir);
        rc->threads = cmd.threads;
        rc->precision = cmd.precision;
        rc->quiet = cmd.quiet;
        rc->skip_nan = cmd.skip_nan;
        rc->force = cmd.force;
    }
    run_config_free(&cmd);
    return st;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* --data-dir: the course's file names, for the tasks given no files. */
static int expand_data_dir(run_config *rc, FILE *log, mtb_error *err)
{
    struct stat st;
    if (stat(rc->data_dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return mtb_error_set(err, MTB_EINPUT, "--data-dir %s: not a folder", rc->data_dir);
    int before = 0, after = 0;
    for (int t = 0; t < MTB_N_TASKS; t++)
        before += rc->n_train[t] + rc->n_dev[t];
    static const char *train_names[MTB_N_TASKS][2] = {
        {"ids-sst-train.csv", NULL},
        {"quora-train.csv", "quora-train-partial.csv"},
        {"sts-train.csv", NULL},
    };
    static const char *dev_names[MTB_N_TASKS] = {"ids-sst-dev.csv", "quora-dev.csv",
                                                 "sts-dev.csv"};
    char path[4096];
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (rc->n_train[t] == 0)
            for (int k = 0; k < 2 && train_names[t][k]; k++)
                if (mtb_path_join(path, sizeof path, rc->data_dir, train_names[t][k]) &&
                    file_exists(path)) {
                    add_file(rc->train[t], &rc->n_train[t], path);
                    break;
                }
        if (rc->n_dev[t] == 0 && mtb_path_join(path, sizeof path, rc->data_dir, dev_names[t]) &&
            file_exists(path))
            add_file(rc->dev[t], &rc->n_dev[t], path);
    }
    for (int t = 0; t < MTB_N_TASKS; t++) {
        after += rc->n_train[t] + rc->n_dev[t];
        if (rc->n_train[t] == 0 && log)
            fprintf(log, "mtbert: warning: --data-dir %s has no %s training file (%s); that "
                    "task is not trained\n", rc->data_dir, mtb_task_name((mtb_task)t),
                    train_names[t][0]);
    }
    if (after == before && before == 0)
        return mtb_error_set(err, MTB_EINPUT,
                             "--data-dir %s: none of the course's files (ids-sst-train.csv, "
                             "quora-train.csv, sts-train.csv, ...) is there",
                             rc->data_dir);
    return MTB_OK;
}

/* mkdir -p of the folder that will hold path. */
static void make_parent_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash && slash != buf) {
        *slash = '\0';
        mtb_mkdir_p(buf, 0755);
    }
}

void run_set_threads(int threads)
{
    mtb_set_threads(threads);
}

static int load_task_files(mtb_dataset *ds, mtb_task task, char *const *files, int n, FILE *log,
                           mtb_error *err)
{
    mtb_dataset_init(ds, task);
    for (int i = 0; i < n; i++) {
        size_t before = ds->dropped;
        int rc = mtb_dataset_load(ds, files[i], true, err);
        if (rc)
            return rc;
        if (ds->dropped > before && log)
            fprintf(log, "mtbert: warning: %s: dropped %zu rows with an empty label\n", files[i],
                    ds->dropped - before);
    }
    return MTB_OK;
}

/* The learning rate and pooling a run gets when the command line names
 * none.  The seed project's 1e-5 and [CLS] suit fine-tuning a pretrained
 * encoder; a fresh, randomly initialised one learns nothing at 1e-5, and
 * its [CLS] state carries little until attention has learnt to gather
 * into it, so it gets RUN_FRESH_LR and mean pooling (measured in README). */
static void resolve_defaults(run_config *rc, bool fresh, FILE *log)
{
    char said[128] = "";
    if (!(rc->lr > 0)) {
        rc->lr = fresh ? RUN_FRESH_LR : RUN_FINETUNE_LR;
        if (fresh)
            snprintf(said, sizeof said, "at --lr %g", rc->lr);
    } else if (fresh && rc->lr <= 2 * RUN_FINETUNE_LR && log) {
        fprintf(log, "mtbert: warning: --lr %g is a fine-tuning rate; a fresh, randomly "
                "initialised model barely learns at it (try --lr %g)\n", rc->lr, RUN_FRESH_LR);
    }
    if (!rc->pooling) {
        set_str(&rc->pooling, fresh ? "mean" : "cls");
        if (fresh)
            snprintf(said + strlen(said), sizeof said - strlen(said), "%swith --pooling mean",
                     said[0] ? " " : "");
    }
    if (said[0] && log && !rc->quiet)
        fprintf(log, "mtbert: a fresh model trains %s by default (--lr %g and --pooling cls "
                "suit fine-tuning a pretrained encoder)\n", said, RUN_FINETUNE_LR);
}

/* Nothing is destroyed by accident: the run folder is locked against a
 * second process, what killed saves left behind is cleaned up (and said),
 * and an existing run or metrics file is replaced only with --force (a
 * resumed run continues its own folder and appends to its metrics). */
static bool run_has_validation(const run_state *st)
{
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (st->dev[t].n > 0)
            return true;
    return false;
}

static int protect_outputs(run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    const char *out = rc->out_dir;
    int status = mtb_run_lock_acquire(&st->lock, out, err);
    if (status)
        return status;
    char note[2048];
    if (mtb_model_dir_recover(out, note, sizeof note) > 0 && log)
        fprintf(log, "mtbert: %s\n", note);
    /* Find out now, not after hours of training, that --out cannot be saved to. */
    if ((status = mtb_model_dir_check_target(out, err)))
        return mtb_error_prefix(err, "--out");
    struct stat sb;
    const bool continuing = rc->resume_dir && fe_same_path(out, rc->resume_dir);
    const char *kind = fe_saved_kind(out);
    if (!continuing && !rc->force && kind)
        return mtb_error_set(err, MTB_EINPUT, "--out %s already holds a saved %s; --resume %s "
                             "continues it, --force replaces it",
                             out, kind, out);
    if (rc->metrics_path && !rc->resume_dir && !rc->force && stat(rc->metrics_path, &sb) == 0 &&
        S_ISREG(sb.st_mode) && sb.st_size > 0)
        return mtb_error_set(err, MTB_EINPUT, "--metrics %s already holds another run's "
                             "records; --force overwrites it, --resume appends to it",
                             rc->metrics_path);
    /* --save-best writes OUT-best: a new folder, or a model saved there */
    const char *best = st->options.best_dir;
    if (best[0]) {
        const char *bk = fe_saved_kind(best);
        if ((status = mtb_model_dir_check_target(best, err)))
            return mtb_error_prefix(err, "--save-best");
        if (bk && strcmp(bk, "run") == 0 && !rc->force)
            return mtb_error_set(err, MTB_EINPUT, "--save-best: %s holds a saved run, not a "
                                 "best model; --force replaces it", best);
        if (!run_has_validation(st) && log)
            fprintf(log, "mtbert: warning: --save-best needs validation data (dev files or "
                    "--val-split); without it nothing is saved there\n");
    }
    /* A resumed run appends only to its own records. */
    char file_id[64];
    if (rc->metrics_path && rc->resume_dir && !rc->force && rc->run_id[0] &&
        metrics_read_run_id(rc->metrics_path, file_id, sizeof file_id) == 1 &&
        strcmp(file_id, rc->run_id) != 0)
        return mtb_error_set(err, MTB_EINPUT, "--metrics %s holds the records of another run "
                             "(run %s; this one is %s); name this run's own file, or --force "
                             "to append anyway", rc->metrics_path, file_id, rc->run_id);
    return MTB_OK;
}

/* The run's training and validation sets: every file of every task, and a
 * seeded --val-split where a task has no dev file. */
static int load_run_data(const run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    int status = MTB_OK;
    for (int t = 0; t < MTB_N_TASKS && !status; t++) {
        mtb_dataset_init(&st->dev[t], (mtb_task)t);
        status = load_task_files(&st->train[t], (mtb_task)t, rc->train[t], rc->n_train[t], log,
                                 err);
        if (!status)
            status = load_task_files(&st->dev[t], (mtb_task)t, rc->dev[t], rc->n_dev[t], log, err);
        if (!status && rc->n_train[t] > 0 && st->train[t].n == 0)
            status = mtb_error_set(err, MTB_EINPUT, "%s: no training examples", rc->train[t][0]);
        if (!status && rc->n_dev[t] > 0 && st->dev[t].n == 0 && log)
            fprintf(log, "mtbert: warning: %s: no validation examples\n", rc->dev[t][0]);
        if (!status && rc->val_split > 0 && rc->n_dev[t] == 0 && st->train[t].n >= 2)
            status = mtb_dataset_split(&st->train[t], &st->dev[t], rc->val_split,
                                       rc->seed + 7919u * (uint64_t)t, err);
    }
    if (status)
        return status;

    return status;
}

/* The model: a checkpoint or Hugging Face folder (--model, or --resume's),
 * or a fresh one of --config with --vocab. */
static int load_run_model(run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    int status;
    mtb_rng init_rng;
    mtb_rng_seed(&init_rng, rc->seed);
    const char *model_dir = rc->resume_dir ? rc->resume_dir : rc->model_dir;
    resolve_defaults(rc, !model_dir, log);
    mtb_pooling pooling = strcmp(rc->pooling, "mean") == 0 ? MTB_POOL_MEAN : MTB_POOL_CLS;
    if (model_dir) {
        bool has_heads;
        status = mtb_multitask_load(&st->model, model_dir, pooling, (float)rc->dropout,
                                    &init_rng, &has_heads, err);
        if (!status && log && !rc->quiet)
            fprintf(log, "mtbert: loaded %s (%s)\n", model_dir,
                    has_heads ? "mtbert checkpoint" : "encoder only; new task heads");
        /* A trained model brings its own pooling: record what the run uses. */
        if (!status)
            set_str(&rc->pooling, st->model.pooling == MTB_POOL_MEAN ? "mean" : "cls");
    } else {
        if (!rc->vocab_path)
            return mtb_error_set(err, MTB_EINPUT,
                                 "a fresh model needs --vocab FILE (or start from --model DIR)");
        mtb_vocab *vocab;
        status = mtb_vocab_load(rc->vocab_path, &vocab, err);
        if (status)
            return status;
        mtb_config cfg;
        mtb_config_named(rc->config_name ? rc->config_name : "tiny", (int)mtb_vocab_size(vocab),
                     &cfg);
        status = mtb_multitask_init_random(&st->model, &cfg, vocab, pooling, (float)rc->dropout,
                                           &init_rng, err);
        if (status)
            mtb_vocab_free(vocab);
    }
    if (status)
        return status;
    st->model_loaded = true;
    st->model.losses = rc->losses;
    return MTB_OK;
}


/* The trainer's options from the command line, --out's default included. */
static void fill_train_options(run_config *rc, run_state *st, mtb_mode mode, mtb_task single,
                               FILE *log)
{
    mtb_train_options *o = &st->options;
    mtb_train_options_defaults(o);
    o->mode = mode;
    o->single_task = single;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        o->use_task[t] = st->train[t].n > 0;
        o->batch[t] = rc->task_batch[t] ? rc->task_batch[t] : rc->batch;
    }
    o->max_len = rc->max_len;
    const int max_pos = st->model.bert.cfg.max_position;
    if (o->max_len > max_pos) {
        if (log)
            fprintf(log, "mtbert: warning: --max-length %d is more than the model's %d "
                    "positions; using %d\n", o->max_len, max_pos, max_pos);
        o->max_len = max_pos;
    }
    o->epochs = rc->epochs >= 0 ? rc->epochs : rc->max_steps > 0 ? 0 : 1;
    o->max_steps = rc->max_steps;
    o->seed = rc->seed;
    o->eval_every = rc->eval_every;
    o->on_nan = rc->skip_nan ? MTB_ON_NAN_SKIP : MTB_ON_NAN_STOP;
    o->adamw.lr = (float)rc->lr;
    o->adamw.weight_decay = (float)rc->weight_decay;
    o->merge = rc->merge;
    mtb_schedule_parse(rc->schedule ? rc->schedule : RUN_DEFAULT_SCHEDULE, &o->schedule.kind);
    run_parse_warmup(rc->warmup ? rc->warmup : RUN_DEFAULT_WARMUP, &o->schedule.warmup_steps,
                     &o->schedule.warmup_fraction);
    if (!rc->out_dir) {
        if (rc->resume_dir) {
            set_str(&rc->out_dir, rc->resume_dir);
        } else {
            char name[128], stamp[32];
            time_t now = time(NULL);
            strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
            snprintf(name, sizeof name, "runs/%s-%s", rc->mode ? rc->mode : "pcgrad", stamp);
            for (char *p = name; *p; p++)
                if (*p == ':')
                    *p = '-';
            set_str(&rc->out_dir, name);
        }
    }
    snprintf(o->out_dir, sizeof o->out_dir, "%s", rc->out_dir);
    if (rc->save_best)
        snprintf(o->best_dir, sizeof o->best_dir, "%s-best", rc->out_dir);
    make_parent_dirs(o->out_dir);
}

/* The trainer, restored from --resume's checkpoint, and what truncation
 * its data took. */
static int create_trainer(const run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    const mtb_train_options *o = &st->options;
    const int max_pos = st->model.bert.cfg.max_position;
    int status;
    const mtb_dataset *train[MTB_N_TASKS], *dev[MTB_N_TASKS];
    for (int t = 0; t < MTB_N_TASKS; t++) {
        train[t] = st->train[t].n ? &st->train[t] : NULL;
        dev[t] = st->dev[t].n ? &st->dev[t] : NULL;
    }
    status = mtb_trainer_create(&st->trainer, &st->model, o, train, dev, err);
    if (!status && rc->resume_dir)
        status = mtb_trainer_restore(st->trainer, rc->resume_dir, err);
    if (!status && log && !rc->quiet) {
        for (int t = 0; t < MTB_N_TASKS; t++) {
            const mtb_encoded *e = mtb_trainer_train_data(st->trainer, (mtb_task)t);
            if (e && e->truncated)
                fprintf(log, "mtbert: %s: %zu of %zu examples truncated to %d tokens%s\n",
                        mtb_task_name((mtb_task)t), e->truncated, e->n,
                        t == MTB_TASK_PARA ? (2 * o->max_len < max_pos ? 2 * o->max_len
                                                                       : max_pos)
                                           : o->max_len,
                        t == MTB_TASK_PARA ? " per pair" : "");
        }
    }
    return status;
}

/* 64 random bits as hex: a run's identity in its record and metrics. */
static void new_run_id(run_config *rc)
{
    uint64_t x = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(&x, sizeof x, 1, f) != 1) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        x = ((uint64_t)t.tv_sec * 1000000007u) ^ (uint64_t)t.tv_nsec ^ ((uint64_t)getpid() << 40);
    }
    if (f)
        fclose(f);
    snprintf(rc->run_id, sizeof rc->run_id, "%016llx", (unsigned long long)x);
}

int run_setup(run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    memset(st, 0, sizeof *st);
    st->lock.fd = -1;
    /* A resumed run's saved file lists are its data: expanding the folder
     * again could add a file that appeared since. */
    if (rc->data_dir && !rc->resume_dir) {
        int drc = expand_data_dir(rc, log, err);
        if (drc)
            return drc;
    }
    mtb_mode mode = MTB_MODE_PCGRAD;
    mtb_task single = MTB_TASK_SST;
    if (rc->mode)
        mtb_mode_parse(rc->mode, &mode, &single);

    bool any = false;
    for (int t = 0; t < MTB_N_TASKS; t++)
        any |= rc->n_train[t] > 0;
    if (!any)
        return mtb_error_set(err, MTB_EINPUT,
                             "no training data: give --sst-train, --para-train, --sts-train or "
                             "--data-dir");
    if (mode == MTB_MODE_SINGLE && rc->n_train[single] == 0)
        return mtb_error_set(err, MTB_EINPUT, "--mode single:%s needs --%s-train",
                             mtb_task_name(single), mtb_task_name(single));
    int status = load_run_data(rc, st, log, err);
    if (!status)
        status = load_run_model(rc, st, log, err);
    if (status)
        return status;
    if (!rc->resume_dir || !rc->run_id[0])
        new_run_id(rc);
    fill_train_options(rc, st, mode, single, log);
    status = protect_outputs(rc, st, log, err);
    if (status)
        return status;
    st->options.run_json = run_record(rc);
    return create_trainer(rc, st, log, err);
}

void run_teardown(run_state *st)
{
    mtb_run_lock_release(&st->lock);
    mtb_trainer_destroy(st->trainer);
    for (int t = 0; t < MTB_N_TASKS; t++) {
        mtb_dataset_free(&st->train[t]);
        mtb_dataset_free(&st->dev[t]);
    }
    if (st->model_loaded)
        mtb_multitask_free(&st->model);
    free(st->options.run_json);
    memset(st, 0, sizeof *st);
    st->lock.fd = -1;
}

FILE *run_open_metrics(const run_config *rc, const run_state *st, bool *failed)
{
    *failed = false;
    if (!rc->metrics_path)
        return NULL;
    FILE *f = fopen(rc->metrics_path, rc->resume_dir ? "a" : "w");
    if (!f) {
        fprintf(stderr, "mtbert: %s: cannot open for writing\n", rc->metrics_path);
        *failed = true;
        return NULL;
    }
    setvbuf(f, NULL, _IOLBF, 0); /* readable live, e.g. with tail -f */
    if (rc->resume_dir)
        metrics_write_resumed(f, rc->run_id, mtb_trainer_step_count(st->trainer));
    else
        metrics_write_header(f, rc->run_id, st->options.run_json, &st->model.bert);
    return f;
}

int run_prepare(run_config *rc, run_state *st, FILE *log)
{
    run_set_threads(rc->threads);
    fe_apply_precision(rc->precision, log);
    mtb_error err = {0};
    if (run_setup(rc, st, log, &err)) {
        run_teardown(st);
        return fe_report(&err);
    }
    return -1;
}
