/* Sentence encodings from the encoder's output (see sentence.h): [CLS],
 * the mean over real tokens, or the pooler, and their backward. */
#include "mtbert/sentence.h"

#include <string.h>

int mtb_pooling_parse(const char *name)
{
    if (strcmp(name, "cls") == 0)
        return MTB_POOL_CLS;
    if (strcmp(name, "mean") == 0)
        return MTB_POOL_MEAN;
    if (strcmp(name, "pooler") == 0)
        return MTB_POOL_POOLER;
    return -1;
}

const char *mtb_pooling_name(mtb_pooling pooling)
{
    switch (pooling) {
    case MTB_POOL_CLS: return "cls";
    case MTB_POOL_MEAN: return "mean";
    case MTB_POOL_POOLER: return "pooler";
    }
    return "?";
}

void mtb_sentence_encode(const mtb_bert_acts *a, int H, mtb_pooling pooling, float *out)
{
    const int B = a->B;
    for (int b = 0; b < B; b++) {
        float *dst = out + (size_t)b * H;
        switch (pooling) {
        case MTB_POOL_CLS:
            memcpy(dst, a->cls + (size_t)b * H, sizeof(float) * (size_t)H);
            break;
        case MTB_POOL_POOLER:
            memcpy(dst, a->pooled + (size_t)b * H, sizeof(float) * (size_t)H);
            break;
        case MTB_POOL_MEAN: {
            /* Summed in double: a 512-token mean in float drifts by ~1e-6. */
            const int len = a->lengths[b];
            const float *rows = mtb_bert_hidden_row(a, H, b, 0);
            for (int h = 0; h < H; h++) {
                double s = 0.0;
                for (int t = 0; t < len; t++)
                    s += rows[(size_t)t * H + h];
                dst[h] = (float)(s / len);
            }
            break;
        }
        }
    }
}

void mtb_sentence_backward(const mtb_bert_acts *a, int H, mtb_pooling pooling,
                           const float *denc, float *dhidden, float *dpooled, int *use_hidden)
{
    const int B = a->B;
    if (pooling == MTB_POOL_POOLER) {
        memcpy(dpooled, denc, sizeof(float) * (size_t)B * H);
        *use_hidden = 0;
        return;
    }
    *use_hidden = 1;
    memset(dhidden, 0, sizeof(float) * (size_t)a->N * H);
    for (int b = 0; b < B; b++) {
        const float *g = denc + (size_t)b * H;
        float *rows = dhidden + (size_t)a->offsets[b] * H;
        const int n = pooling == MTB_POOL_CLS ? 1 : a->lengths[b];
        const float w = 1.0f / (float)n;
        for (int t = 0; t < n; t++)
            for (int h = 0; h < H; h++)
                rows[(size_t)t * H + h] = g[h] * w;
    }
}
