/* Multitask training: step, thread, requests, checkpoints. */
#include "mtbert/trainer.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtbert/evaluate.h"
#include "mtbert/file.h"
#include "mtbert/finite.h"
#include "mtbert/parallel.h"
#include "mtbert/profile.h"
#include "mtbert/safetensors.h"

struct mtb_trainer {
    mtb_multitask *mt;
    mtb_train_options opt;
    bool active[MTB_N_TASKS]; /* tasks the current mode trains */
    bool single_task_run;     /* fixed at creation */
    bool has_train[MTB_N_TASKS], has_dev[MTB_N_TASKS];
    mtb_encoded train[MTB_N_TASKS], dev[MTB_N_TASKS];
    mtb_order order[MTB_N_TASKS];
    mtb_task_batch batch[MTB_N_TASKS];
    mtb_task_ws ws;           /* single-task runs */
    mtb_joint_ws joint;       /* multitask runs: all tasks in one encoder pass */
    uint32_t *idx;            /* (max batch) */
    float *task_grad[MTB_N_TASKS]; /* (n_params) each: one task's encoder gradient */
    /* The dense layers' weight gradients, which the joint pass overwrites:
     * zeroing leaves them alone (most of each buffer). */
    size_t dense_off[6 * MTB_MAX_LAYERS], dense_len[6 * MTB_MAX_LAYERS];
    int n_dense;
    /* Word-embedding rows: a step's gradients are zero outside the rows its
     * batches use, so zeroing, the Gram matrix and AdamW visit those only. */
    int *rows[MTB_N_TASKS];   /* rows task t's gradient buffer may hold, ascending */
    int n_rows[MTB_N_TASKS];
    bool rows_known[MTB_N_TASKS]; /* false: the buffer may hold any row (zero it all) */
    int *step_rows;           /* the union over the step's tasks */
    int n_step_rows;
    unsigned char *row_mark;  /* (vocab) scratch */
    unsigned char *row_touched; /* (vocab) rows whose AdamW moments may be nonzero */
    float *m_enc, *v_enc, *m_heads, *v_heads; /* AdamW moments */
    long step;
    long steps_per_epoch, total_steps;
    mtb_rng rng;              /* dropout */
    mtb_rng order_rng;        /* PCGrad task order */
    mtb_merge_state merge_state; /* the mode's method's memory (GradVac, UW, DWA, FAMO) */
    double best_score;        /* the best evaluation's mtb_eval_score (NAN: none yet) */
    long best_step;

    /* thread and requests, guarded by lock */
    pthread_t thread;
    bool started;
    int status;
    char failure[512];        /* why status is not 0 */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool paused, stop, stop_save, eval_req, save_req;
    bool reported_paused;     /* the pause state the last STATE event announced */
    bool drew[MTB_N_TASKS];   /* the last step drew batch[t] from the data */
    char save_dir[4096];
    float new_lr;             /* NAN: no change */
    int new_mode;             /* -1: no change */
    pthread_rwlock_t weights;
    mtb_event_queue events;
    struct timespec t0;
    double elapsed_base;      /* seconds spent before a restore */
    char restore_note[256];   /* what a restore changed, logged when the thread starts */
    long updates;             /* AdamW updates applied: steps less skipped ones */
    long skipped;             /* steps skipped by the divergence guard */
    bool skipped_last;        /* the last step was one of them */
    char diverged[320];       /* what the guard last found */
    long inject_nan_step;     /* MTBERT_INJECT_NAN=STEP:TASK (0: off) */
    int inject_nan_task;
};

int mtb_mode_parse(const char *text, mtb_mode *mode, mtb_task *single_task)
{
    const mtb_merge_method *m = mtb_merge_find(text);
    if (m) {
        *mode = (mtb_mode)(1 + mtb_merge_index(m));
        return 0;
    }
    if (strncmp(text, "single:", 7) == 0) {
        int t = mtb_task_parse(text + 7);
        if (t < 0)
            return -1;
        *mode = MTB_MODE_SINGLE;
        *single_task = (mtb_task)t;
        return 0;
    }
    return -1;
}

const mtb_merge_method *mtb_mode_method(mtb_mode mode)
{
    return mode == MTB_MODE_SINGLE ? NULL : mtb_merge_at((int)mode - 1);
}

const char *mtb_mode_name(mtb_mode mode, mtb_task single_task, char *buf, size_t cap)
{
    const mtb_merge_method *m = mtb_mode_method(mode);
    if (m)
        snprintf(buf, cap, "%s", m->name);
    else
        snprintf(buf, cap, "single:%s", mtb_task_name(single_task));
    return buf;
}

void mtb_train_options_defaults(mtb_train_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->mode = MTB_MODE_PCGRAD;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        opt->use_task[t] = true;
        opt->batch[t] = 8;
    }
    opt->max_len = 128;
    opt->epochs = 1;
    opt->seed = 11711; /* the seed project's default seed */
    opt->eval_batch = 32;
    opt->dropout = true;
    mtb_adamw_defaults(&opt->adamw);
    mtb_merge_params_defaults(&opt->merge);
    mtb_schedule_defaults(&opt->schedule);
}

static double now_seconds(const mtb_trainer *tr)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return tr->elapsed_base + (double)(t.tv_sec - tr->t0.tv_sec) +
           (double)(t.tv_nsec - tr->t0.tv_nsec) * 1e-9;
}

static void set_active(mtb_trainer *tr)
{
    for (int t = 0; t < MTB_N_TASKS; t++)
        tr->active[t] = tr->opt.mode == MTB_MODE_SINGLE ? t == (int)tr->opt.single_task
                                                        : tr->opt.use_task[t];
}

static int pair_len(const mtb_multitask *mt, int max_len)
{
    int p = 2 * max_len;
    return p < mt->bert.cfg.max_position ? p : mt->bert.cfg.max_position;
}

