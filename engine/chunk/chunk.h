/* chunk.h: FastCDC content-defined chunking (gear hash, normalized
 * chunking, level 2). Pure: no I/O, no allocation after chk_new, no state
 * between calls, so one ChkChunker may serve many threads at once.
 * Invariant: cut points depend only on the bytes since the previous cut
 * (within max_size), never on absolute offsets: an early insertion does not
 * move later cuts. The gear table is derived from a repository secret so
 * chunk boundaries do not leak content to someone without the keys. */
#ifndef TM_CHUNK_CHUNK_H
#define TM_CHUNK_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/err.h"

typedef struct ChkParams {
    uint32_t min_size;   /* no cut before this many bytes (>= 64) */
    uint32_t avg_size;   /* target average, a power of two */
    uint32_t max_size;   /* forced cut here (<= CHK_MAX_LIMIT) */
} ChkParams;

#define CHK_MAX_LIMIT (64u << 20)
#define CHK_SEED_LEN 32

/* Defaults per stream kind (docs/FORMAT.md explains the choice). */
#define CHK_PARAMS_FILES  ((ChkParams){512u << 10, 1u << 20, 4u << 20})
#define CHK_PARAMS_DUMP   ((ChkParams){4u << 10, 16u << 10, 64u << 10})
#define CHK_PARAMS_BINLOG ((ChkParams){16u << 10, 64u << 10, 256u << 10})

typedef struct ChkChunker ChkChunker;

/* Check params (ERR_INVALID naming the bad one) and derive the 256-entry
 * gear table from seed with keyed BLAKE2b. *out owned by the caller. */
int chk_new(const ChkParams *params, const uint8_t seed[CHK_SEED_LEN], ChkChunker **out,
            Err *err);
void chk_free(ChkChunker *c);   /* accepts NULL */
const ChkParams *chk_params(const ChkChunker *c);

/* Length of the chunk that starts at buf[0].
 * - A cut found within buf[0..min(len,max)) -> its length.
 * - No cut and len >= max_size -> max_size.
 * - No cut, len < max_size, final -> len (the tail; 0 only when len == 0).
 * - No cut, len < max_size, !final -> 0: feed more bytes and call again
 *   (the caller keeps the same start; the scan restarts from buf[0]). */
size_t chk_cut(const ChkChunker *c, const uint8_t *buf, size_t len, bool final);

#endif
