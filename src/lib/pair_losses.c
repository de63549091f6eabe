/* MNRL and CoSENT, forward and backward side by side (see
 * pair_losses.h).  Batches are small (B <= a few dozen), so both
 * work on the B x B cosine matrix in double.
 *
 * With x^ = x / max(|x|, 1e-12) and c = u^ . v^:
 *     d c / d u = (v^ - c u^) / |u|   when |u| > 1e-12, else v^ / 1e-12,
 * and the same for v; every gradient below is a sum of such terms. */
#include "pair_losses.h"

#include "mtbert/multitask.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NORM_EPS 1e-12

void mtb_pair_losses_defaults(mtb_pair_losses *l)
{
    l->sts = MTB_STS_LOSS_MSE;
    l->mnrl_para = false;
    l->mnrl_sts = false;
    l->mnrl_scale = 20.0f;
    l->cosent_scale = 20.0f;
}

typedef struct unit_rows {
    double *hat;  /* (B, H) x^ */
    double *norm; /* (B) max(|x|, eps) */
    bool *clamped;
} unit_rows;

static bool unit_init(unit_rows *r, const float *x, int B, int H)
{
    r->hat = malloc(sizeof(double) * (size_t)B * (size_t)H);
    r->norm = malloc(sizeof(double) * (size_t)B);
    r->clamped = malloc(sizeof(bool) * (size_t)B);
    if (!r->hat || !r->norm || !r->clamped)
        return false;
    for (int i = 0; i < B; i++) {
        const float *xi = x + (size_t)i * H;
        double s = 0.0;
        for (int k = 0; k < H; k++)
            s += (double)xi[k] * xi[k];
        const double n = sqrt(s);
        r->clamped[i] = !(n > NORM_EPS);
        r->norm[i] = r->clamped[i] ? NORM_EPS : n;
        for (int k = 0; k < H; k++)
            r->hat[(size_t)i * H + k] = xi[k] / r->norm[i];
    }
    return true;
}

static void unit_free(unit_rows *r)
{
    free(r->hat);
    free(r->norm);
    free(r->clamped);
}

static double dot_rows(const unit_rows *a, int i, const unit_rows *b, int j, int H)
{
    const double *x = a->hat + (size_t)i * H, *y = b->hat + (size_t)j * H;
    double s = 0.0;
    for (int k = 0; k < H; k++)
        s += x[k] * y[k];
    return s;
}

/* dx_i += g (y^_j - c x^_i) / |x_i|   (c = x^_i . y^_j) */
static void add_cos_grad(float *dx, const unit_rows *x, int i, const unit_rows *y, int j,
                         double c, double g, int H)
{
    if (!dx || g == 0.0)
        return;
    const double *xh = x->hat + (size_t)i * H, *yh = y->hat + (size_t)j * H;
    const double self = x->clamped[i] ? 0.0 : c;
    const double scale = g / x->norm[i];
    float *d = dx + (size_t)i * H;
    for (int k = 0; k < H; k++)
        d[k] += (float)(scale * (yh[k] - self * xh[k]));
}

float mtb_mnrl(const float *u, const float *v, const unsigned char *positive, int B, int H,
               float scale, float *du, float *dv)
{
    int P = 0;
    for (int i = 0; i < B; i++)
        P += positive[i] != 0;
    if (P == 0 || B <= 0)
        return 0.0f;
    unit_rows U = {0}, V = {0};
    double *c = malloc(sizeof(double) * (size_t)B), *p = malloc(sizeof(double) * (size_t)B);
    double loss = 0.0;
    if (unit_init(&U, u, B, H) && unit_init(&V, v, B, H) && c && p) {
        for (int i = 0; i < B; i++) {
            if (!positive[i])
                continue;
            double top = -INFINITY, z = 0.0;
            for (int j = 0; j < B; j++) {
                c[j] = dot_rows(&U, i, &V, j, H);
                top = fmax(top, scale * c[j]);
            }
            for (int j = 0; j < B; j++)
                z += (p[j] = exp(scale * c[j] - top));
            loss += log(z) + top - scale * c[i];
            /* d L_i / d c_ij = s (softmax_ij - [j == i]) / P */
            for (int j = 0; j < B; j++) {
                const double g = scale * (p[j] / z - (j == i ? 1.0 : 0.0)) / P;
                add_cos_grad(du, &U, i, &V, j, c[j], g, H);
                add_cos_grad(dv, &V, j, &U, i, c[j], g, H);
            }
        }
    }
    unit_free(&U);
    unit_free(&V);
    free(c);
    free(p);
    return (float)(loss / P);
}

float mtb_cosent(const float *u, const float *v, const float *labels, int B, int H, float scale,
                 float *du, float *dv)
{
    if (B <= 1)
        return 0.0f;
    unit_rows U = {0}, V = {0};
    double *c = malloc(sizeof(double) * (size_t)B), *g = calloc((size_t)B, sizeof(double));
    double loss = 0.0;
    if (unit_init(&U, u, B, H) && unit_init(&V, v, B, H) && c && g) {
        for (int i = 0; i < B; i++)
            c[i] = dot_rows(&U, i, &V, i, H);
        /* log(1 + sum e^x) over x = s (c_j - c_i) for y_i > y_j, stably:
         * the 1 is the term x = 0 */
        double top = 0.0;
        for (int i = 0; i < B; i++)
            for (int j = 0; j < B; j++)
                if (labels[i] > labels[j])
                    top = fmax(top, scale * (c[j] - c[i]));
        double z = exp(-top);
        for (int i = 0; i < B; i++)
            for (int j = 0; j < B; j++)
                if (labels[i] > labels[j])
                    z += exp(scale * (c[j] - c[i]) - top);
        loss = log(z) + top;
        /* each term's softmax weight w: +s w to c_j, -s w to c_i */
        for (int i = 0; i < B; i++)
            for (int j = 0; j < B; j++)
                if (labels[i] > labels[j]) {
                    const double w = exp(scale * (c[j] - c[i]) - top) / z;
                    g[j] += scale * w;
                    g[i] -= scale * w;
                }
        for (int i = 0; i < B; i++) {
            add_cos_grad(du, &U, i, &V, i, c[i], g[i], H);
            add_cos_grad(dv, &V, i, &U, i, c[i], g[i], H);
        }
    }
    unit_free(&U);
    unit_free(&V);
    free(c);
    free(g);
    return (float)loss;
}
