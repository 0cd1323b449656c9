/* s3_cache.c: a small read cache of 4 MiB blocks for ranged GETs, so that
 * reading many blobs of one pack (restore, check --read-data) costs a few
 * large requests instead of one request per blob: an object store answers
 * each request after tens of milliseconds whatever its size.
 * Policy: the first ranged read of an object goes straight to the server
 * (a restore of one small file fetches only its blobs); a later ranged read
 * of an object read recently goes through blocks, fetched whole (the last
 * one as far as the object goes) and kept in LRU order within the budget
 * (TIDEMARK_S3_READ_CACHE, default 32M; 0 turns the cache off).
 * Invariants: (1) only ranged reads use it, so only objects that storage.h
 * contract 4 makes immutable (packs) are cached; whole-object reads (locks,
 * keys) never are; (2) one thread fetches a block, the others wanting it
 * wait for it; (3) memory is at most the budget: a block is fetched into
 * its own slot. */
#include <stdlib.h>
#include <string.h>

#include "storage-backends/s3/s3_int.h"
#include "storage-backends/storage.h"

typedef struct S3Block {
    char *key;          /* full key; NULL = free slot */
    uint64_t index;     /* block number in the object */
    Buf data;           /* the block's bytes (short for the object's last block) */
    bool loading;       /* a thread is fetching it */
    uint64_t last_use;
} S3Block;

struct S3Cache {
    S3CacheFetchFn fetch;
    void *fetch_ctx;
    char *where;
    atomic_ullong fetches;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    S3Block *blocks;
    size_t nblocks;
    char *touched[S3_CACHE_TOUCHED];   /* keys range-read recently (ring) */
    size_t touch_next;
    uint64_t clock;
};

int s3_cache_new(size_t budget, const char *where, S3CacheFetchFn fetch, void *ctx, S3Cache **out,
                 Err *err)
{
    S3Cache *c;
    *out = NULL;
    if (budget < 2 * S3_CACHE_BLOCK) return 0;   /* off */
    c = calloc(1, sizeof *c);
    if (!c) return err_set(err, ERR_NOMEM, "out of memory");
    c->fetch = fetch;
    c->fetch_ctx = ctx;
    c->nblocks = budget / S3_CACHE_BLOCK;
    c->blocks = calloc(c->nblocks, sizeof *c->blocks);
    c->where = strdup(where);
    if (!c->blocks || !c->where) {
        free(c->blocks);
        free(c->where);
        free(c);
        return err_set(err, ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->nblocks; i++) buf_init(&c->blocks[i].data, 0);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    *out = c;
    return 0;
}

void s3_cache_free(S3Cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->nblocks; i++) {
        free(c->blocks[i].key);
        buf_free(&c->blocks[i].data);
    }
    for (size_t i = 0; i < S3_CACHE_TOUCHED; i++) free(c->touched[i]);
    free(c->blocks);
    free(c->where);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

/* true when key was range-read recently; else remembers it. Lock held. */
static bool touched_before(S3Cache *c, const char *key)
{
    char *k;
    for (size_t i = 0; i < S3_CACHE_TOUCHED; i++)
        if (c->touched[i] && strcmp(c->touched[i], key) == 0) return true;
    k = strdup(key);
    if (!k) return false;
    free(c->touched[c->touch_next]);
    c->touched[c->touch_next] = k;
    c->touch_next = (c->touch_next + 1) % S3_CACHE_TOUCHED;
    return false;
}

static S3Block *find(S3Cache *c, const char *key, uint64_t index)
{
    for (size_t i = 0; i < c->nblocks; i++)
        if (c->blocks[i].key && c->blocks[i].index == index && strcmp(c->blocks[i].key, key) == 0)
            return &c->blocks[i];
    return NULL;
}

/* A free slot, else the least recently used one not being fetched; NULL
 * when every slot is being fetched. Lock held. */
static S3Block *victim(S3Cache *c)
{
    S3Block *v = NULL;
    for (size_t i = 0; i < c->nblocks; i++) {
        S3Block *b = &c->blocks[i];
        if (!b->key) return b;
        if (!b->loading && (!v || b->last_use < v->last_use)) v = b;
    }
    return v;
}

/* Copy [off, off + n) of block `index` of key into out; fetch the block
 * first when needed. *avail gets how many bytes the block holds. */
static int copy_from_block(S3Cache *c, const char *key, uint64_t index, size_t from, size_t n,
                           Buf *out, size_t *avail, Err *err)
{
    S3Block *b;
    int rc = 0;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        b = find(c, key, index);
        if (b && !b->loading) break;
        if (b) {   /* another thread fetches it */
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        if (!(b = victim(c))) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        free(b->key);
        b->key = strdup(key);
        if (!b->key) {
            pthread_mutex_unlock(&c->mu);
            return err_set(err, ERR_NOMEM, "out of memory");
        }
        b->index = index;
        b->loading = true;
        buf_reset(&b->data);
        pthread_mutex_unlock(&c->mu);
        /* the slot is ours while loading: nobody else touches b->data */
        rc = c->fetch(c->fetch_ctx, key, index * S3_CACHE_BLOCK, S3_CACHE_BLOCK, &b->data, err);
        pthread_mutex_lock(&c->mu);
        b->loading = false;
        if (rc) {
            free(b->key);
            b->key = NULL;
            buf_free(&b->data);
            buf_init(&b->data, 0);
        }
        pthread_cond_broadcast(&c->cv);
        if (rc) {
            pthread_mutex_unlock(&c->mu);
            return rc;
        }
        atomic_fetch_add(&c->fetches, 1);
        break;
    }
    b->last_use = ++c->clock;
    *avail = b->data.len;
    if (from + n <= b->data.len) rc = buf_append(out, b->data.data + from, n, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

uint64_t s3_cache_fetches(S3Cache *c)
{
    return c ? (uint64_t)atomic_load(&c->fetches) : 0;
}

int s3_cache_get(S3Cache *c, const char *key, uint64_t off, size_t len, Buf *out, Err *err)
{
    uint64_t first, last;
    size_t before = out->len;
    bool again;
    int rc = 0;

    if (!c || len == 0 || len == STO_LEN_ALL || len > S3_CACHE_BLOCK) return S3_CACHE_PASS;
    pthread_mutex_lock(&c->mu);
    again = touched_before(c, key);
    pthread_mutex_unlock(&c->mu);
    if (!again) return S3_CACHE_PASS;

    first = off / S3_CACHE_BLOCK;
    last = (off + len - 1) / S3_CACHE_BLOCK;
    for (uint64_t i = first; i <= last && !rc; i++) {
        uint64_t bstart = i * S3_CACHE_BLOCK;
        size_t from = i == first ? (size_t)(off - bstart) : 0;
        size_t to = i == last ? (size_t)(off + len - bstart) : S3_CACHE_BLOCK;
        size_t avail = 0;
        rc = copy_from_block(c, key, i, from, to - from, out, &avail, err);
        if (!rc && to > avail) {
            rc = err_set(err, ERR_INVALID, "range %llu+%zu past the end of %s/%s (%llu bytes)",
                         (unsigned long long)off, len, c->where, key,
                         (unsigned long long)(bstart + avail));
        }
    }
    if (rc) {
        out->len = before;
        if (out->data) out->data[before] = 0;
    }
    return rc;
}
