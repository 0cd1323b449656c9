/* repo_write.c: the write pipeline (see the design block in repo_int.h):
 * blob puts and stream chunks (repo_stream.c) queued on the caller's thread,
 * compress + seal + pack + upload on worker threads, repo_flush as the
 * durability barrier. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "engine/common/log.h"
#include "engine/repo/repo_int.h"

/* Under mu: nothing queued, compressing or uploading. */
static bool pipeline_busy(const Repo *r)
{
    return r->q_head || r->busy || r->up_pack || r->up_busy;
}

static void set_werr(Repo *r, const Err *e)
{
    /* under mu */
    if (!r->has_werr) {
        r->werr = *e;
        r->has_werr = true;
    }
}

int repo_werr_copy(Repo *r, Err *err)
{
    /* under mu */
    if (!r->has_werr) return 0;
    *err = r->werr;
    return r->werr.code ? r->werr.code : ERR_IO;
}

int repo_delta_add(Repo *r, const Id *pack_id, PackEntry *entries, size_t n, Err *err)
{
    uint32_t pno;
    int rc = idx_pack_intern(r->idx, pack_id, &pno, err);
    for (size_t i = 0; !rc && i < n; i++)
        rc = idx_add(r->idx, &entries[i].id, pno, entries[i].offset, entries[i].length, err);
    if (rc) return rc;
    if ((rc = buf_grow(&r->delta, &r->delta_cap, r->ndelta + 1, sizeof *r->delta, (size_t)1 << 24, err)))
        return err_wrap(err, "index delta");
    r->delta[r->ndelta].pack_id = *pack_id;
    r->delta[r->ndelta].entries = entries;
    r->delta[r->ndelta].n = n;
    r->ndelta++;
    return 0;
}

/* Upload one finished pack and publish its entries. Called without mu. */
static int pack_upload(Repo *r, PackWriter *pw, Err *err)
{
    const uint8_t *data;
    size_t len, n = pack_writer_count(pw);
    Id pack_id;
    char key[128];
    PackEntry *copy = NULL;
    int rc;

    if (n == 0) return 0;
    if ((rc = pack_writer_finish(pw, r->keys, &data, &len, err))) return rc;
    randombytes_buf(pack_id.b, ID_LEN);
    repo_pack_key(&pack_id, key, sizeof key);
    if ((rc = sto_put(r->sto, key, data, len, err))) {
        pack_writer_unfinish(pw);   /* keep the blobs; a later upload retries them */
        return err_wrap(err, "upload pack");
    }
    copy = malloc(n * sizeof *copy);
    if (!copy) return err_set(err, ERR_NOMEM, "out of memory");
    memcpy(copy, pack_writer_entries(pw), n * sizeof *copy);

    pthread_mutex_lock(&r->mu);
    rc = repo_delta_add(r, &pack_id, copy, n, err);
    if (!rc) {
        copy = NULL;   /* owned by the delta now */
        r->stats.packs_written++;
        r->stats.bytes_stored += len;
    }
    pthread_mutex_unlock(&r->mu);
    free(copy);
    pack_writer_reset(pw);
    return rc;
}

/* Write the index delta (packs uploaded since the last index object). */
static int index_delta_write(Repo *r, Err *err)
{
    IdxFilePack *d;
    size_t n;
    Buf b;
    Id id;
    char key[128], hex[ID_HEX_LEN + 1];
    int rc;

    pthread_mutex_lock(&r->mu);
    d = r->delta;
    n = r->ndelta;
    r->delta = NULL;
    r->ndelta = r->delta_cap = 0;
    pthread_mutex_unlock(&r->mu);
    if (n == 0) return 0;

    buf_init(&b, 0);
    rc = idx_file_encode(d, n, &b, err);
    if (!rc) {
        randombytes_buf(id.b, ID_LEN);
        id_hex(&id, hex);
        snprintf(key, sizeof key, "index/%s", hex);
        rc = repo_sealed_put(r, key, REPO_INDEX_AD, b.data, b.len, err);
        if (rc) err_wrap(err, "write index");
    }
    buf_free(&b);
    if (rc) {
        /* put the delta back so a later flush retries it */
        pthread_mutex_lock(&r->mu);
        for (size_t i = 0; i < r->ndelta; i++) free(r->delta[i].entries);
        free(r->delta);
        r->delta = d;
        r->ndelta = r->delta_cap = n;
        pthread_mutex_unlock(&r->mu);
        return rc;
    }
    for (size_t i = 0; i < n; i++) free(d[i].entries);
    free(d);
    return 0;
}

