/* repo_write.c: the write pipeline (see the design block in repo_int.h):
 * streams and blob puts on the caller's thread, compress + seal + pack +
 * upload on worker threads, repo_flush as the durability barrier. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "engine/common/log.h"
#include "engine/repo/repo_int.h"

struct RepoStream {
    Repo *r;
    const ChkChunker *chk;
    uint8_t *buf;        /* tail not yet cut, at buf[off..off+len); allocated lazily */
    size_t off, len, alloc;
    size_t cap;          /* 2 * max chunk size: the most buf ever holds */
    size_t max;
    uint64_t size;
    Id *ids;             /* grown and written under r->mu (workers fill slots) */
    size_t nids, ids_cap;
    size_t pending;      /* queued chunks whose id is not yet in ids; under r->mu */
};

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

static int werr_copy(Repo *r, Err *err)
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
    if ((rc = werr_copy(r, err))) goto out;
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
    if ((rc = werr_copy(r, err))) { pthread_mutex_unlock(&r->mu); return rc; }
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

/* ---- streams ---- */


int repo_stream_begin(Repo *r, RepoChunking kind, RepoStream **out, Err *err)
{
    RepoStream *s;
    if ((unsigned)kind > REPO_CHUNK_BINLOG) return err_set(err, ERR_INVALID, "unknown chunking kind %d", (int)kind);
    s = calloc(1, sizeof *s);
    if (!s) return err_set(err, ERR_NOMEM, "out of memory");
    s->r = r;
    s->chk = r->chunkers[kind];
    s->max = chk_params(s->chk)->max_size;
    s->cap = 2 * s->max;   /* the tail buffer is allocated on demand, up to cap */
    *out = s;
    return 0;
}

/* Queue one chunk of a stream: a slot in the id list, hashed and
 * deduplicated by a worker. Copies p. */
