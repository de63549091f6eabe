/* See small_linalg.h. */
#include "small_linalg.h"

#include <math.h>
#include <string.h>

bool sl_solve(const double *A, const double *b, int n, double rel_tol, int n_checked,
              double *x)
{
    double M[SL_MAX][SL_MAX + 1];
    double scale = 0.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            M[i][j] = A[i * n + j];
            scale = fmax(scale, fabs(M[i][j]));
        }
        M[i][n] = b[i];
    }
    if (!(scale > 0.0))
        return false;
    for (int c = 0; c < n; c++) {
        int p = c;
        for (int r = c + 1; r < n; r++)
            if (fabs(M[r][c]) > fabs(M[p][c]))
                p = r;
        if (!(fabs(M[p][c]) > (c < n_checked ? rel_tol * scale : 0.0)))
            return false;
        if (p != c)
            for (int k = 0; k <= n; k++) {
                double t = M[c][k];
                M[c][k] = M[p][k];
                M[p][k] = t;
            }
        for (int r = c + 1; r < n; r++) {
            const double f = M[r][c] / M[c][c];
            for (int k = c; k <= n; k++)
                M[r][k] -= f * M[c][k];
        }
    }
    double y[SL_MAX];
    for (int r = n - 1; r >= 0; r--) {
        double s = M[r][n];
        for (int k = r + 1; k < n; k++)
            s -= M[r][k] * y[k];
        y[r] = s / M[r][r];
    }
    memcpy(x, y, sizeof(double) * (size_t)n);
    return true;
}

void sl_sym_eigen(const double *A, int n, double *lambda, double *V)
{
    double M[SL_MAX][SL_MAX];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            M[i][j] = A[i * n + j];
            V[i * n + j] = i == j ? 1.0 : 0.0;
        }
    /* A 3 x 3 converges quadratically: a few sweeps reach rounding level. */
    for (int sweep = 0; sweep < 64; sweep++) {
        double off = 0.0, diag = 0.0;
        for (int i = 0; i < n; i++) {
            diag += M[i][i] * M[i][i];
            for (int j = i + 1; j < n; j++)
                off += M[i][j] * M[i][j];
        }
        if (!(off > 1e-34 * diag))
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                if (M[p][q] == 0.0)
                    continue;
                const double theta = (M[q][q] - M[p][p]) / (2.0 * M[p][q]);
                const double t = (theta >= 0 ? 1.0 : -1.0) /
                                 (fabs(theta) + sqrt(theta * theta + 1.0));
                const double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (int k = 0; k < n; k++) {
                    const double mkp = M[k][p], mkq = M[k][q];
                    M[k][p] = c * mkp - s * mkq;
                    M[k][q] = s * mkp + c * mkq;
                }
                for (int k = 0; k < n; k++) {
                    const double mpk = M[p][k], mqk = M[q][k];
                    M[p][k] = c * mpk - s * mqk;
                    M[q][k] = s * mpk + c * mqk;
                }
                for (int k = 0; k < n; k++) {
                    const double vkp = V[k * n + p], vkq = V[k * n + q];
                    V[k * n + p] = c * vkp - s * vkq;
                    V[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
    /* ascending, columns of V along */
    int idx[SL_MAX];
    for (int i = 0; i < n; i++)
        idx[i] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && M[idx[j]][idx[j]] < M[idx[j - 1]][idx[j - 1]]; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    double W[SL_MAX * SL_MAX];
    for (int j = 0; j < n; j++) {
        lambda[j] = M[idx[j]][idx[j]];
        for (int i = 0; i < n; i++)
            W[i * n + j] = V[i * n + idx[j]];
    }
    memcpy(V, W, sizeof(double) * (size_t)(n * n));
}

double sl_quad(const double *A, int n, const double *x)
{
    double f = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            f += x[i] * A[i * n + j] * x[j];
    return f;
}

void sl_adam_step(double *x, double *m, double *v, double *steps, const double *g, int n,
                  double lr)
{
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double t = *steps + 1.0;
    const double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
    for (int k = 0; k < n; k++) {
        m[k] = b1 * m[k] + (1.0 - b1) * g[k];
        v[k] = b2 * v[k] + (1.0 - b2) * g[k] * g[k];
        const double denom = sqrt(v[k]) / sqrt(bc2) + eps;
        x[k] -= lr / bc1 * m[k] / denom;
    }
    *steps = t;
}
