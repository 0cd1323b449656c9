/* repo_int.h: the Repo structure, shared by the repo_*.c files only.
 *
 * Write pipeline (design block):
 *   caller thread: RepoStream cuts chunks (chk_cut) and queues each as a
 *     stream Job holding a slot of the stream's id list (submit_stream).
 *     repo_blob_put hashes on the caller's thread instead (submit()).
 *   worker threads (opt.workers): pop a Job; a stream job is hashed there
 *     (cry_id, the costliest step of the caller's path) and, under mu, its
 *     id written to its slot and looked up: a known id counts as duplicate
 *     and stops there; an unknown id is added to the index as PENDING. Then
 *     compress and seal straight into the worker's own PackWriter. A full
 *     pack is handed to the uploader (one waiting at most; the worker takes
 *     a recycled writer and goes on).
 *   uploader thread: finish the pack, put packs/xx/<id> (outside mu), then
 *     under mu complete the index entries and append the pack to the index
 *     delta; write an index object every REPO_DELTA_MAX_PACKS packs. A
 *     failed upload drops the pack's pending entries and sets werr.
 *   repo_flush: wait until the queue, the workers and the uploader are idle,
 *     take every worker's partial pack and upload it, then write the index
 *     delta as index/<id>, then compact the in-memory index.
 * Invariants:
 *   1. An index entry with a real pack number refers to an uploaded pack.
 *   2. An index object is written only after all packs it names are stored.
 *   3. The first worker error is sticky (werr): every later submit and
 *      flush returns it, so no snapshot can commit over lost data, until
 *      repo_write_error_clear (a writer that redoes everything since its
 *      last successful flush).
 *   4. Queue memory is bounded by q_max_bytes; submit blocks when full.
 *   5. A stream's pending count (jobs whose id is not yet in its slot) is
 *      changed under mu only; repo_stream_end and _abort wait for it to
 *      reach 0 before reading the ids or freeing the stream. */
#ifndef TM_REPO_REPO_INT_H
#define TM_REPO_REPO_INT_H

#include <pthread.h>

#include "engine/compress/compress.h"
#include "engine/index/index.h"
#include "engine/pack/pack.h"
#include "engine/repo/repo.h"

#define REPO_INDEX_AD "tidemark index v1"
#define REPO_DELTA_MAX_PACKS 64   /* an index delta per 1 GiB of 16M packs: fewer objects (S3), little redone after a crash */

/* A stream being chunked (repo_stream.c); workers fill ids[slot] and
 * decrement pending under r->mu (repo_write.c). */
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

typedef struct RepoJob {
    struct RepoJob *next;
    Id id;                      /* computed by the caller, or by the worker for stream jobs */
    struct RepoStream *stream;  /* stream job: the worker hashes, dedups and fills stream->ids[slot] */
    size_t slot;
    size_t len;
    uint8_t data[];
} RepoJob;

typedef struct RepoWorker {
    struct Repo *repo;
    pthread_t thread;
    PackWriter *pw;
    CompCtx *comp;
    uint8_t *scratch;
    size_t scratch_cap;
} RepoWorker;

typedef struct RepoCompPool {
    CompCtx *ctx[16];
    size_t n;
} RepoCompPool;

struct Repo {
    Sto *sto;
    CryKeys *keys;
    char id_hex[ID_HEX_LEN + 1];
    char key_used[ID_HEX_LEN + 1];   /* key object that opened the repo */
    RepoOptions opt;
    ChkChunker *chunkers[3];

    pthread_mutex_t mu;
    Index *idx;
    RepoStats stats;

    /* write pipeline */
    pthread_cond_t cv_job, cv_space, cv_idle;
    pthread_cond_t cv_ids;     /* a stream job's id was filled in */
    RepoJob *q_head, *q_tail;
    size_t q_bytes, q_max_bytes;
    unsigned busy;
    bool stopping;
    bool started;
    RepoWorker *workers;
    unsigned nworkers;
    /* uploader: full packs go to one thread so no worker waits on storage */
    pthread_t uploader;
    bool uploader_started;
    bool workers_done;         /* set once the workers are joined: the uploader may exit */
    PackWriter *up_pack;       /* handed off, waiting for the uploader (at most one) */
    bool up_busy;              /* the uploader is storing a pack */
    PackWriter *spare;         /* a recycled, empty pack writer */
    pthread_cond_t cv_up;      /* up_pack, up_busy or stopping changed */
    IdxFilePack *delta;
    size_t ndelta, delta_cap;
    bool has_werr;
    Err werr;

    /* read side */
    RepoCompPool comp_pool;

    /* lock */
    char *lock_key;
    bool lock_exclusive;     /* what lock_key was taken as (for refresh) */
};

/* repo_write.c */
int repo_pipeline_start(Repo *r, Err *err);
void repo_pipeline_stop(Repo *r);
/* Under mu: record an uploaded pack's entries in the index and the index
 * delta. Takes ownership of entries on success. */
int repo_delta_add(Repo *r, const Id *pack_id, PackEntry *entries, size_t n, Err *err);
/* Under mu: the sticky worker error (design invariant 3) copied to err, or 0. */
int repo_werr_copy(Repo *r, Err *err);
/* repo_read.c */
int repo_comp_take(Repo *r, CompCtx **out, Err *err);
void repo_comp_give(Repo *r, CompCtx *c);
void repo_comp_pool_free(Repo *r);
/* repo.c */
/* Seal data with AD = ad and put it at key. */
int repo_sealed_put(Repo *r, const char *key, const char *ad, const void *data, size_t len, Err *err);
/* "packs/ab/<hex>" */
void repo_pack_key(const Id *pack_id, char *out, size_t cap);

#endif
