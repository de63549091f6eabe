/* Unit tests for the WordPiece tokenizer (include/mtbert/tokenizer.h).
 *
 * Data: the bert-base-uncased vocab and the 63,729-line reference output of
 * BERT's original tokenizer live in the shared data directory, found as
 * $MTBERT_SHARED_DATA or else "$tu_srcdir/../../shared/data" ($tu_srcdir defaults
 * to "tests", so running from the project root works).  Tests that need
 * them are skipped, with a note on stderr, when they are absent; the tiny
 * self-made vocab and the error cases always run. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* mkstemp, unlink */
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mtbert/tokenizer.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* Parses space-separated ids ("-" or empty: none) into a growable array. */
static size_t parse_ids(const char *s, const char *end, int32_t **ids, size_t *cap)
{
    size_t n = 0;
    while (s < end) {
        while (s < end && *s == ' ')
            s++;
        if (s >= end || *s == '-')
            break;
        long v = 0;
        while (s < end && *s >= '0' && *s <= '9')
            v = v * 10 + (*s++ - '0');
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *ids = realloc(*ids, *cap * sizeof **ids);
            assert_non_null(*ids);
        }
        (*ids)[n++] = (int32_t)v;
    }
    return n;
}

/* Writes text to a new temporary file; returns its path in buf. */
static void write_temp(char *buf, size_t size, const char *text)
{
    tu_temp_file(buf, size, "mtb-vocab");
    tu_write_text(buf, text);
}

/* ------------------------------------------------------------------ */
/* Shared data: the real vocab and the reference file                  */
/* ------------------------------------------------------------------ */

typedef struct reference {
    size_t n;              /* lines */
    const char **text;     /* sentence of line i (points into buf) */
    size_t *text_len;
    size_t *off;           /* ids of line i: ids[off[i] .. off[i+1]) */
    int32_t *ids;
    char *buf;
} reference;

static mtb_vocab *g_vocab;       /* bert-base-uncased, or NULL if absent */
static char g_vocab_path[4096];
static reference g_ref;          /* n == 0 when absent */
static char g_ref_path[4096];

static int load_reference(void)
{
    size_t len;
    char *buf = tu_read_file(g_ref_path, &len);
    if (!buf)
        return 0;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    if (len && buf[len - 1] != '\n')
        lines++;
    reference r = {0};
    r.buf = buf;
    r.text = malloc(lines * sizeof *r.text);
    r.text_len = malloc(lines * sizeof *r.text_len);
    r.off = malloc((lines + 1) * sizeof *r.off);
    size_t cap = 0;
    char *p = buf, *end = buf + len;
    r.off[0] = 0;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        char *tab = memchr(p, '\t', (size_t)(stop - p));
        if (!tab) {
            fprintf(stderr, "%s:%zu: no TAB\n", g_ref_path, r.n + 1);
            return -1;
        }
        r.text[r.n] = p;
        r.text_len[r.n] = (size_t)(tab - p);
        int32_t *tmp = NULL;
        size_t tcap = 0;
        size_t k = parse_ids(tab + 1, stop, &tmp, &tcap);
        if (r.off[r.n] + k > cap) {
            while (cap < r.off[r.n] + k)
                cap = cap ? cap * 2 : 1 << 20;
            r.ids = realloc(r.ids, cap * sizeof *r.ids);
        }
        if (k)
            memcpy(r.ids + r.off[r.n], tmp, k * sizeof *tmp);
        free(tmp);
        r.off[r.n + 1] = r.off[r.n] + k;
        r.n++;
        p = nl ? nl + 1 : end;
    }
    g_ref = r;
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    tu_shared_path(g_vocab_path, sizeof g_vocab_path, "bert-base-uncased-vocab.txt");
    tu_shared_path(g_ref_path, sizeof g_ref_path, "tokenizer-reference.tsv");
    mtb_error err = {0};
    FILE *f = fopen(g_vocab_path, "rb");
    if (!f)
        return 0; /* shared data absent: the tests that need it skip */
    fclose(f);
    if (mtb_vocab_load(g_vocab_path, &g_vocab, &err)) {
        fprintf(stderr, "cannot load %s: %s\n", g_vocab_path, err.msg);
        return -1;
    }
    return load_reference() < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    mtb_vocab_free(g_vocab);
    free(g_ref.text);
    free(g_ref.text_len);
    free(g_ref.off);
    free(g_ref.ids);
    free(g_ref.buf);
    return 0;
}

