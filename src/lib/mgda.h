/* MGDA (Sener & Koltun 2018, "Multi-Task Learning as Multi-Objective
 * Optimization"): the update is the point of minimum norm in the convex hull
 * of the task gradients, d = sum_i alpha_i g_i with alpha on the simplex.
 * Where d is not zero it decreases every task's loss at once: d . g_i >=
 * |d|^2 > 0 for every task (the min-norm point's optimality condition).
 *
 * Only the Gram matrix G[i][j] = g_i . g_j is needed, so mtbert solves it
 * exactly from the Gram matrix its conflict statistics already measure
 * (for up to three tasks: every vertex, edge and the interior point of the
 * simplex are candidates, and the smallest alpha' G alpha wins) instead of
 * the paper's Frank-Wolfe iterations. */
#ifndef MTBERT_MGDA_H
#define MTBERT_MGDA_H

/* G: n x n, row-major, symmetric positive semidefinite; 1 <= n <= 3.
 * alpha (n) receives the min-norm weights (>= 0, summing to 1).  Of several
 * minimisers (parallel or zero gradients) the one with the fewest tasks, then
 * the lowest indices, is taken. */
void mtb_mgda_min_norm(const double *G, int n, double *alpha);

#endif
