/* Linear algebra on the methods' T x T matrices (T <= 3), in double: what
 * the merge methods need and nothing more.  Library-internal. */
#ifndef MTBERT_SMALL_LINALG_H
#define MTBERT_SMALL_LINALG_H

#include <stdbool.h>

#include "mtbert/merge.h"

#define SL_MAX (MTB_MAX_TASKS + 1) /* room for a bordered system */

/* Solves A x = b (n x n, row-major) by Gaussian elimination with partial
 * pivoting.  False when a pivot of the first n_checked columns is below
 * rel_tol times A's largest entry (singular up to the rounding its entries
 * carry), or any pivot is 0; x is then untouched. */
bool sl_solve(const double *A, const double *b, int n, double rel_tol, int n_checked,
              double *x);

/* Eigen-decomposition of a symmetric A (n x n) by cyclic Jacobi rotations:
 * eigenvalues ascending in lambda, eigenvector j in column j of V. */
void sl_sym_eigen(const double *A, int n, double *lambda, double *V);

/* x' A x */
double sl_quad(const double *A, int n, const double *x);

/* One step of torch.optim.Adam (betas 0.9 and 0.999, eps 1e-8, no weight
 * decay; torch's order of operations, in double) on x (n) with gradient g;
 * m and v are its moments, *steps its step count (incremented). */
void sl_adam_step(double *x, double *m, double *v, double *steps, const double *g, int n,
                  double lr);

/* Entry (a, b) of the whole-encoder Gram matrix of a step. */
static inline double sl_gram(const mtb_merge_input *in, int a, int b)
{
    return in->gram[a * in->n_tasks + b];
}

#endif
