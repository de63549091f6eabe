/* MNRL and CoSENT (pair_losses.h): losses and gradients against PyTorch
 * autograd (tests/reference/make_loss_fixtures.py), gradients against
 * finite differences, and the cases worked out by hand. */
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

#include "mtbert/multitask.h"
#include "pair_losses.h"

static float *floats_of(const json_t *a, size_t n)
{
    float *x = calloc(n, sizeof *x);
    assert_non_null(x);
    assert_int_equal(json_array_size(a), n);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)json_number_value(json_array_get(a, i));
    return x;
}

typedef struct pair_case {
    const char *name;
    bool mnrl;
    int B, H;
    float scale;
    float *u, *v, *labels;
    unsigned char positive[64];
} pair_case;

static float loss_of(const pair_case *c, const float *u, const float *v, float *du, float *dv)
{
    return c->mnrl ? mtb_mnrl(u, v, c->positive, c->B, c->H, c->scale, du, dv)
                   : mtb_cosent(u, v, c->labels, c->B, c->H, c->scale, du, dv);
}

static void test_against_torch(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *root = json_load_file(tu_fixture("pair-losses.json"), 0, &jerr);
    if (!root)
        fail_msg("%s: %s", tu_fixture("pair-losses.json"), jerr.text);
    const json_t *cases = json_object_get(root, "cases");
    assert_int_equal(json_array_size(cases), 6);
    for (size_t ci = 0; ci < json_array_size(cases); ci++) {
        const json_t *j = json_array_get(cases, ci);
        pair_case c = {.name = json_string_value(json_object_get(j, "name")),
                       .B = (int)json_integer_value(json_object_get(j, "B")),
                       .H = (int)json_integer_value(json_object_get(j, "H")),
                       .scale = (float)json_number_value(json_object_get(j, "scale"))};
        c.mnrl = strcmp(json_string_value(json_object_get(j, "kind")), "mnrl") == 0;
        const size_t n = (size_t)c.B * (size_t)c.H;
        c.u = floats_of(json_object_get(j, "u"), n);
        c.v = floats_of(json_object_get(j, "v"), n);
        if (c.mnrl)
            for (int i = 0; i < c.B; i++)
                c.positive[i] = (unsigned char)json_integer_value(
                    json_array_get(json_object_get(j, "positive"), (size_t)i));
        else
            c.labels = floats_of(json_object_get(j, "labels"), (size_t)c.B);
        float *du = calloc(n, sizeof *du), *dv = calloc(n, sizeof *dv);
        float *want_du = floats_of(json_object_get(j, "du"), n);
        float *want_dv = floats_of(json_object_get(j, "dv"), n);
        const double want = json_number_value(json_object_get(j, "loss"));
        const float got = loss_of(&c, c.u, c.v, du, dv);
        if (!(fabs(got - want) <= 1e-6 * fmax(1.0, fabs(want))))
            fail_msg("%s: loss %.9g, torch %.9g", c.name, got, want);
        double gmax = 0.0, err = 0.0;
        for (size_t k = 0; k < n; k++)
            gmax = fmax(gmax, fmax(fabs(want_du[k]), fabs(want_dv[k])));
        for (size_t k = 0; k < n; k++)
            err = fmax(err, fmax(fabs(du[k] - want_du[k]), fabs(dv[k] - want_dv[k])));
        printf("# %s: loss %.7f (torch %.7f), gradients within %.2g of their largest %.3g\n",
               c.name, got, want, err / gmax, gmax);
        if (!(err <= 1e-5 * gmax))
            fail_msg("%s: gradients off by %g (largest %g)", c.name, err, gmax);

        /* finite differences, on a few coordinates of each input */
        for (int which = 0; which < 2; which++) {
            float *x = which ? c.v : c.u;
            const float *g = which ? dv : du;
            for (size_t k = 0; k < n; k += n / 5 + 1) {
                const float keep = x[k], h = 1e-3f;
                x[k] = keep + h;
                const double up = loss_of(&c, c.u, c.v, NULL, NULL);
                x[k] = keep - h;
                const double down = loss_of(&c, c.u, c.v, NULL, NULL);
                x[k] = keep;
                const double fd = (up - down) / (2.0 * h);
                if (!(fabs(fd - g[k]) <= 2e-3 * fmax(1.0, fabs(g[k]))))
                    fail_msg("%s: d loss / d %c[%zu] = %g, finite difference %g", c.name,
                             which ? 'v' : 'u', k, g[k], fd);
            }
        }
        free(c.u), free(c.v), free(c.labels), free(du), free(dv), free(want_du), free(want_dv);
    }
    json_decref(root);
}

/* By hand: one positive anchor whose partner is its own direction and one
 * orthogonal candidate: L = -log(e^s / (e^s + e^0)) = log(1 + e^-s). */
static void test_mnrl_by_hand(void **state)
{
    (void)state;
    const float u[4] = {1, 0, 0, 1}, v[4] = {2, 0, 0, 3};
    const unsigned char positive[2] = {1, 0};
    const float s = 2.0f;
    assert_true(fabsf(mtb_mnrl(u, v, positive, 2, 2, s, NULL, NULL) - log1pf(expf(-s))) < 1e-6f);
    /* no positive pair: nothing to rank */
    const unsigned char none[2] = {0, 0};
    float du[4] = {0};
    assert_true(mtb_mnrl(u, v, none, 2, 2, s, du, NULL) == 0.0f);
    for (int k = 0; k < 4; k++)
        assert_true(du[k] == 0.0f);
}

/* By hand: two pairs ordered as their scores ask (cos 1 for the higher
 * score, 0 for the lower): L = log(1 + e^(s (0 - 1))); ties ask nothing. */
static void test_cosent_by_hand(void **state)
{
    (void)state;
    const float u[4] = {1, 0, 1, 0}, v[4] = {3, 0, 0, 2};
    const float y[2] = {4.5f, 1.0f}, tie[2] = {2.0f, 2.0f};
    const float s = 3.0f;
    assert_true(fabsf(mtb_cosent(u, v, y, 2, 2, s, NULL, NULL) - log1pf(expf(-s))) < 1e-6f);
    assert_true(mtb_cosent(u, v, tie, 2, 2, s, NULL, NULL) == 0.0f); /* log(1 + 0) */
    mtb_pair_losses l;
    mtb_pair_losses_defaults(&l);
    assert_true(l.mnrl_scale == 20.0f && l.cosent_scale == 20.0f && l.sts == MTB_STS_LOSS_MSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_torch),
        cmocka_unit_test(test_mnrl_by_hand),
        cmocka_unit_test(test_cosent_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
