/* index.c: the in-memory chunk index. Invariants: main[] is sorted by id
 * with no duplicates and only real packs; dir[k] is the first position in
 * main whose id's top 16 bits are >= k (dir[65536] = nmain); recent is an
 * open-addressing table (load <= 1/2) of entries not yet compacted. */
#include <stdlib.h>
#include <string.h>

#include "engine/index/index.h"

#define DIR_SIZE 65536u

typedef struct Recent {
    IdxEntry *slots;   /* empty slot: used == 0 */
    uint8_t *used;
    size_t cap, n;
} Recent;

struct Index {
    IdxEntry *main;
    size_t nmain;
    uint32_t *dir;     /* DIR_SIZE + 1 entries */
    Recent recent;
    Id *packs;
    size_t npacks, packs_cap;
    uint32_t *pack_slots;   /* open addressing over packs: value+1, 0 = empty */
    size_t pack_slots_cap;
};

static inline uint64_t id_hash(const Id *id)
{
    uint64_t h;
    memcpy(&h, id->b + 8, 8);   /* ids are uniformly random */
    return h;
}

static inline unsigned top16(const Id *id) { return (unsigned)id->b[0] << 8 | id->b[1]; }

int idx_new(Index **out, Err *err)
{
    Index *x = calloc(1, sizeof *x);
    if (!x) return err_set(err, ERR_NOMEM, "out of memory");
    x->dir = calloc(DIR_SIZE + 1, sizeof *x->dir);
    if (!x->dir) { free(x); return err_set(err, ERR_NOMEM, "out of memory"); }
    *out = x;
    return 0;
}

void idx_free(Index *x)
{
    if (!x) return;
    free(x->main);
    free(x->dir);
    free(x->recent.slots);
    free(x->recent.used);
    free(x->packs);
    free(x->pack_slots);
    free(x);
}

/* ---- pack table ---- */

static int pack_slots_grow(Index *x, Err *err)
{
    size_t nc = x->pack_slots_cap ? x->pack_slots_cap * 2 : 1024;
    uint32_t *s = calloc(nc, sizeof *s);
    if (!s) return err_set(err, ERR_NOMEM, "out of memory growing pack table");
    for (size_t i = 0; i < x->npacks; i++) {
        size_t j = id_hash(&x->packs[i]) & (nc - 1);
        while (s[j]) j = (j + 1) & (nc - 1);
        s[j] = (uint32_t)i + 1;
    }
    free(x->pack_slots);
    x->pack_slots = s;
    x->pack_slots_cap = nc;
    return 0;
}

bool idx_pack_lookup(const Index *x, const Id *pack_id, uint32_t *out)
{
    size_t j;
    if (!x->pack_slots_cap) return false;
    for (j = id_hash(pack_id) & (x->pack_slots_cap - 1); x->pack_slots[j]; j = (j + 1) & (x->pack_slots_cap - 1)) {
        uint32_t p = x->pack_slots[j] - 1;
        if (id_cmp(&x->packs[p], pack_id) == 0) {
            if (out) *out = p;
            return true;
        }
    }
    return false;
}

int idx_pack_intern(Index *x, const Id *pack_id, uint32_t *out, Err *err)
{
    size_t j;
    int rc;
    if ((x->npacks + 1) * 2 > x->pack_slots_cap && (rc = pack_slots_grow(x, err))) return rc;
    j = id_hash(pack_id) & (x->pack_slots_cap - 1);
    while (x->pack_slots[j]) {
        uint32_t p = x->pack_slots[j] - 1;
        if (id_cmp(&x->packs[p], pack_id) == 0) { *out = p; return 0; }
        j = (j + 1) & (x->pack_slots_cap - 1);
    }
    rc = buf_grow(&x->packs, &x->packs_cap, x->npacks + 1, sizeof *x->packs, UINT32_MAX - 1, err);
    if (rc) return err_wrap(err, "pack table");
    x->packs[x->npacks] = *pack_id;
    x->pack_slots[j] = (uint32_t)x->npacks + 1;
    *out = (uint32_t)x->npacks++;
    return 0;
}

const Id *idx_pack_id(const Index *x, uint32_t pack) { return pack < x->npacks ? &x->packs[pack] : NULL; }
size_t idx_pack_count(const Index *x) { return x->npacks; }

/* ---- recent table ---- */

static IdxEntry *recent_find(const Recent *r, const Id *id, size_t *out_slot)
{
    size_t j;
    if (!r->cap) { if (out_slot) *out_slot = 0; return NULL; }
    j = id_hash(id) & (r->cap - 1);
    while (r->used[j]) {
        if (id_cmp(&r->slots[j].id, id) == 0) { if (out_slot) *out_slot = j; return &r->slots[j]; }
        j = (j + 1) & (r->cap - 1);
    }
    if (out_slot) *out_slot = j;
    return NULL;
}

static int recent_rehash(Recent *r, size_t nc, Err *err)
{
    IdxEntry *s = malloc(nc * sizeof *s);
    uint8_t *u = calloc(nc, 1);
    if (!s || !u) { free(s); free(u); return err_set(err, ERR_NOMEM, "out of memory growing index"); }
    for (size_t i = 0; i < r->cap; i++) {
        if (!r->used[i]) continue;
        size_t j = id_hash(&r->slots[i].id) & (nc - 1);
        while (u[j]) j = (j + 1) & (nc - 1);
        s[j] = r->slots[i];
        u[j] = 1;
    }
    free(r->slots);
    free(r->used);
    r->slots = s;
    r->used = u;
    r->cap = nc;
    return 0;
}

