/* xoshiro256** (Blackman & Vigna) seeded through splitmix64.
 *
 * Every function here is a pure function of the four state words, so a run
 * depends only on the seed and the sequence of calls: no cached second
 * Box-Muller value, no hidden globals. */
#include "mtbert/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void mtb_rng_seed(mtb_rng *rng, uint64_t seed)
{
    /* splitmix64 never yields four zero words in a row, so the all-zero state
     * that would lock xoshiro at zero cannot be reached from any seed. */
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

float mtb_rng_normal(mtb_rng *rng)
{
    /* Drawn in double with 53 bits so the log never sees 0 (u1 is in (0, 1])
     * and the tails reach past the ~5.8 sigma a 24-bit u1 would cap them at. */
    double u1 = (double)((mtb_rng_next(rng) >> 11) + 1) * 0x1.0p-53;
    double u2 = (double)(mtb_rng_next(rng) >> 11) * 0x1.0p-53;
    const double two_pi = 6.283185307179586476925286766559;
    return (float)(sqrt(-2.0 * log(u1)) * cos(two_pi * u2));
}

uint32_t mtb_rng_below(mtb_rng *rng, uint32_t n)
{
    if (n == 0)
        return 0;
    /* Lemire's multiply-shift: the high word of x*n is uniform on [0, n)
     * once the few low words that would over-represent some values are
     * rejected. */
    uint64_t m = (mtb_rng_next(rng) >> 32) * (uint64_t)n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (mtb_rng_next(rng) >> 32) * (uint64_t)n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}