static void need_vocab(void)
{
    if (!g_vocab) {
        fprintf(stderr, "skipping: %s not found (set MTBERT_SHARED_DATA to the shared data directory)\n",
                g_vocab_path);
        skip();
    }
}

/* Reports a mismatch: where the first differing id is and what differs. */
static void report(const char *where, size_t line, const char *text, size_t text_len,
                   const int32_t *exp, size_t ne, const int32_t *got, size_t ng)
{
    size_t k = 0;
    while (k < ne && k < ng && exp[k] == got[k])
        k++;
    fprintf(stderr, "%s:%zu: mismatch at id #%zu: expected %ld, got %ld (expected %zu ids, got %zu)\n",
            where, line, k, k < ne ? (long)exp[k] : -1L, k < ng ? (long)got[k] : -1L, ne, ng);
    fprintf(stderr, "    text: %.*s\n", (int)(text_len > 300 ? 300 : text_len), text);
}

/* ------------------------------------------------------------------ */
/* 1. Every line of the reference file                                 */
/* ------------------------------------------------------------------ */

static void test_reference(void **state)
{
    (void)state;
    need_vocab();
    if (g_ref.n == 0) {
        fprintf(stderr, "skipping: %s not found\n", g_ref_path);
        skip();
    }
    mtb_tokens t;
    mtb_tokens_init(&t);
    mtb_error err = {0};
    size_t bad = 0;
    double t0 = tu_now_s();
    for (size_t i = 0; i < g_ref.n; i++) {
        assert_int_equal(mtb_tokenize(g_vocab, g_ref.text[i], g_ref.text_len[i], &t, &err), 0);
        const int32_t *exp = g_ref.ids + g_ref.off[i];
        size_t ne = g_ref.off[i + 1] - g_ref.off[i];
        if (ne != t.len || (ne && memcmp(exp, t.ids, ne * sizeof *exp) != 0)) {
            if (++bad <= 20)
                report("tokenizer-reference.tsv", i + 1, g_ref.text[i], g_ref.text_len[i], exp,
                       ne, t.ids, t.len);
        }
    }
    double dt = tu_now_s() - t0;
    /* A second pass without comparing: the steady-state tokenizing speed. */
    t0 = tu_now_s();
    size_t bytes = 0, ids = 0;
    for (size_t i = 0; i < g_ref.n; i++) {
        mtb_tokenize(g_vocab, g_ref.text[i], g_ref.text_len[i], &t, &err);
        bytes += g_ref.text_len[i];
        ids += t.len;
    }
    double dt2 = tu_now_s() - t0;
    fprintf(stderr,
            "reference: %zu of %zu lines match (%zu mismatches); check pass %.3f s, "
            "tokenize-only pass %.3f s (%.1f MB/s, %zu ids)\n",
            g_ref.n - bad, g_ref.n, bad, dt, dt2, (double)bytes / 1e6 / (dt2 > 0 ? dt2 : 1e-9), ids);
    mtb_tokens_free(&t);
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* 2. Hand-written cases                                               */
/* ------------------------------------------------------------------ */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the escapes documented in tokenizer-cases.tsv; -1 on a bad one. */
static long unescape(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] != '\\') {
            out[o++] = s[i++];
            continue;
        }
        if (i + 1 >= len)
            return -1;
        char e = s[i + 1];
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (!digits) {
            const char *from = "\\tnr", *to = "\\\t\n\r";
            const char *hit = strchr(from, e);
            if (!hit || !e)
                return -1;
            out[o++] = to[hit - from];
            i += 2;
            continue;
        }
        if (i + 2 + (size_t)digits > len)
            return -1;
        unsigned long v = 0;
        for (int k = 0; k < digits; k++) {
            int h = hexval((unsigned char)s[i + 2 + k]);
            if (h < 0)
                return -1;
            v = v * 16 + (unsigned long)h;
        }
        i += 2 + (size_t)digits;
        if (e == 'x') {
            out[o++] = (char)v;
        } else if (v < 0x80) {
            out[o++] = (char)v;
        } else if (v < 0x800) {
            out[o++] = (char)(0xC0 | (v >> 6));
            out[o++] = (char)(0x80 | (v & 0x3F));
        } else if (v < 0x10000) {
            out[o++] = (char)(0xE0 | (v >> 12));
            out[o++] = (char)(0x80 | ((v >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (v & 0x3F));
        } else if (v < 0x110000) {
            out[o++] = (char)(0xF0 | (v >> 18));
            out[o++] = (char)(0x80 | ((v >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((v >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (v & 0x3F));
        } else {
            return -1;
        }
    }
    return (long)o;
}

static void test_cases(void **state)
{
    (void)state;
    need_vocab();
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer-cases.tsv", tu_srcdir());
    size_t len;
    char *buf = tu_read_file(path, &len);
    if (!buf)
        fail_msg("cannot read %s", path);
    mtb_tokens t;
    mtb_tokens_init(&t);
    mtb_error err = {0};
    int32_t *exp = NULL;
    size_t cap = 0, cases = 0, bad = 0, lineno = 0;
    char *text = malloc(len + 1);
    assert_non_null(text);
    for (char *p = buf, *end = buf + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        char *next = nl ? nl + 1 : end;
        lineno++;
        if (stop == p || *p == '#') {
            p = next;
            continue;
        }
        char *tab = memchr(p, '\t', (size_t)(stop - p));
        if (!tab)
            fail_msg("%s:%zu: no TAB", path, lineno);
        long n = unescape(p, (size_t)(tab - p), text);
        if (n < 0)
            fail_msg("%s:%zu: bad escape", path, lineno);
        size_t ne = parse_ids(tab + 1, stop, &exp, &cap);
        assert_int_equal(mtb_tokenize(g_vocab, text, (size_t)n, &t, &err), 0);
        cases++;
        if (ne != t.len || (ne && memcmp(exp, t.ids, ne * sizeof *exp) != 0)) {
            bad++;
            report(path, lineno, p, (size_t)(tab - p), exp, ne, t.ids, t.len);
        }
        p = next;
    }
    fprintf(stderr, "hand-written cases: %zu of %zu match\n", cases - bad, cases);
    free(text);
    free(exp);
    free(buf);
    mtb_tokens_free(&t);
    assert_true(cases >= 20);
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* 3. Self-contained tiny vocab: tokenize, encode, truncate             */
/* ------------------------------------------------------------------ */

/* CRLF on some lines and no final newline, both of which must load. */
static const char tiny_vocab[] = "[PAD]\n[UNK]\n[CLS]\r\n[SEP]\n[MASK]\n"
                                 "the\ncat\n##s\nsat\non\n"      /* 5..9 */
                                 "mat\n.\nun\n##aff\n##able\n"   /* 10..14 */
                                 "a\n##b\n,\ndog\ns\r\n"         /* 15..19 */
                                 "##a\n##";                      /* 20, 21 */

static void expect_ids(const mtb_vocab *v, mtb_tokens *t, const char *text,
                       const int32_t *exp, size_t n)
{
    mtb_error err = {0};
    assert_int_equal(mtb_tokenize(v, text, strlen(text), t, &err), 0);
    if (t->len != n || (n && memcmp(t->ids, exp, n * sizeof *exp) != 0)) {
        report("tiny", 0, text, strlen(text), exp, n, t->ids, t->len);
        fail();
    }
}

#define EXPECT(text, ...)                                                        \
    do {                                                                         \
        static const int32_t e_[] = {__VA_ARGS__};                               \
        expect_ids(v, &t, text, e_, sizeof e_ / sizeof e_[0]);                   \
    } while (0)

static void expect_enc(const int32_t *ids, const int32_t *types, size_t len,
                       const int32_t *e_ids, const int32_t *e_types, size_t e_len)
{
    assert_int_equal(len, e_len);
    for (size_t k = 0; k < len; k++) {
        assert_int_equal(ids[k], e_ids[k]);
        assert_int_equal(types[k], e_types[k]);
    }
}

static mtb_vocab *load_tiny_vocab(void)
{
    char path[4096];
    write_temp(path, sizeof path, tiny_vocab);
    mtb_vocab *v = NULL;
    mtb_error err = {0};
    int rc = mtb_vocab_load(path, &v, &err);
    unlink(path);
    if (rc)
        fail_msg("loading the tiny vocab: %s", err.msg);
    return v;
}

/* The tiny vocab's size, special ids and lookups both ways. */
static void tiny_lookups(const mtb_vocab *v)
{
    assert_int_equal(mtb_vocab_size(v), 22);
    const mtb_special_ids *sp = mtb_vocab_specials(v);
    assert_int_equal(sp->pad, 0);
    assert_int_equal(sp->unk, 1);
    assert_int_equal(sp->cls, 2);
    assert_int_equal(sp->sep, 3);
    assert_int_equal(sp->mask, 4);
    assert_int_equal(mtb_vocab_id(v, "##s", 3), 7);
    assert_int_equal(mtb_vocab_id(v, "s", 1), 19);
    assert_int_equal(mtb_vocab_id(v, "##", 2), 21);
    assert_int_equal(mtb_vocab_id(v, "##a", 3), 20);
    assert_int_equal(mtb_vocab_id(v, "cats", 3), 6); /* explicit length */
    assert_int_equal(mtb_vocab_id(v, "dogs", 4), -1);
    assert_int_equal(mtb_vocab_id(v, "s\r", 2), -1);
    assert_string_equal(mtb_vocab_token(v, 7), "##s");
    assert_string_equal(mtb_vocab_token(v, 2), "[CLS]");
    assert_string_equal(mtb_vocab_token(v, 19), "s");
    assert_string_equal(mtb_vocab_token(v, 21), "##");
    assert_null(mtb_vocab_token(v, -1));
    assert_null(mtb_vocab_token(v, 22));
}

/* Words, pieces, [UNK], punctuation and what normalisation drops or splits. */
static void tiny_tokenize(const mtb_vocab *v)
{
    mtb_error err = {0};
    mtb_tokens t;
    mtb_tokens_init(&t);
    EXPECT("The cats sat on the mat.", 5, 6, 7, 8, 9, 5, 10, 11);
    EXPECT("unaffable, unable", 12, 13, 14, 17, 12, 14);
    EXPECT("dogs DOGS", 18, 7, 18, 7);
    EXPECT("cow", 1);      /* unknown word */
    EXPECT("catz the", 1, 5); /* no full cover: one [UNK] for the word */
    EXPECT("aab", 15, 20, 16);
    EXPECT("abc", 1);      /* "a", "##b" match, then "##c" fails: one [UNK] */
    EXPECT("the abc cat", 5, 1, 6);
    EXPECT("s ss", 19, 19, 7); /* "s" whole-word vs "##s" continuation */
    EXPECT("##", 1, 1);    /* '#' is punctuation and not in this vocab */
    expect_ids(v, &t, "", NULL, 0);
    t.len = 99;
    assert_int_equal(mtb_tokenize(v, NULL, 0, &t, &err), 0);
    assert_int_equal(t.len, 0);
    expect_ids(v, &t, " \t\r\n \x01", NULL, 0);
    EXPECT("the\xff cat\xc3", 5, 6);             /* invalid UTF-8 dropped */
    EXPECT("\xe2\x82the \xed\xa0\x80s", 5, 19);  /* truncated / surrogate */
    EXPECT("th\x01" "e\x7f", 5);                 /* controls dropped, not split */
    EXPECT("Th\xc3\xa9", 5);                     /* accent stripped */
    EXPECT("s\xe2\x80\xa8s", 19, 19);            /* U+2028 splits */
    EXPECT("mat\xe3\x80\x82", 10, 1);            /* U+3002 ideographic full stop: P* */
    mtb_tokens_free(&t);
}

/* An encoding case: the texts (b NULL: a single text), max_length, and the
 * ids and token types wanted. */
typedef struct encode_case {
    const char *a, *b;
    size_t max_length, n;
    int32_t ids[12], types[12];
} encode_case;

static const encode_case ENCODE_CASES[] = {
    /* single: [CLS] a [SEP], cut to max_length */
    {"The cat sat.", NULL, 16, 6, {2, 5, 6, 8, 11, 3}, {0, 0, 0, 0, 0, 0}},
    {"The cat sat.", NULL, 4, 4, {2, 5, 6, 3}, {0, 0, 0, 0}},
    {"The cat sat.", NULL, 2, 2, {2, 3}, {0, 0}},
    /* pair: [CLS] a [SEP] b [SEP], types 0 ... 0 1 ... 1 */
    {"the cat", "the dog sat.", 32, 9, {2, 5, 6, 3, 5, 18, 8, 11, 3}, {0, 0, 0, 0, 1, 1, 1, 1, 1}},
    /* a (5 ids) longer than b (2 ids): a alone loses 2 to fit 8 */
    {"the cat sat on the", "a dog", 8, 8, {2, 5, 6, 8, 3, 15, 18, 3}, {0, 0, 0, 0, 0, 1, 1, 1}},
    /* b longer: b loses down to a's length, then b, a, b, ... */
    {"a dog", "the cat sat on the mat.", 8, 8, {2, 15, 18, 3, 5, 6, 8, 3},
     {0, 0, 0, 0, 1, 1, 1, 1}},
    /* equal lengths (3 and 3) into budget 3: b loses 2, a loses 1 */
    {"the cat sat", "on the mat", 6, 6, {2, 5, 6, 3, 9, 3}, {0, 0, 0, 0, 1, 1}},
    /* empty second text */
    {"cat", "", 8, 4, {2, 6, 3, 3}, {0, 0, 0, 1}},
};

static void tiny_encode(const mtb_vocab *v)
{
    mtb_error err = {0};
    mtb_tokens t;
    mtb_tokens_init(&t);
    int32_t ids[32], types[32];
    size_t len = 0;
    for (size_t i = 0; i < sizeof ENCODE_CASES / sizeof *ENCODE_CASES; i++) {
        const encode_case *c = &ENCODE_CASES[i];
        if (c->b)
            assert_int_equal(mtb_encode_pair(v, c->a, strlen(c->a), c->b, strlen(c->b),
                                             c->max_length, &t, ids, types, &len, &err), 0);
        else
            assert_int_equal(mtb_encode_single(v, c->a, strlen(c->a), c->max_length, &t, ids,
                                               types, &len, &err), 0);
        expect_enc(ids, types, len, c->ids, c->types, c->n);
    }
    assert_int_equal(mtb_encode_single(v, "", 0, 6, &t, ids, types, &len, &err), 0);
    assert_int_equal(len, 2);
    assert_int_equal(mtb_encode_single(v, "the", 3, 1, &t, ids, types, &len, &err), MTB_EINPUT);
    assert_non_null(strstr(err.msg, "max_length"));
    assert_int_equal(mtb_encode_pair(v, "a", 1, "b", 1, 2, &t, ids, types, &len, &err),
                     MTB_EINPUT);

    /* pre-tokenized entry points, including NULL with zero length */
    {
        const mtb_special_ids *sp = mtb_vocab_specials(v);
        static const int32_t a[] = {5, 6, 7};
        assert_int_equal(mtb_encode_ids_pair(sp, NULL, 0, a, 3, 4, ids, types, &len, &err), 0);
        static const int32_t ei[] = {2, 3, 5, 3}, et[] = {0, 0, 1, 1};
        expect_enc(ids, types, len, ei, et, 4);
        assert_int_equal(mtb_encode_ids_single(sp, NULL, 0, 3, ids, types, &len, &err), 0);
        assert_int_equal(len, 2);
    }
    mtb_tokens_free(&t);
}

/* The closed form of mtb_truncate_longest_first agrees with the
 * one-token-at-a-time definition. */
static void truncation_closed_form(void)
{
    for (size_t a = 0; a <= 12; a++)
        for (size_t b = 0; b <= 12; b++)
            for (size_t budget = 0; budget <= 26; budget++) {
                size_t ea = a, eb = b, ka, kb;
                while (ea + eb > budget) {
                    if (ea > eb)
                        ea--;
                    else
                        eb--;
                }
                mtb_truncate_longest_first(a, b, budget, &ka, &kb);
                assert_int_equal(ka, ea);
                assert_int_equal(kb, eb);
            }
}

/* The 100-code-point limit counts code points, not bytes: 100 x U+00E1
 * (200 bytes) is split as a ##a ##a ..., 101 of them are one [UNK]. */
static void tiny_long_word(const mtb_vocab *v)
{
    mtb_error err = {0};
    mtb_tokens t;
    mtb_tokens_init(&t);
    {
        char word[202];
        for (int k = 0; k < 101; k++)
            memcpy(word + 2 * k, "\xc3\xa1", 2);
        assert_int_equal(mtb_tokenize(v, word, 200, &t, &err), 0);
        assert_int_equal(t.len, 100);
        assert_int_equal(t.ids[0], 15);
        for (size_t k = 1; k < 100; k++)
            assert_int_equal(t.ids[k], 20);
        assert_int_equal(mtb_tokenize(v, word, 202, &t, &err), 0);
        assert_int_equal(t.len, 1);
        assert_int_equal(t.ids[0], 1);
    }
    mtb_tokens_free(&t);
}

static void test_tiny_vocab(void **state)
{
    (void)state;
    mtb_vocab *v = load_tiny_vocab();
    tiny_lookups(v);
    tiny_tokenize(v);
    tiny_encode(v);
    truncation_closed_form();
    tiny_long_word(v);
    mtb_vocab_free(v);
}

/* ------------------------------------------------------------------ */
/* 4. Loading errors                                                   */
/* ------------------------------------------------------------------ */

static void expect_load_error(const char *text, int code, const char *needle, int with_line)
{
    char path[4096];
    write_temp(path, sizeof path, text);
    static char dummy;
    mtb_vocab *v = (mtb_vocab *)(void *)&dummy; /* must be reset to NULL on failure */
    mtb_error err = {0};
    int rc = mtb_vocab_load(path, &v, &err);
    unlink(path);
    assert_int_equal(rc, code);
    assert_int_equal(err.code, code);
    assert_null(v);
    char want[4200];
    if (with_line)
        snprintf(want, sizeof want, "%s:%d:", path, with_line);
    else
        snprintf(want, sizeof want, "%s", path);
    if (!strstr(err.msg, want) || !strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s' or '%s'", err.msg, want, needle);
}

static void test_errors(void **state)
{
    (void)state;
    mtb_vocab *v = NULL;
    mtb_error err = {0};
    const char *missing = "/nonexistent-mtbert-dir/vocab.txt";
    assert_int_equal(mtb_vocab_load(missing, &v, &err), MTB_EINPUT);
    assert_null(v);
    assert_non_null(strstr(err.msg, missing));

    expect_load_error("[PAD]\n[UNK]\n[CLS]\n[SEP]\nfoo\nbar\nfoo\nbaz\n", MTB_EINPUT,
                      "duplicate token 'foo'", 7);
    expect_load_error("[PAD]\n[UNK]\n[CLS]\n[SEP]\n##x\r\n##x", MTB_EINPUT, "'##x'", 6);
    expect_load_error("[PAD]\n[CLS]\n[SEP]\nfoo\n", MTB_EINPUT, "[UNK]", 0);
    expect_load_error("[UNK]\n[CLS]\n[SEP]\n", MTB_EINPUT, "[PAD]", 0);
    expect_load_error("", MTB_EINPUT, "empty", 0);
    expect_load_error("[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n", MTB_EINPUT, "empty token", 3);

    /* a vocab without [MASK] is fine; its id reads -1 */
    char path[4096];
    write_temp(path, sizeof path, "\xef\xbb\xbf[PAD]\n[UNK]\n[CLS]\n[SEP]");
    int rc = mtb_vocab_load(path, &v, &err);
    unlink(path);
    assert_int_equal(rc, 0);
    assert_int_equal(mtb_vocab_specials(v)->pad, 0); /* BOM skipped */
    assert_int_equal(mtb_vocab_specials(v)->mask, -1);
    assert_int_equal(mtb_vocab_size(v), 4);
    mtb_vocab_free(v);
    mtb_vocab_free(NULL);
}

/* ------------------------------------------------------------------ */
/* 5. Concurrent tokenization with one shared vocab                    */
/* ------------------------------------------------------------------ */

enum { THREADS = 4 };

typedef struct worker {
    size_t first, step, bad;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    mtb_tokens t;
    mtb_tokens_init(&t);
    for (size_t i = w->first; i < g_ref.n; i += w->step) {
        if (mtb_tokenize(g_vocab, g_ref.text[i], g_ref.text_len[i], &t, NULL)) {
            w->bad++;
            continue;
        }
        size_t ne = g_ref.off[i + 1] - g_ref.off[i];
        if (ne != t.len || (ne && memcmp(g_ref.ids + g_ref.off[i], t.ids, ne * sizeof *t.ids) != 0))
            w->bad++;
    }
    mtb_tokens_free(&t);
    return NULL;
}

/* A word of tens of thousands of combining marks (a hostile line in a
 * training file) tokenizes in linear time.  Canonical ordering used to be an
 * insertion sort: 80,000 marks took seven seconds, 200,000 about forty, and
 * the alarm fails the test well before that (linear: milliseconds,
 * sanitizers included). */
static void test_long_mark_runs(void **state)
{
    (void)state;
    mtb_vocab *v = load_tiny_vocab();
    mtb_error err = {0};
    enum { MARKS = 100000 };
    /* "s" + U+0301 (class 230) x MARKS + U+0323 (class 220) x MARKS + " cats" */
    size_t n = 0;
    char *text = malloc(1 + 4 * MARKS + 6);
    text[n++] = 's';
    for (int i = 0; i < MARKS; i++) {
        text[n++] = (char)0xcc;
        text[n++] = (char)0x81;
    }
    for (int i = 0; i < MARKS; i++) {
        text[n++] = (char)0xcc;
        text[n++] = (char)0xa3;
    }
    memcpy(text + n, " cats", 5);
    n += 5;
    mtb_tokens t, want;
    mtb_tokens_init(&t);
    mtb_tokens_init(&want);
    alarm(10);
    assert_int_equal(mtb_tokenize(v, text, n, &t, &err), 0);
    alarm(0);
    /* The marks are stripped after ordering: what is left is "s cats". */
    assert_int_equal(mtb_tokenize(v, "s cats", 6, &want, &err), 0);
    assert_int_equal(t.len, want.len);
    assert_memory_equal(t.ids, want.ids, want.len * sizeof *want.ids);
    mtb_tokens_free(&t);
    mtb_tokens_free(&want);
    free(text);
    mtb_vocab_free(v);
}

static void test_threads(void **state)
{
    (void)state;
    need_vocab();
    if (g_ref.n == 0) {
        fprintf(stderr, "skipping: %s not found\n", g_ref_path);
        skip();
    }
    pthread_t th[THREADS];
    worker w[THREADS];
    for (size_t k = 0; k < THREADS; k++) {
        w[k] = (worker){k, THREADS, 0};
        assert_int_equal(pthread_create(&th[k], NULL, work, &w[k]), 0);
    }
    size_t bad = 0;
    for (size_t k = 0; k < THREADS; k++) {
        pthread_join(th[k], NULL);
        bad += w[k].bad;
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_tiny_vocab),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_long_mark_runs),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
