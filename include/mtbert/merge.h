/* Multitask merge methods: how the per-task gradients of the shared encoder
 * become one update, and the gradient-conflict statistics mtbert publishes
 * every step.
 *
 * Every method is a unit with one interface (mtb_merge_method): it reads
 * the Gram matrix of the task gradients (whole encoder and per parameter
 * group), the step's losses and its own state, and returns the update as
 * weights over the original gradients, d = sum_k w_k g_k (per parameter
 * group where the method works group by group).  None of the methods mtbert
 * offers needs more than that: each one's update lies in the span of the
 * task gradients, and every inner product it needs is an entry of G or a
 * combination of entries.  So a method costs one read of the task gradients
 * (the statistics' own pass) whatever it computes, and the caller applies
 * the weights inside the pass it makes anyway (the trainer: AdamW's).
 *
 * Heads keep their own task's gradient under the gradient methods, as the
 * papers do for task-specific parameters; a loss weighting scales the
 * heads' gradients by the same weights, since it reweights the losses.
 *
 * Adding a method: one file in src/lib/methods/ defining its
 * mtb_merge_method, and its line in the registry (src/lib/methods/registry.c). */
#ifndef MTBERT_MERGE_H
#define MTBERT_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "mtbert/bert.h"
#include "mtbert/data.h"

/* The rows of an embedding table that a step's gradients touch (defined
 * inside the library, src/lib/sparse_rows.h). */
typedef struct mtb_sparse_rows mtb_sparse_rows;

#define MTB_MAX_TASKS 3
#define MTB_MAX_GROUPS (MTB_MAX_LAYERS + 2)
#define MTB_MAX_PAIRS 3 /* pairs of MTB_MAX_TASKS tasks */

typedef struct mtb_conflict_stats {
    int n_tasks;    /* tasks taking part (1..3) */
    int task[MTB_MAX_TASKS]; /* their ids (mtb_task), ascending */
    int n_pairs;    /* n_tasks choose 2, pairs (0,1), (0,2), (1,2) of the list above */
    int pair[MTB_MAX_PAIRS][2]; /* indices into task[] */
    int n_groups;   /* parameter groups: embeddings, layer.0 ..., pooler */
    double norm[MTB_MAX_TASKS];           /* |g_i| of the original gradients */
    double cos[MTB_MAX_PAIRS];            /* cosine of the original gradients, whole encoder */
    double group_cos[MTB_MAX_PAIRS][MTB_MAX_GROUPS]; /* same, per parameter group */
    bool group_zero[MTB_MAX_GROUPS];      /* no task has a gradient in the group */
    bool projected[MTB_MAX_TASKS][MTB_MAX_TASKS]; /* [i][j]: g_i was projected against g_j */
    double change[MTB_MAX_TASKS];         /* |g_i' - g_i| / |g_i| (0 when untouched) */
    double weight[MTB_MAX_TASKS];         /* each task's weight in the merged update (per
                                             group: the groups' mean, by size) */
    double served[MTB_MAX_TASKS];         /* cosine of the merged update and g_i */
    double merged_norm;                   /* |d| */
} mtb_conflict_stats;

/* Each method's parameters, with the papers' defaults
 * (mtb_merge_params_defaults); a method reads only its own. */
typedef struct mtb_merge_params {
    double cagrad_c;        /* CAGrad's c: radius of the ball around the mean, 0.4 */
    double gradvac_beta;    /* GradVac's EMA rate of the target similarities, 0.01 */
    double uw_lr;           /* UW's learning rate for the log-variances; 0: the step's own */
    double dwa_temperature; /* DWA's softmax temperature, 2 */
    double famo_lr;         /* FAMO's learning rate for its logits, 0.025 */
    double famo_decay;      /* FAMO's weight decay (gamma) on its logits, 0.001 */
} mtb_merge_params;

void mtb_merge_params_defaults(mtb_merge_params *p);

/* A method's memory across steps (GradVac's target similarities, UW's
 * log-variances, ...), as doubles so that a checkpoint stores it exactly.
 * Zero is every method's starting state. */
#define MTB_MERGE_STATE_LEN (MTB_MAX_TASKS * MTB_MAX_TASKS * MTB_MAX_GROUPS + 32)
typedef struct mtb_merge_state {
    double x[MTB_MERGE_STATE_LEN];
} mtb_merge_state;

/* What a method sees of one step.  Indices k are positions in the step's
 * task list (grads[k]). */
typedef struct mtb_merge_input {
    int n_tasks;
    const double *gram;       /* (T, T) G[a][b] = g_a . g_b over the whole encoder */
    int n_groups;
    const double *group_gram; /* (n_groups, T, T) the same per parameter group */
    const int *order;         /* (T) a permutation: the visiting order (PCGrad, GradVac) */
    const double *loss;       /* (T) the step's task losses */
    long epoch;               /* the step's epoch, from 0 (DWA) */
    double lr;                /* the step's learning rate (UW's default) */
} mtb_merge_input;

/* What a method returns. */
typedef struct mtb_merge_output {
    double weight[MTB_MAX_TASKS];   /* d = sum_k weight[k] g_k (outside the groups when
                                       per_group) */
    bool per_group;                 /* group_weight[] holds the weights within each group */
    double group_weight[MTB_MAX_GROUPS][MTB_MAX_TASKS];
    bool projected[MTB_MAX_TASKS][MTB_MAX_TASKS]; /* optional: [i][j] g_i was changed by g_j */
    double change[MTB_MAX_TASKS];   /* optional: |g_i' - g_i| / |g_i| */
} mtb_merge_output;

