/* The merge driver and the gradient-conflict statistics (see
 * mtbert/merge.h; the methods and their registry are in methods/).
 *
 * One pass over the data (n ~ 1e8 floats per task, once per step) computes
 * the Gram matrix G[a][b] = g_a . g_b of the original gradients, per
 * parameter group and for the whole vector.  Everything else follows from G
 * without touching the vectors again: every method's update is a linear
 * combination of the originals, d = sum_k w_k g_k, so its dot with any g_j
 * is sum_k w_k G[k][j], and the weights are known before any vector is
 * formed.  The caller then applies them in whatever pass it makes anyway
 * (the trainer: inside AdamW), so a method costs one read of the task
 * gradients, as the statistics alone do.
 *
 * Precision and reproducibility: every float product is exact in double.
 * Sums are taken over blocks of BLOCK floats in LANES interleaved double
 * partial sums, combined in a fixed tree; blocks are summed in address order
 * within work items of a size that depends only on n, and the items' sums
 * are added in address order.  The result therefore depends only on the
 * inputs (and the group boundaries), not on timing, alignment or the number
 * of threads, and the rounding error is ~1e-13 relative to sum |a_k b_k|.
 * The merged vector is formed in double and rounded to float once per
 * element. */
#include "mtbert/merge.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#include "mtbert/parallel.h"
#include "sparse_rows.h"

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

/* Gram matrix of grads[0..n_tasks) over [lo, hi), block by block, in
 * address order.  Three tasks share one read of each block; with fewer, the
 * pairwise dots of a block re-read it from cache. */
static gram gram_serial(const float *const *g, int n_tasks, size_t lo, size_t hi)
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

/* Work items of at least GRAM_ITEM floats, at most GRAM_MAX_ITEMS of them. */
#define GRAM_ITEM (64 * BLOCK)
#define GRAM_MAX_ITEMS 512

typedef struct gram_job {
    const float *const *g;
    int n_tasks, items;
    size_t lo, len;
    gram part[GRAM_MAX_ITEMS];
} gram_job;

static void gram_item(void *arg, int i)
{
    gram_job *j = arg;
    size_t b, e;
    mtb_chunk_range(j->len, j->items, i, &b, &e);
    j->part[i] = gram_serial(j->g, j->n_tasks, j->lo + b, j->lo + e);
}

static gram gram_range(const float *const *g, int n_tasks, size_t lo, size_t hi)
{
    static _Thread_local gram_job job; /* 37 KB: kept off the caller's stack */
    const size_t len = hi > lo ? hi - lo : 0;
    int items = mtb_chunk_count(len, GRAM_ITEM);
    if (items > GRAM_MAX_ITEMS)
        items = GRAM_MAX_ITEMS;
    if (items <= 1)
        return gram_serial(g, n_tasks, lo, hi);
    job.g = g;
    job.n_tasks = n_tasks;
    job.items = items;
    job.lo = lo;
    job.len = len;
    mtb_parallel_for(items, gram_item, &job);
    gram r;
    memset(&r, 0, sizeof r);
    for (int i = 0; i < items; i++)
        gram_add(&r, &job.part[i], n_tasks);
    return r;
}

/* gram_range, knowing that within the table `sp` only the listed rows can be
 * nonzero: the table's other rows would only add zeros, and are skipped. */
static gram gram_range_sparse(const float *const *g, int n_tasks, size_t lo, size_t hi,
                              const mtb_sparse_rows *sp)
{
    if (!sp)
        return gram_range(g, n_tasks, lo, hi);
    const size_t t0 = sp->offset, t1 = sp->offset + sp->n_rows * sp->width;
    if (t1 <= lo || t0 >= hi)
        return gram_range(g, n_tasks, lo, hi);
    const size_t a = t0 > lo ? t0 : lo, b = t1 < hi ? t1 : hi;
    gram r = gram_range(g, n_tasks, lo, a);
    for (size_t i = 0; i < sp->n_listed; i++) {
        size_t r0 = sp->offset + (size_t)sp->rows[i] * sp->width, r1 = r0 + sp->width;
        r0 = r0 > a ? r0 : a;
        r1 = r1 < b ? r1 : b;
        if (r0 < r1) {
            gram row = gram_serial(g, n_tasks, r0, r1);
            gram_add(&r, &row, n_tasks);
        }
    }
    gram tail = gram_range(g, n_tasks, b, hi);
    gram_add(&r, &tail, n_tasks);
    return r;
}

