/* fe_visible: text from files and users shown with its control bytes and
 * invalid UTF-8 as escapes, so it cannot drive the terminal. */
#include "test_util.h"

#include "front.h"

static void test_visible_text(void **state)
{
    (void)state;
    char out[64];
    fe_visible(out, sizeof out, "\033]0;PWNED\a");
    assert_string_equal(out, "\\033]0;PWNED\\007");
    fe_visible(out, sizeof out, "caf\xc3\xa9 \xff\xfe tab\there");
    assert_string_equal(out, "caf\xc3\xa9 \\xff\\xfe tab\\011here");
    fe_visible(out, sizeof out, "\xc2\x9b" "31m \x7f"); /* C1 CSI, DEL */
    assert_string_equal(out, "\\u009b31m \\177");
    /* cut at a whole character: never half an escape or half a letter */
    char small[6];
    assert_int_equal(fe_visible(small, sizeof small, "ab\033cd"), 2);
    assert_string_equal(small, "ab");
    assert_int_equal(fe_visible(small, 5, "ab\xc3\xa9\xc3\xa9"), 4);
    assert_string_equal(small, "ab\xc3\xa9");
    fe_visible(out, sizeof out, NULL);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visible_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
