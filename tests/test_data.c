/* Unit tests for the task-file loader (include/mtbert/data.h).
 *
 * Small crafted files are written into a mkdtemp folder and the parsed
 * values checked exactly: quoting, the odd SST test header, files without an
 * id column, Quora labels and dropped rows, unlabelled files, every kind of
 * malformed input, and the seeded train/validation split.
 *
 * The real course files are loaded too when the shared data folder exists
 * ($MTBERT_SHARED_DATA, else "$tu_srcdir/../../shared/data", $tu_srcdir defaulting
 * to "tests"); those tests are skipped, with a note on stderr, otherwise. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mtbert/data.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static char g_dir[256];

#define MAX_FILES 128
static char *g_files[MAX_FILES];
static int g_nfiles;

/* Writes len bytes (so NULs can be included) to g_dir/name; returns the path
 * (owned by the helper, removed at teardown). */
static const char *write_bytes(const char *name, const char *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    for (int i = 0; i < g_nfiles; i++)
        if (strcmp(g_files[i], path) == 0)
            return g_files[i];
    assert_true(g_nfiles < MAX_FILES);
    g_files[g_nfiles] = strdup(path);
    assert_non_null(g_files[g_nfiles]);
    return g_files[g_nfiles++];
}

static const char *write_text(const char *name, const char *text)
{
    return write_bytes(name, text, strlen(text));
}

static int group_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/mtbert-test-data-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < g_nfiles; i++) {
        unlink(g_files[i]);
        free(g_files[i]);
    }
    g_nfiles = 0;
    rmdir(g_dir);
    return 0;
}

