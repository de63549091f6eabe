/* The merge methods (merge.h) against an independent reference
 * (tests/reference/make_merge_fixtures.py, written from the papers in
 * NumPy/SciPy/PyTorch, working on the gradient vectors where mtbert works on
 * their Gram matrix), then the invariants the papers prove, on random
 * gradient sets, and the registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_util.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mtbert/merge.h"

#define N_MAX 16

static double num(const json_t *o, const char *key, double dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static void params_of(const json_t *c, mtb_merge_params *p)
{
    mtb_merge_params_defaults(p);
    const json_t *pj = json_object_get(c, "params");
    const char *method = json_string_value(json_object_get(c, "method"));
    p->cagrad_c = num(pj, "c", p->cagrad_c);
    p->gradvac_beta = num(pj, "beta", p->gradvac_beta);
    p->dwa_temperature = num(pj, "temperature", p->dwa_temperature);
    if (strcmp(method, "uw") == 0)
        p->uw_lr = num(pj, "lr", p->uw_lr);
    if (strcmp(method, "famo") == 0) {
        p->famo_lr = num(pj, "lr", p->famo_lr);
        p->famo_decay = num(pj, "decay", p->famo_decay);
    }
}

typedef struct worst {
    const char *method;
    double merged, weights;
    int cases, steps;
} worst;

/* Every case of the fixture: the merged update within 1e-7 of the scale of
 * the gradients (1e-6 for CAGrad, whose inner problem mtbert solves by a
 * search), the weights where the reference gives them. */
/* One case of the reference file, as a step of it needs it. */
typedef struct ref_case {
    const char *name;
    const mtb_merge_method *method;
    size_t n;
    const int *order;
    const mtb_param_group *groups;
    int n_groups;
    const mtb_merge_params *params;
    mtb_merge_state *state;
    long per_epoch;
} ref_case;

/* Step s (sj) of a case: the merged update and, where the reference gives
 * them, the weights, against the reference; the errors go into wm. */
static void check_reference_step(const ref_case *rc, size_t s, const json_t *sj, worst *wm)
{
    const json_t *grads = json_object_get(sj, "grads");
    const int T = (int)json_array_size(grads);
    float g[MTB_MAX_TASKS][N_MAX]; /* [T, n] */
    const float *cg[MTB_MAX_TASKS];
    int ids[MTB_MAX_TASKS];
    double loss[MTB_MAX_TASKS];
    double gmax = 0.0;
    for (int t = 0; t < T; t++) {
        for (size_t i = 0; i < rc->n; i++) {
            g[t][i] = (float)json_number_value(json_array_get(json_array_get(grads, t), i));
            gmax = fmax(gmax, fabs(g[t][i]));
        }
        cg[t] = g[t];
        ids[t] = t;
        loss[t] = json_number_value(json_array_get(json_object_get(sj, "losses"), t));
    }
    const mtb_merge_context ctx = {.params = rc->params, .state = rc->state, .loss = loss,
                                   .epoch = (long)s / rc->per_epoch, .lr = 0.0};
    mtb_merge_plan plan;
    mtb_merge_weights(cg, ids, T, rc->n, rc->order, rc->method, &ctx, rc->groups, rc->n_groups,
                      NULL, NULL, &plan);
    const json_t *mj = json_object_get(sj, "merged");
    double dmax = 0.0, err = 0.0;
    for (size_t i = 0; i < rc->n; i++)
        dmax = fmax(dmax, fabs(json_number_value(json_array_get(mj, i))));
    const double scale = fmax(dmax, 1e-3 * gmax);
    for (size_t i = 0; i < rc->n; i++) {
        const double *wi = mtb_plan_weights_at(&plan, i);
        double d = 0.0;
        for (int t = 0; t < T; t++)
            d += wi[t] * (double)g[t][i];
        err = fmax(err, fabs(d - json_number_value(json_array_get(mj, i))) / scale);
    }
    const double tol = rc->method == &mtb_method_cagrad ? 1e-6 : 1e-7;
    if (!(err <= tol))
        fail_msg("%s, step %zu: merged update off by %.3g of its scale (tolerance %g)",
                 rc->name, s, err, tol);
    wm->merged = fmax(wm->merged, err);
    const json_t *wj = json_object_get(sj, "weights");
    for (int t = 0; wj && t < T; t++) {
        const double want = json_number_value(json_array_get(wj, t));
        const double e = fabs(plan.weight[t] - want) / fmax(1.0, fabs(want));
        if (!(e <= 10 * tol))
            fail_msg("%s, step %zu: weight %d is %.12g, the reference %.12g", rc->name, s, t,
                     plan.weight[t], want);
        wm->weights = fmax(wm->weights, e);
    }
}

