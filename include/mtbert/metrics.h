/* Evaluation metrics of the minBERT tasks. */
#ifndef MTBERT_METRICS_H
#define MTBERT_METRICS_H

#include <stddef.h>

/* Index of the largest of n values (the first on ties): a predicted class. */
int mtb_argmax(const float *v, int n);

/* Fraction of equal entries; 0 for n == 0. */
double mtb_accuracy(const int *pred, const int *gold, size_t n);
/* Pearson correlation, accumulated in double; NAN when n < 2 or a side is constant. */
double mtb_pearson(const float *x, const float *y, size_t n);

#endif
