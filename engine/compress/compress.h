/* compress.h: per-blob compression. A compressed blob is one type byte
 * followed by the payload: COMP_RAW (payload = input, used whenever zstd
 * does not make it smaller) or COMP_ZSTD (payload = one zstd frame with
 * the content size set). A CompCtx is not thread-safe: one per thread. */
#ifndef TM_COMPRESS_COMPRESS_H
#define TM_COMPRESS_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/common/err.h"

enum { COMP_RAW = 0, COMP_ZSTD = 1 };

typedef struct CompCtx CompCtx;

/* level: zstd level 1..19; 0 means "store only" (never compress). */
int comp_ctx_new(int level, CompCtx **out, Err *err);
void comp_ctx_free(CompCtx *c);   /* accepts NULL */

/* Largest possible comp_blob output for len input bytes. */
size_t comp_bound(size_t len);

/* Compress in into out (cap >= comp_bound(len)). */
int comp_blob(CompCtx *c, const void *in, size_t len, uint8_t *out, size_t cap, size_t *out_len,
              Err *err);
/* Size the blob expands to (from the raw length or the zstd frame header);
 * ERR_CORRUPT on an unknown type or a frame without content size. */
int comp_blob_size(const uint8_t *in, size_t len, size_t *out_size, Err *err);
/* Expand into out (cap >= comp_blob_size). ERR_CORRUPT, naming zstd's
 * error, when the payload is damaged. */
int comp_unblob(CompCtx *c, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                size_t *out_len, Err *err);

#endif
