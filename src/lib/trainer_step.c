/* The training step, stage by stage (mtb_trainer_step at the end of the
 * file is the one-page view): draw the batches, the task gradients, merge
 * them, the divergence guard, apply the update.  Also the word-row
 * bookkeeping that keeps zeroing, the Gram matrix and AdamW to the rows a
 * step's batches use, and the finiteness checks of the guard. */
#include "trainer_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "finite.h"
#include "mtbert/parallel.h"
#include "mtbert/profile.h"
#include "sparse_rows.h"

/* ------------------------------------------------------------ word rows */

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
void trainer_note_touched_rows(mtb_trainer *tr)
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

/* ------------------------------------------------------------ the divergence guard */

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

/* ------------------------------------------------------------ the stages */

/* What a step carries from one stage to the next. */
typedef struct step_ctx {
    int ids[MTB_N_TASKS];      /* the tasks the mode trains, ascending */
    int n_active;
    bool multi;                /* a multitask step: one gradient buffer per task */
    const mtb_task_batch *batches[MTB_N_TASKS];
    const float *grads[MTB_N_TASKS]; /* (n_params) each: the task gradients */
    mtb_sparse_rows rows;      /* the word rows the step's batches use */
    float lr;                  /* the rate this step applies */
    mtb_merge_plan plan;       /* how the task gradients combine */
    /* The method advances a copy of its state, kept only if the step is. */
    mtb_merge_state next_state;
} step_ctx;

/* The tasks the mode trains into ids; their losses start as NAN. */
static int active_tasks(const mtb_trainer *tr, int *ids, float *loss)
{
    int n_active = 0;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        loss[t] = NAN;
        if (tr->active[t])
            ids[n_active++] = t;
    }
    return n_active;
}

/* The caller's batches, or the next ones from the trainer's own data;
 * MTB_EINPUT when a task has neither. */
static int draw_batches(mtb_trainer *tr, const mtb_task_batch *const *tb, step_ctx *s)
{
    mtb_multitask *mt = tr->mt;
    for (int t = 0; t < MTB_N_TASKS; t++)
        tr->drew[t] = false;
    for (int k = 0; k < s->n_active; k++) {
        const int t = s->ids[k];
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
        s->batches[k] = b;
    }
    return MTB_OK;
}

/* Forward and backward: each task's loss into loss[t], its encoder gradient
 * into s->grads (a single-task step's is the model's own buffer), and the
 * word rows each wrote. */
static void task_gradients(mtb_trainer *tr, step_ctx *s, float *loss)
{
    mtb_multitask *mt = tr->mt;
    const int *ids = s->ids, n_active = s->n_active;
    if (s->multi) {
        /* One encoder pass for all tasks, each task's gradient into its own
         * buffer. */
        float *task_grads[MTB_N_TASKS];
        float task_loss[MTB_N_TASKS];
        for (int k = 0; k < n_active; k++) {
            task_grads[k] = tr->task_grad[ids[k]];
            s->grads[k] = task_grads[k];
            MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING,
                         zero_task_grad(tr, ids[k], task_grads[k], tr->joint.overwrite_dense));
        }
        mtb_multitask_joint_step(mt, &tr->joint, s->batches, n_active, task_grads,
                                 tr->opt.dropout, &tr->rng, task_loss);
        for (int k = 0; k < n_active; k++) {
            loss[ids[k]] = task_loss[k];
            note_task_rows(tr, ids[k], k);
        }
    } else {
        const int t = ids[0];
        MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, zero_task_grad(tr, t, mt->bert.grads, false));
        loss[t] = mtb_multitask_step(mt, &tr->ws, s->batches[0], tr->opt.dropout, true,
                                     &tr->rng);
        note_task_rows(tr, t, 0);
        s->grads[0] = mt->bert.grads;
    }
}

/* The union of the tasks' word rows: the rows the merge and AdamW visit. */
static void step_word_rows(mtb_trainer *tr, step_ctx *s)
{
    for (int k = 0; k < s->n_active; k++)
        for (int i = 0; i < tr->n_rows[s->ids[k]]; i++)
            tr->row_mark[tr->rows[s->ids[k]][i]] = 1;
    tr->n_step_rows = collect_marks(tr->row_mark, tr->mt->bert.cfg.vocab_size, tr->step_rows);
    s->rows = word_rows(tr, tr->step_rows, tr->n_step_rows);
}

