/* Line plots, bars and heat rows (see plot.h). */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TICKS 64
#define MAX_LABEL 16

/* ------------------------------------------------------------ nice numbers */

/* Exact up to 10^22, which covers every step an axis of training numbers
 * needs; tick values are then m / 10^k, the correctly rounded double of the
 * decimal number, rather than m * 0.1 * 0.1 ... with its error. */
static double pow10_pos(int k)
{
    double p = 1.0;
    while (k-- > 0)
        p *= 10.0;
    return p;
}

static double scaled(double m, int e)
{
    return e < 0 ? m / pow10_pos(-e) : m * pow10_pos(e);
}

/* The smallest 1, 2 or 5 times 10^e that is at least raw (> 0). */
static void first_step(double raw, int *m, int *e)
{
    int k = (int)floor(log10(raw));
    double f = raw / scaled(1.0, k);
    /* Tolerance, because raw = 0.2 arrives as 2.0000000000000004 * 10^-1
     * and must not be promoted to 5. */
    const double tol = 1e-9;
    if (f <= 1.0 + tol)
        *m = 1;
    else if (f <= 2.0 + tol)
        *m = 2;
    else if (f <= 5.0 + tol)
        *m = 5;
    else {
        *m = 1;
        k++;
    }
    *e = k;
}

static void step_up(int *m, int *e)
{
    if (*m == 1)
        *m = 2;
    else if (*m == 2)
        *m = 5;
    else {
        *m = 1;
        (*e)++;
    }
}

void tui_nice_range(double lo, double hi, int max_ticks, double *nlo, double *nhi, double *step)
{
    if (max_ticks < 1)
        max_ticks = 1;
    if (!isfinite(lo) || !isfinite(hi)) {
        lo = 0.0;
        hi = 1.0;
    }
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (lo == hi) {
        double d = fabs(lo) * 0.1;
        lo = lo == 0.0 ? -1.0 : lo - d;
        hi = hi == 0.0 ? 1.0 : hi + d;
    }
    double raw = (hi - lo) / max_ticks;
    if (!(raw > 0.0) || !isfinite(raw)) {
        /* A span too small to widen (denormals) or too large to subtract. */
        lo = 0.0;
        hi = 1.0;
        raw = 1.0 / max_ticks;
    }
    int m, e;
    first_step(raw, &m, &e);
    for (;;) {
        double s = scaled(m, e);
        /* A bound within a billionth of a step of a multiple is taken as
         * that multiple: 0.3 / 0.1 is 2.9999999999999996, not below 3. */
        double kl = floor(lo / s + 1e-9), kh = ceil(hi / s - 1e-9);
        if (kh <= kl)
            kh = kl + 1;
        if (kh - kl <= max_ticks) {
            *nlo = scaled(kl * m, e) + 0.0; /* + 0.0 turns -0 into 0 */
            *nhi = scaled(kh * m, e) + 0.0;
            *step = s;
            return;
        }
        step_up(&m, &e);
    }
}

/* Drops trailing zeros after a decimal point, and the point itself. */
static void trim_zeros(char *s)
{
    if (strchr(s, '.')) {
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '0')
            s[--n] = '\0';
        if (n > 0 && s[n - 1] == '.')
            s[--n] = '\0';
    }
    if (strcmp(s, "-0") == 0)
        strcpy(s, "0");
}

/* Decimal places that show every multiple of step. */
static int decimals_for(double step)
{
    for (int d = 0; d < 9; d++) {
        double t = step * pow10_pos(d);
        if (fabs(t - round(t)) <= 1e-6 * t)
            return d;
    }
    return 9;
}

#define LABEL_MAX 6

static void format_fixed(char *out, size_t cap, double v, int d, const char *suffix)
{
    for (; d >= 0; d--) {
        snprintf(out, cap, "%.*f", d, v);
        trim_zeros(out);
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s", suffix);
        if (strlen(out) <= LABEL_MAX)
            return;
    }
}

static void format_sci(char *out, size_t cap, double v, double step)
{
    int e = (int)floor(log10(fabs(v)));
    int d = e - (int)floor(log10(step) + 1e-9);
    d = d < 0 ? 0 : d > 6 ? 6 : d;
    double m = e < 0 ? v * pow10_pos(-e) : v / pow10_pos(e);
    for (; d >= 0; d--) {
        char mant[40];
        int ee = e;
        snprintf(mant, sizeof mant, "%.*f", d, m);
        if (fabs(strtod(mant, NULL)) >= 10.0) {
            /* 9.96e-5 at one decimal rounds up to the next exponent. */
            snprintf(mant, sizeof mant, "%.*f", d, m / 10.0);
            ee++;
        }
        trim_zeros(mant);
        snprintf(out, cap, "%se%d", mant, ee);
        if (strlen(out) <= LABEL_MAX)
            return;
    }
}

