/* The workbench's data model, fed trainer events by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../src/tui/metrics_text.h"
#include "../src/tui/theme.h"
#include "../src/tui/tui_data.h"

static mtb_event step_event(long step, float sst, float para, float sts)
{
    mtb_event ev = {.type = MTB_EV_STEP, .step = step, .total_steps = 100};
    ev.u.step.active[0] = ev.u.step.active[1] = ev.u.step.active[2] = true;
    ev.u.step.loss[0] = sst;
    ev.u.step.loss[1] = para;
    ev.u.step.loss[2] = sts;
    ev.u.step.lr = 1e-5f;
    ev.u.step.steps_per_sec = 2.5;
    return ev;
}

static void test_steps_fill_the_loss_curves(void **state)
{
    (void)state;
    tui_data d;
    assert_int_equal(tui_data_init(&d, "pcgrad"), 0);
    for (long s = 1; s <= 5; s++) {
        mtb_event ev = step_event(s, 1.0f / (float)s, 0.5f, 2.0f);
        tui_data_apply(&d, &ev);
    }
    assert_int_equal(d.step, 5);
    assert_int_equal(d.total_steps, 100);
    for (int t = 0; t < 3; t++)
        assert_int_equal(tui_series_len(&d.loss[t]), 5);
    double x, y;
    tui_series_get(&d.loss[0], 4, &x, &y);
    assert_true(x == 5.0);
    assert_true(fabs(y - 0.2) < 1e-7);
    assert_true(d.last_loss[2] == 2.0f);
    assert_true(d.steps_per_sec == 2.5);
    assert_int_equal(d.skipped, 0);
    mtb_event ev = step_event(6, 0.1f, 0.1f, 0.1f);
    ev.u.step.skipped = 2; /* the divergence guard's count travels with the steps */
    tui_data_apply(&d, &ev);
    assert_int_equal(d.skipped, 2);
    tui_data_free(&d);
}

static void test_conflicts_count_projections_per_pair(void **state)
{
    (void)state;
    tui_data d;
    assert_int_equal(tui_data_init(&d, "pcgrad"), 0);
    mtb_event ev = {.type = MTB_EV_CONFLICT, .step = 1};
    mtb_conflict_stats *cs = &ev.u.conflict;
    cs->n_tasks = 2; /* paraphrase and similarity only */
    cs->task[0] = MTB_TASK_PARA;
    cs->task[1] = MTB_TASK_STS;
    cs->n_pairs = 1;
    cs->pair[0][0] = 0;
    cs->pair[0][1] = 1;
    cs->cos[0] = -0.25;
    cs->projected[0][1] = true;
    tui_data_apply(&d, &ev);
    ev.step = 2;
    cs->cos[0] = 0.5;
    cs->projected[0][1] = false;
    tui_data_apply(&d, &ev);
    const int p = tui_data_pair_index(&d, MTB_TASK_PARA, MTB_TASK_STS);
    assert_int_equal(p, 2);
    assert_int_equal(tui_series_len(&d.cos[p]), 2);
    assert_int_equal(tui_series_len(&d.cos[0]), 0);
    double x, y;
    tui_series_get(&d.cos[p], 0, &x, &y);
    assert_true(x == 1.0 && y == -0.25);
    assert_int_equal(d.projected[MTB_TASK_PARA][MTB_TASK_STS], 1);
    assert_int_equal(d.projected[MTB_TASK_STS][MTB_TASK_PARA], 0);
    assert_int_equal(d.conflict_steps, 2);
    tui_data_free(&d);
}

/* Each conflict record feeds the weights, served and per-group heat-map
 * series and the pair's conflict count; a group without any gradient gets
 * no heat-map point (not a 0, which would read as orthogonal). */
