/* src_binlog.h: the binlog archive: a follower that reads the server's
 * binlog over the replication protocol and seals it into segments, the
 * catalog that maps time and GTID to segments, and the export that rebuilds
 * the server's binlog files from the archive.
 *
 * Invariants a user of this API relies on:
 *  1. A segment holds whole events exactly as the server wrote them, in
 *     file order, from `start` to `end` of one binlog file; it never ends
 *     inside a transaction (except when the server itself abandoned one).
 *  2. A catalog entry is written after its data is durable (repo_flush):
 *     an entry names only data that can be read back.
 *  3. Entries are numbered 1, 2, ... per instance and never rewritten; each
 *     says how it connects to the previous one (link), so a gap is visible. */
#ifndef TM_SOURCE_BINLOG_SRC_BINLOG_H
#define TM_SOURCE_BINLOG_SRC_BINLOG_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engine/common/err.h"
#include "engine/mariadb/mdb.h"
#include "engine/repo/repo.h"

#define BINLOG_FILE_MAX 256
#define BINLOG_IDENTITY_MAX 200

/* GTIDs and GTID sets: MdbGtid, MdbGtidSet (engine/mariadb/mdb.h). */

/* How a segment connects to the one before it. */
typedef enum BinlogLink {
    BINLOG_LINK_START = 0,   /* first of a chain (no predecessor expected) */
    BINLOG_LINK_CONTINUE,    /* same file, starts where the previous ended */
    BINLOG_LINK_ROTATE,      /* previous ended with Rotate/Stop; next file at 4 */
    BINLOG_LINK_NEXT_FILE,   /* the server moved to its next file (no Rotate: crash) */
    BINLOG_LINK_GTID,        /* new server (primary switch): joined by GTID state */
} BinlogLink;

typedef struct BinlogSegInfo {
    uint64_t seq;                          /* 1, 2, ... per instance */
    BinlogLink link;
    char identity[BINLOG_IDENTITY_MAX];    /* "<hostname>:<port>/<server_id>" */
    uint32_t server_id;                    /* the followed server's server_id */
    char file[BINLOG_FILE_MAX];
    uint64_t start, end;                   /* byte positions in file */
    int64_t first_time, last_time;         /* event timestamps (s since epoch), 0 if none */
    MdbGtidSet gtid_first, gtid_last;   /* first/last GTID per domain in the segment */
    MdbGtidSet gtid_state;              /* cumulative state after the segment */
    uint64_t trx_count, event_count, size;
    uint8_t hash[32];                      /* BLAKE2b-256 of the segment bytes */
    unsigned checksum_alg;                 /* 0 none, 1 CRC32 */
    uint8_t last_type;                     /* type of the last event */
    size_t fd_len;                         /* the file's Format_description when */
    uint8_t fd[1024];                      /*   the segment is the first of a partial file */
    RepoStreamRef stream;                  /* where the bytes are (catalog entries only) */
} BinlogSegInfo;

/* ---- follower ----------------------------------------------------------- */

typedef struct BinlogFollowOpts {
    const char *instance;
    MdbConn db;                  /* the server: socket/TCP, option file, TLS (borrowed) */
    uint32_t server_id;          /* our replica server_id, must be unique on the server */
    unsigned flush_seconds;      /* seal at least this often (default 5) */
    uint64_t flush_bytes;        /* or when this many bytes are open (default 16 MiB) */
    const char *spool_dir;
    uint64_t spool_max;          /* alarm and pause reading beyond this */
    const char *start_file;      /* explicit first position when the catalog is empty */
    uint64_t start_pos;
    const char *start_gtid;      /* or a GTID state to start after */
    bool until_idle;             /* stop at the server's current end (tests, demo) */
    unsigned heartbeat_ms;       /* default 1000 */
    volatile sig_atomic_t *stop; /* set by a signal handler: seal, upload, return 0 */
    unsigned compact_entries;    /* compact the catalog every this many entries (default 256) */
} BinlogFollowOpts;

/* Follow the server until stopped (opts->stop), idle (until_idle) or a
 * fatal error: ERR_GAP (binlog purged before it was read, chain broken),
 * ERR_PERM (missing privilege: the message holds the GRANT), ERR_LOCKED
 * (another follower runs for the instance, or an exclusive repository lock
 * is held), ERR_INVALID. Network errors are retried with backoff. Holds a
 * shared repository lock while it runs, rewritten every minute
 * (repo_lock_refresh). Writes <spool>/<instance>/status.json. */
int binlog_follow(Repo *r, const BinlogFollowOpts *opts, Err *err);

/* The status file a follower writes (a new reference). ERR_NOTFOUND when
 * the follower never ran with this spool. (binlog_status.c) */
int binlog_status_read(const char *spool_dir, const char *instance, json_t **out, Err *err);

