/* Unit tests for the workbench's drawing core: time series (series.h), the
 * character canvas (canvas.h) and the plots, bars and heat rows (plot.h).
 *
 * Pictures are compared character for character.  The expected rows were
 * worked out by hand from the layout plot.h documents: where each value's
 * dot lands (round(t * (dots - 1)) across the plot area), which Braille bit
 * that dot is, and the cells Bresenham's line visits.  The geometries are
 * chosen to keep that arithmetic short: 45-degree diagonals, lines on one
 * dot row, one-character axis labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"
#include "plot.h"
#include "series.h"

/* ------------------------------------------------------------------ helpers */

static void assert_row(const tui_canvas *c, int y, const char *want)
{
    char got[1024];
    tui_canvas_row_string(c, y, got, sizeof got);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "row %d:\n  got  [%s]\n  want [%s]\n", y, got, want);
        fail();
    }
}

static void assert_rows(const tui_canvas *c, const char *const *want, int n)
{
    for (int y = 0; y < n; y++)
        assert_row(c, y, want[y]);
}

static short color_at(const tui_canvas *c, int x, int y)
{
    const tui_cell *cell = tui_canvas_at(c, x, y);
    assert_non_null(cell);
    return cell->color;
}

static const char *char_at(const tui_canvas *c, int x, int y)
{
    const tui_cell *cell = tui_canvas_at(c, x, y);
    assert_non_null(cell);
    return cell->ch;
}

static tui_series make_series(int cap, const double *x, const double *y, int n)
{
    tui_series s;
    assert_int_equal(tui_series_init(&s, cap), 0);
    for (int i = 0; i < n; i++)
        tui_series_push(&s, x[i], y[i]);
    return s;
}

/* A plot with one y range fixed to 0..4 on a 12 x 7 canvas and no legend:
 * y labels "4", "2", "0" on rows 0, 2, 4, so the axis is column 1 and the
 * plot area is columns 2..11 (10 cells) by rows 0..4 (5 cells). */
static tui_plot_opts fixed_opts(tui_glyphs g, double lo, double hi)
{
    tui_plot_opts o = tui_plot_defaults();
    o.glyphs = g;
    o.legend = false;
    o.y_lo = lo;
    o.y_hi = hi;
    return o;
}

/* ------------------------------------------------------------------ series */

static void test_series_push_get(void **state)
{
    (void)state;
    tui_series s;
    assert_int_equal(tui_series_init(&s, 8), 0);
    assert_int_equal(tui_series_len(&s), 0);
    double x = 123.0, y = 456.0;
    assert_false(tui_series_last(&s, &x, &y));
    assert_true(x == 123.0 && y == 456.0);

    for (int i = 0; i < 5; i++)
        tui_series_push(&s, i, 10.0 * i);
    assert_int_equal(tui_series_len(&s), 5);
    for (int i = 0; i < 5; i++) {
        tui_series_get(&s, i, &x, &y);
        assert_true(x == i && y == 10.0 * i);
    }
    assert_true(tui_series_last(&s, &x, &y));
    assert_true(x == 4.0 && y == 40.0);
    tui_series_get(&s, 5, &x, &y);
    assert_true(isnan(x) && isnan(y));
    tui_series_get(&s, -1, &x, NULL);
    assert_true(isnan(x));

    tui_series_clear(&s);
    assert_int_equal(tui_series_len(&s), 0);
    tui_series_push(&s, 7.0, 8.0);
    assert_true(tui_series_last(&s, &x, &y) && x == 7.0 && y == 8.0);
    tui_series_free(&s);
    tui_series_free(&s); /* freed series are zeroed */
}

static void test_series_init_errors(void **state)
{
    (void)state;
    tui_series s;
    assert_int_equal(tui_series_init(&s, 3), -1);
    assert_int_equal(tui_series_init(&s, 5), -1);
    assert_int_equal(tui_series_init(&s, 0), -1);
    /* A series whose init failed is empty and ignores pushes. */
    tui_series_push(&s, 1.0, 1.0);
    assert_int_equal(tui_series_len(&s), 0);
    tui_series_free(&s);
}

static void test_series_halving(void **state)
{
    (void)state;
    tui_series s;
    assert_int_equal(tui_series_init(&s, 4), 0);
    double x, y;
    for (int i = 0; i < 4; i++)
        tui_series_push(&s, i, 10.0 * i);
    assert_int_equal(tui_series_len(&s), 4);

    /* The fifth push finds the buffer full: pairs merge, and the new point
     * waits in a bucket of two, shown as the newest point. */
    tui_series_push(&s, 4, 40.0);
    assert_int_equal(s.stride, 2);
    assert_int_equal(tui_series_len(&s), 3);
    tui_series_get(&s, 0, &x, &y);
    assert_true(x == 0.5 && y == 5.0);
    tui_series_get(&s, 1, &x, &y);
    assert_true(x == 2.5 && y == 25.0);
    tui_series_get(&s, 2, &x, &y);
    assert_true(x == 4.0 && y == 40.0);

    tui_series_push(&s, 5, 50.0); /* completes the bucket */
    assert_int_equal(tui_series_len(&s), 3);
    tui_series_get(&s, 2, &x, &y);
    assert_true(x == 4.5 && y == 45.0);

    tui_series_push(&s, 6, 60.0);
    tui_series_push(&s, 7, 70.0);
    tui_series_push(&s, 8, 80.0); /* 4 stored + pending (8) */
    assert_int_equal(tui_series_len(&s), 5);
    assert_true(tui_series_last(&s, &x, &y) && x == 8.0 && y == 80.0);

    /* Completing a bucket into a full buffer halves again; the completed
     * bucket is half of one at the new stride and stays pending. */
    tui_series_push(&s, 9, 90.0);
    assert_int_equal(s.stride, 4);
    assert_int_equal(tui_series_len(&s), 3);
    tui_series_get(&s, 0, &x, &y);
    assert_true(x == 1.5 && y == 15.0); /* mean of pushes 0..3 */
    tui_series_get(&s, 1, &x, &y);
    assert_true(x == 5.5 && y == 55.0); /* 4..7 */
    tui_series_get(&s, 2, &x, &y);
    assert_true(x == 8.5 && y == 85.0); /* 8, 9 pending */
    tui_series_free(&s);
}