int tui_format_tick(double v, double step, char *buf, size_t cap)
{
    char out[64];
    if (isnan(v)) {
        strcpy(out, "nan");
    } else if (isinf(v)) {
        strcpy(out, v < 0 ? "-inf" : "inf");
    } else {
        if (!(step > 0.0) || !isfinite(step))
            step = v == 0.0 ? 1.0 : scaled(1.0, (int)floor(log10(fabs(v))) - 2);
        /* A tick computed as k * step may miss zero by rounding error. */
        if (fabs(v) < step * 1e-6)
            v = 0.0;
        double a = fabs(v);
        if (v == 0.0) {
            strcpy(out, "0");
        } else if (a < 1e-3 || a >= 1e15) {
            format_sci(out, sizeof out, v, step);
        } else if (a >= 1e3) {
            static const char *const suffix[] = {"", "k", "M", "G", "T"};
            int k = a >= 1e12 ? 4 : a >= 1e9 ? 3 : a >= 1e6 ? 2 : 1;
            double unit = pow10_pos(3 * k);
            format_fixed(out, sizeof out, v / unit, decimals_for(step / unit), suffix[k]);
        } else {
            format_fixed(out, sizeof out, v, decimals_for(step), "");
        }
    }
    size_t n = strlen(out);
    if (cap > 0) {
        size_t k = n < cap ? n : cap - 1;
        memcpy(buf, out, k);
        buf[k] = '\0';
    }
    return (int)n;
}

/* ---------------------------------------------------------------- drawing */

typedef struct glyph_set {
    const char *vert, *ytick, *corner, *horiz, *xtick, *zero, *key, *cursor, *cursor_tick;
} glyph_set;

static const glyph_set utf8_glyphs = {"│", "┤", "└", "─", "┬", "╌", "■", "┊", "┴"};
static const glyph_set ascii_glyphs = {"|", "+", "+", "-", "+", "-", "#", ":", "^"};

static const char ascii_marks[] = "*+ox%@";

static char ascii_mark(int i)
{
    return ascii_marks[i % (int)(sizeof ascii_marks - 1)];
}

/* Braille dot bit for dot column dx (0, 1) and dot row dy (0..3) of a cell:
 * the Unicode dot numbering 1 2 3 7 down the left, 4 5 6 8 down the right. */
static const unsigned char braille_bit[2][4] = {{0x01, 0x02, 0x04, 0x40},
                                                {0x08, 0x10, 0x20, 0x80}};

static void braille_utf8(unsigned bits, char out[8])
{
    unsigned cp = 0x2800u + bits;
    out[0] = (char)(0xE0u | (cp >> 12));
    out[1] = (char)(0x80u | ((cp >> 6) & 0x3Fu));
    out[2] = (char)(0x80u | (cp & 0x3Fu));
    out[3] = '\0';
}

/* The plot area as a grid of sub-cell dots, with the data-to-dot mapping. */
typedef struct grid {
    tui_glyphs g;
    int pw, ph;          /* plot area, cells */
    int sx, sy;          /* dots per cell across and down */
    int dw, dh;          /* plot area, dots */
    unsigned char *bits; /* per cell: Braille dots, block halves (1 upper,
                          * 2 lower) or the ASCII mark; 0 = empty */
    short *color;
    double xlo, xhi, ylo, yhi;
} grid;

/* Far enough outside the grid to clip the same way, near enough that the
 * arithmetic after it stays exact in double and fits an int. */
static double clamp_coord(double v)
{
    return v < -1e6 ? -1e6 : v > 1e6 ? 1e6 : v;
}

static double map_x(const grid *gr, double x)
{
    if (!(gr->xhi > gr->xlo))
        return (gr->dw - 1) / 2.0;
    return clamp_coord((x - gr->xlo) / (gr->xhi - gr->xlo) * (gr->dw - 1));
}

static double map_y(const grid *gr, double y)
{
    if (!(gr->yhi > gr->ylo))
        return (gr->dh - 1) / 2.0;
    return clamp_coord((gr->yhi - y) / (gr->yhi - gr->ylo) * (gr->dh - 1));
}

static int round_int(double v)
{
    return (int)floor(v + 0.5);
}

/* The cell row that holds value y's dot, or -1 off the grid. */
static int row_of(const grid *gr, double y)
{
    int dy = round_int(map_y(gr, y));
    return dy < 0 || dy >= gr->dh ? -1 : dy / gr->sy;
}

static int col_of(const grid *gr, double x)
{
    int dx = round_int(map_x(gr, x));
    return dx < 0 || dx >= gr->dw ? -1 : dx / gr->sx;
}