/* MTBERT_INJECT_NAN: the divergence guard's test hook. */
static void inject_nan(mtb_trainer *tr, const step_ctx *s)
{
    mtb_multitask *mt = tr->mt;
    if (tr->inject_nan_step == tr->step + 1 && tr->active[tr->inject_nan_task]) {
        float *g = s->multi ? tr->task_grad[tr->inject_nan_task] : mt->bert.grads;
        g[mt->bert.info[mt->bert.n_info > 5 ? 5 : 0].offset] = NAN;
    }
}

/* A multitask step's merge: the method's weights for the task gradients
 * (s->plan) and the conflict statistics (cs), in a visiting order drawn
 * from the order rng unless the options fix it. */
static void merge_gradients(mtb_trainer *tr, step_ctx *s, const float *loss,
                            mtb_conflict_stats *cs)
{
    mtb_multitask *mt = tr->mt;
    const int *ids = s->ids, n_active = s->n_active;
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
        .params = &tr->opt.merge, .state = &s->next_state, .loss = task_loss,
        .epoch = tr->steps_per_epoch ? tr->step / tr->steps_per_epoch : 0,
        .lr = s->lr,
    };
    MTB_PROFILED(MTB_PROF_MERGE,
                 mtb_merge_weights(s->grads, ids, n_active, mt->bert.n_params, order,
                                   mtb_mode_method(tr->opt.mode), &ctx, mt->bert.groups,
                                   mt->bert.n_groups, &s->rows, cs, &s->plan));
}

/* A step the guard caught: MTB_EFAIL under --on-nan stop; otherwise the
 * batches are used up and the step counts, the weights and moments stay as
 * they were. */
static int skip_step(mtb_trainer *tr)
{
    const long t_step = tr->step + 1;
    if (tr->opt.on_nan == MTB_ON_NAN_STOP)
        return MTB_EFAIL;
    tr->skipped_last = true;
    tr->skipped++;
    tr->step = t_step;
    return MTB_OK;
}

/* AdamW on the encoder (the merged gradient is formed inside its pass, never
 * stored) and on the heads, under the weights' write lock; the method keeps
 * the state it advanced. */
static void apply_update(mtb_trainer *tr, const step_ctx *s)
{
    mtb_multitask *mt = tr->mt;
    const long t_step = tr->step + 1;
    const long update = tr->updates + 1; /* AdamW's own count: skipped steps are not updates */
    for (int k = 0; k < s->n_active; k++)
        mt->trained[s->ids[k]] = true;
    mtb_adamw_hparams hp = tr->opt.adamw;
    hp.lr = s->lr;
    tr->merge_state = s->next_state;
    if (s->plan.scale_heads)
        mtb_heads_scale_grads(&mt->heads, s->ids, s->plan.weight, s->n_active);
    pthread_rwlock_wrlock(&tr->weights);
    MTB_PROFILED(MTB_PROF_ADAMW, {
        mtb_adamw_step_plan(&hp, update, mt->bert.params, s->grads, &s->plan, tr->m_enc,
                            tr->v_enc, mt->bert.n_params, &s->rows, tr->row_touched);
        mtb_adamw_step(&hp, update, mt->heads.params, mt->heads.grads, tr->m_heads,
                       tr->v_heads, mt->heads.n_params);
    });
    pthread_rwlock_unlock(&tr->weights);
    tr->updates = update;
    tr->step = t_step;
}

/* ------------------------------------------------------------ the step */

int mtb_trainer_step(mtb_trainer *tr, const mtb_task_batch *const *tb, float loss[MTB_N_TASKS],
                     mtb_conflict_stats *stats)
{
    step_ctx s = {.plan = {.n_tasks = 1, .weight = {1.0}}};
    s.n_active = active_tasks(tr, s.ids, loss);
    if (s.n_active == 0)
        return MTB_EINPUT;
    s.multi = tr->opt.mode != MTB_MODE_SINGLE;

    MTB_PROFILED(MTB_PROF_GRAD_BOOKKEEPING, mtb_heads_zero_grad(&tr->mt->heads));
    if (draw_batches(tr, tb, &s))
        return MTB_EINPUT;
    task_gradients(tr, &s, loss);
    step_word_rows(tr, &s);
    inject_nan(tr, &s);

    mtb_conflict_stats local, *cs = stats ? stats : &local;
    s.next_state = tr->merge_state;
    s.lr = mtb_trainer_lr_at(tr, tr->step + 1);
    if (s.multi)
        merge_gradients(tr, &s, loss, cs);

    /* The divergence guard, before any update. */
    tr->skipped_last = false;
    if (find_nonfinite(tr, s.ids, s.n_active, loss, s.multi, cs) ||
        (s.multi && !merge_finite(tr, &s.plan, &s.next_state)))
        return skip_step(tr);
    apply_update(tr, &s);
    return MTB_OK;
}
