/* storage.h: the one storage interface. Drivers know keys and bytes only:
 * no chunks, no crypto. The engine calls only the sto_* wrappers.
 *
 * Contract, for every driver:
 *  1. put is atomic: readers see all of the object or nothing (local: temp
 *     file, fsync, rename, fsync dir; S3: one PUT or a completed multipart).
 *  2. A missing key is ERR_NOTFOUND, never ERR_IO.
 *  3. Keys are relative, '/'-separated, never start with '/' nor contain
 *     "..", "//" or a NUL; [A-Za-z0-9._/-] only. The wrappers check this.
 *  4. Objects are immutable once put (the engine never rewrites a key with
 *     different content, except "locks/" objects).
 *  5. list order is unspecified unless STO_FEAT_LIST_SORTED.
 *  6. Retries with backoff live in the driver; it marks Err retryable and
 *     says in the message how many tries it made when it gives up.
 *  7. Every op is safe to call from several threads at once. */
#ifndef TM_STORAGE_STORAGE_H
#define TM_STORAGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/err.h"

#define STO_OPS_V1 1u

#define STO_FEAT_RANGE_GET   (1u << 0) /* get with off/len reads only that range */
#define STO_FEAT_LIST_SORTED (1u << 1) /* list yields keys in byte order */
#define STO_FEAT_DEL_MANY    (1u << 2) /* del_many is native (batch request) */

/* get(): pass STO_LEN_ALL as len to read from off to the end. */
#define STO_LEN_ALL ((size_t)-1)

typedef struct StoStat {
    uint64_t size;
    int64_t mtime;   /* seconds since the epoch, 0 if unknown */
} StoStat;

/* Called once per key under the prefix. Return 0 to go on; any other value
 * stops the listing and is returned by list() (set err when it is an error). */
typedef int (*StoListFn)(void *ctx, const char *key, uint64_t size, Err *err);

typedef struct StoOps {
    unsigned version;     /* STO_OPS_V1; new ops are only appended */
    unsigned features;    /* STO_FEAT_* */
    const char *kind;     /* "local", "s3" */
    int (*put)(void *self, const char *key, const void *buf, size_t len, Err *err);
    /* Appends the bytes to out (out is not reset). A range past the end is
     * ERR_INVALID; a short object is returned as far as it goes when len is
     * STO_LEN_ALL. */
    int (*get)(void *self, const char *key, uint64_t off, size_t len, Buf *out, Err *err);
    int (*stat)(void *self, const char *key, StoStat *out, Err *err);
    /* Deleting a missing key is not an error. */
    int (*del)(void *self, const char *key, Err *err);
    int (*list)(void *self, const char *prefix, StoListFn fn, void *ctx, Err *err);
    void (*close)(void *self);
    /* Optional (may be NULL): delete many keys; missing keys are not errors. */
    int (*del_many)(void *self, const char *const *keys, size_t n, Err *err);
} StoOps;

typedef struct Sto {
    const StoOps *ops;
    void *self;
    char *location;   /* printable, credential-free location, e.g. "/srv/repo" */
} Sto;

/* Wrap a driver instance. Takes ownership of self (closed by sto_close).
 * location is copied. */
int sto_new(const StoOps *ops, void *self, const char *location, Sto **out, Err *err);
void sto_close(Sto *sto);   /* accepts NULL */

/* Checked wrappers: validate the key, call the driver, keep the wording of
 * errors the same for every driver ("<op> <key>: ..."). */
int sto_put(Sto *sto, const char *key, const void *buf, size_t len, Err *err);
int sto_get(Sto *sto, const char *key, uint64_t off, size_t len, Buf *out, Err *err);
int sto_get_all(Sto *sto, const char *key, Buf *out, Err *err);
int sto_stat(Sto *sto, const char *key, StoStat *out, Err *err);
int sto_del(Sto *sto, const char *key, Err *err);
int sto_del_many(Sto *sto, const char *const *keys, size_t n, Err *err);
int sto_list(Sto *sto, const char *prefix, StoListFn fn, void *ctx, Err *err);
/* 1 if the key exists, 0 if not, <0 never: errors return ERR_* via err with
 * *out untouched. */
int sto_exists(Sto *sto, const char *key, int *out, Err *err);

/* ERR_INVALID unless key follows contract point 3. */
int sto_key_check(const char *key, Err *err);

/* sto_open_url flags */
#define STO_OPEN_CREATE 1u   /* local: create the directory if missing */

/* Open a repository location: "/abs/path", "local:/abs/path" or
 * "s3:https://endpoint/bucket/prefix" (see docs/OPERATIONS.md). A missing
 * local directory without STO_OPEN_CREATE is ERR_NOTFOUND. */
int sto_open_url(const char *url, unsigned flags, Sto **out, Err *err);
/* The same with the S3 driver's settings from the caller (s3 may be NULL:
 * the environment only; see storage-backends/s3/s3.h). */
typedef struct StoS3Options StoS3Options;
int sto_open_url_with(const char *url, unsigned flags, const StoS3Options *s3, Sto **out, Err *err);

#endif