static void set_dot(grid *gr, int dx, int dy, char mark, short color)
{
    if (dx < 0 || dy < 0 || dx >= gr->dw || dy >= gr->dh)
        return;
    size_t i = (size_t)(dy / gr->sy) * (size_t)gr->pw + (size_t)(dx / gr->sx);
    switch (gr->g) {
    case TUI_GLYPHS_BRAILLE:
        gr->bits[i] |= braille_bit[dx % 2][dy % 4];
        break;
    case TUI_GLYPHS_BLOCK:
        gr->bits[i] |= (unsigned char)(dy % 2 ? 2 : 1);
        break;
    default:
        gr->bits[i] = (unsigned char)mark;
        break;
    }
    gr->color[i] = color;
}

/* Liang-Barsky: trims the segment to the box [0, w] x [0, h]; false when
 * nothing of it is inside.  Clipping before rasterising keeps a segment
 * from a far-off point (before the x window, above a fixed y range) from
 * costing a Bresenham walk across millions of invisible dots. */
static bool clip_segment(double *ax, double *ay, double *bx, double *by, double w, double h)
{
    double t0 = 0.0, t1 = 1.0;
    double dx = *bx - *ax, dy = *by - *ay;
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {*ax, w - *ax, *ay, h - *ay};
    for (int k = 0; k < 4; k++) {
        if (p[k] == 0.0) {
            if (q[k] < 0.0)
                return false;
            continue;
        }
        double r = q[k] / p[k];
        if (p[k] < 0.0) {
            if (r > t1)
                return false;
            if (r > t0)
                t0 = r;
        } else {
            if (r < t0)
                return false;
            if (r < t1)
                t1 = r;
        }
    }
    double x0 = *ax + t0 * dx, y0 = *ay + t0 * dy;
    *bx = *ax + t1 * dx;
    *by = *ay + t1 * dy;
    *ax = x0;
    *ay = y0;
    return true;
}

static void draw_segment(grid *gr, double ax, double ay, double bx, double by, char mark,
                         short color)
{
    if (!clip_segment(&ax, &ay, &bx, &by, gr->dw - 1, gr->dh - 1))
        return;
    int x = round_int(ax), y = round_int(ay);
    const int x1 = round_int(bx), y1 = round_int(by);
    const int dx = abs(x1 - x), dy = -abs(y1 - y);
    const int step_x = x < x1 ? 1 : -1, step_y = y < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        set_dot(gr, x, y, mark, color);
        if (x == x1 && y == y1)
            break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x += step_x;
        }
        if (e2 <= dx) {
            err += dx;
            y += step_y;
        }
    }
}

/* A marker must stand out from lines: a plus of five dots in Braille, a
 * whole cell in Block mode, the series' mark in ASCII. */
static void draw_marker(grid *gr, double fx, double fy, char mark, short color)
{
    int x = round_int(fx), y = round_int(fy);
    if (x < 0 || y < 0 || x >= gr->dw || y >= gr->dh)
        return;
    switch (gr->g) {
    case TUI_GLYPHS_BRAILLE:
        set_dot(gr, x, y, mark, color);
        set_dot(gr, x - 1, y, mark, color);
        set_dot(gr, x + 1, y, mark, color);
        set_dot(gr, x, y - 1, mark, color);
        set_dot(gr, x, y + 1, mark, color);
        break;
    case TUI_GLYPHS_BLOCK:
        set_dot(gr, x, y - y % 2, mark, color);
        set_dot(gr, x, y - y % 2 + 1, mark, color);
        break;
    default:
        set_dot(gr, x, y, mark, color);
        break;
    }
}

/* Walks a series' points oldest first, smoothing y on the way. */
typedef struct walk {
    const tui_series *s;
    int i, n;
    double alpha, ema;
    bool log_y;
} walk;

static walk walk_start(const tui_plot_series *ps)
{
    walk w = {ps->s, 0, ps->s ? tui_series_len(ps->s) : 0, 0.0, NAN, ps->log_y};
    double a = ps->smooth;
    if (a > 0.0 && a < 1.0 && ps->s) {
        /* A stored point averages `stride` pushed points; the alpha that
         * decays as much per stored point as alpha does over that many
         * pushes keeps the smoothing the same, in steps, after the series
         * halves. */
        w.alpha = 1.0 - pow(1.0 - a, ps->s->stride > 0 ? ps->s->stride : 1);
    }
    return w;
}