static void test_against_reference(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *root = json_load_file(tu_fixture("merge-cases.json"), 0, &jerr);
    if (!root)
        fail_msg("%s: %s (line %d)", tu_fixture("merge-cases.json"), jerr.text, jerr.line);
    const json_t *cases = json_object_get(root, "cases");
    assert_true(json_array_size(cases) > 100);
    worst w[16] = {{0}};
    int n_worst = 0;
    for (size_t ci = 0; ci < json_array_size(cases); ci++) {
        const json_t *c = json_array_get(cases, ci);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *mname = json_string_value(json_object_get(c, "method"));
        const mtb_merge_method *method = mtb_merge_find(mname);
        if (!method)
            fail_msg("%s: no method '%s'", name, mname);
        worst *wm = NULL;
        for (int i = 0; i < n_worst; i++)
            if (strcmp(w[i].method, mname) == 0)
                wm = &w[i];
        if (!wm) {
            wm = &w[n_worst++];
            wm->method = mname;
        }
        wm->cases++;
        const size_t n = (size_t)json_integer_value(json_object_get(c, "n"));
        assert_true(n > 0 && n <= N_MAX);
        const json_t *gj = json_object_get(c, "groups"), *oj = json_object_get(c, "order");
        mtb_param_group groups[MTB_MAX_GROUPS];
        const int n_groups = (int)json_array_size(gj);
        for (int k = 0; k < n_groups; k++) {
            snprintf(groups[k].name, sizeof groups[k].name, "group.%d", k);
            groups[k].offset = (size_t)json_integer_value(json_array_get(json_array_get(gj, k), 0));
            groups[k].numel = (size_t)json_integer_value(json_array_get(json_array_get(gj, k), 1));
        }
        int order[MTB_MAX_TASKS];
        for (size_t k = 0; k < json_array_size(oj); k++)
            order[k] = (int)json_integer_value(json_array_get(oj, k));
        const long per_epoch = (long)num(c, "steps_per_epoch", 1);
        mtb_merge_params params;
        params_of(c, &params);
        mtb_merge_state st;
        memset(&st, 0, sizeof st);
        const ref_case rc = {name, method, n, order, groups, n_groups, &params, &st, per_epoch};
        const json_t *steps = json_object_get(c, "steps");
        for (size_t s = 0; s < json_array_size(steps); s++) {
            check_reference_step(&rc, s, json_array_get(steps, s), wm);
            wm->steps++;
        }
    }
    for (int i = 0; i < n_worst; i++)
        printf("# %-8s %3d cases, %3d steps: merged update within %.2g of its scale, weights "
               "within %.2g\n", w[i].method, w[i].cases, w[i].steps, w[i].merged, w[i].weights);
    assert_int_equal(n_worst, mtb_merge_count()); /* every method has a reference */
    json_decref(root);
}

/* ------------------------------------------------------------ invariants */

/* One stream for all the random sets, which go on from test to test. */
static double uniform(void)
{
    static mtb_rng rng;
    static bool seeded;
    if (!seeded)
        mtb_rng_seed(&rng, 0x9E3779B97F4A7C15ull);
    seeded = true;
    return tu_uniform_pm1(&rng);
}

enum { DIM = 40 };

typedef struct gset {
    int T;
    float g[MTB_MAX_TASKS][DIM];
    const float *cg[MTB_MAX_TASKS];
    int ids[MTB_MAX_TASKS], order[MTB_MAX_TASKS];
} gset;

