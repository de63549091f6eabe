/* The sentence prompt (src/front/prompt*.c, with the workbench's commands
 * of src/tui/command_table.c) and the scorer (mtb_score): what a
 * typed line means, the exact result text, and scores from the tiny fixture
 * encoder with seeded random heads. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_util.h"

#include "../src/front/front.h"
#include "../src/front/prompt.h"
#include "../src/tui/command_table.h"
#include "mtbert/multitask.h"
#include "reproducibility.h"
#include "mtbert/score.h"

/* ---- prompt_parse ---- */

static prompt_cmd parsed;

static prompt_kind parse(const char *line)
{
    prompt_parse_in(tui_prompt_commands, line, &parsed);
    return parsed.kind;
}

static void expect_error(const char *line, const char *message)
{
    if (parse(line) != PROMPT_ERROR)
        fail_msg("'%s' parsed as kind %d, not an error", line, parsed.kind);
    assert_string_equal(parsed.error, message);
}

static void test_blank_lines(void **state)
{
    (void)state;
    assert_int_equal(parse(""), PROMPT_EMPTY);
    assert_int_equal(parse("   "), PROMPT_EMPTY);
    assert_int_equal(parse(" \t\r\n"), PROMPT_EMPTY);
}

static void test_text(void **state)
{
    (void)state;
    assert_int_equal(parse("  the movie was good \n"), PROMPT_TEXT);
    assert_string_equal(parsed.a, "the movie was good");
    assert_string_equal(parsed.b, "");
    /* A single bar, a colon inside and non-ASCII text are all just text. */
    assert_int_equal(parse("yes | no: caf\xc3\xa9"), PROMPT_TEXT);
    assert_string_equal(parsed.a, "yes | no: caf\xc3\xa9");
}

