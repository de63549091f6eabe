/* The metrics file read back (metrics_replay) gives the events that wrote
 * it (metrics_write): step losses gathered per step, conflict statistics
 * with their task and pair order, weights, served cosines, per-group
 * cosines (null for a group without a gradient), evaluations; and the
 * reader's limits and errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

typedef struct collected {
    mtb_event ev[16];
    int n;
} collected;

static void collect(const mtb_event *ev, void *ctx)
{
    collected *c = ctx;
    if (c->n < 16)
        c->ev[c->n++] = *ev;
}

static mtb_event step_event(long step, float l0, float l1, float l2)
{
    mtb_event ev = {.type = MTB_EV_STEP, .step = step, .epoch = 0.5, .elapsed = 2.0};
    ev.u.step.loss[0] = l0;
    ev.u.step.loss[1] = l1;
    ev.u.step.loss[2] = l2;
    for (int t = 0; t < 3; t++)
        ev.u.step.active[t] = true;
    ev.u.step.lr = 1e-4f;
    return ev;
}

static const int SAMPLE_PAIRS[3][2] = {{0, 1}, {0, 2}, {1, 2}};

/* Four records (a step, conflict statistics, a step with a task inactive,
 * an evaluation) and a resume mark, under a header; cs is the conflict
 * written. */
static void write_sample_run(const char *path, mtb_conflict_stats *cs)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    mtb_event s1 = step_event(1, 1.5f, 0.75f, 3.25f);
    mtb_event c1 = {.type = MTB_EV_CONFLICT, .step = 1};
    *cs = c1.u.conflict;
    cs->n_tasks = 3;
    for (int t = 0; t < 3; t++) {
        cs->task[t] = t;
        cs->norm[t] = 0.5 + t;
        cs->weight[t] = 0.25 * (t + 1);
        cs->served[t] = 0.1 * (t + 1);
    }
    cs->n_pairs = 3;
    for (int p = 0; p < 3; p++) {
        cs->pair[p][0] = SAMPLE_PAIRS[p][0];
        cs->pair[p][1] = SAMPLE_PAIRS[p][1];
        cs->cos[p] = -0.5 + 0.25 * p;
        for (int g = 0; g < 3; g++)
            cs->group_cos[p][g] = 0.125 * (p + 1) * (g + 1);
    }
    cs->n_groups = 3;
    cs->group_zero[2] = true; /* its cosines are meaningless: written null */
    cs->projected[1][0] = true;
    cs->change[1] = 0.375;
    cs->merged_norm = 2.5;
    mtb_event s2 = step_event(2, 1.25f, NAN, 3.0f);
    s2.u.step.active[1] = false;
    mtb_event e2 = {.type = MTB_EV_EVAL, .step = 2};
    e2.u.eval.sst_acc = 0.5;
    e2.u.eval.para_acc = NAN;
    e2.u.eval.sts_corr = 0.75;
    e2.u.eval.has[0] = e2.u.eval.has[2] = true;
    e2.u.eval.loss[0] = 1.0;
    e2.u.eval.loss[2] = 2.0;
    c1.u.conflict = *cs;
    const mtb_event written[] = {s1, c1, s2, e2};
    metrics_write_header(f, "0123456789abcdef", "{\"mode\": \"pcgrad\"}", NULL);
    for (int i = 0; i < 4; i++)
        metrics_write(f, &written[i]);
    metrics_write_resumed(f, "0123456789abcdef", 2);
    fclose(f);
}

/* The header names the run and its configuration, not-evaluated is null, a
 * group without a gradient is null. */