/* Loads text (written as name) into a fresh dataset; asserts success. */
static void load_ok(mtb_dataset *ds, mtb_task task, const char *name, const char *text,
                    bool want_labels)
{
    const char *path = write_text(name, text);
    mtb_error err = {0};
    mtb_dataset_init(ds, task);
    int rc = mtb_dataset_load(ds, path, want_labels, &err);
    if (rc)
        fprintf(stderr, "unexpected error: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

/* Loads bytes that must fail with MTB_EINPUT; the message must start with
 * "<path>:<line>:" and contain detail.  The dataset must stay empty. */
static void load_bad_bytes(mtb_task task, bool want_labels, const char *name, const char *data,
                           size_t len, long line, const char *detail)
{
    const char *path = write_bytes(name, data, len);
    mtb_dataset ds;
    mtb_dataset_init(&ds, task);
    mtb_error err = {0};
    int rc = mtb_dataset_load(&ds, path, want_labels, &err);
    char where[600];
    snprintf(where, sizeof where, "%s:%ld: ", path, line);
    if (rc != MTB_EINPUT || strncmp(err.msg, where, strlen(where)) != 0 ||
        !strstr(err.msg, detail))
        fprintf(stderr, "%s: rc=%d, message \"%s\"; wanted prefix \"%s\" and \"%s\"\n", name, rc,
                err.msg, where, detail);
    assert_int_equal(rc, MTB_EINPUT);
    assert_int_equal(err.code, MTB_EINPUT);
    assert_int_equal(strncmp(err.msg, where, strlen(where)), 0);
    assert_non_null(strstr(err.msg, detail));
    assert_int_equal(ds.n, 0);
    assert_int_equal(ds.dropped, 0);
    assert_null(ds.path);
    mtb_dataset_free(&ds);
}

static void load_bad(mtb_task task, bool want_labels, const char *name, const char *text,
                     long line, const char *detail)
{
    load_bad_bytes(task, want_labels, name, text, strlen(text), line, detail);
}

/* ------------------------------------------------------------------ */
/* Task names                                                          */
/* ------------------------------------------------------------------ */

static void test_task_names(void **state)
{
    (void)state;
    assert_string_equal(mtb_task_name(MTB_TASK_SST), "sst");
    assert_string_equal(mtb_task_name(MTB_TASK_PARA), "para");
    assert_string_equal(mtb_task_name(MTB_TASK_STS), "sts");
    for (int t = 0; t < MTB_N_TASKS; t++)
        assert_int_equal(mtb_task_parse(mtb_task_name((mtb_task)t)), t);
    assert_int_equal(mtb_task_parse("quora"), -1);
    assert_int_equal(mtb_task_parse(""), -1);
    assert_int_equal(mtb_task_parse("SST "), -1);
    assert_int_equal(mtb_task_parse(NULL), -1);
}

/* ------------------------------------------------------------------ */
/* Well-formed files                                                   */
/* ------------------------------------------------------------------ */

static void test_sst_train(void **state)
{
    (void)state;
    mtb_dataset ds;
    load_ok(&ds, MTB_TASK_SST, "sst.csv",
            "\tid\tsentence\tsentiment\n"
            "0\taaa\t The Rock is -LRB- great -RRB- .\t3\n"
            "1\tbbb\t A `` quoted '' film \\/ thing .  \t0\n"
            "2\tccc\t\t4\n"
            "3\tddd\t caf\xc3\xa9 \xe2\x82\xb9 \xef\xbc\x9f\t 2 \n",
            true);
    assert_int_equal(ds.n, 4);
    assert_int_equal(ds.dropped, 0);
    assert_true(ds.labelled);
    assert_int_equal(ds.task, MTB_TASK_SST);
    assert_non_null(ds.path);
    assert_non_null(strstr(ds.path, "sst.csv"));

    assert_string_equal(ds.ex[0].id, "aaa");
    assert_string_equal(ds.ex[0].text_a, " The Rock is -LRB- great -RRB- .");
    assert_null(ds.ex[0].text_b);
    assert_true(ds.ex[0].label == 3.0f);
    assert_int_equal(ds.ex[0].line, 2);

    /* Text is kept exactly: leading and trailing spaces, backslashes. */
    assert_string_equal(ds.ex[1].text_a, " A `` quoted '' film \\/ thing .  ");
    assert_true(ds.ex[1].label == 0.0f);
    assert_string_equal(ds.ex[2].text_a, "");
    assert_true(ds.ex[2].label == 4.0f);
    assert_string_equal(ds.ex[3].text_a, " caf\xc3\xa9 \xe2\x82\xb9 \xef\xbc\x9f");
    assert_true(ds.ex[3].label == 2.0f);
    assert_int_equal(ds.ex[3].line, 5);
    mtb_dataset_free(&ds);
    assert_int_equal(ds.n, 0);
    assert_null(ds.ex);
    assert_null(ds.path);
}

static void test_quoting(void **state)
{
    (void)state;
    mtb_dataset ds;
    load_ok(&ds, MTB_TASK_PARA, "quoted.csv",
            "\tid\tsentence1\tsentence2\tis_duplicate\n"
            /* quoted twice upstream: exactly one level is undone */
            "1\tq1\t\"\"\"Which is correct grammar: Do I need \"\"\"\"the\"\"\"\" here?\"\"\"\t"
            "plain\t1.0\n"
            /* quoted once */
            "2\tq2\tplain two\t\"In English, \"\"don't got\"\" is rare.\"\t0.0\n"
            /* quoted empty field, and a quoted label */
            "3\tq3\t\"\"\t\"x\"\t\"1.0\"\n"
            /* a quoted field may hold a tab, as in Python's csv */
            "4\t\"q4\"\t\"a\tb\"\tc\t0\n",
            true);
    assert_int_equal(ds.n, 4);
    assert_string_equal(ds.ex[0].id, "q1");
    assert_string_equal(ds.ex[0].text_a, "\"Which is correct grammar: Do I need \"\"the\"\" here?\"");
    assert_string_equal(ds.ex[0].text_b, "plain");
    assert_true(ds.ex[0].label == 1.0f);
    assert_string_equal(ds.ex[1].text_b, "In English, \"don't got\" is rare.");
    assert_true(ds.ex[1].label == 0.0f);
    assert_string_equal(ds.ex[2].text_a, "");
    assert_string_equal(ds.ex[2].text_b, "x");
    assert_true(ds.ex[2].label == 1.0f);
    assert_string_equal(ds.ex[3].id, "q4");
    assert_string_equal(ds.ex[3].text_a, "a\tb");
    assert_true(ds.ex[3].label == 0.0f);
    mtb_dataset_free(&ds);
}

static void test_sst_test_header(void **state)
{
    (void)state;
    static const char text[] = "0\t\tid\tsentence\n"
                               "1\t0.0\tb75737\t Effective but too-tepid biopic\n"
                               "2\t1.0\td17a87\t If you sometimes like to go .\n";
    mtb_dataset ds;
    load_ok(&ds, MTB_TASK_SST, "sst-test.csv", text, false);
    assert_int_equal(ds.n, 2);
    assert_false(ds.labelled);
    assert_string_equal(ds.ex[0].id, "b75737");
    assert_string_equal(ds.ex[0].text_a, " Effective but too-tepid biopic");
    assert_true(isnan(ds.ex[0].label));
    assert_string_equal(ds.ex[1].id, "d17a87");
    assert_true(isnan(ds.ex[1].label));
    assert_int_equal(ds.ex[1].line, 3);
    mtb_dataset_free(&ds);

    /* Labels wanted from a file that has none. */
    load_bad(MTB_TASK_SST, true, "sst-test-want.csv", text, 1, "no column 'sentiment'");
}

static void test_no_id_column(void **state)
{
    (void)state;
    mtb_dataset ds;
    load_ok(&ds, MTB_TASK_PARA, "pairs.csv",
            "sentence1\tsentence2\tis_duplicate\n"
            "What is it?\tWhat's it?\t1.0\n"
            "How?\tWhy?\t0.0\n"
            "A\tB\t1\n"
            "C\tD\t0\n",
            true);
    assert_int_equal(ds.n, 4);
    assert_true(ds.labelled);
    float want[4] = {1, 0, 1, 0};
    for (size_t i = 0; i < 4; i++) {
        assert_null(ds.ex[i].id);
        assert_true(ds.ex[i].label == want[i]);
        assert_int_equal(ds.ex[i].line, (long)i + 2);
    }
    assert_string_equal(ds.ex[0].text_a, "What is it?");
    assert_string_equal(ds.ex[0].text_b, "What's it?");
    assert_string_equal(ds.ex[3].text_b, "D");
    mtb_dataset_free(&ds);
}

static void test_para_dropped(void **state)
{
    (void)state;
    mtb_dataset ds;
    load_ok(&ds, MTB_TASK_PARA, "para-drop.csv",
            "\tid\tsentence1\tsentence2\tis_duplicate\n"
            "1\ta\tOne?\tUno?\t1.0\n"
            /* the upstream breakage: sentence2 and the label empty */
            "2\tb\t\"\"\"Which is the best RO water purifier?\"\t\t\n"
            "3\tc\tTwo?\tDos?\t0.0\n"
            /* label only empty (whitespace counts as empty) */
            "4\td\tThree?\tTres?\t \n"
            /* a row cut short before its label */
            "5\te\tFour?\n"
            "6\tf\tFive?\t\t0.0\n",
            true);
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.dropped, 3);
    assert_true(ds.labelled);
    assert_string_equal(ds.ex[0].id, "a");
    assert_int_equal(ds.ex[0].line, 2);
    assert_string_equal(ds.ex[1].id, "c");
    assert_int_equal(ds.ex[1].line, 4);
    /* An empty sentence2 with a good label is kept, as the reference does. */
    assert_string_equal(ds.ex[2].id, "f");
    assert_string_equal(ds.ex[2].text_b, "");
    assert_true(ds.ex[2].label == 0.0f);
    assert_int_equal(ds.ex[2].line, 7);
    mtb_dataset_free(&ds);

    /* Without want_labels a present label column is still read. */
    load_ok(&ds, MTB_TASK_PARA, "para-drop2.csv",
            "sentence1\tsentence2\tis_duplicate\na\tb\t\nc\td\t1.0\n", false);
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.dropped, 1);
    assert_true(ds.labelled);
    mtb_dataset_free(&ds);
}

