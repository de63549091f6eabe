/* A run's outputs: the checks that keep an existing run, best model or
 * metrics file from being overwritten by accident, the folder --out goes
 * in, and the metrics file opened for the run. */
#include "run_output.h"

#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "../front/metrics.h"
#include "mtbert/model_dir.h"
#include "mtbert/run_lock.h"

void run_make_parent_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (slash && slash != buf) {
        *slash = '\0';
        mtb_mkdir_p(buf, 0755);
    }
}

/* --save-best saves at evaluations, which need validation data. */
static bool run_has_validation(const run_state *st)
{
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (st->dev[t].n > 0)
            return true;
    return false;
}

/* Nothing is destroyed by accident: the run folder is locked against a
 * second process, what killed saves left behind is cleaned up (and said),
 * and an existing run or metrics file is replaced only with --force (a
 * resumed run continues its own folder and appends to its metrics). */
int run_protect_outputs(run_config *rc, run_state *st, FILE *log, mtb_error *err)
{
    const char *out = rc->out_dir;
    int status = mtb_run_lock_acquire(&st->lock, out, err);
    if (status)
        return status;
    char note[2048];
    if (mtb_model_dir_recover(out, note, sizeof note) > 0 && log)
        fprintf(log, "mtbert: %s\n", note);
    /* Find out now, not after hours of training, that --out cannot be saved to. */
    if ((status = mtb_model_dir_check_target(out, err)))
        return mtb_error_prefix(err, "--out");
    struct stat sb;
    const bool continuing = rc->resume_dir && fe_same_path(out, rc->resume_dir);
    const char *kind = fe_saved_kind(out);
    if (!continuing && !rc->force && kind)
        return mtb_error_set(err, MTB_EINPUT, "--out %s already holds a saved %s; --resume %s "
                             "continues it, --force replaces it",
                             out, kind, out);
    if (rc->metrics_path && !rc->resume_dir && !rc->force && stat(rc->metrics_path, &sb) == 0 &&
        S_ISREG(sb.st_mode) && sb.st_size > 0)
        return mtb_error_set(err, MTB_EINPUT, "--metrics %s already holds another run's "
                             "records; --force overwrites it, --resume appends to it",
                             rc->metrics_path);
    /* --save-best writes OUT-best: a new folder, or a model saved there */
    const char *best = st->options.best_dir;
    if (best[0]) {
        const char *bk = fe_saved_kind(best);
        if ((status = mtb_model_dir_check_target(best, err)))
            return mtb_error_prefix(err, "--save-best");
        if (bk && strcmp(bk, "run") == 0 && !rc->force)
            return mtb_error_set(err, MTB_EINPUT, "--save-best: %s holds a saved run, not a "
                                 "best model; --force replaces it", best);
        if (!run_has_validation(st) && log)
            fprintf(log, "mtbert: warning: --save-best needs validation data (dev files or "
                    "--val-split); without it nothing is saved there\n");
    }
    /* A resumed run appends only to its own records. */
    char file_id[64];
    if (rc->metrics_path && rc->resume_dir && !rc->force && rc->run_id[0] &&
        metrics_read_run_id(rc->metrics_path, file_id, sizeof file_id) == 1 &&
        strcmp(file_id, rc->run_id) != 0)
        return mtb_error_set(err, MTB_EINPUT, "--metrics %s holds the records of another run "
                             "(run %s; this one is %s); name this run's own file, or --force "
                             "to append anyway", rc->metrics_path, file_id, rc->run_id);
    return MTB_OK;
}

FILE *run_open_metrics(const run_config *rc, const run_state *st, bool *failed)
{
    *failed = false;
    if (!rc->metrics_path)
        return NULL;
    FILE *f = fopen(rc->metrics_path, rc->resume_dir ? "a" : "w");
    if (!f) {
        fprintf(stderr, "mtbert: %s: cannot open for writing\n", rc->metrics_path);
        *failed = true;
        return NULL;
    }
    setvbuf(f, NULL, _IOLBF, 0); /* readable live, e.g. with tail -f */
    if (rc->resume_dir)
        metrics_write_resumed(f, rc->run_id, mtb_trainer_step_count(st->trainer));
    else
        metrics_write_header(f, rc->run_id, st->options.run_json, &st->model.bert);
    return f;
}