/* A running follower rewrites its status file every second (heartbeats,
 * backoff, spool-full and drain loops all pass through it); older than this
 * it is hung or gone. */
#define BINLOG_STATUS_STALE_S 30

/* Is the follower of instance running now? st: its status file as read
 * (NULL or JSON null when there is none; spool_dir only names it then).
 * Running means: the process in "pid" is alive, its "state" is not a final
 * one (stopped, gap, error) and "updated" is at most BINLOG_STATUS_STALE_S
 * old. When not running, why[] gets the alarm: what stopped and when, what
 * that means (nothing new is archived) and how to go on. */
bool binlog_follower_running(const json_t *st, const char *spool_dir, const char *instance,
                             time_t now, char *why, size_t cap);

/* A running follower that has not been connected to its server for longer
 * than this (its "disconnected_since") archives nothing although it runs:
 * the server is down, unreachable or refuses it. A restart of the server
 * takes less. */
#define BINLOG_DISCONNECTED_ALARM_S 60

/* Has the (running) follower that wrote st been connected within
 * BINLOG_DISCONNECTED_ALARM_S? When not, why[] gets the alarm with its last
 * error. A status file without "disconnected_since" (older follower) says
 * nothing: true. */
bool binlog_follower_connected(const json_t *st, const char *instance, time_t now, char *why,
                               size_t cap);

/* ---- catalog -------------------------------------------------------------- */

typedef struct BinlogCatalog BinlogCatalog;

/* Load every catalog entry of instance, in seq order. Compact objects are
 * read first; single entries they hold are not read again. An empty
 * catalog is not an error. */
int binlog_catalog_load(Repo *r, const char *instance, BinlogCatalog **out, Err *err);
/* What loading cost: objects read (compacts + single entries), compact
 * objects among them, and the highest seq a compact holds (0: none). */
void binlog_catalog_load_stats(const BinlogCatalog *c, size_t *out_objects, size_t *out_compacts,
                               uint64_t *out_compacted_to);
/* Write compact objects for a loaded catalog: when at least `every`
 * entries lie past the last compact, one "compact-<first>-<last>" object
 * holding them; then, when BINLOG_COMPACT_MERGE small compacts follow each
 * other, one holding their union. Only adds objects (entries and older
 * compacts stay; loading picks the widest). *out_written (may be NULL):
 * objects put. A crash between puts leaves nothing to repair. */
int binlog_catalog_compact(Repo *r, const char *instance, const BinlogCatalog *c, unsigned every,
                           size_t *out_written, Err *err);
void binlog_catalog_free(BinlogCatalog *c);   /* accepts NULL */
size_t binlog_catalog_count(const BinlogCatalog *c);
/* Borrowed, valid while c lives. */
const BinlogSegInfo *binlog_catalog_at(const BinlogCatalog *c, size_t i);
/* First segment whose last event is at or after t; ERR_NOTFOUND past the end. */
int binlog_catalog_find_time(const BinlogCatalog *c, int64_t t, size_t *out_idx, Err *err);
/* The segment holding GTID g (its domain range covers g->seq). */
int binlog_catalog_find_gtid(const BinlogCatalog *c, const MdbGtid *g, size_t *out_idx,
                             Err *err);
/* The segment holding file:pos. */
int binlog_catalog_find_pos(const BinlogCatalog *c, const char *file, uint64_t pos,
                            size_t *out_idx, Err *err);
/* Does entry i connect to entry i-1? On false, why[] says how it breaks. */
bool binlog_catalog_connects(const BinlogCatalog *c, size_t i, char *why, size_t cap);
/* Check the whole chain; ERR_GAP "point-in-time recovery broken between X
 * and Y" at the first break. */
int binlog_catalog_verify(const BinlogCatalog *c, Err *err);
/* Catalog key of an entry: "catalog/<instance>/<seq, 12 digits>". */
void binlog_catalog_key(const char *instance, uint64_t seq, char *out, size_t cap);
/* Read a segment's bytes (fn called in order). */
int binlog_segment_read(Repo *r, const BinlogSegInfo *si, RepoReadFn fn, void *ctx, Err *err);

/* ---- export --------------------------------------------------------------- */

/* Rebuild binlog files in dir (created) from entries [from, to] (indexes):
 * files that start at position 4 are byte-identical to the server's; a file
 * whose archive starts later gets the magic, its Format_description, then
 * the archived events. progress: a progress line on stderr (total: the
 * segments' bytes). */
int binlog_export(Repo *r, const BinlogCatalog *c, size_t from, size_t to, const char *dir,
                  bool progress, Err *err);

/* ---- GTIDs: mdb_gtid_* (engine/mariadb/mdb.h) ---------------------------- */

/* Text helpers for output. */
const char *binlog_link_name(BinlogLink l);
void binlog_time_format(int64_t t, char *out, size_t cap);   /* UTC "YYYY-MM-DD HH:MM:SS" */

#endif
