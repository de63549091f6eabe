/* PCGrad and the gradient-conflict statistics (see mtbert/pcgrad.h).
 *
 * Passes over the data (n ~ 1e8 floats per task, once per step):
 *
 *   1. One sweep computes the Gram matrix G[a][b] = g_a . g_b of the original
 *      gradients (all norms and cross dots at once), both per parameter group
 *      and for the whole vector.  Everything the statistics need, and the
 *      first dot of every projection, comes from G.
 *   2. For each task i (in `order`): a dot product per candidate j once g_i'
 *      has been modified (before that, g_i' . g_j = G[i][j]), an axpy per
 *      actual projection, and one add into out.  The first task visited is
 *      projected directly in out, so it needs no copy and no add.
 *
 * |g_i' - g_i| needs no pass either: g_i' - g_i = -sum_j c_j g_j over the
 * projections made, so its squared norm is sum_jl c_j c_l G[j][l].
 *
 * Precision and reproducibility: every float product is exact in double.
 * Sums are taken over blocks of BLOCK floats in LANES interleaved double
 * partial sums, combined in a fixed tree; block sums are added in address
 * order.  The result therefore depends only on the inputs (and the group
 * boundaries), not on timing or alignment, and the rounding error is
 * ~ (BLOCK/LANES + n/BLOCK) * 2^-53 relative to sum |a_k b_k|, i.e. ~1e-13
 * for n = 1e8.  The projected vectors and out are rounded to float once per
 * element and update (the axpy is evaluated in double). */
#include "mtbert/pcgrad.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#define BLOCK 4096
#define LANES 4

/* ------------------------------------------------------------ dot products */

static double combine(const double s[LANES])
{
    return (s[0] + s[2]) + (s[1] + s[3]);
}

/* a . b over one block (len <= BLOCK). */
static double dot_block(const float *a, const float *b, size_t len)
{
    double s[LANES] = {0};
    size_t k = 0;
    for (; k + LANES <= len; k += LANES)
        for (int l = 0; l < LANES; l++)
            s[l] += (double)a[k + l] * (double)b[k + l];
    double tail = 0.0;
    for (; k < len; k++)
        tail += (double)a[k] * (double)b[k];
    return combine(s) + tail;
}

static double dot_range(const float *a, const float *b, size_t n)
{
    double sum = 0.0;
    for (size_t off = 0; off < n; off += BLOCK) {
        size_t len = n - off < BLOCK ? n - off : BLOCK;
        sum += dot_block(a + off, b + off, len);
    }
    return sum;
}

/* The six products of three vectors over one block, read once:
 * out = {aa, ab, ac, bb, bc, cc}. */
static void gram3_block(const float *a, const float *b, const float *c, size_t len,
                        double out[6])
{
    double s[6][LANES] = {{0}};
    size_t k = 0;
    for (; k + LANES <= len; k += LANES) {
        for (int l = 0; l < LANES; l++) {
            double x = a[k + l], y = b[k + l], z = c[k + l];
            s[0][l] += x * x;
            s[1][l] += x * y;
            s[2][l] += x * z;
            s[3][l] += y * y;
            s[4][l] += y * z;
            s[5][l] += z * z;
        }
    }
    double t[6] = {0};
    for (; k < len; k++) {
        double x = a[k], y = b[k], z = c[k];
        t[0] += x * x;
        t[1] += x * y;
        t[2] += x * z;
        t[3] += y * y;
        t[4] += y * z;
        t[5] += z * z;
    }
    for (int p = 0; p < 6; p++)
        out[p] = combine(s[p]) + t[p];
}

typedef struct gram {
    double g[MTB_MAX_TASKS][MTB_MAX_TASKS]; /* symmetric */
} gram;

static void gram_add(gram *dst, const gram *src, int n_tasks)
{
    for (int a = 0; a < n_tasks; a++)
        for (int b = 0; b < n_tasks; b++)
            dst->g[a][b] += src->g[a][b];
}

/* Gram matrix of grads[0..n_tasks) over the elements [lo, hi), block by
 * block.  Three tasks share one read of each block; with fewer, the pairwise
 * dots of a block re-read it from cache. */
