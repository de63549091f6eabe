/* BERT uncased WordPiece tokenizer.
 *
 * Reproduces Google's original BERT `tokenization.py` FullTokenizer with
 * do_lower_case=True (BasicTokenizer followed by WordPiece), id for id, so a
 * checkpoint trained with the Python pipeline sees exactly the inputs it was
 * trained on.  The pipeline, per input text:
 *
 *   1. decode UTF-8; drop U+0000, U+FFFD and control characters (general
 *      category Cc or Cf, except \t \n \r); map \t \n \r and category Zs to
 *      a space.  Other C* categories (private use, unassigned) are KEPT, as
 *      in the original (HF's port drops them; the reference data keeps them).
 *   2. put spaces around CJK ideographs (the original's code point ranges);
 *   3. split on whitespace (also U+2028/U+2029, which Python's str.split()
 *      treats as whitespace);
 *   4. lower-case each word with Python str.lower() semantics: full mapping
 *      (U+0130 becomes "i" + U+0307) and the context-dependent final sigma
 *      (a word-final capital sigma becomes U+03C2, not U+03C3);
 *   5. NFD, then drop nonspacing marks (category Mn): strips accents;
 *   6. split each punctuation character (ASCII 33-47, 58-64, 91-96, 123-126
 *      and every Unicode P* category) into its own word;
 *   7. WordPiece: greedy longest-match-first with "##" continuation pieces;
 *      a word longer than MTB_WORDPIECE_MAX_CHARS code points, or one that
 *      cannot be covered completely, becomes a single [UNK].
 *
 * Invalid UTF-8 never fails a call: each ill-formed piece (the maximal
 * subpart, the same unit Python's decoder reports) is read as U+FFFD, which
 * step 1 drops, so the result equals tokenizing Python's
 * bytes.decode("utf-8", "ignore").
 *
 * Character properties come from utf8proc (Unicode 15 in 2.8); code points
 * assigned after the Unicode version of the Python that made a reference
 * are the only place results can differ from it.
 *
 * Thread safety: a loaded mtb_vocab is never modified, so any number of
 * threads may tokenize with the same vocab at once, each with its own
 * mtb_tokens work buffer. */
#ifndef MTBERT_TOKENIZER_H
#define MTBERT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "mtbert/error.h"

/* Words longer than this many code points (after lower-casing and accent
 * stripping) become [UNK], as max_input_chars_per_word in the original. */
#define MTB_WORDPIECE_MAX_CHARS 100

/* Token string <-> id map loaded from a vocab.txt.  Opaque and read-only
 * after loading (that is what makes sharing it across threads safe). */
typedef struct mtb_vocab mtb_vocab;

/* Ids of the special tokens, looked up by name when the vocab is loaded so
 * that nothing hard-codes bert-base-uncased's 0/100/101/102/103. */
typedef struct mtb_special_ids {
    int32_t pad;  /* [PAD] */
    int32_t unk;  /* [UNK] */
    int32_t cls;  /* [CLS] */
    int32_t sep;  /* [SEP] */
    int32_t mask; /* [MASK], or -1 when the vocab has none (fine-tuning needs none) */
} mtb_special_ids;

/* Loads a vocab.txt: one token per line, id = 0-based line number.  A
 * trailing "\r" on a line, a missing final newline and a leading UTF-8 BOM
 * are tolerated.  MTB_EINPUT with "path:line: ..." for an empty file, an
 * empty line, a NUL byte, a duplicate token, or (naming the path) a missing
 * [PAD]/[UNK]/[CLS]/[SEP]; MTB_EINPUT also when it cannot be opened (a bad path
 * is bad input); MTB_EFAIL for read errors and out of memory. */
int mtb_vocab_load(const char *path, mtb_vocab **out, mtb_error *err);

/* Frees a vocab from mtb_vocab_load; NULL is fine. */
void mtb_vocab_free(mtb_vocab *vocab);

/* Number of tokens (= the model's word-embedding rows it must match). */
int32_t mtb_vocab_size(const mtb_vocab *vocab);