static int emit(RepoStream *s, const uint8_t *p, size_t n, Err *err)
{
    Repo *r = s->r;
    RepoJob *job = NULL;
    size_t slot;
    int rc;

    pthread_mutex_lock(&r->mu);
    if ((rc = werr_copy(r, err))) goto out;
    if (!r->started && (rc = repo_pipeline_start(r, err))) goto out;
    if ((rc = buf_grow(&s->ids, &s->ids_cap, s->nids + 1, sizeof *s->ids, (size_t)1 << 30, err))) {
        err_wrap(err, "stream chunk list");
        goto out;
    }
    slot = s->nids++;
    s->pending++;
    while (r->q_bytes + n > r->q_max_bytes && r->q_head && !r->has_werr) pthread_cond_wait(&r->cv_space, &r->mu);
    pthread_mutex_unlock(&r->mu);

    job = malloc(sizeof *job + n);
    pthread_mutex_lock(&r->mu);
    if (!job) {
        s->pending--;
        s->nids--;   /* the last slot is ours: only this thread appends */
        rc = err_set(err, ERR_NOMEM, "out of memory queueing a chunk");
        goto out;
    }
    job->next = NULL;
    job->stream = s;
    job->slot = slot;
    job->len = n;
    memcpy(job->data, p, n);
    if (r->q_tail) r->q_tail->next = job;
    else r->q_head = job;
    r->q_tail = job;
    r->q_bytes += n;
    pthread_cond_signal(&r->cv_job);
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* Wait until every queued chunk of s has its id (under mu). */
static void stream_wait(RepoStream *s)
{
    while (s->pending) pthread_cond_wait(&s->r->cv_ids, &s->r->mu);
}

/* Cut and submit every complete chunk in the tail; keep the rest (the
 * buffer is compacted only when an append needs the room). */
static int drain(RepoStream *s, bool final, Err *err)
{
    int rc = 0;
    while (s->len) {
        size_t n = chk_cut(s->chk, s->buf + s->off, s->len, final);
        if (n == 0) break;
        if ((rc = emit(s, s->buf + s->off, n, err))) break;
        s->off += n;
        s->len -= n;
    }
    if (!s->len) s->off = 0;
    return rc;
}

static int tail_append(RepoStream *s, const uint8_t *p, size_t n, Err *err)
{
    if (s->off + s->len + n > s->alloc && s->off) {
        memmove(s->buf, s->buf + s->off, s->len);
        s->off = 0;
    }
    if (s->len + n > s->alloc) {
        size_t na = s->alloc ? s->alloc : 64u << 10;
        uint8_t *b;
        while (na < s->len + n) na *= 2;
        if (na > s->cap) na = s->cap;
        b = realloc(s->buf, na);
        if (!b) return err_set(err, ERR_NOMEM, "out of memory");
        s->buf = b;
        s->alloc = na;
    }
    memcpy(s->buf + s->off + s->len, p, n);
    s->len += n;
    return 0;
}

/* Zero copy where possible: while nothing is buffered and at least a max
 * chunk is at hand, cut straight from the caller's bytes; only the tail is
 * copied into the stream's buffer. */
int repo_stream_write(RepoStream *s, const void *data, size_t len, Err *err)
{
    const uint8_t *p = data;
    int rc;
    s->size += len;
    while (len) {
        if (s->len == 0 && len >= s->max) {
            size_t n = chk_cut(s->chk, p, len, false);
            if ((rc = emit(s, p, n, err))) return rc;
            p += n;
            len -= n;
            continue;
        }
        size_t room = s->cap - s->len, n = len < room ? len : room;
        if ((rc = tail_append(s, p, n, err))) return rc;
        p += n;
        len -= n;
        if (s->len >= s->max && (rc = drain(s, false, err))) return rc;
    }
    return 0;
}

int repo_stream_end(RepoStream *s, RepoStreamRef *out, Err *err)
{
    int rc = drain(s, false, err);
    if (!rc) rc = drain(s, true, err);
    pthread_mutex_lock(&s->r->mu);
    stream_wait(s);
    /* a worker failure leaves slots unfilled: never hand them out */
    if (!rc) rc = werr_copy(s->r, err);
    pthread_mutex_unlock(&s->r->mu);
    if (!rc) {
        out->size = s->size;
        out->nchunks = s->nids;
        out->chunks = s->ids;
        s->ids = NULL;
    }
    repo_stream_abort(s);
    return rc;
}

void repo_stream_abort(RepoStream *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->r->mu);
    stream_wait(s);   /* workers may still write into s->ids */
    pthread_mutex_unlock(&s->r->mu);
    free(s->buf);
    free(s->ids);
    free(s);
}

/* ---- stream refs ---- */

void repo_streamref_free(RepoStreamRef *s)
{
    if (!s) return;
    free(s->chunks);
    s->chunks = NULL;
    s->nchunks = 0;
    s->size = 0;
}

json_t *repo_streamref_to_json(const RepoStreamRef *s)
{
    json_t *arr = json_array(), *o;
    char hex[ID_HEX_LEN + 1];
    if (!arr) return NULL;
    for (size_t i = 0; i < s->nchunks; i++) {
        id_hex(&s->chunks[i], hex);
        json_array_append_new(arr, json_string(hex));
    }
    o = json_pack("{s:I, s:o}", "size", (json_int_t)s->size, "chunks", arr);
    return o;
}

int repo_streamref_from_json(const json_t *j, RepoStreamRef *out, Err *err)
{
    const json_t *arr = json_object_get(j, "chunks"), *size = json_object_get(j, "size");
    size_t n;
    int rc;
    memset(out, 0, sizeof *out);
    if (!json_is_array(arr) || !json_is_integer(size) || json_integer_value(size) < 0)
        return err_set(err, ERR_CORRUPT, "stream reference is malformed");
    n = json_array_size(arr);
    out->chunks = calloc(n ? n : 1, sizeof *out->chunks);
    if (!out->chunks) return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if ((rc = id_parse(json_string_value(json_array_get(arr, i)), &out->chunks[i], err))) {
            repo_streamref_free(out);
            return err_wrap(err, "stream reference chunk %zu", i);
        }
    }
    out->nchunks = n;
    out->size = (uint64_t)json_integer_value(size);
    return 0;
}
