/* The history policy every metrics reader shares (metrics_read.c): cut and
 * damaged lines, "resumed" markers superseding what a killed run wrote past
 * its checkpoint, another run's records and steps going backwards refused;
 * and metrics_prepare_append, which cuts an unfinished last line before a
 * resumed run appends.  Warnings are read back from stderr. */
#include "test_util.h"

#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include "metrics.h"

#define MAX_EVENTS 32

typedef struct collected {
    mtb_event ev[MAX_EVENTS];
    int n;
} collected;

static void collect(const mtb_event *ev, void *ctx)
{
    collected *c = ctx;
    if (c->n < MAX_EVENTS)
        c->ev[c->n++] = *ev;
}

/* path's text into buf (cap bytes), by tu_read_file. */
static void read_text(const char *path, char *buf, size_t cap)
{
    size_t len;
    char *text = tu_read_file(path, &len);
    assert_non_null(text);
    snprintf(buf, cap, "%s", text);
    free(text);
}

/* stderr goes to a file between capture_begin and capture_end, which
 * returns what was written (static buffer). */
static int saved_stderr = -1;
static char capture_path[512];

static void capture_begin(void)
{
    tu_temp_path(capture_path, sizeof capture_path, "stderr.txt");
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0 && saved_stderr >= 0);
    dup2(fd, 2);
    close(fd);
}

static const char *capture_end(void)
{
    static char text[4096];
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    read_text(capture_path, text, sizeof text);
    return text;
}

static void expect_contains(const char *got, const char *want)
{
    if (!strstr(got, want))
        fail_msg("got '%s', want it to contain '%s'", got, want);
}

#define HEADER "{\"mtbert_metrics\":1,\"run_id\":\"run-a\",\"config\":null,\"groups\":[]}\n"
#define STEP(s, task, loss) "{\"step\":" #s ",\"task\":\"" task "\",\"loss\":" #loss \
                            ",\"epoch\":0.1,\"lr\":0.001,\"time\":1.0}\n"
#define RESUMED(s) "{\"resumed\":{\"run_id\":\"run-a\",\"step\":" #s "}}\n"

/* Writes text to the group's file and replays it (max_step -1). */
static int replay_text(const char *text, collected *got, mtb_error *err, const char **warnings)
{
    char path[512];
    tu_temp_path(path, sizeof path, "metrics.jsonl");
    tu_write_text(path, text);
    memset(got, 0, sizeof *got);
    capture_begin();
    int rc = metrics_replay(path, -1, collect, got, err);
    *warnings = capture_end();
    return rc;
}

static void test_damaged_line_is_skipped_with_a_warning(void **state)
{
    (void)state;
    collected got;
    mtb_error err = {0};
    const char *warn;
    assert_int_equal(replay_text(HEADER STEP(1, "sst", 1.5) "{\"step\":2,\"ta\n" STEP(3, "sst", 0.5),
                                 &got, &err, &warn), MTB_OK);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.ev[0].step, 1);
    assert_int_equal(got.ev[1].step, 3);
    expect_contains(warn, "metrics.jsonl:3: not a metrics record (");
    expect_contains(warn, "); skipped\n");
    /* a line whose JSON has no step, the same */
    assert_int_equal(replay_text(HEADER "{\"loss\":1}\n" STEP(1, "sst", 1.5), &got, &err, &warn),
                     MTB_OK);
    assert_int_equal(got.n, 1);
    expect_contains(warn, "metrics.jsonl:2: not a metrics record (no \"step\"); skipped");
}

static void test_cut_last_line_is_left_out_quietly(void **state)
{
    (void)state;
    collected got;
    mtb_error err = {0};
    const char *warn;
    assert_int_equal(replay_text(HEADER STEP(1, "sst", 1.5) "{\"step\":2,\"task\":\"sst\",\"lo",
                                 &got, &err, &warn), MTB_OK);
    assert_int_equal(got.n, 1);
    assert_string_equal(warn, "");
    /* complete JSON without its newline may have lost fields: left out too */
    assert_int_equal(replay_text(HEADER STEP(1, "sst", 1.5) "{\"step\":2,\"task\":\"sst\"}",
                                 &got, &err, &warn), MTB_OK);
    assert_int_equal(got.n, 1);
}

/* A run killed at step 5 after its checkpoint at step 3, resumed from 3:
 * steps 4 and 5 are written twice, and the second writing wins. */
