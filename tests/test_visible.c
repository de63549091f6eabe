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

static void test_json_text(void **state)
{
    (void)state;
    json_t *j = fe_json_text(":bogus\xff \xc3\xa9\x1b\n");
    assert_non_null(j);
    char *out = json_dumps(j, JSON_ENCODE_ANY);
    assert_string_equal(out, "\":bogus\xef\xbf\xbd \xc3\xa9\\u001B\\n\"");
    free(out);
    json_decref(j);
    /* a cut sequence at the end, and one cut in the middle */
    j = fe_json_text("a\xe2\x82");
    assert_string_equal(json_string_value(j), "a\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visible_text),
        cmocka_unit_test(test_json_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
