/* mtbert eval and mtbert predict: a trained model on dev and test files. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "../front/prompt.h"
#include "mtbert/batcher.h"
#include "mtbert/evaluate.h"
#include "mtbert/metrics.h"
#include "mtbert/model_dir.h"
#include "run_setup.h"

typedef struct infer_args {
    cli_model_opts mo;
    const char *files[MTB_N_TASKS][2]; /* [task][0 dev, 1 test] */
    const char *data_dir;
    const char *out_dir;
    int batch;
} infer_args;

enum { O_SST_DEV = 2000, O_PARA_DEV, O_STS_DEV, O_SST_TEST, O_PARA_TEST, O_STS_TEST,
       O_DATA_DIR, O_OUT_DIR, O_BATCH, O_HELP };

static const struct option infer_options[] = {
    CLI_MODEL_OPTIONS,
    {"sst-dev", required_argument, NULL, O_SST_DEV},
    {"para-dev", required_argument, NULL, O_PARA_DEV},
    {"sts-dev", required_argument, NULL, O_STS_DEV},
    {"sst-test", required_argument, NULL, O_SST_TEST},
    {"para-test", required_argument, NULL, O_PARA_TEST},
    {"sts-test", required_argument, NULL, O_STS_TEST},
    {"data-dir", required_argument, NULL, O_DATA_DIR},
    {"out-dir", required_argument, NULL, O_OUT_DIR},
    {"batch", required_argument, NULL, O_BATCH},
    {"help", no_argument, NULL, O_HELP},
    {NULL, 0, NULL, 0},
};

static void eval_usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert eval --model DIR [--sst-dev FILE] [--para-dev FILE] [--sts-dev FILE]\n"
            "                   [--data-dir DIR] [--json]\n"
            "\n"
            "Scores a trained model: SST accuracy, Quora accuracy and STS Pearson\n"
            "correlation on labelled files.\n"
            "\n"
            "  -m, --model DIR       an mtbert checkpoint (heads included)\n"
            "      --sst-dev FILE, --para-dev FILE, --sts-dev FILE\n"
            "                        labelled evaluation files\n"
            "      --data-dir DIR    take ids-sst-dev.csv, quora-dev.csv, sts-dev.csv from DIR\n"
            "      --batch N         examples per forward pass (default 32)\n"
            "      --max-length N    tokens per sentence (default 128; pairs 2N)\n"
            "      --threads N       compute threads\n"
            "      --precision P     fp32, bf16 or auto (default; bf16 where the CPU has\n"
            "                        bf16 units)\n"
            "      --json            finish with {\"sst_acc\":..,\"para_acc\":..,\"sts_corr\":..}\n"
            "  -h, --help            show this help\n");
}

static void predict_usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert predict --model DIR [--sst-test FILE] [--para-test FILE]\n"
            "                      [--sts-test FILE] [--sst-dev FILE ...] [--out-dir DIR]\n"
            "\n"
            "Writes the course's prediction files: sst-test-output.csv,\n"
            "para-test-output.csv, sts-test-output.csv (and -dev- for dev files) in\n"
            "--out-dir (default predictions).  Each has a header line and one\n"
            "\"id , prediction\" line per example.\n"
            "\n"
            "  -m, --model DIR       an mtbert checkpoint (heads included)\n"
            "      --sst-test FILE, --para-test FILE, --sts-test FILE\n"
            "      --sst-dev FILE, --para-dev FILE, --sts-dev FILE\n"
            "      --data-dir DIR    take the course's test (and dev) file names from DIR\n"
            "      --out-dir DIR     where to write (default predictions)\n"
            "      --batch N, --max-length N, --threads N, --precision P   as for eval\n"
            "  -h, --help            show this help\n");
}

