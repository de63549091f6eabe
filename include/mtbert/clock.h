/* The one clock mtbert times with: seconds on the monotonic clock, which
 * neither the user nor NTP can set back, so differences are durations.
 * Only differences mean anything; the origin is unspecified. */
#ifndef MTBERT_CLOCK_H
#define MTBERT_CLOCK_H

double mtb_now_seconds(void);

#endif
