/* The run record kept in trainer.json: written from a run's run_config,
 * and read back into one for --resume as strictly as the command line is
 * parsed. */
#include "run_record.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "run_options.h"

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
    return (double *)((char *)rc + run_opt_row(id)->offset);
}

static double field_double_value(const run_config *rc, int id)
{
    return *(const double *)((const char *)rc + run_opt_row(id)->offset);
}

char *run_canonical_path(const char *path)
{
    char *real = realpath(path, NULL);
    return real ? real : strdup(path);
}

static json_t *json_path(const char *path)
{
    char *c = run_canonical_path(path);
    json_t *j = json_string(c);
    free(c);
    return j;
}

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

char *run_record(const run_config *rc)
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
                                  "mnrl", run_mnrl_text(&rc->losses, mnrl, sizeof mnrl),
                                  "mnrl_scale", (double)rc->losses.mnrl_scale, "cosent_scale",
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

/* The first bad key is the one named. */
static void rec_bad(record_reader *r, const char *key)
{
    r->bad = r->bad ? r->bad : key;
}

static void rec_str(record_reader *r, const char *key, char **dst)
{
    json_t *v = json_object_get(r->o, key);
    if (!v)
        return;
    if (!json_is_string(v)) {
        rec_bad(r, key);
        return;
    }
    run_config_set_str(dst, json_string_value(v));
}

static void rec_num(record_reader *r, const char *key, double lo, double hi, double *dst)
{
    json_t *v = json_object_get(r->o, key);
    if (!v)
        return;
    double d = json_number_value(v);
    if (!json_is_number(v) || !(d >= lo && d <= hi))
        rec_bad(r, key);
    else
        *dst = d;
}

static void rec_long(record_reader *r, json_t *v, const char *key, long lo, long hi, long *dst)
{
    if (!v)
        return;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        rec_bad(r, key);
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
            rec_bad(r, key);
            continue;
        }
        for (size_t i = 0; i < json_array_size(a); i++) {
            const char *f = json_string_value(json_array_get(a, i));
            if (!f)
                rec_bad(r, key);
            else
                run_config_add_file(list[t], &n[t], f);
        }
    }
}

/* The seed is kept as a decimal string. */
static void rec_seed(record_reader *r, run_config *rc)
{
    char *seed = NULL;
    rec_str(r, "seed", &seed);
    if (!seed)
        return;
    char *end;
    errno = 0;
    rc->seed = strtoull(seed, &end, 10);
    if (errno || *end || end == seed)
        rec_bad(r, "seed");
    free(seed);
}

static void rec_task_batches(record_reader *r, run_config *rc)
{
    json_t *tb = json_object_get(r->o, "task_batch");
    if (tb && (!json_is_array(tb) || json_array_size(tb) != MTB_N_TASKS))
        rec_bad(r, "task_batch");
    for (int t = 0; t < MTB_N_TASKS && json_is_array(tb); t++) {
        long l = rc->task_batch[t];
        rec_long(r, json_array_get(tb, (size_t)t), "task_batch", 0, 4096, &l);
        rc->task_batch[t] = (int)l;
    }
}

/* Runs recorded before the methods had parameters used the defaults. */
static void rec_method_params(record_reader *r, run_config *rc)
{
    json_t *mp = json_object_get(r->o, "method_params");
    if (mp && !json_is_object(mp))
        rec_bad(r, "method_params");
    for (size_t i = 0; i < N_METHOD_OPTIONS && json_is_object(mp); i++) {
        record_reader sub = {mp, r->dir, NULL};
        const run_opt *o = run_opt_row(method_options[i].opt);
        rec_num(&sub, method_options[i].key, o->lo, o->hi, field_double(rc, method_options[i].opt));
        if (sub.bad)
            rec_bad(r, sub.bad);
    }
}

