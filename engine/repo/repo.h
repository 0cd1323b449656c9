/* repo.h: the repository: the only module that joins storage, crypto,
 * chunking, compression, packs, index and snapshots. Sources (files, dump,
 * binlog) and restore code use only this API and storage-free types.
 *
 * Invariants a user of this API relies on:
 *  1. Data written through a stream or blob put is durable only after
 *     repo_flush() (or repo_snapshot_put, which flushes first) returns 0.
 *  2. A snapshot object is written last: it is the commit point. A crash
 *     before it leaves only unreferenced packs/index objects, which check
 *     accepts and the next run simply does not use or reuses.
 *  3. Every function here is thread-safe on one Repo, except repo_close.
 *     RepoStream objects belong to one thread each.
 *  4. Memory is bounded: writers block when the compress/encrypt queue is
 *     full; readers hold at most one blob per call. */
#ifndef TM_REPO_REPO_H
#define TM_REPO_REPO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/chunk/chunk.h"
#include "engine/common/buf.h"
#include "engine/common/err.h"
#include "engine/common/id.h"
#include "engine/crypto/crypto.h"
#include "storage-backends/storage.h"

#define REPO_FORMAT_VERSION 1

typedef struct Repo Repo;

typedef struct RepoOptions {
    int zstd_level;          /* default 3; 0 = store only */
    unsigned workers;        /* compress+encrypt threads; default 2 */
    size_t pack_size;        /* target pack size; default 16 MiB */
    CryKdfParams kdf;        /* for init and key add; default CRY_KDF_DEFAULT */
} RepoOptions;

/* Fill o with the defaults (honours TIDEMARK_KDF=fast for tests). */
void repo_options_default(RepoOptions *o);

/* Create a repository in an empty location: config, first key object.
 * ERR_EXISTS when a repository (a "config" object) is already there.
 * Does not take ownership of sto. */
int repo_init(Sto *sto, const char *pass, size_t passlen, const RepoOptions *opt, Err *err);

/* Open: read config (ERR_VERSION if newer, ERR_NOTFOUND "no repository at
 * <location>"), try every key object with pass (ERR_AUTH "wrong passphrase
 * for repository <location>"), load the index. Takes ownership of sto
 * (closed by repo_close/repo_free, also on failure). */
int repo_open(Sto *sto, const char *pass, size_t passlen, const RepoOptions *opt, Repo **out,
              Err *err);
/* Flush, then free. Returns the flush error, if any; frees in all cases. */
int repo_close(Repo *r, Err *err);
/* Free without flushing (error paths); accepts NULL. */
void repo_free(Repo *r);

/* Borrowed accessors, valid while r lives. */
Sto *repo_sto(Repo *r);
const CryKeys *repo_keys(Repo *r);
const char *repo_id_hex(Repo *r);        /* the repository's unique id */

/* Upload open packs and write the index delta. After 0, everything put so
 * far is durable and findable by a fresh repo_open. */
int repo_flush(Repo *r, Err *err);
/* After a failed write (repo_flush or a stream call returned an error),
 * forget the pipeline's sticky error so a long-running writer (the binlog
 * follower) can try again once storage works. Waits for the workers to go
 * idle. The caller must write again everything it wrote since its last
 * successful repo_flush (chunks whose upload failed are not in the index)
 * and must have no stream open; no snapshot or catalog entry may name the
 * failed writes. */
void repo_write_error_clear(Repo *r);

/* ---- blobs: one chunk of plaintext, content-addressed ---------------- */

/* Store data as one blob (deduplicated) and return its id. Copies data. */
int repo_blob_put(Repo *r, const void *data, size_t len, Id *out_id, Err *err);
/* true when the blob is stored (or queued in this process). */
bool repo_blob_known(Repo *r, const Id *id);
/* Append the blob's plaintext to out. ERR_NOTFOUND "chunk <id> not in
 * index"; ERR_AUTH/ERR_CORRUPT naming the chunk and pack when damaged. */
int repo_blob_get(Repo *r, const Id *id, Buf *out, Err *err);

/* ---- streams: a byte stream cut into chunks ---------------------------- */

typedef enum RepoChunking {
    REPO_CHUNK_FILES = 0,    /* CHK_PARAMS_FILES */
    REPO_CHUNK_DUMP = 1,     /* CHK_PARAMS_DUMP */
    REPO_CHUNK_BINLOG = 2,   /* CHK_PARAMS_BINLOG */
} RepoChunking;

/* What a stream became: its length and ordered chunk ids. */
typedef struct RepoStreamRef {
    uint64_t size;
    size_t nchunks;
    Id *chunks;              /* malloc'd, nchunks entries */
} RepoStreamRef;

