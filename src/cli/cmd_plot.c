/* mtbert plot: figures of saved runs (their metrics files), drawn with
 * cairo into SVG or PNG: training loss per task (log scale: the STS loss
 * would squash the others), the dev metrics at each evaluation, and the
 * cosine of each task pair's gradients.  Tasks (and pairs) by colour, runs
 * by line pattern, so a grayscale print still tells the runs apart. */
#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_RUNS 6
#define FIG_W 960.0
#define PANEL_H 270.0
#define MARGIN_L 70.0
#define MARGIN_R 200.0 /* the legend */
#define MARGIN_T 40.0
#define GAP 60.0

typedef struct series {
    double *x, *y;
    int n, cap;
} series;

/* One run's curves. */
typedef struct run_curves {
    char name[64];
    series loss[MTB_N_TASKS];   /* training loss, smoothed */
    series dev[MTB_N_TASKS];    /* SST acc, Quora acc, STS r */
    series cos[MTB_MAX_PAIRS];  /* sst-para, sst-sts, para-sts, smoothed */
    double ema_loss[MTB_N_TASKS], ema_cos[MTB_MAX_PAIRS];
} run_curves;

static void push(series *s, double x, double y)
{
    if (!isfinite(x) || !isfinite(y))
        return;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 256;
        double *nx = realloc(s->x, sizeof(double) * (size_t)cap);
        double *ny = nx ? realloc(s->y, sizeof(double) * (size_t)cap) : NULL;
        if (!nx || !ny) {
            s->x = nx ? nx : s->x;
            return;
        }
        s->x = nx;
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
}

static void free_series(series *s)
{
    free(s->x);
    free(s->y);
}

/* Exponential moving average, weight 0.05 per new point: the curves
 * readable, their turns where they happen. */
static double ema(double *state, double v)
{
    *state = isnan(*state) ? v : *state + 0.05 * (v - *state);
    return *state;
}

static int pair_index(int a, int b)
{
    return a == 0 ? b - 1 : 2; /* (0,1) (0,2) (1,2) */
}

static void collect_event(const mtb_event *ev, void *ctx)
{
    run_curves *r = ctx;
    const double x = (double)ev->step;
    if (ev->type == MTB_EV_STEP) {
        for (int t = 0; t < MTB_N_TASKS; t++)
            if (ev->u.step.active[t] && isfinite(ev->u.step.loss[t]))
                push(&r->loss[t], x, ema(&r->ema_loss[t], ev->u.step.loss[t]));
    } else if (ev->type == MTB_EV_CONFLICT) {
        const mtb_conflict_stats *cs = &ev->u.conflict;
        for (int p = 0; p < cs->n_pairs; p++) {
            const int k = pair_index(cs->task[cs->pair[p][0]], cs->task[cs->pair[p][1]]);
            if (isfinite(cs->cos[p]))
                push(&r->cos[k], x, ema(&r->ema_cos[k], cs->cos[p]));
        }
    } else if (ev->type == MTB_EV_EVAL) {
        const mtb_eval_result *e = &ev->u.eval;
        const double v[MTB_N_TASKS] = {e->sst_acc, e->para_acc, e->sts_corr};
        for (int t = 0; t < MTB_N_TASKS; t++)
            if (e->has[t])
                push(&r->dev[t], x, v[t]);
    }
}

/* ------------------------------------------------------------- drawing */

typedef struct panel {
    double x0, y0, w, h;         /* the plotting area */
    double xmin, xmax, ymin, ymax;
    bool log_y;
} panel;

static const double task_rgb[MTB_N_TASKS][3] = {
    {0.12, 0.47, 0.71}, {0.80, 0.20, 0.60}, {0.90, 0.55, 0.05}};
static const double pair_rgb[MTB_MAX_PAIRS][3] = {
    {0.20, 0.40, 0.85}, {0.15, 0.65, 0.30}, {0.85, 0.30, 0.30}};
static const double dashes[MAX_RUNS][4] = {
    {0, 0, 0, 0}, {8, 4, 0, 0}, {2, 3, 0, 0}, {8, 3, 2, 3}, {12, 4, 0, 0}, {4, 2, 4, 6}};
static const int n_dashes[MAX_RUNS] = {0, 2, 2, 4, 2, 4};

static double px(const panel *p, double x)
{
    return p->x0 + (p->xmax > p->xmin ? (x - p->xmin) / (p->xmax - p->xmin) : 0.5) * p->w;
}