static bool walk_next(walk *w, double *x, double *y)
{
    for (;;) {
        if (w->i >= w->n)
            return false;
        double raw;
        tui_series_get(w->s, w->i++, x, &raw);
        w->ema = tui_ema(w->ema, raw, w->alpha);
        if (!w->log_y) {
            *y = w->ema;
            return true;
        }
        if (w->ema > 0.0) { /* a log axis has no room for 0 or less */
            *y = log10(w->ema);
            return true;
        }
    }
}

static void draw_series(grid *gr, const tui_plot_series *ps, char mark, double x_from)
{
    walk w = walk_start(ps);
    double x, y, px = 0.0, py = 0.0;
    bool have_prev = false;
    while (walk_next(&w, &x, &y)) {
        double fx = map_x(gr, x), fy = map_y(gr, y);
        if (x >= x_from) {
            if (ps->markers)
                draw_marker(gr, fx, fy, mark, ps->color);
            else if (have_prev)
                draw_segment(gr, px, py, fx, fy, mark, ps->color);
            else
                draw_segment(gr, fx, fy, fx, fy, mark, ps->color);
        }
        /* A point before the window still starts the segment that enters
         * it, so the line reaches the left edge. */
        px = fx;
        py = fy;
        have_prev = true;
    }
}

static void put_grid(tui_canvas *c, const grid *gr, int px, int top)
{
    for (int cy = 0; cy < gr->ph; cy++)
        for (int cx = 0; cx < gr->pw; cx++) {
            size_t i = (size_t)cy * (size_t)gr->pw + (size_t)cx;
            unsigned b = gr->bits[i];
            if (!b)
                continue;
            char ch[8];
            switch (gr->g) {
            case TUI_GLYPHS_BRAILLE:
                braille_utf8(b, ch);
                break;
            case TUI_GLYPHS_BLOCK:
                strcpy(ch, b == 1 ? "▀" : b == 2 ? "▄" : "█");
                break;
            default:
                ch[0] = (char)b;
                ch[1] = '\0';
                break;
            }
            tui_canvas_put(c, px + cx, top + cy, ch, gr->color[i]);
        }
}

tui_plot_opts tui_plot_defaults(void)
{
    tui_plot_opts o = {.glyphs = TUI_GLYPHS_BRAILLE, .y_lo = NAN, .y_hi = NAN, .legend = true};
    return o;
}

/* Ticks of a nice step inside [lo, hi]: k * step for k in [*k0, *k1]. */
static void ticks_inside(double lo, double hi, double step, double *k0, double *k1)
{
    *k0 = ceil(lo / step - 1e-9);
    *k1 = floor(hi / step + 1e-9);
    if (*k1 - *k0 >= MAX_TICKS)
        *k1 = *k0 + MAX_TICKS - 1;
}

/* Fixed ends stay where the caller put them; free ends move out to the
 * nice range around the data. */
static double y_range(const tui_plot_opts *opt, double dlo, double dhi, int max_ticks,
                      double *ylo, double *yhi)
{
    bool fix_lo = isfinite(opt->y_lo), fix_hi = isfinite(opt->y_hi);
    if (fix_lo && fix_hi && opt->y_lo == opt->y_hi)
        fix_lo = fix_hi = false; /* a zero-initialised tui_plot_opts */
    double lo = fix_lo ? opt->y_lo : dlo, hi = fix_hi ? opt->y_hi : dhi;
    if (fix_lo && !fix_hi && hi < lo)
        hi = lo;
    if (fix_hi && !fix_lo && lo > hi)
        lo = hi;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    double nlo, nhi, step;
    tui_nice_range(lo, hi, max_ticks, &nlo, &nhi, &step);
    *ylo = fix_lo ? lo : nlo;
    *yhi = fix_hi ? hi : nhi;
    if (!(*yhi > *ylo)) {
        if (fix_lo)
            *yhi = *ylo + step;
        else
            *ylo = *yhi - step;
    }
    return step;
}

/* Columns the legend needs for series[0..n), leaving out the point
 * series (validation markers) when skip_markers. */
static int legend_width(const tui_plot_series *series, int n, bool skip_markers)
{
    int total = 0;
    for (int i = 0; i < n; i++) {
        if (!series[i].label || !*series[i].label || (skip_markers && series[i].markers))
            continue;
        total += 2 + tui_utf8_columns(series[i].label) + (total > 0);
    }
    return total;
}