int mtb_trainer_create(mtb_trainer **out, mtb_multitask *mt, const mtb_train_options *opt,
                       const mtb_dataset *const train[MTB_N_TASKS],
                       const mtb_dataset *const dev[MTB_N_TASKS], mtb_error *err)
{
    *out = NULL;
    mtb_trainer *tr = calloc(1, sizeof *tr);
    if (!tr)
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    tr->mt = mt;
    tr->opt = *opt;
    tr->opt.run_json = opt->run_json ? strdup(opt->run_json) : NULL;
    tr->new_lr = NAN;
    tr->new_mode = -1;
    tr->best_score = NAN;
    const char *inject = getenv("MTBERT_INJECT_NAN");
    char task_name[16];
    if (inject && sscanf(inject, "%ld:%15s", &tr->inject_nan_step, task_name) == 2 &&
        mtb_task_parse(task_name) >= 0)
        tr->inject_nan_task = mtb_task_parse(task_name);
    else
        tr->inject_nan_step = 0;
    tr->single_task_run = opt->mode == MTB_MODE_SINGLE;
    pthread_mutex_init(&tr->lock, NULL);
    pthread_cond_init(&tr->wake, NULL);
    pthread_rwlock_init(&tr->weights, NULL);
    int rc = mtb_event_queue_init(&tr->events, 1024) ? mtb_error_set(err, MTB_EFAIL, "out of memory")
                                                     : MTB_OK;
    set_active(tr);

    const int max_len = opt->max_len < mt->bert.cfg.max_position ? opt->max_len
                                                                  : mt->bert.cfg.max_position;
    tr->opt.max_len = max_len;
    const int plen = pair_len(mt, max_len);
    int max_B = 1;
    for (int t = 0; t < MTB_N_TASKS && !rc; t++) {
        if (opt->batch[t] > max_B)
            max_B = opt->batch[t];
        if (train && train[t]) {
            rc = mtb_encode_dataset(&tr->train[t], train[t], mt->vocab, max_len, plen, err);
            if (!rc && tr->train[t].n == 0)
                rc = mtb_error_set(err, MTB_EINPUT, "%s: no training examples", train[t]->path);
            if (!rc && !train[t]->labelled)
                rc = mtb_error_set(err, MTB_EINPUT, "%s: training data needs labels",
                                   train[t]->path);
            tr->has_train[t] = !rc;
            if (!rc)
                rc = mtb_order_init(&tr->order[t], (uint32_t)tr->train[t].n,
                                    opt->seed * 1000003u + (uint64_t)t)
                         ? mtb_error_set(err, MTB_EFAIL, "out of memory")
                         : MTB_OK;
        }
        if (!rc && dev && dev[t]) {
            rc = mtb_encode_dataset(&tr->dev[t], dev[t], mt->vocab, max_len, plen, err);
            tr->has_dev[t] = !rc && tr->dev[t].n > 0;
        }
    }
    if (!rc && opt->mode == MTB_MODE_SINGLE)
        rc = mtb_task_ws_init(&tr->ws, &mt->bert.cfg, max_B, plen, true, err);
    else if (!rc) {
        rc = mtb_joint_ws_init(&tr->joint, &mt->bert.cfg, max_B, plen, err);
        tr->joint.overwrite_dense = true;
        tr->n_dense = mtb_bert_dense_spans(&mt->bert, tr->dense_off, tr->dense_len,
                                           6 * MTB_MAX_LAYERS);
    }
    for (int t = 0; t < MTB_N_TASKS && !rc; t++)
        if (mtb_task_batch_alloc(&tr->batch[t], (mtb_task)t, max_B, plen))
            rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
    const size_t n = mt->bert.n_params, nh = mt->heads.n_params;
    if (!rc) {
        tr->idx = calloc((size_t)max_B, sizeof *tr->idx);
        tr->m_enc = calloc(n, sizeof(float));
        tr->v_enc = calloc(n, sizeof(float));
        tr->m_heads = calloc(nh, sizeof(float));
        tr->v_heads = calloc(nh, sizeof(float));
        const size_t V = (size_t)mt->bert.cfg.vocab_size;
        const size_t row_cap = (size_t)max_B * (size_t)plen * 2; /* sts: two sequences */
        tr->step_rows = calloc(V < MTB_N_TASKS * row_cap ? V : MTB_N_TASKS * row_cap,
                               sizeof(int));
        tr->row_mark = calloc(V, 1);
        tr->row_touched = calloc(V, 1);
        bool ok = tr->idx && tr->m_enc && tr->v_enc && tr->m_heads && tr->v_heads &&
                  tr->step_rows && tr->row_mark && tr->row_touched;
        for (int t = 0; t < MTB_N_TASKS; t++)
            if (!(tr->rows[t] = calloc(V < row_cap ? V : row_cap, sizeof(int))))
                ok = false;
        if (opt->mode != MTB_MODE_SINGLE) {
            /* Each task backpropagates into its own buffer, and the merged
             * gradient is never stored (AdamW forms it).  Fresh buffers are
             * zero, and their word-embedding pages are only touched for the
             * rows batches use. */
            for (int t = 0; t < MTB_N_TASKS; t++) {
                if (!opt->use_task[t])
                    continue;
                if (!(tr->task_grad[t] = calloc(n, sizeof(float))))
                    ok = false;
                tr->rows_known[t] = true;
                tr->n_rows[t] = 0;
            }
        }
        if (!ok)
            rc = mtb_error_set(err, MTB_EFAIL, "out of memory for the optimizer and gradients "
                               "of %zu parameters", n);
    }

    /* An epoch is a pass over the largest task; the others cycle. */
    for (int t = 0; t < MTB_N_TASKS && !rc; t++) {
        if (!tr->active[t])
            continue;
        /* Without datasets at all the caller brings its own batches. */
        if (train && !tr->has_train[t])
            rc = mtb_error_set(err, MTB_EINPUT, "no %s training data for the mode trained",
                               mtb_task_name((mtb_task)t));
        if (tr->has_train[t]) {
            long s = (long)((tr->train[t].n + (size_t)opt->batch[t] - 1) / (size_t)opt->batch[t]);
            if (s > tr->steps_per_epoch)
                tr->steps_per_epoch = s;
        }
    }
    if (!rc) {
        tr->total_steps = opt->epochs > 0 ? opt->epochs * tr->steps_per_epoch : 0;
        if (opt->max_steps > 0 && (tr->total_steps == 0 || opt->max_steps < tr->total_steps))
            tr->total_steps = opt->max_steps;
        tr->opt.schedule.total_steps = tr->total_steps;
        mtb_rng_seed(&tr->rng, opt->seed);
        mtb_rng_seed(&tr->order_rng, opt->seed ^ 0x9e3779b97f4a7c15ull);
    }
    if (rc) {
        mtb_trainer_destroy(tr);
        return rc;
    }
    *out = tr;
    return MTB_OK;
}

void mtb_trainer_destroy(mtb_trainer *tr)
{
    if (!tr)
        return;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        mtb_encoded_free(&tr->train[t]);
        mtb_encoded_free(&tr->dev[t]);
        mtb_order_free(&tr->order[t]);
        mtb_task_batch_free(&tr->batch[t]);
        free(tr->task_grad[t]);
        free(tr->rows[t]);
    }
    free(tr->step_rows);
    free(tr->row_mark);
    free(tr->row_touched);
    mtb_task_ws_free(&tr->ws);
    mtb_joint_ws_free(&tr->joint);
    free(tr->idx);
    free(tr->m_enc);
    free(tr->v_enc);
    free(tr->m_heads);
    free(tr->v_heads);
    free(tr->opt.run_json);
    if (tr->events.ring)
        mtb_event_queue_destroy(&tr->events);
    pthread_mutex_destroy(&tr->lock);
    pthread_cond_destroy(&tr->wake);
    pthread_rwlock_destroy(&tr->weights);
    free(tr);
}

long mtb_trainer_step_count(const mtb_trainer *tr) { return tr->step; }

static bool any_dev(const mtb_trainer *tr);
bool mtb_trainer_has_validation(const mtb_trainer *tr) { return any_dev(tr); }
void mtb_trainer_set_eval_every(mtb_trainer *tr, long n) { tr->opt.eval_every = n > 0 ? n : 0; }
long mtb_trainer_total_steps(const mtb_trainer *tr) { return tr->total_steps; }
const mtb_schedule *mtb_trainer_schedule(const mtb_trainer *tr) { return &tr->opt.schedule; }

float mtb_trainer_lr_at(const mtb_trainer *tr, long step)
{
    return (float)((double)tr->opt.adamw.lr * mtb_schedule_factor(&tr->opt.schedule, step));
}

const mtb_encoded *mtb_trainer_dev_data(const mtb_trainer *tr, mtb_task task)
{
    return tr->has_dev[task] ? &tr->dev[task] : NULL;
}

const mtb_encoded *mtb_trainer_train_data(const mtb_trainer *tr, mtb_task task)
{
    return tr->has_train[task] ? &tr->train[task] : NULL;
}

/* ------------------------------------------------------------ the step */

static mtb_sparse_rows word_rows(const mtb_trainer *tr, const int *rows, int n)
{
    const mtb_bert *m = &tr->mt->bert;
    mtb_sparse_rows sp = {.offset = (size_t)(m->p.wte - m->params),
                          .width = (size_t)m->cfg.hidden_size,
                          .n_rows = (size_t)m->cfg.vocab_size, .rows = rows,
                          .n_listed = (size_t)n};
    return sp;
}

/* Zeroes [lo, hi) of g except the dense weight spans, which the joint pass
 * overwrites (none when skip_dense is false). */
static void zero_except_dense(const mtb_trainer *tr, float *g, size_t lo, size_t hi,
                              bool skip_dense)
{
    size_t pos = lo;
    for (int i = 0; skip_dense && i < tr->n_dense && pos < hi; i++) {
        const size_t a = tr->dense_off[i], b = a + tr->dense_len[i];
        if (b <= pos || a >= hi)
            continue;
        if (a > pos)
            mtb_zero_floats(g + pos, a - pos);
        pos = b;
    }
    if (pos < hi)
        mtb_zero_floats(g + pos, hi - pos);
}

