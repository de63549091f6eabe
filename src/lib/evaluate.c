/* Inference over whole datasets (see evaluate.h): each task's
 * predictions in batches, the validation losses and minBERT metrics, the
 * worst-scored examples and SST's confusion matrix. */
#include "mtbert/evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mtbert/metrics.h"

int mtb_prediction_width(mtb_task task)
{
    return task == MTB_TASK_SST ? MTB_SST_CLASSES : 1;
}

int mtb_predict(mtb_multitask *mt, const mtb_encoded *e, int batch, float *out,
                double *mean_loss, mtb_error *err)
{
    if (mean_loss)
        *mean_loss = NAN;
    if (e->n == 0)
        return MTB_OK;
    const int max_T = e->max_len > 0 ? e->max_len : 2;
    mtb_task_ws ws;
    mtb_task_batch tb;
    int rc = mtb_task_ws_init(&ws, &mt->bert.cfg, batch, max_T, false, err);
    if (rc)
        return rc;
    if (mtb_task_batch_alloc(&tb, e->task, batch, max_T)) {
        mtb_task_ws_free(&ws);
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    }
    uint32_t *idx = malloc(sizeof(uint32_t) * (size_t)batch);
    float *tmp = malloc(sizeof(float) * (size_t)batch * MTB_SST_CLASSES);
    if (!idx || !tmp) {
        rc = mtb_error_set(err, MTB_EFAIL, "out of memory");
        goto done;
    }
    const bool labelled = !isnan(e->label[0]);
    const int pad = mtb_vocab_specials(mt->vocab)->pad;
    const int width = mtb_prediction_width(e->task);
    double loss_sum = 0;
    for (size_t start = 0; start < e->n; start += (size_t)batch) {
        int B = e->n - start < (size_t)batch ? (int)(e->n - start) : batch;
        for (int b = 0; b < B; b++)
            idx[b] = (uint32_t)(start + (size_t)b);
        mtb_encoded_batch(e, idx, B, pad, &tb);
        if (!labelled) {
            /* The heads skip the loss when labels are absent. */
            float loss = mtb_multitask_step(mt, &ws,
                                            &(mtb_task_batch){tb.task, tb.a, tb.b, NULL, NULL},
                                            false, false, NULL);
            (void)loss;
        } else {
            loss_sum += (double)mtb_multitask_step(mt, &ws, &tb, false, false, NULL) * B;
        }
        if (!out)
            continue;
        float *dst = out + start * (size_t)width;
        switch (e->task) {
        case MTB_TASK_SST: mtb_multitask_sst_probs(&ws, tmp); break;
        case MTB_TASK_PARA: mtb_multitask_para_probs(&ws, tmp); break;
        default: mtb_multitask_sts_scores(&ws, tmp); break;
        }
        memcpy(dst, tmp, sizeof(float) * (size_t)B * width);
    }
    if (mean_loss && labelled)
        *mean_loss = loss_sum / (double)e->n;
done:
    free(idx);
    free(tmp);
    mtb_task_batch_free(&tb);
    mtb_task_ws_free(&ws);
    return rc;
}

