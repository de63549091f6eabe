/* The multitask model: encoder + heads, their files, and one task's step. */
#include "mtbert/multitask.h"
#include "mtbert/file.h"
#include "mtbert/profile.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "finite.h"
#include "pair_losses.h"
#include "safetensors.h"

int mtb_multitask_init_random(mtb_multitask *mt, const mtb_config *cfg, mtb_vocab *vocab,
                              mtb_pooling pooling, float head_dropout, mtb_rng *rng,
                              mtb_error *err)
{
    memset(mt, 0, sizeof *mt);
    if (mtb_vocab_size(vocab) != cfg->vocab_size)
        return mtb_error_set(err, MTB_EINPUT, "vocabulary has %d tokens, the config %d",
                             (int)mtb_vocab_size(vocab), cfg->vocab_size);
    int rc = mtb_bert_init(&mt->bert, cfg, err);
    if (rc)
        return rc;
    if (mtb_heads_init(&mt->heads, cfg->hidden_size)) {
        mtb_bert_free(&mt->bert);
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    }
    mtb_bert_init_random(&mt->bert, rng);
    mtb_heads_init_random(&mt->heads, rng);
    mt->vocab = vocab;
    mt->pooling = pooling;
    mt->head_dropout = head_dropout;
    mtb_pair_losses_defaults(&mt->losses);
    return MTB_OK;
}

