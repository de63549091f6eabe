/* Unit tests for the TUI screen layout (src/tui/layout.h).
 *
 * The exact rectangles below are worked out by hand from the rules in
 * layout.h, so a change of rule shows up here as a deliberate edit rather
 * than a silent shift of the screen; the sweep then checks the geometric
 * promises (inside the screen, no overlap, exact tiling, minimum size) for
 * every size a user is likely to have. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "layout.h"

static const tui_rect hidden = {0, 0, 0, 0};

static void check_rect(const tui_layout *l, tui_pane p, bool vis, tui_rect want)
{
    const tui_rect *r = &l->pane[p];
    if (l->visible[p] != vis || r->x != want.x || r->y != want.y || r->w != want.w ||
        r->h != want.h)
        fail_msg("%dx%d %s: got %s {%d,%d,%d,%d}, want %s {%d,%d,%d,%d}", l->cols, l->rows,
                 tui_pane_name(p), l->visible[p] ? "visible" : "hidden", r->x, r->y, r->w, r->h,
                 vis ? "visible" : "hidden", want.x, want.y, want.w, want.h);
}

static tui_rect R(int x, int y, int w, int h)
{
    tui_rect r = {x, y, w, h};
    return r;
}

static void test_60x18_narrow(void **state)
{
    (void)state;
    tui_layout l;
    tui_layout_compute(&l, 60, 18, -1);
    assert_false(l.too_small);
    assert_int_equal(l.cols, 60);
    assert_int_equal(l.rows, 18);
    check_rect(&l, TUI_PANE_LOSS, true, R(0, 0, 60, 4));
    check_rect(&l, TUI_PANE_CONFLICT, true, R(0, 4, 60, 4));
    check_rect(&l, TUI_PANE_METRICS, true, R(0, 8, 60, 4));
    check_rect(&l, TUI_PANE_LAYERS, false, hidden);
    check_rect(&l, TUI_PANE_LOG, false, hidden);
    check_rect(&l, TUI_PANE_PROMPT, true, R(0, 12, 60, 5));
    check_rect(&l, TUI_PANE_FOOTER, true, R(0, 17, 60, 1));
}

static void test_79x25_narrow_odd(void **state)
{
    (void)state;
    tui_layout l;
    /* H = 19: METRICS 6, the remaining 13 split 7 / 6 with LOSS taking the odd row. */
    tui_layout_compute(&l, 79, 25, -1);
    check_rect(&l, TUI_PANE_LOSS, true, R(0, 0, 79, 7));
    check_rect(&l, TUI_PANE_CONFLICT, true, R(0, 7, 79, 6));
    check_rect(&l, TUI_PANE_METRICS, true, R(0, 13, 79, 6));
    check_rect(&l, TUI_PANE_PROMPT, true, R(0, 19, 79, 5));
    check_rect(&l, TUI_PANE_FOOTER, true, R(0, 24, 79, 1));
}

static void test_80x24_medium(void **state)
{
    (void)state;
    tui_layout l;
    tui_layout_compute(&l, 80, 24, -1);
    assert_false(l.too_small);
    check_rect(&l, TUI_PANE_LOSS, true, R(0, 0, 40, 11));
    check_rect(&l, TUI_PANE_CONFLICT, true, R(40, 0, 40, 11));
    check_rect(&l, TUI_PANE_METRICS, true, R(0, 11, 30, 7));
    check_rect(&l, TUI_PANE_LAYERS, true, R(30, 11, 50, 7));
    check_rect(&l, TUI_PANE_LOG, false, hidden);
    check_rect(&l, TUI_PANE_PROMPT, true, R(0, 18, 80, 5));
    check_rect(&l, TUI_PANE_FOOTER, true, R(0, 23, 80, 1));
}

static void test_100x30_medium(void **state)
{
    (void)state;
    tui_layout l;
    tui_layout_compute(&l, 100, 30, -1);
    check_rect(&l, TUI_PANE_LOSS, true, R(0, 0, 50, 14));
    check_rect(&l, TUI_PANE_CONFLICT, true, R(50, 0, 50, 14));
    check_rect(&l, TUI_PANE_METRICS, true, R(0, 14, 30, 10));
    check_rect(&l, TUI_PANE_LAYERS, true, R(30, 14, 70, 10));
    check_rect(&l, TUI_PANE_LOG, false, hidden);
    check_rect(&l, TUI_PANE_PROMPT, true, R(0, 24, 100, 5));
    check_rect(&l, TUI_PANE_FOOTER, true, R(0, 29, 100, 1));
}