/* Zeroes a task's gradient buffer: all of it the first time, later all but
 * the word embeddings, of which only the rows its last batch wrote, and (in
 * multitask runs) all but the dense weights the joint pass overwrites. */
static void zero_task_grad(mtb_trainer *tr, int t, float *g, bool skip_dense)
{
    mtb_bert *m = &tr->mt->bert;
    if (!tr->rows_known[t]) {
        mtb_zero_floats(g, m->n_params);
        return;
    }
    const mtb_sparse_rows sp = word_rows(tr, tr->rows[t], tr->n_rows[t]);
    const size_t end = sp.offset + sp.n_rows * sp.width;
    zero_except_dense(tr, g, 0, sp.offset, skip_dense);
    zero_except_dense(tr, g, end, m->n_params, skip_dense);
    for (int i = 0; i < tr->n_rows[t]; i++)
        memset(g + sp.offset + (size_t)tr->rows[t][i] * sp.width, 0, sp.width * sizeof(float));
}

/* After a restore: the word rows whose moments are not zero, as AdamW would
 * have recorded them while it made them. */
static void note_touched_rows(mtb_trainer *tr)
{
    const mtb_bert *m = &tr->mt->bert;
    const size_t H = (size_t)m->cfg.hidden_size, off = (size_t)(m->p.wte - m->params);
    for (int r = 0; r < m->cfg.vocab_size; r++) {
        const float *mr = tr->m_enc + off + (size_t)r * H, *vr = tr->v_enc + off + (size_t)r * H;
        unsigned char any = 0;
        for (size_t i = 0; i < H; i++)
            any |= (mr[i] != 0.0f) | (vr[i] != 0.0f);
        tr->row_touched[r] = any;
    }
}

static void mark_ids(unsigned char *mark, const int *ids, int n)
{
    for (int i = 0; i < n; i++)
        mark[ids[i]] = 1;
}

/* The marked rows, ascending, into rows; clears the marks. */
static int collect_marks(unsigned char *mark, int V, int *rows)
{
    int n = 0;
    for (int r = 0; r < V; r++)
        if (mark[r]) {
            rows[n++] = r;
            mark[r] = 0;
        }
    return n;
}

/* Records the word rows task t's backward wrote: the ids of its sequences
 * (in a single-task step the task workspace's, in a multitask step the
 * joint pass's sequences [first, first + count)). */
static void note_task_rows(mtb_trainer *tr, int t, int k)
{
    if (tr->opt.mode == MTB_MODE_SINGLE) {
        const mtb_task_ws *ws = &tr->ws;
        mark_ids(tr->row_mark, ws->acts_a.ids, ws->acts_a.N);
        if (t == MTB_TASK_STS)
            mark_ids(tr->row_mark, ws->acts_b.ids, ws->acts_b.N);
    } else {
        const mtb_joint_ws *j = &tr->joint;
        const int r0 = j->acts.offsets[j->first[k]];
        const int r1 = j->acts.offsets[j->first[k] + j->count[k]];
        mark_ids(tr->row_mark, j->acts.ids + r0, r1 - r0);
    }
    tr->n_rows[t] = collect_marks(tr->row_mark, tr->mt->bert.cfg.vocab_size, tr->rows[t]);
    tr->rows_known[t] = true;
}

/* A single-task gradient is finite: all of it but the word embeddings, of
 * which only the step's rows can be anything but zero. */
static bool grad_finite(const mtb_trainer *tr, const float *g)
{
    const mtb_bert *m = &tr->mt->bert;
    const size_t H = (size_t)m->cfg.hidden_size, off = (size_t)(m->p.wte - m->params);
    const size_t end = off + (size_t)m->cfg.vocab_size * H;
    if (!mtb_all_finite(g, off) || !mtb_all_finite(g + end, m->n_params - end))
        return false;
    for (int i = 0; i < tr->n_step_rows; i++)
        if (!mtb_all_finite(g + off + (size_t)tr->step_rows[i] * H, H))
            return false;
    return true;
}

/* The divergence guard, before any update: a non-finite loss, or a task
 * gradient with a NaN or infinity in it, is named in tr->diverged (step,
 * task, tensor).  Multitask steps read it off the gradient norms PCGrad
 * measured anyway; single-task steps pay one pass over the gradient. */
static bool find_nonfinite(mtb_trainer *tr, const int *ids, int n_active, const float *loss,
                           bool multi, const mtb_conflict_stats *stats)
{
    const mtb_multitask *mt = tr->mt;
    const long step = tr->step + 1;
    for (int k = 0; k < n_active; k++) {
        const int t = ids[k];
        const char *task = mtb_task_name((mtb_task)t);
        const float *g = multi ? tr->task_grad[t] : mt->bert.grads;
        const char *where = NULL;
        if (!isfinite(loss[t])) {
            where = mtb_bert_first_nonfinite(&mt->bert, mt->bert.params);
            if (where)
                snprintf(tr->diverged, sizeof tr->diverged, "step %ld, task %s: the loss is %g "
                         "because weight tensor '%s' is not finite", step, task,
                         (double)loss[t], where);
            else
                snprintf(tr->diverged, sizeof tr->diverged, "step %ld, task %s: the loss is %g",
                         step, task, (double)loss[t]);
            return true;
        }
        bool bad = multi ? !isfinite(stats->norm[k]) : !grad_finite(tr, g);
        if (bad && (where = mtb_bert_first_nonfinite(&mt->bert, g))) {
            snprintf(tr->diverged, sizeof tr->diverged, "step %ld, task %s: the gradient of "
                     "'%s' holds NaN or infinite values", step, task, where);
            return true;
        }
    }
    const char *where = mtb_heads_first_nonfinite(&mt->heads, mt->heads.grads);
    if (where) {
        snprintf(tr->diverged, sizeof tr->diverged, "step %ld, task %s: the gradient of '%s' "
                 "holds NaN or infinite values", step, strstr(where, "sst") ? "sst" : "para",
                 where);
        return true;
    }
    /* Finite task gradients merge into a finite one: PCGrad's projections
     * only shrink a gradient, and a sum of three overflows only past 1e38. */
    return false;
}

/* A method's weights and state are finite (a loss weighting's state
 * follows the losses, which are finite by now; a Gram-based method's
 * weights, the gradients).  Otherwise the step is the guard's to handle. */
static bool merge_finite(mtb_trainer *tr, const mtb_merge_plan *plan, const mtb_merge_state *st)
{
    bool ok = true;
    for (int k = 0; k < plan->n_tasks; k++)
        ok = ok && isfinite(plan->weight[k]);
    for (int s = 0; s < plan->n_segments; s++)
        for (int k = 0; k < plan->n_tasks; k++)
            ok = ok && isfinite(plan->seg_weight[s][k]);
    for (size_t i = 0; i < MTB_MERGE_STATE_LEN; i++)
        ok = ok && isfinite(st->x[i]);
    if (!ok) {
        char mode[32];
        snprintf(tr->diverged, sizeof tr->diverged, "step %ld: %s's task weights are not finite",
                 tr->step + 1, mtb_mode_name(tr->opt.mode, tr->opt.single_task, mode,
                                             sizeof mode));
    }
    return ok;
}

/* A loss weighting reweighs the whole loss, so each head's gradient takes
 * its task's weight too (the similarity head has no parameters). */
static void scale_head_grads(mtb_trainer *tr, const int *ids, int n_active,
                             const mtb_merge_plan *plan)
{
    mtb_heads *h = &tr->mt->heads;
    for (int k = 0; k < n_active; k++) {
        const float w = (float)plan->weight[k];
        float *g = NULL;
        size_t len = 0;
        if (ids[k] == MTB_TASK_SST) {
            g = h->g_sst_w;
            len = (size_t)(h->g_sst_b - h->g_sst_w) + 5;
        } else if (ids[k] == MTB_TASK_PARA) {
            g = h->g_para_w;
            len = (size_t)(h->g_para_b - h->g_para_w) + 1;
        }
        for (size_t i = 0; i < len; i++)
            g[i] *= w;
    }
}