static int load_heads(mtb_heads *h, const char *path, mtb_error *err)
{
    mtb_safetensors *st;
    int rc = mtb_st_open(&st, path, err);
    if (rc)
        return rc;
    const struct {
        const char *name;
        float *dst;
        int rows, cols;
    } want[] = {
        {"sst.weight", h->sst_w, MTB_SST_CLASSES, h->H},
        {"sst.bias", h->sst_b, MTB_SST_CLASSES, 0},
        {"para.weight", h->para_w, 1, h->H},
        {"para.bias", h->para_b, 1, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want && !rc; i++) {
        int k = mtb_st_find(st, want[i].name);
        if (k < 0) {
            rc = mtb_error_set(err, MTB_EINPUT, "%s: missing tensor '%s'", path, want[i].name);
            break;
        }
        const mtb_st_tensor *t = mtb_st_tensor_at(st, k);
        int ndim = want[i].cols ? 2 : 1;
        if (t->ndim != ndim || t->shape[0] != want[i].rows ||
            (ndim == 2 && t->shape[1] != want[i].cols)) {
            rc = mtb_error_set(err, MTB_EINPUT,
                               "%s: tensor '%s' does not fit a hidden size of %d", path,
                               want[i].name, h->H);
            break;
        }
        rc = mtb_st_read_f32(st, k, want[i].dst, t->numel, err);
    }
    const char *bad = rc ? NULL : mtb_heads_first_nonfinite(h, h->params);
    if (bad)
        rc = mtb_error_set(err, MTB_EINPUT, "%s: tensor '%s' holds NaN or infinite values (saved "
                           "by a run that diverged?)", path, bad + strlen("heads."));
    mtb_st_close(st);
    return rc;
}

static int load_settings(mtb_multitask *mt, const char *path, mtb_error *err)
{
    json_t *root = mtb_json_load_file(path, err);
    if (!root)
        return err ? err->code : MTB_EINPUT;
    int rc = MTB_OK;
    json_t *pool = json_object_get(root, "pooling");
    json_t *drop = json_object_get(root, "head_dropout");
    json_t *trained = json_object_get(root, "trained");
    for (int t = 0; t < MTB_N_TASKS; t++)
        mt->trained[t] = !trained; /* older checkpoints: every head trained */
    for (size_t i = 0; json_is_array(trained) && i < json_array_size(trained); i++) {
        const int t = mtb_task_parse(json_string_value(json_array_get(trained, i)));
        if (t < 0) {
            json_decref(root);
            return mtb_error_set(err, MTB_EINPUT, "%s: 'trained' must list sst, para and sts",
                                 path);
        }
        mt->trained[t] = true;
    }
    if (pool) {
        int p = json_is_string(pool) ? mtb_pooling_parse(json_string_value(pool)) : -1;
        if (p < 0)
            rc = mtb_error_set(err, MTB_EINPUT, "%s: 'pooling' must be \"cls\", \"mean\" or "
                               "\"pooler\"", path);
        else
            mt->pooling = (mtb_pooling)p;
    }
    if (!rc && drop) {
        double d = json_is_number(drop) ? json_number_value(drop) : -1;
        if (d < 0 || d >= 1)
            rc = mtb_error_set(err, MTB_EINPUT, "%s: 'head_dropout' must be a number in [0, 1)",
                               path);
        else
            mt->head_dropout = (float)d;
    }
    json_decref(root);
    return rc;
}

int mtb_multitask_load(mtb_multitask *mt, const char *dir, mtb_pooling pooling,
                       float head_dropout, mtb_rng *rng, bool *has_heads, mtb_error *err)
{
    memset(mt, 0, sizeof *mt);
    int rc = mtb_model_dir_load(dir, &mt->bert, &mt->vocab, err);
    if (rc)
        return rc;
    mt->pooling = pooling;
    mt->head_dropout = head_dropout;
    mtb_pair_losses_defaults(&mt->losses);
    if (mtb_heads_init(&mt->heads, mt->bert.cfg.hidden_size)) {
        mtb_multitask_free(mt);
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    }
    char heads_path[4096], settings_path[4096];
    struct stat st;
    if (!mtb_path_join(heads_path, sizeof heads_path, dir, "heads.safetensors") ||
        !mtb_path_join(settings_path, sizeof settings_path, dir, "mtbert.json")) {
        mtb_multitask_free(mt);
        return mtb_error_set(err, MTB_EINPUT, "%.200s...: path too long", dir);
    }
    *has_heads = stat(heads_path, &st) == 0;
    if (*has_heads) {
        rc = load_heads(&mt->heads, heads_path, err);
        if (!rc && stat(settings_path, &st) == 0)
            rc = load_settings(mt, settings_path, err);
    } else {
        mtb_heads_init_random(&mt->heads, rng);
    }
    if (rc)
        mtb_multitask_free(mt);
    return rc;
}

typedef struct save_ctx {
    const mtb_multitask *mt;
    mtb_dir_writer_fn extra;
    void *extra_ctx;
} save_ctx;

static int write_heads_and_settings(const char *tmp, void *ctx_, mtb_error *err)
{
    const save_ctx *ctx = ctx_;
    const mtb_heads *h = &ctx->mt->heads;
    char path[4096];
    mtb_st_entry e[4] = {
        {.name = "sst.weight", .ndim = 2, .shape = {MTB_SST_CLASSES, h->H}, .data = h->sst_w},
        {.name = "sst.bias", .ndim = 1, .shape = {MTB_SST_CLASSES}, .data = h->sst_b},
        {.name = "para.weight", .ndim = 2, .shape = {1, h->H}, .data = h->para_w},
        {.name = "para.bias", .ndim = 1, .shape = {1}, .data = h->para_b},
    };
    mtb_st_meta meta = {"format", "pt"};
    mtb_path_join(path, sizeof path, tmp, "heads.safetensors");
    int rc = mtb_st_write(path, e, 4, &meta, 1, err);
    if (rc)
        return rc;

    json_t *trained = json_array();
    for (int t = 0; t < MTB_N_TASKS; t++)
        if (ctx->mt->trained[t])
            json_array_append_new(trained, json_string(mtb_task_name((mtb_task)t)));
    json_t *root = json_pack("{s:i, s:s, s:f, s:o}", "mtbert_format", 1, "pooling",
                             mtb_pooling_name(ctx->mt->pooling), "head_dropout",
                             (double)ctx->mt->head_dropout, "trained", trained);
    mtb_path_join(path, sizeof path, tmp, "mtbert.json");
    rc = mtb_json_save_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS, err);
    json_decref(root);
    if (!rc && ctx->extra)
        rc = ctx->extra(tmp, ctx->extra_ctx, err);
    return rc;
}

int mtb_multitask_save(const mtb_multitask *mt, const char *dir, mtb_dir_writer_fn extra,
                       void *ctx, mtb_error *err)
{
    const char *bad = mtb_heads_first_nonfinite(&mt->heads, mt->heads.params);
    if (bad)
        return mtb_error_set(err, MTB_EFAIL, "not saving %s: tensor '%s' holds NaN or infinite "
                             "values; what %s held is kept", dir, bad, dir);
    save_ctx sc = {mt, extra, ctx};
    return mtb_model_dir_save(dir, &mt->bert, mt->vocab, write_heads_and_settings, &sc, err);
}