static void test_unlabelled(void **state)
{
    (void)state;
    mtb_dataset ds;
    load_ok(&ds, MTB_TASK_STS, "sts-test.csv",
            "\tid\tsentence1\tsentence2\n"
            "735\tcce9\tA band is performing on a stage.\tA band is playing.\n",
            false);
    assert_int_equal(ds.n, 1);
    assert_false(ds.labelled);
    assert_string_equal(ds.ex[0].id, "cce9");
    assert_string_equal(ds.ex[0].text_a, "A band is performing on a stage.");
    assert_string_equal(ds.ex[0].text_b, "A band is playing.");
    assert_true(isnan(ds.ex[0].label));
    mtb_dataset_free(&ds);

    /* In an unlabelled paraphrase file an empty sentence2 is kept. */
    load_ok(&ds, MTB_TASK_PARA, "para-test.csv",
            "\tid\tsentence1\tsentence2\n1\tx\tq?\t\n", false);
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.dropped, 0);
    assert_string_equal(ds.ex[0].text_b, "");
    assert_true(isnan(ds.ex[0].label));
    mtb_dataset_free(&ds);

    load_bad(MTB_TASK_STS, true, "sts-test-want.csv",
             "\tid\tsentence1\tsentence2\n1\tx\ta\tb\n", 1, "no column 'similarity'");
    load_bad(MTB_TASK_PARA, true, "para-test-want.csv",
             "\tid\tsentence1\tsentence2\n1\tx\ta\tb\n", 1, "no column 'is_duplicate'");
}

static void test_sts_labels(void **state)
{
    (void)state;
    mtb_dataset ds;
    load_ok(&ds, MTB_TASK_STS, "sts.csv",
            "\tid\tsentence1\tsentence2\tsimilarity\n"
            "1\ta\tx\ty\t2.0\n"
            "2\tb\tx\ty\t0.8\n"
            "3\tc\tx\ty\t5\n"
            "4\td\tx\ty\t0.0\n"
            "5\te\tx\ty\t3.66666666666667\n",
            true);
    assert_int_equal(ds.n, 5);
    assert_true(ds.ex[0].label == 2.0f);
    assert_true(ds.ex[1].label == 0.8f);
    assert_true(ds.ex[2].label == 5.0f);
    assert_true(ds.ex[3].label == 0.0f);
    assert_true(ds.ex[4].label == (float)3.66666666666667);
    mtb_dataset_free(&ds);
}

static void test_file_shapes(void **state)
{
    (void)state;
    mtb_dataset ds;
    /* No newline at the end; CRLF line ends; a UTF-8 byte order mark; a blank line. */
    load_ok(&ds, MTB_TASK_SST, "shapes.csv",
            "\xEF\xBB\xBFsentence\tsentiment\r\n a\t1\r\n\r\n b\t2", true);
    assert_int_equal(ds.n, 2);
    assert_null(ds.ex[0].id);
    assert_string_equal(ds.ex[0].text_a, " a");
    assert_string_equal(ds.ex[1].text_a, " b");
    assert_true(ds.ex[1].label == 2.0f);
    assert_int_equal(ds.ex[1].line, 4);
    mtb_dataset_free(&ds);

    /* A header alone is a valid, empty file; columns may come in any order. */
    load_ok(&ds, MTB_TASK_STS, "header-only.csv", "similarity\tsentence2\tid\tsentence1\n", true);
    assert_int_equal(ds.n, 0);
    assert_true(ds.labelled);
    mtb_dataset_free(&ds);

    load_ok(&ds, MTB_TASK_STS, "reordered.csv",
            "similarity\tsentence2\tid\tsentence1\textra\n4.5\tB\tI\tA\tjunk\n", true);
    assert_int_equal(ds.n, 1);
    assert_string_equal(ds.ex[0].id, "I");
    assert_string_equal(ds.ex[0].text_a, "A");
    assert_string_equal(ds.ex[0].text_b, "B");
    assert_true(ds.ex[0].label == 4.5f);
    mtb_dataset_free(&ds);
}