int mtb_trainer_step(mtb_trainer *tr, const mtb_task_batch *const *tb, float loss[MTB_N_TASKS],
                     mtb_conflict_stats *stats)
{
    mtb_multitask *mt = tr->mt;
    const size_t n = mt->bert.n_params;
    int ids[MTB_N_TASKS], n_active = 0;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        loss[t] = NAN;
        if (tr->active[t])
            ids[n_active++] = t;
    }
    if (n_active == 0)
        return MTB_EINPUT;
    const bool multi = tr->opt.mode != MTB_MODE_SINGLE;
    for (int t = 0; t < MTB_N_TASKS; t++)
        tr->drew[t] = false;

    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, mtb_heads_zero_grad(&mt->heads));
    const float *grads[MTB_N_TASKS];
    const mtb_task_batch *batches[MTB_N_TASKS];
    for (int k = 0; k < n_active; k++) {
        const int t = ids[k];
        const mtb_task_batch *b = tb ? tb[t] : NULL;
        if (!b) {
            if (!tr->has_train[t])
                return MTB_EINPUT;
            mtb_order_next(&tr->order[t], tr->idx, tr->opt.batch[t]);
            mtb_encoded_batch(&tr->train[t], tr->idx, tr->opt.batch[t],
                              mtb_vocab_specials(mt->vocab)->pad, &tr->batch[t]);
            b = &tr->batch[t];
            tr->drew[t] = true;
        }
        batches[k] = b;
    }
    if (multi) {
        /* One encoder pass for all tasks, each task's gradient into its own
         * buffer. */
        float *task_grads[MTB_N_TASKS];
        float task_loss[MTB_N_TASKS];
        for (int k = 0; k < n_active; k++) {
            task_grads[k] = tr->task_grad[ids[k]];
            grads[k] = task_grads[k];
            MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING,
                         zero_task_grad(tr, ids[k], task_grads[k], tr->joint.overwrite_dense));
        }
        mtb_multitask_joint_step(mt, &tr->joint, batches, n_active, task_grads, tr->opt.dropout,
                                 &tr->rng, task_loss);
        for (int k = 0; k < n_active; k++) {
            loss[ids[k]] = task_loss[k];
            note_task_rows(tr, ids[k], k);
        }
    } else {
        const int t = ids[0];
        MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero_task_grad(tr, t, mt->bert.grads, false));
        loss[t] = mtb_multitask_step(mt, &tr->ws, batches[0], tr->opt.dropout, true, &tr->rng);
        note_task_rows(tr, t, 0);
    }
    for (int k = 0; k < n_active; k++)
        for (int i = 0; i < tr->n_rows[ids[k]]; i++)
            tr->row_mark[tr->rows[ids[k]][i]] = 1;
    tr->n_step_rows = collect_marks(tr->row_mark, mt->bert.cfg.vocab_size, tr->step_rows);
    const mtb_sparse_rows step_rows = word_rows(tr, tr->step_rows, tr->n_step_rows);
    if (tr->inject_nan_step == tr->step + 1 && tr->active[tr->inject_nan_task]) {
        /* MTBERT_INJECT_NAN: the divergence guard's test hook. */
        float *g = multi ? tr->task_grad[tr->inject_nan_task] : mt->bert.grads;
        g[mt->bert.info[mt->bert.n_info > 5 ? 5 : 0].offset] = NAN;
    }
    mtb_conflict_stats local, *cs = stats ? stats : &local;
    mtb_merge_plan plan = {.n_tasks = 1, .weight = {1.0}};
    /* The method advances a copy of its state, kept only if the step is. */
    mtb_merge_state next_state = tr->merge_state;
    const float step_lr = mtb_trainer_lr_at(tr, tr->step + 1);
    if (multi) {
        int order[MTB_N_TASKS];
        for (int k = 0; k < n_active; k++)
            order[k] = k;
        if (!tr->opt.fixed_task_order)
            for (int k = n_active; k > 1; k--) {
                int j = (int)mtb_rng_below(&tr->order_rng, (uint32_t)k);
                int tmp = order[k - 1];
                order[k - 1] = order[j];
                order[j] = tmp;
            }
        double task_loss[MTB_MAX_TASKS];
        for (int k = 0; k < n_active; k++)
            task_loss[k] = loss[ids[k]];
        const mtb_merge_context ctx = {
            .params = &tr->opt.merge, .state = &next_state, .loss = task_loss,
            .epoch = tr->steps_per_epoch ? tr->step / tr->steps_per_epoch : 0,
            .lr = step_lr,
        };
        MTB_PROFILED(MTB_PROF_PCGRAD,
                     mtb_merge_weights(grads, ids, n_active, n, order,
                                       mtb_mode_method(tr->opt.mode), &ctx, mt->bert.groups,
                                       mt->bert.n_groups, &step_rows, cs, &plan));
    } else {
        grads[0] = mt->bert.grads;
    }

    const long t_step = tr->step + 1;
    tr->skipped_last = false;
    if (find_nonfinite(tr, ids, n_active, loss, multi, cs) ||
        (multi && !merge_finite(tr, &plan, &next_state))) {
        if (tr->opt.on_nan == MTB_ON_NAN_STOP)
            return MTB_EFAIL;
        /* Skip: the batches are used up and the step counts, the weights and
         * moments stay as they were. */
        tr->skipped_last = true;
        tr->skipped++;
        tr->step = t_step;
        return MTB_OK;
    }
    const long update = tr->updates + 1; /* AdamW's own count: skipped steps are not updates */
    for (int k = 0; k < n_active; k++)
        mt->trained[ids[k]] = true;
    mtb_adamw_hparams hp = tr->opt.adamw;
    hp.lr = step_lr;
    tr->merge_state = next_state;
    if (plan.scale_heads)
        scale_head_grads(tr, ids, n_active, &plan);
    pthread_rwlock_wrlock(&tr->weights);
    /* The merged gradient is formed inside AdamW's pass, never stored. */
    MTB_PROFILED(MTB_PROF_ADAMW, {
        mtb_adamw_step_plan(&hp, update, mt->bert.params, grads, &plan, tr->m_enc, tr->v_enc, n,
                            &step_rows, tr->row_touched);
        mtb_adamw_step(&hp, update, mt->heads.params, mt->heads.grads, tr->m_heads,
                       tr->v_heads, mt->heads.n_params);
    });
    pthread_rwlock_unlock(&tr->weights);
    tr->updates = update;
    tr->step = t_step;
    return MTB_OK;
}

const mtb_task_batch *mtb_trainer_last_batch(const mtb_trainer *tr, mtb_task t)
{
    return (int)t >= 0 && t < MTB_N_TASKS && tr->drew[t] ? &tr->batch[t] : NULL;
}

const char *mtb_trainer_divergence(const mtb_trainer *tr) { return tr->diverged; }
long mtb_trainer_skipped_steps(const mtb_trainer *tr) { return tr->skipped; }

int mtb_trainer_evaluate(mtb_trainer *tr, mtb_eval_result *res, mtb_error *err)
{
    const mtb_encoded *dev[MTB_N_TASKS];
    for (int t = 0; t < MTB_N_TASKS; t++)
        dev[t] = tr->has_dev[t] ? &tr->dev[t] : NULL;
    return mtb_evaluate(tr->mt, dev, tr->opt.eval_batch, res, err);
}

/* ------------------------------------------------------------ checkpoints */

static json_t *rng_to_json(const mtb_rng *r)
{
    json_t *a = json_array();
    for (int i = 0; i < 4; i++) {
        char hex[32];
        snprintf(hex, sizeof hex, "%016" PRIx64, r->s[i]);
        json_array_append_new(a, json_string(hex));
    }
    return a;
}