void mtb_multitask_free(mtb_multitask *mt)
{
    mtb_bert_free(&mt->bert);
    mtb_heads_free(&mt->heads);
    mtb_vocab_free(mt->vocab);
    memset(mt, 0, sizeof *mt);
}

int mtb_task_ws_init(mtb_task_ws *ws, const mtb_config *cfg, int max_B, int max_T,
                     bool for_training, mtb_error *err)
{
    memset(ws, 0, sizeof *ws);
    ws->max_B = max_B;
    ws->max_T = max_T;
    const size_t H = (size_t)cfg->hidden_size, B = (size_t)max_B;
    int rc = mtb_bert_acts_init(&ws->acts_a, cfg, max_B, max_T, for_training, err);
    if (!rc) /* 2B: MNRL encodes a paraphrase batch's questions apart */
        rc = mtb_bert_acts_init(&ws->acts_b, cfg, 2 * max_B, max_T, for_training, err);
    if (!rc && mtb_head_ws_init(&ws->head, max_B, cfg->hidden_size))
        rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
    if (!rc) {
        ws->enc_a = calloc(B * H, sizeof(float));
        ws->enc_b = calloc(2 * B * H, sizeof(float));
        ws->denc_a = calloc(B * H, sizeof(float));
        ws->denc_b = calloc(2 * B * H, sizeof(float));
        ws->dhidden = calloc(2 * B * (size_t)max_T * H, sizeof(float));
        ws->dpooled = calloc(2 * B * H, sizeof(float));
        ws->split.ids = calloc(2 * B * (size_t)max_T, sizeof(int));
        ws->split.types = calloc(2 * B * (size_t)max_T, sizeof(int));
        ws->split.lengths = calloc(2 * B, sizeof(int));
        if (!ws->enc_a || !ws->enc_b || !ws->denc_a || !ws->denc_b || !ws->dhidden ||
            !ws->dpooled || !ws->split.ids || !ws->split.types || !ws->split.lengths)
            rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
    }
    if (rc)
        mtb_task_ws_free(ws);
    return rc;
}

void mtb_task_ws_free(mtb_task_ws *ws)
{
    mtb_bert_acts_free(&ws->acts_a);
    mtb_bert_acts_free(&ws->acts_b);
    mtb_head_ws_free(&ws->head);
    free(ws->enc_a);
    free(ws->enc_b);
    free(ws->denc_a);
    free(ws->denc_b);
    free(ws->dhidden);
    free(ws->dpooled);
    free(ws->split.ids);
    free(ws->split.types);
    free(ws->split.lengths);
    memset(ws, 0, sizeof *ws);
}

/* The two questions of each paraphrase pair as sentences of their own, cut
 * from the pair's tokens [CLS] a [SEP] b [SEP]: row i of out is [CLS] a
 * [SEP], row B + i is [CLS] b [SEP], all of token type 0. */
static void split_pairs(const mtb_batch *pair, mtb_batch *out)
{
    const int B = pair->B, T = pair->T;
    out->B = 2 * B;
    out->T = T;
    memset(out->types, 0, sizeof(int) * (size_t)(2 * B) * (size_t)T);
    for (int i = 0; i < B; i++) {
        const int *ids = pair->ids + (size_t)i * T, *types = pair->types + (size_t)i * T;
        const int len = pair->lengths[i];
        int b_from = 1;
        while (b_from < len && types[b_from] == 0)
            b_from++;
        int *a = out->ids + (size_t)i * T, *b = out->ids + (size_t)(B + i) * T;
        memset(a, 0, sizeof(int) * (size_t)T);
        memset(b, 0, sizeof(int) * (size_t)T);
        memcpy(a, ids, sizeof(int) * (size_t)b_from);
        out->lengths[i] = b_from;
        b[0] = ids[0]; /* [CLS] */
        memcpy(b + 1, ids + b_from, sizeof(int) * (size_t)(len - b_from));
        out->lengths[B + i] = 1 + len - b_from;
    }
}

/* MNRL over a paraphrase batch's duplicates: anchors the a's of positive
 * pairs, candidates every b (enc: its a's, then its b's). */
