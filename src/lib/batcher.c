/* Tokenized task data and the order training visits it in (see
 * batcher.h): a dataset tokenized once into one array of ids, padded
 * batches cut from it by index, and the stream of seeded permutations
 * that picks them. */
#include "mtbert/batcher.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct token_buf {
    int32_t *data;
    size_t len, cap;
} token_buf;

static int push_tokens(token_buf *tb, const int32_t *ids, size_t n)
{
    if (tb->len + n > tb->cap) {
        size_t cap = tb->cap ? tb->cap : 4096;
        while (cap < tb->len + n)
            cap *= 2;
        int32_t *d = realloc(tb->data, cap * sizeof *d);
        if (!d)
            return -1;
        tb->data = d;
        tb->cap = cap;
    }
    memcpy(tb->data + tb->len, ids, n * sizeof *ids);
    tb->len += n;
    return 0;
}

int mtb_encode_dataset(mtb_encoded *e, const mtb_dataset *ds, const mtb_vocab *vocab,
                       int max_len, int pair_max_len, mtb_error *err)
{
    memset(e, 0, sizeof *e);
    e->task = ds->task;
    e->n = ds->n;
    const size_t n = ds->n ? ds->n : 1;
    e->off_a = calloc(n, sizeof *e->off_a);
    e->off_b = calloc(n, sizeof *e->off_b);
    e->len_a = calloc(n, sizeof *e->len_a);
    e->len_b = calloc(n, sizeof *e->len_b);
    e->type1_from = calloc(n, sizeof *e->type1_from);
    e->label = calloc(n, sizeof *e->label);
    const int cap = pair_max_len > max_len ? pair_max_len : max_len;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)cap);
    int32_t *types = malloc(sizeof(int32_t) * (size_t)cap);
    token_buf buf = {0}, first = {0}; /* all sequences; a pair's first sentence */
    const mtb_special_ids *specials = mtb_vocab_specials(vocab);
    mtb_tokens work;
    mtb_tokens_init(&work);
    int rc = MTB_OK;
    if (!e->off_a || !e->off_b || !e->len_a || !e->len_b || !e->type1_from || !e->label ||
        !ids || !types)
        rc = mtb_error_set(err, MTB_EFAIL, "out of memory");

    for (size_t i = 0; i < ds->n && !rc; i++) {
        const mtb_example *x = &ds->ex[i];
        size_t len = 0;
        bool cut = false;
        e->label[i] = x->label;
        if (ds->task == MTB_TASK_PARA) {
            /* Tokenized here rather than by mtb_encode_pair, so that the
             * untruncated lengths are known without tokenizing again. */
            rc = mtb_tokenize(vocab, x->text_a, strlen(x->text_a), &work, err);
            if (!rc) {
                first.len = 0;
                rc = push_tokens(&first, work.ids, work.len)
                         ? mtb_error_set(err, MTB_EFAIL, "out of memory")
                         : mtb_tokenize(vocab, x->text_b, strlen(x->text_b), &work, err);
            }
            if (!rc)
                rc = mtb_encode_ids_pair(specials, first.data, first.len, work.ids, work.len,
                                         (size_t)pair_max_len, ids, types, &len, err);
            if (rc)
                break;
            int type1 = (int)len;
            for (size_t t = 0; t < len; t++)
                if (types[t] == 1) {
                    type1 = (int)t;
                    break;
                }
            e->type1_from[i] = type1;
            cut = first.len + work.len + 3 > len;
        } else {
            rc = mtb_encode_single(vocab, x->text_a, strlen(x->text_a), (size_t)max_len, &work,
                                   ids, types, &len, err);
            if (rc)
                break;
            cut = work.len + 2 > len;
        }
        e->off_a[i] = buf.len;
        e->len_a[i] = (int)len;
        if (push_tokens(&buf, ids, len)) {
            rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
            break;
        }
        if (ds->task == MTB_TASK_STS) {
            rc = mtb_encode_single(vocab, x->text_b, strlen(x->text_b), (size_t)max_len, &work,
                                   ids, types, &len, err);
            if (rc)
                break;
            cut |= work.len + 2 > len;
            e->off_b[i] = buf.len;
            e->len_b[i] = (int)len;
            if (push_tokens(&buf, ids, len)) {
                rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
                break;
            }
        }
        e->truncated += cut; /* an example counts once, whichever sentence was cut */
        int longest = e->len_a[i] > e->len_b[i] ? e->len_a[i] : e->len_b[i];
        if (longest > e->max_len)
            e->max_len = longest;
    }
    e->tokens = buf.data;
    free(first.data);
    mtb_tokens_free(&work);
    free(ids);
    free(types);
    if (rc)
        mtb_encoded_free(e);
    return rc;
}

