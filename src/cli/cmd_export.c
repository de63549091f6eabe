/* mtbert export: a run's metrics file as tidy CSV, one measurement per row
 * (step, metric, task, pair, group, value), for R, pandas or a
 * spreadsheet. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert export RUN [--csv] [--out FILE]\n"
            "\n"
            "Writes a run's metrics (RUN: a run folder or its metrics file) as tidy CSV,\n"
            "one measurement per row:\n"
            "  step,metric,task,pair,group,value\n"
            "metrics: loss, lr, epoch, time (per step); norm, weight, served, change (per\n"
            "task), cos, projected (per task pair; projected: the first task's gradient was\n"
            "projected against the second's), group_cos (per pair and parameter group),\n"
            "merged_norm (per multitask step); dev_acc, dev_corr, dev_loss (per\n"
            "evaluation).  A value that is not finite is NaN, Inf or -Inf; what was not\n"
            "measured has no row.\n"
            "\n"
            "      --csv        the format (the only one)\n"
            "      --out FILE   write to FILE instead of standard output (never the\n"
            "                   metrics file being read)\n"
            "  -h, --help       show this help\n");
}

typedef struct export_ctx {
    FILE *out;
    char groups[MTB_MAX_GROUPS][32]; /* names from the file's header */
    int n_groups;
} export_ctx;

static void value(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "Inf" : "-Inf", f);
    else
        fprintf(f, "%.9g", v);
}

static void row(export_ctx *x, long step, const char *metric, const char *task, const char *pair,
                const char *group, double v)
{
    fprintf(x->out, "%ld,%s,%s,%s,%s,", step, metric, task ? task : "", pair ? pair : "",
            group ? group : "");
    value(x->out, v);
    fputc('\n', x->out);
}

static void export_event(const mtb_event *ev, void *ctx)
{
    export_ctx *x = ctx;
    const long s = ev->step;
    if (ev->type == MTB_EV_STEP) {
        for (int t = 0; t < MTB_N_TASKS; t++)
            if (ev->u.step.active[t])
                row(x, s, "loss", mtb_task_name((mtb_task)t), NULL, NULL, ev->u.step.loss[t]);
        row(x, s, "lr", NULL, NULL, NULL, ev->u.step.lr);
        row(x, s, "epoch", NULL, NULL, NULL, ev->epoch);
        row(x, s, "time", NULL, NULL, NULL, ev->elapsed);
    } else if (ev->type == MTB_EV_CONFLICT) {
        const mtb_conflict_stats *cs = &ev->u.conflict;
        for (int i = 0; i < cs->n_tasks; i++) {
            const char *ti = mtb_task_name((mtb_task)cs->task[i]);
            row(x, s, "norm", ti, NULL, NULL, cs->norm[i]);
            row(x, s, "weight", ti, NULL, NULL, cs->weight[i]);
            row(x, s, "served", ti, NULL, NULL, cs->served[i]);
            row(x, s, "change", ti, NULL, NULL, cs->change[i]);
            for (int j = 0; j < cs->n_tasks; j++) {
                if (i == j)
                    continue;
                char pair[32];
                snprintf(pair, sizeof pair, "%s-%s", ti, mtb_task_name((mtb_task)cs->task[j]));
                row(x, s, "projected", NULL, pair, NULL, cs->projected[i][j] ? 1.0 : 0.0);
            }
        }
        for (int p = 0; p < cs->n_pairs; p++) {
            char pair[32];
            snprintf(pair, sizeof pair, "%s-%s", mtb_task_name((mtb_task)cs->task[cs->pair[p][0]]),
                     mtb_task_name((mtb_task)cs->task[cs->pair[p][1]]));
            row(x, s, "cos", NULL, pair, NULL, cs->cos[p]);
            for (int g = 0; g < cs->n_groups; g++) {
                if (cs->group_zero[g])
                    continue; /* no gradient in the group: no cosine */
                char fallback[32];
                snprintf(fallback, sizeof fallback, "group.%d", g); /* a file without header */
                row(x, s, "group_cos", NULL, pair, g < x->n_groups ? x->groups[g] : fallback,
                    cs->group_cos[p][g]);
            }
        }
        if (!isnan(cs->merged_norm))
            row(x, s, "merged_norm", NULL, NULL, NULL, cs->merged_norm);
    } else if (ev->type == MTB_EV_EVAL) {
        const mtb_eval_result *r = &ev->u.eval;
        const double metric[MTB_N_TASKS] = {r->sst_acc, r->para_acc, r->sts_corr};
        for (int t = 0; t < MTB_N_TASKS; t++) {
            if (!r->has[t])
                continue;
            const char *tn = mtb_task_name((mtb_task)t);
            row(x, s, t == MTB_TASK_STS ? "dev_corr" : "dev_acc", tn, NULL, NULL, metric[t]);
            row(x, s, "dev_loss", tn, NULL, NULL, r->loss[t]);
        }
    }
}

/* The parameter groups' names from the file's header, if it has one. */
static void read_group_names(const char *path, export_ctx *x)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    if (f && getline(&line, &cap, f) > 0) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        const json_t *groups = json_object_get(o, "groups");
        for (size_t i = 0; json_object_get(o, "mtbert_metrics") && i < json_array_size(groups) &&
                           i < MTB_MAX_GROUPS; i++) {
            const char *name = json_string_value(json_array_get(groups, i));
            snprintf(x->groups[i], sizeof x->groups[i], "%s", name ? name : "");
            x->n_groups = (int)i + 1;
        }
        json_decref(o);
    }
    free(line);
    if (f)
        fclose(f);
}

int cmd_export(int argc, char **argv)
{
    static const struct option options[] = {
        {"csv", no_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'c': break;
        case 'o': out_path = optarg; break;
        case 'h': usage(stdout); return FE_OK;
        default: return fe_bad_option("export", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return fe_usage_error("export", optind >= argc ? "a run folder or metrics file to export "
                                                         "is needed"
                                                       : "one run at a time");
    char path[4200];
    mtb_error err = {0};
    if (metrics_path_of_run(argv[optind], path, sizeof path, &err))
        return fe_report(&err);
    if (out_path && fe_same_path(out_path, path))
        return fe_usage_error("export", "--out %s is the run's metrics file; writing there "
                                        "would destroy it", out_path);
    export_ctx x = {.out = out_path ? fopen(out_path, "w") : stdout};
    if (!x.out) {
        fprintf(stderr, "mtbert: %s: cannot open for writing\n", out_path);
        return FE_FAIL;
    }
    read_group_names(path, &x);
    fputs("step,metric,task,pair,group,value\n", x.out);
    int status = metrics_replay(path, -1, export_event, &x, &err) ? fe_report(&err) : FE_OK;
    if (out_path && fclose(x.out) != 0 && status == FE_OK) {
        fprintf(stderr, "mtbert: %s: write error\n", out_path);
        status = FE_FAIL;
    }
    return status;
}