/* Runs recorded before the pair losses existed trained with the seed's. */
static void rec_losses(record_reader *r, run_config *rc)
{
    json_t *lj = json_object_get(r->o, "losses");
    if (!lj)
        return;
    const char *sts = json_string_value(json_object_get(lj, "sts"));
    const char *mnrl = json_string_value(json_object_get(lj, "mnrl"));
    record_reader sub = {lj, r->dir, NULL};
    double ms = rc->losses.mnrl_scale, cs = rc->losses.cosent_scale;
    rec_num(&sub, "mnrl_scale", 1e-3, 1e3, &ms);
    rec_num(&sub, "cosent_scale", 1e-3, 1e3, &cs);
    rc->losses.mnrl_scale = (float)ms;
    rc->losses.cosent_scale = (float)cs;
    if (!sts || (strcmp(sts, "mse") && strcmp(sts, "cosent")) || !mnrl ||
        !run_parse_mnrl(mnrl, &rc->losses) || sub.bad)
        rec_bad(r, "losses");
    else
        rc->losses.sts = strcmp(sts, "cosent") == 0 ? MTB_STS_LOSS_COSENT : MTB_STS_LOSS_MSE;
}

/* The texts the options would have parsed: the mode, schedule and warmup. */
static void rec_check_texts(record_reader *r, const run_config *rc)
{
    mtb_mode mode;
    mtb_task task;
    mtb_schedule_kind kind;
    if (!r->bad && rc->mode && mtb_mode_parse(rc->mode, &mode, &task))
        r->bad = "mode";
    if (!r->bad && rc->schedule && mtb_schedule_parse(rc->schedule, &kind))
        r->bad = "schedule";
    long ws;
    double wf;
    if (!r->bad && rc->warmup && !run_parse_warmup(rc->warmup, &ws, &wf))
        r->bad = "warmup";
}

/* The record's strings: names, paths, the schedule. */
static void rec_strings(record_reader *r, run_config *rc)
{
    rec_str(r, "mode", &rc->mode);
    /* Runs recorded before run ids had none: their metrics are not checked. */
    const char *rid = json_string_value(json_object_get(r->o, "run_id"));
    snprintf(rc->run_id, sizeof rc->run_id, "%s", rid ? rid : "");
    rec_str(r, "model", &rc->model_dir);
    rec_str(r, "config", &rc->config_name);
    rec_str(r, "vocab", &rc->vocab_path);
    rec_str(r, "pooling", &rc->pooling);
    /* Runs recorded before schedules existed trained at a constant rate. */
    run_config_set_str(&rc->schedule, "constant");
    run_config_set_str(&rc->warmup, "0");
    rec_str(r, "schedule", &rc->schedule);
    rec_str(r, "warmup", &rc->warmup);
    rec_str(r, "data_dir", &rc->data_dir);
    rec_str(r, "metrics", &rc->metrics_path);
}

/* The record's numbers, each in the range its option allows. */
static void rec_numbers(record_reader *r, run_config *rc)
{
    rec_num(r, "dropout", 0.0, 0.99, &rc->dropout);
    rec_num(r, "lr", 1e-12, 10.0, &rc->lr);
    rec_num(r, "weight_decay", 0.0, 1.0, &rc->weight_decay);
    rec_num(r, "val_split", 0.0, 0.9, &rc->val_split);
    rec_int(r, "batch", 1, 4096, &rc->batch);
    rec_task_batches(r, rc);
    rec_int(r, "max_length", 4, 4096, &rc->max_len);
    rec_int(r, "epochs", -1, 100000, &rc->epochs);
    rec_long(r, json_object_get(r->o, "max_steps"), "max_steps", 0, 1L << 40, &rc->max_steps);
    rec_long(r, json_object_get(r->o, "eval_every"), "eval_every", 0, 1L << 40, &rc->eval_every);
}

int run_apply_record(run_config *rc, const char *text, const char *dir)
{
    json_error_t jerr;
    record_reader r = {json_loads(text, 0, &jerr), dir, NULL};
    if (!json_is_object(r.o)) {
        json_decref(r.o);
        fprintf(stderr, "mtbert: %s/trainer.json: unreadable run record\n", dir);
        return FE_USAGE;
    }
    rec_strings(&r, rc);
    rec_seed(&r, rc);
    rec_numbers(&r, rc);
    rec_files(&r, "train", rc->train, rc->n_train);
    rec_files(&r, "dev", rc->dev, rc->n_dev);
    rec_method_params(&r, rc);
    rec_losses(&r, rc);
    rec_check_texts(&r, rc);
    json_decref(r.o);
    if (r.bad) {
        fprintf(stderr, "mtbert: %s/trainer.json: the run record's '%s' is not a valid value\n",
                dir, r.bad);
        return FE_USAGE;
    }
    return -1;
}