static void test_text_length_limit(void **state)
{
    (void)state;
    char line[3000];
    memset(line, 'a', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    expect_error(line, "the text is too long (at most 2047 bytes)");
    assert_true(parsed.too_long); /* kept out of the history */
    assert_int_equal(parse(":lr abc"), PROMPT_ERROR);
    assert_false(parsed.too_long); /* a typo stays in it, to be fixed */
    line[2047] = '\0';
    assert_int_equal(parse(line), PROMPT_TEXT);
    assert_int_equal(strlen(parsed.a), 2047);
    /* Surrounding spaces do not count against the limit. */
    char padded[sizeof line + 6];
    snprintf(padded, sizeof padded, "   %s   ", line);
    assert_int_equal(parse(padded), PROMPT_TEXT);
}

static void test_pairs(void **state)
{
    (void)state;
    assert_int_equal(parse("  a man plays a guitar   ||   someone plays  \n"), PROMPT_PAIR);
    assert_string_equal(parsed.a, "a man plays a guitar");
    assert_string_equal(parsed.b, "someone plays");
    assert_int_equal(parse("good||bad"), PROMPT_PAIR);
    assert_string_equal(parsed.a, "good");
    assert_string_equal(parsed.b, "bad");
    assert_int_equal(parse("x |y || z"), PROMPT_PAIR);
    assert_string_equal(parsed.a, "x |y");
    assert_string_equal(parsed.b, "z");
}

static void test_pair_errors(void **state)
{
    (void)state;
    const char *empty = "a pair needs a sentence on each side of ||";
    expect_error("|| second", empty);
    expect_error("first ||", empty);
    expect_error("first ||   \t", empty);
    expect_error("  ||  ", empty);
    expect_error("||", empty);
    expect_error("a || b || c", "a pair has exactly one ||");
    expect_error("a ||||", "a pair has exactly one ||");

    char line[4200];
    memset(line, 'a', 2500);
    strcpy(line + 2500, " || b");
    expect_error(line, "a sentence of the pair is too long (at most 2047 bytes)");
}

static void test_commands_without_argument(void **state)
{
    (void)state;
    assert_int_equal(parse(":pause"), PROMPT_PAUSE);
    assert_int_equal(parse(":resume"), PROMPT_RESUME);
    assert_int_equal(parse(":eval"), PROMPT_EVAL);
    assert_int_equal(parse(":help"), PROMPT_HELP);
    assert_int_equal(parse(":quit"), PROMPT_QUIT);
    assert_int_equal(parse(":q"), PROMPT_QUIT);
    assert_int_equal(parse("  :pause \n"), PROMPT_PAUSE);
    assert_int_equal(parse(":q\r\n"), PROMPT_QUIT);
}

static void test_save(void **state)
{
    (void)state;
    assert_int_equal(parse(":save"), PROMPT_SAVE);
    assert_string_equal(parsed.a, "");
    assert_int_equal(parse(":save   runs/best \n"), PROMPT_SAVE);
    assert_string_equal(parsed.a, "runs/best");
    assert_int_equal(parse(":save my runs/a b"), PROMPT_SAVE);
    assert_string_equal(parsed.a, "my runs/a b");
    char line[2200] = ":save ";
    memset(line + 6, 'd', 2100);
    line[2106] = '\0';
    expect_error(line, ":save: the folder name is too long (at most 2047 bytes)");
}

static void test_mode(void **state)
{
    (void)state;
    assert_int_equal(parse(":mode sum"), PROMPT_MODE);
    assert_string_equal(parsed.a, "sum");
    assert_int_equal(parse(":mode   pcgrad  "), PROMPT_MODE);
    assert_string_equal(parsed.a, "pcgrad");
    assert_int_equal(parse(":mode mgda"), PROMPT_MODE);
    assert_string_equal(parsed.a, "mgda");
    assert_int_equal(parse(":mode famo"), PROMPT_MODE);
    assert_string_equal(parsed.a, "famo");
    const char *bad = ":mode needs a method: sum, pcgrad, mgda, cagrad, gradvac, imtl, nashmtl, "
                      "aligned, upgrad, uw, dwa, famo";
    expect_error(":mode", bad);
    expect_error(":mode single:sst", bad);
    expect_error(":mode SUM", bad);
    expect_error(":mode sum pcgrad", bad);
    expect_error(":mode cagradx", bad);
}

static void test_scale(void **state)
{
    (void)state;
    assert_int_equal(parse(":scale log"), PROMPT_SCALE);
    assert_string_equal(parsed.a, "log");
    assert_int_equal(parse(":scale  relative "), PROMPT_SCALE);
    assert_string_equal(parsed.a, "relative");
    assert_string_equal(parsed.b, "loss");
    assert_int_equal(parse(":scale linear"), PROMPT_SCALE);
    assert_int_equal(parse(":scale weights log"), PROMPT_SCALE);
    assert_string_equal(parsed.a, "log");
    assert_string_equal(parsed.b, "weights");
    assert_int_equal(parse(":scale loss  relative"), PROMPT_SCALE);
    assert_string_equal(parsed.a, "relative");
    assert_string_equal(parsed.b, "loss");
    expect_error(":scale", ":scale needs linear, log or relative");
    expect_error(":scale cubic", ":scale needs linear, log or relative");
    expect_error(":scale weights cubic", ":scale needs linear, log or relative");
    expect_error(":scale weights", ":scale needs linear, log or relative");
    expect_error(":scale conflict log", ":scale's pane is loss or weights (cosines stay on "
                                        "-1..1), e.g. :scale weights log");
}

static void test_cursor(void **state)
{
    (void)state;
    assert_int_equal(parse(":cursor 1200"), PROMPT_CURSOR);
    assert_true(parsed.value == 1200);
    assert_int_equal(parse(":cursor 0"), PROMPT_CURSOR);
    assert_true(parsed.value == 0);
    assert_int_equal(parse(":cursor off"), PROMPT_CURSOR);
    assert_string_equal(parsed.a, "off");
    const char *bad = ":cursor needs a step (a whole number) or off";
    expect_error(":cursor", bad);
    expect_error(":cursor -5", bad);
    expect_error(":cursor 12.5", bad);
    expect_error(":cursor later", bad);
    expect_error(":cursor 99999999999999999999999", bad);
}

static void test_errors_and_confusion(void **state)
{
    (void)state;
    assert_int_equal(parse(":errors sts"), PROMPT_ERRORS);
    assert_string_equal(parsed.a, "sts");
    assert_true(parsed.value == 5);
    assert_int_equal(parse(":errors para 12"), PROMPT_ERRORS);
    assert_string_equal(parsed.a, "para");
    assert_true(parsed.value == 12);
    const char *bad = ":errors needs a task (sst, para or sts) and at most 50, e.g. :errors sts 10";
    expect_error(":errors", bad);
    expect_error(":errors quora", bad);
    expect_error(":errors sst 0", bad);
    expect_error(":errors sst 51", bad);
    expect_error(":errors sst x", bad);
    assert_int_equal(parse(":confusion"), PROMPT_CONFUSION);
    expect_error(":confusion sst", ":confusion takes no argument");
}

static void test_lr(void **state)
{
    (void)state;
    assert_int_equal(parse(":lr 2e-5"), PROMPT_LR);
    assert_true(parsed.value == 2e-5);
    assert_int_equal(parse(":lr   0.001 "), PROMPT_LR);
    assert_true(parsed.value == 0.001);
    assert_int_equal(parse(":lr 1"), PROMPT_LR);
    assert_true(parsed.value == 1.0);
    assert_int_equal(parse(":lr 10"), PROMPT_LR);
    assert_true(parsed.value == 10.0);
    const char *bad = ":lr needs a number in (0, 10]";
    const char *cases[] = {":lr",     ":lr 0",    ":lr -1e-4", ":lr abc",  ":lr 1e-3x", ":lr inf",
                           ":lr nan", ":lr 1e999", ":lr 1 2",  ":lr 0.0", ":lr 1e10",  ":lr 10.5"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_error(cases[i], bad);
}

static void test_command_errors(void **state)
{
    (void)state;
    expect_error(":frob", "unknown command ':frob' (try :help)");
    expect_error(":frob the knob", "unknown command ':frob' (try :help)");
    expect_error(":", "unknown command ':' (try :help)");
    expect_error(": pause", "unknown command ':' (try :help)");
    expect_error(":PAUSE", "unknown command ':PAUSE' (try :help)");
    expect_error(":quitter", "unknown command ':quitter' (try :help)");
    expect_error(":pause now", ":pause takes no argument");
    expect_error(":resume 1", ":resume takes no argument");
    expect_error(":eval dev", ":eval takes no argument");
    expect_error(":help me", ":help takes no argument");
    expect_error(":quit now", ":quit takes no argument");
    expect_error(":q!", "unknown command ':q!' (try :help)");
    /* A long name is cut to its first 40 bytes. */
    char line[100] = ":";
    memset(line + 1, 'x', 60);
    line[61] = '\0';
    char want[120];
    snprintf(want, sizeof want, "unknown command '%.40s...' (try :help)", line);
    expect_error(line, want);
}

static void test_command_names(void **state)
{
    (void)state;
    const char *const *names = tui_prompt_command_names();
    const char *want[] = {":pause", ":resume", ":save",      ":eval", ":mode", ":lr",
                          ":scale", ":cursor", ":errors", ":confusion", ":help", ":quit"};
    size_t n = 0;
    while (names[n])
        n++;
    assert_int_equal(n, sizeof want / sizeof *want);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(names[i], want[i]);
        /* Every completion is a command the parser knows. */
        prompt_parse_in(tui_prompt_commands, names[i], &parsed);
        assert_null(strstr(parsed.error, "unknown command"));
    }
}

static void test_help_text(void **state)
{
    (void)state;
    const char *help = tui_prompt_help();
    for (const char *const *name = tui_prompt_command_names(); *name; name++)
        if (!strstr(help, *name))
            fail_msg("the help does not mention %s", *name);
    assert_non_null(strstr(help, "||"));
    assert_non_null(strstr(help, ":q "));
    assert_int_equal(help[strlen(help) - 1], '\n');
    for (const char *line = help; *line;) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        assert_true(nl - line <= 80);
        line = nl + 1;
    }
}

