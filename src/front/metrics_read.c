/* Reading a --metrics file back as the trainer events that wrote it
 * (metrics_log.c is the writer), so a front end can redraw a run's
 * history: the workbench on --resume, and saved runs to compare with. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metrics.h"
#include "front.h"
#include "mtbert/file.h"

typedef struct replay {
    void (*sink)(const mtb_event *ev, void *ctx);
    void *ctx;
    long max_step;
    mtb_event pending; /* the step event being gathered from per-task records */
    bool has_pending;
} replay;

static double real_of(const json_t *v)
{
    if (json_is_number(v))
        return json_number_value(v);
    const char *t = json_string_value(v);
    return t && strcmp(t, "inf") == 0 ? INFINITY : t && strcmp(t, "-inf") == 0 ? -INFINITY : NAN;
}

static void flush(replay *r)
{
    if (r->has_pending)
        r->sink(&r->pending, r->ctx);
    r->has_pending = false;
}

static void step_record(replay *r, long step, const json_t *o)
{
    const int t = mtb_task_parse(json_string_value(json_object_get(o, "task")));
    if (t < 0)
        return;
    if (r->has_pending && r->pending.step != step)
        flush(r);
    if (!r->has_pending) {
        memset(&r->pending, 0, sizeof r->pending);
        r->pending.type = MTB_EV_STEP;
        r->pending.step = step;
        for (int k = 0; k < MTB_N_TASKS; k++)
            r->pending.u.step.loss[k] = NAN;
        r->has_pending = true;
    }
    mtb_event *ev = &r->pending;
    ev->u.step.active[t] = true;
    ev->u.step.loss[t] = (float)real_of(json_object_get(o, "loss"));
    ev->u.step.lr = (float)real_of(json_object_get(o, "lr"));
    ev->epoch = real_of(json_object_get(o, "epoch"));
    ev->elapsed = real_of(json_object_get(o, "time"));
}

/* The statistics' task list is ascending by id, pairs (p, q) with p < q in
 * it: the writer's order, rebuilt from the tasks the record names. */
static void conflict_record(replay *r, long step, const json_t *c)
{
    flush(r);
    mtb_event ev = {.type = MTB_EV_CONFLICT, .step = step};
    mtb_conflict_stats *cs = &ev.u.conflict;
    const json_t *norm = json_object_get(c, "norm");
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (json_object_get(norm, mtb_task_name((mtb_task)t)))
            cs->task[cs->n_tasks++] = t;
    if (cs->n_tasks == 0)
        return;
    const json_t *cos = json_object_get(c, "cos"), *group = json_object_get(c, "group_cos");
    const json_t *proj = json_object_get(c, "projected");
    static const char *const fields[] = {"change", "weight", "served"};
    for (int i = 0; i < cs->n_tasks; i++) {
        const char *ti = mtb_task_name((mtb_task)cs->task[i]);
        cs->norm[i] = real_of(json_object_get(norm, ti));
        double *dst[] = {&cs->change[i], &cs->weight[i], &cs->served[i]};
        for (int f = 0; f < 3; f++)
            *dst[f] = real_of(json_object_get(json_object_get(c, fields[f]), ti));
        for (int j = 0; j < cs->n_tasks; j++) {
            char key[32];
            snprintf(key, sizeof key, "%s-%s", ti, mtb_task_name((mtb_task)cs->task[j]));
            cs->projected[i][j] = i != j && json_is_true(json_object_get(proj, key));
        }
    }
    cs->merged_norm = real_of(json_object_get(c, "merged_norm"));
    bool group_seen[MTB_MAX_GROUPS] = {false};
    for (int p = 0; p < cs->n_tasks; p++)
        for (int q = p + 1; q < cs->n_tasks; q++) {
            const int k = cs->n_pairs++;
            cs->pair[k][0] = p;
            cs->pair[k][1] = q;
            char key[32];
            snprintf(key, sizeof key, "%s-%s", mtb_task_name((mtb_task)cs->task[p]),
                     mtb_task_name((mtb_task)cs->task[q]));
            cs->cos[k] = real_of(json_object_get(cos, key));
            const json_t *g = json_object_get(group, key);
            const int n = (int)json_array_size(g);
            cs->n_groups = n < MTB_MAX_GROUPS ? n : MTB_MAX_GROUPS;
            for (int i = 0; i < cs->n_groups; i++) {
                cs->group_cos[k][i] = real_of(json_array_get(g, (size_t)i));
                group_seen[i] |= !isnan(cs->group_cos[k][i]);
            }
        }
    /* the writer leaves a group without any gradient null for every pair */
    for (int i = 0; i < cs->n_groups; i++)
        cs->group_zero[i] = !group_seen[i];
    r->sink(&ev, r->ctx);
}

