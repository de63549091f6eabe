/* BERT uncased WordPiece tokenizer; see include/mtbert/tokenizer.h for the
 * pipeline and the compatibility notes. */
#include "mtbert/tokenizer.h"
#include "mtbert/file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <utf8proc.h>

/* ------------------------------------------------------------------ */
/* Vocabulary                                                          */
/* ------------------------------------------------------------------ */

/* A token is stored as its lookup key: the spelling without the "##"
 * prefix plus a continuation flag.  WordPiece then looks up byte ranges of
 * the word directly, never building "##" + substring strings. */
typedef struct vocab_entry {
    const char *key;
    uint32_t key_len;
    uint32_t hash;
    uint8_t cont;
} vocab_entry;

struct mtb_vocab {
    char *buf;           /* file contents; each line NUL-terminated in place */
    const char **spell;  /* id -> full spelling */
    vocab_entry *entry;  /* id -> lookup key */
    int32_t *slot;       /* open-addressing table of ids, -1 = empty */
    uint32_t mask;       /* slot count - 1 (a power of two) */
    int32_t n;
    size_t max_key[2];   /* longest key in bytes, per continuation flag */
    mtb_special_ids specials;
};

static uint32_t hash_key(const char *s, size_t len, int cont)
{
    /* FNV-1a with a seed per flag, plus a final avalanche so that the low
     * bits used for the slot index depend on every byte. */
    uint32_t h = cont ? 0x9747b28cu : 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

static int32_t lookup_key(const mtb_vocab *v, const char *key, size_t len, int cont)
{
    uint32_t h = hash_key(key, len, cont);
    for (uint32_t i = h & v->mask;; i = (i + 1) & v->mask) {
        int32_t id = v->slot[i];
        if (id < 0)
            return -1;
        const vocab_entry *e = &v->entry[id];
        if (e->hash == h && e->key_len == len && e->cont == cont &&
            memcmp(e->key, key, len) == 0)
            return id;
    }
}

static void split_spelling(const char *tok, size_t len, const char **key,
                           size_t *key_len, int *cont)
{
    if (len >= 2 && tok[0] == '#' && tok[1] == '#') {
        *key = tok + 2;
        *key_len = len - 2;
        *cont = 1;
    } else {
        *key = tok;
        *key_len = len;
        *cont = 0;
    }
}

int32_t mtb_vocab_id(const mtb_vocab *vocab, const char *token, size_t len)
{
    const char *key;
    size_t key_len;
    int cont;
    if (!vocab || (!token && len))
        return -1;
    split_spelling(token ? token : "", len, &key, &key_len, &cont);
    return lookup_key(vocab, key, key_len, cont);
}

const char *mtb_vocab_token(const mtb_vocab *vocab, int32_t id)
{
    if (!vocab || id < 0 || id >= vocab->n)
        return NULL;
    return vocab->spell[id];
}

int32_t mtb_vocab_size(const mtb_vocab *vocab)
{
    return vocab ? vocab->n : 0;
}

const mtb_special_ids *mtb_vocab_specials(const mtb_vocab *vocab)
{
    return &vocab->specials;
}

void mtb_vocab_free(mtb_vocab *vocab)
{
    if (!vocab)
        return;
    free(vocab->buf);
    free(vocab->spell);
    free(vocab->entry);
    free(vocab->slot);
    free(vocab);
}

/* Sizes the tables for `lines` tokens: the hash table at least twice as
 * large, a power of two. */
static int alloc_tables(mtb_vocab *v, size_t lines, const char *path, mtb_error *err)
{
    if (lines == 0)
        return mtb_error_set(err, MTB_EINPUT, "%s: empty vocabulary file", path);
    if (lines > (size_t)INT32_MAX / 2)
        return mtb_error_set(err, MTB_EINPUT, "%s: too many tokens", path);
    uint32_t slots = 16;
    while (slots < 2 * lines)
        slots *= 2;
    v->spell = malloc(lines * sizeof *v->spell);
    v->entry = malloc(lines * sizeof *v->entry);
    v->slot = malloc(slots * sizeof *v->slot);
    if (!v->spell || !v->entry || !v->slot)
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    memset(v->slot, 0xff, slots * sizeof *v->slot);
    v->mask = slots - 1;
    return 0;
}

/* Adds the token of line `line` (0-based), p[0..tlen) ending in a NUL the
 * caller wrote, as id `line`. */
static int add_token(mtb_vocab *v, const char *p, size_t tlen, size_t line, const char *path,
                     mtb_error *err)
{
    const char *key;
    size_t key_len;
    int cont;
    split_spelling(p, tlen, &key, &key_len, &cont);
    int32_t dup = lookup_key(v, key, key_len, cont);
    if (dup >= 0)
        return mtb_error_set(err, MTB_EINPUT,
                             "%s:%zu: duplicate token '%.100s' (first on line %ld)", path,
                             line + 1, p, (long)dup + 1);
    int32_t id = (int32_t)line;
    v->spell[id] = p;
    v->entry[id] = (vocab_entry){key, (uint32_t)key_len, hash_key(key, key_len, cont),
                                 (uint8_t)cont};
    uint32_t i = v->entry[id].hash & v->mask;
    while (v->slot[i] >= 0)
        i = (i + 1) & v->mask;
    v->slot[i] = id;
    if (key_len > v->max_key[cont])
        v->max_key[cont] = key_len;
    v->n = id + 1;
    return 0;
}

/* One token per line of p[0..end), each line's newline (and a CR before
 * it) replaced by the NUL that ends the token's spelling. */
static int add_tokens(mtb_vocab *v, char *p, char *end, size_t lines, const char *path,
                      mtb_error *err)
{
    for (size_t line = 0; line < lines; line++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        if (stop > p && stop[-1] == '\r')
            stop--;
        size_t tlen = (size_t)(stop - p);
        if (tlen == 0)
            return mtb_error_set(err, MTB_EINPUT, "%s:%zu: empty token", path, line + 1);
        if (memchr(p, '\0', tlen))
            return mtb_error_set(err, MTB_EINPUT, "%s:%zu: NUL byte in token", path,
                                 line + 1);
        *stop = '\0';
        int rc = add_token(v, p, tlen, line, path, err);
        if (rc)
            return rc;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* [PAD], [UNK], [CLS] and [SEP] must be there; [MASK] may be missing (-1). */
static int find_specials(mtb_vocab *v, const char *path, mtb_error *err)
{
    static const char *const names[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    int32_t ids[5];
    for (int k = 0; k < 5; k++) {
        ids[k] = mtb_vocab_id(v, names[k], strlen(names[k]));
        if (ids[k] < 0 && k < 4)
            return mtb_error_set(err, MTB_EINPUT, "%s: missing special token %s", path,
                                 names[k]);
    }
    v->specials = (mtb_special_ids){ids[0], ids[1], ids[2], ids[3], ids[4]};
    return 0;
}

int mtb_vocab_load(const char *path, mtb_vocab **out, mtb_error *err)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = mtb_read_file(path, MTB_MAX_VOCAB_FILE_BYTES, "a vocab.txt", &buf, &len, err);
    if (rc)
        return rc;

    mtb_vocab *v = calloc(1, sizeof *v);
    if (!v) {
        free(buf);
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    }
    v->buf = buf;

    char *p = buf, *end = buf + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* UTF-8 byte order mark */

    size_t lines = 0;
    for (char *q = p; q < end; lines++) {
        char *nl = memchr(q, '\n', (size_t)(end - q));
        q = nl ? nl + 1 : end;
    }
    rc = alloc_tables(v, lines, path, err);
    if (!rc)
        rc = add_tokens(v, p, end, lines, path, err);
    if (!rc)
        rc = find_specials(v, path, err);
    if (rc) {
        mtb_vocab_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Character classes                                                   */
/* ------------------------------------------------------------------ */

/* ASCII whitespace as cleaned by the original: \t \n \r and space. */
static inline int ascii_space(int32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int32_t ascii_lower(int32_t c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_cjk(int32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int is_punct(int32_t c)
{
    if (c < 128)
        return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
               (c >= 123 && c <= 126);
    utf8proc_category_t cat = utf8proc_category(c);
    return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

/* Unicode Case_Ignorable: Mn Me Cf Lm Sk plus Word_Break MidLetter,
 * MidNumLet and Single_Quote (listed explicitly: utf8proc lacks them). */
static int case_ignorable(int32_t c)
{
    static const int32_t wb[] = {0x0027, 0x002E, 0x003A, 0x00B7, 0x0387, 0x055F,
                                 0x05F4, 0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
                                 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
        return 1;
    default:
        break;
    }
    for (size_t i = 0; i < sizeof wb / sizeof wb[0]; i++)
        if (wb[i] == c)
            return 1;
    return 0;
}

/* Unicode Cased: Lu Ll Lt plus Other_Lowercase/Other_Uppercase.  Only the
 * Other_* code points that are not case-ignorable matter to final sigma
 * (the scan skips ignorable ones before testing cased), and those are: */
static int cased(int32_t c)
{
    static const int32_t other[][2] = {{0x00AA, 0x00AA},   {0x00BA, 0x00BA},
                                       {0x2160, 0x217F},   {0x24B6, 0x24E9},
                                       {0x1F130, 0x1F149}, {0x1F150, 0x1F169},
                                       {0x1F170, 0x1F189}};
    utf8proc_category_t cat = utf8proc_category(c);
    if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
        cat == UTF8PROC_CATEGORY_LT)
        return 1;
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
        if (c >= other[i][0] && c <= other[i][1])
            return 1;
    return 0;
}

/* Python's str.lower() maps U+03A3 to final sigma U+03C2 when it follows a
 * cased letter and is not followed by one (case-ignorable characters are
 * skipped both ways), looking only within the string being lowered: here a
 * whitespace-delimited word, before punctuation splitting. */
static int final_sigma(const int32_t *w, size_t n, size_t k)
{
    size_t j = k;
    while (j > 0 && case_ignorable(w[j - 1]))
        j--;
    if (j == 0 || !cased(w[j - 1]))
        return 0;
    for (j = k + 1; j < n && case_ignorable(w[j]); j++)
        ;
    return j == n || !cased(w[j]);
}

static int ccc(int32_t c)
{
    return c < 0x300 ? 0 : utf8proc_get_property(c)->combining_class;
}

/* Stable sort of one run of non-starters by combining class.  Short runs
 * (the usual one or two marks) by insertion; long ones by counting, so a
 * hostile run of thousands of marks costs linear time, not quadratic. */
static void sort_by_combining_class(int32_t *run, size_t len, int32_t *scratch)
{
    if (len <= 16) {
        for (size_t k = 1; k < len; k++) {
            int32_t x = run[k];
            int cc = ccc(x);
            size_t j = k;
            for (; j > 0 && ccc(run[j - 1]) > cc; j--)
                run[j] = run[j - 1];
            run[j] = x;
        }
        return;
    }
    size_t start[257] = {0};
    for (size_t k = 0; k < len; k++)
        start[ccc(run[k]) + 1]++;
    for (int c = 1; c < 257; c++)
        start[c] += start[c - 1];
    for (size_t k = 0; k < len; k++)
        scratch[start[ccc(run[k])]++] = run[k];
    memcpy(run, scratch, len * sizeof *run);
}

/* Decodes one non-ASCII UTF-8 sequence at s[*i] (s[*i] >= 0x80).  An
 * ill-formed sequence consumes its maximal well-formed prefix (at least one
 * byte), as Python's decoder does, and yields U+FFFD. */
static int32_t decode_utf8(const unsigned char *s, size_t n, size_t *i)
{
    size_t p = *i;
    unsigned b = s[p];
    int need;
    unsigned lo = 0x80, hi = 0xBF;
    int32_t c;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        c = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        c = b & 0x07;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        *i = p + 1;
        return 0xFFFD;
    }
    p++;
    for (int k = 0; k < need; k++, p++) {
        if (p >= n || s[p] < lo || s[p] > hi) {
            *i = p;
            return 0xFFFD;
        }
        c = (c << 6) | (s[p] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *i = p;
    return c;
}

/* ------------------------------------------------------------------ */
/* Tokenizing                                                          */
/* ------------------------------------------------------------------ */

void mtb_tokens_init(mtb_tokens *tokens)
{
    memset(tokens, 0, sizeof *tokens);
}

void mtb_tokens_free(mtb_tokens *tokens)
{
    free(tokens->ids);
    free(tokens->word);
    free(tokens->tmp);
    mtb_tokens_init(tokens);
}

/* Grows *buf to hold at least need elements; -1 (buffer unchanged) on
 * failure.  All scratch buffers hold int32_t, so no void ** casts. */
static int grow(int32_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / sizeof **buf)
            return -1;
        nc *= 2;
    }
    int32_t *nb = realloc(*buf, nc * sizeof **buf);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = nc;
    return 0;
}

/* Appends the WordPiece ids of one basic token (n code points, no
 * whitespace, lower-cased and accent-stripped).  The caller has reserved
 * room for n ids: every piece covers at least one code point. */
static void wordpiece(const mtb_vocab *v, mtb_tokens *t, const int32_t *w, size_t n)
{
    if (n == 0)
        return;
    if (n > MTB_WORDPIECE_MAX_CHARS) {
        t->ids[t->len++] = v->specials.unk;
        return;
    }
    char buf[4 * MTB_WORDPIECE_MAX_CHARS];
    unsigned short off[MTB_WORDPIECE_MAX_CHARS + 1];
    size_t b = 0;
    for (size_t k = 0; k < n; k++) {
        off[k] = (unsigned short)b;
        uint32_t c = (uint32_t)w[k];
        if (c < 0x80) {
            buf[b++] = (char)c;
        } else if (c < 0x800) {
            buf[b++] = (char)(0xC0 | (c >> 6));
            buf[b++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            buf[b++] = (char)(0xE0 | (c >> 12));
            buf[b++] = (char)(0x80 | ((c >> 6) & 0x3F));
            buf[b++] = (char)(0x80 | (c & 0x3F));
        } else {
            buf[b++] = (char)(0xF0 | (c >> 18));
            buf[b++] = (char)(0x80 | ((c >> 12) & 0x3F));
            buf[b++] = (char)(0x80 | ((c >> 6) & 0x3F));
            buf[b++] = (char)(0x80 | (c & 0x3F));
        }
    }
    off[n] = (unsigned short)b;

    size_t mark = t->len, start = 0;
    while (start < n) {
        int cont = start > 0;
        size_t end = n, maxb = v->max_key[cont];
        while (end > start && (size_t)(off[end] - off[start]) > maxb)
            end--;
        int32_t id = -1;
        for (; end > start; end--) {
            id = lookup_key(v, buf + off[start], (size_t)(off[end] - off[start]), cont);
            if (id >= 0)
                break;
        }
        if (id < 0) {
            t->len = mark;
            t->ids[t->len++] = v->specials.unk;
            return;
        }
        t->ids[t->len++] = id;
        start = end;
    }
}

/* Runs steps 4-7 of the pipeline on the whitespace-delimited word held in
 * t->word[0..n); ascii says whether every code point is below 0x80. */
static int process_word(const mtb_vocab *v, mtb_tokens *t, size_t n, int ascii)
{
    int32_t *w = t->word;
    const int32_t *cps;
    size_t m;

    if (ascii) {
        for (size_t k = 0; k < n; k++)
            w[k] = ascii_lower(w[k]);
        cps = w;
        m = n;
    } else {
        /* tmp holds the lower-cased word (at most 2n: U+0130 expands) and
         * after it the decomposition (at most 4 code points per input in
         * current Unicode; grown on demand should that ever change). */
        if (grow(&t->tmp, &t->tmp_cap, 2 * n + 8 * n + 16))
            return -1;
        int32_t *low = t->tmp;
        size_t ln = 0;
        for (size_t k = 0; k < n; k++) {
            int32_t c = w[k];
            if (c < 0x80)
                low[ln++] = ascii_lower(c);
            else if (c == 0x3A3)
                low[ln++] = final_sigma(w, n, k) ? 0x3C2 : 0x3C3;
            else if (c == 0x130) {
                low[ln++] = 'i';
                low[ln++] = 0x307;
            } else
                low[ln++] = utf8proc_tolower(c);
        }
        size_t dn = 0;
        for (size_t k = 0; k < ln; k++) {
            int32_t c = t->tmp[k];
            if (c < 0xC0) { /* nothing below U+00C0 decomposes canonically */
                t->tmp[ln + dn++] = c;
                continue;
            }
            for (;;) {
                size_t room = t->tmp_cap - ln - dn;
                utf8proc_ssize_t r = utf8proc_decompose_char(
                    c, t->tmp + ln + dn, (utf8proc_ssize_t)room, UTF8PROC_DECOMPOSE, NULL);
                if (r < 0) { /* cannot happen for a valid code point */
                    t->tmp[ln + dn++] = c;
                    break;
                }
                if ((size_t)r <= room) {
                    dn += (size_t)r;
                    break;
                }
                if (grow(&t->tmp, &t->tmp_cap, t->tmp_cap + (size_t)r))
                    return -1;
            }
        }
        /* Canonical ordering: stable sort of each run of non-starters by
         * combining class.  Must precede mark stripping, since a stripped
         * class-0 mark may separate two runs.  The scratch space follows d. */
        if (grow(&t->tmp, &t->tmp_cap, ln + 2 * dn))
            return -1;
        int32_t *d = t->tmp + ln;
        for (size_t k = 0; k < dn;) {
            size_t start = k;
            while (k < dn && ccc(d[k]) != 0)
                k++;
            sort_by_combining_class(d + start, k - start, d + dn);
            k += k == start;
        }
        m = 0;
        for (size_t k = 0; k < dn; k++)
            if (d[k] < 0x300 || utf8proc_category(d[k]) != UTF8PROC_CATEGORY_MN)
                d[m++] = d[k];
        cps = d;
    }

    if (grow(&t->ids, &t->cap, t->len + m))
        return -1;
    size_t piece = 0;
    for (size_t k = 0; k < m; k++) {
        if (is_punct(cps[k])) {
            wordpiece(v, t, cps + piece, k - piece);
            wordpiece(v, t, cps + k, 1);
            piece = k + 1;
        }
    }
    wordpiece(v, t, cps + piece, m - piece);
    return 0;
}

/* Appends the ids of text to t->ids. */
static int tokenize_append(const mtb_vocab *v, const char *text, size_t text_len,
                           mtb_tokens *t, mtb_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    /* A word never has more code points than the text has bytes. */
    if (grow(&t->word, &t->word_cap, text_len + 1))
        return mtb_error_set(err, MTB_EFAIL, "tokenizer: out of memory");
    int32_t *w = t->word;
    size_t n = 0, i = 0;
    int ascii = 1;

#define FLUSH()                                                                   \
    do {                                                                          \
        if (n) {                                                                  \
            if (process_word(v, t, n, ascii))                                     \
                return mtb_error_set(err, MTB_EFAIL, "tokenizer: out of memory"); \
            n = 0;                                                                \
            ascii = 1;                                                            \
        }                                                                         \
    } while (0)

    while (i < text_len) {
        int32_t c = s[i];
        if (c < 0x80) {
            i++;
            if (c > ' ' && c != 127)
                w[n++] = c;
            else if (ascii_space(c))
                FLUSH();
            /* else: other C0 controls and DEL are dropped */
            continue;
        }
        c = decode_utf8(s, text_len, &i);
        if (c == 0xFFFD)
            continue;
        if (c == 0x2028 || c == 0x2029) { /* str.split() whitespace */
            FLUSH();
            continue;
        }
        utf8proc_category_t cat = utf8proc_category(c);
        if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF)
            continue;
        if (cat == UTF8PROC_CATEGORY_ZS) {
            FLUSH();
            continue;
        }
        if (is_cjk(c)) {
            FLUSH();
            w[n++] = c;
            ascii = 0;
            FLUSH();
            continue;
        }
        w[n++] = c;
        ascii = 0;
    }
    FLUSH();
#undef FLUSH
    return 0;
}

int mtb_tokenize(const mtb_vocab *vocab, const char *text, size_t text_len,
                 mtb_tokens *tokens, mtb_error *err)
{
    tokens->len = 0;
    return tokenize_append(vocab, text, text_len, tokens, err);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

void mtb_truncate_longest_first(size_t a_len, size_t b_len, size_t budget,
                                size_t *a_keep, size_t *b_keep)
{
    /* Closed form of: while (a + b > budget) { if (a > b) a--; else b--; } */
    if (a_len + b_len > budget) {
        size_t r = a_len + b_len - budget;
        if (a_len > b_len) {
            size_t d = a_len - b_len < r ? a_len - b_len : r;
            a_len -= d;
            r -= d;
        } else if (b_len > a_len) {
            size_t d = b_len - a_len < r ? b_len - a_len : r;
            b_len -= d;
            r -= d;
        }
        /* equal lengths now (or r == 0): b loses first on every tie */
        b_len -= (r + 1) / 2;
        a_len -= r / 2;
    }
    *a_keep = a_len;
    *b_keep = b_len;
}

int mtb_encode_ids_single(const mtb_special_ids *specials,
                          const int32_t *a, size_t a_len, size_t max_length,
                          int32_t *ids, int32_t *type_ids, size_t *out_len,
                          mtb_error *err)
{
    if (max_length < 2)
        return mtb_error_set(err, MTB_EINPUT,
                             "max_length %zu cannot hold [CLS] and [SEP]", max_length);
    size_t keep = a_len < max_length - 2 ? a_len : max_length - 2;
    size_t k = 0;
    ids[k++] = specials->cls;
    if (keep)
        memcpy(ids + k, a, keep * sizeof *ids);
    k += keep;
    ids[k++] = specials->sep;
    for (size_t j = 0; j < k; j++)
        type_ids[j] = 0;
    *out_len = k;
    return 0;
}

int mtb_encode_ids_pair(const mtb_special_ids *specials,
                        const int32_t *a, size_t a_len,
                        const int32_t *b, size_t b_len, size_t max_length,
                        int32_t *ids, int32_t *type_ids, size_t *out_len,
                        mtb_error *err)
{
    if (max_length < 3)
        return mtb_error_set(err, MTB_EINPUT,
                             "max_length %zu cannot hold [CLS] and two [SEP]", max_length);
    size_t ka, kb;
    mtb_truncate_longest_first(a_len, b_len, max_length - 3, &ka, &kb);
    size_t k = 0;
    ids[k++] = specials->cls;
    if (ka)
        memcpy(ids + k, a, ka * sizeof *ids);
    k += ka;
    ids[k++] = specials->sep;
    size_t first = k;
    if (kb)
        memcpy(ids + k, b, kb * sizeof *ids);
    k += kb;
    ids[k++] = specials->sep;
    for (size_t j = 0; j < k; j++)
        type_ids[j] = j < first ? 0 : 1;
    *out_len = k;
    return 0;
}

int mtb_encode_single(const mtb_vocab *vocab, const char *text, size_t text_len,
                      size_t max_length, mtb_tokens *work,
                      int32_t *ids, int32_t *type_ids, size_t *out_len,
                      mtb_error *err)
{
    int rc = mtb_tokenize(vocab, text, text_len, work, err);
    if (rc)
        return rc;
    return mtb_encode_ids_single(&vocab->specials, work->ids, work->len, max_length, ids,
                                 type_ids, out_len, err);
}

int mtb_encode_pair(const mtb_vocab *vocab,
                    const char *text_a, size_t a_len,
                    const char *text_b, size_t b_len,
                    size_t max_length, mtb_tokens *work,
                    int32_t *ids, int32_t *type_ids, size_t *out_len,
                    mtb_error *err)
{
    int rc = mtb_tokenize(vocab, text_a, a_len, work, err);
    if (rc)
        return rc;
    size_t na = work->len;
    rc = tokenize_append(vocab, text_b, b_len, work, err);
    if (rc)
        return rc;
    const int32_t *b = work->len > na ? work->ids + na : NULL;
    return mtb_encode_ids_pair(&vocab->specials, work->ids, na, b, work->len - na, max_length, ids, type_ids, out_len, err);
}