static void test_101x30_medium_odd(void **state)
{
    (void)state;
    tui_layout l;
    /* The odd column goes to CONFLICT. */
    tui_layout_compute(&l, 101, 30, -1);
    check_rect(&l, TUI_PANE_LOSS, true, R(0, 0, 50, 14));
    check_rect(&l, TUI_PANE_CONFLICT, true, R(50, 0, 51, 14));
    check_rect(&l, TUI_PANE_LAYERS, true, R(30, 14, 71, 10));
}

static void test_120x40_wide(void **state)
{
    (void)state;
    tui_layout l;
    tui_layout_compute(&l, 120, 40, -1);
    check_rect(&l, TUI_PANE_LOSS, true, R(0, 0, 66, 20));
    check_rect(&l, TUI_PANE_CONFLICT, true, R(66, 0, 54, 20));
    check_rect(&l, TUI_PANE_METRICS, true, R(0, 20, 30, 14));
    check_rect(&l, TUI_PANE_LAYERS, true, R(30, 20, 48, 14));
    check_rect(&l, TUI_PANE_LOG, true, R(78, 20, 42, 14));
    check_rect(&l, TUI_PANE_PROMPT, true, R(0, 34, 120, 5));
    check_rect(&l, TUI_PANE_FOOTER, true, R(0, 39, 120, 1));
}

static void test_200x60_wide(void **state)
{
    (void)state;
    tui_layout l;
    tui_layout_compute(&l, 200, 60, -1);
    check_rect(&l, TUI_PANE_LOSS, true, R(0, 0, 110, 32));
    check_rect(&l, TUI_PANE_CONFLICT, true, R(110, 0, 90, 32));
    check_rect(&l, TUI_PANE_METRICS, true, R(0, 32, 30, 22));
    check_rect(&l, TUI_PANE_LAYERS, true, R(30, 32, 100, 22));
    check_rect(&l, TUI_PANE_LOG, true, R(130, 32, 70, 22));
    check_rect(&l, TUI_PANE_PROMPT, true, R(0, 54, 200, 5));
    check_rect(&l, TUI_PANE_FOOTER, true, R(0, 59, 200, 1));
}

static void test_class_boundaries(void **state)
{
    (void)state;
    tui_layout l;
    tui_layout_compute(&l, 79, 30, -1);
    assert_false(l.visible[TUI_PANE_LAYERS]);
    assert_int_equal(l.pane[TUI_PANE_LOSS].w, 79);
    tui_layout_compute(&l, 80, 30, -1);
    assert_true(l.visible[TUI_PANE_LAYERS]);
    assert_false(l.visible[TUI_PANE_LOG]);
    tui_layout_compute(&l, 119, 30, -1);
    assert_false(l.visible[TUI_PANE_LOG]);
    tui_layout_compute(&l, 120, 30, -1);
    assert_true(l.visible[TUI_PANE_LOG]);
}

static void test_zoom_each_pane(void **state)
{
    (void)state;
    static const int sizes[][2] = {{60, 18}, {80, 24}, {120, 40}, {200, 60}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int cols = sizes[s][0], rows = sizes[s][1];
        for (int z = TUI_PANE_LOSS; z <= TUI_PANE_LOG; z++) {
            tui_layout l;
            tui_layout_compute(&l, cols, rows, z);
            assert_false(l.too_small);
            for (int p = TUI_PANE_LOSS; p <= TUI_PANE_LOG; p++) {
                if (p == z)
                    check_rect(&l, (tui_pane)p, true, R(0, 0, cols, rows - 6));
                else
                    check_rect(&l, (tui_pane)p, false, hidden);
            }
            check_rect(&l, TUI_PANE_PROMPT, true, R(0, rows - 6, cols, 5));
            check_rect(&l, TUI_PANE_FOOTER, true, R(0, rows - 1, cols, 1));
        }
    }
}

static bool same_layout(const tui_layout *a, const tui_layout *b)
{
    if (a->cols != b->cols || a->rows != b->rows || a->too_small != b->too_small)
        return false;
    for (int p = 0; p < TUI_N_PANES; p++) {
        if (a->visible[p] != b->visible[p] || a->pane[p].x != b->pane[p].x ||
            a->pane[p].y != b->pane[p].y || a->pane[p].w != b->pane[p].w ||
            a->pane[p].h != b->pane[p].h)
            return false;
    }
    return true;
}

static void test_bad_zoom_is_no_zoom(void **state)
{
    (void)state;
    tui_layout plain, l;
    tui_layout_compute(&plain, 120, 40, -1);
    static const int bad[] = {TUI_PANE_PROMPT, TUI_PANE_FOOTER, TUI_N_PANES, 99, -2, -1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tui_layout_compute(&l, 120, 40, bad[i]);
        if (!same_layout(&plain, &l))
            fail_msg("zoom %d changed the layout", bad[i]);
    }
}