/* After many halvings, every stored point is exactly the mean of its own
 * run of pushes, from the very first push to the newest. */
static void test_series_whole_history(void **state)
{
    (void)state;
    tui_series s;
    assert_int_equal(tui_series_init(&s, 8), 0);
    const int total = 1001;
    for (int i = 0; i < total; i++)
        tui_series_push(&s, i, 3.0 * i + 1.0);
    const int stride = s.stride, stored = s.len, pending = total - stored * stride;
    assert_true(stride >= 64);
    assert_true(stored >= 4 && stored <= 8);
    assert_true(pending >= 0 && pending < stride);
    assert_int_equal(tui_series_len(&s), stored + (pending > 0));
    for (int i = 0; i < stored; i++) {
        double x, y, want = i * stride + (stride - 1) / 2.0;
        tui_series_get(&s, i, &x, &y);
        assert_true(x == want);
        assert_true(y == 3.0 * want + 1.0);
    }
    double x0, xl;
    tui_series_get(&s, 0, &x0, NULL);
    assert_true(x0 == (stride - 1) / 2.0); /* starts with push 0 */
    assert_true(tui_series_last(&s, &xl, NULL));
    if (pending > 0)
        assert_true(xl == (total - 1) - (pending - 1) / 2.0); /* ends with the newest */
    else
        assert_true(xl == (total - 1) - (stride - 1) / 2.0);
    tui_series_free(&s);
}

static void test_series_nan_skipped(void **state)
{
    (void)state;
    tui_series s;
    assert_int_equal(tui_series_init(&s, 4), 0);
    tui_series_push(&s, 0, 1.0);
    tui_series_push(&s, 1, NAN);
    tui_series_push(&s, 2, INFINITY);
    tui_series_push(&s, NAN, 2.0);
    tui_series_push(&s, 3, 3.0);
    assert_int_equal(tui_series_len(&s), 2);
    double x, y;
    tui_series_get(&s, 1, &x, &y);
    assert_true(x == 3.0 && y == 3.0);
    tui_series_free(&s);
}

static void test_series_range_and_ema(void **state)
{
    (void)state;
    const double xs[] = {0, 1, 2, 3, 4}, ys[] = {5, -2, 7, 1, 3};
    tui_series s = make_series(8, xs, ys, 5);
    double lo = 0, hi = 0;
    assert_true(tui_series_range(&s, NAN, &lo, &hi));
    assert_true(lo == -2.0 && hi == 7.0);
    assert_true(tui_series_range(&s, 2.0, &lo, &hi));
    assert_true(lo == 1.0 && hi == 7.0);
    assert_true(tui_series_range(&s, 2.5, &lo, &hi));
    assert_true(lo == 1.0 && hi == 3.0);
    lo = hi = 99.0;
    assert_false(tui_series_range(&s, 4.5, &lo, &hi));
    assert_true(lo == 99.0 && hi == 99.0);
    tui_series_free(&s);

    assert_true(tui_ema(NAN, 3.0, 0.5) == 3.0);
    assert_true(tui_ema(1.0, 3.0, 0.5) == 2.0);
    assert_true(tui_ema(1.0, 3.0, 0.25) == 1.5);
    assert_true(tui_ema(1.0, 3.0, 1.0) == 3.0);
    assert_true(tui_ema(1.0, 3.0, 0.0) == 3.0);
}

/* ------------------------------------------------------------------ canvas */

static void test_canvas_basics(void **state)
{
    (void)state;
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 0, 3), -1);
    assert_int_equal(tui_canvas_init(&c, 6, 3), 0);
    assert_row(&c, 0, "      ");

    /* One cell per code point, clipped at both edges. */
    assert_int_equal(tui_canvas_text(&c, -2, 0, "ab├─cdef", 5), 6);
    assert_row(&c, 0, "├─cdef");
    assert_int_equal(color_at(&c, 0, 0), 5);
    assert_int_equal(tui_canvas_text(&c, 3, 1, "xyz123", 0), 3);
    assert_row(&c, 1, "   xyz");
    assert_int_equal(tui_canvas_text(&c, 0, 3, "off", 0), 0);
    assert_int_equal(tui_canvas_text_n(&c, 0, 2, "héllo", 2, 0), 2);
    assert_row(&c, 2, "hé    ");

    /* Only the first code point is stored; bad bytes and controls are '?'. */
    tui_canvas_put(&c, 5, 2, "█▌", 3);
    assert_string_equal(char_at(&c, 5, 2), "█");
    tui_canvas_put(&c, 4, 2, "\xff", 0);
    tui_canvas_put(&c, 3, 2, "\t", 0);
    tui_canvas_put(&c, 2, 2, NULL, 0);
    tui_canvas_put(&c, 9, 9, "x", 0);
    assert_row(&c, 2, "hé ??█");
    /* A cut sequence resynchronises: E2 94 then q, ESC, [. */
    assert_int_equal(tui_canvas_text(&c, 0, 2, "\xe2\x94q\x1b[", 0), 5);
    assert_row(&c, 2, "??q?[█");

    tui_canvas_fill(&c, 4, -1, 10, 3, "░", 2);
    assert_row(&c, 0, "├─cd░░");
    assert_row(&c, 1, "   x░░");
    assert_int_equal(color_at(&c, 5, 1), 2);

    /* Truncation keeps whole characters; the full length comes back. */
    char buf[6];
    assert_int_equal(tui_canvas_row_string(&c, 0, buf, sizeof buf), 14);
    assert_string_equal(buf, "├");
    assert_int_equal(tui_canvas_row_string(&c, 3, buf, sizeof buf), -1);
    assert_int_equal(tui_utf8_columns("├─a\xff"), 4);

    tui_canvas_clear(&c);
    assert_row(&c, 0, "      ");
    assert_int_equal(color_at(&c, 5, 1), 0);
    tui_canvas_free(&c);
    tui_canvas_free(&c);
}

/* -------------------------------------------------------------- nice axes */