static void test_append_and_rollback(void **state)
{
    (void)state;
    const char *a = write_text("app-a.csv", "sentence1\tsentence2\tis_duplicate\n"
                                            "a\tb\t1.0\nc\td\t\n");
    const char *b = write_text("app-b.csv", "\tid\tsentence1\tsentence2\n1\tz\te\tf\n");
    const char *bad = write_text("app-bad.csv", "sentence1\tsentence2\tis_duplicate\n"
                                                "g\th\t\ni\tj\t0.0\nk\tl\t7\n");
    mtb_dataset ds;
    mtb_dataset_init(&ds, MTB_TASK_PARA);
    mtb_error err = {0};
    assert_int_equal(mtb_dataset_load(&ds, a, true, &err), 0);
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.dropped, 1);
    assert_true(ds.labelled);

    /* A failed load leaves the dataset as it was. */
    assert_int_equal(mtb_dataset_load(&ds, bad, true, &err), MTB_EINPUT);
    assert_non_null(strstr(err.msg, "app-bad.csv:4: is_duplicate '7' is not 0 or 1"));
    assert_int_equal(ds.n, 1);
    assert_int_equal(ds.dropped, 1);
    assert_string_equal(ds.path, a);

    /* An unlabelled file appended makes the whole set unlabelled. */
    assert_int_equal(mtb_dataset_load(&ds, b, false, &err), 0);
    assert_int_equal(ds.n, 2);
    assert_false(ds.labelled);
    assert_string_equal(ds.path, a);
    assert_null(ds.ex[0].id);
    assert_string_equal(ds.ex[1].id, "z");
    assert_true(isnan(ds.ex[1].label));
    mtb_dataset_free(&ds);
}

/* ------------------------------------------------------------------ */
/* Malformed input                                                     */
/* ------------------------------------------------------------------ */

static void test_missing_columns(void **state)
{
    (void)state;
    load_bad(MTB_TASK_STS, false, "nocol.csv", "\tid\tsentence1\tsimilarity\n1\ta\tb\t1\n", 1,
             "no column 'sentence2' (columns: '', 'id', 'sentence1', 'similarity')");
    load_bad(MTB_TASK_SST, false, "nocol-sst.csv", "\tid\tsentence1\tsentence2\n", 1,
             "no column 'sentence'");
    load_bad(MTB_TASK_PARA, false, "dupcol.csv", "sentence1\tsentence2\tsentence1\n", 1,
             "column 'sentence1' appears twice");
}

static void test_field_count(void **state)
{
    (void)state;
    load_bad(MTB_TASK_SST, true, "few.csv", "\tid\tsentence\tsentiment\n0\ta\t x\t1\n1\tb\t y\n", 3,
             "expected 4 fields, found 3");
    load_bad(MTB_TASK_SST, true, "many.csv", "\tid\tsentence\tsentiment\n0\ta\t x\t1\t9\n", 2,
             "expected 4 fields, found 5");
    load_bad(MTB_TASK_STS, true, "few-sts.csv",
             "sentence1\tsentence2\tsimilarity\na\tb\t1\nc\td\n", 3,
             "expected 3 fields, found 2");
    /* A short paraphrase row is dropped only if what it lacks is the label. */
    load_bad(MTB_TASK_PARA, true, "few-para.csv",
             "sentence1\tsentence2\tis_duplicate\tid\na\tb\t1.0\n", 2,
             "expected 4 fields, found 3");
    load_bad(MTB_TASK_PARA, true, "many-para.csv",
             "sentence1\tsentence2\tis_duplicate\na\tb\t\t\n", 2, "expected 3 fields, found 4");
}