void mtb_encoded_free(mtb_encoded *e)
{
    free(e->tokens);
    free(e->off_a);
    free(e->off_b);
    free(e->len_a);
    free(e->len_b);
    free(e->type1_from);
    free(e->label);
    memset(e, 0, sizeof *e);
}

static int batch_alloc(mtb_batch *b, int max_B, int max_T)
{
    b->ids = calloc((size_t)max_B * max_T, sizeof(int));
    b->types = calloc((size_t)max_B * max_T, sizeof(int));
    b->lengths = calloc((size_t)max_B, sizeof(int));
    return b->ids && b->types && b->lengths ? 0 : -1;
}

int mtb_task_batch_alloc(mtb_task_batch *tb, mtb_task task, int max_B, int max_T)
{
    memset(tb, 0, sizeof *tb);
    tb->task = task;
    int bad = batch_alloc(&tb->a, max_B, max_T);
    if (task == MTB_TASK_STS)
        bad |= batch_alloc(&tb->b, max_B, max_T);
    tb->labels_int = calloc((size_t)max_B, sizeof(int));
    tb->labels = calloc((size_t)max_B, sizeof(float));
    if (bad || !tb->labels_int || !tb->labels) {
        mtb_task_batch_free(tb);
        return MTB_EFAIL;
    }
    return MTB_OK;
}

static void batch_free(mtb_batch *b)
{
    free(b->ids);
    free(b->types);
    free(b->lengths);
}

void mtb_task_batch_free(mtb_task_batch *tb)
{
    batch_free(&tb->a);
    batch_free(&tb->b);
    free(tb->labels_int);
    free(tb->labels);
    memset(tb, 0, sizeof *tb);
}

static void fill(mtb_batch *out, const mtb_encoded *e, const uint32_t *idx, int B, int pad_id,
                 bool second)
{
    int T = 1;
    for (int b = 0; b < B; b++) {
        int len = second ? e->len_b[idx[b]] : e->len_a[idx[b]];
        if (len > T)
            T = len;
    }
    out->B = B;
    out->T = T;
    for (int b = 0; b < B; b++) {
        const uint32_t i = idx[b];
        const int len = second ? e->len_b[i] : e->len_a[i];
        const int32_t *src = e->tokens + (second ? e->off_b[i] : e->off_a[i]);
        int *ids = out->ids + (size_t)b * T, *types = out->types + (size_t)b * T;
        const int type1 = e->task == MTB_TASK_PARA && !second ? e->type1_from[i] : T;
        for (int t = 0; t < T; t++) {
            ids[t] = t < len ? src[t] : pad_id;
            types[t] = t < len && t >= type1 ? 1 : 0;
        }
        out->lengths[b] = len;
    }
}

void mtb_encoded_batch(const mtb_encoded *e, const uint32_t *idx, int B, int pad_id,
                       mtb_task_batch *tb)
{
    tb->task = e->task;
    fill(&tb->a, e, idx, B, pad_id, false);
    if (e->task == MTB_TASK_STS)
        fill(&tb->b, e, idx, B, pad_id, true);
    for (int b = 0; b < B; b++) {
        float y = e->label[idx[b]];
        tb->labels[b] = y;
        tb->labels_int[b] = isnan(y) ? -1 : (int)y;
    }
}

static void shuffle(mtb_order *o)
{
    for (uint32_t i = 0; i < o->n; i++)
        o->perm[i] = i;
    for (uint32_t i = o->n; i > 1; i--) {
        uint32_t j = mtb_rng_below(&o->rng, i);
        uint32_t t = o->perm[i - 1];
        o->perm[i - 1] = o->perm[j];
        o->perm[j] = t;
    }
    o->cursor = 0;
}

int mtb_order_init(mtb_order *o, uint32_t n, uint64_t seed)
{
    memset(o, 0, sizeof *o);
    o->n = n;
    o->perm = malloc(sizeof(uint32_t) * (n ? n : 1));
    if (!o->perm)
        return MTB_EFAIL;
    mtb_rng_seed(&o->rng, seed);
    shuffle(o);
    return MTB_OK;
}

void mtb_order_free(mtb_order *o)
{
    free(o->perm);
    memset(o, 0, sizeof *o);
}

void mtb_order_next(mtb_order *o, uint32_t *idx, int B)
{
    for (int b = 0; b < B; b++) {
        if (o->cursor == o->n) {
            shuffle(o);
            o->passes++;
        }
        idx[b] = o->perm[o->cursor++];
    }
}
