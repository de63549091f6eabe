/* Finding NaN and infinity before they spread: a non-finite loss, gradient
 * or weight is caught where it appears, named, and never written into a
 * checkpoint or read from one. */
#ifndef MTBERT_FINITE_H
#define MTBERT_FINITE_H

#include <stdbool.h>
#include <stddef.h>

#include "mtbert/bert.h"
#include "mtbert/heads.h"

/* true when every entry is a finite number (one pass over the bits, which
 * the compiler vectorises: about memory speed). */
bool mtb_all_finite(const float *x, size_t n);

/* The name of the first encoder tensor with a non-finite entry in vec,
 * which has the layout of m->params (parameters or gradients); NULL if none. */
const char *mtb_bert_first_nonfinite(const mtb_bert *m, const float *vec);

/* The same for the task heads ("heads.sst.weight", ...); vec has the layout
 * of h->params. */
const char *mtb_heads_first_nonfinite(const mtb_heads *h, const float *vec);

#endif
