/* The --metrics file: a first record with the run's configuration, then
 * one JSON line per step and task, per conflict measurement and per
 * evaluation.  Shared by train and tui. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "metrics.h"

#include "mtbert/machine.h"

/* A measured value: a number, or "nan", "inf", "-inf" where the value is
 * not finite (a diverged step), so that it never reads as "not measured",
 * which is null or a missing key. */
static json_t *real_or_null(double v)
{
    if (isfinite(v))
        return json_real(v);
    return json_string(isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

static json_t *measured_or_null(bool measured, double v)
{
    return measured ? real_or_null(v) : json_null();
}

static void write_json_line(FILE *f, json_t *o)
{
    /* 9 significant digits: every float survives, doubles read naturally. */
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
    if (s) {
        fprintf(f, "%s\n", s);
        free(s);
    }
    json_decref(o);
}

static void write_step(FILE *f, const mtb_event *ev)
{
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (!ev->u.step.active[t])
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "step", json_integer(ev->step));
        json_object_set_new(o, "task", json_string(mtb_task_name((mtb_task)t)));
        json_object_set_new(o, "loss", real_or_null(ev->u.step.loss[t]));
        json_object_set_new(o, "epoch", json_real(ev->epoch));
        json_object_set_new(o, "lr", json_real(ev->u.step.lr));
        json_object_set_new(o, "time", json_real(ev->elapsed));
        write_json_line(f, o);
    }
}

static void pair_name(const mtb_conflict_stats *cs, int p, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s-%s", mtb_task_name((mtb_task)cs->task[cs->pair[p][0]]),
             mtb_task_name((mtb_task)cs->task[cs->pair[p][1]]));
}

static void write_conflict(FILE *f, const mtb_event *ev)
{
    const mtb_conflict_stats *cs = &ev->u.conflict;
    json_t *c = json_object(), *norm = json_object(), *cos = json_object(),
           *group = json_object(), *proj = json_object(), *change = json_object(),
           *weight = json_object(), *served = json_object();
    for (int i = 0; i < cs->n_tasks; i++) {
        const char *ti = mtb_task_name((mtb_task)cs->task[i]);
        json_object_set_new(norm, ti, real_or_null(cs->norm[i]));
        json_object_set_new(served, ti, real_or_null(cs->served[i]));
        json_object_set_new(change, ti, real_or_null(cs->change[i]));
        json_object_set_new(weight, ti, real_or_null(cs->weight[i]));
        for (int j = 0; j < cs->n_tasks; j++) {
            if (i == j)
                continue;
            char key[32];
            snprintf(key, sizeof key, "%s-%s", ti, mtb_task_name((mtb_task)cs->task[j]));
            json_object_set_new(proj, key, json_boolean(cs->projected[i][j]));
        }
    }
    for (int p = 0; p < cs->n_pairs; p++) {
        char key[32];
        pair_name(cs, p, key, sizeof key);
        json_object_set_new(cos, key, real_or_null(cs->cos[p]));
        json_t *g = json_array();
        for (int k = 0; k < cs->n_groups; k++)
            /* a group no task has a gradient in has no cosine */
            json_array_append_new(g, measured_or_null(!cs->group_zero[k], cs->group_cos[p][k]));
        json_object_set_new(group, key, g);
    }
    json_object_set_new(c, "norm", norm);
    json_object_set_new(c, "cos", cos);
    json_object_set_new(c, "group_cos", group);
    json_object_set_new(c, "projected", proj);
    json_object_set_new(c, "change", change);
    json_object_set_new(c, "weight", weight);
    json_object_set_new(c, "served", served);
    json_object_set_new(c, "merged_norm", real_or_null(cs->merged_norm));
    json_t *o = json_object();
    json_object_set_new(o, "step", json_integer(ev->step));
    json_object_set_new(o, "conflict", c);
    write_json_line(f, o);
}

static void write_eval(FILE *f, const mtb_event *ev)
{
    const mtb_eval_result *r = &ev->u.eval;
    json_t *e = json_object(), *loss = json_object();
    json_object_set_new(e, "sst_acc", measured_or_null(r->has[MTB_TASK_SST], r->sst_acc));
    json_object_set_new(e, "para_acc", measured_or_null(r->has[MTB_TASK_PARA], r->para_acc));
    json_object_set_new(e, "sts_corr", measured_or_null(r->has[MTB_TASK_STS], r->sts_corr));
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (r->has[t])
            json_object_set_new(loss, mtb_task_name((mtb_task)t), real_or_null(r->loss[t]));
    json_object_set_new(e, "loss", loss);
    json_t *o = json_object();
    json_object_set_new(o, "step", json_integer(ev->step));
    json_object_set_new(o, "eval", e);
    write_json_line(f, o);
}

/* What the run's speed and last bits depend on (machine.h): a figure read
 * back later is only comparable with others of the same kernel. */
static json_t *machine_json(void)
{
    mtb_machine m;
    mtb_machine_read(&m);
    json_t *o = json_object();
    json_object_set_new(o, "cpu", json_string(m.cpu));
    json_object_set_new(o, "features", json_string(m.features));
    json_object_set_new(o, "openblas", json_string(m.openblas));
    json_object_set_new(o, "kernel", json_string(m.kernel));
    json_object_set_new(o, "kernel_source", json_string(m.kernel_source));
    json_object_set_new(o, "kernel_reason", json_string(m.kernel_reason));
    json_object_set_new(o, "products", json_string(m.gemm));
    json_object_set_new(o, "threads", json_integer(m.threads));
    json_object_set_new(o, "precision", json_string(m.precision));
    return o;
}

void metrics_write_header(FILE *f, const char *run_id, const char *run_json,
                          const mtb_bert *model)
{
    json_error_t jerr;
    json_t *config = run_json ? json_loads(run_json, 0, &jerr) : NULL;
    json_t *groups = json_array();
    for (int k = 0; model && k < model->n_groups; k++)
        json_array_append_new(groups, json_string(model->groups[k].name));
    json_t *o = json_object();
    json_object_set_new(o, "mtbert_metrics", json_integer(1));
    json_object_set_new(o, "run_id", json_string(run_id ? run_id : ""));
    json_object_set_new(o, "config", config ? config : json_null());
    json_object_set_new(o, "groups", groups);
    json_object_set_new(o, "machine", machine_json());
    write_json_line(f, o);
}

void metrics_write_resumed(FILE *f, const char *run_id, long step)
{
    /* the resumed part may run on another machine, kernel or precision */
    write_json_line(f, json_pack("{s:{s:s,s:I,s:o}}", "resumed", "run_id", run_id ? run_id : "",
                                 "step", (json_int_t)step, "machine", machine_json()));
}

void metrics_write(FILE *f, const mtb_event *ev)
{
    switch (ev->type) {
    case MTB_EV_STEP: write_step(f, ev); break;
    case MTB_EV_CONFLICT: write_conflict(f, ev); break;
    case MTB_EV_EVAL: write_eval(f, ev); break;
    default: break;
    }
}
