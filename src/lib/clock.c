/* The monotonic clock of mtbert/clock.h. */
#include "mtbert/clock.h"

#include <time.h>

double mtb_now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