static double py(const panel *p, double y)
{
    double lo = p->ymin, hi = p->ymax;
    if (p->log_y) {
        y = log10(y > 1e-12 ? y : 1e-12);
        lo = log10(lo);
        hi = log10(hi);
    }
    return p->y0 + p->h - (hi > lo ? (y - lo) / (hi - lo) : 0.5) * p->h;
}

/* A step of 1, 2 or 5 times a power of ten giving at most n ticks. */
static double nice_step(double span, int n)
{
    if (!(span > 0))
        return 1.0;
    const double raw = span / n, mag = pow(10.0, floor(log10(raw)));
    const double f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

static void text(cairo_t *cr, double x, double y, const char *s, double align)
{
    cairo_text_extents_t ext;
    cairo_text_extents(cr, s, &ext);
    cairo_move_to(cr, x - align * ext.x_advance, y);
    cairo_show_text(cr, s);
}

static void draw_axes(cairo_t *cr, const panel *p, const char *title, const char *ylabel)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.0);
    cairo_set_dash(cr, NULL, 0, 0);
    cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 14);
    text(cr, p->x0, p->y0 - 10, title, 0.0);
    cairo_set_font_size(cr, 11);
    char buf[32];
    /* x ticks */
    const double xs = nice_step(p->xmax - p->xmin, 8);
    for (double v = ceil(p->xmin / xs) * xs; v <= p->xmax + 1e-9; v += xs) {
        const double x = px(p, v);
        cairo_move_to(cr, x, p->y0 + p->h);
        cairo_line_to(cr, x, p->y0 + p->h + 4);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.0f", v);
        text(cr, x, p->y0 + p->h + 16, buf, 0.5);
    }
    text(cr, p->x0 + p->w, p->y0 + p->h + 32, "step", 1.0);
    /* y ticks: decades and their 2 and 5 on a log axis */
    cairo_set_source_rgba(cr, 0, 0, 0, 0.12);
    if (p->log_y) {
        for (double d = pow(10, floor(log10(p->ymin))); d <= p->ymax * 1.0001; d *= 10)
            for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
                const double v = d * m;
                if (v < p->ymin * 0.9999 || v > p->ymax * 1.0001)
                    continue;
                const double y = py(p, v);
                cairo_set_source_rgba(cr, 0, 0, 0, 0.12);
                cairo_move_to(cr, p->x0, y);
                cairo_line_to(cr, p->x0 + p->w, y);
                cairo_stroke(cr);
                cairo_set_source_rgb(cr, 0, 0, 0);
                snprintf(buf, sizeof buf, "%g", v);
                text(cr, p->x0 - 6, y + 4, buf, 1.0);
            }
    } else {
        const double ys = nice_step(p->ymax - p->ymin, 6);
        for (double v = ceil(p->ymin / ys) * ys; v <= p->ymax + 1e-9; v += ys) {
            const double y = py(p, v);
            cairo_set_source_rgba(cr, 0, 0, 0, fabs(v) < 1e-12 ? 0.4 : 0.12);
            cairo_move_to(cr, p->x0, y);
            cairo_line_to(cr, p->x0 + p->w, y);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 0, 0, 0);
            snprintf(buf, sizeof buf, "%g", fabs(v) < 1e-12 ? 0.0 : v);
            text(cr, p->x0 - 6, y + 4, buf, 1.0);
        }
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_save(cr);
    cairo_translate(cr, p->x0 - 50, p->y0 + p->h / 2);
    cairo_rotate(cr, -M_PI / 2);
    text(cr, 0, 0, ylabel, 0.5);
    cairo_restore(cr);
}

static void draw_series(cairo_t *cr, const panel *p, const series *s, const double rgb[3],
                        int run, bool markers)
{
    if (s->n == 0)
        return;
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, 1.6);
    cairo_set_dash(cr, dashes[run % MAX_RUNS], n_dashes[run % MAX_RUNS], 0);
    for (int i = 0; i < s->n; i++) {
        const double x = px(p, s->x[i]), y = py(p, s->y[i]);
        if (i == 0)
            cairo_move_to(cr, x, y);
        else
            cairo_line_to(cr, x, y);
    }
    cairo_stroke(cr);
    if (markers) {
        cairo_set_dash(cr, NULL, 0, 0);
        for (int i = 0; i < s->n; i++) {
            cairo_arc(cr, px(p, s->x[i]), py(p, s->y[i]), 2.8, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
}

/* The legend's entry k of a panel: a short line in the series' style and
 * its label. */
static void legend_entry(cairo_t *cr, const panel *p, int k, const double rgb[3], int run,
                         const char *label)
{
    const double x = p->x0 + p->w + 14, y = p->y0 + 10 + 15 * k;
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, 1.6);
    cairo_set_dash(cr, dashes[run % MAX_RUNS], n_dashes[run % MAX_RUNS], 0);
    cairo_move_to(cr, x, y - 4);
    cairo_line_to(cr, x + 28, y - 4);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, 10);
    text(cr, x + 34, y, label, 0.0);
}