static void draw_legend(tui_canvas *c, int x0, int y0, int w, const tui_plot_series *series,
                        int n, const tui_plot_opts *opt)
{
    bool ascii = opt->glyphs == TUI_GLYPHS_ASCII;
    /* Too narrow for every entry: the lines keep theirs, the point series
     * (which share their line's colour) go first. */
    const bool skip_markers = legend_width(series, n, false) > w;
    int total = 0, last = -1;
    /* Entries in order while they fit; the ones after are left out whole
     * rather than cut mid-word. */
    for (int i = 0; i < n; i++) {
        if (!series[i].label || !*series[i].label || (skip_markers && series[i].markers))
            continue;
        int need = 2 + tui_utf8_columns(series[i].label) + (total > 0);
        if (total + need > w)
            break;
        total += need;
        last = i;
    }
    int x = x0 + w - total;
    bool first = true;
    for (int i = 0; i <= last; i++) {
        const tui_plot_series *ps = &series[i];
        if (!ps->label || !*ps->label || (skip_markers && ps->markers))
            continue;
        x += first ? 0 : 1;
        first = false;
        char key[2] = {ps->mark ? ps->mark : ascii_mark(i), '\0'};
        tui_canvas_put(c, x, y0, ascii ? key : utf8_glyphs.key, ps->color);
        x += 2;
        x += tui_canvas_text(c, x, y0, ps->label, ps->color);
    }
}

/* Smallest and largest x over every stored point, or false with none. */
static bool x_extent(const tui_plot_series *series, int n, double *xmin, double *xmax)
{
    bool any = false;
    for (int i = 0; i < n; i++) {
        walk wk = walk_start(&series[i]);
        double x, y;
        while (walk_next(&wk, &x, &y)) {
            if (!any || x < *xmin)
                *xmin = x;
            if (!any || x > *xmax)
                *xmax = x;
            any = true;
        }
    }
    return any;
}

/* Smallest and largest smoothed y over the points at x >= x_from. */
static void y_extent(const tui_plot_series *series, int n, double x_from, double *ymin,
                     double *ymax)
{
    bool any = false;
    *ymin = *ymax = 0.0;
    for (int i = 0; i < n; i++) {
        walk wk = walk_start(&series[i]);
        double x, y;
        while (walk_next(&wk, &x, &y)) {
            if (x < x_from)
                continue;
            if (!any || y < *ymin)
                *ymin = y;
            if (!any || y > *ymax)
                *ymax = y;
            any = true;
        }
    }
}

typedef struct y_labels {
    char text[MAX_TICKS][MAX_LABEL];
    int row[MAX_TICKS]; /* cell row in the plot area */
    int n, width;       /* width: the widest label, the left margin */
} y_labels;

static void make_y_labels(const grid *gr, double step, y_labels *yl, bool y_log)
{
    double k0, k1;
    ticks_inside(gr->ylo, gr->yhi, step, &k0, &k1);
    /* Top tick first, so a row two ticks share shows the higher one. */
    for (double k = k1; k >= k0; k--) {
        int row = row_of(gr, k * step);
        if (row < 0 || (yl->n > 0 && yl->row[yl->n - 1] == row))
            continue;
        int len = y_log ? snprintf(yl->text[yl->n], MAX_LABEL, "%.2g", pow(10.0, k * step))
                        : tui_format_tick(k * step, step, yl->text[yl->n], MAX_LABEL);
        if (len > yl->width)
            yl->width = len;
        yl->row[yl->n++] = row;
    }
}

/* Labels under the x axis: the coarsest nice step that gives two at least
 * (a lone point gets one), never more than four, none overlapping. */
static void draw_x_ticks(tui_canvas *c, const grid *gr, int px, int axis_row, int left,
                         int right, const glyph_set *gs, const tui_plot_opts *opt)
{
    double step = 1.0, nlo, nhi, k0 = 0.0, k1 = 0.0;
    const bool span = gr->xhi > gr->xlo;
    if (span) {
        int max_ticks = gr->pw / 10 < 1 ? 1 : gr->pw / 10 > 3 ? 3 : gr->pw / 10;
        for (; max_ticks <= 12; max_ticks++) {
            tui_nice_range(gr->xlo, gr->xhi, max_ticks, &nlo, &nhi, &step);
            ticks_inside(gr->xlo, gr->xhi, step, &k0, &k1);
            if (k1 - k0 >= 1)
                break;
        }
    } else {
        tui_nice_range(gr->xlo, gr->xhi, 1, &nlo, &nhi, &step);
    }
    int next_free = left, placed = 0;
    for (double k = k0; k <= k1 && placed < 4; k++) {
        double v = span ? k * step : gr->xlo;
        int col = col_of(gr, v);
        if (col < 0)
            continue;
        col += px;
        char label[MAX_LABEL];
        int len = tui_format_tick(v, step, label, sizeof label);
        int start = col - len / 2;
        if (start + len > right)
            start = right - len;
        if (start < left)
            start = left;
        if (start < next_free)
            continue;
        tui_canvas_text(c, start, axis_row + 1, label, opt->label_color);
        tui_canvas_put(c, col, axis_row, gs->xtick, opt->axis_color);
        next_free = start + len + 1;
        placed++;
    }
}

