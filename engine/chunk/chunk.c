/* chunk.c: FastCDC with a keyed gear table and normalized chunking level 2.
 * Gear table: gear[8*j + k] = LE64(BLAKE2b-512(key = seed,
 * msg = "tidemark chunk gear v1" || byte j)[8k .. 8k+8]) for j in 0..31.
 * Rolling hash h = (h << 1) + gear[byte]; bit b of h depends on the last
 * b+1 bytes only, so the masks use high bits (window up to 64 bytes).
 * Scan of one chunk: hashing starts 64 bytes before min_size (a full window,
 * min_size >= 64), cuts are tested from length min_size on: lengths below
 * avg_size need (h & mask_s) == 0 (log2(avg)+2 bits), lengths from avg_size
 * on need (h & mask_l) == 0 (log2(avg)-2 bits), max_size forces a cut.
 * Invariant: the decision at every byte depends only on the 64 bytes before
 * it and on its distance to the chunk start, never on what follows. */
#include "engine/chunk/chunk.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define GEAR_TAG "tidemark chunk gear v1"
#define WINDOW 64u

struct ChkChunker {
    ChkParams params;
    uint64_t mask_s;   /* stricter mask, before avg_size */
    uint64_t mask_l;   /* looser mask, from avg_size on */
    uint64_t gear[256];
};

/* A mask of n one-bits spread evenly over bits 63..16 (the 48 bits that see
 * a window of 17..64 bytes). Spread bits, not contiguous low bits: low bits
 * only see the last few bytes, so they would make cuts depend on a tiny
 * window and cluster on repetitive content. */
static uint64_t spread_mask(unsigned n)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < n; i++) m |= 1ull << (63u - (i * 48u) / n);
    return m;
}

static unsigned log2_exact(uint32_t v)
{
    unsigned b = 0;
    while ((1u << b) < v) b++;
    return b;
}

int chk_new(const ChkParams *p, const uint8_t seed[CHK_SEED_LEN], ChkChunker **out, Err *err)
{
    ChkChunker *c = NULL;
    uint8_t block[64];
    uint8_t msg[sizeof GEAR_TAG];   /* tag without its NUL, then the block index */
    unsigned bits;

    if (p->min_size < 64)
        return err_set(err, ERR_INVALID, "chunker min_size %u is below 64", p->min_size);
    if (p->avg_size == 0 || (p->avg_size & (p->avg_size - 1)) != 0)
        return err_set(err, ERR_INVALID, "chunker avg_size %u is not a power of two", p->avg_size);
    if (p->min_size >= p->avg_size)
        return err_set(err, ERR_INVALID, "chunker min_size %u is not below avg_size %u",
                       p->min_size, p->avg_size);
    if (p->avg_size >= p->max_size)
        return err_set(err, ERR_INVALID, "chunker max_size %u is not above avg_size %u",
                       p->max_size, p->avg_size);
    if (p->max_size > CHK_MAX_LIMIT)
        return err_set(err, ERR_INVALID, "chunker max_size %u is above the limit of %u",
                       p->max_size, CHK_MAX_LIMIT);
    if (sodium_init() < 0) return err_set(err, ERR_IO, "libsodium failed to initialise");

    c = calloc(1, sizeof *c);
    if (!c) return err_set(err, ERR_NOMEM, "out of memory creating chunker");
    c->params = *p;
    bits = log2_exact(p->avg_size);   /* >= 7: avg > min >= 64 */
    c->mask_s = spread_mask(bits + 2);
    c->mask_l = spread_mask(bits - 2);

    memcpy(msg, GEAR_TAG, sizeof GEAR_TAG - 1);
    for (unsigned j = 0; j < 32; j++) {
        msg[sizeof GEAR_TAG - 1] = (uint8_t)j;
        crypto_generichash(block, sizeof block, msg, sizeof msg, seed, CHK_SEED_LEN);
        for (unsigned k = 0; k < 8; k++) {
            uint64_t v = 0;
            for (unsigned b = 0; b < 8; b++) v |= (uint64_t)block[8 * k + b] << (8 * b);
            c->gear[8 * j + k] = v;
        }
    }
    sodium_memzero(block, sizeof block);
    *out = c;
    return 0;
}

void chk_free(ChkChunker *c)
{
    if (!c) return;
    sodium_memzero(c, sizeof *c);   /* the gear table is derived from a secret */
    free(c);
}

const ChkParams *chk_params(const ChkChunker *c)
{
    return &c->params;
}

/* Roll the hash over buf[from..to) looking for (h & mask) == 0 after a byte;
 * returns the length (index + 1) of the first such byte, or 0. Unrolled by
 * two: the loop is the whole cost of chunking. */
static inline size_t scan(const uint64_t *restrict gear, const uint8_t *restrict buf, size_t from,
                          size_t to, uint64_t mask, uint64_t *hp)
{
    uint64_t h = *hp;
    size_t i = from;
    for (; i + 2 <= to; i += 2) {
        h = (h << 1) + gear[buf[i]];
        if (!(h & mask)) { *hp = h; return i + 1; }
        h = (h << 1) + gear[buf[i + 1]];
        if (!(h & mask)) { *hp = h; return i + 2; }
    }
    if (i < to) {
        h = (h << 1) + gear[buf[i]];
        if (!(h & mask)) { *hp = h; return i + 1; }
    }
    *hp = h;
    return 0;
}

size_t chk_cut(const ChkChunker *c, const uint8_t *buf, size_t len, bool final)
{
    const size_t min = c->params.min_size, avg = c->params.avg_size, max = c->params.max_size;
    size_t end = len < max ? len : max;
    size_t cut;
    uint64_t h = 0;

    if (end < min) return final ? len : 0;   /* end < min < max, so len < max */
    /* Warm the window on the WINDOW bytes before min (no cut tested). */
    for (size_t i = min - WINDOW; i < min - 1; i++) h = (h << 1) + c->gear[buf[i]];
    /* Lengths min .. avg-1 use the strict mask (byte indices min-1 .. avg-2). */
    cut = scan(c->gear, buf, min - 1, end < avg - 1 ? end : avg - 1, c->mask_s, &h);
    if (cut) return cut;
    /* Lengths avg .. end use the loose mask. */
    if (end > avg - 1) {
        cut = scan(c->gear, buf, avg - 1, end, c->mask_l, &h);
        if (cut) return cut;
    }
    if (len >= max) return max;
    return final ? len : 0;
}
