/* Line plots, bars and heat rows drawn into a tui_canvas.
 *
 * Everything here is a pure function of its arguments: no curses, no
 * globals, so each picture can be checked character by character.
 *
 * Plot layout inside the rectangle (x0, y0, w, h):
 *
 *     row y0            legend, right-aligned ("■ sst ■ para"), only when
 *                       opt->legend; otherwise the plot starts at row y0
 *     rows below        the plot area
 *     row y0 + h - 2    x axis: '└' then '─', '┬' at each x tick
 *     row y0 + h - 1    x tick labels, centred on their ticks
 *
 *     columns x0 .. x0+L-1   y tick labels, right-aligned; L is the widest
 *                            label (at most 6 columns; 0 with no data)
 *     column  x0 + L         y axis: '│', '┤' at each y tick
 *     columns x0+L+1 .. x0+w-1   the plot area
 *
 * Glyph modes: Braille draws 2x4 dots per cell, Block 1x2 half cells per
 * cell (▀ ▄ █), ASCII one character per cell.  In ASCII mode each series
 * has its own mark: its own, or by its index in the array '*', '+', 'o',
 * 'x', '%', '@', then again from '*'; the legend shows that mark as the
 * key (there may be no colour to tell series apart), and the frame uses
 * | - + .
 * Where series overlap in a cell, the later series in the array gives the
 * cell its colour (and, in ASCII mode, its mark). */
#ifndef MTBERT_TUI_PLOT_H
#define MTBERT_TUI_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "canvas.h"
#include "series.h"

typedef enum { TUI_GLYPHS_BRAILLE, TUI_GLYPHS_BLOCK, TUI_GLYPHS_ASCII } tui_glyphs;

typedef struct tui_plot_series {
    const tui_series *s;
    short color;
    bool markers;      /* draw isolated points (e.g. validation), not a line */
    double smooth;     /* EMA alpha in (0, 1); 0 or 1 = none */
    const char *label; /* legend text; NULL or "" leaves the series out of it */
    bool log_y;        /* plot log10 of the (smoothed) values; those <= 0 are left out */
    char mark;         /* ASCII mode's mark and legend key; 0: by index, as below */
} tui_plot_series;

typedef struct tui_plot_opts {
    tui_glyphs glyphs;
    double y_lo, y_hi; /* NAN = auto from data; equal values also mean auto */
    bool zero_line;    /* dashed line at y = 0 when 0 lies inside the range */
    bool legend;
    short axis_color, label_color;
    double x_window;   /* > 0: show only x >= newest x - x_window */
    bool y_log;        /* the y axis is log10 (the series have log_y): label 10^v */
    bool cursor;       /* mark x = cursor_x: a dotted column ('┊', ASCII ':') through the
                          cells no curve uses, '┴' ('^') on the x axis */
    double cursor_x;
} tui_plot_opts;

/* Where a plot puts its x axis, for reading a column back as an x (the
 * mouse, the cursor keys): columns col0 .. col0 + cols - 1 of the plot's
 * rectangle show x from xlo to xhi. */
typedef struct tui_plot_frame_info {
    int col0, cols;
    int dots_per_col;  /* 2 in Braille mode, else 1 */
    double xlo, xhi;
} tui_plot_frame_info;

/* Braille, auto y range, legend on, colours 0, no zero line, all of x. */
tui_plot_opts tui_plot_defaults(void);

/* A range [nlo, nhi] covering [lo, hi] split into at most max_ticks steps
 * of 1, 2 or 5 times a power of ten; nlo and nhi are multiples of step.
 * lo == hi is widened by 10% of its size each way (-1..1 around 0); NaN or
 * infinite input gives 0..1; lo > hi are swapped; max_ticks < 1 counts
 * as 1. */
void tui_nice_range(double lo, double hi, int max_ticks, double *nlo, double *nhi,
                    double *step);

