/* bfloat16 numbers and matrix products on them: groundwork for a bf16
 * precision mode (bf16 operands, fp32 accumulation, fp32 master weights
 * kept elsewhere).
 *
 * A bf16 number is the top 16 bits of a float: the same sign and 8-bit
 * exponent, 7 mantissa bits.  Widening is exact; narrowing rounds to
 * nearest, ties to even.
 *
 * Two products with cblas_sgemm's meaning (row-major, C (M, N) =
 * alpha op(A) op(B) + beta C, op(A) (M, K), op(B) (K, N), C fp32):
 *  - mtb_bf16_gemm: oneDNN's matmul, on the CPU's bf16 dot-product units
 *    (or oneDNN's AVX-512 emulation of them).  It fails, with a negative
 *    code, where oneDNN has no bf16 matmul for this CPU; it never falls
 *    back on its own, so a caller that asked for bf16 knows whether it
 *    got it.
 *  - mtb_bf16_gemm_emulated: every CPU; widens the operands to float
 *    (exactly) and calls cblas_sgemm, so it equals bf16 products
 *    accumulated in fp32 up to summation order.
 * As with cblas, beta == 0 means C is not read (it may hold NaNs). */
#ifndef MTBERT_BF16_H
#define MTBERT_BF16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Round to nearest even.  A NaN stays a NaN, made quiet, with its sign
 * and the top of its payload; +-inf stay +-inf; a float beyond the
 * largest bf16 by half a unit or more becomes inf. */
uint16_t mtb_bf16_from_float(float x);
float mtb_bf16_to_float(uint16_t h);

/* dst (n) = mtb_bf16_from_float(src) element by element, bit for bit. */
void mtb_bf16_convert(uint16_t *dst, const float *src, size_t n);
/* dst (n) = each src value rounded to bf16, kept as float (dst may be src). */
void mtb_bf16_round(float *dst, const float *src, size_t n);

/* True where the CPU has bf16 dot-product instructions the operating
 * system lets programs use: AVX512_BF16 or AMX-BF16. */
bool mtb_bf16_native(void);
/* The fastest of them: "AMX-BF16", "AVX512_BF16" or "none". */
const char *mtb_bf16_units(void);

/* mtb_bf16_gemm's failures (negative, unlike MTB_E*: nothing here is an
 * exit status). */
enum {
    MTB_BF16_EINVAL = -1, /* a negative size, or a leading dimension below the width */
    MTB_BF16_EUNIMPL = -2, /* oneDNN has no implementation on this CPU */
    MTB_BF16_EDNNL = -3,   /* any other oneDNN failure, out of memory included */
};
const char *mtb_bf16_strerror(int code);

/* op(A) is A (M, K) with row stride lda, or with trans_a A^T where A is
 * (K, M); op(B) likewise (K, N), or B^T with B (N, K).  0 on success, else
 * an MTB_BF16_E* code and C untouched.  M == 0 or N == 0 does nothing;
 * K == 0 scales C by beta; neither needs oneDNN.  Created primitives are
 * cached by shape, so repeated shapes cost one creation.  Calls from several
 * threads are safe and are serialised; oneDNN spreads each product over its
 * own OpenMP threads. */
int mtb_bf16_gemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                  const uint16_t *A, int lda, const uint16_t *B, int ldb, float beta, float *C,
                  int ldc);

/* Whether mtb_bf16_gemm works here: probed once, by creating and running a
 * small product with alpha and beta and checking its exact result. */
bool mtb_bf16_gemm_available(void);
/* The oneDNN implementation the probe got (such as "brg:avx512_core_amx"),
 * or "none". */
const char *mtb_bf16_gemm_impl(void);

/* The same product on any CPU; invalid sizes do nothing. */
void mtb_bf16_gemm_emulated(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                            const uint16_t *A, int lda, const uint16_t *B, int ldb, float beta,
                            float *C, int ldc);

/* mtb_bf16_gemm's oneDNN path (descriptors, strides, scales, post-op,
 * cache) with fp32 operands, which oneDNN implements on every x86 CPU: so
 * the path can be tested where bf16 is unimplemented. */
int mtb_bf16_dnnl_sgemm(bool trans_a, bool trans_b, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb, float beta, float *C,
                        int ldc);
/* Primitives created by the two functions above since the program started
 * (the probe's included): what tests use to see the cache work. */
long mtb_bf16_primitives_created(void);

#endif
