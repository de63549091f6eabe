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
uint64_t mtb_rng_next(mtb_rng *rng);
/* Uniform in [0, 1) with 24 random bits. */
float mtb_rng_uniform(mtb_rng *rng);
/* Standard normal (Box-Muller). */
float mtb_rng_normal(mtb_rng *rng);
/* Uniform integer in [0, n). */
uint32_t mtb_rng_below(mtb_rng *rng, uint32_t n);

#endif