static float para_mnrl(const mtb_multitask *mt, const float *enc, float *denc,
                       const float *labels, int B, int H)
{
    unsigned char positive[4096];
    for (int i = 0; i < B && i < 4096; i++)
        positive[i] = labels[i] > 0.5f;
    return mtb_mnrl(enc, enc + (size_t)B * H, positive, B, H, mt->losses.mnrl_scale, denc,
                    denc + (size_t)B * H);
}

/* The similarity task's training loss on encodings u, v with gradients
 * added into du, dv: the seed's MSE (through the head) or CoSENT, plus
 * MNRL over the pairs scored MTB_MNRL_STS_POSITIVE or more. */
static float sts_train_loss(const mtb_multitask *mt, mtb_head_ws *head, const float *u,
                            const float *v, float *du, float *dv, const float *labels, int B,
                            int H)
{
    float loss;
    if (mt->losses.sts == MTB_STS_LOSS_COSENT) {
        loss = mtb_cosent(u, v, labels, B, H, mt->losses.cosent_scale, du, dv);
    } else {
        loss = mtb_similarity_forward(head, u, v, labels, B, H);
        mtb_similarity_backward(du, dv, head, u, v, labels, H);
    }
    if (mt->losses.mnrl_sts) {
        unsigned char positive[4096];
        for (int i = 0; i < B && i < 4096; i++)
            positive[i] = labels[i] >= MTB_MNRL_STS_POSITIVE;
        loss += mtb_mnrl(u, v, positive, B, H, mt->losses.mnrl_scale, du, dv);
    }
    return loss;
}

/* Pushes d(encoding) back through pooling and the encoder. */
static void encoder_backward(mtb_multitask *mt, mtb_task_ws *ws, mtb_bert_acts *acts,
                             const float *denc)
{
    int use_hidden;
    const int H = mt->bert.cfg.hidden_size;
    MTB_PROFILED(MTB_PROF_HEADS, mtb_sentence_backward(acts, H, mt->pooling, denc, ws->dhidden,
                                                       ws->dpooled, &use_hidden));
    mtb_bert_backward(&mt->bert, acts, use_hidden ? ws->dhidden : NULL,
                      use_hidden ? NULL : ws->dpooled);
}

float mtb_multitask_step(mtb_multitask *mt, mtb_task_ws *ws, const mtb_task_batch *tb,
                         bool dropout, bool backward, mtb_rng *rng)
{
    const int H = mt->bert.cfg.hidden_size, B = tb->a.B;
    const float p = dropout ? mt->head_dropout : 0.0f;
    const size_t BH = (size_t)B * H;
    float loss = 0.0f;

    mtb_bert_forward(&mt->bert, &ws->acts_a, &tb->a, dropout, rng);
    MTB_PROFILED(MTB_PROF_HEADS, mtb_sentence_encode(&ws->acts_a, H, mt->pooling, ws->enc_a));
    switch (tb->task) {
    case MTB_TASK_SST:
        MTB_PROFILED(MTB_PROF_HEADS, loss = mtb_sentiment_forward(&ws->head, &mt->heads, ws->enc_a,
                                                                  tb->labels_int, B, p, rng));
        if (backward) {
            memset(ws->denc_a, 0, BH * sizeof(float));
            MTB_PROFILED(MTB_PROF_HEADS, mtb_sentiment_backward(&mt->heads, ws->denc_a, &ws->head,
                                                                tb->labels_int));
            encoder_backward(mt, ws, &ws->acts_a, ws->denc_a);
        }
        break;
    case MTB_TASK_PARA:
        MTB_PROFILED(MTB_PROF_HEADS, loss = mtb_paraphrase_forward(&ws->head, &mt->heads, ws->enc_a,
                                                                   tb->labels, B, p, rng));
        if (backward) {
            memset(ws->denc_a, 0, BH * sizeof(float));
            MTB_PROFILED(MTB_PROF_HEADS, mtb_paraphrase_backward(&mt->heads, ws->denc_a, &ws->head,
                                                                 tb->labels));
            if (mt->losses.mnrl_para) {
                /* the questions apart, through the encoder again */
                split_pairs(&tb->a, &ws->split);
                mtb_bert_forward(&mt->bert, &ws->acts_b, &ws->split, dropout, rng);
                MTB_PROFILED(MTB_PROF_HEADS, {
                    mtb_sentence_encode(&ws->acts_b, H, mt->pooling, ws->enc_b);
                    memset(ws->denc_b, 0, 2 * BH * sizeof(float));
                    loss += para_mnrl(mt, ws->enc_b, ws->denc_b, tb->labels, B, H);
                });
                encoder_backward(mt, ws, &ws->acts_b, ws->denc_b);
            }
            encoder_backward(mt, ws, &ws->acts_a, ws->denc_a);
        }
        break;
    case MTB_TASK_STS:
    default:
        mtb_bert_forward(&mt->bert, &ws->acts_b, &tb->b, dropout, rng);
        MTB_PROFILED(MTB_PROF_HEADS, mtb_sentence_encode(&ws->acts_b, H, mt->pooling, ws->enc_b));
        if (!backward) {
            MTB_PROFILED(MTB_PROF_HEADS, loss = mtb_similarity_forward(&ws->head, ws->enc_a,
                                                                       ws->enc_b, tb->labels, B, H));
        } else {
            memset(ws->denc_a, 0, BH * sizeof(float));
            memset(ws->denc_b, 0, BH * sizeof(float));
            MTB_PROFILED(MTB_PROF_HEADS,
                         loss = sts_train_loss(mt, &ws->head, ws->enc_a, ws->enc_b, ws->denc_a,
                                               ws->denc_b, tb->labels, B, H));
            encoder_backward(mt, ws, &ws->acts_b, ws->denc_b);
            encoder_backward(mt, ws, &ws->acts_a, ws->denc_a);
        }
        break;
    }
    return loss;
}

