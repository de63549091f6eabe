/* Layers pane: where in the encoder the tasks disagree.  Its first view
 * (F12 cycles) is the latest step: a heat row per task pair (one cell per
 * parameter group: embeddings, each layer, pooler), bars for the most
 * conflicting pair, then projection counts and norms.  The others are one
 * task pair's heat map over time: a row per group, a column per stretch
 * of steps, shade = |cosine| and colour = its sign. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "draw.h"
#include "pane_layers.h"

/* "embed", "layer 0" (or "L0" in short), ..., "pooler" */
static void group_label(int g, int n_groups, bool short_form, char *buf, size_t cap)
{
    if (g == 0)
        snprintf(buf, cap, "embed");
    else if (g == n_groups - 1)
        snprintf(buf, cap, "pooler");
    else
        snprintf(buf, cap, short_form ? "L%d" : "layer %d", g - 1);
}

/* Pair index (into tui_data's pairs) of heat-map view v >= 1: the v-th pair
 * with data, or -1. */
static int view_pair(const tui_data *d, int v)
{
    for (int p = 0; p < MTB_MAX_PAIRS; p++)
        if (tui_series_len(&d->cos[p]) > 0 && --v == 0)
            return p;
    return -1;
}

static void draw_heat_view(tui_app *app, int pair, int w, int h)
{
    const tui_data *d = &app->data;
    static const char *names[MTB_MAX_PAIRS] = {"sst-para", "sst-sts", "para-sts"};
    double x_lo = NAN, x_hi = NAN, y;
    tui_series_get(&d->cos[pair], 0, &x_lo, &y);
    tui_series_last(&d->cos[pair], &x_hi, &y);
    char buf[128];
    snprintf(buf, sizeof buf, "%s, steps %.0f-%.0f", names[pair], x_lo, x_hi);
    tui_canvas_text(&app->canvas, 0, 0, buf, (short)(TUI_C_PAIR_SST_PARA + pair));
    const bool signed_glyphs = !app->color;
    const int legend_w = tui_utf8_columns(buf) + 2 + 15 <= w ? 15 : 0;
    if (legend_w)
        tui_heat_legend(&app->canvas, w - 15, 0, app->glyphs, signed_glyphs, TUI_C_POSITIVE,
                        TUI_C_NEGATIVE, TUI_C_LABEL);
    const int label_w = 7, cols = w - label_w;
    const int rows = d->n_groups < h - 2 ? d->n_groups : h - 2;
    if (cols > 0 && rows > 0) {
        const tui_series *row_series[MTB_MAX_GROUPS];
        for (int g = 0; g < rows; g++) {
            group_label(g, d->n_groups, true, buf, sizeof buf);
            tui_canvas_text(&app->canvas, 0, 1 + g, buf, TUI_C_LABEL);
            row_series[g] = &d->group_cos[pair][g];
        }
        tui_heat_map(&app->canvas, label_w, 1, cols, row_series, rows, x_lo, x_hi, app->glyphs,
                     signed_glyphs, TUI_C_POSITIVE, TUI_C_NEGATIVE);
    }
    if (h >= 2) {
        const long steps = d->conflict_steps;
        snprintf(buf, sizeof buf, "cos < 0 in %ld%% of %ld steps%s  F12: next",
                 steps ? 100 * d->conflicts[pair] / steps : 0, steps,
                 rows < d->n_groups ? "; more groups: zoom F4" : "");
        tui_canvas_text(&app->canvas, 0, h - 1, buf, TUI_C_LABEL);
    }
}

static short heat_color(double v, void *ctx)
{
    (void)ctx;
    return (short)(isnan(v) ? TUI_C_LABEL : v < 0 ? TUI_C_NEGATIVE : TUI_C_POSITIVE);
}

/* The statistics at the cursor's step: each pair's cosines, whole encoder
 * and per group, from the curves (the stored point nearest the step; NaN
 * where a group has none).  The rest stays the latest step's. */
static void stats_at_cursor(const tui_app *app, mtb_conflict_stats *cs)
{
    const tui_data *d = &app->data;
    for (int p = 0; p < cs->n_pairs; p++) {
        const int k = tui_data_pair_index(d, cs->task[cs->pair[p][0]], cs->task[cs->pair[p][1]]);
        if (k < 0)
            continue;
        double x, v;
        cs->cos[p] = tui_series_nearest(&d->cos[k], app->cursor_step, false, &x, &v) ? v : NAN;
        for (int g = 0; g < cs->n_groups; g++)
            cs->group_cos[p][g] =
                tui_series_nearest(&d->group_cos[k][g], app->cursor_step, false, &x, &v) ? v
                                                                                         : NAN;
    }
}

/* A heat row per task pair (a cell per parameter group) from the top;
 * returns the rows drawn and, in *worst, the pair whose whole-encoder
 * cosine is lowest. */
static int draw_pair_rows(tui_app *app, const mtb_conflict_stats *cs, int w, int h, int *worst)
{
    const tui_data *d = &app->data;
    char buf[256];
    double vals[MTB_MAX_GROUPS];
    int y = 0;
    *worst = 0;
    for (int p = 0; p < cs->n_pairs && y < h; p++, y++) {
        snprintf(buf, sizeof buf, "%s-%s", mtb_task_name((mtb_task)cs->task[cs->pair[p][0]]),
                 mtb_task_name((mtb_task)cs->task[cs->pair[p][1]]));
        const int k = tui_data_pair_index(d, cs->task[cs->pair[p][0]], cs->task[cs->pair[p][1]]);
        tui_canvas_text(&app->canvas, 0, y, buf, (short)(TUI_C_PAIR_SST_PARA + (k < 0 ? 0 : k)));
        for (int g = 0; g < cs->n_groups; g++)
            vals[g] = cs->group_zero[g] ? NAN : cs->group_cos[p][g]; /* no gradient: n/a */
        int cells = cs->n_groups < w - 10 ? cs->n_groups : w - 10;
        if (cells > 0)
            tui_heat_row(&app->canvas, 10, y, vals, cells, app->glyphs, heat_color, NULL);
        if (cs->cos[p] < cs->cos[*worst] || isnan(cs->cos[*worst]))
            *worst = p;
    }
    return y;
}