int mtb_evaluate(mtb_multitask *mt, const mtb_encoded *const dev[MTB_N_TASKS], int batch,
                 mtb_eval_result *res, mtb_error *err)
{
    memset(res, 0, sizeof *res);
    res->sst_acc = res->para_acc = res->sts_corr = NAN;
    for (int t = 0; t < MTB_N_TASKS; t++) {
        const mtb_encoded *e = dev[t];
        res->loss[t] = NAN;
        if (!e || e->n == 0)
            continue;
        if (isnan(e->label[0]))
            return mtb_error_set(err, MTB_EINPUT, "the %s evaluation set has no labels",
                                 mtb_task_name((mtb_task)t));
        const int width = mtb_prediction_width(e->task);
        float *pred = malloc(sizeof(float) * e->n * (size_t)width);
        int *guess = malloc(sizeof(int) * e->n);
        int *gold = malloc(sizeof(int) * e->n);
        int rc = pred && guess && gold ? MTB_OK : mtb_error_set(err, MTB_EFAIL, "out of memory");
        if (!rc)
            rc = mtb_predict(mt, e, batch, pred, &res->loss[t], err);
        if (!rc) {
            res->has[t] = true;
            res->n[t] = (long)e->n;
            if (t == MTB_TASK_STS) {
                res->sts_corr = mtb_pearson(pred, e->label, e->n);
            } else {
                for (size_t i = 0; i < e->n; i++) {
                    gold[i] = (int)e->label[i];
                    if (t == MTB_TASK_PARA) {
                        guess[i] = pred[i] > 0.5f;
                    } else {
                        guess[i] = mtb_argmax(pred + i * MTB_SST_CLASSES, MTB_SST_CLASSES);
                    }
                }
                double acc = mtb_accuracy(guess, gold, e->n);
                if (t == MTB_TASK_SST)
                    res->sst_acc = acc;
                else
                    res->para_acc = acc;
            }
        }
        free(pred);
        free(guess);
        free(gold);
        if (rc)
            return rc;
    }
    return MTB_OK;
}

int mtb_rank_errors(mtb_multitask *mt, const mtb_encoded *e, int batch, int n_top,
                    mtb_error_item *items, int *n_items, mtb_error *err)
{
    *n_items = 0;
    if (e->n == 0 || n_top <= 0)
        return MTB_OK;
    if (isnan(e->label[0]))
        return mtb_error_set(err, MTB_EINPUT, "the %s set has no labels",
                             mtb_task_name(e->task));
    const int width = mtb_prediction_width(e->task);
    float *pred = malloc(sizeof(float) * e->n * (size_t)width);
    if (!pred)
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    int rc = mtb_predict(mt, e, batch, pred, NULL, err);
    for (size_t i = 0; !rc && i < e->n; i++) {
        mtb_error_item it = {.index = i, .gold = e->label[i]};
        if (e->task == MTB_TASK_SST) {
            const float *p = pred + i * MTB_SST_CLASSES;
            it.predicted = (float)mtb_argmax(p, MTB_SST_CLASSES);
            it.wrongness = 1.0f - p[(int)e->label[i]];
        } else {
            it.predicted = pred[i];
            it.wrongness = fabsf(pred[i] - e->label[i]);
        }
        /* insertion into the sorted top list, worst first */
        int k = *n_items < n_top ? (*n_items)++ : n_top;
        if (k == n_top && !(it.wrongness > items[n_top - 1].wrongness))
            continue;
        if (k == n_top)
            k = n_top - 1;
        while (k > 0 && items[k - 1].wrongness < it.wrongness) {
            items[k] = items[k - 1];
            k--;
        }
        items[k] = it;
    }
    free(pred);
    return rc;
}

int mtb_sst_confusion(mtb_multitask *mt, const mtb_encoded *e, int batch,
                      long counts[MTB_SST_CLASSES][MTB_SST_CLASSES], mtb_error *err)
{
    memset(counts, 0, sizeof(long) * MTB_SST_CLASSES * MTB_SST_CLASSES);
    if (e->task != MTB_TASK_SST)
        return mtb_error_set(err, MTB_EINPUT, "a confusion matrix is SST's");
    if (e->n == 0)
        return MTB_OK;
    if (isnan(e->label[0]))
        return mtb_error_set(err, MTB_EINPUT, "the sst set has no labels");
    float *pred = malloc(sizeof(float) * e->n * MTB_SST_CLASSES);
    if (!pred)
        return mtb_error_set(err, MTB_EFAIL, "out of memory");
    int rc = mtb_predict(mt, e, batch, pred, NULL, err);
    for (size_t i = 0; !rc && i < e->n; i++) {
        const int gold = (int)e->label[i];
        const int guess = mtb_argmax(pred + i * MTB_SST_CLASSES, MTB_SST_CLASSES);
        if (gold >= 0 && gold < MTB_SST_CLASSES)
            counts[gold][guess]++;
    }
    free(pred);
    return rc;
}