static void test_too_small(void **state)
{
    (void)state;
    static const int sizes[][2] = {{59, 18}, {60, 17}, {59, 17}, {0, 0}, {-1, 40}, {200, 5}, {1, 1}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (int z = -1; z <= TUI_PANE_LOG; z++) {
            tui_layout l;
            tui_layout_compute(&l, sizes[s][0], sizes[s][1], z);
            assert_true(l.too_small);
            assert_int_equal(l.cols, sizes[s][0]);
            assert_int_equal(l.rows, sizes[s][1]);
            for (int p = 0; p < TUI_N_PANES; p++)
                check_rect(&l, (tui_pane)p, false, hidden);
        }
    }
    tui_layout l;
    tui_layout_compute(&l, 60, 18, -1);
    assert_false(l.too_small);
}

static void test_too_small_message(void **state)
{
    (void)state;
    char buf[128];
    tui_too_small_message(50, 15, buf, sizeof buf);
    assert_string_equal(buf, "Terminal too small: 50x15, need at least 60x18 (F10 quits)");
    /* readable at 40 columns: whole words on each line */
    char lines[8][TUI_WRAP_COLS];
    tui_too_small_message(40, 10, buf, sizeof buf);
    assert_int_equal(tui_wrap_words(buf, 40, lines, 8), 2);
    assert_string_equal(lines[0], "Terminal too small: 40x10, need at least");
    assert_string_equal(lines[1], "60x18 (F10 quits)");
    assert_int_equal(tui_wrap_words("abcdefghij klm", 4, lines, 8), 4);
    assert_string_equal(lines[0], "abcd"); /* a word longer than a line is cut */
    assert_string_equal(lines[3], "klm");
    assert_int_equal(tui_wrap_words("one two three", 20, lines, 1), 1);
    tui_too_small_message(100, 10, buf, sizeof buf);
    assert_string_equal(buf, "Terminal too small: 100x10, need at least 60x18 (F10 quits)");

    char tiny[9];
    memset(tiny, 'X', sizeof tiny);
    tui_too_small_message(50, 15, tiny, sizeof tiny);
    assert_string_equal(tiny, "Terminal");

    /* Nothing is written when there is no room at all. */
    char none = 'X';
    tui_too_small_message(50, 15, &none, 0);
    assert_int_equal(none, 'X');
}

static void test_pane_names(void **state)
{
    (void)state;
    assert_string_equal(tui_pane_name(TUI_PANE_LOSS), "Loss");
    assert_string_equal(tui_pane_name(TUI_PANE_CONFLICT), "Gradient conflict");
    assert_string_equal(tui_pane_name(TUI_PANE_LAYERS), "Layers");
    assert_string_equal(tui_pane_name(TUI_PANE_METRICS), "Metrics");
    assert_string_equal(tui_pane_name(TUI_PANE_LOG), "Log");
    assert_string_equal(tui_pane_name(TUI_PANE_PROMPT), "Prompt");
    assert_string_equal(tui_pane_name(TUI_PANE_FOOTER), "");
    assert_string_equal(tui_pane_name(TUI_N_PANES), "");
    assert_string_equal(tui_pane_name((tui_pane)-1), "");
}

