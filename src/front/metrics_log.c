/* The --metrics file: one JSON line per step and task, per conflict
 * measurement and per evaluation.  Shared by train and tui. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "metrics.h"

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
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
            json_array_append_new(g, real_or_null(cs->group_zero[k] ? NAN : cs->group_cos[p][k]));
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
    json_object_set_new(e, "sst_acc", real_or_null(r->sst_acc));
    json_object_set_new(e, "para_acc", real_or_null(r->para_acc));
    json_object_set_new(e, "sts_corr", real_or_null(r->sts_corr));
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (r->has[t])
            json_object_set_new(loss, mtb_task_name((mtb_task)t), real_or_null(r->loss[t]));
    json_object_set_new(e, "loss", loss);
    json_t *o = json_object();
    json_object_set_new(o, "step", json_integer(ev->step));
    json_object_set_new(o, "eval", e);
    write_json_line(f, o);
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