/* ------------------------------------------------------------- the sweep */

/* idx = 0..n-1 ordered by key, ties in index order (insertion sort: n is a
 * handful of tasks or groups). */
static void order_by(const long long *key, int n, int *idx)
{
    for (int k = 0; k < n; k++) {
        int m = k;
        while (m > 0 && key[idx[m - 1]] > key[k]) {
            idx[m] = idx[m - 1];
            m--;
        }
        idx[m] = k;
    }
}

/* Whole-vector Gram matrix in *total and one per group in per_group[].
 * Groups are normally disjoint, and then one sweep over the vector fills
 * both (the whole vector is the sum of the groups and the gaps between
 * them, in address order).  Overlapping groups, which mtbert never makes,
 * fall back to one pass for the whole vector plus one per group. */
static void sweep(const float *const *g, int n_tasks, size_t n, const mtb_param_group *groups,
                  int n_groups, const mtb_sparse_rows *sp, gram *total, gram *per_group)
{
    int idx[MTB_MAX_GROUPS];
    size_t lo[MTB_MAX_GROUPS], hi[MTB_MAX_GROUPS];
    for (int k = 0; k < n_groups; k++) {
        lo[k] = groups[k].offset < n ? groups[k].offset : n;
        hi[k] = groups[k].numel < n - lo[k] ? lo[k] + groups[k].numel : n;
    }
    long long start[MTB_MAX_GROUPS] = {0};
    for (int k = 0; k < n_groups; k++)
        start[k] = (long long)lo[k];
    order_by(start, n_groups, idx);
    bool disjoint = true;
    for (int k = 1; k < n_groups; k++)
        if (lo[idx[k]] < hi[idx[k - 1]])
            disjoint = false;

    if (!disjoint) {
        *total = gram_range_sparse(g, n_tasks, 0, n, sp);
        for (int k = 0; k < n_groups; k++)
            per_group[k] = gram_range_sparse(g, n_tasks, lo[k], hi[k], sp);
        return;
    }
    memset(total, 0, sizeof *total);
    size_t pos = 0;
    for (int s = 0; s < n_groups; s++) {
        int k = idx[s];
        if (pos < lo[k]) {
            gram gap = gram_range_sparse(g, n_tasks, pos, lo[k], sp);
            gram_add(total, &gap, n_tasks);
        }
        per_group[k] = gram_range_sparse(g, n_tasks, lo[k], hi[k], sp);
        gram_add(total, &per_group[k], n_tasks);
        pos = hi[k];
    }
    if (pos < n) {
        gram gap = gram_range_sparse(g, n_tasks, pos, n, sp);
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

/* ---------------------------------------------------------- combination */

typedef struct combine_job {
    float *out;
    const float *const *g;
    const mtb_merge_plan *plan;
    int chunks;
    size_t n;
} combine_job;

#define COMBINE_ITEM 65536

static void combine_item(void *arg, int item)
{
    const combine_job *j = arg;
    size_t b, e;
    mtb_chunk_range(j->n, j->chunks, item, &b, &e);
    for (size_t k = b; k < e; k++)
        j->out[k] = mtb_combined_grad(j->g, mtb_plan_weights_at(j->plan, k),
                                      j->plan->n_tasks, k);
}

void mtb_grads_combine(float *out, const float *const *grads, const mtb_merge_plan *plan,
                       size_t n)
{
    if (plan->n_tasks <= 0) {
        if (n > 0)
            memset(out, 0, n * sizeof *out);
        return;
    }
    combine_job j = {out, grads, plan, mtb_chunk_count(n, COMBINE_ITEM), n};
    mtb_parallel_for(j.chunks, combine_item, &j);
}

/* ------------------------------------------------------------------ API */

static double quad_form(const double w[MTB_MAX_TASKS], const gram *G, int T)
{
    double f = 0.0;
    for (int a = 0; a < T; a++)
        for (int b = 0; b < T; b++)
            f += w[a] * G->g[a][b] * w[b];
    return f;
}

/* d . g_i for d = sum_k w_k g_k */
static double dot_with(const double w[MTB_MAX_TASKS], const gram *G, int T, int i)
{
    double f = 0.0;
    for (int k = 0; k < T; k++)
        f += w[k] * G->g[k][i];
    return f;
}

/* The step's tasks in ascending order of id (stable): sorted[p] is the
 * index into grads of the p-th, pos[k] the place of grads[k]. */
static void sort_tasks(const int *task_ids, int n_tasks, int sorted[MTB_MAX_TASKS],
                       int pos[MTB_MAX_TASKS])
{
    long long id_key[MTB_MAX_TASKS] = {0};
    for (int k = 0; k < n_tasks; k++)
        id_key[k] = task_ids[k];
    order_by(id_key, n_tasks, sorted);
    for (int p = 0; p < n_tasks; p++)
        pos[sorted[p]] = p;
}

/* The statistics of the original gradients, from their Gram matrices:
 * norms, the groups no task touches, and each pair's cosines. */
static void measure_conflicts(mtb_conflict_stats *st, const gram *total, const gram *per_group,
                              const int sorted[MTB_MAX_TASKS])
{
    const int n_tasks = st->n_tasks, n_groups = st->n_groups;
    for (int p = 0; p < n_tasks; p++)
        st->norm[p] = sqrt(total->g[sorted[p]][sorted[p]]);
    for (int k = 0; k < n_groups; k++) {
        bool zero = true;
        for (int a = 0; a < n_tasks; a++)
            zero = zero && !(per_group[k].g[a][a] > 0.0);
        st->group_zero[k] = zero;
    }
    for (int p = 0; p < n_tasks; p++) {
        for (int q = p + 1; q < n_tasks; q++) {
            int a = sorted[p], b = sorted[q], pr = st->n_pairs++;
            st->pair[pr][0] = p;
            st->pair[pr][1] = q;
            st->cos[pr] = cosine(total->g[a][b], total->g[a][a], total->g[b][b]);
            for (int k = 0; k < n_groups; k++) {
                const gram *gg = &per_group[k];
                st->group_cos[pr][k] = cosine(gg->g[a][b], gg->g[a][a], gg->g[b][b]);
            }
        }
    }
}

/* The method on the Gram matrices (T tasks, in the order of grads); what
 * ctx leaves out is the defaults, a fresh state and losses of one. */
static void run_method(const mtb_merge_method *method, const mtb_merge_context *ctx,
                       const int *order, const gram *total, const gram *per_group, int T,
                       int n_groups, mtb_merge_output *out)
{
    double G[MTB_MAX_TASKS * MTB_MAX_TASKS]; /* (T, T) */
    /* (n_groups, T, T), thread-local to keep it off the caller's stack */
    static _Thread_local double GG[MTB_MAX_GROUPS * MTB_MAX_TASKS * MTB_MAX_TASKS];
    for (int a = 0; a < T; a++)
        for (int b = 0; b < T; b++) {
            G[a * T + b] = total->g[a][b];
            for (int k = 0; k < n_groups; k++)
                GG[(k * T + a) * T + b] = per_group[k].g[a][b];
        }
    double ones[MTB_MAX_TASKS] = {1.0, 1.0, 1.0};
    int identity[MTB_MAX_TASKS] = {0, 1, 2};
    mtb_merge_params defaults;
    mtb_merge_params_defaults(&defaults);
    mtb_merge_state fresh;
    memset(&fresh, 0, sizeof fresh);
    mtb_merge_input in = {
        .n_tasks = T, .gram = G, .n_groups = n_groups, .group_gram = GG,
        .order = order ? order : identity, .loss = ctx && ctx->loss ? ctx->loss : ones,
        .epoch = ctx ? ctx->epoch : 0, .lr = ctx ? ctx->lr : 0.0,
    };
    memset(out, 0, sizeof *out);
    method->merge(&in, ctx && ctx->params ? ctx->params : &defaults,
                  ctx && ctx->state ? ctx->state : &fresh, out);
}

/* A method's per-group weights as the plan's segments, the groups taken by
 * start; what no group covers keeps out->weight.  Returns |d|^2 and adds
 * d . g_i into served_dot[i]; st->weight gets each task's mean weight. */
static double plan_segments(mtb_merge_plan *plan, mtb_conflict_stats *st,
                            const mtb_merge_output *out, const gram *total,
                            const gram *per_group, const mtb_param_group *groups, int n_groups,
                            size_t n, const int pos[MTB_MAX_TASKS],
                            double served_dot[MTB_MAX_TASKS])
{
    const int T = plan->n_tasks;
    int idx[MTB_MAX_GROUPS];
    long long start[MTB_MAX_GROUPS] = {0};
    for (int k = 0; k < n_groups; k++)
        start[k] = (long long)groups[k].offset;
    order_by(start, n_groups, idx);
    gram rest = *total;
    double dd = 0.0, covered = 0.0, mean_w[MTB_MAX_TASKS] = {0};
    for (int s = 0; s < n_groups; s++) {
        const int k = idx[s];
        const size_t lo = groups[k].offset < n ? groups[k].offset : n;
        const size_t hi = groups[k].numel < n - lo ? lo + groups[k].numel : n;
        assert(s == 0 || lo >= plan->seg_hi[plan->n_segments - 1]);
        if (lo >= hi)
            continue;
        const int sg = plan->n_segments++;
        plan->seg_lo[sg] = lo;
        plan->seg_hi[sg] = hi;
        for (int t = 0; t < T; t++) {
            plan->seg_weight[sg][t] = out->group_weight[k][t];
            mean_w[t] += out->group_weight[k][t] * (double)(hi - lo);
        }
        covered += (double)(hi - lo);
        for (int a = 0; a < T; a++)
            for (int b = 0; b < T; b++)
                rest.g[a][b] -= per_group[k].g[a][b];
        dd += quad_form(out->group_weight[k], &per_group[k], T);
        for (int i = 0; i < T; i++)
            served_dot[i] += dot_with(out->group_weight[k], &per_group[k], T, i);
    }
    dd += quad_form(out->weight, &rest, T);
    for (int i = 0; i < T; i++)
        served_dot[i] += dot_with(out->weight, &rest, T, i);
    for (int t = 0; t < T; t++)
        st->weight[pos[t]] = n ? (mean_w[t] + out->weight[t] * ((double)n - covered)) /
                                     (double)n
                               : out->weight[t];
    return dd;
}

/* The method's output as the plan, and the statistics of the merged update. */
static void make_plan(mtb_merge_plan *plan, mtb_conflict_stats *st,
                      const mtb_merge_method *method, const mtb_merge_output *out,
                      const gram *total, const gram *per_group, const mtb_param_group *groups,
                      int n_groups, size_t n, const int pos[MTB_MAX_TASKS])
{
    const int T = plan->n_tasks;
    for (int k = 0; k < T; k++)
        plan->weight[k] = out->weight[k];
    plan->scale_heads = method->loss_weighting;
    double served_dot[MTB_MAX_TASKS] = {0}, dd = 0.0;
    if (out->per_group && n_groups > 0) {
        dd = plan_segments(plan, st, out, total, per_group, groups, n_groups, n, pos, served_dot);
    } else {
        dd = quad_form(out->weight, total, T);
        for (int i = 0; i < T; i++)
            served_dot[i] = dot_with(out->weight, total, T, i);
        for (int t = 0; t < T; t++)
            st->weight[pos[t]] = out->weight[t];
    }
    st->merged_norm = sqrt(dd > 0.0 ? dd : 0.0);
    for (int i = 0; i < T; i++) {
        st->served[pos[i]] = cosine(served_dot[i], dd, total->g[i][i]);
        st->change[pos[i]] = out->change[i];
        for (int j = 0; j < T; j++)
            st->projected[pos[i]][pos[j]] = out->projected[i][j];
    }
}

void mtb_merge_weights(const float *const *grads, const int *task_ids, int n_tasks, size_t n,
                       const int *order, const mtb_merge_method *method,
                       const mtb_merge_context *ctx, const mtb_param_group *groups,
                       int n_groups, const mtb_sparse_rows *sparse, mtb_conflict_stats *stats,
                       mtb_merge_plan *plan)
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
    if (!method)
        method = mtb_merge_at(0); /* the registry's first: the plain sum */

    mtb_conflict_stats local;
    mtb_conflict_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    memset(plan, 0, sizeof *plan);
    st->n_tasks = n_tasks;
    st->n_groups = n_groups;
    plan->n_tasks = n_tasks;
    for (int k = 0; k < n_tasks; k++)
        plan->weight[k] = 1.0;

    int sorted[MTB_MAX_TASKS], pos[MTB_MAX_TASKS];
    sort_tasks(task_ids, n_tasks, sorted, pos);
    for (int p = 0; p < n_tasks; p++)
        st->task[p] = task_ids[sorted[p]];
    if (n_tasks == 0)
        return;

    gram total, per_group[MTB_MAX_GROUPS];
    sweep(grads, n_tasks, n, groups, n_groups, sparse, &total, per_group);
    measure_conflicts(st, &total, per_group, sorted);
    mtb_merge_output out;
    run_method(method, ctx, order, &total, per_group, n_tasks, n_groups, &out);
    make_plan(plan, st, method, &out, &total, per_group, groups, n_groups, n, pos);
}