static void check_sample_text(const char *path)
{
    char id[32];
    assert_int_equal(metrics_read_run_id(path, id, sizeof id), 1);
    assert_string_equal(id, "0123456789abcdef");
    FILE *f = fopen(path, "r");
    char line[4096];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "\"mtbert_metrics\":1,\"run_id\":\"0123456789abcdef\","
                                 "\"config\":{\"mode\":\"pcgrad\"},\"groups\":[]"));
    /* and the machine: the kernel, why, and the precision */
    assert_non_null(strstr(line, ",\"machine\":{\"cpu\":\""));
    /* "OpenBLAS chose ...", or "OPENBLAS_CORETYPE=... so OpenBLAS runs ..."
     * where the environment names the kernel */
    const char *reason = strstr(line, "\"kernel_reason\":\"");
    assert_non_null(reason);
    assert_true(strncmp(reason + 17, "OpenBLAS chose ", 15) == 0 ||
                strncmp(reason + 17, "OPENBLAS_CORETYPE=", 18) == 0);
    assert_non_null(strstr(line, "\"precision\":\"fp32\""));
    bool saw_eval = false, saw_group_null = false;
    while (fgets(line, sizeof line, f)) {
        saw_eval |= strstr(line, "\"eval\":{\"sst_acc\":0.5,\"para_acc\":null,") != NULL;
        saw_group_null |= strstr(line, ",null]") != NULL;
    }
    fclose(f);
    assert_true(saw_eval && saw_group_null);
}

/* Replayed, the records come back as written (and up to a step, only those
 * up to it). */
static void check_sample_replay(const char *path, const mtb_conflict_stats *cs)
{
    collected got = {0};
    mtb_error err = {0};
    assert_int_equal(metrics_replay(path, -1, collect, &got, &err), 0);
    assert_int_equal(got.n, 4);
    assert_int_equal(got.ev[0].type, MTB_EV_STEP);
    assert_int_equal(got.ev[0].step, 1);
    assert_true(got.ev[0].u.step.loss[0] == 1.5f && got.ev[0].u.step.loss[2] == 3.25f);
    assert_true(got.ev[0].u.step.lr == 1e-4f && got.ev[0].epoch == 0.5 && got.ev[0].elapsed == 2.0);
    const mtb_conflict_stats *rc = &got.ev[1].u.conflict;
    assert_int_equal(got.ev[1].type, MTB_EV_CONFLICT);
    assert_int_equal(rc->n_tasks, 3);
    assert_int_equal(rc->n_pairs, 3);
    assert_int_equal(rc->n_groups, 3);
    for (int p = 0; p < 3; p++) {
        assert_int_equal(rc->pair[p][0], SAMPLE_PAIRS[p][0]);
        assert_int_equal(rc->pair[p][1], SAMPLE_PAIRS[p][1]);
        assert_true(rc->cos[p] == cs->cos[p]);
        assert_true(rc->group_cos[p][1] == cs->group_cos[p][1]);
        assert_true(isnan(rc->group_cos[p][2]));
    }
    assert_true(!rc->group_zero[0] && !rc->group_zero[1] && rc->group_zero[2]);
    for (int t = 0; t < 3; t++) {
        assert_true(rc->weight[t] == cs->weight[t]);
        assert_true(fabs(rc->served[t] - cs->served[t]) < 1e-9); /* 9 digits written */
        assert_true(rc->norm[t] == cs->norm[t]);
    }
    assert_true(rc->projected[1][0] && !rc->projected[0][1]);
    assert_true(rc->change[1] == 0.375 && rc->merged_norm == 2.5);
    assert_int_equal(got.ev[2].type, MTB_EV_STEP);
    assert_true(got.ev[2].u.step.active[0] && !got.ev[2].u.step.active[1]);
    assert_int_equal(got.ev[3].type, MTB_EV_EVAL);
    assert_true(got.ev[3].u.eval.has[0] && !got.ev[3].u.eval.has[1] && got.ev[3].u.eval.has[2]);
    assert_true(got.ev[3].u.eval.sts_corr == 0.75 && isnan(got.ev[3].u.eval.para_acc));

    /* up to step 1 only: what a checkpoint saved at step 1 had seen */
    collected upto = {0};
    assert_int_equal(metrics_replay(path, 1, collect, &upto, &err), 0);
    assert_int_equal(upto.n, 2);
}