/* ---- prompt_format_result ---- */

static mtb_score_result made_up(bool pair)
{
    mtb_score_result r = {.pair = pair,
                          .sst = {{0.02f, 0.05f, 0.10f, 0.60f, 0.23f},
                                  {0.70f, 0.20f, 0.05f, 0.03f, 0.02f}},
                          .sst_label = {3, 0},
                          .para_prob = 0.7341f,
                          .sts_score = 3.2089f};
    return r;
}

static void test_format_single(void **state)
{
    (void)state;
    mtb_score_result r = made_up(false);
    char buf[512];
    const char *want =
        "sentiment: positive (3)   v.neg 0.02  neg 0.05  neu 0.10  pos 0.60  v.pos 0.23\n";
    int n = prompt_format_result(&r, "the movie was great", NULL, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_format_pair(void **state)
{
    (void)state;
    mtb_score_result r = made_up(true);
    char buf[512];
    const char *want =
        "paraphrase: 0.734   similarity: 3.21 / 5\n"
        "sentiment A: positive (3)   v.neg 0.02  neg 0.05  neu 0.10  pos 0.60  v.pos 0.23\n"
        "sentiment B: very negative (0)   v.neg 0.70  neg 0.20  neu 0.05  pos 0.03  v.pos 0.02\n";
    int n = prompt_format_result(&r, "a", "b", buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

/* A broken model's NaN or infinite outputs give no label, and say why. */
static void test_format_nonfinite(void **state)
{
    (void)state;
    const char *want = "no scores: the model's outputs are NaN or infinite (its weights "
                       "overflowed)\n";
    char buf[512];
    mtb_score_result r = made_up(false);
    r.sst[0][2] = NAN;
    prompt_format_result(&r, "x", NULL, buf, sizeof buf);
    assert_string_equal(buf, want);
    r = made_up(true);
    r.sts_score = INFINITY;
    prompt_format_result(&r, "x", "y", buf, sizeof buf);
    assert_string_equal(buf, want);
    r = made_up(true);
    r.sst[1][0] = -INFINITY;
    prompt_format_result(&r, "x", "y", buf, sizeof buf);
    assert_string_equal(buf, want);
    r = made_up(true);
    assert_true(mtb_score_finite(&r));
}

static void test_format_widths(void **state)
{
    (void)state;
    /* The widest case: every label "very negative", every number 1.00. */
    mtb_score_result r = {.pair = true, .para_prob = 1.0f, .sts_score = 5.0f};
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < MTB_SST_CLASSES; c++)
            r.sst[i][c] = 1.0f;
    char buf[512];
    prompt_format_result(&r, "a", "b", buf, sizeof buf);
    for (const char *line = buf; *line;) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        assert_true(nl - line <= 85);
        line = nl + 1;
    }
}

static void test_format_truncates(void **state)
{
    (void)state;
    mtb_score_result r = made_up(true);
    char full[512], small[20];
    int n = prompt_format_result(&r, "a", "b", full, sizeof full);
    assert_int_equal(prompt_format_result(&r, "a", "b", small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, full, sizeof small - 1);
    assert_int_equal(prompt_format_result(&r, "a", "b", NULL, 0), n);
}

static void test_label_names(void **state)
{
    (void)state;
    const char *want[] = {"very negative", "negative", "neutral", "positive", "very positive"};
    for (int c = 0; c < 5; c++)
        assert_string_equal(mtb_sst_label_name(c), want[c]);
    assert_string_equal(mtb_sst_label_name(-1), "unknown");
    assert_string_equal(mtb_sst_label_name(5), "unknown");
}

/* ---- mtb_score on the fixture encoder ---- */

static int setup_model(void **state)
{
    mtb_multitask *mt = malloc(sizeof *mt);
    if (!mt)
        return -1;
    mtb_rng rng;
    mtb_rng_seed(&rng, 7);
    bool has_heads = true;
    mtb_error err = {0};
    if (mtb_multitask_load(mt, tu_fixture("tiny-bert"), MTB_POOL_MEAN, 0.3f, &rng, &has_heads,
                           &err)) {
        fprintf(stderr, "%s\n", err.msg);
        free(mt);
        return -1;
    }
    if (has_heads) {
        mtb_multitask_free(mt);
        free(mt);
        return -1;
    }
    *state = mt;
    return 0;
}

static int teardown_model(void **state)
{
    mtb_multitask_free(*state);
    free(*state);
    return 0;
}

static mtb_scorer *new_scorer(mtb_multitask *mt, int max_len)
{
    mtb_scorer *s = NULL;
    mtb_error err = {0};
    if (mtb_scorer_create(&s, mt, max_len, &err))
        fail_msg("mtb_scorer_create: %s", err.msg);
    return s;
}

static mtb_score_result score(mtb_scorer *s, const char *a, const char *b)
{
    mtb_score_result r;
    mtb_error err = {0};
    if (mtb_score(s, a, b, &r, &err))
        fail_msg("mtb_score: %s", err.msg);
    return r;
}

static void check_sentiment(const float *p, int label)
{
    double sum = 0.0;
    int best = 0;
    for (int c = 0; c < MTB_SST_CLASSES; c++) {
        assert_true(p[c] >= 0.0f && p[c] <= 1.0f);
        sum += p[c];
        if (p[c] > p[best])
            best = c;
    }
    assert_true(fabs(sum - 1.0) < 1e-5);
    assert_int_equal(label, best);
}

static void test_score_single(void **state)
{
    mtb_scorer *s = new_scorer(*state, 32);
    mtb_score_result r = score(s, "the movie was good", NULL);
    assert_false(r.pair);
    check_sentiment(r.sst[0], r.sst_label[0]);
    /* Nothing is left over from one call to the next. */
    mtb_score_result other = score(s, "i love it", NULL);
    check_sentiment(other.sst[0], other.sst_label[0]);
    assert_memory_not_equal(r.sst[0], other.sst[0], sizeof r.sst[0]);
    mtb_score_result again = score(s, "the movie was good", NULL);
    assert_memory_equal(&r, &again, sizeof r);
    mtb_scorer_destroy(s);
}

static void test_score_pair(void **state)
{
    mtb_scorer *s = new_scorer(*state, 32);
    const char *a = "the movie was good", *b = "i love it";
    mtb_score_result r = score(s, a, b);
    assert_true(r.pair);
    assert_true(r.para_prob > 0.0f && r.para_prob < 1.0f);
    assert_true(r.sts_score >= 0.0f && r.sts_score <= 5.0f);
    check_sentiment(r.sst[0], r.sst_label[0]);
    check_sentiment(r.sst[1], r.sst_label[1]);
    /* Scored in one pass with the pair, each sentence reads as it does alone,
     * within the engine's tolerance (other product shapes, other rounding). */
    mtb_score_result ra = score(s, a, NULL), rb = score(s, b, NULL);
    const double da = mtb_max_rel_diff(r.sst[0], ra.sst[0], MTB_SST_CLASSES);
    const double db = mtb_max_rel_diff(r.sst[1], rb.sst[0], MTB_SST_CLASSES);
    printf("# a pair's sentiments vs each sentence alone: %.3g, %.3g\n", da, db);
    assert_true(da <= MTB_RESULT_RTOL && db <= MTB_RESULT_RTOL);
    assert_int_equal(r.sst_label[0], ra.sst_label[0]);
    assert_int_equal(r.sst_label[1], rb.sst_label[0]);
    mtb_score_result again = score(s, a, b);
    assert_memory_equal(&r, &again, sizeof r);
    /* A sentence is as similar to itself as the head allows: cos = 1. */
    mtb_score_result same = score(s, a, a);
    assert_true(fabsf(same.sts_score - 5.0f) < 1e-4f);
    mtb_scorer_destroy(s);
}

static void test_score_long_text(void **state)
{
    /* 600 words, far beyond max_position (40): truncated, never an error. */
    char text[600 * 5 + 1] = "";
    for (int i = 0; i < 600; i++)
        strcat(text, i % 2 ? "good " : "bad  ");
    mtb_scorer *s = new_scorer(*state, 128);
    mtb_score_result r = score(s, text, text);
    check_sentiment(r.sst[0], r.sst_label[0]);
    assert_true(r.para_prob > 0.0f && r.para_prob < 1.0f);
    mtb_scorer_destroy(s);
    s = new_scorer(*state, 4);
    r = score(s, text, "");
    check_sentiment(r.sst[1], r.sst_label[1]);
    mtb_scorer_destroy(s);
}

static void test_scorer_bad_length(void **state)
{
    mtb_scorer *s = NULL;
    mtb_error err = {0};
    assert_int_equal(mtb_scorer_create(&s, *state, 1, &err), MTB_EINPUT);
    assert_null(s);
    assert_non_null(strstr(err.msg, "too short"));
    mtb_scorer_destroy(NULL);
}

typedef struct thread_job {
    mtb_multitask *mt;
    mtb_score_result want;
    int mismatches;
} thread_job;

static void *score_many(void *arg)
{
    thread_job *job = arg;
    mtb_scorer *s = NULL;
    if (mtb_scorer_create(&s, job->mt, 32, NULL)) {
        job->mismatches = -1;
        return NULL;
    }
    for (int i = 0; i < 20; i++) {
        mtb_score_result r;
        if (mtb_score(s, "the movie was good", "i love it", &r, NULL) ||
            memcmp(&r, &job->want, sizeof r) != 0)
            job->mismatches++;
    }
    mtb_scorer_destroy(s);
    return NULL;
}

static void test_scorers_on_threads(void **state)
{
    /* Each scorer owns what it writes, so two threads sharing one model
     * get exactly the single-threaded answer. */
    mtb_scorer *s = new_scorer(*state, 32);
    thread_job jobs[2] = {{.mt = *state}, {.mt = *state}};
    jobs[0].want = jobs[1].want = score(s, "the movie was good", "i love it");
    mtb_scorer_destroy(s);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, score_many, &jobs[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].mismatches, 0);
    }
}

/* ---- fe_load_trained_model ---- */

static void test_load_trained_model(void **state)
{
    mtb_multitask loaded;
    mtb_error err = {0};
    assert_int_equal(fe_load_trained_model(tu_fixture("tiny-bert"), &loaded, &err), MTB_EINPUT);
    assert_non_null(strstr(err.msg, "no heads.safetensors"));
    assert_non_null(strstr(err.msg, tu_fixture("tiny-bert")));

    /* Saved with its heads, the model scores the same after loading. */
    char dir[] = "/tmp/mtbert-test-prompt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char model[sizeof dir + 8];
    snprintf(model, sizeof model, "%s/model", dir);
    mtb_multitask *mt = *state;
    if (mtb_multitask_save(mt, model, NULL, NULL, &err))
        fail_msg("save: %s", err.msg);
    memset(&err, 0, sizeof err);
    if (fe_load_trained_model(model, &loaded, &err))
        fail_msg("load: %s", err.msg);
    mtb_scorer *s1 = new_scorer(mt, 32), *s2 = new_scorer(&loaded, 32);
    mtb_score_result r1 = score(s1, "what do you like?", "i love it");
    mtb_score_result r2 = score(s2, "what do you like?", "i love it");
    assert_memory_equal(&r1, &r2, sizeof r1);
    mtb_scorer_destroy(s1);
    mtb_scorer_destroy(s2);
    mtb_multitask_free(&loaded);
    tu_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest parse_tests[] = {
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_text_length_limit),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_pair_errors),
        cmocka_unit_test(test_commands_without_argument),
        cmocka_unit_test(test_save),
        cmocka_unit_test(test_mode),
        cmocka_unit_test(test_lr),
        cmocka_unit_test(test_scale),
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_errors_and_confusion),
        cmocka_unit_test(test_command_errors),
        cmocka_unit_test(test_command_names),
        cmocka_unit_test(test_help_text),
        cmocka_unit_test(test_format_single),
        cmocka_unit_test(test_format_pair),
        cmocka_unit_test(test_format_nonfinite),
        cmocka_unit_test(test_format_widths),
        cmocka_unit_test(test_format_truncates),
        cmocka_unit_test(test_label_names),
        cmocka_unit_test_setup_teardown(test_score_single, setup_model, teardown_model),
        cmocka_unit_test_setup_teardown(test_score_pair, setup_model, teardown_model),
        cmocka_unit_test_setup_teardown(test_score_long_text, setup_model, teardown_model),
        cmocka_unit_test_setup_teardown(test_scorer_bad_length, setup_model, teardown_model),
        cmocka_unit_test_setup_teardown(test_scorers_on_threads, setup_model, teardown_model),
        cmocka_unit_test_setup_teardown(test_load_trained_model, setup_model, teardown_model),
    };
    return cmocka_run_group_tests_name("prompt", parse_tests, NULL, NULL);
}