/* *committed tells the caller whether the blob made it into the worker's
 * pack: then its pending index entry must stay even if the upload that
 * followed failed, because the pack keeps the blob for a later upload. */
static int worker_add(RepoWorker *w, RepoJob *job, bool *committed, Err *err)
{
    Repo *r = w->repo;
    size_t clen = 0, slen = 0, bound = comp_bound(job->len);
    uint8_t *dst;
    int rc;

    if (bound > w->scratch_cap) {
        uint8_t *s = realloc(w->scratch, bound);
        if (!s) return err_set(err, ERR_NOMEM, "out of memory");
        w->scratch = s;
        w->scratch_cap = bound;
    }
    if ((rc = comp_blob(w->comp, job->data, job->len, w->scratch, w->scratch_cap, &clen, err))) return rc;
    if ((rc = pack_writer_reserve(w->pw, clen + CRY_OVERHEAD, &dst, err))) return rc;
    if ((rc = cry_seal(r->keys, job->id.b, ID_LEN, w->scratch, clen, dst, clen + CRY_OVERHEAD, &slen, err))) return rc;
    if ((rc = pack_writer_commit(w->pw, &job->id, slen, (uint32_t)job->len, err))) return rc;
    *committed = true;
    if (pack_writer_size(w->pw) >= r->opt.pack_size) {
        PackWriter *fresh;
        pthread_mutex_lock(&r->mu);
        fresh = r->spare;
        r->spare = NULL;
        pthread_mutex_unlock(&r->mu);
        if (!fresh) {
            uint8_t *dummy;
            if ((rc = pack_writer_new(&fresh, err))) return rc;
            if ((rc = pack_writer_reserve(fresh, r->opt.pack_size + CHK_MAX_LIMIT / 8, &dummy, err))) {
                pack_writer_free(fresh);
                return rc;
            }
        }
        pthread_mutex_lock(&r->mu);
        while (r->up_pack && !r->has_werr) pthread_cond_wait(&r->cv_up, &r->mu);
        if (r->has_werr) {
            /* the error is recorded; keep the pack (a flush after
             * repo_write_error_clear uploads it) */
            if (!r->spare) { r->spare = fresh; fresh = NULL; }
        } else {
            r->up_pack = w->pw;
            w->pw = fresh;
            fresh = NULL;
            pthread_cond_broadcast(&r->cv_up);
        }
        pthread_mutex_unlock(&r->mu);
        pack_writer_free(fresh);
    }
    return 0;
}

static void *uploader_main(void *arg)
{
    Repo *r = arg;
    for (;;) {
        PackWriter *pw;
        Err e;
        int rc;
        bool big;
        pthread_mutex_lock(&r->mu);
        /* outlive the workers: one may still hand off a pack while stopping */
        while (!r->up_pack && !r->workers_done) pthread_cond_wait(&r->cv_up, &r->mu);
        if (!r->up_pack) { pthread_mutex_unlock(&r->mu); break; }
        pw = r->up_pack;
        r->up_pack = NULL;
        r->up_busy = true;
        pthread_cond_broadcast(&r->cv_up);   /* room for the next hand-off */
        pthread_mutex_unlock(&r->mu);

        err_clear(&e);
        rc = pack_upload(r, pw, &e);
        if (!rc) {
            pthread_mutex_lock(&r->mu);
            big = r->ndelta >= REPO_DELTA_MAX_PACKS;
            pthread_mutex_unlock(&r->mu);
            if (big) rc = index_delta_write(r, &e);
        }

        pthread_mutex_lock(&r->mu);
        if (rc) {
            set_werr(r, &e);
            /* a pack not stored: its chunks are unknown again, to be redone */
            for (size_t k = 0; k < pack_writer_count(pw); k++)
                idx_remove_pending(r->idx, &pack_writer_entries(pw)[k].id);
        }
        pack_writer_reset(pw);
        if (!r->spare) { r->spare = pw; pw = NULL; }
        r->up_busy = false;
        pthread_cond_broadcast(&r->cv_up);
        if (!pipeline_busy(r)) pthread_cond_broadcast(&r->cv_idle);
        pthread_mutex_unlock(&r->mu);
        pack_writer_free(pw);
    }
    return NULL;
}

