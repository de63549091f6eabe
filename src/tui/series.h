/* A time series of (x, y) points that holds a whole training run in fixed
 * memory.
 *
 * Points are kept oldest first.  When the buffer is full, adjacent pairs of
 * stored points are averaged into one, so the buffer is half full again and
 * still spans the whole history, at half the resolution.  From then on every
 * `stride` pushed points (2, then 4, ...) are averaged into one stored point.
 * Points still waiting for their bucket to fill are exposed, averaged, as the
 * newest point, so the tip of a curve is always current.
 *
 * Points with a non-finite x or y (a NaN loss, a step that diverged) are
 * dropped: one of them would make every later average NaN and every axis
 * range infinite.
 *
 * A zero-initialised tui_series is a valid empty series that ignores pushes,
 * so a structure holding several of them can be freed after a failed init. */
#ifndef MTBERT_TUI_SERIES_H
#define MTBERT_TUI_SERIES_H

#include <stdbool.h>

typedef struct tui_series {
    double *x, *y;  /* completed points, oldest first */
    int cap;        /* completed points the buffers hold: even, >= 4 */
    int len;        /* completed points stored */
    int stride;     /* pushed points averaged into each completed point */
    int pend_n;     /* pushed points in the pending bucket, 0 .. stride-1 */
    double pend_x;  /* sums over the pending bucket */
    double pend_y;
} tui_series;

/* 0, or -1 when cap is odd or below 4, or memory runs out (s is then
 * zeroed, so tui_series_free on it is harmless). */
int tui_series_init(tui_series *s, int cap);
void tui_series_free(tui_series *s);
/* Forgets every point and returns to full resolution. */
void tui_series_clear(tui_series *s);
void tui_series_push(tui_series *s, double x, double y);

/* Points readable with tui_series_get: the completed ones plus the pending
 * bucket when it holds anything (so up to cap + 1). */
int tui_series_len(const tui_series *s);
/* Point i, 0 the oldest; NaN for both when i is out of range.  Either
 * output may be NULL. */
void tui_series_get(const tui_series *s, int i, double *x, double *y);
/* The newest point; false (outputs untouched) when the series is empty. */
bool tui_series_last(const tui_series *s, double *x, double *y);
/* Smallest and largest y over the points with x >= x_from (a NaN x_from
 * takes every point); false (outputs untouched) when there are none. */
bool tui_series_range(const tui_series *s, double x_from, double *ymin, double *ymax);

/* dst := src's stored points, each y over base (unchanged unless base is
 * positive and finite): a curve relative to where it, or its task's
 * training curve, started.  dst is initialised on first use (a zeroed
 * tui_series) and cleared each time; -1 when out of memory. */
int tui_series_divided(const tui_series *src, double base, tui_series *dst);

/* The stored point nearest x (the earlier one on a tie), or with
 * at_or_before the last point whose x is not above x; false (outputs
 * untouched) when there is none.  Points must be in x order, as a run's
 * steps are.  Either output may be NULL. */
bool tui_series_nearest(const tui_series *s, double x, bool at_or_before, double *px,
                        double *py);

/* One step of an exponential moving average: prev + alpha * (x - prev).
 * alpha outside (0, 1) means no smoothing (returns x), and a NaN prev
 * starts the average at x. */
double tui_ema(double prev, double x, double alpha);

#endif
