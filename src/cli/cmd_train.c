/* mtbert train: headless training with a progress display, a metrics file
 * and a checkpoint on Ctrl-C. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "run_setup.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: mtbert train [OPTIONS]\n"
            "\n"
            "Fine-tunes one BERT encoder on sentiment (SST), paraphrase (Quora) and\n"
            "similarity (STS) at once, headless.  On a terminal a progress line shows\n"
            "steps/s, ETA and the latest losses; otherwise plain log lines.  Ctrl-C or\n"
            "SIGTERM saves a checkpoint to --out and exits; --resume continues it.\n"
            "\n");
    run_config_print_options(out);
    fprintf(out, "  -h, --help               show this help\n");
}

static void losses_text(const mtb_event *ev, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int t = 0; t < MTB_N_TASKS && n < cap; t++)
        if (ev->u.step.active[t])
            n += (size_t)snprintf(buf + n, cap - n, " %s %.4f", mtb_task_name((mtb_task)t),
                                  (double)ev->u.step.loss[t]);
}

/* Terminal width, so the progress line never wraps (a wrapped line cannot
 * be redrawn in place with \r). */
static int terminal_columns(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

static void show_progress(const mtb_event *ev, bool tty)
{
    char eta[32], losses[128];
    double rate = ev->u.step.steps_per_sec;
    fe_format_duration(rate > 0 ? (double)(ev->total_steps - ev->step) / rate : NAN, eta,
                        sizeof eta);
    losses_text(ev, losses, sizeof losses);
    if (tty) {
        const int width = 24;
        int filled = ev->total_steps ? (int)((double)ev->step / ev->total_steps * width) : 0;
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        char line[512];
        snprintf(line, sizeof line, "[%s] %ld/%ld ep %.2f  %.2f steps/s  ETA %s |%s", bar,
                 ev->step, ev->total_steps, ev->epoch, rate, eta, losses);
        int cols = terminal_columns() - 1;
        if (cols > 0 && cols < (int)sizeof line)
            line[cols] = '\0';
        fprintf(stderr, "\r\033[K%s", line);
    } else {
        fprintf(stderr, "step %ld/%ld epoch %.2f %.2f steps/s ETA %s |%s\n", ev->step,
                ev->total_steps, ev->epoch, rate, eta, losses);
    }
    fflush(stderr);
}

static void print_eval(const mtb_event *ev, bool tty)
{
    const mtb_eval_result *r = &ev->u.eval;
    if (tty)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "eval at step %ld:", ev->step);
    if (r->has[MTB_TASK_SST])
        fprintf(stderr, " sst acc %.4f (loss %.4f)", r->sst_acc, r->loss[MTB_TASK_SST]);
    if (r->has[MTB_TASK_PARA])
        fprintf(stderr, " para acc %.4f (loss %.4f)", r->para_acc, r->loss[MTB_TASK_PARA]);
    if (r->has[MTB_TASK_STS])
        fprintf(stderr, " sts corr %.4f (loss %.4f)", r->sts_corr, r->loss[MTB_TASK_STS]);
    fputc('\n', stderr);
}

/* What the event loop shows and writes. */
typedef struct train_view {
    bool tty, quiet;
    bool progress_shown; /* a progress line is on the terminal, to be cleared */
    double last_draw;
    long log_every;      /* without a terminal: a progress line every this many steps */
    FILE *metrics;
} train_view;

/* "\r\033[K" when a progress line must be cleared before a message. */
static const char *clear_line(const train_view *v)
{
    return v->tty && v->progress_shown ? "\r\033[K" : "";
}

static void on_step(train_view *v, const mtb_event *ev)
{
    if (v->metrics)
        metrics_write(v->metrics, ev);
    if (!v->quiet &&
        ((v->tty && (ev->elapsed - v->last_draw >= 0.1 || ev->step == ev->total_steps)) ||
         (!v->tty && (ev->step % v->log_every == 0 || ev->step == ev->total_steps)))) {
        show_progress(ev, v->tty);
        v->last_draw = ev->elapsed;
        v->progress_shown = v->tty;
    }
}

