/* The precision of the dense layers' matrix products.
 *
 *   fp32  OpenBLAS, as gemm.h spreads it over the cores.
 *   bf16  each product's two operands rounded to bfloat16 (8 bits of
 *         mantissa), the products accumulated in fp32: oneDNN's matmul on
 *         the CPU's bf16 units (AVX512_BF16, AMX-BF16).  On a CPU without
 *         them bf16 is emulated: the operands are rounded the same way and
 *         multiplied in fp32 by OpenBLAS, so the numbers are bf16's and the
 *         speed is fp32's or a little less.
 *   auto  bf16 where the CPU has bf16 units and oneDNN runs on them, fp32
 *         elsewhere.
 * Only the products' inputs are rounded.  Weights (the fp32 master copy),
 * their gradients, AdamW's moments, LayerNorm, softmax, GELU, the losses,
 * the Gram matrix and the conflict statistics stay fp32 in every
 * precision, so a checkpoint is the same fp32 file either way and serves
 * both, and the conflict view means the same.  The attention scores and
 * their mixing (small per-head products) stay fp32 too.
 *
 * The setting is process-wide, like the thread count. */
#ifndef MTBERT_PRECISION_H
#define MTBERT_PRECISION_H

#include <stdbool.h>
#include <stddef.h>

typedef enum mtb_precision {
    MTB_PRECISION_FP32,
    MTB_PRECISION_BF16,
    MTB_PRECISION_AUTO,
} mtb_precision;

/* "fp32", "bf16", "auto"; -1 for anything else. */
int mtb_precision_parse(const char *name);
const char *mtb_precision_name(mtb_precision p);

/* Sets the products' precision; returns the one now in force (fp32 or
 * bf16) and, in note, one sentence saying which and why. */
mtb_precision mtb_precision_set(mtb_precision requested, char *note, size_t cap);
/* The last mtb_precision_set's note. */
void mtb_precision_note(char *buf, size_t cap);
/* fp32 until set. */
mtb_precision mtb_precision_get(void);
/* bf16 in force but without bf16 units: the products are emulated. */
bool mtb_precision_emulated(void);
/* "fp32", "bf16 (AMX-BF16, oneDNN brg:avx512_core_amx)", "bf16, emulated
 * (no bf16 units)": for bench, info, logs and the metrics file. */
void mtb_precision_describe(char *buf, size_t cap);

/* C (M, N) = alpha op(A) op(B) + beta C with both operands rounded to bf16
 * and fp32 accumulation; what mtb_sgemm runs while bf16 is in force. */
void mtb_sgemm_bf16(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                    const float *A, int lda, const float *B, int ldb, float beta, float *C,
                    int ldc);

#endif
