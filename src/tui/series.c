/* Fixed-memory time series with progressive halving (see series.h). */
#include "series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tui_series_init(tui_series *s, int cap)
{
    memset(s, 0, sizeof *s);
    /* An even capacity lets a full buffer be merged in whole pairs. */
    if (cap < 4 || cap % 2 != 0)
        return -1;
    s->x = malloc((size_t)cap * sizeof *s->x);
    s->y = malloc((size_t)cap * sizeof *s->y);
    if (!s->x || !s->y) {
        tui_series_free(s);
        return -1;
    }
    s->cap = cap;
    s->stride = 1;
    return 0;
}

void tui_series_free(tui_series *s)
{
    free(s->x);
    free(s->y);
    memset(s, 0, sizeof *s);
}

void tui_series_clear(tui_series *s)
{
    s->len = 0;
    s->stride = 1;
    s->pend_n = 0;
    s->pend_x = s->pend_y = 0.0;
}

/* Each stored point stands for the same number of pushed points, so the
 * plain mean of a pair is the mean of everything the pair stood for. */
static void halve(tui_series *s)
{
    for (int i = 0; i < s->len / 2; i++) {
        s->x[i] = 0.5 * (s->x[2 * i] + s->x[2 * i + 1]);
        s->y[i] = 0.5 * (s->y[2 * i] + s->y[2 * i + 1]);
    }
    s->len /= 2;
    s->stride *= 2;
}

void tui_series_push(tui_series *s, double x, double y)
{
    if (s->cap == 0 || !isfinite(x) || !isfinite(y))
        return;
    s->pend_x += x;
    s->pend_y += y;
    s->pend_n++;
    if (s->pend_n < s->stride)
        return;
    if (s->len == s->cap) {
        /* The bucket just filled holds `stride` points, which is half a
         * bucket at the doubled stride: it stays pending rather than being
         * stored as a point that would stand for fewer pushes than its
         * neighbours. */
        halve(s);
        return;
    }
    s->x[s->len] = s->pend_x / s->pend_n;
    s->y[s->len] = s->pend_y / s->pend_n;
    s->len++;
    s->pend_n = 0;
    s->pend_x = s->pend_y = 0.0;
}

int tui_series_len(const tui_series *s)
{
    return s->len + (s->pend_n > 0);
}

void tui_series_get(const tui_series *s, int i, double *x, double *y)
{
    double px = NAN, py = NAN;
    if (i >= 0 && i < s->len) {
        px = s->x[i];
        py = s->y[i];
    } else if (i == s->len && s->pend_n > 0) {
        px = s->pend_x / s->pend_n;
        py = s->pend_y / s->pend_n;
    }
    if (x)
        *x = px;
    if (y)
        *y = py;
}

bool tui_series_last(const tui_series *s, double *x, double *y)
{
    int n = tui_series_len(s);
    if (n == 0)
        return false;
    tui_series_get(s, n - 1, x, y);
    return true;
}

bool tui_series_range(const tui_series *s, double x_from, double *ymin, double *ymax)
{
    bool any = false;
    double lo = 0.0, hi = 0.0;
    int n = tui_series_len(s);
    for (int i = 0; i < n; i++) {
        double x, y;
        tui_series_get(s, i, &x, &y);
        if (!isnan(x_from) && x < x_from)
            continue;
        if (!any || y < lo)
            lo = y;
        if (!any || y > hi)
            hi = y;
        any = true;
    }
    if (any) {
        if (ymin)
            *ymin = lo;
        if (ymax)
            *ymax = hi;
    }
    return any;
}

int tui_series_divided(const tui_series *src, double base, tui_series *dst)
{
    if (!dst->x && tui_series_init(dst, src->cap > 4 ? src->cap : 4))
        return -1;
    tui_series_clear(dst);
    const bool usable = isfinite(base) && base > 0.0;
    for (int i = 0; i < tui_series_len(src); i++) {
        double x, y;
        tui_series_get(src, i, &x, &y);
        tui_series_push(dst, x, usable ? y / base : y);
    }
    return 0;
}

bool tui_series_nearest(const tui_series *s, double x, bool at_or_before, double *px,
                        double *py)
{
    const int n = tui_series_len(s);
    if (n == 0 || isnan(x))
        return false;
    /* first point with x_i > x, by bisection: points are in step order */
    int lo = 0, hi = n;
    while (lo < hi) {
        const int mid = lo + (hi - lo) / 2;
        double mx;
        tui_series_get(s, mid, &mx, NULL);
        if (mx <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    int best = lo - 1; /* the last point at or before x, or -1 */
    if (!at_or_before && lo < n) {
        double bx = 0.0, ax;
        tui_series_get(s, lo, &ax, NULL);
        if (best >= 0)
            tui_series_get(s, best, &bx, NULL);
        if (best < 0 || ax - x < x - bx)
            best = lo;
    }
    if (best < 0)
        return false;
    tui_series_get(s, best, px, py);
    return true;
}

double tui_ema(double prev, double x, double alpha)
{
    if (!(alpha > 0.0 && alpha < 1.0) || isnan(prev))
        return x;
    return prev + alpha * (x - prev);
}
