/* Non-finite detection over flat parameter-layout vectors. */
#include "finite.h"

#include <stdint.h>
#include <string.h>

bool mtb_all_finite(const float *x, size_t n)
{
    /* An IEEE float is NaN or infinite exactly when its exponent bits are
     * all ones; OR-ing the test over the vector keeps the loop branch-free. */
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
    }
    return bad == 0;
}

const char *mtb_bert_first_nonfinite(const mtb_bert *m, const float *vec)
{
    for (int i = 0; i < m->n_info; i++)
        if (!mtb_all_finite(vec + m->info[i].offset, m->info[i].numel))
            return m->info[i].name;
    return NULL;
}

const char *mtb_heads_first_nonfinite(const mtb_heads *h, const float *vec)
{
    const struct {
        const char *name;
        const float *view;
        size_t n;
    } parts[] = {
        {"heads.sst.weight", h->sst_w, (size_t)MTB_SST_CLASSES * (size_t)h->H},
        {"heads.sst.bias", h->sst_b, MTB_SST_CLASSES},
        {"heads.para.weight", h->para_w, (size_t)h->H},
        {"heads.para.bias", h->para_b, 1},
    };
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        if (!mtb_all_finite(vec + (parts[i].view - h->params), parts[i].n))
            return parts[i].name;
    return NULL;
}
