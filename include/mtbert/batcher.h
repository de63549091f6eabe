/* Tokenized task data and the order in which training visits it.
 *
 * A dataset is tokenized once (mtb_encoded): every sequence's ids live in
 * one array.  Batches are cut from a stream of seeded permutations
 * (mtb_order): when a permutation is used up the next is drawn, so a task
 * smaller than the largest one simply cycles. */
#ifndef MTBERT_BATCHER_H
#define MTBERT_BATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "mtbert/data.h"
#include "mtbert/multitask.h"
#include "mtbert/rng.h"
#include "mtbert/tokenizer.h"

typedef struct mtb_encoded {
    mtb_task task;
    size_t n;
    int32_t *tokens;    /* every sequence, back to back */
    size_t *off_a, *off_b; /* (n) start of sequence a / b in tokens (b: similarity only) */
    int *len_a, *len_b;    /* (n) */
    int *type1_from;    /* (n) paraphrase: first position with token type 1 */
    float *label;       /* (n) NAN when unlabelled */
    int max_len;        /* longest sequence */
    size_t truncated;   /* examples that were cut to fit */
} mtb_encoded;

/* Tokenizes ds: SST as [CLS] a [SEP], paraphrase as [CLS] a [SEP] b [SEP]
 * (at most pair_max_len tokens), similarity as two [CLS] x [SEP] sequences
 * (at most max_len tokens each). */
int mtb_encode_dataset(mtb_encoded *e, const mtb_dataset *ds, const mtb_vocab *vocab,
                       int max_len, int pair_max_len, mtb_error *err);
void mtb_encoded_free(mtb_encoded *e);

/* A task batch with its own buffers for up to max_B rows of max_T tokens. */
int mtb_task_batch_alloc(mtb_task_batch *tb, mtb_task task, int max_B, int max_T);
void mtb_task_batch_free(mtb_task_batch *tb);

/* Fills tb with the examples idx[0..B), padded with pad_id to the longest. */
void mtb_encoded_batch(const mtb_encoded *e, const uint32_t *idx, int B, int pad_id,
                       mtb_task_batch *tb);

typedef struct mtb_order {
    uint32_t n;
    uint32_t *perm;  /* (n) current permutation */
    uint32_t cursor; /* next position in perm */
    uint64_t passes; /* permutations completed */
    mtb_rng rng;
} mtb_order;

int mtb_order_init(mtb_order *o, uint32_t n, uint64_t seed);
void mtb_order_free(mtb_order *o);
/* Next B indices; draws a fresh permutation whenever the current one ends. */
void mtb_order_next(mtb_order *o, uint32_t *idx, int B);

#endif
