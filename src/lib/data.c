/* Loader for the CS224N minBERT task files (include/mtbert/data.h).
 *
 * A file is read whole, cut into lines on '\n', and each line is handed to
 * libcsv on its own (tab delimiter, strict quoting, no whitespace trimming),
 * so a record is exactly one line and every message can name its line.  One
 * level of CSV quoting is undone, as Python's csv module does: a field that
 * starts with '"' loses its outer quotes and each '""' inside becomes '"'.
 *
 * Columns are found by header name; columns this task does not use (the
 * pandas index, the odd "0" column of the SST test files) are ignored.  Each
 * kept string is its own malloc block, owned by the dataset. */
#include "mtbert/data.h"
#include "mtbert/file.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mtbert/rng.h"

/* ------------------------------------------------------------------ */
/* Tasks                                                               */
/* ------------------------------------------------------------------ */

static const char *const task_names[MTB_N_TASKS] = {"sst", "para", "sts"};

const char *mtb_task_name(mtb_task task)
{
    if ((int)task < 0 || task >= MTB_N_TASKS)
        return "?";
    return task_names[task];
}

int mtb_task_parse(const char *name)
{
    if (!name)
        return -1;
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (strcmp(name, task_names[t]) == 0)
            return t;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Dataset lifetime                                                    */
/* ------------------------------------------------------------------ */

void mtb_dataset_init(mtb_dataset *ds, mtb_task task)
{
    memset(ds, 0, sizeof *ds);
    ds->task = task;
}

static void example_free(mtb_example *ex)
{
    free(ex->id);
    free(ex->text_a);
    free(ex->text_b);
    ex->id = ex->text_a = ex->text_b = NULL;
}

void mtb_dataset_free(mtb_dataset *ds)
{
    if (!ds)
        return;
    for (size_t i = 0; i < ds->n; i++)
        example_free(&ds->ex[i]);
    free(ds->ex);
    free(ds->path);
    mtb_dataset_init(ds, ds->task);
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
 * NUL is rejected too, since the text ends up in C strings. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return false; /* stray continuation byte, C0/C1, F5..FF */
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            unsigned cc = s[i + k];
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* s[0..n) without surrounding ASCII whitespace, copied into buf (NUL-ended).
 * Returns false if it does not fit. */
static bool trimmed_copy(char *buf, size_t size, const char *s, size_t n)
{
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n >= size)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

/* Decimal number as Python's float() reads it, minus inf/nan/hex forms
 * (which no label file uses and which would only hide a mistake). */
static bool parse_number(const char *s, size_t n, double *out)
{
    char buf[64];
    if (!trimmed_copy(buf, sizeof buf, s, n) || buf[0] == '\0')
        return false;
    bool digit = false;
    for (const char *p = buf; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digit = true;
        else if (!strchr("+-.eE", *p))
            return false;
    }
    if (!digit)
        return false;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Integer as Python's int() reads it: optional sign, digits, nothing else. */
static bool parse_integer(const char *s, size_t n, long *out)
{
    char buf[32];
    if (!trimmed_copy(buf, sizeof buf, s, n) || buf[0] == '\0')
        return false;
    const char *p = buf;
    if (*p == '+' || *p == '-')
        p++;
    if (*p == '\0')
        return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return false;
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_space(s[i]))
            return false;
    return true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ------------------------------------------------------------------ */
/* One line through libcsv                                             */
/* ------------------------------------------------------------------ */

/* The fields of the current line, unquoted, stored back to back in buf. */
typedef struct line_fields {
    char *buf;
    size_t len, cap;
    size_t *off, *flen;
    size_t n, fcap;
    int records;
    bool oom;
} line_fields;

static void on_field(void *s, size_t len, void *data)
{
    line_fields *lf = data;
    if (lf->oom)
        return;
    if (lf->n == lf->fcap) {
        size_t nc = lf->fcap ? lf->fcap * 2 : 16;
        size_t *no = realloc(lf->off, nc * sizeof *no);
        if (!no) {
            lf->oom = true;
            return;
        }
        lf->off = no;
        size_t *nl = realloc(lf->flen, nc * sizeof *nl);
        if (!nl) {
            lf->oom = true;
            return;
        }
        lf->flen = nl;
        lf->fcap = nc;
    }
    if (lf->cap - lf->len < len + 1) {
        size_t nc = lf->cap ? lf->cap : 4096;
        while (nc - lf->len < len + 1)
            nc *= 2;
        char *nb = realloc(lf->buf, nc);
        if (!nb) {
            lf->oom = true;
            return;
        }
        lf->buf = nb;
        lf->cap = nc;
    }
    if (len)
        memcpy(lf->buf + lf->len, s, len);
    lf->off[lf->n] = lf->len;
    lf->flen[lf->n] = len;
    lf->len += len;
    lf->buf[lf->len++] = '\0'; /* keeps fields printable with %s */
    lf->n++;
}

static void on_record(int c, void *data)
{
    (void)c;
    line_fields *lf = data;
    lf->records++;
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static int no_term(unsigned char c)
{
    (void)c;
    return 0;
}

static void parser_setup(struct csv_parser *p)
{
    csv_set_delim(p, '\t');
    csv_set_quote(p, '"');
    csv_set_space_func(p, no_space); /* keep leading spaces (every SST sentence has one) */
    csv_set_term_func(p, no_term);   /* the caller cuts lines; no record ends inside one */
}

/* Splits line[0..n) into lf.  Returns 0, MTB_EINPUT with a message, or MTB_EFAIL. */
static int split_line(struct csv_parser *p, line_fields *lf, const char *line, size_t n,
                      const char *path, long lineno, mtb_error *err)
{
    lf->len = 0;
    lf->n = 0;
    lf->records = 0;
    lf->oom = false;
    if (memchr(line, '\r', n))
        return mtb_error_set(err, MTB_EINPUT, "%s:%ld: stray carriage return inside a line",
                             path, lineno);
    size_t used = csv_parse(p, line, n, on_field, on_record, lf);
    if (used != n || csv_error(p) != CSV_SUCCESS) {
        /* The load stops here, so the parser is not reset. */
        int e = csv_error(p);
        if (e == CSV_ENOMEM || lf->oom)
            return mtb_error_set(err, MTB_EFAIL, "%s:%ld: out of memory", path, lineno);
        return mtb_error_set(err, MTB_EINPUT,
                             "%s:%ld: bad quoting near byte %zu (a quoted field must end with "
                             "'\"' right before a tab or the end of the line; a field that does "
                             "not start with '\"' may not contain one)",
                             path, lineno, used + 1);
    }
    if (csv_fini(p, on_field, on_record, lf) != 0) {
        if (lf->oom)
            return mtb_error_set(err, MTB_EFAIL, "%s:%ld: out of memory", path, lineno);
        return mtb_error_set(err, MTB_EINPUT, "%s:%ld: unterminated quoted field", path, lineno);
    }
    if (lf->oom)
        return mtb_error_set(err, MTB_EFAIL, "%s:%ld: out of memory", path, lineno);
    if (lf->records != 1)
        return mtb_error_set(err, MTB_EFAIL, "%s:%ld: internal error: %d records on one line",
                             path, lineno, lf->records);
    return 0;
}

static void line_fields_free(line_fields *lf)
{
    free(lf->buf);
    free(lf->off);
    free(lf->flen);
}

/* ------------------------------------------------------------------ */
/* Reading the file                                                    */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

enum { COL_ID, COL_A, COL_B, COL_LABEL, N_COLS };

static const char *col_name(mtb_task task, int which)
{
    switch (which) {
    case COL_ID:
        return "id";
    case COL_A:
        return task == MTB_TASK_SST ? "sentence" : "sentence1";
    case COL_B:
        return task == MTB_TASK_SST ? NULL : "sentence2";
    default:
        return task == MTB_TASK_SST    ? "sentiment"
               : task == MTB_TASK_PARA ? "is_duplicate"
                                       : "similarity";
    }
}

/* "'', 'id', 'sentence'" for the message about a missing column. */
static void list_columns(char *buf, size_t size, const line_fields *hdr)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < hdr->n && used + 1 < size; i++) {
        int w = snprintf(buf + used, size - used, "%s'%s'", i ? ", " : "", hdr->buf + hdr->off[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
}

/* Name for a column in messages: its header name, or its 1-based position. */
static void describe_column(char *buf, size_t size, const line_fields *hdr, size_t i)
{
    if (i < hdr->n && hdr->flen[i] > 0)
        snprintf(buf, size, "column '%.200s'", hdr->buf + hdr->off[i]);
    else
        snprintf(buf, size, "column %zu (unnamed)", i + 1);
}

static int grow_examples(mtb_dataset *ds)
{
    if (ds->n < ds->cap)
        return 0;
    size_t nc = ds->cap ? ds->cap * 2 : 1024;
    mtb_example *ne = realloc(ds->ex, nc * sizeof *ne);
    if (!ne)
        return -1;
    ds->ex = ne;
    ds->cap = nc;
    return 0;
}

typedef struct loader {
    mtb_dataset *ds;
    const char *path;
    mtb_task task;
    struct csv_parser parser;
    line_fields hdr, row;
    int col[N_COLS]; /* field index of each column, -1 if absent */
} loader;

static int check_header(loader *L, bool want_labels, mtb_error *err)
{
    for (int c = 0; c < N_COLS; c++)
        L->col[c] = -1;
    for (size_t i = 0; i < L->hdr.n; i++) {
        const char *name = L->hdr.buf + L->hdr.off[i];
        if (!utf8_valid((const unsigned char *)name, L->hdr.flen[i]))
            return mtb_error_set(err, MTB_EINPUT, "%s:1: invalid UTF-8 in the header", L->path);
        for (int c = 0; c < N_COLS; c++) {
            const char *want = col_name(L->task, c);
            if (!want || strcmp(name, want) != 0)
                continue;
            if (L->col[c] >= 0)
                return mtb_error_set(err, MTB_EINPUT, "%s:1: column '%s' appears twice",
                                     L->path, want);
            L->col[c] = (int)i;
        }
    }
    for (int c = COL_A; c < N_COLS; c++) {
        const char *want = col_name(L->task, c);
        if (!want || L->col[c] >= 0 || (c == COL_LABEL && !want_labels))
            continue;
        char cols[600];
        list_columns(cols, sizeof cols, &L->hdr);
        return mtb_error_set(err, MTB_EINPUT, "%s:1: no column '%s' (columns: %s) for the %s task",
                             L->path, want, cols, mtb_task_name(L->task));
    }
    return 0;
}

/* Parses the label field of a row; sets *drop for a paraphrase row whose
 * label is empty (the reference loader skips those). */
static int parse_label(loader *L, long lineno, const char *s, size_t n, float *label, bool *drop,
                       mtb_error *err)
{
    const char *name = col_name(L->task, COL_LABEL);
    if (L->task == MTB_TASK_PARA && blank(s, n)) {
        *drop = true;
        return 0;
    }
    switch (L->task) {
    case MTB_TASK_SST: {
        long v;
        if (!parse_integer(s, n, &v) || v < 0 || v > 4)
            return mtb_error_set(err, MTB_EINPUT, "%s:%ld: %s '%.40s' is not an integer in 0..4",
                                 L->path, lineno, name, s);
        *label = (float)v;
        return 0;
    }
    case MTB_TASK_PARA: {
        double v;
        if (!parse_number(s, n, &v) || (v != 0.0 && v != 1.0))
            return mtb_error_set(err, MTB_EINPUT, "%s:%ld: %s '%.40s' is not 0 or 1", L->path,
                                 lineno, name, s);
        *label = (float)v;
        return 0;
    }
    default: {
        double v;
        if (!parse_number(s, n, &v) || v < 0.0 || v > 5.0)
            return mtb_error_set(err, MTB_EINPUT, "%s:%ld: %s '%.40s' is not a number in [0, 5]",
                                 L->path, lineno, name, s);
        *label = (float)v;
        return 0;
    }
    }
}

static int handle_row(loader *L, long lineno, mtb_error *err)
{
    line_fields *r = &L->row;
    size_t want = L->hdr.n;
    int lc = L->col[COL_LABEL];
    if (r->n != want) {
        /* A broken paraphrase row that stops before its label is dropped
         * like one whose label is empty. */
        bool short_para = L->task == MTB_TASK_PARA && lc >= 0 && r->n < want &&
                          (size_t)lc >= r->n;
        if (!short_para)
            return mtb_error_set(err, MTB_EINPUT, "%s:%ld: expected %zu fields, found %zu",
                                 L->path, lineno, want, r->n);
    }
    for (size_t i = 0; i < r->n; i++) {
        if (!utf8_valid((const unsigned char *)r->buf + r->off[i], r->flen[i])) {
            char what[256];
            describe_column(what, sizeof what, &L->hdr, i);
            bool nul = memchr(r->buf + r->off[i], '\0', r->flen[i]) != NULL;
            return mtb_error_set(err, MTB_EINPUT, "%s:%ld: %s in %s", L->path, lineno,
                                 nul ? "NUL byte" : "invalid UTF-8", what);
        }
    }
    if (r->n < want) {
        L->ds->dropped++;
        return 0;
    }

    float label = NAN;
    if (lc >= 0) {
        bool drop = false;
        int rc = parse_label(L, lineno, r->buf + r->off[lc], r->flen[lc], &label, &drop, err);
        if (rc)
            return rc;
        if (drop) {
            L->ds->dropped++;
            return 0;
        }
    }

    if (grow_examples(L->ds))
        return mtb_error_set(err, MTB_EFAIL, "%s:%ld: out of memory", L->path, lineno);
    mtb_example ex = {.label = label, .line = lineno};
    int ci = L->col[COL_ID], ca = L->col[COL_A], cb = L->col[COL_B];
    bool oom = false;
    if (ci >= 0 && !(ex.id = dup_n(r->buf + r->off[ci], r->flen[ci])))
        oom = true;
    if (!(ex.text_a = dup_n(r->buf + r->off[ca], r->flen[ca])))
        oom = true;
    if (cb >= 0 && !(ex.text_b = dup_n(r->buf + r->off[cb], r->flen[cb])))
        oom = true;
    if (oom) {
        example_free(&ex);
        return mtb_error_set(err, MTB_EFAIL, "%s:%ld: out of memory", L->path, lineno);
    }
    L->ds->ex[L->ds->n++] = ex;
    return 0;
}

static int load_lines(loader *L, const char *data, size_t len, bool want_labels, mtb_error *err)
{
    /* A UTF-8 byte order mark is not part of the first column's name. */
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    size_t pos = 0;
    long lineno = 0;
    bool have_header = false;
    while (pos < len) {
        const char *line = data + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n > 0 && line[n - 1] == '\r') /* CRLF files read like LF ones */
            n--;
        if (n == 0)
            continue; /* blank lines carry no record (Python's csv skips them too) */
        line_fields *lf = have_header ? &L->row : &L->hdr;
        int rc = split_line(&L->parser, lf, line, n, L->path, lineno, err);
        if (rc)
            return rc;
        if (!have_header) {
            if (lineno != 1)
                return mtb_error_set(err, MTB_EINPUT, "%s:1: empty first line (no header)",
                                     L->path);
            have_header = true;
            rc = check_header(L, want_labels, err);
        } else {
            rc = handle_row(L, lineno, err);
        }
        if (rc)
            return rc;
    }
    if (!have_header)
        return mtb_error_set(err, MTB_EINPUT, "%s:1: empty file (no header line)", L->path);
    return 0;
}

int mtb_dataset_load(mtb_dataset *ds, const char *path, bool want_labels, mtb_error *err)
{
    if (!ds || !path)
        return mtb_error_set(err, MTB_EINPUT, "mtb_dataset_load: no dataset or path");
    if ((int)ds->task < 0 || ds->task >= MTB_N_TASKS)
        return mtb_error_set(err, MTB_EINPUT, "%s: dataset has no valid task", path);

    char *data = NULL;
    size_t len = 0;
    int rc = mtb_read_file(path, MTB_MAX_DATA_FILE_BYTES, "a data file", &data, &len, err);
    if (rc)
        return rc;

    loader L;
    memset(&L, 0, sizeof L);
    L.ds = ds;
    L.path = path;
    L.task = ds->task;
    if (csv_init(&L.parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        free(data);
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    }
    parser_setup(&L.parser);

    size_t n0 = ds->n, dropped0 = ds->dropped;
    rc = load_lines(&L, data, len, want_labels, err);
    char *path_copy = NULL;
    if (!rc && !ds->path && !(path_copy = strdup(path)))
        rc = mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    if (rc) {
        /* Leave the dataset as it was before this call. */
        for (size_t i = n0; i < ds->n; i++)
            example_free(&ds->ex[i]);
        ds->n = n0;
        ds->dropped = dropped0;
    } else {
        bool file_labelled = L.col[COL_LABEL] >= 0;
        if (!ds->path) {
            ds->path = path_copy;
            ds->labelled = file_labelled;
        } else {
            ds->labelled = ds->labelled && file_labelled;
        }
    }
    csv_free(&L.parser);
    line_fields_free(&L.hdr);
    line_fields_free(&L.row);
    free(data);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Train/validation split                                              */
/* ------------------------------------------------------------------ */

int mtb_dataset_split(mtb_dataset *train, mtb_dataset *val, double frac, uint64_t seed,
                      mtb_error *err)
{
    if (!train || !val)
        return mtb_error_set(err, MTB_EINPUT, "split: no dataset");
    if (!(frac > 0.0 && frac < 1.0))
        return mtb_error_set(err, MTB_EINPUT, "split: fraction %g is not in (0, 1)", frac);
    if (val->n != 0)
        return mtb_error_set(err, MTB_EINPUT, "split: the validation set is not empty");
    size_t n = train->n;
    if (n < 2)
        return mtb_error_set(err, MTB_EINPUT, "split: %s has %zu example%s, need at least 2",
                             train->path ? train->path : "the dataset", n, n == 1 ? "" : "s");
    if (n > UINT32_MAX)
        return mtb_error_set(err, MTB_EINPUT, "split: %zu examples is too many", n);

    double want = round(frac * (double)n);
    size_t k = want < 1.0 ? 1 : want > (double)(n - 1) ? n - 1 : (size_t)want;

    uint32_t *idx = malloc(n * sizeof *idx);
    unsigned char *pick = calloc(n, 1);
    mtb_example *vex = malloc(k * sizeof *vex);
    char *vpath = train->path ? strdup(train->path) : NULL;
    if (!idx || !pick || !vex || (train->path && !vpath)) {
        free(idx);
        free(pick);
        free(vex);
        free(vpath);
        return mtb_error_set(err, MTB_EFAIL, "split: out of memory");
    }

    /* The first k steps of a Fisher-Yates shuffle choose k distinct indices. */
    mtb_rng rng;
    mtb_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + mtb_rng_below(&rng, (uint32_t)(n - i));
        uint32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        pick[idx[i]] = 1;
    }
    free(idx);

    size_t w = 0, v = 0;
    for (size_t i = 0; i < n; i++) {
        if (pick[i])
            vex[v++] = train->ex[i];
        else
            train->ex[w++] = train->ex[i];
    }
    free(pick);
    train->n = w;

    free(val->ex);
    free(val->path);
    val->task = train->task;
    val->ex = vex;
    val->n = val->cap = k;
    val->labelled = train->labelled;
    val->dropped = 0;
    val->path = vpath;
    return 0;
}