static bool overlap(tui_rect a, tui_rect b)
{
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/* One size and zoom: every promise the header makes, checked cell by cell
 * where that is the simplest honest check. */
static void check_invariants(int cols, int rows, int zoomed)
{
    tui_layout l;
    tui_layout_compute(&l, cols, rows, zoomed);
    if (l.too_small)
        fail_msg("%dx%d reported too small", cols, rows);
    int h = rows - 6;

    check_rect(&l, TUI_PANE_FOOTER, true, R(0, rows - 1, cols, 1));
    check_rect(&l, TUI_PANE_PROMPT, true, R(0, rows - 6, cols, 5));

    for (int p = 0; p < TUI_N_PANES; p++) {
        tui_rect r = l.pane[p];
        if (!l.visible[p]) {
            check_rect(&l, (tui_pane)p, false, hidden);
            continue;
        }
        if (r.x < 0 || r.y < 0 || r.x + r.w > cols || r.y + r.h > rows)
            fail_msg("%dx%d zoom %d: %s leaves the screen", cols, rows, zoomed,
                     tui_pane_name((tui_pane)p));
        if (p != TUI_PANE_FOOTER && (r.w < 3 || r.h < 3))
            fail_msg("%dx%d zoom %d: %s is %dx%d", cols, rows, zoomed, tui_pane_name((tui_pane)p),
                     r.w, r.h);
        if (p <= TUI_PANE_LOG && r.y + r.h > h)
            fail_msg("%dx%d zoom %d: %s reaches below the chart area", cols, rows, zoomed,
                     tui_pane_name((tui_pane)p));
        for (int q = p + 1; q < TUI_N_PANES; q++)
            if (l.visible[q] && overlap(r, l.pane[q]))
                fail_msg("%dx%d zoom %d: %s overlaps %s", cols, rows, zoomed,
                         tui_pane_name((tui_pane)p), tui_pane_name((tui_pane)q));
    }

    /* Inside the chart area and pairwise disjoint, so covering it exactly
     * is the same as the areas adding up. */
    long area = 0;
    for (int p = TUI_PANE_LOSS; p <= TUI_PANE_LOG; p++)
        if (l.visible[p])
            area += (long)l.pane[p].w * l.pane[p].h;
    if (area != (long)cols * h)
        fail_msg("%dx%d zoom %d: chart panes cover %ld of %ld cells", cols, rows, zoomed, area,
                 (long)cols * h);

    bool want[TUI_N_PANES] = {false};
    if (zoomed >= TUI_PANE_LOSS && zoomed <= TUI_PANE_LOG) {
        want[zoomed] = true;
    } else {
        want[TUI_PANE_LOSS] = want[TUI_PANE_CONFLICT] = want[TUI_PANE_METRICS] = true;
        want[TUI_PANE_LAYERS] = cols >= 80;
        want[TUI_PANE_LOG] = cols >= 120;
    }
    for (int p = TUI_PANE_LOSS; p <= TUI_PANE_LOG; p++)
        if (l.visible[p] != want[p])
            fail_msg("%dx%d zoom %d: %s should be %s", cols, rows, zoomed,
                     tui_pane_name((tui_pane)p), want[p] ? "visible" : "hidden");
}

static void test_sweep_invariants(void **state)
{
    (void)state;
    for (int cols = TUI_MIN_COLS; cols <= 220; cols++)
        for (int rows = TUI_MIN_ROWS; rows <= 80; rows++)
            for (int z = -1; z <= TUI_PANE_LOG; z++)
                check_invariants(cols, rows, z);
}

static void test_sweep_shape(void **state)
{
    (void)state;
    /* The proportions the design names: top band about 60% of the chart
     * area, LOSS about 55% and LOG about 35% of a wide screen, METRICS a
     * fixed 30 columns beside LAYERS. */
    for (int cols = TUI_MIN_COLS; cols <= 220; cols++) {
        for (int rows = TUI_MIN_ROWS; rows <= 80; rows++) {
            tui_layout l;
            tui_layout_compute(&l, cols, rows, -1);
            int h = rows - 6;
            if (cols < 80) {
                assert_int_equal(l.pane[TUI_PANE_METRICS].y + l.pane[TUI_PANE_METRICS].h, h);
                assert_true(l.pane[TUI_PANE_LOSS].y < l.pane[TUI_PANE_CONFLICT].y);
                assert_true(l.pane[TUI_PANE_CONFLICT].y < l.pane[TUI_PANE_METRICS].y);
                continue;
            }
            int top = l.pane[TUI_PANE_LOSS].h;
            assert_true(10 * top >= 6 * h - 5 && 10 * top <= 6 * h + 5);
            assert_int_equal(l.pane[TUI_PANE_CONFLICT].h, top);
            assert_int_equal(l.pane[TUI_PANE_METRICS].y, top);
            assert_int_equal(l.pane[TUI_PANE_METRICS].w, 30);
            assert_int_equal(l.pane[TUI_PANE_LAYERS].x, 30);
            int lw = l.pane[TUI_PANE_LOSS].w;
            if (cols >= 120) {
                assert_true(100 * lw <= 55 * cols && 100 * (lw + 1) > 55 * cols);
                int gw = l.pane[TUI_PANE_LOG].w;
                assert_true(100 * gw <= 35 * cols && 100 * (gw + 1) > 35 * cols);
                assert_int_equal(l.pane[TUI_PANE_LOG].x + gw, cols);
            } else {
                assert_int_equal(lw, cols / 2);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_60x18_narrow),
        cmocka_unit_test(test_79x25_narrow_odd),
        cmocka_unit_test(test_80x24_medium),
        cmocka_unit_test(test_100x30_medium),
        cmocka_unit_test(test_101x30_medium_odd),
        cmocka_unit_test(test_120x40_wide),
        cmocka_unit_test(test_200x60_wide),
        cmocka_unit_test(test_class_boundaries),
        cmocka_unit_test(test_zoom_each_pane),
        cmocka_unit_test(test_bad_zoom_is_no_zoom),
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_too_small_message),
        cmocka_unit_test(test_pane_names),
        cmocka_unit_test(test_sweep_invariants),
        cmocka_unit_test(test_sweep_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
