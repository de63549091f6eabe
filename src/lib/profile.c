/* Per-thread operation timings (see profile.h). */
#include "mtbert/profile.h"

#include <string.h>

_Thread_local bool mtb_profiling;
static _Thread_local mtb_profile totals;

void mtb_profile_enable(bool on)
{
    if (on)
        memset(&totals, 0, sizeof totals);
    mtb_profiling = on;
}

const mtb_profile *mtb_profile_get(void) { return &totals; }

void mtb_prof_end(mtb_prof_op op, double t0)
{
    if (!mtb_profiling)
        return;
    totals.seconds[op] += mtb_now_seconds() - t0;
    totals.calls[op]++;
}

const char *mtb_profile_name(mtb_prof_op op)
{
    static const char *const names[MTB_PROF_N] = {
        "embeddings forward", "embeddings backward", "dense forward",   "dense backward",
        "attention forward",  "attention backward",  "LayerNorm forward", "LayerNorm backward",
        "GELU forward",       "GELU backward",       "dropout+residual forward",
        "dropout+residual backward", "pooler",        "heads and encodings",
        "gradient bookkeeping", "gradient merge",     "AdamW",
    };
    return (int)op >= 0 && op < MTB_PROF_N ? names[op] : "?";
}