static gram gram_range(const float *const *g, int n_tasks, size_t lo, size_t hi)
{
    gram r;
    memset(&r, 0, sizeof r);
    for (size_t off = lo; off < hi; off += BLOCK) {
        size_t len = hi - off < BLOCK ? hi - off : BLOCK;
        if (n_tasks == 3) {
            double s[6];
            gram3_block(g[0] + off, g[1] + off, g[2] + off, len, s);
            r.g[0][0] += s[0];
            r.g[0][1] += s[1];
            r.g[0][2] += s[2];
            r.g[1][1] += s[3];
            r.g[1][2] += s[4];
            r.g[2][2] += s[5];
        } else {
            for (int a = 0; a < n_tasks; a++)
                for (int b = a; b < n_tasks; b++)
                    r.g[a][b] += dot_block(g[a] + off, g[b] + off, len);
        }
    }
    for (int a = 0; a < n_tasks; a++)
        for (int b = 0; b < a; b++)
            r.g[a][b] = r.g[b][a];
    return r;
}

/* ------------------------------------------------------------- the sweep */

/* Whole-vector Gram matrix in *total and one per group in per_group[].
 * Groups are normally disjoint, and then one sweep over the vector fills
 * both (the whole vector is the sum of the groups and the gaps between
 * them, in address order).  Overlapping groups, which mtbert never makes,
 * fall back to one pass for the whole vector plus one per group. */
static void sweep(const float *const *g, int n_tasks, size_t n, const mtb_param_group *groups,
                  int n_groups, gram *total, gram *per_group)
{
    int idx[MTB_MAX_GROUPS];
    size_t lo[MTB_MAX_GROUPS], hi[MTB_MAX_GROUPS];
    for (int k = 0; k < n_groups; k++) {
        lo[k] = groups[k].offset < n ? groups[k].offset : n;
        hi[k] = groups[k].numel < n - lo[k] ? lo[k] + groups[k].numel : n;
    }
    /* group indices by start, insertion sort (n_groups <= 64) */
    for (int k = 0; k < n_groups; k++) {
        int m = k;
        while (m > 0 && lo[idx[m - 1]] > lo[k]) {
            idx[m] = idx[m - 1];
            m--;
        }
        idx[m] = k;
    }
    bool disjoint = true;
    for (int k = 1; k < n_groups; k++)
        if (lo[idx[k]] < hi[idx[k - 1]])
            disjoint = false;

    if (!disjoint) {
        *total = gram_range(g, n_tasks, 0, n);
        for (int k = 0; k < n_groups; k++)
            per_group[k] = gram_range(g, n_tasks, lo[k], hi[k]);
        return;
    }
    memset(total, 0, sizeof *total);
    size_t pos = 0;
    for (int s = 0; s < n_groups; s++) {
        int k = idx[s];
        if (pos < lo[k]) {
            gram gap = gram_range(g, n_tasks, pos, lo[k]);
            gram_add(total, &gap, n_tasks);
        }
        per_group[k] = gram_range(g, n_tasks, lo[k], hi[k]);
        gram_add(total, &per_group[k], n_tasks);
        pos = hi[k];
    }
    if (pos < n) {
        gram gap = gram_range(g, n_tasks, pos, n);
        gram_add(total, &gap, n_tasks);
    }
}

static double cosine(double ab, double aa, double bb)
{
    if (!(aa > 0.0) || !(bb > 0.0))
        return 0.0;
    double c = ab / sqrt(aa * bb);
    return c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c;
}

/* ------------------------------------------------------ vector updates */

/* dst = src - c * v, evaluated in double and rounded once.  dst may be src. */
static void axpy(float *dst, const float *src, double c, const float *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        dst[k] = (float)((double)src[k] - c * (double)v[k]);
}

static void add_into(float *out, const float *x, size_t n)
{
    for (size_t k = 0; k < n; k++)
        out[k] += x[k];
}

/* ------------------------------------------------------------------ API */