static void draw_zero_line(tui_canvas *c, const grid *gr, int px, int top,
                           const glyph_set *gs, const tui_plot_opts *opt)
{
    if (!(gr->ylo < 0.0 && gr->yhi > 0.0))
        return;
    int row = row_of(gr, 0.0);
    for (int x = 0; row >= 0 && x < gr->pw; x++) {
        /* ASCII dashes need gaps to read as dashed. */
        bool gap = gr->g == TUI_GLYPHS_ASCII && x % 2 == 1;
        if (!gr->bits[(size_t)row * (size_t)gr->pw + (size_t)x] && !gap)
            tui_canvas_put(c, px + x, top + row, gs->zero, opt->axis_color);
    }
}

/* Where everything goes in a w x h plot: the grid's ranges and cell
 * sizes, the y labels (their width places the axis) and the first plot
 * column.  tui_plot_draw and tui_plot_frame share it, so a column read
 * back by the caller is the column drawn. */
typedef struct plot_layout {
    grid gr;
    y_labels yl;
    bool has_data;
    double x_from;
    int top, ph, axis_row, axis_col, px;
} plot_layout;

static void layout_plot(int x0, int y0, int w, int h, const tui_plot_series *series, int n,
                        const tui_plot_opts *opt, plot_layout *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->top = y0 + (opt->legend ? 1 : 0);
    pl->ph = h - 2 - (opt->legend ? 1 : 0);
    pl->axis_row = pl->top + pl->ph;

    grid *gr = &pl->gr;
    gr->g = opt->glyphs;
    gr->ph = pl->ph;
    gr->sx = opt->glyphs == TUI_GLYPHS_BRAILLE ? 2 : 1;
    gr->sy = opt->glyphs == TUI_GLYPHS_BRAILLE ? 4 : opt->glyphs == TUI_GLYPHS_BLOCK ? 2 : 1;
    gr->dh = pl->ph * gr->sy;

    double xmin = 0.0, xmax = 0.0;
    pl->x_from = -INFINITY;
    pl->has_data = x_extent(series, n, &xmin, &xmax);
    gr->xlo = xmin;
    gr->xhi = xmax;
    if (pl->has_data && opt->x_window > 0.0) {
        pl->x_from = xmax - opt->x_window;
        if (pl->x_from > gr->xlo)
            gr->xlo = pl->x_from;
    }
    if (pl->has_data) {
        double dlo, dhi;
        y_extent(series, n, pl->x_from, &dlo, &dhi);
        int max_ticks = pl->ph / 2 < 1 ? 1 : pl->ph / 2 > 8 ? 8 : pl->ph / 2;
        double step = y_range(opt, dlo, dhi, max_ticks, &gr->ylo, &gr->yhi);
        make_y_labels(gr, step, &pl->yl, opt->y_log);
    }
    pl->axis_col = x0 + pl->yl.width;
    pl->px = pl->axis_col + 1;
    gr->pw = x0 + w - pl->px;
    gr->dw = gr->pw * gr->sx;
}

bool tui_plot_frame(int w, int h, const tui_plot_series *series, int n,
                    const tui_plot_opts *opt, tui_plot_frame_info *f)
{
    tui_plot_opts defaults = tui_plot_defaults();
    if (!opt)
        opt = &defaults;
    if (!series)
        n = 0;
    if (w < 12 || h < 4 || !f)
        return false;
    plot_layout pl;
    layout_plot(0, 0, w, h, series, n, opt, &pl);
    if (!pl.has_data || pl.gr.pw < 1)
        return false;
    f->col0 = pl.px;
    f->cols = pl.gr.pw;
    f->xlo = pl.gr.xlo;
    f->xhi = pl.gr.xhi;
    f->dots_per_col = pl.gr.sx;
    return true;
}

double tui_plot_frame_x(const tui_plot_frame_info *f, int col)
{
    const int dots = f->cols * f->dots_per_col;
    if (col < f->col0)
        col = f->col0;
    if (col >= f->col0 + f->cols)
        col = f->col0 + f->cols - 1;
    if (!(f->xhi > f->xlo) || dots < 2)
        return f->xlo;
    /* the middle dot of the cell, inverted through map_x */
    const double dot = (col - f->col0) * f->dots_per_col + (f->dots_per_col - 1) / 2.0;
    return f->xlo + dot / (dots - 1) * (f->xhi - f->xlo);
}

/* The cursor: a dotted column at the cursor's x through the cells no curve
 * uses, and a tick on the x axis, so the values read out belong to a place
 * a user can see. */