static void test_bad_labels(void **state)
{
    (void)state;
    static const struct {
        mtb_task task;
        const char *value, *detail;
    } cases[] = {
        {MTB_TASK_SST, "abc", "sentiment 'abc' is not an integer in 0..4"},
        {MTB_TASK_SST, "7", "sentiment '7' is not an integer in 0..4"},
        {MTB_TASK_SST, "-1", "sentiment '-1' is not an integer in 0..4"},
        {MTB_TASK_SST, "2.0", "sentiment '2.0' is not an integer in 0..4"},
        {MTB_TASK_SST, "", "sentiment '' is not an integer in 0..4"},
        {MTB_TASK_SST, "99999999999999999999999", "is not an integer in 0..4"},
        {MTB_TASK_PARA, "yes", "is_duplicate 'yes' is not 0 or 1"},
        {MTB_TASK_PARA, "2.0", "is_duplicate '2.0' is not 0 or 1"},
        {MTB_TASK_PARA, "-1", "is_duplicate '-1' is not 0 or 1"},
        {MTB_TASK_PARA, "0.5", "is_duplicate '0.5' is not 0 or 1"},
        {MTB_TASK_PARA, "nan", "is_duplicate 'nan' is not 0 or 1"},
        {MTB_TASK_STS, "high", "similarity 'high' is not a number in [0, 5]"},
        {MTB_TASK_STS, "5.5", "similarity '5.5' is not a number in [0, 5]"},
        {MTB_TASK_STS, "-0.1", "similarity '-0.1' is not a number in [0, 5]"},
        {MTB_TASK_STS, "inf", "similarity 'inf' is not a number in [0, 5]"},
        {MTB_TASK_STS, "nan", "similarity 'nan' is not a number in [0, 5]"},
        {MTB_TASK_STS, "1e400", "similarity '1e400' is not a number in [0, 5]"},
        {MTB_TASK_STS, "", "similarity '' is not a number in [0, 5]"},
        {MTB_TASK_STS, "2.5x", "similarity '2.5x' is not a number in [0, 5]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256], name[64];
        const char *label = cases[i].task == MTB_TASK_SST    ? "sentiment"
                            : cases[i].task == MTB_TASK_PARA ? "is_duplicate"
                                                             : "similarity";
        const char *second = cases[i].task == MTB_TASK_SST ? "sentence" : "sentence1\tsentence2";
        const char *row = cases[i].task == MTB_TASK_SST ? "x" : "x\ty";
        snprintf(text, sizeof text, "%s\tid\t%s\n%s\ti0\t%s\n%s\ti1\t%s\n", second, label, row,
                 cases[i].task == MTB_TASK_STS ? "1.5" : "1", row, cases[i].value);
        snprintf(name, sizeof name, "label-%zu.csv", i);
        load_bad(cases[i].task, true, name, text, 3, cases[i].detail);
        /* A present label column is checked even when labels are not wanted. */
        load_bad(cases[i].task, false, name, text, 3, cases[i].detail);
    }
}

static void test_bad_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "\x80",             /* stray continuation byte */
        "\xc0\xaf",         /* overlong '/' */
        "\xe2\x82",         /* cut short */
        "\xed\xa0\x80",     /* UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "ok \xe2\x82 ok",   /* cut short mid-text */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256], name[64];
        snprintf(text, sizeof text, "\tid\tsentence1\tsentence2\tsimilarity\n1\ta\tfine\tfine\t1\n"
                                    "2\tb\t%s\tfine\t1\n", bad[i]);
        snprintf(name, sizeof name, "utf8-%zu.csv", i);
        load_bad(MTB_TASK_STS, true, name, text, 3, "invalid UTF-8 in column 'sentence1'");
    }
    /* Bad bytes in an ignored column are still an error, named by position. */
    load_bad(MTB_TASK_SST, false, "utf8-index.csv", "\tsentence\n\xfe\tx\n", 2,
             "invalid UTF-8 in column 1 (unnamed)");
    load_bad(MTB_TASK_SST, false, "utf8-header.csv", "sentence\t\xfe\n", 1,
             "invalid UTF-8 in the header");
    static const char nul[] = "sentence\tsentiment\nab\0cd\t1\n";
    load_bad_bytes(MTB_TASK_SST, true, "nul.csv", nul, sizeof nul - 1, 2,
                   "NUL byte in column 'sentence'");
}

static void test_bad_quoting(void **state)
{
    (void)state;
    load_bad(MTB_TASK_SST, false, "unterminated.csv", "sentence\tid\n\"open\tx\n", 2,
             "unterminated quoted field");
    load_bad(MTB_TASK_SST, false, "unterminated2.csv", "sentence\tid\nx\t\"\"\"a\"\"\n", 2,
             "unterminated quoted field");
    load_bad(MTB_TASK_SST, false, "after-quote.csv", "sentence\tid\n\"a\"b\tx\n", 2,
             "bad quoting");
    load_bad(MTB_TASK_SST, false, "inner-quote.csv", "sentence\tid\nab\"c\tx\n", 2,
             "bad quoting");
    load_bad(MTB_TASK_SST, false, "header-quote.csv", "\"sentence\tid\n", 1,
             "unterminated quoted field");
    load_bad(MTB_TASK_SST, false, "cr.csv", "sentence\tid\na\rb\tx\n", 2,
             "stray carriage return");
}

static void test_empty_and_missing(void **state)
{
    (void)state;
    load_bad(MTB_TASK_SST, false, "empty.csv", "", 1, "empty file");
    load_bad(MTB_TASK_SST, false, "blank.csv", "\n\n", 1, "empty file");
    load_bad(MTB_TASK_SST, false, "blank-first.csv", "\nsentence\n x\n", 1, "no header");

    char path[600];
    snprintf(path, sizeof path, "%s/does-not-exist.csv", g_dir);
    mtb_dataset ds;
    mtb_dataset_init(&ds, MTB_TASK_SST);
    mtb_error err = {0};
    assert_int_equal(mtb_dataset_load(&ds, path, false, &err), MTB_EINPUT);
    assert_int_equal(strncmp(err.msg, path, strlen(path)), 0);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_int_equal(ds.n, 0);
    /* A folder is not a file. */
    assert_int_equal(mtb_dataset_load(&ds, g_dir, false, &err), MTB_EINPUT);
    assert_non_null(strstr(err.msg, g_dir));
    /* A NULL err is allowed. */
    assert_int_equal(mtb_dataset_load(&ds, path, false, NULL), MTB_EINPUT);
    mtb_dataset_free(&ds);
}

/* ------------------------------------------------------------------ */
/* Split                                                               */
/* ------------------------------------------------------------------ */

/* n SST rows; row i has id "r<i>", text " s<i>" and label i % 5. */
static void make_rows(mtb_dataset *ds, size_t n, const char *name)
{
    size_t cap = 64 + n * 40;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, cap, "\tid\tsentence\tsentiment\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%zu\tr%zu\t s%zu\t%zu\n", i, i, i, i % 5);
    load_ok(ds, MTB_TASK_SST, name, text, true);
    free(text);
    assert_int_equal(ds->n, n);
}

/* The line numbers of val, as a bitmap over rows 0..n-1, after checking
 * that train and val are disjoint, cover every row, keep file order and
 * carry each row's own strings and label. */
