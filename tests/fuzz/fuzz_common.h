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


#endif
