/* Reading a --metrics file back as the trainer events that wrote it
 * (metrics_log.c is the writer), so a front end can redraw a run's
 * history: the workbench on --resume, and saved runs to compare with. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ------------------------------------------------------------ the history policy
 *
 * One policy for every reader (train/tui --resume, export, plot, --compare),
 * so a history reads the same wherever it is opened:
 * - a line that is not a record is skipped with a warning naming the file
 *   and line, except a last line without its newline, which is a record
 *   being written (or cut off by a kill) and is left out quietly;
 * - a "resumed" marker at step N supersedes the records of steps after N
 *   written before it (the steps a killed run took past its last
 *   checkpoint, taken again by the resumed run), as TensorBoard's
 *   purge_step does;
 * - a header or marker of another run id is refused: two runs in one file;
 * - a record of a step at or before the last of its kind (after the
 *   superseded ones are gone) is refused: steps going backwards mean two
 *   histories spliced without a marker. */

typedef struct marker {
    long line, step;
} marker;

typedef struct history_scan {
    marker *markers;
    size_t n_markers, cap_markers;
    char run_id[64];
} history_scan;

static int note_marker(history_scan *h, long line, long step)
{
    if (h->n_markers == h->cap_markers) {
        size_t cap = h->cap_markers ? 2 * h->cap_markers : 8;
        marker *m = realloc(h->markers, cap * sizeof *m);
        if (!m)
            return MTB_EFAIL;
        h->markers = m;
        h->cap_markers = cap;
    }
    h->markers[h->n_markers++] = (marker){line, step};
    return MTB_OK;
}

/* A header ({"mtbert_metrics": 1, ...}) or a resume marker ({"resumed":
 * {...}}): *step is 0 for a header, the marker's step otherwise.  Returns
 * false for any other line. */
static bool control_record(const json_t *o, long *step, const char **run_id)
{
    if (!json_is_object(o) || json_object_get(o, "step"))
        return false;
    const json_t *r = json_object_get(o, "resumed");
    if (json_object_get(o, "mtbert_metrics")) {
        *step = 0;
        *run_id = json_string_value(json_object_get(o, "run_id"));
        return true;
    }
    if (!json_is_object(r))
        return false;
    const json_t *s = json_object_get(r, "step");
    *step = json_is_integer(s) ? (long)json_integer_value(s) : 0;
    *run_id = json_string_value(json_object_get(r, "run_id"));
    return true;
}

/* Pass 1: the markers and the run id, checked; only lines that may be
 * control records are parsed. */
static int scan_history(FILE *f, const char *path, history_scan *h, mtb_error *err)
{
    char *line = NULL;
    size_t cap = 0;
    long line_no = 0;
    int rc = MTB_OK;
    ssize_t len;
    while (!rc && (len = getline(&line, &cap, f)) > 0) {
        line_no++;
        if (line[len - 1] != '\n' ||
            (!strstr(line, "\"resumed\"") && !strstr(line, "\"mtbert_metrics\"")))
            continue;
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        long step;
        const char *id = NULL;
        if (control_record(o, &step, &id)) {
            if (id && *id && h->run_id[0] && strcmp(id, h->run_id) != 0)
                rc = mtb_error_set(err, MTB_EINPUT, "%s:%ld: the records of another run (run "
                                   "%s; the file's first run is %s): one file holds one run's "
                                   "history", path, line_no, id, h->run_id);
            else if (id && *id && !h->run_id[0])
                snprintf(h->run_id, sizeof h->run_id, "%s", id);
            if (!rc && line_no > 1 && note_marker(h, line_no, step))
                rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
        }
        json_decref(o);
    }
    free(line);
    return rc;
}

/* The step of the earliest marker after line_no, or LONG_MAX: records of
 * later steps are superseded. */
static long superseded_after(const history_scan *h, size_t *next, long line_no)
{
    while (*next < h->n_markers && h->markers[*next].line <= line_no)
        (*next)++;
    long limit = LONG_MAX;
    for (size_t k = *next; k < h->n_markers; k++)
        if (h->markers[k].step < limit)
            limit = h->markers[k].step;
    return limit;
}

static void warn_skipped(const char *path, long line_no, const char *why)
{
    char shown[160];
    fe_visible(shown, sizeof shown, why);
    fprintf(stderr, "mtbert: warning: %s:%ld: not a metrics record (%s); skipped\n", path,
            line_no, shown);
}

enum { KIND_STEP, KIND_CONFLICT, KIND_EVAL };

