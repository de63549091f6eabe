/* What mtbert promises about repeating a computation.
 *
 * Same machine, same thread count, same options and seed: bit-identical
 * losses, encodings and weights, and a resumed run equals the uninterrupted
 * one bit for bit.  Every reduction then runs in the same order: OpenBLAS
 * splits a product between threads by its shape and the thread count only,
 * and the worker pool's items own their outputs.
 *
 * Another thread count, a sentence alone or inside a padded batch, another
 * CPU (another OpenBLAS kernel): the same weights give encodings, scores and
 * losses equal within MTB_RESULT_RTOL, measured against the largest
 * magnitude of the vector compared.  Not bit for bit: OpenBLAS picks its
 * kernel by CPU, and within a kernel the order of a dot product's additions
 * may depend on the matrix shape and on how the work is split between
 * threads.  Training follows the same course within that tolerance over its
 * first steps; over a long run the differences grow (AdamW normalises
 * gradients that are nearly all rounding error), so weights are compared
 * only on the same machine and thread count.
 */
#ifndef MTBERT_REPRODUCIBILITY_H
#define MTBERT_REPRODUCIBILITY_H

#include <math.h>
#include <stddef.h>

#define MTB_RESULT_RTOL 1e-5

/* max |a - b| over max(|a|, |b|): the measure MTB_RESULT_RTOL bounds.
 * 0 for two all-zero vectors. */
static inline double mtb_max_rel_diff(const float *a, const float *b, size_t n)
{
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
        scale = fmax(scale, fmax(fabs((double)a[i]), fabs((double)b[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

#endif