static void test_nice_range(void **state)
{
    (void)state;
    static const struct {
        double lo, hi;
        int ticks;
        double nlo, nhi, step;
    } cases[] = {
        {0, 1, 5, 0, 1, 0.2},
        {0, 1, 4, 0, 1, 0.5}, /* 0.25 is not a 1-2-5 step */
        {0.13, 0.87, 5, 0, 1, 0.2},
        {0.3, 0.7, 4, 0.3, 0.7, 0.1}, /* bounds on the grid stay put */
        {-0.3, 0.45, 4, -0.5, 0.5, 0.5},
        {1200, 9800, 4, 0, 10000, 5000},
        {-1, 1, 4, -1, 1, 0.5},
        {5, 5, 4, 4.5, 5.5, 0.5},   /* widened by 10% each way */
        {0, 0, 4, -1, 1, 0.5},
        {3, 1, 4, 1, 3, 0.5},       /* swapped */
        {1e-5, 3e-5, 4, 1e-5, 3e-5, 5e-6},
        {NAN, 1, 5, 0, 1, 0.2},
        {0, INFINITY, 5, 0, 1, 0.2},
        {0, 1, 0, 0, 1, 1},         /* max_ticks < 1 counts as 1 */
        {-7, -3, 2, -10, 0, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double nlo, nhi, step;
        tui_nice_range(cases[i].lo, cases[i].hi, cases[i].ticks, &nlo, &nhi, &step);
        if (fabs(nlo - cases[i].nlo) > 1e-12 * fabs(cases[i].step) ||
            fabs(nhi - cases[i].nhi) > 1e-12 * fabs(cases[i].step) ||
            fabs(step - cases[i].step) > 1e-12 * fabs(cases[i].step)) {
            fprintf(stderr, "case %zu (%g, %g, %d): got %g %g %g\n", i, cases[i].lo,
                    cases[i].hi, cases[i].ticks, nlo, nhi, step);
            fail();
        }
    }
    /* Decimal bounds come out as the doubles of their decimal numbers. */
    double nlo, nhi, step;
    tui_nice_range(0.3, 0.7, 4, &nlo, &nhi, &step);
    assert_true(nlo == 0.3 && nhi == 0.7);
}

static void test_format_tick(void **state)
{
    (void)state;
    static const struct {
        double v, step;
        const char *want;
    } cases[] = {
        {0, 0.5, "0"},
        {0.5, 0.5, "0.5"},
        {1, 0.5, "1"},
        {1.25, 0.25, "1.25"},
        {1.5, 0.25, "1.5"},
        {-0.2, 0.2, "-0.2"},
        {0.30000000000000004, 0.1, "0.3"},
        {5.551115123125783e-17, 0.1, "0"}, /* 0.1 + 0.2 - 0.3 */
        {-1e-17, 0.2, "0"},
        {100, 50, "100"},
        {999.5, 0.5, "999.5"},
        {1e-4, 1e-4, "1e-4"},
        {2.5e-5, 5e-6, "2.5e-5"},
        {-3e-4, 1e-4, "-3e-4"},
        {9.96e-5, 1e-6, "1e-4"}, /* the mantissa rounds up to 10 */
        {2000, 1000, "2k"},
        {2500, 500, "2.5k"},
        {-1500, 500, "-1.5k"},
        {1.5e6, 5e5, "1.5M"},
        {123456, 1, "123.5k"}, /* "123.456k" is cut to 6 */
        {1e9, 1e9, "1G"},
        {3e12, 1e12, "3T"},
        {1e16, 1e15, "1e16"},
        {-12.3456, 0.0001, "-12.35"},
        {0.0015, 0.0005, "0.0015"},
        {NAN, 1, "nan"},
        {-INFINITY, 1, "-inf"},
        {0.75, 0, "0.75"}, /* no step: three significant digits */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        int n = tui_format_tick(cases[i].v, cases[i].step, buf, sizeof buf);
        if (strcmp(buf, cases[i].want) != 0 || n != (int)strlen(cases[i].want)) {
            fprintf(stderr, "case %zu (%g, %g): got '%s' (%d), want '%s'\n", i, cases[i].v,
                    cases[i].step, buf, n, cases[i].want);
            fail();
        }
        assert_true(strlen(buf) <= 6);
    }
    char small[3];
    assert_int_equal(tui_format_tick(1.25, 0.25, small, sizeof small), 4);
    assert_string_equal(small, "1.");
}

/* ------------------------------------------------------------ line plots */

static void test_braille_diagonal(void **state)
{
    (void)state;
    /* Plot area 20 x 20 dots: (0, 0) to (1, 4) is the dots (i, 19 - i),
     * two per cell column: ⡠ (dots 7 and 6) then ⠊ (dots 2 and 4). */
    const double xs[] = {0, 1}, ys[] = {0, 4};
    tui_series s = make_series(8, xs, ys, 2);
    tui_plot_series ps = {.s = &s, .color = 5};
    tui_plot_opts o = fixed_opts(TUI_GLYPHS_BRAILLE, 0, 4);
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 7), 0);
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    static const char *const want[] = {
        "4┤        ⡠⠊",
        " │      ⡠⠊  ",
        "2┤    ⡠⠊    ",
        " │  ⡠⠊      ",
        "0┤⡠⠊        ",
        " └┬────────┬",
        "  0        1",
    };
    assert_rows(&c, want, 7);
    assert_int_equal(color_at(&c, 2, 4), 5);
    tui_canvas_free(&c);
    tui_series_free(&s);
}

static void test_braille_horizontal_and_point(void **state)
{
    (void)state;
    /* y = 2 is dot row round(9.5) = 10: cell row 2, third dot row (⠤). */
    const double xs[] = {0, 1}, ys[] = {2, 2};
    tui_series s = make_series(8, xs, ys, 2);
    tui_plot_series ps = {.s = &s, .color = 1};
    tui_plot_opts o = fixed_opts(TUI_GLYPHS_BRAILLE, 0, 4);
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 7), 0);
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    assert_row(&c, 1, " │          ");
    assert_row(&c, 2, "2┤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤");
    assert_row(&c, 3, " │          ");

    /* A lone point sits in the middle column (dot 10 of 0..19) and gets
     * the single x tick. */
    const double px[] = {5}, py[] = {4};
    tui_series one = make_series(8, px, py, 1);
    ps.s = &one;
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    assert_row(&c, 0, "4┤     ⠁    ");
    assert_row(&c, 5, " └─────┬────");
    assert_row(&c, 6, "       5    ");
    tui_canvas_free(&c);
    tui_series_free(&s);
    tui_series_free(&one);
}