int mtb_joint_ws_init(mtb_joint_ws *ws, const mtb_config *cfg, int max_B, int max_T,
                      mtb_error *err)
{
    memset(ws, 0, sizeof *ws);
    /* SST: B sequences; paraphrase: B, and with MNRL its 2B questions;
     * similarity: 2B */
    const int S = 6 * max_B;
    const size_t H = (size_t)cfg->hidden_size, ST = (size_t)S * (size_t)max_T;
    ws->max_seqs = S;
    ws->max_T = max_T;
    int rc = mtb_bert_acts_init(&ws->acts, cfg, S, max_T, true, err);
    if (!rc && mtb_head_ws_init(&ws->head, max_B, cfg->hidden_size))
        rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
    if (!rc) {
        ws->batch.ids = calloc(ST, sizeof(int));
        ws->batch.types = calloc(ST, sizeof(int));
        ws->batch.lengths = calloc((size_t)S, sizeof(int));
        ws->split.ids = calloc(2 * (size_t)max_B * (size_t)max_T, sizeof(int));
        ws->split.types = calloc(2 * (size_t)max_B * (size_t)max_T, sizeof(int));
        ws->split.lengths = calloc(2 * (size_t)max_B, sizeof(int));
        ws->enc = calloc((size_t)S * H, sizeof(float));
        ws->denc = calloc((size_t)S * H, sizeof(float));
        ws->dhidden = calloc(ST * H, sizeof(float));
        ws->dpooled = calloc((size_t)S * H, sizeof(float));
        if (!ws->batch.ids || !ws->batch.types || !ws->batch.lengths || !ws->enc ||
            !ws->denc || !ws->dhidden || !ws->dpooled || !ws->split.ids || !ws->split.types ||
            !ws->split.lengths)
            rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
    }
    if (rc)
        mtb_joint_ws_free(ws);
    return rc;
}

void mtb_joint_ws_free(mtb_joint_ws *ws)
{
    mtb_bert_acts_free(&ws->acts);
    mtb_head_ws_free(&ws->head);
    free(ws->batch.ids);
    free(ws->batch.types);
    free(ws->batch.lengths);
    free(ws->split.ids);
    free(ws->split.types);
    free(ws->split.lengths);
    free(ws->enc);
    free(ws->denc);
    free(ws->dhidden);
    free(ws->dpooled);
    memset(ws, 0, sizeof *ws);
}

/* Appends b's sequences to the step's batch (row stride ws->batch.T). */
static void append_rows(mtb_joint_ws *ws, const mtb_batch *b)
{
    mtb_batch *all = &ws->batch;
    for (int i = 0; i < b->B; i++, all->B++) {
        const size_t dst = (size_t)all->B * all->T, src = (size_t)i * b->T;
        memcpy(all->ids + dst, b->ids + src, sizeof(int) * (size_t)b->T);
        memcpy(all->types + dst, b->types + src, sizeof(int) * (size_t)b->T);
        all->lengths[all->B] = b->lengths[i];
    }
}