static void on_conflict(train_view *v, const mtb_event *ev)
{
    if (v->metrics)
        metrics_write(v->metrics, ev);
}

static void on_eval(train_view *v, const mtb_event *ev)
{
    if (v->metrics)
        metrics_write(v->metrics, ev);
    print_eval(ev, v->tty && v->progress_shown);
}

static void on_log(train_view *v, const mtb_event *ev)
{
    if (!v->quiet)
        fprintf(stderr, "%s%s\n", clear_line(v), ev->u.log.text);
}

static void on_state(train_view *v, const mtb_event *ev)
{
    if (ev->u.state.state == MTB_STATE_SAVED)
        fprintf(stderr, "%ssaved %s at step %ld\n", clear_line(v), ev->u.state.detail, ev->step);
}

/* Each event's handler; MTB_EV_DONE ends the loop instead. */
static void (*const on_event[])(train_view *, const mtb_event *) = {
    [MTB_EV_STEP] = on_step,   [MTB_EV_CONFLICT] = on_conflict, [MTB_EV_EVAL] = on_eval,
    [MTB_EV_LOG] = on_log,     [MTB_EV_STATE] = on_state,
};

/* Runs the trainer to its DONE event; a signal stops it with a save.
 * Returns the exit status (128 + the signal after a signalled stop). */
static int train_loop(mtb_trainer *tr, train_view *v, const char *out_dir)
{
    bool stop_sent = false;
    int signal_seen = 0, status = FE_OK;
    v->log_every = mtb_trainer_total_steps(tr) / 50;
    if (v->log_every < 1)
        v->log_every = 1;
    v->last_draw = -1;
    mtb_event ev;
    for (;;) {
        if (got_signal && !stop_sent) {
            signal_seen = got_signal;
            stop_sent = true;
            mtb_trainer_stop(tr, true);
            fprintf(stderr, "%s%s: stopping; saving a checkpoint to %s\n", v->tty ? "\r\033[K" : "",
                    signal_seen == SIGINT ? "interrupted" : "terminated", out_dir);
        }
        if (!mtb_event_queue_pop(mtb_trainer_events(tr), &ev, 200))
            continue;
        if (ev.type == MTB_EV_DONE) {
            status = ev.u.done.status ? FE_FAIL : FE_OK;
            if (ev.u.done.status)
                fprintf(stderr, "%smtbert: training %s\n", clear_line(v), ev.u.done.message);
            break;
        }
        if ((size_t)ev.type < sizeof on_event / sizeof *on_event && on_event[ev.type])
            on_event[ev.type](v, &ev);
    }
    if (mtb_trainer_join(tr) && status == FE_OK)
        status = FE_FAIL;
    if (v->tty && v->progress_shown)
        fputc('\n', stderr);
    if (signal_seen && status == FE_OK) /* 130/143 promise a saved checkpoint */
        status = 128 + signal_seen;
    return status;
}

int cmd_train(int argc, char **argv)
{
    run_config rc;
    run_config_defaults(&rc);
    int status = run_config_parse(&rc, argc, argv, "train", usage);
    if (status >= 0) {
        run_config_free(&rc);
        return status;
    }
    run_state st;
    if ((status = run_prepare(&rc, &st, stderr)) >= 0) {
        run_config_free(&rc);
        return status;
    }
    mtb_error err = {0};
    train_view v = {.tty = isatty(STDERR_FILENO) && !rc.quiet, .quiet = rc.quiet};
    bool failed;
    v.metrics = run_open_metrics(&rc, &st, &failed);
    if (failed) {
        run_teardown(&st);
        run_config_free(&rc);
        return FE_FAIL;
    }
    fe_on_stop_signals(on_signal);
    if (mtb_trainer_start(st.trainer, &err))
        status = fe_report(&err);
    else
        status = train_loop(st.trainer, &v, rc.out_dir);
    if (v.metrics && fclose(v.metrics) != 0) {
        fprintf(stderr, "mtbert: %s: write error\n", rc.metrics_path);
        status = FE_FAIL;
    }
    run_teardown(&st);
    run_config_free(&rc);
    return status;
}
