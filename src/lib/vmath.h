/* Branch-free float functions that gcc vectorises inside elementwise loops,
 * where the libm calls (expf, erff) stay scalar.  Internal to the library.
 *
 * Every step is a plain IEEE operation in a fixed order (C11 mode keeps gcc
 * from contracting a*b+c into a fused multiply-add), so the results are the
 * same bits on every x86-64 CPU and vector width. */
#ifndef MTBERT_VMATH_H
#define MTBERT_VMATH_H

#include <stdint.h>
#include <string.h>

/* Compiles a hot elementwise loop for AVX-512, AVX2 and baseline x86-64 and
 * picks the one the CPU has when the program starts (an ifunc).  Wider
 * vectors run the same IEEE operations in the same order, so every version
 * gives the same bits.  Only with gcc on x86-64 Linux; elsewhere the
 * baseline build alone. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define MTB_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MTB_VECTOR_CLONES
#endif

/* e^x within 2 ulp for x in [-87, 88]; clamped outside, so it never
 * returns 0, infinity or a subnormal for a number (callers only use it
 * where those extremes are negligible), and NaN stays NaN, so a diverged
 * value still reaches the divergence guard.  2^k e^r with k = round(x log2 e)
 * and |r| <= ln2 / 2, r taken in two parts (Cody & Waite) and e^r as its
 * degree-7 Taylor polynomial (truncation below 3e-9). */
static inline float mtb_vexpf(float x)
{
    /* Written so that NaN lands on -87: the integer below must be in range. */
    float xc = x > -87.0f ? x : -87.0f;
    xc = xc < 88.0f ? xc : 88.0f;
    /* Adding and removing 1.5 * 2^23 rounds to the nearest integer. */
    const float kf = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = (xc - kf * 0.693145751953125f) - kf * 1.42860682030941723212e-6f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const int32_t bits = ((int32_t)kf + 127) * (1 << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    const float y = p * scale;
    return x == x ? y : x;
}

/* The standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, from the
 * Chebyshev-fitted erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2), of
 * Numerical Recipes (fractional error below 1.2e-7 for every z >= 0). */
static inline float mtb_vnormal_cdf(float x)
{
    const float a = (x < 0.0f ? -x : x) * 0.70710678118654752440f;
    const float t = 1.0f / (1.0f + 0.5f * a);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float half_erfc = 0.5f * t * mtb_vexpf(p - a * a);
    return x < 0.0f ? half_erfc : 1.0f - half_erfc;
}

#endif
