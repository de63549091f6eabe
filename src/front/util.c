/* Helpers both front ends use: messages, number parsing, folders, signals. */
#include "front.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mtbert/file.h"
#include "mtbert/gemm.h"
#include "mtbert/precision.h"
#include "mtbert/model_dir.h"

/* Messages quote file names, fields and arguments: shown visibly, so none
 * of them can drive the terminal (fe_visible). */
int fe_report(const mtb_error *err)
{
    char shown[4 * sizeof err->msg];
    fe_visible(shown, sizeof shown, err->msg);
    fprintf(stderr, "mtbert: %s\n", shown);
    return err->code == MTB_EINPUT ? FE_USAGE : FE_FAIL;
}

int fe_usage_error(const char *command, const char *fmt, ...)
{
    char msg[2048], shown[4 * sizeof msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fe_visible(shown, sizeof shown, msg);
    fprintf(stderr, "mtbert %s: %s\nTry 'mtbert %s --help' for more information.\n", command,
            shown, command);
    return FE_USAGE;
}

bool fe_parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool fe_parse_int(const char *text, int min, int max, int *out)
{
    long v;
    if (!fe_parse_long(text, min, max, &v))
        return false;
    *out = (int)v;
    return true;
}

bool fe_parse_double(const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= min && v <= max))
        return false;
    *out = v;
    return true;
}

void fe_format_duration(double s, char *buf, size_t cap)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, cap, "--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, cap, "%lds", t);
}

int fe_bad_option(const char *command, const char *arg)
{
    return fe_usage_error(command, "unknown option, or one missing its value: '%s'",
                           arg ? arg : "?");
}

bool fe_same_path(const char *a, const char *b)
{
    if (!a || !b || !a[0] || !b[0])
        return false;
    char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
    const bool same = ra && rb ? strcmp(ra, rb) == 0 : strcmp(a, b) == 0;
    free(ra);
    free(rb);
    return same;
}

int fe_check_save_dir(const char *dir, const char *out_dir, const char *saved_before,
                       mtb_error *err)
{
    int rc = mtb_model_dir_check_target(dir, err);
    if (rc)
        return rc;
    const char *kind = fe_saved_kind(dir);
    if (!kind || fe_same_path(dir, out_dir) || fe_same_path(dir, saved_before))
        return MTB_OK;
    return mtb_error_set(err, MTB_EINPUT, "%s already holds a saved %s; :save replaces only this "
                         "run's folder or one it saved to itself: pick a new folder", dir, kind);
}

const char *fe_saved_kind(const char *dir)
{
    char marker[4096];
    struct stat st;
    if (!mtb_path_join(marker, sizeof marker, dir, "config.json") || stat(marker, &st) != 0)
        return NULL;
    return mtb_path_join(marker, sizeof marker, dir, "trainer.json") && stat(marker, &st) == 0
               ? "run"
               : "model";
}

void fe_on_stop_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int fe_engine_setup(void)
{
    const char *gemm = getenv("MTBERT_GEMM");
    const int mode = gemm && gemm[0] ? mtb_gemm_mode_parse(gemm) : MTB_GEMM_AUTO;
    if (mode < 0) {
        fprintf(stderr, "mtbert: MTBERT_GEMM=%s: expected pool, openblas or auto\n", gemm);
        return FE_USAGE;
    }
    mtb_gemm_set_mode((mtb_gemm_mode)mode);
    if (mode == MTB_GEMM_AUTO)
        mtb_gemm_use_default_cache();
    return 0;
}

int fe_parse_precision(const char *command, const char *arg)
{
    const int p = mtb_precision_parse(arg);
    if (p < 0)
        fe_usage_error(command, "--precision must be fp32, bf16 or auto");
    return p;
}

void fe_apply_precision(int requested, FILE *log)
{
    char note[320];
    const mtb_precision p = mtb_precision_set((mtb_precision)requested, note, sizeof note);
    if (log && (p == MTB_PRECISION_BF16 || requested == MTB_PRECISION_BF16))
        fprintf(log, "mtbert: %s\n", note);
}
