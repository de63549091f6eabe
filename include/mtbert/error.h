/* Error reporting shared by every part of libmtbert.
 *
 * Functions that can fail take a `mtb_error *err` (may be NULL) as their last
 * argument and return 0 on success or one of the MTB_E* codes.  The code
 * doubles as the process exit status the command-line front end uses, so a
 * library caller never has to translate. */
#ifndef MTBERT_ERROR_H
#define MTBERT_ERROR_H

enum {
    MTB_OK = 0,
    MTB_EFAIL = 1,  /* I/O failure, out of memory, internal error */
    MTB_EINPUT = 2, /* bad usage or bad input: the message names the file and line or tensor */
};

typedef struct mtb_error {
    int code;
    char msg[1024];
} mtb_error;

/* Records a printf-style message in err (if not NULL) and returns code. */
int mtb_error_set(mtb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "context: " to an existing message, for callers that add the file name. */
int mtb_error_prefix(mtb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