static void eval_record(replay *r, long step, const json_t *e)
{
    flush(r);
    mtb_event ev = {.type = MTB_EV_EVAL, .step = step};
    mtb_eval_result *res = &ev.u.eval;
    res->sst_acc = real_of(json_object_get(e, "sst_acc"));
    res->para_acc = real_of(json_object_get(e, "para_acc"));
    res->sts_corr = real_of(json_object_get(e, "sts_corr"));
    const json_t *loss = json_object_get(e, "loss");
    for (int t = 0; t < MTB_N_TASKS; t++) {
        const json_t *v = json_object_get(loss, mtb_task_name((mtb_task)t));
        res->has[t] = v != NULL;
        res->loss[t] = real_of(v);
    }
    r->sink(&ev, r->ctx);
}

int metrics_replay(const char *path, long max_step, void (*sink)(const mtb_event *ev, void *ctx),
                   void *ctx, mtb_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return mtb_error_set(err, MTB_EINPUT, "%s: cannot read the metrics file", path);
    replay r = {.sink = sink, .ctx = ctx, .max_step = max_step};
    char *line = NULL;
    size_t cap = 0;
    long line_no = 0;
    int rc = MTB_OK;
    while (getline(&line, &cap, f) > 0) {
        line_no++;
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        const json_t *step = json_object_get(o, "step");
        if (json_is_object(o) && !step &&
            (json_object_get(o, "mtbert_metrics") || json_object_get(o, "resumed"))) {
            json_decref(o); /* the header, or where a resumed run went on */
            continue;
        }
        if (!json_is_object(o) || !json_is_integer(step)) {
            /* a run killed mid-write leaves a partial last line: not an error */
            const bool last = fgetc(f) == EOF;
            json_decref(o);
            if (last)
                break;
            rc = mtb_error_set(err, MTB_EINPUT, "%s:%ld: not a metrics record (%s)", path,
                               line_no, jerr.text[0] ? jerr.text : "no \"step\"");
            break;
        }
        const long s = (long)json_integer_value(step);
        if (max_step < 0 || s <= max_step) {
            const json_t *c = json_object_get(o, "conflict"), *e = json_object_get(o, "eval");
            if (json_object_get(o, "task"))
                step_record(&r, s, o);
            else if (json_is_object(c))
                conflict_record(&r, s, c);
            else if (json_is_object(e))
                eval_record(&r, s, e);
        }
        json_decref(o);
    }
    if (!rc)
        flush(&r);
    free(line);
    fclose(f);
    return rc;
}

int metrics_path_of_run(const char *run, char *out, size_t cap, mtb_error *err)
{
    struct stat st;
    if (stat(run, &st) != 0)
        return mtb_error_set(err, MTB_EINPUT, "%s: no such run folder or metrics file", run);
    if (S_ISREG(st.st_mode)) {
        snprintf(out, cap, "%s", run);
        return MTB_OK;
    }
    /* an experiment's run folder keeps it beside its checkpoint */
    snprintf(out, cap, "%s/metrics.jsonl", run);
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
        return MTB_OK;
    /* a checkpoint remembers the --metrics file of its run */
    char path[4200];
    snprintf(path, sizeof path, "%s/trainer.json", run);
    mtb_error e2 = {0};
    json_t *tj = mtb_json_load_file(path, &e2);
    const char *m = json_string_value(json_object_get(json_object_get(tj, "run"), "metrics"));
    int rc = MTB_OK;
    if (m && stat(m, &st) == 0 && S_ISREG(st.st_mode))
        snprintf(out, cap, "%s", m);
    else
        rc = mtb_error_set(err, MTB_EINPUT, "%s: no metrics file to read (neither %s/metrics.jsonl "
                           "nor a --metrics file its checkpoint names); train with --metrics FILE, "
                           "or give the file", run, run);
    json_decref(tj);
    return rc;
}

int metrics_read_run_id(const char *path, char *id, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t lcap = 0;
    int found = 0;
    if (getline(&line, &lcap, f) > 0) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        const char *rid = json_string_value(json_object_get(o, "run_id"));
        if (json_object_get(o, "mtbert_metrics") && rid) {
            snprintf(id, cap, "%s", rid);
            found = 1;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    return found;
}

void metrics_run_name(const char *run, char *buf, size_t cap)
{
    char name[4200];
    snprintf(name, sizeof name, "%s", run);
    size_t len = strlen(name);
    while (len > 1 && name[len - 1] == '/')
        name[--len] = '\0';
    if (len > 14 && strcmp(name + len - 14, "/metrics.jsonl") == 0)
        name[len -= 14] = '\0';
    const char *base = strrchr(name, '/');
    snprintf(buf, cap, "%s", base && base[1] ? base + 1 : name);
}