/* How often each task's gradient was projected off each other's, in whole
 * entries wrapped to w columns; returns the lines (at most 4). */
static int projection_lines(const tui_data *d, const mtb_conflict_stats *cs, int w,
                            char lines[4][TUI_WRAP_COLS])
{
    char proj[256];
    int pn = 0;
    proj[0] = '\0';
    for (int i = 0; i < cs->n_tasks; i++)
        for (int j = 0; j < cs->n_tasks; j++) {
            if (i == j)
                continue;
            int ti = cs->task[i], tj = cs->task[j];
            long c = d->projected[ti][tj];
            pn += snprintf(proj + pn, sizeof proj - (size_t)pn, "%s<%s %ld%%  ",
                           mtb_task_name((mtb_task)ti), mtb_task_name((mtb_task)tj),
                           d->conflict_steps ? 100 * c / d->conflict_steps : 0);
            if (pn >= (int)sizeof proj)
                pn = (int)sizeof proj - 1;
        }
    return tui_wrap_words(proj, w, lines, 4);
}

/* Below the heat rows from row y, above row end: a gap, a title and a bar
 * per group for the most conflicting pair, where two or more fit. */
static void draw_worst_bars(tui_app *app, const mtb_conflict_stats *cs, int worst, int y,
                            int end, int w)
{
    char buf[256];
    if (y + 3 >= end)
        return;
    snprintf(buf, sizeof buf, "%s-%s by group:",
             mtb_task_name((mtb_task)cs->task[cs->pair[worst][0]]),
             mtb_task_name((mtb_task)cs->task[cs->pair[worst][1]]));
    tui_canvas_text(&app->canvas, 0, ++y, buf, TUI_C_TITLE);
    y++;
    for (int g = 0; g < cs->n_groups && y < end; g++, y++) {
        group_label(g, cs->n_groups, false, buf, sizeof buf);
        tui_bar_draw(&app->canvas, 0, y, w, buf,
                     cs->group_zero[g] ? NAN : cs->group_cos[worst][g], TUI_C_POSITIVE,
                     TUI_C_NEGATIVE, app->glyphs);
    }
}

/* The bottom rows: the projection rates, then each task's gradient norm. */
static void draw_rates_and_norms(tui_app *app, const mtb_conflict_stats *cs,
                                 char proj_lines[4][TUI_WRAP_COLS], int n_proj, int h,
                                 bool at_cursor)
{
    char buf[256];
    for (int k = 0; k < n_proj; k++)
        tui_canvas_text(&app->canvas, 0, h - 1 - n_proj + k, proj_lines[k], TUI_C_LABEL);
    int n = snprintf(buf, sizeof buf, "%s", at_cursor ? "|grad| now" : "|grad|");
    for (int i = 0; i < cs->n_tasks && n < (int)sizeof buf; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "  %s %.3g",
                      mtb_task_name((mtb_task)cs->task[i]), cs->norm[i]);
    tui_canvas_text(&app->canvas, 0, h - 1, buf, TUI_C_LABEL);
}

/* The first view: the latest step's statistics (the cursor's, with the
 * cursor on), w x h cells. */
static void draw_step_view(tui_app *app, int w, int h, bool at_cursor)
{
    mtb_conflict_stats shown = app->data.last_conflict;
    if (at_cursor)
        stats_at_cursor(app, &shown);
    int worst;
    const int y = draw_pair_rows(app, &shown, w, h, &worst);
    /* the rates get the rows below the heat rows first (as many whole
     * lines as fit, at least one), the bars what is left */
    char proj_lines[4][TUI_WRAP_COLS];
    int n_proj = projection_lines(&app->data, &shown, w, proj_lines);
    const int spare = h - 1 - y;
    if (n_proj > spare)
        n_proj = spare > 1 ? spare : 1;
    draw_worst_bars(app, &shown, worst, y, h - 1 - n_proj, w);
    if (h >= 3)
        draw_rates_and_norms(app, &shown, proj_lines, n_proj, h, at_cursor);
}

void pane_layers_draw(tui_app *app, const tui_rect *r)
{
    char title[96];
    const bool at_cursor = app->cursor_on && app->layers_view == 0;
    if (at_cursor)
        snprintf(title, sizeof title, "Layers at step %.0f: cosine per parameter group",
                 app->cursor_step);
    else
        snprintf(title, sizeof title, "Layers: cosine per parameter group");
    tui_draw_box(app, r, title, app->zoomed == TUI_PANE_LAYERS);
    const int w = r->w - 2, h = r->h - 2;
    if (w <= 0 || h <= 0 || tui_canvas_fit(&app->canvas, w, h))
        return;
    tui_canvas_clear(&app->canvas);
    const tui_data *d = &app->data;
    const int pair = app->layers_view > 0 ? view_pair(d, app->layers_view) : -1;
    if (!d->has_conflict)
        tui_canvas_text(&app->canvas, 1, 0,
                        d->step > 0 ? "single-task mode: nothing to compare"
                                    : "waiting for the first step",
                        TUI_C_LABEL);
    else if (pair >= 0)
        draw_heat_view(app, pair, w, h);
    else
        draw_step_view(app, w, h, at_cursor);
    tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
}
