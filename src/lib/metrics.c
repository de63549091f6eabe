/* Accuracy (SST, Quora) and Pearson correlation (STS-B). */
#include "mtbert/metrics.h"

#include <math.h>

double mtb_accuracy(const int *pred, const int *gold, size_t n)
{
    if (n == 0)
        return 0.0;
    size_t hits = 0;
    for (size_t i = 0; i < n; i++)
        hits += pred[i] == gold[i];
    return (double)hits / (double)n;
}

/* Two passes: the means first, then the centred sums, which avoids the
 * cancellation of the one-pass sum(xy) - n mean_x mean_y formula.  A
 * constant side gives exactly zero deviations (n equal floats sum and divide
 * back exactly in double), hence NAN rather than a 0/0 accident. */
double mtb_pearson(const float *x, const float *y, size_t n)
{
    if (n < 2)
        return NAN;
    double sx = 0.0, sy = 0.0;
    for (size_t i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
    }
    const double mx = sx / (double)n, my = sy / (double)n;
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (!(sxx > 0.0) || !(syy > 0.0))
        return NAN;
    double r = sxy / sqrt(sxx * syy);
    /* Rounding can push a perfect correlation a hair past +-1. */
    if (r > 1.0)
        r = 1.0;
    else if (r < -1.0)
        r = -1.0;
    return r;
}

int mtb_argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}