static void *worker_main(void *arg)
{
    RepoWorker *w = arg;
    Repo *r = w->repo;
    for (;;) {
        RepoJob *job;
        Err e;
        int rc;
        pthread_mutex_lock(&r->mu);
        while (!r->q_head && !r->stopping) pthread_cond_wait(&r->cv_job, &r->mu);
        if (!r->q_head && r->stopping) { pthread_mutex_unlock(&r->mu); break; }
        job = r->q_head;
        r->q_head = job->next;
        if (!r->q_head) r->q_tail = NULL;
        r->q_bytes -= job->len;
        r->busy++;
        bool skip = r->has_werr;
        pthread_cond_broadcast(&r->cv_space);
        pthread_mutex_unlock(&r->mu);

        bool committed = false, add = !skip, indexed = true;
        err_clear(&e);
        if (job->stream) {
            /* hashing here takes the costliest step off the caller's thread */
            indexed = false;
            if (!skip) cry_id(r->keys, job->data, job->len, &job->id);
            pthread_mutex_lock(&r->mu);
            if (!skip && !r->has_werr) {
                r->stats.bytes_in += job->len;
                if (idx_lookup(r->idx, &job->id, NULL)) {
                    r->stats.chunks_dup++;
                    add = false;
                } else if (idx_add(r->idx, &job->id, IDX_PACK_PENDING, 0, 0, &e) == 0) {
                    indexed = true;
                    r->stats.chunks_new++;
                    r->stats.bytes_new += job->len;
                } else {
                    set_werr(r, &e);
                    add = false;
                }
                job->stream->ids[job->slot] = job->id;
            } else {
                add = false;
            }
            job->stream->pending--;   /* the stream may be freed from here on */
            job->stream = NULL;
            pthread_cond_broadcast(&r->cv_ids);
            pthread_mutex_unlock(&r->mu);
        }
        rc = add ? worker_add(w, job, &committed, &e) : 0;

        pthread_mutex_lock(&r->mu);
        if (rc) set_werr(r, &e);
        if (indexed && ((rc && !committed) || !add)) idx_remove_pending(r->idx, &job->id);
        r->busy--;
        if (!pipeline_busy(r)) pthread_cond_broadcast(&r->cv_idle);
        pthread_mutex_unlock(&r->mu);
        free(job);
    }
    return NULL;
}

int repo_pipeline_start(Repo *r, Err *err)
{
    /* under mu */
    int rc;
    if (r->started) return 0;
    r->stopping = false;
    r->workers_done = false;
    r->nworkers = r->opt.workers;
    r->workers = calloc(r->nworkers, sizeof *r->workers);
    if (!r->workers) return err_set(err, ERR_NOMEM, "out of memory");
    r->q_max_bytes = 16u << 20;   /* four max-size file chunks: keeps the workers fed, bounds RSS */
    for (unsigned i = 0; i < r->nworkers; i++) {
        RepoWorker *w = &r->workers[i];
        uint8_t *dummy;
        w->repo = r;
        if ((rc = pack_writer_new(&w->pw, err))) return rc;
        if ((rc = comp_ctx_new(r->opt.zstd_level, &w->comp, err))) return rc;
        /* one allocation for the pack buffer, sized so it never doubles */
        if ((rc = pack_writer_reserve(w->pw, r->opt.pack_size + CHK_MAX_LIMIT / 8, &dummy, err))) return rc;
    }
    for (unsigned i = 0; i < r->nworkers; i++) {
        if (pthread_create(&r->workers[i].thread, NULL, worker_main, &r->workers[i]) != 0) {
            r->nworkers = i;
            r->started = i > 0;   /* so stop joins the ones that run */
            return err_set(err, ERR_NOMEM, "cannot start worker thread");
        }
    }
    r->started = true;
    if (pthread_create(&r->uploader, NULL, uploader_main, r) != 0)
        return err_set(err, ERR_NOMEM, "cannot start uploader thread");
    r->uploader_started = true;
    return 0;
}

void repo_pipeline_stop(Repo *r)
{
    if (!r->workers) return;
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    pthread_cond_broadcast(&r->cv_job);
    pthread_cond_broadcast(&r->cv_up);
    pthread_mutex_unlock(&r->mu);
    if (r->started)
        for (unsigned i = 0; i < r->nworkers; i++) pthread_join(r->workers[i].thread, NULL);
    pthread_mutex_lock(&r->mu);
    r->workers_done = true;
    pthread_cond_broadcast(&r->cv_up);
    pthread_mutex_unlock(&r->mu);
    if (r->uploader_started) pthread_join(r->uploader, NULL);
    r->uploader_started = false;
    pack_writer_free(r->up_pack);
    pack_writer_free(r->spare);
    r->up_pack = r->spare = NULL;
    for (unsigned i = 0; i < r->opt.workers; i++) {
        pack_writer_free(r->workers[i].pw);
        comp_ctx_free(r->workers[i].comp);
        free(r->workers[i].scratch);
    }
    free(r->workers);
    r->workers = NULL;
    while (r->q_head) {
        RepoJob *j = r->q_head;
        r->q_head = j->next;
        free(j);
    }
    r->started = false;
}