static void check_partition(const mtb_dataset *train, const mtb_dataset *val, size_t n,
                            unsigned char *in_val)
{
    unsigned char *seen = calloc(n, 1);
    assert_non_null(seen);
    memset(in_val, 0, n);
    const mtb_dataset *parts[2] = {train, val};
    for (int p = 0; p < 2; p++) {
        long prev = 0;
        for (size_t i = 0; i < parts[p]->n; i++) {
            const mtb_example *e = &parts[p]->ex[i];
            assert_true(e->line > prev); /* file order kept */
            prev = e->line;
            size_t row = (size_t)(e->line - 2);
            assert_true(row < n);
            assert_int_equal(seen[row], 0);
            seen[row] = 1;
            in_val[row] = (unsigned char)p;
            char want[32];
            snprintf(want, sizeof want, "r%zu", row);
            assert_string_equal(e->id, want);
            snprintf(want, sizeof want, " s%zu", row);
            assert_string_equal(e->text_a, want);
            assert_true(e->label == (float)(row % 5));
        }
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(seen[i], 1);
    free(seen);
}

static void test_split(void **state)
{
    (void)state;
    const size_t n = 1000;
    unsigned char a[1000], b[1000];
    mtb_dataset train, val;
    mtb_error err = {0};

    make_rows(&train, n, "split.csv");
    mtb_dataset_init(&val, MTB_TASK_PARA); /* its task is replaced by train's */
    assert_int_equal(mtb_dataset_split(&train, &val, 0.1, 42, &err), 0);
    assert_int_equal(train.n, 900);
    assert_int_equal(val.n, 100);
    assert_int_equal(val.task, MTB_TASK_SST);
    assert_true(val.labelled);
    assert_string_equal(val.path, train.path);
    check_partition(&train, &val, n, a);
    mtb_dataset_free(&train);
    mtb_dataset_free(&val);

    /* Same seed, same split. */
    make_rows(&train, n, "split.csv");
    mtb_dataset_init(&val, MTB_TASK_SST);
    assert_int_equal(mtb_dataset_split(&train, &val, 0.1, 42, &err), 0);
    check_partition(&train, &val, n, b);
    assert_memory_equal(a, b, n);
    mtb_dataset_free(&train);
    mtb_dataset_free(&val);

    /* Another seed, another split of the same size. */
    make_rows(&train, n, "split.csv");
    mtb_dataset_init(&val, MTB_TASK_SST);
    assert_int_equal(mtb_dataset_split(&train, &val, 0.1, 43, &err), 0);
    assert_int_equal(val.n, 100);
    check_partition(&train, &val, n, b);
    assert_memory_not_equal(a, b, n);
    mtb_dataset_free(&train);
    mtb_dataset_free(&val);

    /* round(frac * n): 0.25 * 10 = 2.5 rounds to 3; 0.24 * 10 to 2. */
    make_rows(&train, 10, "split10.csv");
    mtb_dataset_init(&val, MTB_TASK_SST);
    assert_int_equal(mtb_dataset_split(&train, &val, 0.25, 1, &err), 0);
    assert_int_equal(val.n, 3);
    assert_int_equal(train.n, 7);
    check_partition(&train, &val, 10, a);
    mtb_dataset_free(&train);
    mtb_dataset_free(&val);
    make_rows(&train, 10, "split10.csv");
    mtb_dataset_init(&val, MTB_TASK_SST);
    assert_int_equal(mtb_dataset_split(&train, &val, 0.24, 1, &err), 0);
    assert_int_equal(val.n, 2);
    mtb_dataset_free(&train);
    mtb_dataset_free(&val);
}

static void test_split_edges(void **state)
{
    (void)state;
    mtb_dataset train, val;
    mtb_error err = {0};
    unsigned char in_val[10];

    /* At least one example goes to val, at least one stays. */
    make_rows(&train, 10, "edge.csv");
    mtb_dataset_init(&val, MTB_TASK_SST);
    assert_int_equal(mtb_dataset_split(&train, &val, 0.001, 5, &err), 0);
    assert_int_equal(val.n, 1);
    assert_int_equal(train.n, 9);
    check_partition(&train, &val, 10, in_val);
    mtb_dataset_free(&train);
    mtb_dataset_free(&val);

    make_rows(&train, 10, "edge.csv");
    mtb_dataset_init(&val, MTB_TASK_SST);
    assert_int_equal(mtb_dataset_split(&train, &val, 0.999, 5, &err), 0);
    assert_int_equal(val.n, 9);
    assert_int_equal(train.n, 1);
    check_partition(&train, &val, 10, in_val);
    mtb_dataset_free(&train);
    mtb_dataset_free(&val);

    make_rows(&train, 2, "edge2.csv");
    mtb_dataset_init(&val, MTB_TASK_SST);
    assert_int_equal(mtb_dataset_split(&train, &val, 0.5, 9, &err), 0);
    assert_int_equal(val.n, 1);
    assert_int_equal(train.n, 1);
    /* val is no longer empty: a second split into it is refused. */
    assert_int_equal(mtb_dataset_split(&train, &val, 0.5, 9, &err), MTB_EINPUT);
    mtb_dataset_free(&train);
    mtb_dataset_free(&val);

    /* Bad fractions and too few examples. */
    make_rows(&train, 5, "edge5.csv");
    mtb_dataset_init(&val, MTB_TASK_SST);
    const double bad[] = {0.0, 1.0, -0.5, 1.5, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mtb_dataset_split(&train, &val, bad[i], 1, &err), MTB_EINPUT);
        assert_non_null(strstr(err.msg, "fraction"));
    }
    assert_int_equal(train.n, 5);
    assert_int_equal(val.n, 0);
    mtb_dataset_free(&train);

    make_rows(&train, 1, "edge1.csv");
    assert_int_equal(mtb_dataset_split(&train, &val, 0.5, 1, &err), MTB_EINPUT);
    assert_int_equal(train.n, 1);
    mtb_dataset_free(&train);
    mtb_dataset_init(&train, MTB_TASK_SST);
    assert_int_equal(mtb_dataset_split(&train, &val, 0.5, 1, &err), MTB_EINPUT);
    mtb_dataset_free(&train);
    mtb_dataset_free(&val);
}

