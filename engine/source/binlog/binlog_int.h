/* binlog_int.h: helpers shared inside the binlog module (event parsing,
 * segmenter, spool, connection). No other module includes this file.
 * Invariant: everything here parses raw event bytes exactly as the server
 * sent them (without the packet's leading OK byte) and never changes them. */
#ifndef TM_SOURCE_BINLOG_INT_H
#define TM_SOURCE_BINLOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/buf.h"
#include "engine/common/err.h"
#include "engine/source/binlog/src_binlog.h"

/* Event fields (header, Rotate, GTID, Gtid_list, checksums): mdb_event_*
 * (engine/mariadb/mdb.h). */

/* ---- segmenter (binlog_segmenter.c): pure, no I/O ---------------------- */

/* What the caller must do with an event it fed. */
typedef enum BinlogFeedKind {
    BINLOG_FEED_SKIP = 0,     /* artificial or heartbeat: not archived */
    BINLOG_FEED_APPEND = 1,   /* real event: append its bytes to the open segment */
} BinlogFeedKind;

typedef struct BinlogFeed {
    BinlogFeedKind kind;
    bool boundary;        /* after this event no transaction is open */
    bool file_end;        /* a Rotate/Stop closed the file: seal now */
    bool seal_first;      /* the server moved to another file: seal what is open first */
    bool heartbeat;       /* server_file/server_pos updated */
    bool fd_saved;        /* an out-of-file Format_description was kept (fd) */
} BinlogFeed;

typedef struct BinlogSegmenter {
    char file[BINLOG_FILE_MAX];       /* file the next real event belongs to */
    uint64_t pos;                     /* expected start of the next real event; 0 = any */
    unsigned csum_len;                /* 4 with CRC32 events, else 0 */
    bool in_group;
    bool standalone;
    bool verify_crc;
    char pending_file[BINLOG_FILE_MAX];  /* set with seal_first; applied by take */
    uint64_t pending_pos;
    uint8_t fd[1024];                 /* the file's Format_description when not in range */
    size_t fd_len;
    char server_file[BINLOG_FILE_MAX];  /* from heartbeats: the server's end */
    uint64_t server_pos;
    MdbGtidSet state;              /* cumulative GTID state after the last real event */
    BinlogSegInfo cur;                /* segment being built (meta only) */
    uint8_t last_type;
    bool gtid_wait;                   /* GTID start: archive from the first GTID event */
    bool has_prev;                    /* a segment precedes (for its link) */
    char prev_file[BINLOG_FILE_MAX];
    uint8_t prev_last_type;
    BinlogLink first_link;            /* link of the first segment when !has_prev */
} BinlogSegmenter;

/* Start expecting events at file:pos (pos 0: accept the first real event's
 * position). state may be NULL. Then set csum_len (from the server's
 * binlog_checksum: artificial events come before any Format_description),
 * and has_prev/prev_file/prev_last_type from the last archived segment, or
 * first_link; gtid_wait for a GTID start. */
void binlog_seg_init(BinlogSegmenter *s, const char *file, uint64_t pos, const MdbGtidSet *state);
/* Feed one event (ev without the OK byte). ERR_GAP when a real event does
 * not start where the previous one ended; ERR_CORRUPT for bad bytes. */
int binlog_seg_feed(BinlogSegmenter *s, const uint8_t *ev, size_t len, BinlogFeed *out, Err *err);
/* Bytes of complete transactions in the open segment (0 = nothing to seal). */
uint64_t binlog_seg_sealable(const BinlogSegmenter *s);
/* Move the open segment's meta to *out (with its link) and start a new
 * one, applying a pending file switch. Call at a boundary, on file_end or
 * on seal_first. Returns false when the segment is empty. */
bool binlog_seg_take(BinlogSegmenter *s, BinlogSegInfo *out);


/* ---- the loaded catalog (binlog_catalog_load.c) -------------------------- */

/* A compact object: entries first..last of the instance in one object,
 * "catalog/<instance>/compact-<first, 12 digits>-<last, 12 digits>". */
typedef struct BinlogCompactRange {
    uint64_t first, last;
} BinlogCompactRange;

#define BINLOG_COMPACT_PREFIX "compact-"
/* Compacts smaller than this many times the entry threshold are merged
 * into one when this many of them follow each other (a second level). */
#define BINLOG_COMPACT_MERGE 64

struct BinlogCatalog {
    BinlogSegInfo *v;                 /* every entry, seq order, seq unique */
    size_t n, cap;
    BinlogCompactRange *cover;        /* compacts read, in seq order */
    size_t ncover;
    uint64_t compacted_to;            /* highest seq read from a compact (0: none) */
    size_t objects_read;              /* compacts + single entries read */
    size_t objects_listed;            /* keys under catalog/<instance>/ */
};

/* ---- segment meta <-> JSON (binlog_catalog.c) --------------------------- */
json_t *binlog_seginfo_to_json(const BinlogSegInfo *si);
int binlog_seginfo_from_json(const json_t *j, BinlogSegInfo *out, Err *err);

/* ---- local spool (binlog_spool.c) --------------------------------------- */
typedef struct BinlogSpool BinlogSpool;
/* Open (create) <dir>/<instance>, take its lock (ERR_LOCKED when another
 * follower holds it), drop the unsealed tail of a previous run. */