static const IdxEntry *main_find(const Index *x, const Id *id)
{
    size_t lo = x->dir[top16(id)], hi = x->dir[top16(id) + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = id_cmp(&x->main[mid].id, id);
        if (c == 0) return &x->main[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

int idx_add(Index *x, const Id *id, uint32_t pack, uint32_t offset, uint32_t length, Err *err)
{
    IdxEntry *e;
    size_t slot;
    int rc;
    if (main_find(x, id)) return 0;
    e = recent_find(&x->recent, id, &slot);
    if (e) {
        if (e->pack == IDX_PACK_PENDING && pack != IDX_PACK_PENDING) {
            e->pack = pack;
            e->offset = offset;
            e->length = length;
        }
        return 0;
    }
    if ((x->recent.n + 1) * 2 > x->recent.cap) {
        if ((rc = recent_rehash(&x->recent, x->recent.cap ? x->recent.cap * 2 : 1024, err))) return rc;
        recent_find(&x->recent, id, &slot);
    }
    x->recent.slots[slot].id = *id;
    x->recent.slots[slot].pack = pack;
    x->recent.slots[slot].offset = offset;
    x->recent.slots[slot].length = length;
    x->recent.used[slot] = 1;
    x->recent.n++;
    return 0;
}

bool idx_lookup(const Index *x, const Id *id, IdxEntry *out)
{
    const IdxEntry *e = main_find(x, id);
    if (!e) e = recent_find(&x->recent, id, NULL);
    if (!e) return false;
    if (out) *out = *e;
    return true;
}

void idx_remove_pending(Index *x, const Id *id)
{
    /* rebuild without it: rare (failed uploads only), so simplicity wins */
    size_t slot;
    IdxEntry *e = recent_find(&x->recent, id, &slot);
    Err err;
    if (!e || e->pack != IDX_PACK_PENDING) return;
    x->recent.used[slot] = 0;
    x->recent.n--;
    recent_rehash(&x->recent, x->recent.cap, &err);   /* same size: cannot fail worse than keeping */
}

static int cmp_entry(const void *a, const void *b)
{
    return id_cmp(&((const IdxEntry *)a)->id, &((const IdxEntry *)b)->id);
}

int idx_compact(Index *x, Err *err)
{
    size_t nnew = 0, npend = 0, i, j, k;
    IdxEntry *fresh = NULL, *merged;
    Recent keep = {0};
    int rc = 0;

    for (i = 0; i < x->recent.cap; i++)
        if (x->recent.used[i]) {
            if (x->recent.slots[i].pack == IDX_PACK_PENDING) npend++;
            else nnew++;
        }
    if (nnew == 0) return 0;
    fresh = malloc(nnew * sizeof *fresh);
    if (!fresh) return err_set(err, ERR_NOMEM, "out of memory compacting index");
    if (npend) {
        size_t cap = 1024;
        while (cap < npend * 2) cap *= 2;
        if ((rc = recent_rehash(&keep, cap, err))) goto out;
    }
    for (i = 0, k = 0; i < x->recent.cap; i++) {
        if (!x->recent.used[i]) continue;
        if (x->recent.slots[i].pack != IDX_PACK_PENDING) { fresh[k++] = x->recent.slots[i]; continue; }
        size_t s;
        recent_find(&keep, &x->recent.slots[i].id, &s);
        keep.slots[s] = x->recent.slots[i];
        keep.used[s] = 1;
        keep.n++;
    }
    qsort(fresh, nnew, sizeof *fresh, cmp_entry);
    merged = realloc(x->main, (x->nmain + nnew) * sizeof *merged);
    if (!merged) { rc = err_set(err, ERR_NOMEM, "out of memory compacting index"); goto out; }
    x->main = merged;
    /* merge from the back, in place */
    i = x->nmain; j = nnew; k = x->nmain + nnew;
    while (j > 0) {
        if (i > 0 && id_cmp(&x->main[i - 1].id, &fresh[j - 1].id) > 0) x->main[--k] = x->main[--i];
        else x->main[--k] = fresh[--j];
    }
    x->nmain += nnew;
    /* rebuild the directory */
    for (i = 0, k = 0; k <= DIR_SIZE; k++) {
        while (i < x->nmain && top16(&x->main[i].id) < k) i++;
        x->dir[k] = (uint32_t)i;
    }
    free(x->recent.slots);
    free(x->recent.used);
    x->recent = keep;
    keep.slots = NULL;
    keep.used = NULL;
out:
    free(keep.slots);
    free(keep.used);
    free(fresh);
    return rc;
}

size_t idx_count(const Index *x) { return x->nmain + x->recent.n; }

size_t idx_memory(const Index *x)
{
    return x->nmain * sizeof(IdxEntry) + (DIR_SIZE + 1) * sizeof(uint32_t) +
           x->recent.cap * (sizeof(IdxEntry) + 1) + x->packs_cap * sizeof(Id) +
           x->pack_slots_cap * sizeof(uint32_t);
}

int idx_foreach(const Index *x, IdxVisitFn fn, void *ctx, Err *err)
{
    int rc;
    for (size_t i = 0; i < x->nmain; i++)
        if ((rc = fn(ctx, &x->main[i], err))) return rc;
    for (size_t i = 0; i < x->recent.cap; i++)
        if (x->recent.used[i] && x->recent.slots[i].pack != IDX_PACK_PENDING)
            if ((rc = fn(ctx, &x->recent.slots[i], err))) return rc;
    return 0;
}