/* ------------------------------------------------------------------ */
/* The real course files                                               */
/* ------------------------------------------------------------------ */

static bool shared_available(void)
{
    char path[1024];
    tu_shared_path(path, sizeof path, "ids-sst-train.csv");
    struct stat st;
    if (stat(path, &st) == 0)
        return true;
    fprintf(stderr, "skipping: shared data not found (%s); set MTBERT_SHARED_DATA\n", path);
    return false;
}

/* Loads a shared file (appending to ds); asserts success and returns the seconds taken. */
static double load_shared(mtb_dataset *ds, const char *file, bool want_labels)
{
    char path[1024];
    tu_shared_path(path, sizeof path, file);
    mtb_error err = {0};
    double t0 = tu_now_s();
    int rc = mtb_dataset_load(ds, path, want_labels, &err);
    double t = tu_now_s() - t0;
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    return t;
}

static const mtb_example *find_line(const mtb_dataset *ds, long line)
{
    for (size_t i = 0; i < ds->n; i++)
        if (ds->ex[i].line == line)
            return &ds->ex[i];
    return NULL;
}

static void test_shared_sst(void **state)
{
    (void)state;
    if (!shared_available())
        skip();
    mtb_dataset ds;
    mtb_dataset_init(&ds, MTB_TASK_SST);
    load_shared(&ds, "ids-sst-train.csv", true);
    assert_int_equal(ds.n, 8544);
    assert_int_equal(ds.dropped, 0);
    assert_true(ds.labelled);
    assert_string_equal(ds.ex[0].id, "32a4f146782cbde1b7fa65799");
    assert_string_equal(ds.ex[0].text_a,
                        " The Rock is destined to be the 21st Century 's new `` Conan '' and that "
                        "he 's going to make a splash even greater than Arnold Schwarzenegger , "
                        "Jean-Claud Van Damme or Steven Segal .");
    assert_true(ds.ex[0].label == 3.0f);
    assert_int_equal(ds.ex[0].line, 2);
    assert_int_equal(ds.ex[8543].line, 8545);
    size_t counts[5] = {0};
    for (size_t i = 0; i < ds.n; i++) {
        assert_int_equal(strlen(ds.ex[i].id), 25);
        assert_true(ds.ex[i].text_a[0] == ' ');
        counts[(int)ds.ex[i].label]++;
    }
    assert_int_equal(counts[0], 1092);
    assert_int_equal(counts[1], 2218);
    assert_int_equal(counts[2], 1624);
    assert_int_equal(counts[3], 2322);
    assert_int_equal(counts[4], 1288);

    /* A seeded validation split of the real file. */
    mtb_dataset val;
    mtb_dataset_init(&val, MTB_TASK_SST);
    mtb_error err = {0};
    assert_int_equal(mtb_dataset_split(&ds, &val, 0.1, 2023, &err), 0);
    assert_int_equal(val.n, 854);
    assert_int_equal(ds.n, 8544 - 854);
    mtb_dataset_free(&val);
    mtb_dataset_free(&ds);

    mtb_dataset_init(&ds, MTB_TASK_SST);
    load_shared(&ds, "ids-sst-test-student.csv", false);
    assert_int_equal(ds.n, 2210);
    assert_false(ds.labelled);
    assert_string_equal(ds.ex[0].id, "b7573736a6ddf7be102b7fee0");
    assert_string_equal(ds.ex[0].text_a, " Effective but too-tepid biopic");
    assert_true(isnan(ds.ex[0].label));
    mtb_dataset_free(&ds);

    /* CFIMDB has the SST layout with 0/1 labels. */
    mtb_dataset_init(&ds, MTB_TASK_SST);
    load_shared(&ds, "ids-cfimdb-train.csv", true);
    assert_int_equal(ds.n, 1707);
    size_t pos = 0;
    for (size_t i = 0; i < ds.n; i++) {
        assert_true(ds.ex[i].label == 0.0f || ds.ex[i].label == 1.0f);
        pos += ds.ex[i].label == 1.0f;
    }
    assert_int_equal(pos, 851);
    assert_int_equal(strncmp(ds.ex[0].text_a, " I was never quite sure where this thing", 40), 0);
    mtb_dataset_free(&ds);

    mtb_dataset_init(&ds, MTB_TASK_SST);
    load_shared(&ds, "ids-cfimdb-test-student.csv", false);
    assert_int_equal(ds.n, 488);
    assert_false(ds.labelled);
    assert_string_equal(ds.ex[0].id, "c916d7750936543cf3a109be1");
    mtb_dataset_free(&ds);
}