static void test_braille_vertical_segment(void **state)
{
    (void)state;
    /* Both points at one x: the segment fills the left dot column of the
     * middle cell in every row (dots 1, 2, 3, 7 = ⡇). */
    const double xs[] = {5, 5}, ys[] = {0, 4};
    tui_series s = make_series(8, xs, ys, 2);
    tui_plot_series ps = {.s = &s};
    tui_plot_opts o = fixed_opts(TUI_GLYPHS_BRAILLE, 0, 4);
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 7), 0);
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    static const char *const want[] = {
        "4┤     ⡇    ", " │     ⡇    ", "2┤     ⡇    ", " │     ⡇    ", "0┤     ⡇    ",
    };
    assert_rows(&c, want, 5);
    tui_canvas_free(&c);
    tui_series_free(&s);
}

static void test_block_diagonal(void **state)
{
    (void)state;
    /* Block mode: 10 x 10 half cells; the diagonal takes the lower then
     * the upper half of two cells per row. */
    const double xs[] = {0, 1}, ys[] = {0, 4};
    tui_series s = make_series(8, xs, ys, 2);
    tui_plot_series ps = {.s = &s};
    tui_plot_opts o = fixed_opts(TUI_GLYPHS_BLOCK, 0, 4);
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 7), 0);
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    static const char *const want[] = {
        "4┤        ▄▀",
        " │      ▄▀  ",
        "2┤    ▄▀    ",
        " │  ▄▀      ",
        "0┤▄▀        ",
        " └┬────────┬",
        "  0        1",
    };
    assert_rows(&c, want, 7);

    /* A marker fills its whole cell. */
    const double mx[] = {0, 1}, my[] = {4, 0};
    tui_series m = make_series(8, mx, my, 2);
    ps.s = &m;
    ps.markers = true;
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    assert_row(&c, 0, "4┤█         ");
    assert_row(&c, 2, "2┤          ");
    assert_row(&c, 4, "0┤         █");
    tui_canvas_free(&c);
    tui_series_free(&s);
    tui_series_free(&m);
}

static void test_ascii_lines(void **state)
{
    (void)state;
    /* ASCII: 10 x 5 cells; (0,0)-(4,4) is a diagonal of cells, then a
     * flat run to (9,4).  Second series gets the second mark, '+'. */
    const double xs[] = {0, 4, 9}, ys[] = {0, 4, 4};
    const double x2[] = {9}, y2[] = {0};
    tui_series s = make_series(8, xs, ys, 3), t = make_series(8, x2, y2, 1);
    tui_plot_series ps[2] = {{.s = &s, .color = 1}, {.s = &t, .color = 2}};
    tui_plot_opts o = fixed_opts(TUI_GLYPHS_ASCII, 0, 4);
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 7), 0);
    tui_plot_draw(&c, 0, 0, 12, 7, ps, 2, &o);
    static const char *const want[] = {
        "4+    ******",
        " |   *      ",
        "2+  *       ",
        " | *        ",
        "0+*        +",
        " ++----+----",
        "  0    5    ",
    };
    assert_rows(&c, want, 7);
    assert_int_equal(color_at(&c, 11, 4), 2);
    /* a series' own mark replaces the one its index gives */
    ps[1].mark = 'Z';
    tui_plot_draw(&c, 0, 0, 12, 7, ps, 2, &o);
    assert_string_equal(char_at(&c, 11, 4), "Z");
    assert_string_equal(char_at(&c, 2, 4), "*");
    tui_canvas_free(&c);
    tui_series_free(&s);
    tui_series_free(&t);
}

/* The cursor: a dotted column where no curve is, a mark on the x axis;
 * the frame reads the columns back as the x drawn there. */
static void test_cursor_and_frame(void **state)
{
    (void)state;
    const double xs[] = {0, 4, 9}, ys[] = {0, 4, 4};
    tui_series s = make_series(8, xs, ys, 3);
    tui_plot_series ps = {.s = &s, .color = 1};
    tui_plot_opts o = fixed_opts(TUI_GLYPHS_ASCII, 0, 4);
    o.cursor = true;
    o.cursor_x = 6;
    o.label_color = 5;
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 7), 0);
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    static const char *const want[] = {
        "4+    ******",
        " |   *  :   ",
        "2+  *   :   ",
        " | *    :   ",
        "0+*     :   ",
        " ++----+^---",
        "  0    5    ",
    };
    assert_rows(&c, want, 7);
    assert_int_equal(color_at(&c, 8, 2), 5);
    assert_int_equal(color_at(&c, 8, 0), 1); /* the curve keeps its cell */

    tui_plot_frame_info f;
    assert_true(tui_plot_frame(12, 7, &ps, 1, &o, &f));
    assert_int_equal(f.col0, 2);
    assert_int_equal(f.cols, 10);
    assert_int_equal(f.dots_per_col, 1);
    assert_true(tui_plot_frame_x(&f, 8) == 6.0);
    assert_true(tui_plot_frame_x(&f, 0) == 0.0);   /* clamped to the plot area */
    assert_true(tui_plot_frame_x(&f, 100) == 9.0);

    /* Braille: two dots a cell, a column reads as its middle */
    o.glyphs = TUI_GLYPHS_BRAILLE;
    o.cursor_x = 9;
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    assert_string_equal(char_at(&c, 11, 5), "┴");
    assert_string_equal(char_at(&c, 11, 3), "┊");
    assert_true(tui_plot_frame(12, 7, &ps, 1, &o, &f));
    assert_int_equal(f.dots_per_col, 2);
    assert_true(fabs(tui_plot_frame_x(&f, 2) - 0.5 / 19 * 9) < 1e-12);
    assert_true(fabs(tui_plot_frame_x(&f, 11) - 18.5 / 19 * 9) < 1e-12);
    /* a cursor off the data's range draws nothing */
    o.cursor_x = 50;
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    assert_string_equal(char_at(&c, 11, 5), "─");

    /* no data: no frame to read */
    tui_series empty = make_series(8, NULL, NULL, 0);
    ps.s = &empty;
    assert_false(tui_plot_frame(12, 7, &ps, 1, &o, &f));
    ps.s = &s;
    assert_false(tui_plot_frame(11, 7, &ps, 1, &o, &f));
    tui_canvas_free(&c);
    tui_series_free(&s);
    tui_series_free(&empty);
}

