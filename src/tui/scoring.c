/* The scoring thread: sentences, pairs and dev-set reports (:errors,
 * :confusion) computed with the live model, between training steps (the
 * trainer's read lock), while the UI keeps drawing.  Everything the two
 * threads share (job, busy, result) is read and written under s->lock. */
#include "scoring.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../front/prompt.h"
#include "mtbert/evaluate.h"
#include "mtbert/score.h"
#include "output.h"

struct tui_scoring {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* under lock: */
    bool job, busy, result_ready, quit;
    int kind;             /* the job: TUI_JOB_* */
    int result_kind;      /* the kind of the job result holds */
    int task, count;      /* :errors TASK N */
    char a[2048], b[2048];
    bool pair;
    char result[8192];
    /* set before the thread starts: */
    mtb_scorer *scorer;
    mtb_trainer *trainer;
    const bool *trained;  /* (MTB_N_TASKS) the model's heads that have trained */
    const tui_options *opt;
};

/* One dev example's text, cut to fit a report line. */
static void example_text(const mtb_dataset *ds, size_t i, char *buf, size_t cap)
{
    if (!ds || i >= ds->n) {
        snprintf(buf, cap, "(example %zu)", i + 1);
        return;
    }
    const mtb_example *e = &ds->ex[i];
    if (e->text_b)
        snprintf(buf, cap, "%.200s || %.200s", e->text_a, e->text_b);
    else
        snprintf(buf, cap, "%.400s", e->text_a);
}

/* The text of :errors TASK N or :confusion, computed on the trainer's
 * dev data with the live model (under the read lock). */
static void build_report(tui_scoring *s, int kind, int task, int count, char *out, size_t cap)
{
    const mtb_trainer *tr = s->trainer;
    mtb_multitask *mt = s->opt->model;
    size_t len = 0;
    out[0] = '\0';
#define APPEND(...)                                                                        \
    do {                                                                                   \
        int w_ = snprintf(out + len, len < cap ? cap - len : 0, __VA_ARGS__);              \
        len += w_ > 0 ? (size_t)w_ : 0;                                                    \
    } while (0)
    const mtb_encoded *dev = tr ? mtb_trainer_dev_data(tr, (mtb_task)task) : NULL;
    mtb_error err = {0};
    if (!dev) {
        APPEND("error: no %s validation data (give --%s-dev or --val-split)\n",
               mtb_task_name((mtb_task)task), mtb_task_name((mtb_task)task));
        return;
    }
    const mtb_dataset *ds = s->opt->dev[task] && s->opt->dev[task]->n == dev->n
                                ? s->opt->dev[task]
                                : NULL;
    if (kind == TUI_JOB_CONFUSION) {
        long counts[MTB_SST_CLASSES][MTB_SST_CLASSES];
        if (mtb_sst_confusion(mt, dev, 32, counts, &err)) {
            APPEND("error: %s\n", err.msg);
            return;
        }
        APPEND("SST confusion matrix on %zu dev examples (rows: gold, columns: predicted)\n",
               dev->n);
        APPEND("               v.neg   neg   neu   pos v.pos  recall\n");
        long right = 0;
        for (int g = 0; g < MTB_SST_CLASSES; g++) {
            long row = 0;
            for (int p = 0; p < MTB_SST_CLASSES; p++)
                row += counts[g][p];
            right += counts[g][g];
            APPEND("%-13s", mtb_sst_label_name(g));
            for (int p = 0; p < MTB_SST_CLASSES; p++)
                APPEND(" %5ld", counts[g][p]);
            if (row)
                APPEND("  %5.2f\n", (double)counts[g][g] / (double)row);
            else
                APPEND("      -\n");
        }
        APPEND("accuracy %.3f\n", dev->n ? (double)right / (double)dev->n : 0.0);
        return;
    }
    mtb_error_item items[50];
    int n = 0;
    if (mtb_rank_errors(mt, dev, 32, count, items, &n, &err)) {
        APPEND("error: %s\n", err.msg);
        return;
    }
    APPEND("the %d %s dev examples (of %zu) the model gets most wrong:\n", n,
           mtb_task_name((mtb_task)task), dev->n);
    char text[512];
    for (int k = 0; k < n; k++) {
        const mtb_error_item *it = &items[k];
        example_text(ds, it->index, text, sizeof text);
        if (task == MTB_TASK_SST)
            APPEND("%2d. gold %s, said %s (p(gold) %.2f): %s\n", k + 1,
                   mtb_sst_label_name((int)it->gold), mtb_sst_label_name((int)it->predicted),
                   1.0 - (double)it->wrongness, text);
        else if (task == MTB_TASK_PARA)
            APPEND("%2d. gold %s, p(paraphrase) %.2f: %s\n", k + 1,
                   it->gold > 0.5f ? "paraphrase" : "not", (double)it->predicted, text);
        else
            APPEND("%2d. gold %.2f, said %.2f: %s\n", k + 1, (double)it->gold,
                   (double)it->predicted, text);
    }
#undef APPEND
}