int binlog_spool_open(const char *dir, const char *instance, uint64_t max_bytes,
                      BinlogSpool **out, Err *err);
void binlog_spool_close(BinlogSpool *sp);
const char *binlog_spool_path(const BinlogSpool *sp);
/* Append raw event bytes to the open segment file. */
int binlog_spool_append(BinlogSpool *sp, const void *data, size_t len, Err *err);
/* Seal: every byte appended since the last seal becomes segment meta->seq
 * (meta->size must equal that count): data fsync'd, then the meta JSON
 * renamed into place, which is the local commit point. */
int binlog_spool_seal(BinlogSpool *sp, BinlogSegInfo *meta, Err *err);
/* Forget the bytes appended since the last seal (a dropped connection:
 * those events are read again from the server). */
int binlog_spool_discard(BinlogSpool *sp, Err *err);
/* Bytes used by sealed segments waiting for upload, plus the open one. */
uint64_t binlog_spool_usage(BinlogSpool *sp);
uint64_t binlog_spool_max(const BinlogSpool *sp);
/* The sealed segment with the lowest seq (false when none). */
bool binlog_spool_oldest(BinlogSpool *sp, BinlogSegInfo *out);
/* The sealed segment with the highest seq (false when none). */
bool binlog_spool_newest(BinlogSpool *sp, BinlogSegInfo *out);
size_t binlog_spool_pending(BinlogSpool *sp);
/* Path of a sealed segment's data file into buf. */
void binlog_spool_data_path(const BinlogSpool *sp, uint64_t seq, char *buf, size_t cap);
/* Remove a sealed segment once it is committed to the repository. */
int binlog_spool_remove(BinlogSpool *sp, uint64_t seq, Err *err);

/* ---- replication connection (binlog_conn.c) ---------------------------- */
typedef struct BinlogConn BinlogConn;
/* One binlog file the server has (SHOW BINARY LOGS). */
typedef struct BinlogServerFile {
    char name[BINLOG_FILE_MAX];
    uint64_t size;
} BinlogServerFile;

/* Connect, read the server's identity and binlog_checksum, check that the
 * account may read the binlog list (ERR_PERM with the GRANT otherwise).
 * ERR_NET (retryable) when the server cannot be reached. */
int binlog_conn_open(const MdbConn *o, unsigned read_timeout_s, BinlogConn **out,
                     Err *err);
void binlog_conn_close(BinlogConn *c);   /* accepts NULL */
const char *binlog_conn_identity(const BinlogConn *c);
uint32_t binlog_conn_server_id(const BinlogConn *c);
unsigned binlog_conn_checksum(const BinlogConn *c);   /* 0 none, 1 CRC32 */
/* The server's binlog files, oldest first (*out malloc'd). Before dump only. */
int binlog_conn_files(BinlogConn *c, BinlogServerFile **out, size_t *n, Err *err);
/* Start the dump at file:pos, or after GTID state gtid (file "" and pos 4).
 * our_id is the replica server_id; nonblock ends the dump at the current end. */
int binlog_conn_dump(BinlogConn *c, const char *file, uint64_t pos, const char *gtid,
                     uint32_t our_id, unsigned heartbeat_ms, bool nonblock, Err *err);
/* Next event (borrowed until the next call, without the OK byte). Returns 0
 * with *ev set, 0 with *ev NULL at the end of a non-blocking dump, or an
 * error: ERR_NET (retryable), ERR_GAP (binlog purged), ERR_PERM, ERR_DB. */
int binlog_conn_fetch(BinlogConn *c, const uint8_t **ev, size_t *len, Err *err);

/* ---- uploader thread (binlog_upload.c) ----------------------------------- */
typedef struct BinlogUploader BinlogUploader;
typedef struct BinlogUploadState {
    bool has_last;
    BinlogSegInfo last;          /* last committed entry (stream not kept) */
    unsigned failures;           /* consecutive failed attempts */
    char error[2200];            /* last error, "" when the last attempt worked */
    bool fatal;                  /* a catalog conflict: stop following */
} BinlogUploadState;

/* Start the thread that moves sealed spool segments, oldest first, into
 * the repository (stream, repo_flush, then the catalog entry) and removes
 * them from the spool. Failures are retried with backoff. last may be NULL.
 * Every compact_every entries (0: never) it compacts the catalog
 * (binlog_catalog_compact); uncompacted: entries past the last compact now. */
int binlog_uploader_start(Repo *r, BinlogSpool *sp, const char *instance,
                          const BinlogSegInfo *last, unsigned compact_every,
                          size_t uncompacted, BinlogUploader **out, Err *err);
void binlog_uploader_kick(BinlogUploader *u);
void binlog_uploader_state(BinlogUploader *u, BinlogUploadState *out);
/* Wait until the spool is empty (0), or timeout_s passes / a fatal error
 * (ERR_IO with the last upload error). */
int binlog_uploader_drain(BinlogUploader *u, unsigned timeout_s, Err *err);
void binlog_uploader_stop(BinlogUploader *u);   /* joins; accepts NULL */

#endif
