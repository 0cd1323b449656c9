/* repo_repair.c: rebuild index entries from the packs' own tables. Packs
 * present in storage but unknown to the index (an interrupted backup, a
 * lost index object) are read at their tail only (trailer + table) and
 * recorded in a new index object. */
#include <stdlib.h>
#include <string.h>

#include "engine/repo/repo_int.h"

typedef struct Repair {
    Repo *r;
    uint64_t added;
} Repair;

static int repair_one(void *ctx, const char *key, uint64_t size, Err *err)
{
    Repair *rp = ctx;
    Repo *r = rp->r;
    const char *slash = strrchr(key, '/');
    Id pid;
    Buf tail;
    uint64_t toc_off;
    uint32_t toc_len;
    PackEntry *toc = NULL;
    size_t ntoc = 0;
    Err e;
    int rc = 0;
    bool known = false;

    if (!slash || id_parse(slash + 1, &pid, &e)) return 0;
    pthread_mutex_lock(&r->mu);
    known = idx_pack_lookup(r->idx, &pid, NULL);
    pthread_mutex_unlock(&r->mu);
    if (known) return 0;
    buf_init(&tail, PACK_MAX_SIZE);
    if (size < PACK_MAGIC_LEN + PACK_TRAILER_LEN) goto skip;
    if ((rc = sto_get(r->sto, key, size - PACK_TRAILER_LEN, PACK_TRAILER_LEN, &tail, err))) goto out;
    if (pack_trailer_parse(tail.data, tail.len, size, &toc_off, &toc_len, &e)) goto skip;
    buf_reset(&tail);
    if ((rc = sto_get(r->sto, key, toc_off, toc_len, &tail, err))) goto out;
    if (pack_toc_open(r->keys, tail.data, tail.len, toc_off, &toc, &ntoc, &e)) goto skip;
    pthread_mutex_lock(&r->mu);
    rc = repo_delta_add(r, &pid, toc, ntoc, err);
    if (!rc) {
        toc = NULL;   /* owned by the delta now */
        rp->added++;
    }
    pthread_mutex_unlock(&r->mu);
    goto out;
skip:
    /* a pack whose tail is unusable cannot be indexed; check reports it */
    rc = 0;
out:
    free(toc);
    buf_free(&tail);
    return rc;
}

int repo_repair_index(Repo *r, uint64_t *out_added, Err *err)
{
    Repair rp = {r, 0};
    int rc = sto_list(r->sto, "packs/", repair_one, &rp, err);
    if (!rc) rc = repo_flush(r, err);
    if (out_added) *out_added = rp.added;
    return rc;
}

int repo_adopt_packs(Repo *r, uint64_t *out_adopted, Err *err)
{
    int rc = repo_repair_index(r, out_adopted, err);
    if (rc) err_wrap(err, "index the packs an interrupted backup left");
    return rc;
}