void mtb_multitask_joint_step(mtb_multitask *mt, mtb_joint_ws *ws,
                              const mtb_task_batch *const *tbs, int n, float *const *grads,
                              bool dropout, mtb_rng *rng, float *losses)
{
    const int H = mt->bert.cfg.hidden_size;
    const float p = dropout ? mt->head_dropout : 0.0f;
    mtb_batch *all = &ws->batch;
    all->B = 0;
    all->T = 1;
    for (int k = 0; k < n; k++) {
        all->T = tbs[k]->a.T > all->T ? tbs[k]->a.T : all->T;
        if (tbs[k]->task == MTB_TASK_STS)
            all->T = tbs[k]->b.T > all->T ? tbs[k]->b.T : all->T;
    }
    for (int k = 0; k < n; k++) {
        ws->first[k] = all->B;
        append_rows(ws, &tbs[k]->a);
        if (tbs[k]->task == MTB_TASK_STS)
            append_rows(ws, &tbs[k]->b);
        if (tbs[k]->task == MTB_TASK_PARA && mt->losses.mnrl_para) {
            split_pairs(&tbs[k]->a, &ws->split);
            append_rows(ws, &ws->split);
        }
        ws->count[k] = all->B - ws->first[k];
    }

    mtb_bert_forward(&mt->bert, &ws->acts, all, dropout, rng);
    MTB_PROFILED(MTB_PROF_HEADS, mtb_sentence_encode(&ws->acts, H, mt->pooling, ws->enc));
    memset(ws->denc, 0, sizeof(float) * (size_t)all->B * H);
    for (int k = 0; k < n; k++) {
        const mtb_task_batch *tb = tbs[k];
        const int B = tb->a.B;
        float *enc = ws->enc + (size_t)ws->first[k] * H;
        float *denc = ws->denc + (size_t)ws->first[k] * H;
        switch (tb->task) {
        case MTB_TASK_SST:
            MTB_PROFILED(MTB_PROF_HEADS, {
                losses[k] = mtb_sentiment_forward(&ws->head, &mt->heads, enc, tb->labels_int, B,
                                                  p, rng);
                mtb_sentiment_backward(&mt->heads, denc, &ws->head, tb->labels_int);
            });
            break;
        case MTB_TASK_PARA:
            MTB_PROFILED(MTB_PROF_HEADS, {
                losses[k] = mtb_paraphrase_forward(&ws->head, &mt->heads, enc, tb->labels, B, p,
                                                   rng);
                mtb_paraphrase_backward(&mt->heads, denc, &ws->head, tb->labels);
                if (mt->losses.mnrl_para)
                    losses[k] += para_mnrl(mt, enc + (size_t)B * H, denc + (size_t)B * H,
                                           tb->labels, B, H);
            });
            break;
        case MTB_TASK_STS:
        default:
            MTB_PROFILED(MTB_PROF_HEADS,
                         losses[k] = sts_train_loss(mt, &ws->head, enc, enc + (size_t)B * H, denc,
                                                    denc + (size_t)B * H, tb->labels, B, H));
            break;
        }
    }
    int use_hidden;
    MTB_PROFILED(MTB_PROF_HEADS, mtb_sentence_backward(&ws->acts, H, mt->pooling, ws->denc,
                                                       ws->dhidden, ws->dpooled, &use_hidden));
    mtb_grad_segment segs[MTB_N_TASKS];
    for (int k = 0; k < n; k++)
        segs[k] = (mtb_grad_segment){ws->first[k], ws->count[k], grads[k], ws->overwrite_dense};
    mtb_bert_backward_split(&mt->bert, &ws->acts, use_hidden ? ws->dhidden : NULL,
                            use_hidden ? NULL : ws->dpooled, segs, n);
}

void mtb_multitask_sst_probs(const mtb_task_ws *ws, float *probs)
{
    mtb_sentiment_probs(&ws->head, probs);
}

void mtb_multitask_para_probs(const mtb_task_ws *ws, float *probs)
{
    for (int b = 0; b < ws->head.B; b++)
        probs[b] = 1.0f / (1.0f + expf(-ws->head.out[b]));
}

void mtb_multitask_sts_scores(const mtb_task_ws *ws, float *scores)
{
    memcpy(scores, ws->head.out, sizeof(float) * (size_t)ws->head.B);
}
