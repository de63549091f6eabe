/* Scoring typed sentences: one input at a time.
 *
 * A pair is one encoder pass over three packed sequences (a, b, and the
 * pair as "[CLS] a [SEP] b [SEP]"): the weights are read once instead of
 * three times, which is most of the cost of so few tokens.  Packing adds no
 * padding, so a sentence's result inside a pair differs from scoring it
 * alone only by the rounding of differently shaped products (within
 * MTB_RESULT_RTOL). */
#include "mtbert/score.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mtbert/batcher.h"
#include "mtbert/metrics.h"
#include "mtbert/tokenizer.h"

struct mtb_scorer {
    mtb_multitask *mt;
    int len, pair_len; /* token limits, already clamped to max_position */
    mtb_bert_acts acts; /* inference, up to 3 sequences of pair_len tokens */
    mtb_head_ws head;
    mtb_batch batch;    /* (3, pair_len): a, b, the pair */
    float *enc;         /* (3, H) their encodings */
    mtb_tokens work;
    int32_t *ids, *types; /* (pair_len) the tokenizer's output before it is copied to a batch */
};

const char *mtb_sst_label_name(int c)
{
    static const char *const names[MTB_SST_CLASSES] = {"very negative", "negative", "neutral",
                                                       "positive", "very positive"};
    return c >= 0 && c < MTB_SST_CLASSES ? names[c] : "unknown";
}

bool mtb_score_finite(const mtb_score_result *r)
{
    const int n = r->pair ? 2 : 1;
    for (int k = 0; k < n; k++)
        for (int c = 0; c < MTB_SST_CLASSES; c++)
            if (!isfinite(r->sst[k][c]))
                return false;
    return !r->pair || (isfinite(r->para_prob) && isfinite(r->sts_score));
}

int mtb_scorer_create(mtb_scorer **out, mtb_multitask *mt, int max_len, mtb_error *err)
{
    *out = NULL;
    if (max_len < 2)
        return mtb_error_set(err, MTB_EINPUT, "max length %d is too short: a sentence needs "
                             "at least 2 tokens ([CLS] and [SEP])", max_len);
    const int max_pos = mt->bert.cfg.max_position;
    mtb_scorer *s = calloc(1, sizeof *s);
    if (!s)
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    s->mt = mt;
    s->len = max_len < max_pos ? max_len : max_pos;
    /* 2 * max_len cannot overflow a long; the clamp brings it back into int. */
    long pair = 2L * max_len;
    s->pair_len = pair < max_pos ? (int)pair : max_pos;
    mtb_tokens_init(&s->work);
    int rc = mtb_bert_acts_init(&s->acts, &mt->bert.cfg, 3, s->pair_len, false, err);
    if (!rc) {
        const size_t rows = 3 * (size_t)s->pair_len;
        s->ids = malloc(sizeof(int32_t) * (size_t)s->pair_len);
        s->types = malloc(sizeof(int32_t) * (size_t)s->pair_len);
        s->batch.ids = calloc(rows, sizeof(int));
        s->batch.types = calloc(rows, sizeof(int));
        s->batch.lengths = calloc(3, sizeof(int));
        s->enc = calloc(3 * (size_t)mt->bert.cfg.hidden_size, sizeof(float));
        if (!s->ids || !s->types || !s->batch.ids || !s->batch.types || !s->batch.lengths ||
            !s->enc || mtb_head_ws_init(&s->head, 1, mt->bert.cfg.hidden_size))
            rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
    }
    if (rc) {
        mtb_scorer_destroy(s);
        return rc;
    }
    *out = s;
    return MTB_OK;
}

void mtb_scorer_destroy(mtb_scorer *s)
{
    if (!s)
        return;
    /* Safe after a failed create too: every part is either built or still
     * zeroed by calloc (the init functions clean up after themselves). */
    mtb_bert_acts_free(&s->acts);
    mtb_head_ws_free(&s->head);
    free(s->batch.ids);
    free(s->batch.types);
    free(s->batch.lengths);
    free(s->enc);
    mtb_tokens_free(&s->work);
    free(s->ids);
    free(s->types);
    free(s);
}

/* Appends the tokenizer's n tokens as the next sequence of the batch (its
 * arrays are int, the tokenizer's int32_t: not the same type everywhere). */
static void append(mtb_scorer *s, size_t n)
{
    mtb_batch *b = &s->batch;
    const size_t row = (size_t)b->B * (size_t)s->pair_len;
    for (size_t i = 0; i < n; i++) {
        b->ids[row + i] = s->ids[i];
        b->types[row + i] = s->types[i];
    }
    b->lengths[b->B++] = (int)n;
}

static int append_single(mtb_scorer *s, const char *text, mtb_error *err)
{
    size_t n;
    int rc = mtb_encode_single(s->mt->vocab, text, strlen(text), (size_t)s->len, &s->work,
                               s->ids, s->types, &n, err);
    if (!rc)
        append(s, n);
    return rc;
}

/* The sentiment head on encoding k of the last pass. */
static void sentiment_of(mtb_scorer *s, int k, float *probs, int *label)
{
    const int H = s->mt->bert.cfg.hidden_size;
    mtb_sentiment_forward(&s->head, &s->mt->heads, s->enc + (size_t)k * H, NULL, 1, 0.0f, NULL);
    mtb_sentiment_probs(&s->head, probs);
    *label = mtb_argmax(probs, MTB_SST_CLASSES);
}

int mtb_score(mtb_scorer *s, const char *a, const char *b, mtb_score_result *r, mtb_error *err)
{
    memset(r, 0, sizeof *r);
    r->pair = b != NULL;
    mtb_multitask *mt = s->mt;
    const int H = mt->bert.cfg.hidden_size;
    s->batch.B = 0;
    s->batch.T = s->pair_len;
    int rc = append_single(s, a, err);
    if (!rc && b)
        rc = append_single(s, b, err);
    size_t n;
    if (!rc && b &&
        !(rc = mtb_encode_pair(mt->vocab, a, strlen(a), b, strlen(b), (size_t)s->pair_len,
                               &s->work, s->ids, s->types, &n, err)))
        append(s, n);
    if (rc)
        return rc;
    mtb_bert_forward(&mt->bert, &s->acts, &s->batch, false, NULL);
    mtb_sentence_encode(&s->acts, H, mt->pooling, s->enc);
    sentiment_of(s, 0, r->sst[0], &r->sst_label[0]);
    if (!b)
        return MTB_OK;
    sentiment_of(s, 1, r->sst[1], &r->sst_label[1]);
    mtb_similarity_forward(&s->head, s->enc, s->enc + H, NULL, 1, H);
    r->sts_score = s->head.out[0];
    mtb_paraphrase_forward(&s->head, &mt->heads, s->enc + 2 * (size_t)H, NULL, 1, 0.0f, NULL);
    r->para_prob = 1.0f / (1.0f + expf(-s->head.out[0]));
    return MTB_OK;
}
