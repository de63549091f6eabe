/* Layers pane: where in the encoder the tasks disagree.  A heat row per
 * task pair (one cell per parameter group: embeddings, each layer, pooler),
 * bars for the most conflicting pair, then projection counts and norms. */
#include <math.h>
#include <stdio.h>

#include "app.h"

static short heat_color(double v, void *ctx)
{
    (void)ctx;
    return (short)(isnan(v) ? TUI_C_LABEL : v < 0 ? TUI_C_NEGATIVE : TUI_C_POSITIVE);
}

static void group_label(int g, int n_groups, char *buf, size_t cap)
{
    if (g == 0)
        snprintf(buf, cap, "embed");
    else if (g == n_groups - 1)
        snprintf(buf, cap, "pooler");
    else
        snprintf(buf, cap, "layer %d", g - 1);
}

void pane_layers_draw(tui_app *app, const tui_rect *r)
{
    tui_draw_box(app, r, "Layers: cosine per parameter group", app->zoomed == TUI_PANE_LAYERS);
    const int w = r->w - 2, h = r->h - 2;
    if (w <= 0 || h <= 0 || tui_canvas_fit(&app->canvas, w, h))
        return;
    tui_canvas_clear(&app->canvas);
    const tui_data *d = &app->data;
    if (!d->has_conflict) {
        tui_canvas_text(&app->canvas, 1, 0,
                        d->step > 0 ? "single-task mode: nothing to compare"
                                    : "waiting for the first step",
                        TUI_C_LABEL);
        tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
        return;
    }
    const mtb_conflict_stats *cs = &d->last_conflict;
    int y = 0;
    char buf[256];
    /* heat rows */
    double vals[MTB_MAX_GROUPS];
    int worst = 0;
    for (int p = 0; p < cs->n_pairs && y < h; p++, y++) {
        snprintf(buf, sizeof buf, "%s-%s", mtb_task_name((mtb_task)cs->task[cs->pair[p][0]]),
                 mtb_task_name((mtb_task)cs->task[cs->pair[p][1]]));
        const int k = tui_data_pair_index(d, cs->task[cs->pair[p][0]], cs->task[cs->pair[p][1]]);
        tui_canvas_text(&app->canvas, 0, y, buf, (short)(TUI_C_PAIR_SST_PARA + (k < 0 ? 0 : k)));
        for (int g = 0; g < cs->n_groups; g++)
            vals[g] = cs->group_cos[p][g];
        int cells = cs->n_groups < w - 10 ? cs->n_groups : w - 10;
        if (cells > 0)
            tui_heat_row(&app->canvas, 10, y, vals, cells, app->glyphs, heat_color, NULL);
        if (cs->cos[p] < cs->cos[worst])
            worst = p;
    }
    /* bars for the most conflicting pair */
    if (y < h) {
        snprintf(buf, sizeof buf, "%s-%s by group:",
                 mtb_task_name((mtb_task)cs->task[cs->pair[worst][0]]),
                 mtb_task_name((mtb_task)cs->task[cs->pair[worst][1]]));
        tui_canvas_text(&app->canvas, 0, ++y, buf, TUI_C_TITLE);
        y++;
    }
    const int footer_rows = 2;
    for (int g = 0; g < cs->n_groups && y < h - footer_rows; g++, y++) {
        group_label(g, cs->n_groups, buf, sizeof buf);
        tui_bar_draw(&app->canvas, 0, y, w, buf, cs->group_cos[worst][g], TUI_C_POSITIVE,
                     TUI_C_NEGATIVE, app->glyphs);
    }
    /* projections and norms */
    if (h >= 3) {
        int n = 0;
        buf[0] = '\0';
        for (int i = 0; i < cs->n_tasks; i++)
            for (int j = 0; j < cs->n_tasks; j++) {
                if (i == j)
                    continue;
                int ti = cs->task[i], tj = cs->task[j];
                long c = d->projected[ti][tj];
                n += snprintf(buf + n, sizeof buf - (size_t)n, "%s<%s %ld%%  ",
                              mtb_task_name((mtb_task)ti), mtb_task_name((mtb_task)tj),
                              d->conflict_steps ? 100 * c / d->conflict_steps : 0);
                if (n >= (int)sizeof buf)
                    n = (int)sizeof buf - 1;
            }
        tui_canvas_text(&app->canvas, 0, h - 2, buf, TUI_C_LABEL);
        n = snprintf(buf, sizeof buf, "|grad|");
        for (int i = 0; i < cs->n_tasks && n < (int)sizeof buf; i++)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "  %s %.3g",
                          mtb_task_name((mtb_task)cs->task[i]), cs->norm[i]);
        tui_canvas_text(&app->canvas, 0, h - 1, buf, TUI_C_LABEL);
    }
    tui_blit(app, &app->canvas, r->x + 1, r->y + 1, w, h);
}
