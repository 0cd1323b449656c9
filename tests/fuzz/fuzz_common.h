/* fuzz_common.h: what the libFuzzer harnesses share: a check that aborts
 * (so libFuzzer keeps the input) and a cursor over the input bytes.
 * Invariant: a harness never reads past the input it was given. */
#ifndef TM_TESTS_FUZZ_COMMON_H
#define TM_TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FZ_CHECK(c)                                                                       \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #c);    \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline uint32_t fz_get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static inline uint32_t fz_get32(const uint8_t *p) { return fz_get16(p) | fz_get16(p + 2) << 16; }
static inline void fz_set32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#endif
