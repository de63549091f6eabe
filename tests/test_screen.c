/* The workbench's whole screen, character for character, at 80x24, 120x40
 * and 200x60 (and with the step cursor, at 80x24 in ASCII glyphs as under
 * NO_COLOR).
 *
 * A scripted run (300 of 1000 PCGrad steps on three tasks, evaluations at
 * 100, 200 and 300, two answers at the prompt) is fed to the workbench's
 * state as trainer events, one frame is drawn into a curses screen that
 * writes to /dev/null, and every row is read back and compared with
 * tests/screens/NAME.txt.  The script uses only + - * / on small integers,
 * so every number drawn is the same on every CPU and libm.
 *
 * The expected screens were checked by eye when written; after a change
 * to the layout, `tests/test_screen --write DIR` writes the new ones for
 * review (diff them against tests/screens before copying them over). */
#include <curses.h>
#include <limits.h>
#include <locale.h>
#include <wchar.h>

#include "app.h"
#include "cursor.h"
#include "output.h"
#include "screen.h"
#include "test_util.h"

static const char *write_dir; /* --write DIR: write the screens instead of comparing */

/* A repeatable wobble in [-1, 1], from an integer hash (no libm). */
static double wobble(long i, long salt)
{
    unsigned long h = (unsigned long)(i * 2654435761L + salt * 40503L);
    h ^= h >> 13;
    h *= 0x5bd1e995UL;
    h ^= h >> 15;
    return (double)(h % 2001UL) / 1000.0 - 1.0;
}

static void push(tui_app *app, mtb_event *ev)
{
    tui_data_apply(&app->data, ev);
}

/* What the trainer stamps on every event: the step, the epoch (50 steps
 * each) and the time (32 steps a second). */
static mtb_event stamped(mtb_event_type type, long step)
{
    mtb_event ev = {.type = type, .step = step, .total_steps = 1000,
                    .epoch = (double)step / 50.0, .elapsed = (double)step / 32.0};
    return ev;
}

static void log_line(tui_app *app, long step, const char *text)
{
    mtb_event ev = stamped(MTB_EV_LOG, step);
    snprintf(ev.u.log.text, sizeof ev.u.log.text, "%s", text);
    push(app, &ev);
}

static void script_run(tui_app *app)
{
    const int n_groups = 6; /* embeddings, layers 0-3, pooler */
    log_line(app, 0, "training 1000 steps, batch 8, pcgrad, cls pooling");
    for (long step = 1; step <= 300; step++) {
        mtb_event ev = stamped(MTB_EV_STEP, step);
        for (int t = 0; t < MTB_N_TASKS; t++)
            ev.u.step.active[t] = true;
        ev.u.step.loss[MTB_TASK_SST] = (float)(1.0 + 0.6 * 100.0 / (100.0 + step) +
                                               0.08 * wobble(step, 1));
        ev.u.step.loss[MTB_TASK_PARA] = (float)(0.45 + 0.25 * 50.0 / (50.0 + step) +
                                                0.05 * wobble(step, 2));
        ev.u.step.loss[MTB_TASK_STS] = (float)(0.8 + 6.0 * 40.0 / (40.0 + step) +
                                               0.3 * wobble(step, 3));
        ev.u.step.lr = (float)(2e-5 * (1000 - step) / 1000.0);
        ev.u.step.steps_per_sec = 32.0;
        push(app, &ev);

        mtb_event c = stamped(MTB_EV_CONFLICT, step);
        mtb_conflict_stats *cs = &c.u.conflict;
        cs->n_tasks = 3;
        cs->n_pairs = 3;
        cs->n_groups = n_groups;
        for (int t = 0; t < 3; t++) {
            cs->task[t] = t;
            cs->norm[t] = 1.5 + t + 0.1 * wobble(step, 10 + t);
            cs->weight[t] = 1.0 + 0.2 * wobble(step, 20 + t);
            cs->served[t] = 0.5 + 0.3 * wobble(step, 30 + t);
        }
        static const int pairs[3][2] = {{0, 1}, {0, 2}, {1, 2}};
        static const double pair_mean[3] = {-0.12, 0.05, 0.3};
        for (int p = 0; p < 3; p++) {
            cs->pair[p][0] = pairs[p][0];
            cs->pair[p][1] = pairs[p][1];
            cs->cos[p] = pair_mean[p] + 0.1 * wobble(step, 40 + p);
            for (int g = 0; g < n_groups; g++)
                cs->group_cos[p][g] = pair_mean[p] - 0.3 + 0.12 * g + 0.2 * wobble(step, 50 + g);
        }
        cs->group_zero[n_groups - 1] = true; /* cls pooling: no pooler gradient */
        if (cs->cos[0] < 0) {
            cs->projected[0][1] = true;
            cs->projected[1][0] = step % 3 == 0;
        }
        cs->merged_norm = 3.0;
        push(app, &c);

        if (step % 100 == 0) {
            mtb_event e = stamped(MTB_EV_EVAL, step);
            const double k = (double)step / 100.0;
            for (int t = 0; t < 3; t++) {
                e.u.eval.has[t] = true;
                e.u.eval.n[t] = 200;
            }
            e.u.eval.loss[MTB_TASK_SST] = 1.5 - 0.1 * k;
            e.u.eval.loss[MTB_TASK_PARA] = 0.62 - 0.04 * k;
            e.u.eval.loss[MTB_TASK_STS] = 2.4 - 0.4 * k;
            e.u.eval.sst_acc = 0.25 + 0.05 * k;
            e.u.eval.para_acc = 0.62 + 0.03 * k;
            e.u.eval.sts_corr = 0.1 + 0.12 * k;
            push(app, &e);
        }
    }
    log_line(app, 300, "saved checkpoint to runs/demo (step 300)");
}

