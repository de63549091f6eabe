/* Learning-rate schedules (formulas in schedule.h). */
#include "mtbert/schedule.h"

#include <math.h>
#include <string.h>

static const char *const names[] = {"constant", "linear", "cosine"};

void mtb_schedule_defaults(mtb_schedule *s)
{
    s->kind = MTB_SCHEDULE_CONSTANT;
    s->warmup_steps = 0;
    s->warmup_fraction = -1.0;
    s->total_steps = 0;
}

int mtb_schedule_parse(const char *name, mtb_schedule_kind *kind)
{
    for (int k = 0; k < (int)(sizeof names / sizeof *names); k++)
        if (strcmp(name, names[k]) == 0) {
            *kind = (mtb_schedule_kind)k;
            return 0;
        }
    return -1;
}

const char *mtb_schedule_name(mtb_schedule_kind kind)
{
    return (int)kind >= 0 && (int)kind < (int)(sizeof names / sizeof *names) ? names[kind]
                                                                             : "unknown";
}

long mtb_schedule_warmup(const mtb_schedule *s)
{
    if (s->warmup_fraction >= 0) /* rounded up, as transformers' warmup_ratio */
        return (long)ceil(s->warmup_fraction * (double)s->total_steps);
    return s->warmup_steps;
}

double mtb_schedule_factor(const mtb_schedule *s, long step)
{
    const double k = (double)(step > 0 ? step - 1 : 0);
    const double w = (double)mtb_schedule_warmup(s), n = (double)s->total_steps;
    if (k < w)
        return k / fmax(1.0, w);
    if (s->kind == MTB_SCHEDULE_CONSTANT || s->total_steps <= 0)
        return 1.0;
    if (k >= n) /* past the horizon (transformers' cosine would rise again) */
        return 0.0;
    const double span = fmax(1.0, n - w);
    if (s->kind == MTB_SCHEDULE_LINEAR)
        return fmax(0.0, (n - k) / span);
    return fmax(0.0, 0.5 * (1.0 + cos(M_PI * (k - w) / span)));
}