static void test_resumed_marker_supersedes_later_steps(void **state)
{
    (void)state;
    collected got;
    mtb_error err = {0};
    const char *warn;
    const char *text = HEADER STEP(1, "sst", 1.0) STEP(2, "sst", 2.0) STEP(3, "sst", 3.0)
        "{\"step\":3,\"eval\":{\"sst_acc\":0.25,\"loss\":{}}}\n"
        STEP(4, "sst", 4.0) STEP(5, "sst", 5.0) "{\"step\":5,\"eval\":{\"sst_acc\":0.5,\"loss\":{}}}\n"
        RESUMED(3) STEP(4, "sst", 40.0) STEP(5, "sst", 50.0) STEP(6, "sst", 60.0);
    assert_int_equal(replay_text(text, &got, &err, &warn), MTB_OK);
    assert_string_equal(warn, "");
    const long want_step[] = {1, 2, 3, 3, 4, 5, 6};
    const float want_loss[] = {1, 2, 3, NAN, 40, 50, 60};
    assert_int_equal(got.n, 7);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(got.ev[i].step, want_step[i]);
        if (i == 3) {
            assert_int_equal(got.ev[i].type, MTB_EV_EVAL);
            assert_true(got.ev[i].u.eval.sst_acc == 0.25); /* step 5's evaluation is gone */
        } else {
            assert_int_equal(got.ev[i].type, MTB_EV_STEP);
            assert_true(got.ev[i].u.step.loss[0] == want_loss[i]);
        }
    }
    /* a second kill and resume, from an earlier checkpoint still */
    const char *twice = HEADER STEP(1, "sst", 1.0) STEP(2, "sst", 2.0) STEP(3, "sst", 3.0)
        RESUMED(2) STEP(3, "sst", 30.0) STEP(4, "sst", 40.0) RESUMED(1) STEP(2, "sst", 200.0);
    assert_int_equal(replay_text(twice, &got, &err, &warn), MTB_OK);
    assert_int_equal(got.n, 2);
    assert_true(got.ev[0].u.step.loss[0] == 1.0f && got.ev[1].u.step.loss[0] == 200.0f);
    /* what --resume redraws up to the checkpoint's step */
    char path[512];
    tu_temp_path(path, sizeof path, "metrics.jsonl");
    tu_write_text(path, text);
    memset(&got, 0, sizeof got);
    assert_int_equal(metrics_replay(path, 4, collect, &got, &err), MTB_OK);
    assert_int_equal(got.n, 5);
    assert_true(got.ev[4].u.step.loss[0] == 40.0f);
}

static void test_another_run_is_refused(void **state)
{
    (void)state;
    collected got;
    mtb_error err = {0};
    const char *warn;
    const char *text = HEADER STEP(1, "sst", 1.0)
        "{\"resumed\":{\"run_id\":\"run-b\",\"step\":1}}\n" STEP(2, "sst", 2.0);
    assert_int_equal(replay_text(text, &got, &err, &warn), MTB_EINPUT);
    expect_contains(err.msg, "metrics.jsonl:3: the records of another run (run run-b; the "
                             "file's first run is run-a)");
    const char *two_headers = HEADER STEP(1, "sst", 1.0)
        "{\"mtbert_metrics\":1,\"run_id\":\"run-c\",\"config\":null}\n" STEP(1, "sst", 2.0);
    assert_int_equal(replay_text(two_headers, &got, &err, &warn), MTB_EINPUT);
    expect_contains(err.msg, "metrics.jsonl:3: the records of another run (run run-c;");
}

static void test_steps_going_backwards_are_refused(void **state)
{
    (void)state;
    collected got;
    mtb_error err = {0};
    const char *warn;
    /* two histories spliced without a marker */
    assert_int_equal(replay_text(HEADER STEP(1, "sst", 1.0) STEP(2, "sst", 2.0) STEP(1, "sst", 9.0),
                                 &got, &err, &warn), MTB_EINPUT);
    expect_contains(err.msg, "metrics.jsonl:4: step 1 comes after step 2 without a \"resumed\" "
                             "record: two histories in one file?");
    /* the same step and task twice */
    assert_int_equal(replay_text(HEADER STEP(1, "sst", 1.0) STEP(1, "sst", 2.0), &got, &err, &warn),
                     MTB_EINPUT);
    expect_contains(err.msg, "metrics.jsonl:3: step 1 comes after step 1");
    /* but tasks of one step, and two evaluations of one step (:eval, then
     * the periodic one), are one history */
    assert_int_equal(replay_text(HEADER STEP(1, "sst", 1.0) STEP(1, "para", 2.0)
                                 "{\"step\":1,\"eval\":{\"sst_acc\":0.1,\"loss\":{}}}\n"
                                 "{\"step\":1,\"eval\":{\"sst_acc\":0.2,\"loss\":{}}}\n",
                                 &got, &err, &warn), MTB_OK);
    assert_int_equal(got.n, 3);
    assert_true(got.ev[0].u.step.active[0] && got.ev[0].u.step.active[1]);
}