/* Four 64-bit hex words, not all zero: xoshiro's all-zero state is a fixed
 * point that yields 0 forever (and would hang mtb_rng_below). */
static bool rng_from_json(const json_t *a, mtb_rng *r)
{
    if (!json_is_array(a) || json_array_size(a) != 4)
        return false;
    mtb_rng got;
    uint64_t any = 0;
    for (int i = 0; i < 4; i++) {
        const char *s = json_string_value(json_array_get(a, (size_t)i));
        char *end;
        if (!s || !*s || strlen(s) > 16 || s[strspn(s, "0123456789abcdefABCDEF")] != '\0')
            return false;
        got.s[i] = strtoull(s, &end, 16);
        any |= got.s[i];
    }
    if (!any)
        return false;
    *r = got;
    return true;
}

/* The method's parameters (all of them: a :mode switch may pick any) and
 * its state, doubles written with 17 digits, so they read back exactly. */
static json_t *method_to_json(const mtb_trainer *tr)
{
    const mtb_merge_params *p = &tr->opt.merge;
    json_t *params = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "cagrad_c", p->cagrad_c,
                               "gradvac_beta", p->gradvac_beta, "uw_lr", p->uw_lr,
                               "dwa_temperature", p->dwa_temperature, "famo_lr", p->famo_lr,
                               "famo_decay", p->famo_decay);
    json_t *state = json_array();
    const mtb_merge_method *m = mtb_mode_method(tr->opt.mode);
    for (size_t i = 0; m && i < m->state_len; i++)
        json_array_append_new(state, json_real(tr->merge_state.x[i]));
    return json_pack("{s:o, s:o}", "params", params, "state", state);
}

static bool json_finite(const json_t *v, double *out)
{
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return false;
    *out = json_number_value(v);
    return true;
}

/* The inverse of method_to_json, for the mode the checkpoint was in.
 * Checkpoints from before methods had parameters keep the options'. */
static int method_from_json(const json_t *mj, mtb_mode mode, const char *dir,
                            mtb_merge_params *p_out, mtb_merge_state *st_out, mtb_error *err)
{
    memset(st_out, 0, sizeof *st_out);
    if (!mj)
        return MTB_OK;
    mtb_merge_params p = *p_out;
    const json_t *params = json_object_get(mj, "params"), *state = json_object_get(mj, "state");
    struct { const char *key; double *dst; double lo, hi; } fields[] = {
        {"cagrad_c", &p.cagrad_c, 0.0, 100.0},
        {"gradvac_beta", &p.gradvac_beta, 0.0, 1.0},
        {"uw_lr", &p.uw_lr, 0.0, 10.0},
        {"dwa_temperature", &p.dwa_temperature, 1e-6, 1e6},
        {"famo_lr", &p.famo_lr, 0.0, 10.0},
        {"famo_decay", &p.famo_decay, 0.0, 10.0},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const json_t *v = json_object_get(params, fields[i].key);
        double d;
        if (v && (!json_finite(v, &d) || d < fields[i].lo || d > fields[i].hi))
            return mtb_error_set(err, MTB_EINPUT, "%s/trainer.json: method parameter '%s' "
                                 "must be a number in [%g, %g]", dir, fields[i].key,
                                 fields[i].lo, fields[i].hi);
        if (v)
            *fields[i].dst = d;
    }
    const mtb_merge_method *m = mtb_mode_method(mode);
    const size_t want = m ? m->state_len : 0;
    mtb_merge_state st;
    memset(&st, 0, sizeof st);
    if (state && (!json_is_array(state) || json_array_size(state) != want))
        return mtb_error_set(err, MTB_EINPUT, "%s/trainer.json: the %s state must be %zu "
                             "finite numbers", dir, m ? m->name : "mode's", want);
    for (size_t i = 0; state && i < want; i++)
        if (!json_finite(json_array_get(state, i), &st.x[i]))
            return mtb_error_set(err, MTB_EINPUT, "%s/trainer.json: the %s state must be %zu "
                                 "finite numbers", dir, m->name, want);
    *p_out = p;
    *st_out = st;
    return MTB_OK;
}

static int write_state(const char *tmp, void *ctx, mtb_error *err)
{
    mtb_trainer *tr = ctx;
    const mtb_multitask *mt = tr->mt;
    char path[4096];
    int rc;

    mtb_st_entry opt_t[4] = {
        {.name = "encoder.m", .ndim = 1, .shape = {(int64_t)mt->bert.n_params}, .data = tr->m_enc},
        {.name = "encoder.v", .ndim = 1, .shape = {(int64_t)mt->bert.n_params}, .data = tr->v_enc},
        {.name = "heads.m", .ndim = 1, .shape = {(int64_t)mt->heads.n_params}, .data = tr->m_heads},
        {.name = "heads.v", .ndim = 1, .shape = {(int64_t)mt->heads.n_params}, .data = tr->v_heads},
    };
    mtb_path_join(path, sizeof path, tmp, "optimizer.safetensors");
    if ((rc = mtb_st_write(path, opt_t, 4, NULL, 0, err)))
        return rc;

    mtb_st_entry perms[MTB_N_TASKS];
    char names[MTB_N_TASKS][32];
    int n_perm = 0;
    json_t *orders = json_object();
    for (int t = 0; t < MTB_N_TASKS; t++) {
        if (!tr->has_train[t])
            continue;
        const mtb_order *o = &tr->order[t];
        snprintf(names[n_perm], sizeof names[0], "%s.perm", mtb_task_name((mtb_task)t));
        perms[n_perm] = (mtb_st_entry){.name = names[n_perm], .dtype = MTB_ST_I32, .ndim = 1,
                                       .shape = {(int64_t)o->n}, .data = o->perm};
        n_perm++;
        json_object_set_new(orders, mtb_task_name((mtb_task)t),
                            json_pack("{s:I, s:I, s:I, s:o}", "n", (json_int_t)o->n, "cursor",
                                      (json_int_t)o->cursor, "passes", (json_int_t)o->passes,
                                      "rng", rng_to_json(&o->rng)));
    }
    mtb_path_join(path, sizeof path, tmp, "order.safetensors");
    if (n_perm && (rc = mtb_st_write(path, perms, n_perm, NULL, 0, err))) {
        json_decref(orders);
        return rc;
    }

    char mode[32];
    json_t *root = json_pack("{s:i, s:I, s:s, s:f, s:f, s:o, s:o, s:o}",
                             "mtbert_trainer_format", 1, "step", (json_int_t)tr->step, "mode",
                             mtb_mode_name(tr->opt.mode, tr->opt.single_task, mode, sizeof mode),
                             "lr", (double)tr->opt.adamw.lr, "elapsed", now_seconds(tr), "rng",
                             rng_to_json(&tr->rng), "pcgrad_rng", rng_to_json(&tr->order_rng),
                             "order", orders);
    if (root) {
        json_object_set_new(root, "updates", json_integer((json_int_t)tr->updates));
        json_object_set_new(root, "skipped", json_integer((json_int_t)tr->skipped));
    }
    if (root)
        json_object_set_new(root, "schedule",
                            json_pack("{s:s, s:I, s:I}", "kind",
                                      mtb_schedule_name(tr->opt.schedule.kind), "warmup",
                                      (json_int_t)mtb_schedule_warmup(&tr->opt.schedule), "total",
                                      (json_int_t)tr->opt.schedule.total_steps));
    if (root)
        json_object_set_new(root, "method", method_to_json(tr));
    if (root && !isnan(tr->best_score))
        json_object_set_new(root, "best", json_pack("{s:f, s:I}", "score", tr->best_score, "step",
                                                    (json_int_t)tr->best_step));
    if (root && tr->opt.run_json) {
        json_error_t jerr;
        json_t *run = json_loads(tr->opt.run_json, 0, &jerr);
        if (run)
            json_object_set_new(root, "run", run);
    }
    mtb_path_join(path, sizeof path, tmp, "trainer.json");
    rc = mtb_json_save_file(root, path, JSON_INDENT(2), err);
    json_decref(root);
    return rc;
}