static void test_shared_quora(void **state)
{
    (void)state;
    if (!shared_available())
        skip();
    mtb_dataset ds;
    mtb_dataset_init(&ds, MTB_TASK_PARA);
    double t1 = load_shared(&ds, "quora-train-partial.csv", true);
    assert_int_equal(ds.n, 22644);
    assert_int_equal(ds.dropped, 2);
    assert_true(ds.labelled);
    assert_string_equal(ds.ex[0].id, "a4da64a4e943bf8b008d174ca");
    assert_string_equal(ds.ex[0].text_a, "How can I master myself in geometry?");
    assert_string_equal(ds.ex[0].text_b, "How can I master geometry for the CAT-14?");
    assert_true(ds.ex[0].label == 0.0f);
    /* Quoted twice upstream: one level undone, as the reference reads it. */
    const mtb_example *q = find_line(&ds, 31);
    assert_non_null(q);
    assert_string_equal(q->id, "e67ff5db68e33c950db0b5b2e");
    assert_string_equal(q->text_a, "How do military reserves work and when are they used?");
    assert_string_equal(q->text_b, "\"What is \"\"staff work\"\" in the American military?\"");
    /* The two broken rows (sentence2 and label empty) are gone. */
    assert_null(find_line(&ds, 11662));
    assert_null(find_line(&ds, 12412));
    assert_non_null(find_line(&ds, 11661));
    assert_non_null(find_line(&ds, 11663));
    size_t pos = 0;
    for (size_t i = 0; i < ds.n; i++)
        pos += ds.ex[i].label == 1.0f;
    assert_int_equal(pos, 8474);

    /* The extra pairs append to the same set: no id column. */
    double t2 = load_shared(&ds, "quora-train-extra-pairs-noid.csv", true);
    assert_int_equal(ds.n, 22644 + 39405);
    assert_int_equal(ds.dropped, 2);
    assert_true(ds.labelled);
    const mtb_example *e = &ds.ex[22644];
    assert_null(e->id);
    assert_string_equal(e->text_a,
                        "What is the best answer for tell me about your self in an interview?");
    assert_string_equal(e->text_b,
                        "What is the best answer for tell me about yourself in an interview?");
    assert_true(e->label == 1.0f);
    e = &ds.ex[ds.n - 1];
    assert_string_equal(e->text_a, "How much did Uncharted 4 cost to make?");
    assert_true(e->label == 0.0f);
    assert_int_equal(e->line, 39406);
    pos = 0;
    for (size_t i = 22644; i < ds.n; i++)
        pos += ds.ex[i].label == 1.0f;
    assert_int_equal(pos, 13993);
    fprintf(stderr, "# quora-train-partial.csv %.1f ms, quora-train-extra-pairs-noid.csv %.1f ms\n",
            t1 * 1e3, t2 * 1e3);
    assert_true(t1 < 5.0 && t2 < 5.0); /* generous: sanitizer builds are slow */
    mtb_dataset_free(&ds);

    mtb_dataset_init(&ds, MTB_TASK_PARA);
    load_shared(&ds, "quora-test-student-partial.csv", false);
    assert_int_equal(ds.n, 998);
    assert_int_equal(ds.dropped, 0);
    assert_false(ds.labelled);
    assert_string_equal(ds.ex[0].id, "3ff2d1c47bb52da256972cd2a");
    assert_string_equal(ds.ex[0].text_a, "What should everyone know about dating?");
    assert_true(isnan(ds.ex[0].label));
    mtb_dataset_free(&ds);
}

static void test_shared_sts(void **state)
{
    (void)state;
    if (!shared_available())
        skip();
    mtb_dataset ds;
    mtb_dataset_init(&ds, MTB_TASK_STS);
    load_shared(&ds, "sts-train.csv", true);
    assert_int_equal(ds.n, 6040);
    assert_true(ds.labelled);
    assert_string_equal(ds.ex[0].id, "6d0ec4e8a34ac432e1c1699a0");
    assert_string_equal(ds.ex[0].text_a, "13 killed in Afgan terror attack");
    assert_string_equal(ds.ex[0].text_b, "6 killed in Afghan capital mosque attack");
    assert_true(ds.ex[0].label == 2.0f);
    assert_true(ds.ex[1].label == 0.8f);
    const mtb_example *q = find_line(&ds, 10);
    assert_non_null(q);
    assert_string_equal(q->text_a, "In standard English, I think \"don't got\" has the same "
                                   "register as \"ain't\".");
    assert_true(q->label == 2.2f);
    for (size_t i = 0; i < ds.n; i++)
        assert_true(ds.ex[i].label >= 0.0f && ds.ex[i].label <= 5.0f);
    mtb_dataset_free(&ds);

    mtb_dataset_init(&ds, MTB_TASK_STS);
    load_shared(&ds, "sts-test-student.csv", false);
    assert_int_equal(ds.n, 1725);
    assert_false(ds.labelled);
    assert_string_equal(ds.ex[0].id, "cce9b526b3590d2ca2178584f");
    assert_string_equal(ds.ex[0].text_b, "A band is playing and singing on a stage.");
    mtb_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_names),
        cmocka_unit_test(test_sst_train),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_sst_test_header),
        cmocka_unit_test(test_no_id_column),
        cmocka_unit_test(test_para_dropped),
        cmocka_unit_test(test_unlabelled),
        cmocka_unit_test(test_sts_labels),
        cmocka_unit_test(test_file_shapes),
        cmocka_unit_test(test_append_and_rollback),
        cmocka_unit_test(test_missing_columns),
        cmocka_unit_test(test_field_count),
        cmocka_unit_test(test_bad_labels),
        cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_bad_quoting),
        cmocka_unit_test(test_empty_and_missing),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_edges),
        cmocka_unit_test(test_shared_sst),
        cmocka_unit_test(test_shared_quora),
        cmocka_unit_test(test_shared_sts),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