static void draw_cursor(tui_canvas *c, const grid *gr, int px, int top, int axis_row,
                        const glyph_set *gs, const tui_plot_opts *opt)
{
    const int col = col_of(gr, opt->cursor_x);
    if (col < 0)
        return;
    for (int r = 0; r < gr->ph; r++)
        if (!gr->bits[(size_t)r * (size_t)gr->pw + (size_t)col])
            tui_canvas_put(c, px + col, top + r, gs->cursor, opt->label_color);
    tui_canvas_put(c, px + col, axis_row, gs->cursor_tick, opt->label_color);
}

void tui_plot_draw(tui_canvas *c, int x0, int y0, int w, int h, const tui_plot_series *series,
                   int n, const tui_plot_opts *opt)
{
    if (!c || w < 12 || h < 4)
        return;
    tui_plot_opts defaults = tui_plot_defaults();
    if (!opt)
        opt = &defaults;
    if (!series)
        n = 0;
    const glyph_set *gs = opt->glyphs == TUI_GLYPHS_ASCII ? &ascii_glyphs : &utf8_glyphs;
    tui_canvas_fill(c, x0, y0, w, h, " ", 0);

    plot_layout pl;
    layout_plot(x0, y0, w, h, series, n, opt, &pl);
    grid gr = pl.gr;
    const y_labels *yl = &pl.yl;
    const int top = pl.top, ph = pl.ph, axis_row = pl.axis_row, axis_col = pl.axis_col,
              px = pl.px;

    for (int r = 0; r < ph; r++)
        tui_canvas_put(c, axis_col, top + r, gs->vert, opt->axis_color);
    for (int i = 0; i < yl->n; i++) {
        int len = tui_utf8_columns(yl->text[i]);
        tui_canvas_text(c, axis_col - len, top + yl->row[i], yl->text[i], opt->label_color);
        tui_canvas_put(c, axis_col, top + yl->row[i], gs->ytick, opt->axis_color);
    }
    tui_canvas_put(c, axis_col, axis_row, gs->corner, opt->axis_color);
    for (int x = px; x < x0 + w; x++)
        tui_canvas_put(c, x, axis_row, gs->horiz, opt->axis_color);
    if (opt->legend)
        draw_legend(c, x0, y0, w, series, n, opt);

    if (!pl.has_data) {
        static const char msg[] = "waiting for data";
        int len = (int)strlen(msg);
        int x = len < gr.pw ? px + (gr.pw - len) / 2 : px;
        tui_canvas_text_n(c, x, top + (ph - 1) / 2, msg, gr.pw, opt->label_color);
        return;
    }
    draw_x_ticks(c, &gr, px, axis_row, x0, x0 + w, gs, opt);

    size_t cells = (size_t)gr.pw * (size_t)gr.ph;
    gr.bits = calloc(cells, 1);
    gr.color = calloc(cells, sizeof *gr.color);
    if (gr.bits && gr.color) {
        for (int i = 0; i < n; i++)
            draw_series(&gr, &series[i], series[i].mark ? series[i].mark : ascii_mark(i),
                        pl.x_from);
        put_grid(c, &gr, px, top);
        if (opt->zero_line)
            draw_zero_line(c, &gr, px, top, gs, opt);
        if (opt->cursor)
            draw_cursor(c, &gr, px, top, axis_row, gs, opt);
    }
    free(gr.bits);
    free(gr.color);
}

/* ------------------------------------------------------------ bars, heat */

void tui_bar_draw(tui_canvas *c, int x0, int y0, int w, const char *label, double value,
                  short pos_color, short neg_color, tui_glyphs g)
{
    const int label_w = w >= 20 ? 10 : 0;
    const int bar_x = x0 + (label_w ? label_w + 1 : 0);
    const int bar_w = w - (label_w ? label_w + 1 : 0) - 6; /* 6: a space, the value */
    if (!c || bar_w < 3)
        return;
    const bool ascii = g == TUI_GLYPHS_ASCII;
    tui_canvas_fill(c, x0, y0, w, 1, " ", 0);
    if (label_w && label)
        tui_canvas_text_n(c, x0, y0, label, label_w, 0);
    /* An odd bar keeps both halves the same length; an even width leaves
     * its last column blank. */
    const int half = (bar_w - 1) / 2, centre = bar_x + half;
    tui_canvas_put(c, centre, y0, ascii ? "|" : "│", 0);

    char text[32];
    short color = 0;
    if (isnan(value)) {
        strcpy(text, "  n/a");
    } else {
        double v = value + 0.0; /* -0.0 would print as "-0.00" */
        double mag = fabs(v) > 1.0 ? 1.0 : fabs(v);
        color = v > 0.0 ? pos_color : v < 0.0 ? neg_color : 0;
        const int dir = v < 0.0 ? -1 : 1;
        if (ascii) {
            int cells = round_int(mag * half);
            for (int k = 1; k <= cells; k++)
                tui_canvas_put(c, centre + dir * k, y0, "#", color);
        } else {
            static const char *const left_eighths[8] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
            int eighths = round_int(mag * half * 8);
            int full = eighths / 8, rem = eighths % 8;
            for (int k = 1; k <= full; k++)
                tui_canvas_put(c, centre + dir * k, y0, "█", color);
            if (rem > 0) {
                const char *part = dir > 0 ? left_eighths[rem]
                                   : rem <= 2 ? "▕"
                                   : rem <= 5 ? "▐"
                                              : "█";
                tui_canvas_put(c, centre + dir * (full + 1), y0, part, color);
            }
        }
        snprintf(text, sizeof text, "%+.2f", v);
    }
    int len = (int)strlen(text);
    tui_canvas_text(c, x0 + w - len, y0, text, color);
}

