/* Saves killed at random moments (SIGKILL, nothing gets to clean up): the
 * checkpoint folder must always load, as the old or the new model, and what
 * the killed saves leave behind must be cleaned up by the next start.
 * Also a save refused for NaN weights and a full disk leave the folder as
 * it was. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_util.h"

#include "mtbert/bert.h"
#include "mtbert/model_dir.h"

typedef struct two_models {
    mtb_bert a, b; /* the same shapes, every weight different */
    mtb_vocab *vocab;
    char parent[64], dir[128];
} two_models;

static int setup(void **state)
{
    two_models *m = calloc(1, sizeof *m);
    mtb_error err = {0};
    mtb_vocab *v2;
    if (mtb_model_dir_load(tu_fixture("tiny-bert"), &m->a, &m->vocab, &err) ||
        mtb_model_dir_load(tu_fixture("tiny-bert"), &m->b, &v2, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    mtb_vocab_free(v2);
    for (size_t i = 0; i < m->b.n_params; i++)
        m->b.params[i] = m->a.params[i] + 1.0f;
    snprintf(m->parent, sizeof m->parent, "/tmp/mtbert-faults-XXXXXX");
    if (!mkdtemp(m->parent))
        return -1;
    snprintf(m->dir, sizeof m->dir, "%s/ckpt", m->parent);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    two_models *m = *state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", m->parent);
    if (system(cmd) != 0)
        return -1;
    mtb_bert_free(&m->a);
    mtb_bert_free(&m->b);
    mtb_vocab_free(m->vocab);
    free(m);
    return 0;
}

/* 'a', 'b', or 0 when DIR does not load or holds something else. */
static char which_model(const two_models *m)
{
    mtb_bert got;
    mtb_vocab *v;
    mtb_error err = {0};
    if (mtb_model_dir_load(m->dir, &got, &v, &err))
        return 0;
    char which = 0;
    if (memcmp(got.params, m->a.params, got.n_params * sizeof(float)) == 0)
        which = 'a';
    else if (memcmp(got.params, m->b.params, got.n_params * sizeof(float)) == 0)
        which = 'b';
    mtb_bert_free(&got);
    mtb_vocab_free(v);
    return which;
}

static int leftovers(const two_models *m)
{
    DIR *d = opendir(m->parent);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "ckpt.", 5) == 0;
    if (d)
        closedir(d);
    return n;
}

/* Forks a child that saves b and a in turn until killed after delay_us. */
static void kill_saves_after(const two_models *m, long delay_us, bool no_exchange)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (no_exchange)
            setenv("MTBERT_NO_RENAME_EXCHANGE", "1", 1);
        for (int i = 0;; i++)
            if (mtb_model_dir_save(m->dir, i % 2 ? &m->a : &m->b, m->vocab, NULL, NULL, NULL))
                _exit(3);
    }
    struct timespec ts = {delay_us / 1000000, (delay_us % 1000000) * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status)); /* killed mid-work, not failed */
}

static void run_kills(two_models *m, bool no_exchange)
{
    mtb_error err = {0};
    assert_int_equal(mtb_model_dir_save(m->dir, &m->a, m->vocab, NULL, NULL, &err), 0);
    /* a user's own file in the run folder survives everything below */
    char note_path[256];
    snprintf(note_path, sizeof note_path, "%s/notes.txt", m->dir);
    FILE *f = fopen(note_path, "w");
    assert_non_null(f);
    fputs("mine\n", f);
    fclose(f);
    srand(7);
    int seen_a = 0, seen_b = 0, recovered = 0;
    for (int k = 0; k < 60; k++) {
        kill_saves_after(m, 200 + rand() % 20000, no_exchange);
        char note[4096];
        if (no_exchange) {
            /* The fallback has a window without DIR; the next start mends it. */
            recovered += mtb_model_dir_recover(m->dir, note, sizeof note) > 0;
        }
        char which = which_model(m);
        if (!which)
            fail_msg("after kill %d the folder does not load as either model", k);
        seen_a += which == 'a';
        seen_b += which == 'b';
        if (!no_exchange)
            recovered += mtb_model_dir_recover(m->dir, note, sizeof note) > 0;
        assert_int_equal(leftovers(m), 0);
        assert_int_equal(access(note_path, R_OK), 0);
    }
    printf("# %s: 60 kills, the folder loaded as the old model %d times, the new one %d; "
           "%d starts cleaned up after a killed save\n",
           no_exchange ? "two renames" : "atomic exchange", seen_a, seen_b, recovered);
}

static void test_kill_during_saves(void **state) { run_kills(*state, false); }
static void test_kill_during_saves_without_exchange(void **state) { run_kills(*state, true); }

/* A save that cannot finish (here: a file-size limit, as a full disk would
 * do) fails with the file named and leaves the folder as it was. */
static void test_file_size_limit(void **state)
{
    two_models *m = *state;
    mtb_error err = {0};
    assert_int_equal(mtb_model_dir_save(m->dir, &m->a, m->vocab, NULL, NULL, &err), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {16384, 16384};
        setrlimit(RLIMIT_FSIZE, &lim);
        mtb_error e = {0};
        int rc = mtb_model_dir_save(m->dir, &m->b, m->vocab, NULL, NULL, &e);
        _exit(rc == MTB_EFAIL && strstr(e.msg, "File too large") ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(which_model(m), 'a');
    assert_int_equal(leftovers(m), 0);
}

static void test_nan_weights_not_saved(void **state)
{
    two_models *m = *state;
    mtb_error err = {0};
    assert_int_equal(mtb_model_dir_save(m->dir, &m->a, m->vocab, NULL, NULL, &err), 0);
    float keep = m->b.params[17];
    m->b.params[17] = NAN;
    assert_int_equal(mtb_model_dir_save(m->dir, &m->b, m->vocab, NULL, NULL, &err), MTB_EFAIL);
    m->b.params[17] = keep;
    assert_non_null(strstr(err.msg, "holds NaN or infinite values"));
    assert_int_equal(which_model(m), 'a');
    assert_int_equal(leftovers(m), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_during_saves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_during_saves_without_exchange, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nan_weights_not_saved, setup, teardown),
    };
    return cmocka_run_group_tests_name("save_faults", tests, NULL, NULL);
}
