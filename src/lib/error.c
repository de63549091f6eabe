/* Filling an mtb_error (see error.h): the message of a failure and the
 * context callers put in front of it on the way up. */
#include "mtbert/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mtb_error_set(mtb_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int mtb_error_prefix(mtb_error *err, const char *fmt, ...)
{
    if (!err)
        return MTB_EFAIL;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) >= (int)sizeof err->msg)
        memcpy(err->msg + sizeof err->msg - 4, "...", 4); /* show the cut */
    return err->code;
}
