/* pack.h: packs bundle many sealed blobs into one storage object.
 *
 * Layout of a pack object (all integers little-endian):
 *   "TMPACK01"                          8-byte magic
 *   blob 0 .. blob n-1                  each cry_seal(comp_blob(chunk)), AD = chunk id
 *   sealed TOC                          cry_seal(toc), AD = "tidemark pack toc v1"
 *   u32 sealed TOC length, "TMPK"       8-byte trailer
 * TOC plaintext: u32 version (1), u32 count, then count entries of
 *   id[32] u32 offset u32 length u32 raw_length     (44 bytes each)
 * offset/length locate the sealed blob inside the pack; raw_length is the
 * chunk's plaintext size. The TOC lets the index be rebuilt from packs alone
 * and hides chunk sizes from the storage.
 * Invariant: a PackWriter never exceeds PACK_MAX_SIZE. */
#ifndef TM_PACK_PACK_H
#define TM_PACK_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/err.h"
#include "engine/common/id.h"
#include "engine/crypto/crypto.h"

#define PACK_MAGIC "TMPACK01"
#define PACK_MAGIC_LEN 8
#define PACK_TRAILER_LEN 8
#define PACK_TOC_ENTRY_LEN 44
#define PACK_MAX_SIZE (1u << 30)
#define PACK_TOC_AD "tidemark pack toc v1"

typedef struct PackEntry {
    Id id;
    uint32_t offset;
    uint32_t length;
    uint32_t raw_length;
} PackEntry;

typedef struct PackWriter PackWriter;

int pack_writer_new(PackWriter **out, Err *err);
void pack_writer_free(PackWriter *pw);   /* accepts NULL */
/* Append an already sealed blob. */
int pack_writer_add(PackWriter *pw, const Id *id, const uint8_t *sealed, size_t len,
                    uint32_t raw_length, Err *err);
/* Reserve room for a blob of at most cap bytes and return where to write it;
 * then pack_writer_commit with the actual length. Saves one copy. */
int pack_writer_reserve(PackWriter *pw, size_t cap, uint8_t **out_dst, Err *err);
int pack_writer_commit(PackWriter *pw, const Id *id, size_t len, uint32_t raw_length, Err *err);
size_t pack_writer_size(const PackWriter *pw);
size_t pack_writer_count(const PackWriter *pw);
/* Borrowed: the entries added so far. */
const PackEntry *pack_writer_entries(const PackWriter *pw);
/* Append the sealed TOC and trailer; *out_data/out_len borrow the buffer,
 * valid until pack_writer_reset or free. */
int pack_writer_finish(PackWriter *pw, const CryKeys *k, const uint8_t **out_data, size_t *out_len,
                       Err *err);
/* Undo pack_writer_finish (drop the TOC and trailer it appended) so that a
 * pack whose upload failed can take more blobs and be finished again. */
void pack_writer_unfinish(PackWriter *pw);
/* Empty the writer for the next pack (memory kept). */
void pack_writer_reset(PackWriter *pw);

/* Parse the trailer of a pack of total size pack_size: where the sealed TOC
 * starts and its length. tail holds the last `tail_len` bytes of the pack. */
int pack_trailer_parse(const uint8_t *tail, size_t tail_len, uint64_t pack_size,
                       uint64_t *out_toc_off, uint32_t *out_toc_len, Err *err);
/* Open the sealed TOC and return its entries (malloc'd array, caller frees).
 * ERR_AUTH/ERR_CORRUPT when damaged; every entry is checked to lie inside
 * [PACK_MAGIC_LEN, toc_off). */
int pack_toc_open(const CryKeys *k, const uint8_t *sealed, size_t len, uint64_t toc_off,
                  PackEntry **out, size_t *out_n, Err *err);

#endif
