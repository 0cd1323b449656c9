/* progress.c: a single status line on stderr, redrawn at most 4 times a
 * second: "backup: 412.0 MiB 1,203 files 98.3 MiB/s ETA 0:07". */
#include "engine/common/progress.h"

#include "engine/common/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct Progress {
    pthread_mutex_t mu;
    char what[64];
    uint64_t bytes, items, total_bytes, total_items;
    double start, last;
    bool enabled, drawn;
};

static void human(uint64_t b, char *out, size_t cap)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    snprintf(out, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

Progress *progress_new(const char *what, uint64_t total_bytes, uint64_t total_items, bool enabled)
{
    Progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    pthread_mutex_init(&p->mu, NULL);
    snprintf(p->what, sizeof p->what, "%s", what);
    p->total_bytes = total_bytes;
    p->total_items = total_items;
    p->enabled = enabled;
    p->start = p->last = clock_mono_s();
    return p;
}

static void draw(Progress *p, bool final)
{
    char line[320], b[32], rate[32], eta[32] = "", irate[48] = "";
    double el = clock_mono_s() - p->start, r = el > 0 ? (double)p->bytes / el : 0;
    int n;
    if (el > 0 && p->items)   /* rows/s for loads, files/s for trees */
        snprintf(irate, sizeof irate, " (%.0f/s)", (double)p->items / el);
    human(p->bytes, b, sizeof b);
    human((uint64_t)r, rate, sizeof rate);
    if (!final && p->total_bytes > p->bytes && r > 0) {
        unsigned s = (unsigned)((double)(p->total_bytes - p->bytes) / r);
        snprintf(eta, sizeof eta, " ETA %u:%02u", s / 60, s % 60);
    }
    if (p->total_bytes) {
        char t[32];
        human(p->total_bytes, t, sizeof t);
        n = snprintf(line, sizeof line, "\r%s: %s / %s, %llu items%s, %s/s%s\033[K%s", p->what, b, t,
                     (unsigned long long)p->items, irate, rate, eta, final ? "\n" : "");
    } else {
        n = snprintf(line, sizeof line, "\r%s: %s, %llu items%s, %s/s%s\033[K%s", p->what, b,
                     (unsigned long long)p->items, irate, rate, eta, final ? "\n" : "");
    }
    if (n > 0) {
        ssize_t w = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)w;
    }
    p->drawn = true;
}

void progress_add(Progress *p, uint64_t bytes, uint64_t items)
{
    double t;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->bytes += bytes;
    p->items += items;
    if (p->enabled && ((t = clock_mono_s()) - p->last >= 0.25)) {
        p->last = t;
        draw(p, false);
    }
    pthread_mutex_unlock(&p->mu);
}

void progress_done(Progress *p)
{
    if (!p) return;
    if (p->enabled && p->drawn) draw(p, true);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