/* Queue a chunk whose id is computed. Copies data. */
static int submit(Repo *r, const Id *id, const void *data, size_t len, Err *err)
{
    RepoJob *job;
    int rc;

    pthread_mutex_lock(&r->mu);
    if ((rc = repo_werr_copy(r, err))) goto out;
    r->stats.bytes_in += len;
    if (idx_lookup(r->idx, id, NULL)) {
        r->stats.chunks_dup++;
        goto out;
    }
    if (!r->started && (rc = repo_pipeline_start(r, err))) goto out;
    if ((rc = idx_add(r->idx, id, IDX_PACK_PENDING, 0, 0, err))) goto out;
    r->stats.chunks_new++;
    r->stats.bytes_new += len;
    while (r->q_bytes + len > r->q_max_bytes && r->q_head && !r->has_werr)
        pthread_cond_wait(&r->cv_space, &r->mu);
    pthread_mutex_unlock(&r->mu);

    job = malloc(sizeof *job + len);
    pthread_mutex_lock(&r->mu);
    if (!job) {
        idx_remove_pending(r->idx, id);
        rc = err_set(err, ERR_NOMEM, "out of memory queueing a chunk");
        goto out;
    }
    job->next = NULL;
    job->stream = NULL;
    job->id = *id;
    job->len = len;
    memcpy(job->data, data, len);
    if (r->q_tail) r->q_tail->next = job;
    else r->q_head = job;
    r->q_tail = job;
    r->q_bytes += len;
    pthread_cond_signal(&r->cv_job);
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int repo_blob_put(Repo *r, const void *data, size_t len, Id *out_id, Err *err)
{
    Id id;
    cry_id(r->keys, data, len, &id);
    int rc = submit(r, &id, data, len, err);
    if (!rc && out_id) *out_id = id;
    return rc;
}

bool repo_blob_known(Repo *r, const Id *id)
{
    bool k;
    pthread_mutex_lock(&r->mu);
    k = idx_lookup(r->idx, id, NULL);
    pthread_mutex_unlock(&r->mu);
    return k;
}

int repo_flush(Repo *r, Err *err)
{
    int rc = 0;
    PackWriter **taken = NULL;
    unsigned ntaken = 0;

    pthread_mutex_lock(&r->mu);
    while (r->started && pipeline_busy(r)) pthread_cond_wait(&r->cv_idle, &r->mu);
    if ((rc = repo_werr_copy(r, err))) { pthread_mutex_unlock(&r->mu); return rc; }
    if (r->started) {
        taken = calloc(r->nworkers, sizeof *taken);
        if (!taken) { pthread_mutex_unlock(&r->mu); return err_set(err, ERR_NOMEM, "out of memory"); }
        for (unsigned i = 0; i < r->nworkers; i++) {
            PackWriter *fresh;
            uint8_t *dummy;
            if (pack_writer_count(r->workers[i].pw) == 0) continue;
            if ((rc = pack_writer_new(&fresh, err))) break;
            if ((rc = pack_writer_reserve(fresh, r->opt.pack_size + CHK_MAX_LIMIT / 8, &dummy, err))) {
                pack_writer_free(fresh);
                break;
            }
            taken[ntaken++] = r->workers[i].pw;
            r->workers[i].pw = fresh;
        }
    }
    pthread_mutex_unlock(&r->mu);

    for (unsigned i = 0; i < ntaken; i++) {
        if (!rc) {
            rc = pack_upload(r, taken[i], err);
            if (rc) {
                /* their entries stay pending: drop them so they are redone */
                pthread_mutex_lock(&r->mu);
                for (size_t k = 0; k < pack_writer_count(taken[i]); k++)
                    idx_remove_pending(r->idx, &pack_writer_entries(taken[i])[k].id);
                set_werr(r, err);
                pthread_mutex_unlock(&r->mu);
            }
        }
        pack_writer_free(taken[i]);
    }
    free(taken);
    if (rc) return rc;
    if ((rc = index_delta_write(r, err))) return rc;
    pthread_mutex_lock(&r->mu);
    rc = idx_compact(r->idx, err);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void repo_write_error_clear(Repo *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->started && pipeline_busy(r)) pthread_cond_wait(&r->cv_idle, &r->mu);
    if (r->has_werr) log_debug("repository write error cleared for a retry: %s", r->werr.msg);
    r->has_werr = false;
    err_clear(&r->werr);
    pthread_mutex_unlock(&r->mu);
}