void repo_streamref_free(RepoStreamRef *s);   /* frees chunks; accepts NULL */
/* JSON form used inside manifests: {"size":N,"chunks":["hex",...]}. */
json_t *repo_streamref_to_json(const RepoStreamRef *s);
int repo_streamref_from_json(const json_t *j, RepoStreamRef *out, Err *err);

typedef struct RepoStream RepoStream;

int repo_stream_begin(Repo *r, RepoChunking kind, RepoStream **out, Err *err);
int repo_stream_write(RepoStream *s, const void *data, size_t len, Err *err);
/* Finish: cut the tail, fill *out (caller frees with repo_streamref_free).
 * Frees s whatever the result. */
int repo_stream_end(RepoStream *s, RepoStreamRef *out, Err *err);
void repo_stream_abort(RepoStream *s);   /* accepts NULL */

/* Called with each chunk's plaintext in order; return non-zero to stop. */
typedef int (*RepoReadFn)(void *ctx, const void *data, size_t len, Err *err);
/* Read a whole stream (prefetching ahead with the worker threads). */
int repo_stream_read(Repo *r, const RepoStreamRef *s, RepoReadFn fn, void *ctx, Err *err);

/* ---- small encrypted objects (manifests, catalogs, reports) ---------- */

/* Put data encrypted under key (authenticated with the key as associated
 * data, so an object moved to another key fails to open). Atomic; the key
 * must not exist already unless it is under "locks/". */
int repo_obj_put(Repo *r, const char *key, const void *data, size_t len, Err *err);
/* Call fn for every object whose key starts with prefix (a repository key
 * such as "catalog/erp/"), with its stored (sealed) size; order unspecified
 * (storage.h). A non-zero return of fn stops the walk and is returned. The
 * only way outside engine/repo to walk the repository's objects. */
int repo_list_objects(Repo *r, const char *prefix, StoListFn fn, void *ctx, Err *err);
/* The stored (sealed) size of the object at key: an upper bound of its
 * plaintext. ERR_NOTFOUND when there is none. */
int repo_obj_size(Repo *r, const char *key, uint64_t *out, Err *err);
/* Decrypt the object at key and append its plaintext to out. */
int repo_obj_get(Repo *r, const char *key, Buf *out, Err *err);
/* Same as repo_obj_put at "<dir>/<hex of keyed hash of data>"; returns the id. */
int repo_obj_put_hashed(Repo *r, const char *dir, const void *data, size_t len, Id *out_id,
                        Err *err);

/* ---- snapshots: the commit point ------------------------------------ */

/* A new manifest with "version", "time" (now, UTC ISO 8601), "host",
 * "instance", "tags" (copied) and an empty "items" array. */
json_t *repo_manifest_new(const char *instance, const char *const *tags, size_t ntags);
/* Flush, then write snapshots/<id> (the commit point). Steals no reference. */
int repo_snapshot_put(Repo *r, json_t *manifest, Id *out_id, Err *err);
/* Find by full id, unique hex prefix (>= 4 chars), or "latest" (newest by
 * time; restricted to instance when instance is non-NULL). *out is a new
 * reference. ERR_NOTFOUND / ERR_INVALID (ambiguous prefix). */
int repo_snapshot_get(Repo *r, const char *ref, const char *instance, json_t **out, Id *out_id,
                      Err *err);
/* What "latest" must match (every field optional: NULL / 0 match all).
 * instance: the manifest's "instance"; tags: every one must be among the
 * manifest's "tags"; item_kind: the snapshot holds an item of that "kind"
 * ("files", "mariadb"); paths (with item_kind "files"): for each, a files
 * item whose tree starts with the path's first component (the basename of
 * the item's "root"; an item without "root" is taken to hold any path). */
typedef struct RepoSnapFilter {
    const char *instance;
    const char *const *tags;
    size_t ntags;
    const char *item_kind;
    const char *const *paths;
    size_t npaths;
} RepoSnapFilter;
/* Like repo_snapshot_get, with "latest" meaning the newest snapshot that
 * matches every field of f (may be NULL). A full id or prefix is taken as
 * given (the caller checks what it holds). ERR_NOTFOUND names the filter. */
int repo_snapshot_find(Repo *r, const char *ref, const RepoSnapFilter *f, json_t **out,
                       Id *out_id, Err *err);
/* Whether manifest matches f (see RepoSnapFilter). */
bool repo_snapshot_matches(const json_t *manifest, const RepoSnapFilter *f);
typedef int (*RepoSnapFn)(void *ctx, const Id *id, json_t *manifest, Err *err);
/* All snapshots, oldest first (by "time"). manifest is borrowed. */
int repo_snapshot_list(Repo *r, RepoSnapFn fn, void *ctx, Err *err);