void tui_heat_row(tui_canvas *c, int x0, int y0, const double *values, int n, tui_glyphs g,
                  short (*color_for)(double v, void *ctx), void *ctx)
{
    if (!c || !values)
        return;
    for (int i = 0; i < n; i++) {
        double v = values[i];
        const char *ch;
        if (g == TUI_GLYPHS_ASCII)
            ch = isnan(v) ? "?" : v > 0.0 ? "+" : v < 0.0 ? "-" : "0";
        else
            ch = isnan(v) ? "░" : "█";
        tui_canvas_put(c, x0 + i, y0, ch, color_for ? color_for(v, ctx) : 0);
    }
}

const char *tui_heat_glyph(double v, tui_glyphs g, bool signed_glyphs)
{
    if (isnan(v))
        return " ";
    const double a = fabs(v);
    if (signed_glyphs || g == TUI_GLYPHS_ASCII)
        return a < 0.1 ? "." : a < 0.5 ? (v > 0 ? "+" : "-") : (v > 0 ? "#" : "=");
    return a < 0.1 ? "\u00b7" : a < 0.3 ? "\u2591" : a < 0.6 ? "\u2592" : a < 0.85 ? "\u2593"
                                                                            : "\u2588";
}

void tui_heat_map(tui_canvas *c, int x0, int y0, int n_cols, const tui_series *const *rows,
                  int n_rows, double x_lo, double x_hi, tui_glyphs g, bool signed_glyphs,
                  short pos_color, short neg_color)
{
    if (!c || n_cols <= 0 || !(x_hi >= x_lo))
        return;
    const double span = x_hi > x_lo ? x_hi - x_lo : 1.0;
    double *sum = calloc((size_t)n_cols, sizeof *sum);
    int *cnt = calloc((size_t)n_cols, sizeof *cnt);
    for (int r = 0; sum && cnt && r < n_rows; r++) {
        memset(sum, 0, (size_t)n_cols * sizeof *sum);
        memset(cnt, 0, (size_t)n_cols * sizeof *cnt);
        const int len = tui_series_len(rows[r]);
        for (int i = 0; i < len; i++) {
            double x, y;
            tui_series_get(rows[r], i, &x, &y);
            int col = (int)((x - x_lo) / span * n_cols);
            col = col < 0 ? 0 : col >= n_cols ? n_cols - 1 : col;
            sum[col] += y;
            cnt[col]++;
        }
        for (int col = 0; col < n_cols; col++) {
            const double v = cnt[col] ? sum[col] / cnt[col] : NAN;
            tui_canvas_put(c, x0 + col, y0 + r, tui_heat_glyph(v, g, signed_glyphs),
                           isnan(v) ? 0 : v < 0 ? neg_color : pos_color);
        }
    }
    free(sum);
    free(cnt);
}

int tui_heat_legend(tui_canvas *c, int x0, int y0, tui_glyphs g, bool signed_glyphs,
                    short pos_color, short neg_color, short label_color)
{
    static const double levels[] = {-0.9, -0.7, -0.4, -0.2, 0.0, 0.2, 0.4, 0.7, 0.9};
    const bool sg = signed_glyphs || g == TUI_GLYPHS_ASCII;
    int x = x0;
    tui_canvas_text(c, x, y0, "-1 ", label_color);
    x += 3;
    const char *last = NULL;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        const char *glyph = tui_heat_glyph(levels[i], g, signed_glyphs);
        /* signed mode has fewer shades: each once */
        if (sg && last && strcmp(glyph, last) == 0)
            continue;
        tui_canvas_put(c, x++, y0, glyph, levels[i] < 0 ? neg_color : levels[i] > 0 ? pos_color
                                                                                      : label_color);
        last = glyph;
    }
    tui_canvas_text(c, x, y0, " +1", label_color);
    return x + 3 - x0;
}