static int parse_infer(infer_args *a, int argc, char **argv, const char *command,
                       void (*usage)(FILE *))
{
    memset(a, 0, sizeof *a);
    cli_model_opts_init(&a->mo);
    a->batch = 32;
    a->out_dir = "predictions";
    bool out_dir_given = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:h", infer_options, NULL)) != -1) {
        int status;
        if (cli_model_option(c, optarg, command, &a->mo, &status)) {
            if (status >= 0)
                return status;
            continue;
        }
        switch (c) {
        case O_SST_DEV: case O_PARA_DEV: case O_STS_DEV:
            a->files[c - O_SST_DEV][0] = optarg;
            break;
        case O_SST_TEST: case O_PARA_TEST: case O_STS_TEST:
            a->files[c - O_SST_TEST][1] = optarg;
            break;
        case O_DATA_DIR: a->data_dir = optarg; break;
        case O_OUT_DIR:
            a->out_dir = optarg;
            out_dir_given = true;
            break;
        case O_BATCH:
            if (!fe_parse_int(optarg, 1, 4096, &a->batch))
                return fe_usage_error(command, "--batch must be an integer in 1..4096");
            break;
        case 'h':
        case O_HELP: usage(stdout); return FE_OK;
        default: return fe_bad_option(command, argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fe_usage_error(command, "unexpected argument '%s'", argv[optind]);
    if (!a->mo.model_dir)
        return fe_usage_error(command, "--model DIR is required");
    const bool predicting = strcmp(command, "predict") == 0;
    if (!predicting && (a->files[0][1] || a->files[1][1] || a->files[2][1] || out_dir_given))
        return fe_usage_error(command, "test files and --out-dir are for 'mtbert predict'");
    if (predicting && a->mo.json)
        return fe_usage_error(command, "--json is for 'mtbert eval'");
    if (a->data_dir) {
        struct stat st;
        if (stat(a->data_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return fe_usage_error(command, "--data-dir %s: not a folder", a->data_dir);
    }
    return -1;
}

static char *data_file(const char *dir, const char *const *names)
{
    /* One slot per task and split: the paths live as long as the command. */
    static char path[2 * MTB_N_TASKS][4096];
    static int next;
    char *out = path[next++ % (2 * MTB_N_TASKS)];
    struct stat st;
    for (; *names; names++)
        if (mtb_path_join(out, sizeof path[0], dir, *names) && stat(out, &st) == 0)
            return out;
    return NULL;
}

static void expand_infer_dir(infer_args *a, bool want_test)
{
    static const char *dev[MTB_N_TASKS][2] = {
        {"ids-sst-dev.csv", NULL}, {"quora-dev.csv", NULL}, {"sts-dev.csv", NULL}};
    static const char *test[MTB_N_TASKS][3] = {
        {"ids-sst-test-student.csv", NULL},
        {"quora-test-student.csv", "quora-test-student-partial.csv", NULL},
        {"sts-test-student.csv", NULL}};
    if (!a->data_dir)
        return;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (!a->files[t][0])
            a->files[t][0] = data_file(a->data_dir, dev[t]);
        if (want_test && !a->files[t][1])
            a->files[t][1] = data_file(a->data_dir, test[t]);
    }
}

static int encode_file(const mtb_multitask *mt, mtb_task task, const char *path, bool labels,
                       int max_len, mtb_dataset *ds, mtb_encoded *e, mtb_error *err)
{
    mtb_dataset_init(ds, task);
    int rc = mtb_dataset_load(ds, path, labels, err);
    if (!rc) {
        int plen = 2 * max_len < mt->bert.cfg.max_position ? 2 * max_len
                                                           : mt->bert.cfg.max_position;
        int len = max_len < mt->bert.cfg.max_position ? max_len : mt->bert.cfg.max_position;
        rc = mtb_encode_dataset(e, ds, mt->vocab, len, plen, err);
    }
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    infer_args a;
    int status = parse_infer(&a, argc, argv, "eval", eval_usage);
    if (status >= 0)
        return status;
    expand_infer_dir(&a, false);
    bool any = false;
    for (int t = 0; t < MTB_N_TASKS; t++)
        any |= a.files[t][0] != NULL;
    if (!any)
        return fe_usage_error("eval", "nothing to evaluate: give --sst-dev, --para-dev or "
                               "--sts-dev (or --data-dir)");
    cli_model_opts_apply(&a.mo);

    mtb_error err = {0};
    mtb_multitask mt;
    if (fe_load_trained_model(a.mo.model_dir, &mt, &err))
        return fe_report(&err);
    mtb_dataset ds[MTB_N_TASKS];
    mtb_encoded enc[MTB_N_TASKS];
    const mtb_encoded *dev[MTB_N_TASKS] = {NULL, NULL, NULL};
    memset(ds, 0, sizeof ds);
    memset(enc, 0, sizeof enc);
    status = FE_OK;
    for (int t = 0; t < MTB_N_TASKS && status == FE_OK; t++) {
        if (!a.files[t][0])
            continue;
        if (encode_file(&mt, (mtb_task)t, a.files[t][0], true, a.mo.max_len, &ds[t], &enc[t],
                        &err))
            status = fe_report(&err);
        dev[t] = &enc[t];
        if (status == FE_OK && ds[t].n == 0)
            fprintf(stderr, "mtbert: warning: %s: no examples\n", a.files[t][0]);
        if (status == FE_OK && ds[t].dropped)
            fprintf(stderr, "mtbert: warning: %s: dropped %zu rows with an empty label\n",
                    a.files[t][0], ds[t].dropped);
    }
    mtb_eval_result r;
    if (status == FE_OK && mtb_evaluate(&mt, dev, a.batch, &r, &err))
        status = fe_report(&err);
    if (status == FE_OK) {
        if (r.has[MTB_TASK_SST])
            printf("sst  accuracy    %.4f  (%ld examples, loss %.4f)\n", r.sst_acc,
                   r.n[MTB_TASK_SST], r.loss[MTB_TASK_SST]);
        if (r.has[MTB_TASK_PARA])
            printf("para accuracy    %.4f  (%ld examples, loss %.4f)\n", r.para_acc,
                   r.n[MTB_TASK_PARA], r.loss[MTB_TASK_PARA]);
        if (r.has[MTB_TASK_STS])
            printf("sts  correlation %.4f  (%ld examples, loss %.4f)\n", r.sts_corr,
                   r.n[MTB_TASK_STS], r.loss[MTB_TASK_STS]);
        if (a.mo.json) {
            double v[3] = {r.sst_acc, r.para_acc, r.sts_corr};
            const char *k[3] = {"sst_acc", "para_acc", "sts_corr"};
            fputc('{', stdout);
            for (int i = 0; i < 3; i++) {
                printf("%s\"%s\":", i ? "," : "", k[i]);
                if (isfinite(v[i]))
                    printf("%.6f", v[i]);
                else
                    fputs("null", stdout);
            }
            fputs("}\n", stdout);
        }
    }
    for (int t = 0; t < MTB_N_TASKS; t++) {
        mtb_encoded_free(&enc[t]);
        mtb_dataset_free(&ds[t]);
    }
    mtb_multitask_free(&mt);
    return status;
}

static int write_predictions(const char *path, mtb_task task, const mtb_dataset *ds,
                             const float *pred, mtb_error *err)
{
    static const char *headers[MTB_N_TASKS] = {"Predicted_Sentiment", "Predicted_Is_Paraphrase",
                                               "Predicted_Similiarity"};
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return mtb_error_set(err, MTB_EFAIL, "%s: cannot write", tmp);
    /* The course's exact layout, header typo included: graders parse it. */
    fprintf(f, "id \t %s \n", headers[task]);
    for (size_t i = 0; i < ds->n; i++) {
        const char *id = ds->ex[i].id ? ds->ex[i].id : "";
        if (task == MTB_TASK_SST) {
            fprintf(f, "%s , %d \n", id, mtb_argmax(pred + i * MTB_SST_CLASSES, MTB_SST_CLASSES));
        } else if (task == MTB_TASK_PARA) {
            fprintf(f, "%s , %.1f \n", id, pred[i] > 0.5f ? 1.0 : 0.0);
        } else {
            fprintf(f, "%s , %.6g \n", id, (double)pred[i]);
        }
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return mtb_error_set(err, MTB_EFAIL, "%s: cannot write", path);
    return MTB_OK;
}

int cmd_predict(int argc, char **argv)
{
    infer_args a;
    int status = parse_infer(&a, argc, argv, "predict", predict_usage);
    if (status >= 0)
        return status;
    expand_infer_dir(&a, true);
    bool any = false;
    for (int t = 0; t < MTB_N_TASKS; t++)
        any |= a.files[t][0] || a.files[t][1];
    if (!any)
        return fe_usage_error("predict", "nothing to predict: give --sst-test, --para-test, "
                               "--sts-test (or dev files, or --data-dir)");
    cli_model_opts_apply(&a.mo);
    mtb_error err = {0};
    mtb_multitask mt;
    if (fe_load_trained_model(a.mo.model_dir, &mt, &err))
        return fe_report(&err);
    mkdir(a.out_dir, 0755);
    for (int t = 0; t < MTB_N_TASKS && status < 0; t++) {
        for (int split = 0; split < 2 && status < 0; split++) {
            const char *file = a.files[t][split];
            if (!file)
                continue;
            mtb_dataset ds;
            mtb_encoded e;
            memset(&e, 0, sizeof e);
            float *pred = NULL;
            char out[4096], name[64];
            snprintf(name, sizeof name, "%s-%s-output.csv", mtb_task_name((mtb_task)t),
                     split ? "test" : "dev");
            if (encode_file(&mt, (mtb_task)t, file, false, a.mo.max_len, &ds, &e, &err) ||
                !(pred = malloc(sizeof(float) * (e.n ? e.n : 1) *
                                (size_t)mtb_prediction_width((mtb_task)t))) ||
                mtb_predict(&mt, &e, a.batch, pred, NULL, &err) ||
                !mtb_path_join(out, sizeof out, a.out_dir, name) ||
                write_predictions(out, (mtb_task)t, &ds, pred, &err)) {
                if (!err.msg[0])
                    mtb_error_set(&err, MTB_EFAIL, "out of memory");
                status = fe_report(&err);
            } else {
                fprintf(stderr, "wrote %s (%zu predictions)\n", out, ds.n);
            }
            free(pred);
            mtb_encoded_free(&e);
            mtb_dataset_free(&ds);
        }
    }
    mtb_multitask_free(&mt);
    return status < 0 ? FE_OK : status;
}