static void test_series_nearest(void **state)
{
    (void)state;
    const double xs[] = {0, 4, 9}, ys[] = {10, 14, 19};
    tui_series s = make_series(8, xs, ys, 3);
    double x = -1, y = -1;
    assert_true(tui_series_nearest(&s, 5, false, &x, &y) && x == 4 && y == 14);
    assert_true(tui_series_nearest(&s, 7, false, &x, &y) && x == 9 && y == 19);
    assert_true(tui_series_nearest(&s, 6.5, false, &x, &y) && x == 4); /* tie: earlier */
    assert_true(tui_series_nearest(&s, -3, false, &x, &y) && x == 0 && y == 10);
    assert_true(tui_series_nearest(&s, 100, false, &x, NULL) && x == 9);
    assert_true(tui_series_nearest(&s, 8.9, true, &x, &y) && x == 4 && y == 14);
    assert_true(tui_series_nearest(&s, 9, true, &x, &y) && x == 9);
    x = 42;
    assert_false(tui_series_nearest(&s, -1, true, &x, &y));
    assert_true(x == 42);
    assert_false(tui_series_nearest(&s, NAN, false, &x, &y));
    tui_series empty = make_series(8, NULL, NULL, 0);
    assert_false(tui_series_nearest(&empty, 1, false, &x, &y));
    tui_series_free(&s);
    tui_series_free(&empty);
}

/* The whole frame with an automatic y range and a legend. */
static void test_plot_frame_auto_range(void **state)
{
    (void)state;
    /* y 0.25..1 widens to 0..1 in steps of 0.5; labels "1", "0.5", "0"
     * make a 3-column margin; plot area 16 x 5 cells. */
    const double xs[] = {0, 10, 20}, ys[] = {1, 0.5, 0.25};
    tui_series s = make_series(8, xs, ys, 3);
    tui_plot_series ps = {.s = &s, .color = 6, .label = "loss"};
    tui_plot_opts o = tui_plot_defaults();
    o.glyphs = TUI_GLYPHS_ASCII;
    o.axis_color = 3;
    o.label_color = 4;
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 20, 8), 0);
    tui_plot_draw(&c, 0, 0, 20, 8, &ps, 1, &o);
    static const char *const want[] = {
        "              * loss",
        "  1+**              ",
        "   |  ****          ",
        "0.5+      ******    ",
        "   |            ****",
        "  0+                ",
        "   ++--------------+",
        "    0             20",
    };
    assert_rows(&c, want, 8);
    assert_int_equal(color_at(&c, 14, 0), 6); /* legend key */
    assert_int_equal(color_at(&c, 16, 0), 6); /* legend label */
    assert_int_equal(color_at(&c, 0, 3), 4);  /* y label */
    assert_int_equal(color_at(&c, 3, 3), 3);  /* axis */
    assert_int_equal(color_at(&c, 18, 7), 4); /* x label */
    assert_int_equal(color_at(&c, 4, 1), 6);  /* data */

    /* The same in Braille mode: same layout, Unicode frame and key. */
    o.glyphs = TUI_GLYPHS_BRAILLE;
    tui_plot_draw(&c, 0, 0, 20, 8, &ps, 1, &o);
    assert_row(&c, 0, "              ■ loss");
    assert_string_equal(char_at(&c, 3, 3), "┤");
    assert_string_equal(char_at(&c, 3, 4), "│");
    assert_row(&c, 6, "   └┬──────────────┬");
    assert_row(&c, 7, "    0             20");
    tui_canvas_free(&c);
    tui_series_free(&s);
}

static void test_legend_fit(void **state)
{
    (void)state;
    const double xs[] = {0, 1}, ys[] = {0, 1};
    tui_series s = make_series(8, xs, ys, 2);
    tui_plot_series ps[4] = {
        {.s = &s, .color = 5, .label = "sst"},
        {.s = &s, .color = 6, .label = NULL},
        {.s = &s, .color = 7, .label = "para"},
        {.s = &s, .color = 8, .label = "paraphrase"},
    };
    tui_plot_opts o = tui_plot_defaults();
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 20, 6), 0);
    /* "■ sst ■ para" fits in 20 columns; the last entry does not, and is
     * left out whole; the unlabelled series takes no room. */
    tui_plot_draw(&c, 0, 0, 20, 6, ps, 4, &o);
    assert_row(&c, 0, "        ■ sst ■ para");
    assert_int_equal(color_at(&c, 8, 0), 5);
    assert_int_equal(color_at(&c, 10, 0), 5);
    assert_int_equal(color_at(&c, 14, 0), 7);
    assert_int_equal(color_at(&c, 19, 0), 7);
    tui_canvas_free(&c);
    tui_series_free(&s);
}

/* Too narrow for every entry: the point series (validation markers, in
 * their line's colour) leave the legend first, so every line keeps its
 * key ("■ sst ■ sts", not "■ sst ■ sst dev"). */
static void test_legend_drops_points_first(void **state)
{
    (void)state;
    const double xs[] = {0, 1}, ys[] = {0, 1};
    tui_series s = make_series(8, xs, ys, 2);
    tui_plot_series ps[4] = {
        {.s = &s, .color = 5, .label = "sst"},
        {.s = &s, .color = 5, .markers = true, .label = "sst dev"},
        {.s = &s, .color = 7, .label = "sts"},
        {.s = &s, .color = 7, .markers = true, .label = "sts dev"},
    };
    tui_plot_opts o = tui_plot_defaults();
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 20, 6), 0);
    tui_plot_draw(&c, 0, 0, 20, 6, ps, 4, &o);
    assert_row(&c, 0, "         ■ sst ■ sts");
    tui_canvas_free(&c);
    /* with room, all four */
    assert_int_equal(tui_canvas_init(&c, 34, 6), 0);
    tui_plot_draw(&c, 0, 0, 34, 6, ps, 4, &o);
    assert_row(&c, 0, "   ■ sst ■ sst dev ■ sts ■ sts dev");
    tui_canvas_free(&c);
    tui_series_free(&s);
}