static bool moments_finite(const mtb_trainer *tr)
{
    const size_t n = tr->mt->bert.n_params, nh = tr->mt->heads.n_params;
    return mtb_all_finite(tr->m_enc, n) && mtb_all_finite(tr->v_enc, n) &&
           mtb_all_finite(tr->m_heads, nh) && mtb_all_finite(tr->v_heads, nh);
}

int mtb_trainer_save(mtb_trainer *tr, const char *dir, mtb_error *err)
{
    if (!moments_finite(tr))
        return mtb_error_set(err, MTB_EFAIL, "not saving %s: the optimizer's moments hold NaN "
                             "or infinite values; what %s held is kept", dir, dir);
    return mtb_multitask_save(tr->mt, dir, write_state, tr, err);
}

static json_t *load_trainer_json(const char *dir, mtb_error *err)
{
    char path[4096];
    if (!mtb_path_join(path, sizeof path, dir, "trainer.json")) {
        mtb_error_set(err, MTB_EINPUT, "%.200s...: path too long", dir);
        return NULL;
    }
    json_t *root = mtb_json_load_file(path, err);
    if (!root && err && err->code == MTB_EINPUT && access(path, F_OK) != 0)
        mtb_error_prefix(err, "%s is not a training checkpoint", dir);
    return root;
}

int mtb_trainer_read_run_json(const char *dir, char **run_json, mtb_error *err)
{
    *run_json = NULL;
    json_t *root = load_trainer_json(dir, err);
    if (!root)
        return MTB_EINPUT;
    json_t *run = json_object_get(root, "run");
    if (run)
        *run_json = json_dumps(run, JSON_COMPACT);
    json_decref(root);
    return MTB_OK;
}

static bool is_permutation(const uint32_t *perm, uint32_t n)
{
    bool *seen = calloc(n ? n : 1, sizeof *seen);
    bool ok = seen != NULL;
    for (uint32_t i = 0; ok && i < n; i++) {
        ok = perm[i] < n && !seen[perm[i]];
        if (ok)
            seen[perm[i]] = true;
    }
    free(seen);
    return ok;
}

static int read_vector(const mtb_safetensors *st, const char *name, void *dst, size_t n,
                       mtb_st_dtype dtype, mtb_error *err)
{
    int i = mtb_st_find(st, name);
    if (i < 0)
        return mtb_error_set(err, MTB_EINPUT, "%s: missing tensor '%s'", mtb_st_path(st), name);
    const mtb_st_tensor *t = mtb_st_tensor_at(st, i);
    if (t->dtype != dtype || t->numel != n)
        return mtb_error_set(err, MTB_EINPUT,
                             "%s: tensor '%s' has %zu entries, this run needs %zu (different "
                             "model or data?)",
                             mtb_st_path(st), name, t->numel, n);
    memcpy(dst, t->data, t->nbytes);
    return MTB_OK;
}