typedef enum { PANEL_LOSS, PANEL_DEV, PANEL_COS } panel_kind;

static void draw_panel(cairo_t *cr, panel_kind kind, const run_curves *runs, int n_runs,
                       double top)
{
    panel p = {.x0 = MARGIN_L, .y0 = top, .w = FIG_W - MARGIN_L - MARGIN_R, .h = PANEL_H,
               .xmin = INFINITY, .xmax = -INFINITY, .ymin = INFINITY, .ymax = -INFINITY,
               .log_y = kind == PANEL_LOSS};
    static const char *const task_names[MTB_N_TASKS] = {"sst", "para", "sts"};
    static const char *const dev_names[MTB_N_TASKS] = {"SST acc", "Quora acc", "STS r"};
    static const char *const pair_names[MTB_MAX_PAIRS] = {"sst-para", "sst-sts", "para-sts"};
    const int n_kinds = 3;
    for (int r = 0; r < n_runs; r++)
        for (int k = 0; k < n_kinds; k++) {
            const series *s = kind == PANEL_LOSS  ? &runs[r].loss[k]
                              : kind == PANEL_DEV ? &runs[r].dev[k]
                                                  : &runs[r].cos[k];
            for (int i = 0; i < s->n; i++) {
                p.xmin = fmin(p.xmin, s->x[i]);
                p.xmax = fmax(p.xmax, s->x[i]);
                if (!p.log_y || s->y[i] > 0) {
                    p.ymin = fmin(p.ymin, s->y[i]);
                    p.ymax = fmax(p.ymax, s->y[i]);
                }
            }
        }
    const char *title = kind == PANEL_LOSS  ? "Training loss (smoothed; log scale)"
                        : kind == PANEL_DEV ? "Dev metrics at each evaluation"
                                            : "Gradient cosine per task pair (smoothed)";
    if (!(p.xmax >= p.xmin)) {
        draw_axes(cr, &(panel){.x0 = p.x0, .y0 = p.y0, .w = p.w, .h = p.h, .xmin = 0,
                               .xmax = 1, .ymin = 0, .ymax = 1},
                  title, "");
        cairo_set_font_size(cr, 12);
        text(cr, p.x0 + p.w / 2, p.y0 + p.h / 2, "nothing recorded", 0.5);
        return;
    }
    if (kind == PANEL_LOSS) {
        p.ymin = pow(10, floor(log10(p.ymin) * 2) / 2);
        p.ymax = pow(10, ceil(log10(p.ymax) * 2) / 2);
    } else if (kind == PANEL_COS) {
        const double m = fmax(fabs(p.ymin), fabs(p.ymax));
        p.ymin = -ceil(m * 10) / 10;
        p.ymax = ceil(m * 10) / 10;
    } else {
        p.ymin = fmin(0.0, floor(p.ymin * 10) / 10);
        p.ymax = 1.0;
    }
    draw_axes(cr, &p, title, kind == PANEL_LOSS ? "loss" : kind == PANEL_DEV ? "metric"
                                                                               : "cosine");
    int entry = 0;
    for (int r = 0; r < n_runs; r++)
        for (int k = 0; k < n_kinds; k++) {
            const series *s = kind == PANEL_LOSS  ? &runs[r].loss[k]
                              : kind == PANEL_DEV ? &runs[r].dev[k]
                                                  : &runs[r].cos[k];
            const double *rgb = kind == PANEL_COS ? pair_rgb[k] : task_rgb[k];
            if (s->n == 0)
                continue;
            draw_series(cr, &p, s, rgb, r, kind == PANEL_DEV);
            char label[128];
            snprintf(label, sizeof label, "%.40s %s", runs[r].name,
                     kind == PANEL_LOSS  ? task_names[k]
                     : kind == PANEL_DEV ? dev_names[k]
                                         : pair_names[k]);
            legend_entry(cr, &p, entry++, rgb, r, label);
        }
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert plot RUN... --out FILE.svg|FILE.png\n"
            "\n"
            "Draws the runs' training loss per task (smoothed, log scale), their dev\n"
            "metrics at each evaluation and the cosine of each task pair's gradients,\n"
            "one panel each.  RUN is a run folder or its metrics file; up to %d runs,\n"
            "told apart by line pattern, tasks and pairs by colour.\n"
            "\n"
            "      --out FILE   an .svg or .png file\n"
            "  -h, --help       show this help\n", MAX_RUNS);
}

