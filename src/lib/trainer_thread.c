/* The trainer thread: it runs the steps, publishes events (steps, conflict
 * statistics, evaluations, logs, state changes), applies the front end's
 * requests between steps (pause, resume, stop, save, evaluate, learning
 * rate, mode), evaluates and saves; and the weights' read lock for front
 * ends that run the model while it trains. */
#include "trainer_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ events */

static void publish(mtb_trainer *tr, mtb_event *ev)
{
    ev->step = tr->step;
    ev->total_steps = tr->total_steps;
    ev->epoch = tr->steps_per_epoch ? (double)tr->step / (double)tr->steps_per_epoch : 0;
    ev->elapsed = trainer_elapsed_seconds(tr);
    if (tr->record)
        tr->record(ev, tr->record_ctx);
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

/* ------------------------------------------------------------ evaluations and saves */

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
    if (!rc && strcmp(dir, tr->opt.out_dir) == 0)
        tr->last_save_time = trainer_elapsed_seconds(tr);
    if (rc)
        publish_log(tr, "saving %s failed: %s", dir, err->msg);
    else
        publish_state(tr, MTB_STATE_SAVED, dir);
    return rc;
}

/* --save-every: a checkpoint into out_dir when the steps or the seconds
 * since the last one have come round; never at the last step, whose save
 * follows anyway. */
static void save_if_due(mtb_trainer *tr)
{
    const mtb_train_options *o = &tr->opt;
    if (!o->out_dir[0] || tr->step >= tr->total_steps)
        return;
    const double now = trainer_elapsed_seconds(tr);
    const bool by_steps = o->save_every_steps > 0 && tr->step % o->save_every_steps == 0;
    const bool by_time = o->save_every_seconds > 0 && now - tr->last_save_time >= o->save_every_seconds;
    if (!by_steps && !by_time)
        return;
    mtb_error err = {0};
    run_save(tr, o->out_dir, &err);
}

/* ------------------------------------------------------------ requests */

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
            if (mtb_trainer_has_validation(tr))
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

/* ------------------------------------------------------------ the thread */

static void *trainer_main(void *arg)
{
    mtb_trainer *tr = arg;
    char mode[32];
    mtb_mode_name(tr->opt.mode, tr->opt.single_task, mode, sizeof mode);
    publish_log(tr, "training %s: %ld steps (%ld per epoch), %zu parameters", mode,
                tr->total_steps, tr->steps_per_epoch, tr->mt->bert.n_params);
    if (tr->restore_note[0])
        publish_log(tr, "%s", tr->restore_note);
    double window_start = trainer_elapsed_seconds(tr);
    tr->last_save_time = window_start;
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
        double now = trainer_elapsed_seconds(tr);
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
        if (tr->opt.eval_every > 0 && tr->step % tr->opt.eval_every == 0 &&
            mtb_trainer_has_validation(tr) && tr->step < tr->total_steps)
            run_eval(tr);
        save_if_due(tr);
    }
    bool save = tr->opt.out_dir[0] != '\0' && !diverged;
    if (stopped) {
        pthread_mutex_lock(&tr->lock);
        save = save && tr->stop_save;
        pthread_mutex_unlock(&tr->lock);
        publish_state(tr, MTB_STATE_STOPPING, NULL);
    } else if (tr->status == 0 && mtb_trainer_has_validation(tr)) {
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
    tr->t0 = mtb_now_seconds();
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

void mtb_trainer_set_recorder(mtb_trainer *tr, mtb_trainer_recorder record, void *ctx)
{
    tr->record = record;
    tr->record_ctx = ctx;
}

/* ------------------------------------------------------------ what front ends send */

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