static void test_prepare_append_cuts_an_unfinished_line(void **state)
{
    (void)state;
    char path[512], log_path[512];
    tu_temp_path(path, sizeof path, "metrics.jsonl");
    tu_temp_path(log_path, sizeof log_path, "log.txt");
    const char *good = HEADER STEP(1, "sst", 1.0);
    tu_write_text(path, HEADER STEP(1, "sst", 1.0) "{\"step\":2,\"ta");
    FILE *log = fopen(log_path, "w+");
    mtb_error err = {0};
    assert_int_equal(metrics_prepare_append(path, log, &err), MTB_OK);
    char text[1024];
    fflush(log);
    read_text(log_path, text, sizeof text);
    expect_contains(text, "mtbert: warning: ");
    expect_contains(text, "metrics.jsonl:3: the last record was cut off (the run stopped while "
                          "writing it); removed\n");
    fclose(log);
    read_text(path, text, sizeof text);
    assert_string_equal(text, good);
    /* a whole file is left alone, and says nothing */
    log = fopen(log_path, "w+");
    assert_int_equal(metrics_prepare_append(path, log, &err), MTB_OK);
    assert_int_equal(ftell(log), 0);
    fclose(log);
    /* no file yet is fine */
    tu_temp_path(path, sizeof path, "none.jsonl");
    assert_int_equal(metrics_prepare_append(path, NULL, &err), MTB_OK);
}

/* A resumed run appends its marker with its first record, not before: a
 * start that fails leaves the file as it was (less a cut line). */
static void test_record_marks_a_resume_with_its_first_record(void **state)
{
    (void)state;
    char path[512], text[2048];
    tu_temp_path(path, sizeof path, "metrics.jsonl");
    tu_write_text(path, HEADER STEP(1, "sst", 1.0) "{\"step\":2,");
    metrics_record m;
    mtb_error err = {0};
    assert_int_equal(metrics_record_open(&m, path, "run-a", NULL, NULL, 1, NULL, &err), MTB_OK);
    assert_int_equal(metrics_record_close(&m, &err), MTB_OK);
    read_text(path, text, sizeof text);
    assert_string_equal(text, HEADER STEP(1, "sst", 1.0));
    assert_int_equal(metrics_record_open(&m, path, "run-a", NULL, NULL, 1, NULL, &err), MTB_OK);
    mtb_event log = {.type = MTB_EV_LOG, .step = 1};
    metrics_record_event(&log, &m); /* not a record: no marker yet */
    mtb_event ev = {.type = MTB_EV_STEP, .step = 2};
    ev.u.step.active[0] = true;
    ev.u.step.loss[0] = 0.5f;
    metrics_record_event(&ev, &m);
    metrics_record_event(&ev, &m); /* the marker goes in once */
    assert_int_equal(metrics_record_close(&m, &err), MTB_OK);
    read_text(path, text, sizeof text);
    const char *marker = strstr(text, "{\"resumed\":{\"run_id\":\"run-a\",\"step\":1,");
    assert_non_null(marker);
    assert_ptr_equal(marker, text + strlen(HEADER STEP(1, "sst", 1.0)));
    assert_null(strstr(marker + 2, "\"resumed\""));
    assert_non_null(strstr(marker, "}}\n{\"step\":2,\"task\":\"sst\",\"loss\":0.5,"));
}

static void test_record_reports_write_errors(void **state)
{
    (void)state;
    metrics_record m;
    mtb_error err = {0};
    assert_int_equal(metrics_record_open(&m, "/dev/full", "run-a", NULL, NULL, -1, NULL, &err),
                     MTB_OK);
    mtb_event ev = {.type = MTB_EV_STEP, .step = 1};
    ev.u.step.active[0] = true;
    metrics_record_event(&ev, &m);
    assert_int_equal(metrics_record_close(&m, &err), MTB_EFAIL);
    assert_string_equal(err.msg, "/dev/full: write error: No space left on device");
}

/* A path that cannot be looked at says why, not "no such run". */
static void test_run_path_names_the_reason(void **state)
{
    (void)state;
    char loop[512], out[4200];
    tu_temp_path(loop, sizeof loop, "loop");
    assert_int_equal(symlink(loop, loop), 0);
    mtb_error err = {0};
    assert_int_equal(metrics_path_of_run(loop, out, sizeof out, &err), MTB_EINPUT);
    char want[600];
    snprintf(want, sizeof want, "%s: Too many levels of symbolic links", loop);
    assert_string_equal(err.msg, want);
    unlink(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damaged_line_is_skipped_with_a_warning),
        cmocka_unit_test(test_cut_last_line_is_left_out_quietly),
        cmocka_unit_test(test_resumed_marker_supersedes_later_steps),
        cmocka_unit_test(test_another_run_is_refused),
        cmocka_unit_test(test_steps_going_backwards_are_refused),
        cmocka_unit_test(test_prepare_append_cuts_an_unfinished_line),
        cmocka_unit_test(test_run_path_names_the_reason),
        cmocka_unit_test(test_record_marks_a_resume_with_its_first_record),
        cmocka_unit_test(test_record_reports_write_errors),
    };
    return cmocka_run_group_tests(tests, tu_temp_dir_setup, tu_temp_dir_teardown);
}
