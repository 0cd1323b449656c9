/* tst_util.h: small helpers for unit tests: deterministic random data and
 * temp directories. */
#ifndef TM_TESTS_TST_UTIL_H
#define TM_TESTS_TST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with deterministic pseudo-random bytes (xorshift64*, seed). */
void tst_fill_random(uint8_t *buf, size_t len, uint64_t seed);
/* mkdtemp under $TMPDIR (or /tmp); malloc'd path; aborts on failure. */
char *tst_tempdir(const char *tag);
/* rm -rf path (best effort). */
void tst_rmtree(const char *path);

#endif
