/* Learning-rate schedules against values worked out by hand from the
 * formulas of transformers' get_*_schedule_with_warmup (schedule.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mtbert/schedule.h"

static mtb_schedule make(mtb_schedule_kind kind, long warmup, long total)
{
    mtb_schedule s;
    mtb_schedule_defaults(&s);
    s.kind = kind;
    s.warmup_steps = warmup;
    s.total_steps = total;
    return s;
}

static void expect(const mtb_schedule *s, long step, double want)
{
    double got = mtb_schedule_factor(s, step);
    if (fabs(got - want) > 1e-12)
        fail_msg("%s schedule, warmup %ld, total %ld: step %ld has factor %.12g, want %.12g",
                 mtb_schedule_name(s->kind), mtb_schedule_warmup(s), s->total_steps, step, got,
                 want);
}

static void test_defaults_are_constant(void **state)
{
    (void)state;
    mtb_schedule s;
    mtb_schedule_defaults(&s);
    assert_int_equal(s.kind, MTB_SCHEDULE_CONSTANT);
    assert_int_equal(mtb_schedule_warmup(&s), 0);
    for (long step = 1; step <= 1000; step += 333)
        expect(&s, step, 1.0);
}

static void test_constant_with_warmup(void **state)
{
    (void)state;
    mtb_schedule s = make(MTB_SCHEDULE_CONSTANT, 4, 10);
    expect(&s, 1, 0.0); /* k = 0: the first warmup step has rate 0, as in transformers */
    expect(&s, 2, 0.25);
    expect(&s, 4, 0.75);
    expect(&s, 5, 1.0);
    expect(&s, 10, 1.0);
    expect(&s, 50, 1.0); /* past the horizon: still constant */
}

static void test_linear(void **state)
{
    (void)state;
    mtb_schedule s = make(MTB_SCHEDULE_LINEAR, 0, 10);
    expect(&s, 1, 1.0);
    expect(&s, 2, 0.9);
    expect(&s, 10, 0.1);
    expect(&s, 11, 0.0);
    expect(&s, 30, 0.0); /* never negative */
    s = make(MTB_SCHEDULE_LINEAR, 2, 10);
    expect(&s, 1, 0.0);
    expect(&s, 2, 0.5);
    expect(&s, 3, 1.0);   /* (10 - 2) / 8 */
    expect(&s, 4, 0.875); /* 7 / 8 */
    expect(&s, 10, 0.125);
}

static void test_cosine(void **state)
{
    (void)state;
    mtb_schedule s = make(MTB_SCHEDULE_COSINE, 2, 10);
    expect(&s, 2, 0.5);
    expect(&s, 3, 1.0);
    expect(&s, 5, 0.853553390593); /* (1 + cos(pi / 4)) / 2 */
    expect(&s, 7, 0.5);            /* half way through the decay */
    expect(&s, 10, 0.0380602337443); /* (1 + cos(7 pi / 8)) / 2 */
    expect(&s, 11, 0.0);
    expect(&s, 15, 0.0); /* clamped, not rising again */
}

static void test_no_horizon(void **state)
{
    (void)state;
    /* A run without a step budget has nothing to decay towards. */
    mtb_schedule s = make(MTB_SCHEDULE_LINEAR, 2, 0);
    expect(&s, 1, 0.0);
    expect(&s, 2, 0.5);
    expect(&s, 3, 1.0);
    expect(&s, 1000, 1.0);
}

static void test_warmup_fraction(void **state)
{
    (void)state;
    mtb_schedule s = make(MTB_SCHEDULE_LINEAR, 0, 25);
    s.warmup_fraction = 0.1;
    assert_int_equal(mtb_schedule_warmup(&s), 3); /* ceil(2.5), as transformers' warmup_ratio */
    expect(&s, 2, 1.0 / 3.0);
    expect(&s, 4, 1.0); /* (25 - 3) / 22 */
    s.total_steps = 600;
    assert_int_equal(mtb_schedule_warmup(&s), 60);
    s.warmup_fraction = 0.0;
    assert_int_equal(mtb_schedule_warmup(&s), 0);
}

static void test_names(void **state)
{
    (void)state;
    mtb_schedule_kind k;
    assert_int_equal(mtb_schedule_parse("cosine", &k), 0);
    assert_int_equal(k, MTB_SCHEDULE_COSINE);
    assert_int_equal(mtb_schedule_parse("linear", &k), 0);
    assert_int_equal(k, MTB_SCHEDULE_LINEAR);
    assert_int_equal(mtb_schedule_parse("constant", &k), 0);
    assert_int_equal(k, MTB_SCHEDULE_CONSTANT);
    assert_int_equal(mtb_schedule_parse("Linear", &k), -1);
    assert_int_equal(mtb_schedule_parse("", &k), -1);
    assert_string_equal(mtb_schedule_name(MTB_SCHEDULE_COSINE), "cosine");
    assert_string_equal(mtb_schedule_name((mtb_schedule_kind)7), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_constant),
        cmocka_unit_test(test_constant_with_warmup),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_no_horizon),
        cmocka_unit_test(test_warmup_fraction),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests_name("schedule", tests, NULL, NULL);
}