int mtb_trainer_restore(mtb_trainer *tr, const char *dir, mtb_error *err)
{
    json_t *root = load_trainer_json(dir, err);
    if (!root)
        return MTB_EINPUT;
    char path[4096];
    int rc = MTB_OK;
    json_t *step = json_object_get(root, "step");
    if (!json_is_integer(step) || json_integer_value(step) < 0 ||
        !rng_from_json(json_object_get(root, "rng"), &tr->rng) ||
        !rng_from_json(json_object_get(root, "pcgrad_rng"), &tr->order_rng))
        rc = mtb_error_set(err, MTB_EINPUT, "%s/trainer.json: 'step' must be a count >= 0, and "
                           "'rng' and 'pcgrad_rng' four 64-bit hex words, not all zero", dir);

    mtb_safetensors *st = NULL;
    if (!rc) {
        mtb_path_join(path, sizeof path, dir, "optimizer.safetensors");
        rc = mtb_st_open(&st, path, err);
    }
    if (!rc) {
        const mtb_multitask *mt = tr->mt;
        rc = read_vector(st, "encoder.m", tr->m_enc, mt->bert.n_params, MTB_ST_F32, err);
        if (!rc)
            rc = read_vector(st, "encoder.v", tr->v_enc, mt->bert.n_params, MTB_ST_F32, err);
        if (!rc)
            rc = read_vector(st, "heads.m", tr->m_heads, mt->heads.n_params, MTB_ST_F32, err);
        if (!rc)
            rc = read_vector(st, "heads.v", tr->v_heads, mt->heads.n_params, MTB_ST_F32, err);
        if (!rc && !moments_finite(tr))
            rc = mtb_error_set(err, MTB_EINPUT, "%s: the optimizer's moments hold NaN or "
                               "infinite values (saved by a run that diverged?)", path);
        if (!rc)
            note_touched_rows(tr);
        mtb_st_close(st);
        st = NULL;
    }
    json_t *orders = json_object_get(root, "order");
    bool any_order = false;
    for (int t = 0; t < MTB_N_TASKS; t++)
        any_order |= tr->has_train[t];
    if (!rc && any_order) {
        mtb_path_join(path, sizeof path, dir, "order.safetensors");
        rc = mtb_st_open(&st, path, err);
    }
    for (int t = 0; t < MTB_N_TASKS && !rc; t++) {
        if (!tr->has_train[t])
            continue;
        mtb_order *o = &tr->order[t];
        const char *name = mtb_task_name((mtb_task)t);
        json_t *oj = json_object_get(orders, name);
        json_t *cursor = json_object_get(oj, "cursor"), *passes = json_object_get(oj, "passes");
        if (!json_is_integer(cursor) || !json_is_integer(passes) ||
            json_integer_value(cursor) < 0 || json_integer_value(passes) < 0 ||
            json_integer_value(cursor) > (json_int_t)o->n ||
            !rng_from_json(json_object_get(oj, "rng"), &o->rng)) {
            rc = mtb_error_set(err, MTB_EINPUT,
                               "%s/trainer.json: no data order for task %s (trained on "
                               "other data?)",
                               dir, name);
            break;
        }
        char tname[32];
        snprintf(tname, sizeof tname, "%s.perm", name);
        rc = read_vector(st, tname, o->perm, o->n, MTB_ST_I32, err);
        if (!rc && !is_permutation(o->perm, o->n))
            rc = mtb_error_set(err, MTB_EINPUT, "%s/order.safetensors: '%s' is not a permutation "
                               "of the %u training examples", dir, tname, o->n);
        o->cursor = (uint32_t)json_integer_value(cursor);
        o->passes = (uint64_t)json_integer_value(passes);
    }
    mtb_st_close(st);
    /* :lr and :mode changes made during the run carry over. */
    json_t *lr = json_object_get(root, "lr");
    const char *mode_name = json_string_value(json_object_get(root, "mode"));
    mtb_mode mode;
    mtb_task single;
    /* The command line's bounds: NaN and infinity fail both comparisons. */
    if (!rc && lr && (!json_is_number(lr) || !(json_number_value(lr) > 0) ||
                      !(json_number_value(lr) <= 10)))
        rc = mtb_error_set(err, MTB_EINPUT, "%s/trainer.json: 'lr' must be a number in (0, 10]",
                           dir);
    /* Checkpoints from before schedules existed trained at a constant rate. */
    mtb_schedule sched;
    mtb_schedule_defaults(&sched);
    long saved_total = tr->total_steps;
    json_t *sj = json_object_get(root, "schedule");
    if (!rc && sj) {
        const char *kind = json_string_value(json_object_get(sj, "kind"));
        json_t *w = json_object_get(sj, "warmup"), *n = json_object_get(sj, "total");
        if (!kind || mtb_schedule_parse(kind, &sched.kind) || !json_is_integer(w) ||
            json_integer_value(w) < 0 || !json_is_integer(n) || json_integer_value(n) < 0)
            rc = mtb_error_set(err, MTB_EINPUT, "%s/trainer.json: malformed 'schedule' (kind "
                               "constant, linear or cosine; warmup and total steps >= 0)", dir);
        else {
            sched.warmup_steps = (long)json_integer_value(w);
            saved_total = (long)json_integer_value(n);
        }
    }
    if (!rc && mode_name && mtb_mode_parse(mode_name, &mode, &single) == 0 &&
        (mode == MTB_MODE_SINGLE) != tr->single_task_run)
        rc = mtb_error_set(err, MTB_EINPUT, "%s/trainer.json: mode '%s' does not match this run",
                           dir, mode_name);
    mtb_merge_params merge_params = tr->opt.merge;
    mtb_merge_state merge_state;
    if (!rc) {
        mtb_mode saved_mode = tr->opt.mode;
        if (mode_name && mtb_mode_parse(mode_name, &mode, &single) == 0 && !tr->single_task_run)
            saved_mode = mode;
        rc = method_from_json(json_object_get(root, "method"), saved_mode, dir, &merge_params,
                              &merge_state, err);
    }
    if (!rc) {
        tr->step = (long)json_integer_value(step);
        /* Checkpoints from before the guard never skipped a step. */
        json_t *up = json_object_get(root, "updates"), *sk = json_object_get(root, "skipped");
        tr->updates = json_is_integer(up) && json_integer_value(up) >= 0 &&
                              json_integer_value(up) <= json_integer_value(step)
                          ? (long)json_integer_value(up)
                          : tr->step;
        tr->skipped = json_is_integer(sk) && json_integer_value(sk) >= 0
                          ? (long)json_integer_value(sk)
                          : tr->step - tr->updates;
        json_t *el = json_object_get(root, "elapsed");
        tr->elapsed_base = json_is_number(el) && json_number_value(el) >= 0 ? json_number_value(el) : 0;
        if (lr)
            tr->opt.adamw.lr = (float)json_number_value(lr);
        if (mode_name && mtb_mode_parse(mode_name, &mode, &single) == 0 && !tr->single_task_run)
            tr->opt.mode = mode;
        tr->opt.merge = merge_params;
        tr->merge_state = merge_state;
        /* --save-best goes on comparing with the best before the stop */
        json_t *best = json_object_get(root, "best");
        json_t *bs = json_object_get(best, "score"), *bst = json_object_get(best, "step");
        if (json_is_number(bs) && isfinite(json_number_value(bs)) && json_is_integer(bst)) {
            tr->best_score = json_number_value(bs);
            tr->best_step = (long)json_integer_value(bst);
        }
        sched.total_steps = tr->total_steps;
        tr->opt.schedule = sched;
        if (saved_total != tr->total_steps && sched.kind != MTB_SCHEDULE_CONSTANT)
            snprintf(tr->restore_note, sizeof tr->restore_note,
                     "the %s learning-rate schedule now runs over %ld steps (the checkpoint's "
                     "run planned %ld)", mtb_schedule_name(sched.kind), tr->total_steps,
                     saved_total);
    }
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------ the thread */

static void publish(mtb_trainer *tr, mtb_event *ev)
{
    ev->step = tr->step;
    ev->total_steps = tr->total_steps;
    ev->epoch = tr->steps_per_epoch ? (double)tr->step / (double)tr->steps_per_epoch : 0;
    ev->elapsed = now_seconds(tr);
    mtb_event_queue_push(&tr->events, ev);
}

static void publish_log(mtb_trainer *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void publish_log(mtb_trainer *tr, const char *fmt, ...)
{
    mtb_event ev = {.type = MTB_EV_LOG};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev.u.log.text, sizeof ev.u.log.text, fmt, ap);
    va_end(ap);
    publish(tr, &ev);
}

static void publish_state(mtb_trainer *tr, mtb_train_state state, const char *detail)
{
    mtb_event ev = {.type = MTB_EV_STATE};
    ev.u.state.state = state;
    snprintf(ev.u.state.detail, sizeof ev.u.state.detail, "%.255s", detail ? detail : "");
    publish(tr, &ev);
}

double mtb_eval_score(const mtb_eval_result *r)
{
    const double v[MTB_N_TASKS] = {r->sst_acc, r->para_acc, (r->sts_corr + 1.0) / 2.0};
    double s = 0.0;
    int n = 0;
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (r->has[t] && isfinite(v[t])) {
            s += v[t];
            n++;
        }
    return n ? s / n : NAN;
}

/* --save-best: the model (no optimizer state) into best_dir when this
 * evaluation beats every earlier one. */
static void keep_if_best(mtb_trainer *tr, const mtb_eval_result *r)
{
    const double score = mtb_eval_score(r);
    if (!tr->opt.best_dir[0] || !isfinite(score) ||
        (!isnan(tr->best_score) && !(score > tr->best_score)))
        return;
    mtb_error err = {0};
    pthread_rwlock_rdlock(&tr->weights);
    int rc = mtb_multitask_save(tr->mt, tr->opt.best_dir, NULL, NULL, &err);
    pthread_rwlock_unlock(&tr->weights);
    if (rc) {
        publish_log(tr, "saving the best model to %s failed: %s", tr->opt.best_dir, err.msg);
        return;
    }
    tr->best_score = score;
    tr->best_step = tr->step;
    publish_log(tr, "best so far (dev score %.4f): saved to %s", score, tr->opt.best_dir);
}

static void run_eval(mtb_trainer *tr)
{
    mtb_event ev = {.type = MTB_EV_EVAL};
    mtb_error err = {0};
    if (mtb_trainer_evaluate(tr, &ev.u.eval, &err)) {
        publish_log(tr, "evaluation failed: %s", err.msg);
        return;
    }
    publish(tr, &ev);
    keep_if_best(tr, &ev.u.eval);
}

/* A failed save is logged; the final save's failure also fails the run. */
static int run_save(mtb_trainer *tr, const char *dir, mtb_error *err)
{
    int rc = mtb_trainer_save(tr, dir, err);
    if (rc)
        publish_log(tr, "saving %s failed: %s", dir, err->msg);
    else
        publish_state(tr, MTB_STATE_SAVED, dir);
    return rc;
}

static bool any_dev(const mtb_trainer *tr)
{
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (tr->has_dev[t])
            return true;
    return false;
}

/* Applies pending requests; blocks while paused.  Returns true to stop. */
static bool handle_requests(mtb_trainer *tr)
{
    pthread_mutex_lock(&tr->lock);
    for (;;) {
        if (!isnan(tr->new_lr)) {
            tr->opt.adamw.lr = tr->new_lr;
            tr->new_lr = NAN;
            float lr = tr->opt.adamw.lr;
            pthread_mutex_unlock(&tr->lock);
            if (tr->opt.schedule.kind == MTB_SCHEDULE_CONSTANT &&
                mtb_schedule_warmup(&tr->opt.schedule) <= tr->step)
                publish_log(tr, "learning rate set to %g", (double)lr);
            else
                publish_log(tr, "peak learning rate set to %g (%s schedule: %g at this step)",
                            (double)lr, mtb_schedule_name(tr->opt.schedule.kind),
                            (double)mtb_trainer_lr_at(tr, tr->step + 1));
            pthread_mutex_lock(&tr->lock);
        }
        if (tr->new_mode >= 0) {
            if (tr->opt.mode != (mtb_mode)tr->new_mode)
                memset(&tr->merge_state, 0, sizeof tr->merge_state);
            tr->opt.mode = (mtb_mode)tr->new_mode;
            tr->new_mode = -1;
            pthread_mutex_unlock(&tr->lock);
            char mode_buf[32];
            publish_log(tr, "mode set to %s", mtb_mode_name(tr->opt.mode, tr->opt.single_task,
                                                            mode_buf, sizeof mode_buf));
            pthread_mutex_lock(&tr->lock);
        }
        if (tr->eval_req) {
            tr->eval_req = false;
            pthread_mutex_unlock(&tr->lock);
            if (any_dev(tr))
                run_eval(tr);
            else
                publish_log(tr, "no validation data to evaluate on");
            pthread_mutex_lock(&tr->lock);
        }
        if (tr->save_req) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s", tr->save_dir);
            tr->save_req = false;
            pthread_mutex_unlock(&tr->lock);
            mtb_error err = {0};
            run_save(tr, dir, &err);
            pthread_mutex_lock(&tr->lock);
        }
        /* State events come from this thread only: a front end that
         * published them itself could block on the queue it drains. */
        if (tr->paused != tr->reported_paused && !tr->stop) {
            tr->reported_paused = tr->paused;
            pthread_mutex_unlock(&tr->lock);
            publish_state(tr, tr->reported_paused ? MTB_STATE_PAUSED : MTB_STATE_RUNNING, NULL);
            pthread_mutex_lock(&tr->lock);
            continue;
        }
        if (tr->stop || !tr->paused)
            break;
        pthread_cond_wait(&tr->wake, &tr->lock);
    }
    bool stop = tr->stop;
    pthread_mutex_unlock(&tr->lock);
    return stop;
}

