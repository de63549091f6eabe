/* Whole-file reads with enforced limits, JSON files on top of them, atomic
 * writes and mkdir -p. */
#include "mtbert/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

int mtb_write_file_atomic(const char *path, const char *text, size_t len, mtb_error *err)
{
    char tmp[4096];
    int tl = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (tl < 0 || (size_t)tl >= sizeof tmp)
        return mtb_error_set(err, MTB_EINPUT, "%s: path is too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return mtb_error_set(err, MTB_EFAIL, "%s: cannot create %s: %s", path, tmp,
                             strerror(errno));
    const char *p = text;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            unlink(tmp);
            return mtb_error_set(err, MTB_EFAIL, "%s: cannot write %s: %s", path, tmp,
                                 strerror(e));
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return mtb_error_set(err, MTB_EFAIL, "%s: cannot sync %s: %s", path, tmp, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return mtb_error_set(err, MTB_EFAIL, "%s: cannot write %s: %s", path, tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return mtb_error_set(err, MTB_EFAIL, "%s: cannot rename %s over it: %s", path, tmp,
                             strerror(e));
    }
    return MTB_OK;
}

int mtb_json_save_file(const json_t *root, const char *path, size_t flags, mtb_error *err)
{
    char *text = root ? json_dumps(root, flags) : NULL;
    if (!text)
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (!with_nl) {
        free(text);
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    }
    with_nl[len] = '\n';
    with_nl[len + 1] = '\0';
    int rc = mtb_write_file_atomic(path, with_nl, len + 1, err);
    free(with_nl);
    return rc;
}

void mtb_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

void mtb_path_parent(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash)
        *(slash == out ? slash + 1 : slash) = '\0';
    else
        snprintf(out, cap, ".");
}

bool mtb_mkdir_p(const char *dir, int mode)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return false;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        bool fine = mkdir(path, (mode_t)mode) == 0 || errno == EEXIST;
        *p = '/';
        if (!fine)
            return false;
    }
    return mkdir(path, (mode_t)mode) == 0 || errno == EEXIST;
}
