/* Sentence encodings from the encoder's output: the final hidden state of
 * [CLS], the mean of the final hidden states over the real tokens, or the
 * tanh pooler output. */
#ifndef MTBERT_SENTENCE_H
#define MTBERT_SENTENCE_H

#include "mtbert/bert.h"

typedef enum mtb_pooling {
    MTB_POOL_CLS,
    MTB_POOL_MEAN,
    MTB_POOL_POOLER,
} mtb_pooling;

/* Parses "cls", "mean" or "pooler"; returns -1 for anything else. */
int mtb_pooling_parse(const char *name);
const char *mtb_pooling_name(mtb_pooling pooling);

/* out (B, H) = the encoding of each row of the last forward pass in a. */
void mtb_sentence_encode(const mtb_bert_acts *a, int hidden_size, mtb_pooling pooling,
                         float *out);

/* Turns d(encoding) (B, H) into the upstream gradient mtb_bert_backward
 * takes: dhidden (N, H), packed as acts->hidden, for cls and mean
 * (*use_hidden = 1), dpooled (B, H) for pooler (*use_hidden = 0).  The other buffer is left untouched. */
void mtb_sentence_backward(const mtb_bert_acts *a, int hidden_size, mtb_pooling pooling,
                           const float *dencoding, float *dhidden, float *dpooled,
                           int *use_hidden);

#endif