/* Id of the token spelled by the len bytes at token ("##" prefix included
 * for continuation pieces), or -1 when it is not in the vocab. */
int32_t mtb_vocab_id(const mtb_vocab *vocab, const char *token, size_t len);

/* NUL-terminated spelling of id, or NULL when id is out of range.  The
 * string lives as long as the vocab; used for debugging and the CLI. */
const char *mtb_vocab_token(const mtb_vocab *vocab, int32_t id);

/* The special-token ids found at load time. */
const mtb_special_ids *mtb_vocab_specials(const mtb_vocab *vocab);

/* Per-thread output and scratch space.  Buffers grow to the largest input
 * seen and are then reused, so tokenizing in a loop allocates nothing once
 * warmed up.  Only ids and len are for the caller to read. */
typedef struct mtb_tokens {
    int32_t *ids; /* ids of the last mtb_tokenize call (no [CLS]/[SEP]) */
    size_t len;   /* number of ids */
    /* private scratch, managed by the tokenizer */
    size_t cap;
    int32_t *word;
    size_t word_cap;
    int32_t *tmp;
    size_t tmp_cap;
} mtb_tokens;

/* Prepares an empty work buffer (no allocation). */
void mtb_tokens_init(mtb_tokens *tokens);

/* Releases a work buffer's memory and leaves it empty, ready for reuse. */
void mtb_tokens_free(mtb_tokens *tokens);

/* Tokenizes the text_len bytes at text into tokens->ids / tokens->len,
 * without special tokens.  text need not be NUL-terminated and may be NULL
 * when text_len is 0.  Fails only with MTB_EFAIL (out of memory). */
int mtb_tokenize(const mtb_vocab *vocab, const char *text, size_t text_len,
                 mtb_tokens *tokens, mtb_error *err);

/* Builds "[CLS] a [SEP]" from already-tokenized ids, truncating a to fit
 * max_length (which counts the special tokens; must be >= 2).  Writes
 * *out_len <= max_length entries to ids and type_ids (all 0) and nothing
 * past them: padding is the caller's choice (pad with specials->pad).  Kept
 * separate from the text entry points so that pre-tokenized datasets can be
 * re-encoded at another max_length without tokenizing again. */
int mtb_encode_ids_single(const mtb_special_ids *specials,
                          const int32_t *a, size_t a_len, size_t max_length,
                          int32_t *ids, int32_t *type_ids, size_t *out_len,
                          mtb_error *err);

/* Builds "[CLS] a [SEP] b [SEP]" (max_length >= 3).  Type ids are 0 for
 * [CLS], a and the first [SEP]; 1 for b and the final [SEP].  Truncation
 * is HF's "longest_first": while too long, drop the last token of the
 * longer of a and b, of b when they are equally long. */
int mtb_encode_ids_pair(const mtb_special_ids *specials,
                        const int32_t *a, size_t a_len,
                        const int32_t *b, size_t b_len, size_t max_length,
                        int32_t *ids, int32_t *type_ids, size_t *out_len,
                        mtb_error *err);

/* How many tokens of a and b "longest_first" keeps when at most budget
 * tokens fit; exposed so callers can size or report truncation. */
void mtb_truncate_longest_first(size_t a_len, size_t b_len, size_t budget,
                                size_t *a_keep, size_t *b_keep);

/* Tokenize text and encode it as a single sequence (see
 * mtb_encode_ids_single); ids and type_ids must hold max_length entries.
 * work is the caller's per-thread scratch; its ids are clobbered. */
int mtb_encode_single(const mtb_vocab *vocab, const char *text, size_t text_len,
                      size_t max_length, mtb_tokens *work,
                      int32_t *ids, int32_t *type_ids, size_t *out_len,
                      mtb_error *err);

/* Tokenize two texts and encode them as a pair (see mtb_encode_ids_pair). */
int mtb_encode_pair(const mtb_vocab *vocab,
                    const char *text_a, size_t a_len,
                    const char *text_b, size_t b_len,
                    size_t max_length, mtb_tokens *work,
                    int32_t *ids, int32_t *type_ids, size_t *out_len,
                    mtb_error *err);

#endif
