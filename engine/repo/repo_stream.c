/* repo_stream.c: streams (content-defined chunking of a byte stream on the
 * caller's thread; each chunk queued for the write pipeline of
 * repo_write.c, its id landing in the stream's slot) and stream refs (the
 * chunk list as JSON). Invariant: a stream hands out its chunk list only
 * when every queued chunk has its id and no worker failed. */
#include <stdlib.h>
#include <string.h>

#include "engine/repo/repo_int.h"

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
    if ((rc = repo_werr_copy(r, err))) goto out;
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
    if (!rc) rc = repo_werr_copy(s->r, err);
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