/* A diverged step's NaN is written as "nan", distinct from null. */
static void check_nan_written(void)
{
    char nan_path[256];
    tu_temp_file(nan_path, sizeof nan_path, "mtbert-metrics");
    FILE *f = fopen(nan_path, "w");
    mtb_event sn = step_event(3, NAN, 1.0f, INFINITY);
    metrics_write(f, &sn);
    fclose(f);
    f = fopen(nan_path, "r");
    char nl[512];
    assert_non_null(fgets(nl, sizeof nl, f));
    assert_non_null(strstr(nl, "\"task\":\"sst\",\"loss\":\"nan\""));
    fclose(f);
    collected nan_back = {0};
    mtb_error err = {0};
    assert_int_equal(metrics_replay(nan_path, -1, collect, &nan_back, &err), 0);
    assert_true(isnan(nan_back.ev[0].u.step.loss[0]) && isinf(nan_back.ev[0].u.step.loss[2]));
    unlink(nan_path);
}

/* A partial last line (killed mid-write) ends the file quietly, and a bad
 * line in the middle is skipped. */
static void check_cut_lines(const char *path)
{
    FILE *f = fopen(path, "a");
    fputs("{\"step\":3,\"task\":\"ss", f);
    fclose(f);
    collected partial = {0};
    mtb_error err = {0};
    assert_int_equal(metrics_replay(path, -1, collect, &partial, &err), 0);
    assert_int_equal(partial.n, 4);
    /* a bad line in the middle is skipped (test_metrics_history.c has the
     * policy and its warning) */
    f = fopen(path, "a");
    fputs("\n{\"step\":4,\"task\":\"sst\",\"loss\":1}\n", f);
    fclose(f);
    collected bad = {0};
    assert_int_equal(metrics_replay(path, -1, collect, &bad, &err), MTB_OK);
    assert_int_equal(bad.n, 5);
    assert_int_equal(bad.ev[4].step, 4);
}

static void test_round_trip(void **state)
{
    (void)state;
    char path[256];
    tu_temp_file(path, sizeof path, "mtbert-metrics");
    mtb_conflict_stats cs = {0};
    write_sample_run(path, &cs);
    check_sample_text(path);
    check_sample_replay(path, &cs);
    check_nan_written();
    check_cut_lines(path);
    unlink(path);
}

static void test_paths_of_runs(void **state)
{
    (void)state;
    char out[4200];
    mtb_error err = {0};
    assert_int_equal(metrics_path_of_run("/nonexistent/run", out, sizeof out, &err), MTB_EINPUT);
    assert_non_null(strstr(err.msg, "/nonexistent/run: no such run folder or metrics file"));
    char dir[] = "/tmp/mtbert-run-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(metrics_path_of_run(dir, out, sizeof out, &err), MTB_EINPUT);
    assert_non_null(strstr(err.msg, "no metrics file to read"));
    char file[4200];
    snprintf(file, sizeof file, "%s/metrics.jsonl", dir);
    FILE *f = fopen(file, "w");
    fclose(f);
    assert_int_equal(metrics_path_of_run(dir, out, sizeof out, &err), 0);
    assert_string_equal(out, file);
    assert_int_equal(metrics_path_of_run(file, out, sizeof out, &err), 0);
    assert_string_equal(out, file);
    unlink(file);
    /* a checkpoint naming its --metrics file */
    char other[4200], tj[4200];
    snprintf(other, sizeof other, "%s.jsonl", dir);
    f = fopen(other, "w");
    fclose(f);
    snprintf(tj, sizeof tj, "%s/trainer.json", dir);
    f = fopen(tj, "w");
    fprintf(f, "{\"run\": {\"metrics\": \"%s\"}}\n", other);
    fclose(f);
    assert_int_equal(metrics_path_of_run(dir, out, sizeof out, &err), 0);
    assert_string_equal(out, other);
    unlink(tj);
    unlink(other);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_paths_of_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