/* A short axis label for v on an axis with the given step: "0", "0.5",
 * "1.25", "-0.2", "1e-4", "2k", "1.5M".  Decimals are those the step needs,
 * trailing zeros dropped; |v| >= 1000 takes a k/M/G/T suffix, |v| < 0.001
 * or >= 1e15 a short exponent.  At most 6 characters for any v an axis
 * would show.  Writes like snprintf (truncated, terminated when cap > 0)
 * and returns the label's full length. */
int tui_format_tick(double v, double step, char *buf, size_t cap);

/* Draws n series into the rectangle, after blanking it.  x range: the
 * visible data's.  y range: opt's, or the visible (smoothed) data's widened
 * by tui_nice_range.  No data: the frame and a centred "waiting for data".
 * w < 12 or h < 4: nothing.  opt NULL means tui_plot_defaults(). */
void tui_plot_draw(tui_canvas *c, int x0, int y0, int w, int h, const tui_plot_series *series,
                   int n, const tui_plot_opts *opt);

/* The frame tui_plot_draw would use for these arguments (x0 = 0); false
 * when it would draw no data (or w < 12, h < 4). */
bool tui_plot_frame(int w, int h, const tui_plot_series *series, int n,
                    const tui_plot_opts *opt, tui_plot_frame_info *f);
/* The x that column col (of the rectangle; clamped to the plot area)
 * shows: the x of its middle dot. */
double tui_plot_frame_x(const tui_plot_frame_info *f, int col);

/* One row, w columns: the label padded or cut to 10 columns and a space,
 * a bar centred on zero for value in [-1, 1] (clamped; left of the centre
 * mark for negative values, right for positive), a space, and the value as
 * "%+.2f" ("  n/a" for NaN) right-aligned.  Block and Braille modes draw
 * eighths of a cell on the positive side (▏ .. █); on the negative side
 * Unicode has only right-anchored ▕ (1/8) and ▐ (1/2), so the partial cell
 * there is rounded to 1/8, 1/2 or a whole cell.  ASCII mode draws whole
 * cells of '#' around '|'.  The bar and value take pos_color or neg_color
 * by sign, the label and centre mark colour 0.  Below 20 columns the label
 * is dropped; below 9 nothing is drawn. */
void tui_bar_draw(tui_canvas *c, int x0, int y0, int w, const char *label, double value,
                  short pos_color, short neg_color, tui_glyphs g);

/* n cells from (x0, y0), one per value: '█' ('░' for NaN), or in ASCII mode
 * '+', '-', '0' by sign ('?' for NaN), coloured by color_for(v, ctx)
 * (colour 0 when it is NULL). */
void tui_heat_row(tui_canvas *c, int x0, int y0, const double *values, int n, tui_glyphs g,
                  short (*color_for)(double v, void *ctx), void *ctx);

/* A cosine's heat-map cell: the shade gives |v| (below 0.1 '·', then '░'
 * to 0.3, '▒' to 0.6, '▓' to 0.85, '█'), the caller's colour its sign.
 * Signed mode (ASCII glyphs, or no colour to show the sign) uses '.'
 * below 0.1, then '+' / '-' to 0.5 and '#' / '=' beyond, by sign.  NaN
 * (no gradient, no data) is a blank. */
const char *tui_heat_glyph(double v, tui_glyphs g, bool signed_glyphs);

/* A heat map of n_rows series over time: n_cols columns from (x0, y0), one
 * row per series; column i covers x in [x_lo + i (x_hi - x_lo) / n_cols,
 * the next column's start) and shows the mean of the row's points there
 * (blank where there are none), as tui_heat_glyph, in pos_color or
 * neg_color by sign. */
void tui_heat_map(tui_canvas *c, int x0, int y0, int n_cols, const tui_series *const *rows,
                  int n_rows, double x_lo, double x_hi, tui_glyphs g, bool signed_glyphs,
                  short pos_color, short neg_color);

/* The heat map's key at (x0, y0): "-1 █▓▒░·░▒▓█ +1" (signed mode:
 * "-1 =-.+# +1"), the negative half in neg_color; returns its width. */
int tui_heat_legend(tui_canvas *c, int x0, int y0, tui_glyphs g, bool signed_glyphs,
                    short pos_color, short neg_color, short label_color);

#endif