static void test_conflicts_feed_weights_and_heat_map(void **state)
{
    (void)state;
    tui_data d;
    assert_int_equal(tui_data_init(&d, "mgda"), 0);
    mtb_event ev = {.type = MTB_EV_CONFLICT, .step = 5};
    mtb_conflict_stats *cs = &ev.u.conflict;
    cs->n_tasks = 2;
    cs->task[0] = MTB_TASK_SST;
    cs->task[1] = MTB_TASK_STS;
    cs->n_pairs = 1;
    cs->pair[0][1] = 1;
    cs->n_groups = 3;
    cs->cos[0] = -0.5;
    cs->group_cos[0][0] = -0.75;
    cs->group_cos[0][1] = 0.25;
    cs->group_zero[2] = true; /* e.g. the pooler under mean pooling */
    cs->weight[0] = 0.3;
    cs->weight[1] = 0.7;
    cs->served[0] = 0.1;
    cs->served[1] = 0.9;
    tui_data_apply(&d, &ev);
    const int p = tui_data_pair_index(&d, MTB_TASK_SST, MTB_TASK_STS);
    double x, y;
    assert_true(tui_series_last(&d.weight[MTB_TASK_STS], &x, &y) && x == 5.0 && y == 0.7);
    assert_true(tui_series_last(&d.served[MTB_TASK_SST], &x, &y) && y == 0.1);
    assert_int_equal(tui_series_len(&d.weight[MTB_TASK_PARA]), 0);
    assert_true(tui_series_last(&d.group_cos[p][0], &x, &y) && y == -0.75);
    assert_true(tui_series_last(&d.group_cos[p][1], &x, &y) && y == 0.25);
    assert_int_equal(tui_series_len(&d.group_cos[p][2]), 0);
    assert_int_equal(d.n_groups, 3);
    assert_int_equal(d.conflicts[p], 1);
    ev.step = 6;
    cs->cos[0] = 0.2;
    tui_data_apply(&d, &ev);
    assert_int_equal(d.conflicts[p], 1);
    assert_int_equal(d.conflict_steps, 2);
    tui_data_free(&d);
}

/* The Metrics pane's exact text at the sizes it gets at 80x24 (27 x 5),
 * 120x40 (27 x 12) and 200x60 (27 x 20): every figure whole, the dev
 * metrics kept when rows are short. */
