/* progress.h: throttled progress lines on stderr for long work (bytes,
 * items, rate, ETA), only when enabled (a terminal, not --quiet). */
#ifndef TM_COMMON_PROGRESS_H
#define TM_COMMON_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Progress Progress;

/* total_bytes / total_items may be 0 when unknown (no ETA then). */
Progress *progress_new(const char *what, uint64_t total_bytes, uint64_t total_items, bool enabled);
/* Add to the counters; redraws at most 4 times a second. Thread-safe. */
void progress_add(Progress *p, uint64_t bytes, uint64_t items);
/* Final line (when enabled) and free. Accepts NULL. */
void progress_done(Progress *p);

#endif