/* ---- statistics (for progress and reports) ---------------------------- */

typedef struct RepoStats {
    uint64_t bytes_in;        /* plaintext bytes given to streams/blobs */
    uint64_t bytes_new;       /* plaintext bytes of new (non-duplicate) chunks */
    uint64_t bytes_stored;    /* bytes written to storage (packs + objects) */
    uint64_t chunks_new;
    uint64_t chunks_dup;
    uint64_t packs_written;
    uint64_t bytes_read;      /* plaintext bytes read back */
} RepoStats;
void repo_stats_get(Repo *r, RepoStats *out);

/* ---- locks ------------------------------------------------------------ */

/* Take a shared (backup, restore, check) or exclusive (prune, key remove)
 * lock. A conflicting live lock is ERR_LOCKED naming host, pid and age;
 * locks older than 30 minutes without refresh are stale and ignored.
 * Released by repo_unlock or repo_close. */
int repo_lock(Repo *r, bool exclusive, Err *err);
int repo_unlock(Repo *r, Err *err);
/* Rewrite the lock object taken by repo_lock with the current time, so a
 * long-running holder (the binlog follower) never looks stale. Call well
 * within the 30 minutes. ERR_INVALID when r holds no lock. */
int repo_lock_refresh(Repo *r, Err *err);

/* ---- keys (one key object per passphrase) ------------------------------ */

/* info: the key object's public fields (created, host, label, kdf,
 * opslimit, memlimit), borrowed; current: the key that opened r. */
typedef int (*RepoKeyFn)(void *ctx, const char *key_id, const json_t *info, bool current, Err *err);
int repo_key_list(Repo *r, RepoKeyFn fn, void *ctx, Err *err);
/* Wrap the master keys under a new passphrase; out_id gets the new key's id. */
int repo_key_add(Repo *r, const char *pass, size_t passlen, const char *label,
                 char out_id[ID_HEX_LEN + 1], Err *err);
/* Remove a key object by id or unique prefix. Refuses (ERR_INVALID) the
 * last key and the key that opened r (open with another passphrase). */
int repo_key_remove(Repo *r, const char *id_prefix, Err *err);
/* Add a key for newpass, then remove the current one. */
int repo_key_passwd(Repo *r, const char *newpass, size_t newlen, char out_id[ID_HEX_LEN + 1], Err *err);
const char *repo_key_current(Repo *r);

/* ---- check --------------------------------------------------------------- */

typedef struct RepoCheckOptions {
    bool read_data;        /* read and verify every blob of every pack */
    double subset_pct;     /* with read_data: only this share of packs (0 < p <= 100) */
    bool progress;         /* with read_data: a progress line on stderr (total: the packs' bytes) */
} RepoCheckOptions;

typedef struct RepoCheckReport {
    uint64_t errors, warnings;
    uint64_t snapshots, packs, packs_read, chunks_indexed, chunks_referenced, blobs_verified;
    uint64_t bytes_read;
} RepoCheckReport;

/* Called for every finding, in order; msg names the object and the problem. */
typedef void (*RepoCheckMsgFn)(void *ctx, bool is_error, const char *msg);
/* Structure: every chunk a snapshot references is in the index (stream
 * references are found anywhere in a manifest, and inside streams whose
 * reference carries "nested":"jsonl"), every indexed pack exists with a
 * matching size; packs not in any index are warnings (an interrupted
 * backup). With read_data: every blob of the chosen packs authenticates,
 * expands and hashes to its id, and the pack table matches the index.
 * Returns 0 when the check ran (report->errors says whether it passed);
 * ERR_* only when the check itself could not run. */
int repo_check(Repo *r, const RepoCheckOptions *opt, RepoCheckMsgFn fn, void *ctx,
               RepoCheckReport *report, Err *err);

/* Rebuild the index from the packs' own tables: write one index object for
 * every pack present in storage but missing from the index. out_added: packs added. */
int repo_repair_index(Repo *r, uint64_t *out_added, Err *err);

/* The start of a backup's writes (after repo_lock): packs an interrupted
 * writer left in storage without an index entry are indexed first, as
 * repo_repair_index does, so the chunks they hold are reused by this backup
 * and every later one, never stored again. Safe beside a running writer:
 * nothing is deleted, and a pack it has put but not yet indexed gets
 * indexed twice, which the index keeps once. Costs one listing of packs/
 * (and one tail read per pack adopted). out_adopted: packs indexed. */
int repo_adopt_packs(Repo *r, uint64_t *out_adopted, Err *err);

#endif
