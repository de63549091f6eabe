/* Scoring typed sentences with a trained multitask model: the sentiment of
 * one sentence, or the paraphrase probability, similarity and sentiments of
 * a pair.  This is what a front end's prompt runs, one input at a time.
 *
 * Threads: a scorer owns every buffer it writes (workspace, batches,
 * tokenizer scratch) and only reads the model, so it may run on a front-end
 * thread while a trainer trains the same model on its own thread.  The
 * caller must then hold mtb_trainer_read_lock() around each mtb_score() call,
 * so that no AdamW update is applied halfway through a forward pass.  One
 * scorer serves one thread at a time. */
#ifndef MTBERT_SCORE_H
#define MTBERT_SCORE_H

#include <stdbool.h>

#include "mtbert/error.h"
#include "mtbert/heads.h"
#include "mtbert/multitask.h"

typedef struct mtb_score_result {
    bool pair;                      /* two sentences were scored */
    float sst[2][MTB_SST_CLASSES];  /* class probabilities of a ([0]) and b ([1], pairs only) */
    int sst_label[2];               /* argmax of each row of sst ([1] pairs only) */
    float para_prob;                /* pairs only: probability that b paraphrases a */
    float sts_score;                /* pairs only: similarity in [0, 5] */
} mtb_score_result;

typedef struct mtb_scorer mtb_scorer;

/* A scorer for mt.  max_len bounds each sentence in tokens ([CLS] and [SEP]
 * included); a paraphrase pair, encoded as one sequence, gets 2 * max_len.
 * Both are clamped to the model's max_position; longer inputs are truncated
 * as in training.  MTB_EINPUT when max_len < 2, MTB_EFAIL when out of memory.
 * mt must outlive the scorer. */
int mtb_scorer_create(mtb_scorer **out, mtb_multitask *mt, int max_len, mtb_error *err);
void mtb_scorer_destroy(mtb_scorer *s);

/* Scores a (b NULL) or the pair (a, b), without dropout.  A single sentence
 * fills sst[0] and sst_label[0].  A pair fills everything: para_prob from
 * "[CLS] a [SEP] b [SEP]", sts_score = 5 relu(cos) of the two sentences
 * encoded separately, and each sentence's sentiment from those same separate
 * encodings.  The three sequences share one encoder pass, so a pair's sst[0]
 * equals scoring a alone within MTB_RESULT_RTOL (reproducibility.h), not bit
 * for bit.  Fails only when out of memory (MTB_EFAIL). */
int mtb_score(mtb_scorer *s, const char *a, const char *b, mtb_score_result *r, mtb_error *err);

/* false when any number in r is NaN or infinite: a model whose weights
 * overflowed gives no label, and front ends say so instead of printing one. */
bool mtb_score_finite(const mtb_score_result *r);

/* "very negative", "negative", "neutral", "positive", "very positive" for
 * classes 0..4; "unknown" for anything else. */
const char *mtb_sst_label_name(int c);

#endif
