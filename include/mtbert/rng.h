/* Small deterministic random number generator (xoshiro256**, four 64-bit
 * words seeded through splitmix64).  Every random choice in mtbert (initialisation,
 * dropout, shuffling) goes through one of these so a seed reproduces a run. */
#ifndef MTBERT_RNG_H
#define MTBERT_RNG_H

#include <stdint.h>

typedef struct mtb_rng {
    uint64_t s[4];
} mtb_rng;

void mtb_rng_seed(mtb_rng *rng, uint64_t seed);

/* Inline: dropout draws one number per activation, and a call per draw
 * cost as much as the draw itself. */
static inline uint64_t mtb_rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t mtb_rng_next(mtb_rng *rng)
{
    uint64_t *s = rng->s;
    const uint64_t result = mtb_rng_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = mtb_rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 24 random bits: the top 24 bits fit a float
 * mantissa exactly, so the result is a multiple of 2^-24 and can never
 * round up to 1. */
static inline float mtb_rng_uniform(mtb_rng *rng)
{
    return (float)(mtb_rng_next(rng) >> 40) * 0x1.0p-24f;
}

/* Standard normal (Box-Muller). */
float mtb_rng_normal(mtb_rng *rng);
/* Uniform integer in [0, n). */
uint32_t mtb_rng_below(mtb_rng *rng, uint32_t n);

#endif
