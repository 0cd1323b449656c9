/* clock.h: the monotonic clock in seconds, for durations in summaries,
 * progress lines and rates (never for timestamps that are stored). */
#ifndef TM_COMMON_CLOCK_H
#define TM_COMMON_CLOCK_H

/* Seconds on CLOCK_MONOTONIC (an arbitrary origin: subtract two readings). */
double clock_mono_s(void);

#endif