void mtb_pcgrad(float *out, const float *const *grads, const int *task_ids, int n_tasks,
                size_t n, const int *order, bool project, const mtb_param_group *groups,
                int n_groups, mtb_conflict_stats *stats, float *scratch)
{
    assert(n_tasks >= 0 && n_tasks <= MTB_MAX_TASKS);
    assert(n_groups >= 0 && n_groups <= MTB_MAX_GROUPS);
    if (n_tasks < 0)
        n_tasks = 0;
    if (n_tasks > MTB_MAX_TASKS)
        n_tasks = MTB_MAX_TASKS;
    if (!groups || n_groups < 0)
        n_groups = 0;
    if (n_groups > MTB_MAX_GROUPS)
        n_groups = MTB_MAX_GROUPS;

    mtb_conflict_stats local;
    mtb_conflict_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    st->n_tasks = n_tasks;
    st->n_groups = n_groups;

    /* pos[k]: place of grads[k] in the ascending list of task ids (stable). */
    int sorted[MTB_MAX_TASKS], pos[MTB_MAX_TASKS];
    for (int k = 0; k < n_tasks; k++) {
        int m = k;
        while (m > 0 && task_ids[sorted[m - 1]] > task_ids[k]) {
            sorted[m] = sorted[m - 1];
            m--;
        }
        sorted[m] = k;
    }
    for (int p = 0; p < n_tasks; p++) {
        pos[sorted[p]] = p;
        st->task[p] = task_ids[sorted[p]];
    }

    if (n_tasks == 0) {
        if (n > 0)
            memset(out, 0, n * sizeof *out);
        return;
    }

    /* 1. statistics of the original gradients */
    gram total, per_group[MTB_MAX_GROUPS];
    sweep(grads, n_tasks, n, groups, n_groups, &total, per_group);
    for (int p = 0; p < n_tasks; p++)
        st->norm[p] = sqrt(total.g[sorted[p]][sorted[p]]);
    for (int p = 0; p < n_tasks; p++) {
        for (int q = p + 1; q < n_tasks; q++) {
            int a = sorted[p], b = sorted[q], pr = st->n_pairs++;
            st->pair[pr][0] = p;
            st->pair[pr][1] = q;
            st->cos[pr] = cosine(total.g[a][b], total.g[a][a], total.g[b][b]);
            for (int k = 0; k < n_groups; k++) {
                const gram *gg = &per_group[k];
                st->group_cos[pr][k] = cosine(gg->g[a][b], gg->g[a][a], gg->g[b][b]);
            }
        }
    }

    /* 2. projection and merge */
    for (int oi = 0; oi < n_tasks; oi++) {
        int i = order[oi];
        assert(i >= 0 && i < n_tasks);
        float *dst = oi == 0 ? out : scratch; /* where g_i' is built */
        const float *cur = grads[i];          /* g_i' so far */
        double coef[MTB_MAX_TASKS] = {0};     /* g_i' = g_i - sum_j coef[j] g_j */
        bool touched = false;
        for (int oj = 0; project && oj < n_tasks; oj++) {
            int j = order[oj];
            double jj = total.g[j][j];
            if (j == i || !(jj > 0.0))
                continue;
            double d = touched ? dot_range(cur, grads[j], n) : total.g[i][j];
            if (d < 0.0) {
                double c = d / jj;
                axpy(dst, cur, c, grads[j], n);
                cur = dst;
                touched = true;
                coef[j] += c;
                st->projected[pos[i]][pos[j]] = true;
            }
        }
        if (oi == 0) {
            if (!touched && n > 0)
                memcpy(out, grads[i], n * sizeof *out);
        } else {
            add_into(out, cur, n);
        }
        if (touched && total.g[i][i] > 0.0) {
            double dd = 0.0; /* |g_i' - g_i|^2 */
            for (int a = 0; a < n_tasks; a++)
                for (int b = 0; b < n_tasks; b++)
                    dd += coef[a] * coef[b] * total.g[a][b];
            st->change[pos[i]] = sqrt(dd > 0.0 ? dd : 0.0) / sqrt(total.g[i][i]);
        }
    }
}