static void *scoring_main(void *arg)
{
    tui_scoring *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->job && !s->quit)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->quit)
            break;
        s->job = false;
        s->busy = true;
        char a[sizeof s->a], b[sizeof s->b];
        bool pair = s->pair;
        const int kind = s->kind, task = s->task, count = s->count;
        memcpy(a, s->a, sizeof a);
        memcpy(b, s->b, sizeof b);
        pthread_mutex_unlock(&s->lock);
        if (kind != TUI_JOB_SCORE) {
            static char report[sizeof s->result];
            if (s->trainer)
                mtb_trainer_read_lock(s->trainer);
            build_report(s, kind, task, count, report, sizeof report);
            if (s->trainer)
                mtb_trainer_read_unlock(s->trainer);
            pthread_mutex_lock(&s->lock);
            memcpy(s->result, report, sizeof report);
            s->result_kind = kind;
            s->result_ready = true;
            s->busy = false;
            continue;
        }

        mtb_score_result r;
        mtb_error err = {0};
        char text[sizeof s->result];
        /* The read lock: the trainer cannot apply an update halfway
         * through this forward pass. */
        if (s->trainer)
            mtb_trainer_read_lock(s->trainer);
        int rc = mtb_score(s->scorer, a, pair ? b : NULL, &r, &err);
        if (s->trainer)
            mtb_trainer_read_unlock(s->trainer);
        if (rc)
            snprintf(text, sizeof text, "error: %s", err.msg);
        else
            prompt_append_untrained(s->trained, pair,
                                    text, (size_t)prompt_format_result(&r, a, pair ? b : NULL,
                                                                       text, sizeof text),
                                    sizeof text);

        pthread_mutex_lock(&s->lock);
        memcpy(s->result, text, sizeof text);
        s->result_kind = TUI_JOB_SCORE;
        s->result_ready = true;
        s->busy = false;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int tui_scoring_start(tui_app *app, mtb_error *err)
{
    tui_scoring *s = calloc(1, sizeof *s);
    if (!s)
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    s->trainer = app->opt.trainer;
    s->opt = &app->opt;
    s->trained = app->opt.model->trained; /* live: the trainer marks the heads it trains */
    int rc = mtb_scorer_create(&s->scorer, app->opt.model, app->opt.max_len, err);
    if (rc) {
        free(s);
        return rc;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, scoring_main, s) != 0) {
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        mtb_scorer_destroy(s->scorer);
        free(s);
        return mtb_error_set(err, MTB_EFAIL, "cannot start the scoring thread");
    }
    app->scoring = s;
    return MTB_OK;
}

void tui_scoring_stop(tui_app *app)
{
    tui_scoring *s = app->scoring;
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->quit = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    mtb_scorer_destroy(s->scorer);
    free(s);
    app->scoring = NULL;
}

bool tui_scoring_submit(tui_app *app, const char *a, const char *b)
{
    tui_scoring *s = app->scoring;
    if (!s)
        return false;
    pthread_mutex_lock(&s->lock);
    bool accepted = !s->job && !s->busy;
    if (accepted) {
        snprintf(s->a, sizeof s->a, "%s", a);
        snprintf(s->b, sizeof s->b, "%s", b ? b : "");
        s->pair = b != NULL;
        s->kind = TUI_JOB_SCORE;
        s->job = true;
        pthread_cond_signal(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return accepted;
}

bool tui_scoring_submit_report(tui_app *app, int kind, int task, int count)
{
    tui_scoring *s = app->scoring;
    if (!s)
        return false;
    pthread_mutex_lock(&s->lock);
    bool accepted = !s->job && !s->busy;
    if (accepted) {
        s->kind = kind;
        s->task = task;
        s->count = count;
        s->job = true;
        pthread_cond_signal(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return accepted;
}

bool tui_scoring_poll(tui_app *app)
{
    tui_scoring *s = app->scoring;
    if (!s)
        return false;
    char text[sizeof s->result];
    pthread_mutex_lock(&s->lock);
    bool ready = s->result_ready;
    const int kind = s->result_kind;
    if (ready) {
        memcpy(text, s->result, sizeof text);
        s->result_ready = false;
    }
    pthread_mutex_unlock(&s->lock);
    if (ready && kind != TUI_JOB_SCORE && strncmp(text, "error", 5) != 0) {
        /* a report: in the overlay, whole (any key closes it) */
        free(app->report);
        app->report = strdup(text);
        app->help_open = app->report != NULL;
        app->help_scroll = 0;
        tui_output(app, "the report is open: any key closes it");
    } else if (ready) {
        tui_output_text(app, text);
    }
    return ready;
}

bool tui_scoring_busy(const tui_app *app)
{
    tui_scoring *s = app->scoring;
    if (!s)
        return false;
    pthread_mutex_lock(&s->lock);
    const bool busy = s->job || s->busy;
    pthread_mutex_unlock(&s->lock);
    return busy;
}