typedef struct mtb_merge_method {
    const char *name;     /* --mode and :mode */
    const char *summary;  /* one line for --help, the man page and :help */
    bool loss_weighting;  /* weights from the losses alone; heads are scaled too */
    bool stateful;        /* keeps a state across steps (saved in checkpoints) */
    size_t state_len;     /* doubles of mtb_merge_state it uses */
    /* in: the step; p: the parameters; st: the state, advanced by one step;
     * out: zeroed by the caller. */
    void (*merge)(const mtb_merge_input *in, const mtb_merge_params *p, mtb_merge_state *st,
                  mtb_merge_output *out);
} mtb_merge_method;

/* The registry: sum, pcgrad, mgda, then the others in the order --help
 * lists them.  mtb_merge_find returns NULL for an unknown name. */
int mtb_merge_count(void);
const mtb_merge_method *mtb_merge_at(int i);
const mtb_merge_method *mtb_merge_find(const char *name);
int mtb_merge_index(const mtb_merge_method *m);
/* "sum, pcgrad, mgda, ..." into buf. */
const char *mtb_merge_names(char *buf, size_t cap);

/* How the merged update is applied: weights per range of the vector. */
typedef struct mtb_merge_plan {
    int n_tasks;
    double weight[MTB_MAX_TASKS];  /* everywhere outside the segments */
    int n_segments;                /* 0 for a method with one set of weights */
    size_t seg_lo[MTB_MAX_GROUPS], seg_hi[MTB_MAX_GROUPS]; /* disjoint, ascending */
    double seg_weight[MTB_MAX_GROUPS][MTB_MAX_TASKS];
    bool scale_heads;              /* a loss weighting: heads' gradients take weight[] too */
} mtb_merge_plan;

/* The step a method merges beyond the gradients (all optional: NULL
 * params are the defaults, NULL state a fresh one, NULL loss all ones). */
typedef struct mtb_merge_context {
    const mtb_merge_params *params;
    mtb_merge_state *state;  /* advanced by one step */
    const double *loss;      /* (n_tasks) */
    long epoch;
    double lr;
} mtb_merge_context;

/* grads[k] (n floats each) are the gradients of the tasks task_ids[k],
 * k < n_tasks.  order is a permutation of 0..n_tasks-1 (indices into grads;
 * the visiting order of PCGrad and GradVac).  Measures the statistics and
 * returns the merge as a plan: element i of the merged gradient is
 * sum_k w_k grads[k][i] with the weights of the range holding i.  Reads
 * each gradient once and writes none.  groups may be NULL (n_groups 0).
 * sparse (may be NULL) names a table of which only some rows can be
 * nonzero in any of the gradients; the others are not read.  ctx may be
 * NULL. */
void mtb_merge_weights(const float *const *grads, const int *task_ids, int n_tasks, size_t n,
                       const int *order, const mtb_merge_method *method,
                       const mtb_merge_context *ctx, const mtb_param_group *groups,
                       int n_groups, const mtb_sparse_rows *sparse, mtb_conflict_stats *stats,
                       mtb_merge_plan *plan);

/* The plan's weights for element k. */
static inline const double *mtb_plan_weights_at(const mtb_merge_plan *plan, size_t k)
{
    for (int s = 0; s < plan->n_segments; s++)
        if (k >= plan->seg_lo[s] && k < plan->seg_hi[s])
            return plan->seg_weight[s];
    return plan->weight;
}

/* Element k of the merged gradient (n_tasks >= 1), formed in double and
 * rounded once: the one expression every consumer of the weights uses, so a
 * merged gradient written out and one applied inside AdamW are the same
 * bits. */
static inline float mtb_combined_grad(const float *const *grads, const double *weights,
                                      int n_tasks, size_t k)
{
    double acc = weights[0] * (double)grads[0][k];
    for (int t = 1; t < n_tasks; t++)
        acc += weights[t] * (double)grads[t][k];
    return (float)acc;
}

/* out (n) = the merged gradient, element by element (mtb_combined_grad). */
void mtb_grads_combine(float *out, const float *const *grads, const mtb_merge_plan *plan,
                       size_t n);

/* The methods, for tests and front ends that name one directly. */
extern const mtb_merge_method mtb_method_sum, mtb_method_pcgrad, mtb_method_mgda,
    mtb_method_cagrad, mtb_method_gradvac, mtb_method_imtl, mtb_method_nashmtl,
    mtb_method_aligned, mtb_method_upgrad, mtb_method_uw, mtb_method_dwa, mtb_method_famo;

/* ---------------------------------------------------------------- modes */

/* A multitask mode is 1 + the index of its merge method in the registry
 * (above); the first three are named here. */
typedef enum mtb_mode {
    MTB_MODE_SINGLE, /* one task (Table 1 of the seed project) */
    MTB_MODE_SUM,    /* sum of the task losses */
    MTB_MODE_PCGRAD, /* projected conflicting gradients */
    MTB_MODE_MGDA,   /* the min-norm point of the task gradients' convex hull (mgda.h) */
} mtb_mode;

/* "single:sst", "sum", "pcgrad", "mgda", "cagrad", ... (every method of the
 * registry) */
int mtb_mode_parse(const char *text, mtb_mode *mode, mtb_task *single_task);
const char *mtb_mode_name(mtb_mode mode, mtb_task single_task, char *buf, size_t cap);
/* The merge method of a multitask mode; NULL for MTB_MODE_SINGLE. */
const mtb_merge_method *mtb_mode_method(mtb_mode mode);

#endif
