/* Losses on pairs of sentence encodings that the seed project could not
 * make work, as options next to its heads' BCE and MSE (chosen by
 * mtb_pair_losses, mtbert/multitask.h).
 *
 *  - Multiple negatives ranking loss (Henderson et al. 2017, "Efficient
 *    Natural Language Response Suggestion for Smart Reply"; the form of
 *    sentence-transformers' MultipleNegativesRankingLoss): each anchor u_i
 *    of a positive pair must pick its own partner v_i among every v_j of
 *    the batch (in-batch negatives),
 *        L = mean_i -log softmax_j(s cos(u_i, v_j))_i,   s = 20.
 *    For paraphrase the positive pairs are the duplicates (label 1), their
 *    two questions encoded separately (a bi-encoder term beside the
 *    cross-encoder head); for similarity, the pairs scored 4 or more.
 *  - CoSENT (Su 2022; sentence-transformers' CoSENTLoss) for similarity:
 *    every pair of pairs whose gold scores are ordered must have their
 *    cosines ordered the same way,
 *        L = log(1 + sum_{(i,j): y_i > y_j} exp(s (cos_j - cos_i))),  s = 20.
 *
 * Cosines use normalised vectors, x / max(|x|, 1e-12), as
 * torch.nn.functional.normalize does.  Both functions add their gradient
 * into du and dv (either may be NULL) and return the loss. */
#ifndef MTBERT_PAIR_LOSSES_H
#define MTBERT_PAIR_LOSSES_H

/* u, v: (B, H).  Anchors are the i with positive[i]; loss 0 (and no
 * gradient) when there is none. */
float mtb_mnrl(const float *u, const float *v, const unsigned char *positive, int B, int H,
               float scale, float *du, float *dv);

/* u, v: (B, H), labels (B). */
float mtb_cosent(const float *u, const float *v, const float *labels, int B, int H, float scale,
                 float *du, float *dv);

#endif
