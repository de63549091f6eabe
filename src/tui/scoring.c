#include <stdio.h>
#include <string.h>

#include "../front/prompt.h"
#include "app.h"

static void *scoring_main(void *arg)
{
    tui_app *app = arg;
    tui_scoring *s = &app->scoring;
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
        memcpy(a, s->a, sizeof a);
        memcpy(b, s->b, sizeof b);
        pthread_mutex_unlock(&s->lock);

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
        s->result_ready = true;
        s->busy = false;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int tui_scoring_start(tui_app *app, mtb_error *err)
{
    tui_scoring *s = &app->scoring;
    memset(s, 0, sizeof *s);
    s->trainer = app->opt.trainer;
    s->trained = app->opt.model->trained; /* live: the trainer marks the heads it trains */
    int rc = mtb_scorer_create(&s->scorer, app->opt.model, app->opt.max_len, err);
    if (rc)
        return rc;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, scoring_main, app) != 0) {
        mtb_scorer_destroy(s->scorer);
        return mtb_error_set(err, MTB_EFAIL, "cannot start the scoring thread");
    }
    s->started = true;
    return MTB_OK;
}

void tui_scoring_stop(tui_app *app)
{
    tui_scoring *s = &app->scoring;
    if (!s->started)
        return;
    pthread_mutex_lock(&s->lock);
    s->quit = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    mtb_scorer_destroy(s->scorer);
    s->started = false;
}

bool tui_scoring_submit(tui_app *app, const char *a, const char *b)
{
    tui_scoring *s = &app->scoring;
    pthread_mutex_lock(&s->lock);
    bool accepted = !s->job && !s->busy;
    if (accepted) {
        snprintf(s->a, sizeof s->a, "%s", a);
        snprintf(s->b, sizeof s->b, "%s", b ? b : "");
        s->pair = b != NULL;
        s->job = true;
        pthread_cond_signal(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return accepted;
}

bool tui_scoring_poll(tui_app *app)
{
    tui_scoring *s = &app->scoring;
    char text[sizeof s->result];
    pthread_mutex_lock(&s->lock);
    bool ready = s->result_ready;
    if (ready) {
        memcpy(text, s->result, sizeof text);
        s->result_ready = false;
    }
    pthread_mutex_unlock(&s->lock);
    if (ready)
        tui_output_text(app, text);
    return ready;
}
