/* repo_read.c: reading blobs back. Every blob is authenticated (AEAD with
 * the chunk id as AD), expanded, and re-hashed: the plaintext must hash to
 * the id it was asked for, so a swapped or replayed blob cannot pass. */
#include <stdlib.h>
#include <string.h>

#include "engine/repo/repo_int.h"

int repo_comp_take(Repo *r, CompCtx **out, Err *err)
{
    pthread_mutex_lock(&r->mu);
    if (r->comp_pool.n) {
        *out = r->comp_pool.ctx[--r->comp_pool.n];
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    pthread_mutex_unlock(&r->mu);
    return comp_ctx_new(r->opt.zstd_level, out, err);
}

void repo_comp_give(Repo *r, CompCtx *c)
{
    pthread_mutex_lock(&r->mu);
    if (r->comp_pool.n < sizeof r->comp_pool.ctx / sizeof r->comp_pool.ctx[0]) {
        r->comp_pool.ctx[r->comp_pool.n++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    comp_ctx_free(c);
}

void repo_comp_pool_free(Repo *r)
{
    for (size_t i = 0; i < r->comp_pool.n; i++) comp_ctx_free(r->comp_pool.ctx[i]);
    r->comp_pool.n = 0;
}

/* Decrypt, expand and verify one sealed blob into out. */
static int blob_decode(Repo *r, const Id *id, const char *pack_key, const uint8_t *sealed, size_t slen,
                       Buf *out, Err *err)
{
    uint8_t *plain = NULL;
    size_t plen = 0, size = 0, got = 0;
    CompCtx *cc = NULL;
    char hex[ID_HEX_LEN + 1];
    Id check;
    int rc;

    id_hex(id, hex);
    plain = malloc(slen);
    if (!plain) return err_set(err, ERR_NOMEM, "out of memory");
    rc = cry_open(r->keys, id->b, ID_LEN, sealed, slen, plain, slen, &plen, err);
    if (rc) { err_set(err, rc, "chunk %s in %s failed authentication (damaged or tampered)", hex, pack_key); goto out; }
    if ((rc = comp_blob_size(plain, plen, &size, err))) { err_wrap(err, "chunk %s in %s", hex, pack_key); goto out; }
    if ((rc = buf_reserve(out, size, err))) goto out;
    if ((rc = repo_comp_take(r, &cc, err))) goto out;
    rc = comp_unblob(cc, plain, plen, out->data + out->len, size, &got, err);
    repo_comp_give(r, cc);
    if (rc) { err_wrap(err, "chunk %s in %s", hex, pack_key); goto out; }
    cry_id(r->keys, out->data + out->len, got, &check);
    if (id_cmp(&check, id) != 0) {
        rc = err_set(err, ERR_CORRUPT, "chunk %s in %s does not hash to its id", hex, pack_key);
        goto out;
    }
    out->len += got;
    out->data[out->len] = 0;
    pthread_mutex_lock(&r->mu);
    r->stats.bytes_read += got;
    pthread_mutex_unlock(&r->mu);
out:
    free(plain);
    return rc;
}

int repo_blob_get(Repo *r, const Id *id, Buf *out, Err *err)
{
    IdxEntry e;
    bool found;
    Id pack_id;
    char key[128], hex[ID_HEX_LEN + 1];
    Buf raw;
    int rc;

    pthread_mutex_lock(&r->mu);
    found = idx_lookup(r->idx, id, &e) && e.pack != IDX_PACK_PENDING;
    if (found) pack_id = *idx_pack_id(r->idx, e.pack);
    pthread_mutex_unlock(&r->mu);
    if (!found) {
        id_hex(id, hex);
        return err_set(err, ERR_NOTFOUND, "chunk %s is not in the index", hex);
    }
    repo_pack_key(&pack_id, key, sizeof key);
    buf_init(&raw, 0);
    rc = sto_get(r->sto, key, e.offset, e.length, &raw, err);
    if (rc) {
        id_hex(id, hex);
        err_wrap(err, "read chunk %s", hex);
    } else {
        rc = blob_decode(r, id, key, raw.data, raw.len, out, err);
    }
    buf_free(&raw);
    return rc;
}

/* ---- stream read with read-ahead ----
 * A small ring of slots is filled by helper threads (up to opt.workers) in
 * chunk order; the caller consumes slots in order. Memory: ring size x the
 * largest chunk. */

#define RA_SLOTS 8

typedef struct RaSlot {
    Buf data;
    Err err;
    int rc;
    bool ready;
} RaSlot;

typedef struct ReadAhead {
    Repo *r;
    const RepoStreamRef *s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next_fetch;   /* next chunk index to fetch */
    size_t next_use;     /* next chunk index the caller consumes */
    bool stop;
    RaSlot slot[RA_SLOTS];
} ReadAhead;

static void *ra_main(void *arg)
{
    ReadAhead *ra = arg;
    for (;;) {
        size_t i;
        RaSlot *sl;
        pthread_mutex_lock(&ra->mu);
        while (!ra->stop && ra->next_fetch < ra->s->nchunks && ra->next_fetch >= ra->next_use + RA_SLOTS)
            pthread_cond_wait(&ra->cv, &ra->mu);
        if (ra->stop || ra->next_fetch >= ra->s->nchunks) { pthread_mutex_unlock(&ra->mu); break; }
        i = ra->next_fetch++;
        sl = &ra->slot[i % RA_SLOTS];
        pthread_mutex_unlock(&ra->mu);

        Buf b;
        Err e;
        int rc;
        buf_init(&b, 0);
        err_clear(&e);
        rc = repo_blob_get(ra->r, &ra->s->chunks[i], &b, &e);

        pthread_mutex_lock(&ra->mu);
        sl->data = b;
        sl->err = e;
        sl->rc = rc;
        sl->ready = true;
        pthread_cond_broadcast(&ra->cv);
        pthread_mutex_unlock(&ra->mu);
    }
    return NULL;
}

int repo_stream_read(Repo *r, const RepoStreamRef *s, RepoReadFn fn, void *ctx, Err *err)
{
    ReadAhead ra;
    pthread_t th[4];
    unsigned nth = r->opt.workers < 4 ? r->opt.workers : 4, started = 0;
    int rc = 0;

    if (s->nchunks == 0) return 0;
    if (s->nchunks == 1 || nth == 0) {
        Buf b;
        buf_init(&b, 0);
        for (size_t i = 0; i < s->nchunks && !rc; i++) {
            buf_reset(&b);
            rc = repo_blob_get(r, &s->chunks[i], &b, err);
            if (!rc) rc = fn(ctx, b.data, b.len, err);
        }
        buf_free(&b);
        return rc;
    }
    memset(&ra, 0, sizeof ra);
    ra.r = r;
    ra.s = s;
    pthread_mutex_init(&ra.mu, NULL);
    pthread_cond_init(&ra.cv, NULL);
    for (unsigned i = 0; i < nth; i++)
        if (pthread_create(&th[i], NULL, ra_main, &ra) == 0) started++;
    if (!started) { rc = err_set(err, ERR_NOMEM, "cannot start read-ahead threads"); goto out; }
    for (size_t i = 0; i < s->nchunks; i++) {
        RaSlot *sl = &ra.slot[i % RA_SLOTS];
        Buf b;
        pthread_mutex_lock(&ra.mu);
        while (!sl->ready) pthread_cond_wait(&ra.cv, &ra.mu);
        b = sl->data;
        sl->ready = false;
        pthread_mutex_unlock(&ra.mu);
        if (sl->rc) { *err = sl->err; rc = sl->rc; buf_free(&b); break; }
        rc = fn(ctx, b.data, b.len, err);
        buf_free(&b);
        pthread_mutex_lock(&ra.mu);
        ra.next_use = i + 1;
        pthread_cond_broadcast(&ra.cv);
        pthread_mutex_unlock(&ra.mu);
        if (rc) break;
    }
out:
    pthread_mutex_lock(&ra.mu);
    ra.stop = true;
    pthread_cond_broadcast(&ra.cv);
    pthread_mutex_unlock(&ra.mu);
    for (unsigned i = 0; i < started; i++) pthread_join(th[i], NULL);
    for (size_t i = 0; i < RA_SLOTS; i++)
        if (ra.slot[i].ready) buf_free(&ra.slot[i].data);
    pthread_mutex_destroy(&ra.mu);
    pthread_cond_destroy(&ra.cv);
    return rc;
}