static void random_set(gset *s, int T, double conflict)
{
    s->T = T;
    double common[DIM];
    for (int i = 0; i < DIM; i++)
        common[i] = uniform();
    for (int t = 0; t < T; t++) {
        const double sign = t % 2 ? -conflict : 1.0;
        for (int i = 0; i < DIM; i++)
            s->g[t][i] = (float)(sign * common[i] + 0.7 * uniform() * (t + 1));
        s->cg[t] = s->g[t];
        s->ids[t] = t;
        s->order[t] = T - 1 - t;
    }
}

static void merged_of(const gset *s, const mtb_merge_plan *plan, double *d)
{
    for (int i = 0; i < DIM; i++) {
        const double *w = mtb_plan_weights_at(plan, (size_t)i);
        d[i] = 0.0;
        for (int t = 0; t < s->T; t++)
            d[i] += w[t] * s->g[t][i];
    }
}

static double dot_fd(const double *d, const float *g)
{
    double s = 0.0;
    for (int i = 0; i < DIM; i++)
        s += d[i] * g[i];
    return s;
}

static double norm_f(const float *g)
{
    double s = 0.0;
    for (int i = 0; i < DIM; i++)
        s += (double)g[i] * g[i];
    return sqrt(s);
}

static void merge(const gset *s, const mtb_merge_method *m, const mtb_merge_context *ctx,
                  mtb_merge_plan *plan, mtb_conflict_stats *st)
{
    mtb_merge_weights(s->cg, s->ids, s->T, DIM, s->order, m, ctx, NULL, 0, NULL, st, plan);
}

/* MGDA and UPGrad never oppose a task (d . g_i >= 0); the stats' "served"
 * cosine says the same as the vectors do. */
static void test_no_task_opposed(void **state)
{
    (void)state;
    const mtb_merge_method *ms[] = {&mtb_method_mgda, &mtb_method_upgrad};
    for (int rep = 0; rep < 200; rep++) {
        gset s;
        random_set(&s, 2 + rep % 2, 1.5);
        for (int mi = 0; mi < 2; mi++) {
            mtb_merge_plan plan;
            mtb_conflict_stats st;
            merge(&s, ms[mi], NULL, &plan, &st);
            double d[DIM], dd = 0.0;
            merged_of(&s, &plan, d);
            for (int i = 0; i < DIM; i++)
                dd += d[i] * d[i];
            for (int t = 0; t < s.T; t++) {
                const double dot = dot_fd(d, s.g[t]);
                if (dot < -1e-9 * norm_f(s.g[t]) * sqrt(dd))
                    fail_msg("%s, set %d: d . g_%d = %g", ms[mi]->name, rep, t, dot);
                const double cosv = dd > 0 ? dot / (sqrt(dd) * norm_f(s.g[t])) : 0.0;
                if (fabs(cosv - st.served[t]) > 1e-9)
                    fail_msg("%s: served %g, the vectors' cosine %g", ms[mi]->name,
                             st.served[t], cosv);
            }
        }
    }
}

/* Gradients that do not conflict: PCGrad and GradVac (targets at 0) change
 * nothing, UPGrad is their mean, CAGrad with c = 0 is the mean whatever
 * the conflicts. */
static void test_reduces_to_simple_rules(void **state)
{
    (void)state;
    for (int rep = 0; rep < 50; rep++) {
        gset s;
        random_set(&s, 3, -1.0); /* all aligned with the common direction */
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < DIM; i++)
                s.g[t][i] = fabsf(s.g[t][i]); /* positive orthant: no dot is negative */
        mtb_merge_plan plan;
        merge(&s, &mtb_method_pcgrad, NULL, &plan, NULL);
        for (int t = 0; t < 3; t++)
            assert_true(plan.weight[t] == 1.0);
        merge(&s, &mtb_method_upgrad, NULL, &plan, NULL);
        for (int t = 0; t < 3; t++)
            assert_true(fabs(plan.weight[t] - 1.0 / 3.0) < 1e-15);
        random_set(&s, 3, 1.0);
        mtb_merge_params p;
        mtb_merge_params_defaults(&p);
        p.cagrad_c = 0.0;
        const mtb_merge_context ctx = {.params = &p};
        merge(&s, &mtb_method_cagrad, &ctx, &plan, NULL);
        for (int t = 0; t < 3; t++)
            assert_true(fabs(plan.weight[t] - 1.0 / 3.0) < 1e-15);
    }
}