/* A log y axis: values 0.1 .. 10 span two decades, labelled by value
 * (10^v), and a value of 0 or less has no place on it. */
static void test_log_axis(void **state)
{
    (void)state;
    const double xs[] = {0, 1, 2, 3}, ys[] = {10, 1, 0.1, 0};
    tui_series s = make_series(8, xs, ys, 4);
    tui_plot_series ps = {.s = &s, .color = 5, .label = "sts", .log_y = true};
    tui_plot_opts o = tui_plot_defaults();
    o.y_log = true;
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 24, 9), 0);
    tui_plot_draw(&c, 0, 0, 24, 9, &ps, 1, &o);
    char row[256];
    bool saw10 = false, saw1 = false, saw01 = false;
    for (int y = 1; y < 7; y++) {
        tui_canvas_row_string(&c, y, row, sizeof row);
        saw10 |= strncmp(row, " 10┤", strlen(" 10┤")) == 0;
        saw1 |= strncmp(row, "  1┤", strlen("  1┤")) == 0;
        saw01 |= strncmp(row, "0.1┤", strlen("0.1┤")) == 0;
    }
    if (!saw10 || !saw1 || !saw01)
        for (int y = 0; y < 9; y++) {
            tui_canvas_row_string(&c, y, row, sizeof row);
            fprintf(stderr, "[%s]\n", row);
        }
    assert_true(saw10 && saw1 && saw01);
    tui_canvas_free(&c);
    tui_series_free(&s);
}

static void test_zero_line_and_markers(void **state)
{
    (void)state;
    /* y -1..1: labels "1", "0", "-1" (2 columns); plot area 9 cells = 18
     * dots.  y = 0 is dot row 10 (cell row 2); y = 0.5 is dot row 5 (cell
     * row 1, ⠒).  The marker at (0.5, 0) is a plus around dot (9, 10): ⢴ in
     * cell 4 and the right arm ⠄ in cell 5.  Cells holding data hide the
     * dashed zero line. */
    const double xs[] = {0, 1}, ys[] = {0.5, 0.5};
    const double mx[] = {0.5}, my[] = {0};
    tui_series s = make_series(8, xs, ys, 2), m = make_series(8, mx, my, 1);
    tui_plot_series ps[2] = {{.s = &s, .color = 1}, {.s = &m, .color = 2, .markers = true}};
    tui_plot_opts o = fixed_opts(TUI_GLYPHS_BRAILLE, -1, 1);
    o.zero_line = true;
    o.axis_color = 9;
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 7), 0);
    tui_plot_draw(&c, 0, 0, 12, 7, ps, 2, &o);
    static const char *const want[] = {
        " 1┤         ",
        "  │⠒⠒⠒⠒⠒⠒⠒⠒⠒",
        " 0┤╌╌╌╌⢴⠄╌╌╌",
        "  │         ",
        "-1┤         ",
        "  └┬───────┬",
        "   0       1",
    };
    assert_rows(&c, want, 7);
    assert_int_equal(color_at(&c, 3, 2), 9);
    assert_int_equal(color_at(&c, 7, 2), 2);

    /* ASCII dashes leave gaps; no zero line when 0 is an edge. */
    o.glyphs = TUI_GLYPHS_ASCII;
    ps[1].s = NULL;
    tui_plot_draw(&c, 0, 0, 12, 7, ps, 2, &o);
    assert_row(&c, 2, " 0+- - - - -");
    o.y_lo = 0;
    tui_plot_draw(&c, 0, 0, 12, 7, ps, 2, &o);
    for (int y = 0; y < 5; y++) {
        char row[256];
        tui_canvas_row_string(&c, y, row, sizeof row);
        assert_null(strstr(row, "- -"));
    }
    tui_canvas_free(&c);
    tui_series_free(&s);
    tui_series_free(&m);
}

static void test_x_window(void **state)
{
    (void)state;
    /* x 0..9, y 0 up to x = 4 and 2 from x = 5.  With a window of 4.5 the
     * x range is 4.5..9 (2 dots per unit): the points at y = 0 are gone,
     * and the segment from (4, 0) enters at the left edge half way up. */
    double xs[10], ys[10];
    for (int i = 0; i < 10; i++) {
        xs[i] = i;
        ys[i] = i <= 4 ? 0 : 2;
    }
    tui_series s = make_series(16, xs, ys, 10);
    tui_plot_series ps = {.s = &s};
    tui_plot_opts o = fixed_opts(TUI_GLYPHS_ASCII, 0, 2);
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 5), 0);
    tui_plot_draw(&c, 0, 0, 12, 5, &ps, 1, &o);
    assert_row(&c, 2, "0+*****     "); /* no window: the early points show */

    o.x_window = 4.5;
    tui_plot_draw(&c, 0, 0, 12, 5, &ps, 1, &o);
    static const char *const want[] = {
        "2+ *********",
        " |*         ",
        "0+          ",
        " +---+---+--",
        "     6   8  ",
    };
    assert_rows(&c, want, 5);
    tui_canvas_free(&c);
    tui_series_free(&s);
}

static void test_smoothing(void **state)
{
    (void)state;
    /* 0, 0, 0, 8 smoothed with alpha 0.5 ends at 4, so the automatic range
     * is 0..4 (top label "4"), where the raw data needs 0..10. */
    const double xs[] = {0, 1, 2, 3}, ys[] = {0, 0, 0, 8};
    tui_series s = make_series(8, xs, ys, 4);
    tui_plot_series ps = {.s = &s, .smooth = 1.0};
    tui_plot_opts o = tui_plot_defaults();
    o.glyphs = TUI_GLYPHS_ASCII;
    o.legend = false;
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 7), 0);
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    assert_row(&c, 0, "10+         ");
    assert_row(&c, 1, "  |        *");
    ps.smooth = 0.5;
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    assert_row(&c, 0, "4+         *");
    assert_row(&c, 4, "0+*******   ");

    /* A zero-initialised opts (y_lo == y_hi == 0) is automatic too. */
    tui_plot_opts z = {.glyphs = TUI_GLYPHS_ASCII};
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &z);
    assert_row(&c, 0, "4+         *");
    tui_canvas_free(&c);
    tui_series_free(&s);
}

