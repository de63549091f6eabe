/* Whole-file reads with enforced limits, and JSON files on top of them. */
#include "mtbert/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int mtb_read_file(const char *path, size_t max_bytes, const char *what, char **out,
                  size_t *out_len, mtb_error *err)
{
    *out = NULL;
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mtb_error_set(err, errno == ENOMEM ? MTB_EFAIL : MTB_EINPUT, "%s: cannot open: %s",
                             path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return mtb_error_set(err, MTB_EINPUT, "%s: is a folder, not %s", path, what);
    }
    /* A regular file's size is known; anything else (a pipe, a device) is
     * read in growing chunks up to the same limit. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    if (S_ISREG(st.st_mode) && (size_t)st.st_size > max_bytes)
        cap = max_bytes + 2;
    char *buf = malloc(cap);
    size_t n = 0;
    int rc = buf ? MTB_OK : mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    while (!rc) {
        if (cap - n < 2) {
            size_t nc = cap * 2 > max_bytes + 2 ? max_bytes + 2 : cap * 2;
            char *nb = nc > cap ? realloc(buf, nc) : NULL;
            if (!nb) {
                rc = mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
                break;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n > max_bytes) {
            rc = mtb_error_set(err, MTB_EINPUT, "%s: larger than %zu MiB, the limit for %s",
                               path, max_bytes >> 20, what);
            break;
        }
        if (got == 0) {
            if (ferror(f))
                rc = mtb_error_set(err, MTB_EFAIL, "%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return MTB_OK;
}

json_t *mtb_json_load_file(const char *path, mtb_error *err)
{
    char *text;
    size_t len;
    if (mtb_read_file(path, MTB_MAX_JSON_FILE_BYTES, "a JSON file", &text, &len, err))
        return NULL;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    free(text);
    if (!root) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
        else
            mtb_error_set(err, MTB_EINPUT, "%s:%d:%d: %s", path, jerr.line, jerr.column,
                          jerr.text);
    }
    return root;
}