/* IMTL-G: equal projections of d on every task's unit gradient, weights
 * summing to 1.  Nash-MTL: (G^ alpha)_i alpha_i = 1 for G^ = G / |G|_F. */
static void test_imtl_and_nash_equations(void **state)
{
    (void)state;
    for (int rep = 0; rep < 200; rep++) {
        gset s;
        random_set(&s, 2 + rep % 2, 0.8);
        mtb_merge_plan plan;
        merge(&s, &mtb_method_imtl, NULL, &plan, NULL);
        double d[DIM], proj[3], sum = 0.0;
        merged_of(&s, &plan, d);
        for (int t = 0; t < s.T; t++) {
            proj[t] = dot_fd(d, s.g[t]) / norm_f(s.g[t]);
            sum += plan.weight[t];
        }
        assert_true(fabs(sum - 1.0) < 1e-12);
        for (int t = 1; t < s.T; t++)
            if (fabs(proj[t] - proj[0]) > 1e-9 * fabs(proj[0]))
                fail_msg("imtl set %d: projections %.12g and %.12g", rep, proj[0], proj[t]);

        merge(&s, &mtb_method_nashmtl, NULL, &plan, NULL);
        double G[3][3], fro = 0.0;
        for (int a = 0; a < s.T; a++)
            for (int b = 0; b < s.T; b++) {
                G[a][b] = 0.0;
                for (int i = 0; i < DIM; i++)
                    G[a][b] += (double)s.g[a][i] * s.g[b][i];
                fro += G[a][b] * G[a][b];
            }
        fro = sqrt(fro);
        for (int a = 0; a < s.T; a++) {
            double ga = 0.0;
            for (int b = 0; b < s.T; b++)
                ga += G[a][b] / fro * plan.weight[b];
            assert_true(plan.weight[a] > 0.0);
            /* 1e-7: the ridge that keeps cancelling gradients finite */
            if (fabs(ga * plan.weight[a] - 1.0) > 1e-7)
                fail_msg("nashmtl set %d: (G alpha)_%d alpha_%d = %.12g", rep, a, a,
                         ga * plan.weight[a]);
        }
    }
}

/* Aligned-MTL on orthogonal gradients: each task's share of the update has
 * the smallest gradient's norm (the condition number becomes 1). */
static void test_aligned_equalises_orthogonal(void **state)
{
    (void)state;
    gset s = {.T = 3};
    memset(s.g, 0, sizeof s.g);
    s.g[0][0] = 3.0f;
    s.g[1][1] = 0.5f;
    s.g[2][2] = 40.0f;
    for (int t = 0; t < 3; t++) {
        s.cg[t] = s.g[t];
        s.ids[t] = t;
        s.order[t] = t;
    }
    mtb_merge_plan plan;
    merge(&s, &mtb_method_aligned, NULL, &plan, NULL);
    for (int t = 0; t < 3; t++)
        assert_true(fabs(plan.weight[t] * norm_f(s.g[t]) - 0.5) < 1e-12);
}

/* GradVac's first step (targets 0) is PCGrad's, group by group; its targets
 * then hold beta times the cosines it saw. */
static void test_gradvac_starts_as_pcgrad(void **state)
{
    (void)state;
    gset s;
    random_set(&s, 3, 1.2);
    const mtb_param_group groups[2] = {{"a", 0, 25}, {"b", 25, 15}};
    mtb_merge_state st;
    memset(&st, 0, sizeof st);
    mtb_merge_params p;
    mtb_merge_params_defaults(&p);
    const mtb_merge_context ctx = {.params = &p, .state = &st};
    mtb_merge_plan gv, pc;
    mtb_merge_weights(s.cg, s.ids, 3, DIM, s.order, &mtb_method_gradvac, &ctx, groups, 2, NULL,
                      NULL, &gv);
    assert_int_equal(gv.n_segments, 2);
    for (int k = 0; k < 2; k++) {
        const float *part[3];
        for (int t = 0; t < 3; t++)
            part[t] = s.g[t] + groups[k].offset;
        mtb_merge_weights(part, s.ids, 3, groups[k].numel, s.order, &mtb_method_pcgrad, NULL,
                          NULL, 0, NULL, NULL, &pc);
        for (int t = 0; t < 3; t++)
            assert_true(fabs(gv.seg_weight[k][t] - pc.weight[t]) < 1e-12);
    }
    double nonzero = 0.0;
    for (size_t i = 0; i < MTB_MERGE_STATE_LEN; i++)
        nonzero += fabs(st.x[i]);
    assert_true(nonzero > 0.0);
}

