/* The rows of an embedding table that a step's gradient touches.
 *
 * A batch uses a few hundred of the 30,522 word-embedding rows, so the rest
 * of that table's gradient is zero.  Passes over the flat gradient (zeroing,
 * the Gram matrix, AdamW) can then skip those rows without changing a single
 * result: the table lies at [offset, offset + n_rows * width) of the flat
 * vector, and only the rows listed (ascending, no repeats) may be nonzero in
 * the gradients the pass reads. */
#ifndef MTBERT_SPARSE_ROWS_H
#define MTBERT_SPARSE_ROWS_H

#include <stddef.h>

typedef struct mtb_sparse_rows {
    size_t offset;    /* first float of the table in the flat vector */
    size_t width;     /* floats per row */
    size_t n_rows;    /* rows of the table */
    const int *rows;  /* the rows that may be nonzero, ascending */
    size_t n_listed;
} mtb_sparse_rows;

#endif
