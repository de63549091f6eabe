/* Learning-rate schedules: the rate of each step as a factor of the peak.
 *
 * The formulas are Hugging Face transformers' get_constant_schedule_with_warmup,
 * get_linear_schedule_with_warmup and get_cosine_schedule_with_warmup (one
 * half cosine), evaluated at k = step - 1, the number of optimizer steps
 * already taken, as a torch LambdaLR does:
 *
 *   warmup (k < W):  k / max(1, W)            (so the first step of a warmup has rate 0)
 *   constant:        1
 *   linear:          max(0, (N - k) / max(1, N - W))
 *   cosine:          max(0, (1 + cos(pi * (k - W) / max(1, N - W))) / 2)
 *
 * N is the schedule's horizon (the run's total steps); past it linear and
 * cosine stay at 0 (transformers' cosine would rise again).  With N = 0 (a run
 * without a step budget) linear and cosine have nothing to decay towards and
 * stay at 1 after the warmup. */
#ifndef MTBERT_SCHEDULE_H
#define MTBERT_SCHEDULE_H

#include <stdbool.h>

typedef enum mtb_schedule_kind {
    MTB_SCHEDULE_CONSTANT,
    MTB_SCHEDULE_LINEAR,
    MTB_SCHEDULE_COSINE,
} mtb_schedule_kind;

typedef struct mtb_schedule {
    mtb_schedule_kind kind;
    long warmup_steps;      /* W */
    double warmup_fraction; /* < 0: use warmup_steps; else W = ceil(fraction * N) */
    long total_steps;       /* N; 0: no horizon */
} mtb_schedule;

/* Constant, no warmup: the plain AdamW of torch without a scheduler. */
void mtb_schedule_defaults(mtb_schedule *s);

/* "constant", "linear", "cosine"; -1 for anything else. */
int mtb_schedule_parse(const char *name, mtb_schedule_kind *kind);
const char *mtb_schedule_name(mtb_schedule_kind kind);

/* The warmup in steps: warmup_steps, or the fraction of total_steps. */
long mtb_schedule_warmup(const mtb_schedule *s);

/* The factor for 1-based step `step` (the step about to be taken). */
double mtb_schedule_factor(const mtb_schedule *s, long step);

#endif