static bool ends_with(const char *s, const char *tail)
{
    const size_t n = strlen(s), m = strlen(tail);
    return n > m && strcmp(s + n - m, tail) == 0;
}

int cmd_plot(int argc, char **argv)
{
    static const struct option options[] = {
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'h': usage(stdout); return FE_OK;
        default: return fe_bad_option("plot", argv[optind - 1]);
        }
    }
    const int n_runs = argc - optind;
    if (n_runs < 1)
        return fe_usage_error("plot", "which runs? give a run folder or metrics file");
    if (n_runs > MAX_RUNS)
        return fe_usage_error("plot", "at most %d runs in one figure", MAX_RUNS);
    if (!out)
        return fe_usage_error("plot", "--out FILE.svg or FILE.png is needed");
    const bool svg = ends_with(out, ".svg"), png = ends_with(out, ".png");
    if (!svg && !png)
        return fe_usage_error("plot", "--out must end in .svg or .png, not '%s'", out);

    static run_curves runs[MAX_RUNS];
    memset(runs, 0, sizeof runs);
    int status = FE_OK;
    for (int r = 0; r < n_runs && status == FE_OK; r++) {
        for (int t = 0; t < MTB_N_TASKS; t++)
            runs[r].ema_loss[t] = runs[r].ema_cos[t] = NAN;
        metrics_run_name(argv[optind + r], runs[r].name, sizeof runs[r].name);
        char path[4200];
        mtb_error err = {0};
        if (metrics_path_of_run(argv[optind + r], path, sizeof path, &err) ||
            metrics_replay(path, -1, collect_event, &runs[r], &err))
            status = fe_report(&err);
    }
    const double height = MARGIN_T + 3 * PANEL_H + 2 * GAP + 50;
    cairo_surface_t *surface = NULL;
    if (status == FE_OK) {
        surface = svg ? cairo_svg_surface_create(out, FIG_W, height)
                      : cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)FIG_W, (int)height);
        if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
            fprintf(stderr, "mtbert: %s: cannot write the figure (%s)\n", out,
                    cairo_status_to_string(cairo_surface_status(surface)));
            status = FE_FAIL;
        }
    }
    if (status == FE_OK) {
        cairo_t *cr = cairo_create(surface);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                               CAIRO_FONT_WEIGHT_NORMAL);
        for (int k = 0; k < 3; k++)
            draw_panel(cr, (panel_kind)k, runs, n_runs, MARGIN_T + k * (PANEL_H + GAP));
        cairo_destroy(cr);
        cairo_surface_flush(surface);
        if (png && cairo_surface_write_to_png(surface, out) != CAIRO_STATUS_SUCCESS) {
            fprintf(stderr, "mtbert: %s: cannot write the figure\n", out);
            status = FE_FAIL;
        }
        cairo_surface_finish(surface);
        if (status == FE_OK && cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
            fprintf(stderr, "mtbert: %s: cannot write the figure (%s)\n", out,
                    cairo_status_to_string(cairo_surface_status(surface)));
            status = FE_FAIL;
        }
    }
    if (surface)
        cairo_surface_destroy(surface);
    /* Cairo and fontconfig keep font caches for the life of the process; releasing
       them here keeps leak checkers (the sanitizer build) quiet about a one-shot
       command. */
    cairo_debug_reset_static_data();
    FcFini();
    for (int r = 0; r < n_runs; r++)
        for (int k = 0; k < 3; k++) {
            free_series(&runs[r].loss[k]);
            free_series(&runs[r].dev[k]);
            free_series(&runs[r].cos[k]);
        }
    if (status == FE_OK)
        fprintf(stderr, "mtbert: wrote %s\n", out);
    return status;
}
