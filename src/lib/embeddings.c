/* BERT input embeddings: word + absolute position + token type.
 * Ids are trusted: batch construction has already checked them against the
 * table sizes. */
#include "ops.h"

void mtb_embeddings_forward(float *out, const int *ids, const int *types, const int *positions,
                            int n, int H, const float *wte, const float *wpe, const float *wtt)
{
    for (int tok = 0; tok < n; tok++) {
        const float *w = wte + (size_t)ids[tok] * H;
        const float *p = wpe + (size_t)positions[tok] * H;
        const float *y = wtt + (size_t)(types ? types[tok] : 0) * H;
        float *o = out + (size_t)tok * H;
        for (int i = 0; i < H; i++)
            o[i] = w[i] + p[i] + y[i];
    }
}

/* Scatter-add: a word, position or type id that occurs several times
 * collects the sum of its rows' gradients. */
void mtb_embeddings_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
                             const int *ids, const int *types, const int *positions, int n,
                             int H)
{
    for (int tok = 0; tok < n; tok++) {
        const float *d = dout + (size_t)tok * H;
        if (dwte) {
            float *w = dwte + (size_t)ids[tok] * H;
            for (int i = 0; i < H; i++)
                w[i] += d[i];
        }
        if (dwpe) {
            float *p = dwpe + (size_t)positions[tok] * H;
            for (int i = 0; i < H; i++)
                p[i] += d[i];
        }
        if (dwtt) {
            float *y = dwtt + (size_t)(types ? types[tok] : 0) * H;
            for (int i = 0; i < H; i++)
                y[i] += d[i];
        }
    }
}
