/* binlog_upload.c: the uploader thread: spool -> repository.
 * For each sealed segment, oldest first: stream its bytes (REPO_CHUNK_BINLOG:
 * chunked, deduplicated, compressed, encrypted), repo_flush, then put the
 * catalog entry, then remove it from the spool.
 * Invariants:
 *  1. The catalog entry is put only after repo_flush returned 0, so an entry
 *     always names durable data (src_binlog.h invariant 2).
 *  2. A crash after the entry but before the spool removal is harmless: the
 *     retry finds the entry (ERR_EXISTS), checks it holds the same bytes
 *     (BLAKE2b), and only then removes the spool copy.
 *  3. Upload failures never stop the follower: it keeps spooling; the error
 *     shows in the status until an attempt succeeds.
 *  4. Every compact_every committed entries it compacts the catalog
 *     (binlog_compact.c); a failed compaction is only logged and retried
 *     later: compacts are an optimisation of loading, never needed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/common/log.h"
#include "engine/source/binlog/binlog_int.h"

struct BinlogUploader {
    Repo *repo;
    BinlogSpool *sp;
    char instance[128];
    pthread_t th;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, kicked, idle;
    BinlogUploadState st;
    unsigned compact_every;      /* 0: never */
    size_t uncompacted;          /* entries past the last compact (thread only) */
};

/* Invariant 4: load the catalog (cheap: compacts + the tail) and compact. */
static void compact_catalog(BinlogUploader *u)
{
    BinlogCatalog *c = NULL;
    size_t written = 0;
    Err e;
    err_clear(&e);
    int rc = binlog_catalog_load(u->repo, u->instance, &c, &e);
    if (rc == 0)
        rc = binlog_catalog_compact(u->repo, u->instance, c, u->compact_every, &written, &e);
    if (rc == 0) {
        u->uncompacted = 0;
        log_info("binlog catalog of %s compacted: %zu object(s) written, %zu entries up to %"
                 PRIu64, u->instance, written, binlog_catalog_count(c),
                 binlog_catalog_count(c) ? binlog_catalog_at(c, binlog_catalog_count(c) - 1)->seq
                                         : 0);
    } else {
        /* try again after a quarter of the interval */
        u->uncompacted = u->compact_every - (u->compact_every + 3) / 4;
        log_warn("binlog catalog compaction of %s failed (retried later): %s", u->instance,
                 e.msg);
    }
    binlog_catalog_free(c);
}

static int upload_one(BinlogUploader *u, BinlogSegInfo *si, Err *err)
{
    char path[1024], key[300];
    RepoStream *rs = NULL;
    RepoStreamRef ref = {0};
    json_t *j = NULL;
    char *text = NULL;
    uint8_t *buf = NULL;
    Buf old;
    int fd = -1, rc = 0;
    uint64_t total = 0;

    buf_init(&old, 0);
    binlog_spool_data_path(u->sp, si->seq, path, sizeof path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = err_sys(err, errno, "open spooled segment %s", path);
        goto out;
    }
    buf = malloc(1 << 20);
    if (!buf) {
        rc = err_set(err, ERR_NOMEM, "upload buffer");
        goto out;
    }
    if ((rc = repo_stream_begin(u->repo, REPO_CHUNK_BINLOG, &rs, err)))
        goto out;
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_sys(err, errno, "read spooled segment %s", path);
            goto out;
        }
        if (n == 0)
            break;
        if ((rc = repo_stream_write(rs, buf, (size_t)n, err)))
            goto out;
        total += (uint64_t)n;
    }
    rc = repo_stream_end(rs, &ref, err);
    rs = NULL;
    if (rc)
        goto out;
    if (total != si->size || ref.size != si->size) {
        rc = err_set(err, ERR_CORRUPT, "spooled segment %s holds %" PRIu64 " bytes, expected %"
                     PRIu64, path, total, si->size);
        goto out;
    }
    if ((rc = repo_flush(u->repo, err)))
        goto out;
    si->stream = ref;
    j = binlog_seginfo_to_json(si);
    si->stream = (RepoStreamRef){0};
    if (!j || !(text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS))) {
        rc = err_set(err, ERR_NOMEM, "encode catalog entry");
        goto out;
    }
    binlog_catalog_key(u->instance, si->seq, key, sizeof key);
    rc = repo_obj_put(u->repo, key, text, strlen(text), err);
    if (rc == ERR_EXISTS) {
        /* invariant 2: an earlier run committed it; same bytes? */
        err_clear(err);
        BinlogSegInfo prev;
        json_t *pj = NULL;
        uint64_t size = 0;
        /* bounded by its stored size: an entry of a huge transaction's
         * segment (thousands of chunks) is over 1 MiB */
        if ((rc = repo_obj_size(u->repo, key, &size, err)))
            goto out;
        old.max = size < BUF_MAX_DEFAULT ? (size_t)size : BUF_MAX_DEFAULT;
        if ((rc = repo_obj_get(u->repo, key, &old, err)))
            goto out;
        pj = json_loadb((const char *)old.data, old.len, 0, NULL);
        rc = pj ? binlog_seginfo_from_json(pj, &prev, err)
                : err_set(err, ERR_CORRUPT, "catalog entry %s is not JSON", key);
        json_decref(pj);
        if (rc)
            goto out;
        repo_streamref_free(&prev.stream);
        if (memcmp(prev.hash, si->hash, sizeof prev.hash) != 0 || strcmp(prev.file, si->file) ||
            prev.start != si->start) {
            rc = err_set(err, ERR_CORRUPT,
                         "catalog entry %s already exists with other content (%s:%" PRIu64
                         "); is a second follower writing instance %s?",
                         key, prev.file, prev.start, u->instance);
            goto out;
        }
    } else if (rc) {
        err_wrap(err, "write catalog entry %s", key);
        goto out;
    }
    rc = binlog_spool_remove(u->sp, si->seq, err);
