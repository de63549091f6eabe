/* Checkpoints: what a trainer adds to the model folder (trainer.json with
 * the step, random states, data order, schedule and method state;
 * optimizer.safetensors with AdamW's moments; order.safetensors with each
 * task's permutation), written by mtb_trainer_save and read back by
 * mtb_trainer_restore. */
#include "trainer_internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtbert/file.h"
#include "finite.h"
#include "safetensors.h"

/* ------------------------------------------------------------ JSON pieces */

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

/* ------------------------------------------------------------ saving */

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
                             "lr", (double)tr->opt.adamw.lr, "elapsed", trainer_elapsed_seconds(tr),
                             "rng", rng_to_json(&tr->rng), "pcgrad_rng",
                             rng_to_json(&tr->order_rng), "order", orders);
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

/* ------------------------------------------------------------ restoring */

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

/* AdamW's moments, from optimizer.safetensors: finite, or the checkpoint
 * is refused. */
static int read_moments(mtb_trainer *tr, const char *dir, mtb_error *err)
{
    char path[4096];
    mtb_safetensors *st = NULL;
    mtb_path_join(path, sizeof path, dir, "optimizer.safetensors");
    int rc = mtb_st_open(&st, path, err);
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
            trainer_note_touched_rows(tr);
        mtb_st_close(st);
    }
    return rc;
}

/* Each trained task's data order: cursor, passes and random state from
 * trainer.json's "order", the permutation from order.safetensors. */
static int read_orders(mtb_trainer *tr, const json_t *orders, const char *dir, mtb_error *err)
{
    char path[4096];
    mtb_safetensors *st = NULL;
    int rc = MTB_OK;
    bool any_order = false;
    for (int t = 0; t < MTB_N_TASKS; t++)
        any_order |= tr->has_train[t];
    if (any_order) {
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
    return rc;
}

/* trainer.json's "schedule": its kind and warmup into sched, the total
 * steps the checkpoint's run planned into saved_total. */
static int read_schedule(const json_t *sj, const char *dir, mtb_schedule *sched,
                         long *saved_total, mtb_error *err)
{
    const char *kind = json_string_value(json_object_get(sj, "kind"));
    json_t *w = json_object_get(sj, "warmup"), *n = json_object_get(sj, "total");
    if (!kind || mtb_schedule_parse(kind, &sched->kind) || !json_is_integer(w) ||
        json_integer_value(w) < 0 || !json_is_integer(n) || json_integer_value(n) < 0)
        return mtb_error_set(err, MTB_EINPUT, "%s/trainer.json: malformed 'schedule' (kind "
                             "constant, linear or cosine; warmup and total steps >= 0)", dir);
    sched->warmup_steps = (long)json_integer_value(w);
    *saved_total = (long)json_integer_value(n);
    return MTB_OK;
}

/* The counts (step, updates, skipped steps) and the time spent. */
static void restore_counts(mtb_trainer *tr, const json_t *root)
{
    json_t *step = json_object_get(root, "step");
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
}

int mtb_trainer_restore(mtb_trainer *tr, const char *dir, mtb_error *err)
{
    json_t *root = load_trainer_json(dir, err);
    if (!root)
        return MTB_EINPUT;
    int rc = MTB_OK;
    json_t *step = json_object_get(root, "step");
    if (!json_is_integer(step) || json_integer_value(step) < 0 ||
        !rng_from_json(json_object_get(root, "rng"), &tr->rng) ||
        !rng_from_json(json_object_get(root, "pcgrad_rng"), &tr->order_rng))
        rc = mtb_error_set(err, MTB_EINPUT, "%s/trainer.json: 'step' must be a count >= 0, and "
                           "'rng' and 'pcgrad_rng' four 64-bit hex words, not all zero", dir);
    if (!rc)
        rc = read_moments(tr, dir, err);
    if (!rc)
        rc = read_orders(tr, json_object_get(root, "order"), dir, err);
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
    if (!rc && sj)
        rc = read_schedule(sj, dir, &sched, &saved_total, err);
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
        restore_counts(tr, root);
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