static void test_empty_and_tiny(void **state)
{
    (void)state;
    tui_series s;
    assert_int_equal(tui_series_init(&s, 8), 0);
    tui_plot_series ps = {.s = &s, .color = 5, .label = "sst"};
    tui_plot_opts o = tui_plot_defaults();
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 20, 6), 0);
    tui_plot_draw(&c, 0, 0, 20, 6, &ps, 1, &o);
    static const char *const want[] = {
        "               ■ sst",
        "│                   ",
        "│ waiting for data  ",
        "│                   ",
        "└───────────────────",
        "                    ",
    };
    assert_rows(&c, want, 6);
    tui_plot_draw(&c, 0, 0, 20, 6, NULL, 0, NULL);
    assert_row(&c, 0, "                    ");
    assert_row(&c, 2, "│ waiting for data  ");

    /* Too small: nothing drawn, nothing touched. */
    tui_canvas_fill(&c, 0, 0, 20, 6, "x", 0);
    tui_plot_draw(&c, 0, 0, 11, 6, &ps, 1, &o);
    tui_plot_draw(&c, 0, 0, 20, 3, &ps, 1, &o);
    tui_plot_draw(&c, 0, 0, -5, -5, &ps, 1, &o);
    assert_row(&c, 0, "xxxxxxxxxxxxxxxxxxxx");
    assert_row(&c, 5, "xxxxxxxxxxxxxxxxxxxx");

    /* Rectangles partly or wholly off the canvas are clipped. */
    for (int i = 0; i < 50; i++)
        tui_series_push(&s, i, sin(i));
    tui_plot_draw(&c, -7, -3, 30, 12, &ps, 1, &o);
    tui_plot_draw(&c, 15, 4, 40, 9, &ps, 1, &o);
    tui_plot_draw(&c, 100, 100, 40, 9, &ps, 1, &o);
    /* The smallest plot: one row, with a legend. */
    tui_plot_draw(&c, 0, 0, 12, 4, &ps, 1, &o);
    tui_canvas_free(&c);
    tui_series_free(&s);
}

static void test_far_points_clipped(void **state)
{
    (void)state;
    /* A fixed range far inside the data: lines to far-off points are
     * clipped to the area rather than walked dot by dot. */
    const double xs[] = {0, 1, 2}, ys[] = {-1e300, 1e300, 2};
    tui_series s = make_series(8, xs, ys, 3);
    tui_plot_series ps = {.s = &s};
    tui_plot_opts o = fixed_opts(TUI_GLYPHS_BRAILLE, 0, 4);
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 12, 7), 0);
    tui_plot_draw(&c, 0, 0, 12, 7, &ps, 1, &o);
    assert_row(&c, 5, " └┬────────┬");
    tui_canvas_free(&c);
    tui_series_free(&s);
}

/* ------------------------------------------------------------ bars, heat */

static void test_bars(void **state)
{
    (void)state;
    /* 26 columns: label 10, space, bar 9 (4 each side of the centre), space,
     * value 5.  0.37 is 0.37 * 4 * 8 = 11.84 -> 12 eighths: █ and ▌. */
    static const struct {
        double v;
        const char *block, *ascii;
        short color;
    } cases[] = {
        {-1, "layer 10   ████│     -1.00", "layer 10   ####|     -1.00", 2},
        {-0.5, "layer 10     ██│     -0.50", "layer 10     ##|     -0.50", 2},
        {0, "layer 10       │     +0.00", "layer 10       |     +0.00", 0},
        {-0.0, "layer 10       │     +0.00", "layer 10       |     +0.00", 0},
        {0.37, "layer 10       │█▌   +0.37", "layer 10       |#    +0.37", 1},
        {-0.37, "layer 10     ▐█│     -0.37", "layer 10      #|     -0.37", 2},
        {0.1, "layer 10       │▍    +0.10", "layer 10       |     +0.10", 1},
        {1, "layer 10       │████ +1.00", "layer 10       |#### +1.00", 1},
        {1.5, "layer 10       │████ +1.50", "layer 10       |#### +1.50", 1},
        {NAN, "layer 10       │       n/a", "layer 10       |       n/a", 0},
    };
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 26, 1), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tui_bar_draw(&c, 0, 0, 26, "layer 10", cases[i].v, 1, 2, TUI_GLYPHS_BLOCK);
        assert_row(&c, 0, cases[i].block);
        assert_int_equal(color_at(&c, 25, 0), cases[i].color);
        assert_int_equal(color_at(&c, 0, 0), 0);
        tui_bar_draw(&c, 0, 0, 26, "layer 10", cases[i].v, 1, 2, TUI_GLYPHS_BRAILLE);
        assert_row(&c, 0, cases[i].block);
        tui_bar_draw(&c, 0, 0, 26, "layer 10", cases[i].v, 1, 2, TUI_GLYPHS_ASCII);
        assert_row(&c, 0, cases[i].ascii);
    }
    tui_bar_draw(&c, 0, 0, 26, "sst-para-embeddings", 1, 1, 2, TUI_GLYPHS_BLOCK);
    assert_int_equal(color_at(&c, 16, 0), 1);
    assert_row(&c, 0, "sst-para-e     │████ +1.00");

    /* Narrow: the label goes first, then the whole bar. */
    tui_canvas_clear(&c);
    tui_bar_draw(&c, 0, 0, 12, "layer", -1, 1, 2, TUI_GLYPHS_BLOCK);
    assert_row(&c, 0, "██│    -1.00              ");
    tui_canvas_clear(&c);
    tui_bar_draw(&c, 0, 0, 8, "layer", -1, 1, 2, TUI_GLYPHS_BLOCK);
    assert_row(&c, 0, "                          ");
    tui_canvas_free(&c);
}