out:
    repo_stream_abort(rs);
    repo_streamref_free(&ref);
    json_decref(j);
    free(text);
    free(buf);
    buf_free(&old);
    if (fd >= 0)
        close(fd);
    return rc;
}

static void timed_wait(BinlogUploader *u, unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!u->stop && !u->kicked)
        if (pthread_cond_timedwait(&u->cv, &u->mu, &ts) != 0)
            break;
    u->kicked = false;
}

static void *run(void *arg)
{
    BinlogUploader *u = arg;
    unsigned backoff_ms = 0;

    pthread_mutex_lock(&u->mu);
    while (!u->stop) {
        BinlogSegInfo si;
        pthread_mutex_unlock(&u->mu);
        bool have = binlog_spool_oldest(u->sp, &si);
        pthread_mutex_lock(&u->mu);
        if (!have) {
            u->idle = true;
            pthread_cond_broadcast(&u->cv);
            timed_wait(u, 1000);
            continue;
        }
        u->idle = false;
        pthread_mutex_unlock(&u->mu);
        Err e;
        err_clear(&e);
        int rc = upload_one(u, &si, &e);
        pthread_mutex_lock(&u->mu);
        if (rc == 0) {
            u->st.last = si;
            u->st.has_last = true;
            u->st.failures = 0;
            u->st.error[0] = '\0';
            backoff_ms = 0;
            pthread_cond_broadcast(&u->cv);
            if (u->compact_every && ++u->uncompacted >= u->compact_every) {
                pthread_mutex_unlock(&u->mu);
                compact_catalog(u);
                pthread_mutex_lock(&u->mu);
            }
            continue;
        }
        /* the repository keeps a failed write's error (repo.h); this
         * attempt is dropped whole and redone, so clear it for the retry */
        repo_write_error_clear(u->repo);
        u->st.failures++;
        snprintf(u->st.error, sizeof u->st.error, "upload of binlog segment %" PRIu64
                 " failed: %s", si.seq, e.msg);
        if (rc == ERR_CORRUPT)
            u->st.fatal = true;
        if (u->st.failures == 1 || u->st.failures % 10 == 0)
            log_warn("%s (attempt %u, segments stay in the spool)", u->st.error, u->st.failures);
        pthread_cond_broadcast(&u->cv);
        backoff_ms = backoff_ms ? backoff_ms * 2 : 500;
        if (backoff_ms > 60000)
            backoff_ms = 60000;
        timed_wait(u, backoff_ms);
    }
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

int binlog_uploader_start(Repo *r, BinlogSpool *sp, const char *instance,
                          const BinlogSegInfo *last, unsigned compact_every,
                          size_t uncompacted, BinlogUploader **out, Err *err)
{
    BinlogUploader *u = calloc(1, sizeof *u);
    if (!u)
        return err_set(err, ERR_NOMEM, "uploader");
    u->repo = r;
    u->sp = sp;
    u->compact_every = compact_every;
    u->uncompacted = uncompacted;
    snprintf(u->instance, sizeof u->instance, "%s", instance);
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    if (last) {
        u->st.last = *last;
        u->st.last.stream = (RepoStreamRef){0};
        u->st.has_last = true;
    }
    if (pthread_create(&u->th, NULL, run, u) != 0) {
        free(u);
        return err_set(err, ERR_NOMEM, "start uploader thread");
    }
    u->started = true;
    *out = u;
    return 0;
}

void binlog_uploader_kick(BinlogUploader *u)
{
    pthread_mutex_lock(&u->mu);
    u->kicked = true;
    u->idle = false;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

void binlog_uploader_state(BinlogUploader *u, BinlogUploadState *out)
{
    pthread_mutex_lock(&u->mu);
    *out = u->st;
    pthread_mutex_unlock(&u->mu);
}

int binlog_uploader_drain(BinlogUploader *u, unsigned timeout_s, Err *err)
{
    time_t until = time(NULL) + timeout_s;
    int rc = 0;
    binlog_uploader_kick(u);
    pthread_mutex_lock(&u->mu);
    for (;;) {
        if (u->idle && binlog_spool_pending(u->sp) == 0)
            break;
        if (u->st.fatal || time(NULL) >= until) {
            rc = err_set(err, ERR_IO, "%d binlog segment(s) stay in the spool: %s",
                         (int)binlog_spool_pending(u->sp),
                         u->st.error[0] ? u->st.error : "upload timed out");
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&u->cv, &u->mu, &ts);
    }
    pthread_mutex_unlock(&u->mu);
    return rc;
}

void binlog_uploader_stop(BinlogUploader *u)
{
    if (!u)
        return;
    pthread_mutex_lock(&u->mu);
    u->stop = true;
    pthread_cond_broadcast(&u->cv);
    pthread_mutex_unlock(&u->mu);
    if (u->started)
        pthread_join(u->th, NULL);
    pthread_mutex_destroy(&u->mu);
    pthread_cond_destroy(&u->cv);
    free(u);
}