static void *trainer_main(void *arg)
{
    mtb_trainer *tr = arg;
    char mode[32];
    mtb_mode_name(tr->opt.mode, tr->opt.single_task, mode, sizeof mode);
    publish_log(tr, "training %s: %ld steps (%ld per epoch), %zu parameters", mode,
                tr->total_steps, tr->steps_per_epoch, tr->mt->bert.n_params);
    if (tr->restore_note[0])
        publish_log(tr, "%s", tr->restore_note);
    double window_start = now_seconds(tr);
    long window_steps = 0;
    double rate = 0;
    bool stopped = false, diverged = false;
    while (tr->step < tr->total_steps) {
        if (handle_requests(tr)) {
            stopped = true;
            break;
        }
        mtb_event step_ev = {.type = MTB_EV_STEP}, conflict_ev = {.type = MTB_EV_CONFLICT};
        int step_rc = mtb_trainer_step(tr, NULL, step_ev.u.step.loss, &conflict_ev.u.conflict);
        if (step_rc == MTB_EFAIL) {
            tr->status = MTB_EFAIL;
            diverged = true;
            snprintf(tr->failure, sizeof tr->failure, "training diverged at %s; nothing was "
                     "saved over the last checkpoint (a lower --lr, or --on-nan skip, may help)",
                     tr->diverged);
            break;
        }
        if (step_rc) {
            tr->status = MTB_EINPUT;
            snprintf(tr->failure, sizeof tr->failure, "a task the mode trains has no data");
            break;
        }
        if (tr->skipped_last)
            publish_log(tr, "skipped (--on-nan skip): %s", tr->diverged);
        window_steps++;
        double now = now_seconds(tr);
        if (now - window_start >= 1.0 || rate == 0) {
            rate = window_steps / (now - window_start > 1e-9 ? now - window_start : 1e-9);
            if (now - window_start >= 1.0) {
                window_start = now;
                window_steps = 0;
            }
        }
        for (int t = 0; t < MTB_N_TASKS; t++)
            step_ev.u.step.active[t] = tr->active[t];
        step_ev.u.step.lr = mtb_trainer_lr_at(tr, tr->step);
        step_ev.u.step.steps_per_sec = rate;
        step_ev.u.step.skipped = tr->skipped;
        publish(tr, &step_ev);
        if (tr->opt.mode != MTB_MODE_SINGLE)
            publish(tr, &conflict_ev);
        if (tr->opt.eval_every > 0 && tr->step % tr->opt.eval_every == 0 && any_dev(tr) &&
            tr->step < tr->total_steps)
            run_eval(tr);
    }
    bool save = tr->opt.out_dir[0] != '\0' && !diverged;
    if (stopped) {
        pthread_mutex_lock(&tr->lock);
        save = save && tr->stop_save;
        pthread_mutex_unlock(&tr->lock);
        publish_state(tr, MTB_STATE_STOPPING, NULL);
    } else if (tr->status == 0 && any_dev(tr)) {
        run_eval(tr);
    }
    mtb_event done = {.type = MTB_EV_DONE};
    mtb_error err = {0};
    if (tr->status)
        snprintf(done.u.done.message, sizeof done.u.done.message, "failed: %.500s", tr->failure);
    if (save && run_save(tr, tr->opt.out_dir, &err) && !tr->status) {
        tr->status = err.code;
        snprintf(done.u.done.message, sizeof done.u.done.message, "failed: %.500s", err.msg);
    }
    done.u.done.status = tr->status;
    if (!tr->status)
        snprintf(done.u.done.message, sizeof done.u.done.message, "%s",
                 stopped ? "stopped" : "finished");
    publish(tr, &done);
    return NULL;
}

int mtb_trainer_start(mtb_trainer *tr, mtb_error *err)
{
    clock_gettime(CLOCK_MONOTONIC, &tr->t0);
    if (pthread_create(&tr->thread, NULL, trainer_main, tr) != 0)
        return mtb_error_set(err, MTB_EFAIL, "cannot start the trainer thread");
    tr->started = true;
    return MTB_OK;
}

int mtb_trainer_join(mtb_trainer *tr)
{
    if (tr->started) {
        pthread_join(tr->thread, NULL);
        tr->started = false;
    }
    return tr->status;
}

mtb_event_queue *mtb_trainer_events(mtb_trainer *tr) { return &tr->events; }

static void request(mtb_trainer *tr, void (*apply)(mtb_trainer *, const void *), const void *arg)
{
    pthread_mutex_lock(&tr->lock);
    apply(tr, arg);
    pthread_cond_broadcast(&tr->wake);
    pthread_mutex_unlock(&tr->lock);
}

static void do_pause(mtb_trainer *tr, const void *a) { (void)a; tr->paused = true; }
static void do_resume(mtb_trainer *tr, const void *a) { (void)a; tr->paused = false; }
static void do_stop(mtb_trainer *tr, const void *a)
{
    tr->stop = true;
    tr->stop_save = *(const bool *)a;
}
static void do_eval(mtb_trainer *tr, const void *a) { (void)a; tr->eval_req = true; }
static void do_save(mtb_trainer *tr, const void *a)
{
    const char *dir = a;
    snprintf(tr->save_dir, sizeof tr->save_dir, "%s", dir && *dir ? dir : tr->opt.out_dir);
    tr->save_req = tr->save_dir[0] != '\0';
}
static void do_lr(mtb_trainer *tr, const void *a) { tr->new_lr = *(const float *)a; }
static void do_mode(mtb_trainer *tr, const void *a) { tr->new_mode = *(const int *)a; }

void mtb_trainer_pause(mtb_trainer *tr) { request(tr, do_pause, NULL); }
void mtb_trainer_resume(mtb_trainer *tr) { request(tr, do_resume, NULL); }

void mtb_trainer_stop(mtb_trainer *tr, bool save) { request(tr, do_stop, &save); }
void mtb_trainer_request_save(mtb_trainer *tr, const char *dir) { request(tr, do_save, dir); }
void mtb_trainer_request_eval(mtb_trainer *tr) { request(tr, do_eval, NULL); }
void mtb_trainer_set_lr(mtb_trainer *tr, float lr) { request(tr, do_lr, &lr); }

bool mtb_trainer_set_mode(mtb_trainer *tr, mtb_mode mode)
{
    /* A run is single-task from creation to end (only the multitask methods swap),
     * so this read needs no lock. */
    if (tr->single_task_run || mode == MTB_MODE_SINGLE)
        return false;
    int m = (int)mode;
    request(tr, do_mode, &m);
    return true;
}

void mtb_trainer_read_lock(mtb_trainer *tr) { pthread_rwlock_rdlock(&tr->weights); }
void mtb_trainer_read_unlock(mtb_trainer *tr) { pthread_rwlock_unlock(&tr->weights); }
