/* Scoring typed sentences: one input at a time, batch size 1.
 *
 * Every forward pass runs on a single unpadded sequence.  That keeps a
 * sentence's result independent of what it is scored with (no padding, the
 * same matrix shapes every time), which is why a pair's sentiment can be
 * read off the similarity pass's encodings and still equal scoring the
 * sentence alone. */
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
    mtb_task_ws ws;
    mtb_task_batch sst, para, sts;
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
    int rc = mtb_task_ws_init(&s->ws, &mt->bert.cfg, 1, s->pair_len, false, err);
    if (!rc) {
        s->ids = malloc(sizeof(int32_t) * (size_t)s->pair_len);
        s->types = malloc(sizeof(int32_t) * (size_t)s->pair_len);
        if (!s->ids || !s->types ||
            mtb_task_batch_alloc(&s->sst, MTB_TASK_SST, 1, s->len) ||
            mtb_task_batch_alloc(&s->para, MTB_TASK_PARA, 1, s->pair_len) ||
            mtb_task_batch_alloc(&s->sts, MTB_TASK_STS, 1, s->len))
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
     * zeroed by calloc (mtb_task_ws_init cleans up after itself). */
    mtb_task_ws_free(&s->ws);
    mtb_task_batch_free(&s->sst);
    mtb_task_batch_free(&s->para);
    mtb_task_batch_free(&s->sts);
    mtb_tokens_free(&s->work);
    free(s->ids);
    free(s->types);
    free(s);
}

/* Copies the tokenizer's int32_t output into a one-row batch (whose arrays
 * are int): the two types are not the same type everywhere. */
static void to_batch(const mtb_scorer *s, size_t n, mtb_batch *b)
{
    b->B = 1;
    b->T = (int)n;
    b->lengths[0] = (int)n;
    for (size_t i = 0; i < n; i++) {
        b->ids[i] = s->ids[i];
        b->types[i] = s->types[i];
    }
}

static int encode_single(mtb_scorer *s, const char *text, mtb_batch *b, mtb_error *err)
{
    size_t n;
    int rc = mtb_encode_single(s->mt->vocab, text, strlen(text), (size_t)s->len, &s->work,
                               s->ids, s->types, &n, err);
    if (!rc)
        to_batch(s, n, b);
    return rc;
}

/* The sentiment head on an encoding the last pass left in the workspace. */
static void sentiment_of(mtb_scorer *s, const float *enc, float *probs, int *label)
{
    mtb_sentiment_forward(&s->ws.head, &s->mt->heads, enc, NULL, 1, 0.0f, NULL);
    mtb_sentiment_probs(&s->ws.head, probs);
    *label = mtb_argmax(probs, MTB_SST_CLASSES);
}

int mtb_score(mtb_scorer *s, const char *a, const char *b, mtb_score_result *r, mtb_error *err)
{
    memset(r, 0, sizeof *r);
    r->pair = b != NULL;
    int rc;
    if (!b) {
        if ((rc = encode_single(s, a, &s->sst.a, err)))
            return rc;
        s->sst.labels_int[0] = 0; /* the step computes a loss; any valid class will do */
        mtb_multitask_step(s->mt, &s->ws, &s->sst, false, false, NULL);
        mtb_multitask_sst_probs(&s->ws, r->sst[0]);
        r->sst_label[0] = mtb_argmax(r->sst[0], MTB_SST_CLASSES);
        return MTB_OK;
    }

    /* Similarity first: its pass leaves both sentences' encodings in the
     * workspace, which the sentiment head then reuses. */
    if ((rc = encode_single(s, a, &s->sts.a, err)) || (rc = encode_single(s, b, &s->sts.b, err)))
        return rc;
    s->sts.labels[0] = 0.0f;
    mtb_multitask_step(s->mt, &s->ws, &s->sts, false, false, NULL);
    mtb_multitask_sts_scores(&s->ws, &r->sts_score);
    sentiment_of(s, s->ws.enc_a, r->sst[0], &r->sst_label[0]);
    sentiment_of(s, s->ws.enc_b, r->sst[1], &r->sst_label[1]);

    size_t n;
    if ((rc = mtb_encode_pair(s->mt->vocab, a, strlen(a), b, strlen(b), (size_t)s->pair_len,
                              &s->work, s->ids, s->types, &n, err)))
        return rc;
    to_batch(s, n, &s->para.a);
    s->para.labels[0] = 0.0f;
    mtb_multitask_step(s->mt, &s->ws, &s->para, false, false, NULL);
    mtb_multitask_para_probs(&s->ws, &r->para_prob);
    return MTB_OK;
}