static void test_metrics_text_at_each_size(void **state)
{
    (void)state;
    tui_data d;
    assert_int_equal(tui_data_init(&d, "pcgrad"), 0);
    d.step = 748;
    d.total_steps = 2500;
    d.epoch = 17.1;
    d.steps_per_sec = 75.0;
    d.lr = 0.000146f;
    d.has_eval = true;
    d.last_eval = (mtb_eval_result){.sst_acc = 0.83, .para_acc = 0.52, .sts_corr = 0.782};
    d.best_eval = (mtb_eval_result){.sst_acc = 0.85, .para_acc = 0.62, .sts_corr = 0.789};
    d.best_step[0] = 600;
    d.best_step[1] = 300;
    d.best_step[2] = 650;
    for (int t = 0; t < 3; t++)
        d.active[t] = true;
    d.last_loss[0] = 0.0084f;
    d.last_loss[1] = 0.1407f;
    d.last_loss[2] = 0.1780f;
    tui_text_line l[TUI_METRICS_MAX_LINES];
    /* no row for the speed line: the ETA takes the state's place */
    static const char *const at80[] = {"step 748/2500  ETA 23s", "dev       last  best",
                                       "sst acc   0.830 0.850 @600", "para acc  0.520 0.620 @300",
                                       "sts corr  0.782 0.789 @650"};
    assert_int_equal(tui_metrics_text(&d, true, 27, 5, l), 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(l[i].text, at80[i]);
    static const char *const at120[] = {
        "step 748/2500  training", "ep 17.10 75.0/s ETA 23s", "mode pcgrad  lr 0.000146", "",
        "dev       last  best", "sst acc   0.830 0.850 @600", "para acc  0.520 0.620 @300",
        "sts corr  0.782 0.789 @650", "", "loss sst  0.0084", "loss para 0.1407",
        "loss sts  0.1780"};
    assert_int_equal(tui_metrics_text(&d, true, 27, 12, l), 12);
    for (int i = 0; i < 12; i++)
        assert_string_equal(l[i].text, at120[i]);
    /* 200x60: the same twelve lines, with rows to spare */
    assert_int_equal(tui_metrics_text(&d, true, 27, 20, l), 12);
    assert_int_equal(l[1].slot, TUI_C_DEFAULT);
    assert_int_equal(l[7].slot, TUI_C_STS);
    /* wider: the full wording of the speed line */
    assert_int_equal(tui_metrics_text(&d, true, 40, 20, l), 12);
    assert_string_equal(l[1].text, "epoch 17.10  75.00 steps/s  ETA 23s");
    /* ... but a state other than training is worth more than the ETA */
    d.paused = true;
    assert_int_equal(tui_metrics_text(&d, true, 27, 5, l), 5);
    assert_string_equal(l[0].text, "step 748/2500  PAUSED");
    d.paused = false;
    /* no validation data: said, not a column of dashes */
    assert_int_equal(tui_metrics_text(&d, false, 27, 5, l), 5);
    assert_string_equal(l[3].text, "no validation data:");
    assert_string_equal(l[4].text, "give --*-dev or --val-split");
    tui_data_free(&d);
}

static void test_evaluations_keep_last_and_best(void **state)
{
    (void)state;
    tui_data d;
    assert_int_equal(tui_data_init(&d, "sum"), 0);
    const double acc[3] = {0.30, 0.45, 0.40};
    for (int i = 0; i < 3; i++) {
        mtb_event ev = {.type = MTB_EV_EVAL, .step = 10 * (i + 1)};
        mtb_eval_result *r = &ev.u.eval;
        r->has[0] = true;
        r->has[1] = r->has[2] = false;
        r->sst_acc = acc[i];
        r->para_acc = r->sts_corr = NAN;
        r->loss[0] = 1.5 - i * 0.1;
        tui_data_apply(&d, &ev);
    }
    assert_true(d.last_eval.sst_acc == 0.40);
    assert_true(d.best_eval.sst_acc == 0.45);
    assert_int_equal(d.best_step[0], 20);
    assert_true(isnan(d.best_eval.para_acc));
    assert_int_equal(tui_series_len(&d.val_loss[0]), 3);
    assert_int_equal(tui_series_len(&d.val_loss[1]), 0);
    assert_string_equal(tui_data_log_line(&d, d.log_len - 1), "eval @30: sst acc 0.400");
    tui_data_free(&d);
}

static void test_states_and_log_ring(void **state)
{
    (void)state;
    tui_data d;
    assert_int_equal(tui_data_init(&d, "pcgrad"), 0);
    mtb_event ev = {.type = MTB_EV_STATE, .step = 7};
    ev.u.state.state = MTB_STATE_PAUSED;
    tui_data_apply(&d, &ev);
    assert_true(d.paused);
    assert_string_equal(tui_data_log_line(&d, 0), "paused at step 7");
    ev.u.state.state = MTB_STATE_RUNNING;
    tui_data_apply(&d, &ev);
    assert_false(d.paused);
    for (int i = 0; i < TUI_LOG_LINES + 10; i++)
        tui_data_log(&d, "line %d", i);
    assert_int_equal(d.log_len, TUI_LOG_LINES);
    char want[32];
    snprintf(want, sizeof want, "line %d", TUI_LOG_LINES + 9);
    assert_string_equal(tui_data_log_line(&d, TUI_LOG_LINES - 1), want);
    snprintf(want, sizeof want, "line %d", 10);
    assert_string_equal(tui_data_log_line(&d, 0), want);
    mtb_event done = {.type = MTB_EV_DONE, .step = 9};
    snprintf(done.u.done.message, sizeof done.u.done.message, "finished");
    tui_data_apply(&d, &done);
    assert_true(d.done);
    assert_string_equal(tui_data_log_line(&d, TUI_LOG_LINES - 1), "training finished at step 9");
    tui_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_fill_the_loss_curves),
        cmocka_unit_test(test_conflicts_count_projections_per_pair),
        cmocka_unit_test(test_conflicts_feed_weights_and_heat_map),
        cmocka_unit_test(test_metrics_text_at_each_size),
        cmocka_unit_test(test_evaluations_keep_last_and_best),
        cmocka_unit_test(test_states_and_log_ring),
    };
    return cmocka_run_group_tests_name("tui_data", tests, NULL, NULL);
}