static short sign_color(double v, void *ctx)
{
    int *calls = ctx;
    (*calls)++;
    return (short)(isnan(v) ? 7 : v < 0 ? 2 : 1);
}

static void test_heat_row(void **state)
{
    (void)state;
    const double v[] = {-0.8, 0.0, 0.3, NAN, -0.01};
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 8, 2), 0);
    int calls = 0;
    tui_heat_row(&c, 1, 0, v, 5, TUI_GLYPHS_BLOCK, sign_color, &calls);
    tui_heat_row(&c, 4, 1, v, 5, TUI_GLYPHS_ASCII, NULL, NULL);
    assert_int_equal(calls, 5);
    assert_row(&c, 0, " ███░█  ");
    assert_row(&c, 1, "    -0+?"); /* clipped at the edge */
    assert_int_equal(color_at(&c, 1, 0), 2);
    assert_int_equal(color_at(&c, 2, 0), 1);
    assert_int_equal(color_at(&c, 4, 0), 7);
    assert_int_equal(color_at(&c, 5, 1), 0);
    tui_canvas_free(&c);
}

/* The heat map's shades by |cosine|, its signed (colourless) glyphs, its
 * columns as stretches of steps averaged, blanks where a row has no point,
 * and the legend. */
static void test_heat_map(void **state)
{
    (void)state;
    assert_string_equal(tui_heat_glyph(0.05, TUI_GLYPHS_BRAILLE, false), "·");
    assert_string_equal(tui_heat_glyph(-0.2, TUI_GLYPHS_BRAILLE, false), "░");
    assert_string_equal(tui_heat_glyph(0.5, TUI_GLYPHS_BLOCK, false), "▒");
    assert_string_equal(tui_heat_glyph(-0.7, TUI_GLYPHS_BRAILLE, false), "▓");
    assert_string_equal(tui_heat_glyph(0.9, TUI_GLYPHS_BRAILLE, false), "█");
    assert_string_equal(tui_heat_glyph(NAN, TUI_GLYPHS_BRAILLE, false), " ");
    assert_string_equal(tui_heat_glyph(-0.7, TUI_GLYPHS_BRAILLE, true), "=");
    assert_string_equal(tui_heat_glyph(0.3, TUI_GLYPHS_ASCII, false), "+");
    assert_string_equal(tui_heat_glyph(-0.3, TUI_GLYPHS_ASCII, false), "-");
    assert_string_equal(tui_heat_glyph(0.05, TUI_GLYPHS_ASCII, false), ".");

    /* rows over steps 1..8 in 4 columns of 2 steps each */
    tui_series a, b;
    assert_int_equal(tui_series_init(&a, 16), 0);
    assert_int_equal(tui_series_init(&b, 16), 0);
    const double ya[8] = {0.9, 0.9, -0.9, -0.5, 0.0, 0.1, 0.4, 0.2};
    for (int i = 0; i < 8; i++)
        tui_series_push(&a, i + 1, ya[i]);
    tui_series_push(&b, 1, -0.2); /* b has points only at steps 1 and 8 */
    tui_series_push(&b, 8, 0.95);
    const tui_series *rows[2] = {&a, &b};
    tui_canvas c;
    assert_int_equal(tui_canvas_init(&c, 6, 3), 0);
    tui_heat_map(&c, 1, 0, 4, rows, 2, 1.0, 8.0, TUI_GLYPHS_BRAILLE, false, 5, 6);
    /* a: means 0.9, -0.7, 0.05, 0.3 ; b: -0.2, none, none, 0.95 */
    assert_row(&c, 0, " █▓·▒ ");
    assert_row(&c, 1, " ░  █ ");
    assert_int_equal(color_at(&c, 1, 0), 5);
    assert_int_equal(color_at(&c, 2, 0), 6);
    assert_int_equal(color_at(&c, 1, 1), 6);
    tui_heat_map(&c, 1, 2, 4, rows, 1, 1.0, 8.0, TUI_GLYPHS_BRAILLE, true, 5, 6);
    assert_row(&c, 2, " #=.+ ");
    tui_canvas_free(&c);

    assert_int_equal(tui_canvas_init(&c, 20, 2), 0);
    assert_int_equal(tui_heat_legend(&c, 0, 0, TUI_GLYPHS_BRAILLE, false, 5, 6, 4), 15);
    assert_row(&c, 0, "-1 █▓▒░·░▒▓█ +1     ");
    assert_int_equal(color_at(&c, 3, 0), 6);
    assert_int_equal(color_at(&c, 11, 0), 5);
    assert_int_equal(tui_heat_legend(&c, 0, 1, TUI_GLYPHS_ASCII, false, 5, 6, 4), 11);
    assert_row(&c, 1, "-1 =-.+# +1         ");
    tui_canvas_free(&c);
    tui_series_free(&a);
    tui_series_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_push_get),
        cmocka_unit_test(test_series_init_errors),
        cmocka_unit_test(test_series_halving),
        cmocka_unit_test(test_series_whole_history),
        cmocka_unit_test(test_series_nan_skipped),
        cmocka_unit_test(test_series_range_and_ema),
        cmocka_unit_test(test_canvas_basics),
        cmocka_unit_test(test_nice_range),
        cmocka_unit_test(test_format_tick),
        cmocka_unit_test(test_braille_diagonal),
        cmocka_unit_test(test_braille_horizontal_and_point),
        cmocka_unit_test(test_braille_vertical_segment),
        cmocka_unit_test(test_block_diagonal),
        cmocka_unit_test(test_ascii_lines),
        cmocka_unit_test(test_plot_frame_auto_range),
        cmocka_unit_test(test_cursor_and_frame),
        cmocka_unit_test(test_series_nearest),
        cmocka_unit_test(test_legend_fit),
        cmocka_unit_test(test_zero_line_and_markers),
        cmocka_unit_test(test_x_window),
        cmocka_unit_test(test_smoothing),
        cmocka_unit_test(test_empty_and_tiny),
        cmocka_unit_test(test_far_points_clipped),
        cmocka_unit_test(test_bars),
        cmocka_unit_test(test_heat_row),
        cmocka_unit_test(test_heat_map),
        cmocka_unit_test(test_legend_drops_points_first),
        cmocka_unit_test(test_log_axis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
