/* A run's metrics file while it trains: opened once, written by the
 * trainer's recorder (mtb_trainer_set_recorder) on the trainer thread, so
 * every record of a step is in the file before any checkpoint of that step
 * is; a run killed at any moment resumes with its history whole.  A
 * resumed run cuts an unfinished last line away first, and writes its
 * "resumed" marker only with its first record, so a start that fails
 * appends nothing.  Write errors are kept and reported at the close. */
#include <errno.h>
#include <string.h>

#include "metrics.h"

int metrics_record_open(metrics_record *m, const char *path, const char *run_id,
                        const char *run_json, const mtb_bert *model, long resumed_step, FILE *log,
                        mtb_error *err)
{
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s", path);
    snprintf(m->run_id, sizeof m->run_id, "%s", run_id ? run_id : "");
    m->resumed_step = resumed_step;
    if (resumed_step >= 0 && metrics_prepare_append(path, log, err))
        return err->code;
    m->f = fopen(path, resumed_step >= 0 ? "a" : "w");
    if (!m->f)
        return mtb_error_set(err, MTB_EINPUT, "%s: cannot open for writing: %s", path,
                             strerror(errno));
    setvbuf(m->f, NULL, _IOLBF, 0); /* readable live, e.g. with tail -f */
    if (resumed_step < 0) {
        metrics_write_header(m->f, run_id, run_json, model);
        if (ferror(m->f) && !m->write_errno)
            m->write_errno = errno ? errno : EIO;
    }
    return MTB_OK;
}

void metrics_record_event(const mtb_event *ev, void *ctx)
{
    metrics_record *m = ctx;
    if (!m->f || (ev->type != MTB_EV_STEP && ev->type != MTB_EV_CONFLICT &&
                  ev->type != MTB_EV_EVAL))
        return;
    if (m->resumed_step >= 0 && !m->marker_written) {
        metrics_write_resumed(m->f, m->run_id, m->resumed_step);
        m->marker_written = true;
    }
    errno = 0;
    metrics_write(m->f, ev);
    if (ferror(m->f) && !m->write_errno)
        m->write_errno = errno ? errno : EIO;
}

int metrics_record_close(metrics_record *m, mtb_error *err)
{
    if (!m->f)
        return MTB_OK;
    errno = 0;
    if (fclose(m->f) != 0 && !m->write_errno)
        m->write_errno = errno ? errno : EIO;
    m->f = NULL;
    if (m->write_errno)
        return mtb_error_set(err, MTB_EFAIL, "%s: write error: %s", m->path,
                             strerror(m->write_errno));
    return MTB_OK;
}