/* The loss weightings: FAMO's weights sum to 1, DWA's to T once it starts,
 * UW's are 1/2 exp(-s); a task whose loss falls slower gains weight under
 * FAMO and DWA. */
static void test_loss_weightings(void **state)
{
    (void)state;
    gset s;
    random_set(&s, 3, 0.5);
    mtb_merge_params p;
    mtb_merge_params_defaults(&p);
    p.famo_lr = 0.5;
    p.uw_lr = 0.1;
    mtb_merge_state famo, dwa, uw;
    memset(&famo, 0, sizeof famo);
    memset(&dwa, 0, sizeof dwa);
    memset(&uw, 0, sizeof uw);
    mtb_merge_plan plan;
    for (int step = 0; step < 12; step++) {
        /* task 0's loss halves every step, task 1's stays, task 2's falls slowly */
        const double loss[3] = {pow(0.5, step), 1.0, 1.0 - 0.02 * step};
        mtb_merge_context ctx = {.params = &p, .state = &famo, .loss = loss, .epoch = step / 3};
        merge(&s, &mtb_method_famo, &ctx, &plan, NULL);
        assert_true(plan.scale_heads);
        assert_true(fabs(plan.weight[0] + plan.weight[1] + plan.weight[2] - 1.0) < 1e-12);
        ctx.state = &dwa;
        merge(&s, &mtb_method_dwa, &ctx, &plan, NULL);
        const double total = plan.weight[0] + plan.weight[1] + plan.weight[2];
        assert_true(fabs(total - 3.0) < 1e-12);
        if (step < 6)
            assert_true(plan.weight[0] == 1.0 && plan.weight[1] == 1.0);
        else
            assert_true(plan.weight[1] > plan.weight[2] && plan.weight[2] > plan.weight[0]);
        ctx.state = &uw;
        merge(&s, &mtb_method_uw, &ctx, &plan, NULL);
        assert_true(fabs(plan.weight[1] - 0.5 * exp(-uw.x[1])) < 1e-15 || step > 0);
    }
    /* FAMO's logits: the stalled task 1 leads */
    assert_true(famo.x[1] > famo.x[0]);
    /* UW: a task with loss 1 stays near s = 0, the vanishing loss's variance shrinks */
    assert_true(uw.x[0] < -0.5);
}

/* The registry: every method is found by its name, at its index. */
static void test_registry(void **state)
{
    (void)state;
    assert_int_equal(mtb_merge_count(), 12);
    for (int i = 0; i < mtb_merge_count(); i++) {
        const mtb_merge_method *m = mtb_merge_at(i);
        assert_non_null(m->merge);
        assert_true(strlen(m->summary) > 10);
        assert_ptr_equal(mtb_merge_find(m->name), m);
        assert_int_equal(mtb_merge_index(m), i);
        assert_true(m->state_len <= MTB_MERGE_STATE_LEN);
        assert_true(m->stateful == (m->state_len > 0));
    }
    assert_null(mtb_merge_find("mgdb"));
    assert_null(mtb_merge_at(12));
    char names[256];
    assert_string_equal(mtb_merge_names(names, sizeof names),
                        "sum, pcgrad, mgda, cagrad, gradvac, imtl, nashmtl, aligned, upgrad, "
                        "uw, dwa, famo");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_reference),
        cmocka_unit_test(test_no_task_opposed),
        cmocka_unit_test(test_reduces_to_simple_rules),
        cmocka_unit_test(test_imtl_and_nash_equations),
        cmocka_unit_test(test_aligned_equalises_orthogonal),
        cmocka_unit_test(test_gradvac_starts_as_pcgrad),
        cmocka_unit_test(test_loss_weightings),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