/* Pass 2: the records, in order, under the policy above. */
static int replay_records(FILE *f, const char *path, const history_scan *h, replay *r,
                          mtb_error *err)
{
    char *line = NULL;
    size_t cap = 0;
    long line_no = 0;
    size_t next_marker = 0;
    /* the last step of each kind seen, per task for step records */
    long last[KIND_EVAL + MTB_N_TASKS + 1];
    for (size_t k = 0; k < sizeof last / sizeof last[0]; k++)
        last[k] = -1;
    int rc = MTB_OK;
    ssize_t len;
    while (!rc && (len = getline(&line, &cap, f)) > 0) {
        line_no++;
        const bool complete = line[len - 1] == '\n';
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        long marker_step;
        const char *id;
        const json_t *step = json_object_get(o, "step");
        if (control_record(o, &marker_step, &id)) {
            /* read in pass 1: what it supersedes is never kept, so the
             * records after it continue past every step kept before it */
        } else if (!json_is_object(o) || !json_is_integer(step)) {
            if (complete)
                warn_skipped(path, line_no, jerr.text[0] ? jerr.text : "no \"step\"");
        } else if (!complete) {
            /* a record still being written, or cut off: its fields may be too */
        } else {
            const long s = (long)json_integer_value(step);
            const long limit = superseded_after(h, &next_marker, line_no);
            const json_t *c = json_object_get(o, "conflict"), *e = json_object_get(o, "eval");
            const int t = mtb_task_parse(json_string_value(json_object_get(o, "task")));
            const int kind = json_object_get(o, "task") ? KIND_STEP
                             : json_is_object(c)         ? KIND_CONFLICT
                             : json_is_object(e)         ? KIND_EVAL
                                                         : -1;
            long *prev = kind == KIND_STEP && t >= 0 ? &last[KIND_EVAL + 1 + t]
                         : kind >= 0 ? &last[kind] : NULL;
            if (s > limit || !prev) {
                /* superseded by the run resumed after it, or nothing we read */
            } else if (kind == KIND_EVAL ? s < *prev : s <= *prev) {
                rc = mtb_error_set(err, MTB_EINPUT, "%s:%ld: step %ld comes after step %ld "
                                   "without a \"resumed\" record: two histories in one file?",
                                   path, line_no, s, *prev);
            } else {
                *prev = s;
                if (r->max_step < 0 || s <= r->max_step) {
                    if (kind == KIND_STEP)
                        step_record(r, s, o);
                    else if (kind == KIND_CONFLICT)
                        conflict_record(r, s, c);
                    else
                        eval_record(r, s, e);
                }
            }
        }
        json_decref(o);
    }
    free(line);
    return rc;
}

int metrics_replay(const char *path, long max_step, void (*sink)(const mtb_event *ev, void *ctx),
                   void *ctx, mtb_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return mtb_error_set(err, MTB_EINPUT, "%s: cannot read the metrics file: %s", path,
                             strerror(errno));
    history_scan h = {0};
    int rc = scan_history(f, path, &h, err);
    if (!rc) {
        rewind(f);
        replay r = {.sink = sink, .ctx = ctx, .max_step = max_step};
        rc = replay_records(f, path, &h, &r, err);
        if (!rc)
            flush(&r);
    }
    free(h.markers);
    fclose(f);
    return rc;
}

int metrics_prepare_append(const char *path, FILE *log, mtb_error *err)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return errno == ENOENT ? MTB_OK
                               : mtb_error_set(err, MTB_EINPUT, "%s: %s", path, strerror(errno));
    struct stat st;
    int rc = MTB_OK;
    off_t keep = 0;
    long lines = 0;
    if (fstat(fd, &st) != 0) {
        rc = mtb_error_set(err, MTB_EINPUT, "%s: %s", path, strerror(errno));
    } else {
        /* the length up to the last newline, and how many lines that holds */
        char buf[65536];
        off_t at = 0;
        ssize_t n;
        while ((n = pread(fd, buf, sizeof buf, at)) > 0) {
            for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\n') {
                    keep = at + i + 1;
                    lines++;
                }
            at += n;
        }
        if (n < 0)
            rc = mtb_error_set(err, MTB_EINPUT, "%s: %s", path, strerror(errno));
        else if (keep < st.st_size) {
            if (ftruncate(fd, keep) != 0)
                rc = mtb_error_set(err, MTB_EINPUT, "%s: cannot cut its unfinished last line: "
                                   "%s", path, strerror(errno));
            else if (log)
                fprintf(log, "mtbert: warning: %s:%ld: the last record was cut off (the run "
                        "stopped while writing it); removed\n", path, lines + 1);
        }
    }
    close(fd);
    return rc;
}

int metrics_path_of_run(const char *run, char *out, size_t cap, mtb_error *err)
{
    struct stat st;
    if (stat(run, &st) != 0)
        return errno == ENOENT
                   ? mtb_error_set(err, MTB_EINPUT, "%s: no such run folder or metrics file", run)
                   : mtb_error_set(err, MTB_EINPUT, "%s: %s", run, strerror(errno));
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