static void setup_app(tui_app *app, tui_glyphs glyphs)
{
    memset(app, 0, sizeof *app);
    app->zoomed = -1;
    app->glyphs = glyphs;
    app->smoothing = 0.3;
    app->has_validation = true;
    tui_theme_default(&app->theme);
    assert_int_equal(tui_data_init(&app->data, "pcgrad"), 0);
    script_run(app);
    tui_output(app, "> a warm and funny triumph");
    tui_output(app, "sentiment: positive (3)  v.neg 0.04  neg 0.11  neut 0.19  pos 0.41  "
                    "v.pos 0.25");
}

static void free_app(tui_app *app)
{
    tui_data_free(&app->data);
    tui_canvas_free(&app->canvas);
}

/* Row y of the curses screen as UTF-8, trailing blanks dropped. */
static void screen_row(int y, char *out, size_t cap)
{
    size_t n = 0;
    mbstate_t mb;
    memset(&mb, 0, sizeof mb);
    for (int x = 0; x < COLS; x++) {
        cchar_t cell;
        wchar_t wch[CCHARW_MAX + 1];
        attr_t attrs;
        short pair;
        char bytes[MB_LEN_MAX];
        if (mvin_wch(y, x, &cell) == ERR || getcchar(&cell, wch, &attrs, &pair, NULL) == ERR)
            wch[0] = L'?';
        const size_t len = wcrtomb(bytes, wch[0] ? wch[0] : L' ', &mb);
        for (size_t i = 0; i < len && len != (size_t)-1 && n + 1 < cap; i++)
            out[n++] = bytes[i];
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    out[n] = '\0';
}

/* Draws app at cols x rows and compares (or writes) screens/NAME.txt. */
static void check_screen(tui_app *app, const char *name, int cols, int rows)
{
    resize_term(rows, cols);
    tui_draw_screen(app);
    char path[1024];
    if (write_dir)
        snprintf(path, sizeof path, "%s/%s.txt", write_dir, name);
    else
        snprintf(path, sizeof path, "%s/screens/%s.txt", tu_srcdir(), name);
    FILE *f = fopen(path, write_dir ? "w" : "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        fail();
    }
    int bad = 0;
    char got[4096], want[4096];
    for (int y = 0; y < rows; y++) {
        screen_row(y, got, sizeof got);
        if (write_dir) {
            fprintf(f, "%s\n", got);
            continue;
        }
        if (!fgets(want, sizeof want, f))
            want[0] = '\0';
        want[strcspn(want, "\n")] = '\0';
        if (strcmp(got, want) != 0 && bad++ < 6)
            fprintf(stderr, "%s row %d:\n  got  [%s]\n  want [%s]\n", name, y, got, want);
    }
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: %d of %d rows differ\n", name, bad, rows);
        fail();
    }
}

static tui_app app;

static void test_80x24(void **state)
{
    (void)state;
    setup_app(&app, TUI_GLYPHS_BRAILLE);
    check_screen(&app, "80x24", 80, 24);
    free_app(&app);
}

static void test_120x40(void **state)
{
    (void)state;
    setup_app(&app, TUI_GLYPHS_BRAILLE);
    check_screen(&app, "120x40", 120, 40);
    free_app(&app);
}

static void test_200x60(void **state)
{
    (void)state;
    setup_app(&app, TUI_GLYPHS_BRAILLE);
    check_screen(&app, "200x60", 200, 60);
    free_app(&app);
}

/* The cursor at step 150, in ASCII marks (what NO_COLOR gets), and the
 * conflict pane on its weights view. */
static void test_80x24_cursor_ascii(void **state)
{
    (void)state;
    setup_app(&app, TUI_GLYPHS_ASCII);
    assert_true(tui_cursor_set(&app, 150));
    check_screen(&app, "80x24-cursor-ascii", 80, 24);
    app.conflict_view = TUI_CONFLICT_WEIGHTS;
    app.cursor_on = false;
    check_screen(&app, "80x24-weights-ascii", 80, 24);
    free_app(&app);
    /* at 120x40 the Layers pane's bars read the groups at the cursor too */
    setup_app(&app, TUI_GLYPHS_BRAILLE);
    assert_true(tui_cursor_set(&app, 150));
    check_screen(&app, "120x40-cursor", 120, 40);
    free_app(&app);
}

/* The help overlay and the too-small screen. */
static void test_help_and_too_small(void **state)
{
    (void)state;
    setup_app(&app, TUI_GLYPHS_BRAILLE);
    app.help_open = true;
    check_screen(&app, "80x24-help", 80, 24);
    app.help_open = false;
    check_screen(&app, "40x10", 40, 10);
    free_app(&app);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write") == 0)
        write_dir = argv[2];
    if (!setlocale(LC_CTYPE, "C.UTF-8")) {
        fprintf(stderr, "test_screen: the C.UTF-8 locale is missing\n");
        return 1;
    }
    /* a virtual terminal: output to /dev/null, size from the environment */
    setenv("LINES", "24", 1);
    setenv("COLUMNS", "80", 1);
    FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
    if (!out || !in || !newterm("xterm-256color", out, in)) {
        fprintf(stderr, "test_screen: cannot open a curses screen (terminfo xterm-256color)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_80x24),
        cmocka_unit_test(test_120x40),
        cmocka_unit_test(test_200x60),
        cmocka_unit_test(test_80x24_cursor_ascii),
        cmocka_unit_test(test_help_and_too_small),
    };
    const int failed = cmocka_run_group_tests(tests, NULL, NULL);
    endwin();
    return failed;
}
