/* index.h: chunk id -> (pack, offset, length).
 * Memory: the main table is a sorted array of 44-byte entries plus a fixed
 * 256 KiB directory on the first 16 bits of the id, so a loaded index costs
 * 44 bytes per chunk; entries added since the last idx_compact sit in a
 * small open-addressing table until then. Not thread-safe: the repo holds a
 * mutex around every call.
 * Index objects (storage "index/<id>") are encoded by idx_file_encode:
 *   "TMIX" u32 version(1) u32 npacks, then per pack: pack id[32] u32 n,
 *   then n x (chunk id[32] u32 offset u32 length u32 raw_length).
 * (The repo seals that with AD "tidemark index v1".) */
#ifndef TM_INDEX_INDEX_H
#define TM_INDEX_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/err.h"
#include "engine/common/id.h"
#include "engine/pack/pack.h"

#define IDX_PACK_PENDING UINT32_MAX

typedef struct IdxEntry {
    Id id;
    uint32_t pack;     /* index into the pack table, or IDX_PACK_PENDING */
    uint32_t offset;
    uint32_t length;
} IdxEntry;

typedef struct Index Index;

int idx_new(Index **out, Err *err);
void idx_free(Index *x);   /* accepts NULL */

/* Pack table: returns the pack's number, adding it if new. */
int idx_pack_intern(Index *x, const Id *pack_id, uint32_t *out, Err *err);
const Id *idx_pack_id(const Index *x, uint32_t pack);
/* true when the pack is in the pack table (its number in *out, may be NULL). */
bool idx_pack_lookup(const Index *x, const Id *pack_id, uint32_t *out);
size_t idx_pack_count(const Index *x);

/* Add (or, for a pending entry, complete) an entry. Adding an id that is
 * already present with a real pack keeps the first one (returns 0). */
int idx_add(Index *x, const Id *id, uint32_t pack, uint32_t offset, uint32_t length, Err *err);
bool idx_lookup(const Index *x, const Id *id, IdxEntry *out);
/* Drop a pending entry (its upload failed). */
void idx_remove_pending(Index *x, const Id *id);
/* Move completed recent entries into the sorted main table. */
int idx_compact(Index *x, Err *err);
size_t idx_count(const Index *x);
/* Bytes of heap this index uses (for the 48-bytes-per-chunk target). */
size_t idx_memory(const Index *x);

/* Visit every entry with a real pack (order unspecified). Stop on non-zero. */
typedef int (*IdxVisitFn)(void *ctx, const IdxEntry *e, Err *err);
int idx_foreach(const Index *x, IdxVisitFn fn, void *ctx, Err *err);

/* ---- index objects ---- */
typedef struct IdxFilePack {
    Id pack_id;
    PackEntry *entries;
    size_t n;
} IdxFilePack;

int idx_file_encode(const IdxFilePack *packs, size_t npacks, Buf *out, Err *err);
/* Calls fn for each pack of an encoded index object; entries borrowed. */
typedef int (*IdxFilePackFn)(void *ctx, const Id *pack_id, const PackEntry *e, size_t n, Err *err);
int idx_file_decode(const uint8_t *data, size_t len, IdxFilePackFn fn, void *ctx, Err *err);

#endif
