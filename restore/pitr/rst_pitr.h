/* rst_pitr.h: point-in-time restore: choose the snapshot, resolve the
 * target (time, GTID, before-GTID) to an exact GTID position over the
 * archived binlog, refuse early (plan), load the snapshot, replay the
 * archive through rst_replay_run, verify; binlog search; verify-chain.
 *
 * Invariants a user of this API relies on:
 *  1. rst_pitr_plan touches no database: it reads the repository only (the
 *     snapshot list, the catalog, and every byte of every segment it needs,
 *     so a missing pack or a segment that fails authentication is refused
 *     before anything is loaded).
 *  2. The replay target is always a *prefix* of the archived binlog in
 *     commit order: "every transaction up to X, none after". For a time T
 *     the prefix ends before the first transaction carrying a binlog
 *     timestamp later than T's second (timestamps are whole seconds).
 *  3. A target position is a full GTID state (one GTID per domain), the
 *     state of the stream just after the last transaction applied. */
#ifndef TM_RESTORE_PITR_RST_PITR_H
#define TM_RESTORE_PITR_RST_PITR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/common/err.h"
#include "engine/repo/repo.h"
#include "engine/source/binlog/src_binlog.h"
#include "engine/source/dump/src_dump.h"

#define RST_PITR_GTID_MAX 1100   /* a formatted GTID state */

/* ---- time ---------------------------------------------------------------- */

/* Parse "YYYY-MM-DD[T ]HH:MM[:SS[.fff]]" with an optional offset ("Z",
 * "+01:00", "+0100", "-05") or none (local time, the TZ of the process),
 * or "@EPOCH". *out is seconds since the epoch (fractions dropped: binlog
 * timestamps are whole seconds); zone (may be NULL) gets how the input was
 * read, e.g. "local time CET (+01:00)" or "UTC offset +02:00". */
int rst_pitr_time_parse(const char *s, int64_t *out, char *zone, size_t zcap, Err *err);
/* "YYYY-MM-DD HH:MM:SS UTC (YYYY-MM-DD HH:MM:SS <local zone>)". */
void rst_pitr_time_format(int64_t t, char *out, size_t cap);

/* ---- walking the archive ------------------------------------------------- */

/* Called for each event of segments [from, to] in order: pos is the event's
 * start in its binlog file, ev its bytes (header, body, checksum) valid
 * during the call. Return RST_PITR_STOP to end the walk early (the walk
 * then returns 0), another non-zero ERR_* to fail. */
#define RST_PITR_STOP (-1)
typedef int (*RstPitrEventFn)(void *ctx, const BinlogSegInfo *seg, uint64_t pos,
                              const uint8_t *ev, size_t len, Err *err);
/* Every segment is checked against its catalog entry (size, BLAKE2b) when
 * read to its end; ERR_CORRUPT naming the segment otherwise. */
int rst_pitr_walk(Repo *r, const BinlogCatalog *c, size_t from, size_t to, RstPitrEventFn fn,
                  void *ctx, Err *err);

/* A pull source (RstEventNext, rst_replay.h) over segments [from, to],
 * in binlog-file form: the first file's Format_description first, events
 * of the first segment before start_pos skipped; a reader thread prefetches
 * (at most ~32 MiB queued). */
typedef struct RstPitrSource RstPitrSource;
int rst_pitr_source_open(Repo *r, const BinlogCatalog *c, size_t from, size_t to,
                         uint64_t start_pos, RstPitrSource **out, Err *err);
/* RstEventNext; ctx is the RstPitrSource. */
int rst_pitr_source_next(void *ctx, const uint8_t **ev, size_t *len, Err *err);
void rst_pitr_source_close(RstPitrSource *s);   /* stops the thread; accepts NULL */

/* ---- the plan ------------------------------------------------------------ */

typedef enum RstPitrKind {
    RST_PITR_SNAPSHOT = 0,   /* the snapshot alone, no replay */
    RST_PITR_TIME,           /* every transaction stamped at or before `time` */
    RST_PITR_GTID,           /* up to and including `gtid` */
    RST_PITR_BEFORE_GTID,    /* everything before `gtid`'s transaction */
} RstPitrKind;

typedef struct RstPitrRequest {
    const char *instance;
    RstPitrKind kind;
    int64_t time;
    MdbGtid gtid;
    const char *snapshot;    /* a snapshot ref to use (required for RST_PITR_SNAPSHOT,
                                otherwise optional: then it must be at or before the target) */
    int64_t now;             /* "the future" starts after this (0 = time(NULL)) */
    const char *spool_dir;   /* the follower's spool (its status.json: the proof that nothing
                                was committed after the archive's end); NULL = none here */
    bool accept_archive_end; /* a time past the archive's end without that proof: restore to
                                the archive's end anyway, the loss said in the verdict */
} RstPitrRequest;

/* Set q's target from what an operator gives (each NULL when not given):
 * exactly one of to (a time, as rst_pitr_time_parse), to_gtid, before_gtid,
 * or none of them with a snapshot ref (RST_PITR_SNAPSHOT). q->snapshot is
 * set to snapshot. zone (may be NULL) gets how a time was read.
 * ERR_INVALID naming the option for two targets, none, or one that does
 * not parse; q is then unchanged but for what was parsed. */
int rst_pitr_target_set(RstPitrRequest *q, const char *to, const char *to_gtid, const char *before_gtid,
                        const char *snapshot, char *zone, size_t zcap, Err *err);

/* A time target past the last archived transaction (RstPitrPlan.archive_end). */
typedef enum RstPitrArchiveEnd {
    RST_PITR_END_NONE = 0,   /* the target is inside the archive (or not a time) */
    RST_PITR_END_PROVEN,     /* the follower heard the server's end = the archive's end after T */
    RST_PITR_END_ACCEPTED,   /* not proven, restored to the archive's end by --accept-archive-end */
} RstPitrArchiveEnd;

/* Measured (or default) rates for the estimate. */
typedef struct RstPitrRates {
    double load_bytes_s;     /* snapshot load incl. indexes */
    double verify_bytes_s;
    double replay_tx_s;
    double replay_bytes_s;
    double net_bytes_s;      /* net-change path: binlog bytes per second of replay (critical path) */
    bool measured;           /* false: defaults from bench/README.md */
} RstPitrRates;

/* What the plan's scan found in the replayed range (pitr_range.c). */
typedef struct RstPitrRangeInfo {
    uint64_t max_event;               /* the largest event's bytes */
    char max_event_gtid[64];          /* the group holding it */
    char xa_orphan[600];              /* "XA COMMIT <xid> (GTID g)": prepared before the snapshot */
    char named_db[400];               /* the first statement naming a restored database explicitly
                                         (its GTID, the database, its start) */
    char xa_noop[2048];               /* XA COMMITs of the range whose XA was prepared before the
                                         snapshot touching no restored database: their ids, one a
                                         line; the replay turns them into no-ops */
    char crossing[900];               /* the first statement moving or copying a table between a
                                         restored and a non-restored database (GTID, both, start) */
} RstPitrRangeInfo;

typedef struct RstPitrPlan {
    RstPitrKind kind;
    char snap_hex[ID_HEX_LEN + 1];
    json_t *manifest;                 /* owned */
    const json_t *item;               /* the mariadb item, borrowed from manifest */
    char snap_time[40];               /* manifest "time" */
    char snap_file[BINLOG_FILE_MAX];
    uint64_t snap_pos;
    char snap_gtid[RST_PITR_GTID_MAX];
    uint64_t db_bytes, db_rows;
    bool replay;                      /* false: the snapshot is the target */
    size_t seg_from, seg_to;          /* catalog indexes (replay only) */
    size_t segments;
    uint64_t seg_bytes;               /* plaintext bytes of those segments */
    char target_gtid[RST_PITR_GTID_MAX];   /* the state to reach */
    uint64_t transactions;            /* groups to replay */
    char last_gtid[64];               /* last transaction applied ("" when none) */
    int64_t last_time;                /* its commit event's timestamp */
    uint64_t last_end_pos;            /* where it ends in last_file */
    char last_file[BINLOG_FILE_MAX];
    char next_gtid[64];               /* first transaction not applied ("" = archive end) */
    int64_t next_time;
    int64_t archive_end_time;         /* last archived event */
    char archive_end_gtid[RST_PITR_GTID_MAX];
    char later_snapshot[ID_HEX_LEN + 1];   /* a snapshot whose coordinates equal the target */
    char notes[2048];                 /* lines worth saying (multi-line) */
    char warnings[2048];              /* lines the operator must not miss (multi-line) */
    RstPitrArchiveEnd archive_end;    /* a time target past the archive's end: how it is covered */
    char archive_end_why[2048];       /* the proof, or what was accepted */
    RstPitrRangeInfo range;             /* refusals the run checks before the load */
    RstPitrRates rates;
    double est_load_s, est_replay_s, est_verify_s;
    double est_net_s;                 /* replay as a net change (when the range allows it) */
} RstPitrPlan;

/* Choose the snapshot, resolve the target, check the chain and every
 * segment needed (reading them). Refusals: ERR_INVALID (target in the
 * future), ERR_NOTFOUND (no snapshot at or before the target, a GTID that
 * is not in the archive, a catalog object or pack missing), ERR_GAP (a
 * break in the chain; a time past the last archived transaction that the
 * follower's status does not prove complete, unless accept_archive_end:
 * docs/OPERATIONS.md "A target past the archive's end"), ERR_CORRUPT/ERR_AUTH
 * (damaged segment). On failure *out holds nothing to free. */
int rst_pitr_plan(Repo *r, const BinlogCatalog *c, const RstPitrRequest *req,
                  const RstPitrRates *rates, RstPitrPlan *out, Err *err);
void rst_pitr_plan_free(RstPitrPlan *p);   /* accepts a zeroed plan */
/* The plan as text lines (what --plan prints) / as JSON (new reference). */
void rst_pitr_plan_print(const RstPitrPlan *p, FILE *f);
json_t *rst_pitr_plan_json(const RstPitrPlan *p);

/* Rates from <state_dir>/pitr-rates.json, defaults when absent. */
void rst_pitr_rates_load(const char *state_dir, RstPitrRates *out);
/* Fold one measured restore into the file (best effort, no error). */
void rst_pitr_rates_save(const char *state_dir, const RstPitrRates *measured);

/* Before anything is written (and for --plan): refuse what the range
 * holds that the replay cannot do exactly: an XA COMMIT of a transaction
 * prepared before the snapshot's position, a statement naming the source
 * database explicitly when target_db renames it (ERR_UNSUPPORTED), an
 * event larger than the target's slave_max_allowed_packet (ERR_INVALID,
 * naming the SET GLOBAL that allows it; only with replica, when the range
 * may go through the target's replica). Reads one variable of the target. */
int rst_pitr_range_check(const MdbConn *conn, const RstPitrPlan *plan, const char *target_db, bool replica,
                         Err *err);

/* ---- the target server ----------------------------------------------------- */

typedef struct RstPitrTargetInfo {
    char version[64];
    uint32_t server_id;
    bool log_bin, log_slave_updates;
    char notes[1024];
} RstPitrTargetInfo;

/* Connect and check the target before anything is touched: reachable,
 * MariaDB (GTID replication), >= 10.11 when target_db renames, no other
 * replication connection running (gtid_slave_pos is global), the target
 * databases empty or absent unless drop_existing. ERR_NET/ERR_AUTH/ERR_DB/
 * ERR_UNSUPPORTED/ERR_EXISTS naming what to do. archive_server_id is the
 * server_id of the archived events (notes say how it is handled). */
int rst_pitr_target_check(const MdbConn *conn, const json_t *item, const char *target_db,
                          bool drop_existing, bool replay, uint32_t archive_server_id,
                          RstPitrTargetInfo *out, Err *err);

/* ---- commit durability during the replay (pitr_durability.c) ----------------- */

/* A replayed commit on a durable target fsyncs the redo log (and the binlog
 * with sync_binlog=1): 21 s instead of 4.8 s for 100,000 small transactions
 * (bench/replay.sh). While a restore runs the target's data is worthless
 * until the end, so per-commit durability buys nothing, unless the server
 * also holds live databases. See docs/OPERATIONS.md "Durability during the
 * replay". */
typedef enum RstPitrDurMode {
    RST_PITR_DUR_DEFAULT = 0,   /* relaxed when the target holds no other database, else keep */
    RST_PITR_DUR_RELAXED,       /* --durability relaxed */
    RST_PITR_DUR_KEEP,          /* --durability keep */
} RstPitrDurMode;

typedef struct PitrDurGuard PitrDurGuard;

typedef struct RstPitrDurability {
    RstPitrDurMode requested;
    bool relax;                 /* the decision: relax for the replay */
    char reason[1400];          /* what the plan says after "durability: " */
    char fallback[1100];         /* why the default fell back to keep ("" = it did not) */
    int flush_orig, sync_orig;  /* the target's values before any restore (-1 unknown) */
    bool set_flush, set_sync;   /* which ones relax changes (to 2 and 0) */
    bool log_bin;
    char other_dbs[512];        /* user databases the restore does not write, comma list */
    char user[200];             /* CURRENT_USER() of the target connection */
    char identity[600];         /* hostname:port:datadir of the target server */
    char state_file[600];       /* where the originals are recorded ("" = no state dir) */
    bool leftover;              /* an interrupted restore left this target relaxed */
    char leftover_note[400];
    int left_flush_orig, left_flush_set, left_sync_orig, left_sync_set;   /* -1 = not changed */
    /* run state */
    bool relaxed;               /* the settings are relaxed now */
    bool restored;              /* relaxed during this run and put back */
    char restore_error[600];    /* putting them back failed: why ("" = it did not) */
    int signal;                 /* SIGINT/SIGTERM the guard took (0 = none), set when it stops */
    const MdbConn *conn;      /* borrowed, set by relax */
    PitrDurGuard *guard;
} RstPitrDurability;

/* Plan phase: read the target's settings, its databases (SHOW DATABASES
 * minus the system schemas and the restore's own target databases) and an
 * interrupted restore's state file, check the privileges relaxing needs
 * (SUPER, or BINLOG ADMIN when only sync_binlog changes, and RELOAD) with
 * no-op probes (SET GLOBAL v = @@global.v, FLUSH NO_WRITE_TO_BINLOG ENGINE
 * LOGS: nothing changes) and decide. With the default, a missing privilege
 * or state dir falls back to keep (out->fallback says why); with
 * RST_PITR_DUR_RELAXED it is refused: ERR_PERM naming the GRANT, ERR_INVALID
 * without a usable state dir. */
int rst_pitr_durability_check(const MdbConn *conn, const json_t *item, const char *target_db,
                              bool replay, RstPitrDurMode requested, const char *state_dir,
                              RstPitrDurability *out, Err *err);
/* Before anything is written: when the check found an interrupted
 * restore's file, put back every setting that still holds the value
 * tidemark set, flush, remove the file. msg gets the line to warn with. */
int rst_pitr_durability_recover(const MdbConn *conn, RstPitrDurability *d, char *msg, size_t cap,
                                Err *err);
/* Record the originals in d->state_file (0600, fsynced), then SET GLOBAL
 * innodb_flush_log_at_trx_commit = 2 / sync_binlog = 0 (the stricter ones),
 * and take SIGINT/SIGTERM on a guard thread until rst_pitr_durability_restore.
 * conn is borrowed until then. On failure nothing is left changed. */
int rst_pitr_durability_relax(const MdbConn *conn, RstPitrDurability *d, Err *err);
/* Take SIGINT/SIGTERM on a guard thread from now until
 * rst_pitr_durability_restore, relaxed or not (relax starts it when this
 * was not called): the first signal sets the flag rst_pitr_signal() reads
 * and, with replica (the SQL-thread path), stops the replay connection; a
 * second puts relaxed settings back and exits 130. conn is borrowed until
 * then. Idempotent (a second call only adds replica). docs/OPERATIONS.md
 * "Interrupting a restore". */
int rst_pitr_durability_guard(const MdbConn *conn, RstPitrDurability *d, bool replica, Err *err);
/* The first SIGINT/SIGTERM the current (or last) guard took, 0 = none: the
 * net fold and apply poll it between events and batches. */
int rst_pitr_signal(void);
/* Put the originals back, flush the redo log and binlog durably, remove
 * the file, stop the guard (d->signal: what it took). Nothing to put back
 * when nothing is relaxed. On failure the file stays (the next restore puts
 * them back) and err names the SQL to run. */
int rst_pitr_durability_restore(RstPitrDurability *d, Err *err);
/* {"mode","requested","reason","fallback","innodb_flush_log_at_trx_commit",
 *  "sync_binlog","other_databases","state_file","restored"}: new reference. */
json_t *rst_pitr_durability_json(const RstPitrDurability *d);

/* ---- running ----------------------------------------------------------------- */

/* How the archived range reaches the target (docs/OPERATIONS.md "The two
 * apply paths"). */
typedef enum RstPitrApply {
    RST_PITR_APPLY_AUTO = 0,       /* net when eligible (decided after the load), else transactions */
    RST_PITR_APPLY_NET,            /* net or refuse (before writing anything beyond the load) */
    RST_PITR_APPLY_TRANSACTIONS,   /* transaction by transaction through the SQL thread */
} RstPitrApply;

typedef struct RstPitrRunOptions {
    const char *target_db;
    bool drop_existing;
    unsigned threads;
    bool progress;
    const char *listen_host, *advertise_host;   /* NULL = 127.0.0.1 */
    unsigned timeout_s;
    RstPitrDurability *durability;   /* relaxed around the replay when ->relax; NULL = keep */
    RstPitrApply apply;              /* default AUTO */
    const char *tmpdir;              /* the net fold's image file; NULL = $TMPDIR or /tmp */
} RstPitrRunOptions;

typedef struct RstPitrResult {
    uint64_t tables, rows, load_bytes;
    double load_s, verify_s;          /* snapshot load (incl. its hash check) */
    uint64_t transactions, replay_bytes;
    double replay_s;
    char reached_gtid[RST_PITR_GTID_MAX];
    bool load_verified;               /* every table's hash equals the snapshot's */
    bool reached;                     /* gtid_slave_pos equals the target */
    bool later_verified;              /* hashes equal later_snapshot's (when it exists) */
    double later_verify_s;
    uint64_t later_tables;
    uint64_t later_mismatches;
    /* the apply path (replay only) */
    RstPitrApply applied;             /* NET or TRANSACTIONS: the path that ran (AUTO: none ran) */
    char apply_reason[1200];          /* why the net path was not used ("" = it was, or not asked) */
    uint64_t net_rows_written, net_rows_deleted;   /* fold tables: end images written, start deleted */
    uint64_t net_tables;              /* tables written to */
    uint64_t net_ordered_rows, net_ordered_tables; /* tables without a usable key: rows kept in order */
    double fold_s, apply_s;           /* read + fold of the archive (its own duration), the bulk apply */
    double fold_overlapped_s;         /* the part of fold_s that ran during the load's verification
                                       * (net path: replay_s = from the end of the verification to
                                       * the end of the apply, what the fold left + the apply) */
    uint64_t net_rows_updated;        /* fold tables: keys applied as one update (start -> end image) */
    uint64_t net_split_tables;        /* tables written in two shards at once */
    uint64_t net_rows_applied, net_rows_total;   /* rows committed of the net change's (less when stopped) */
    bool refused;                     /* the run refused what was asked (--apply net) before replaying
                                       * anything: no verification verdict, only the refusal */
} RstPitrResult;

/* Load plan->item into conn (sql_log_bin=0), verify it, replay to
 * plan->target_gtid, check the position reached, and when the target is a
 * later snapshot's coordinates compare every table with that snapshot's
 * hashes. The replay is the net change per primary key in bulk (BINLOG
 * statements, sql_log_bin=0) when opt->apply allows and the range and the
 * target allow it, else transaction by transaction; res->applied and
 * res->apply_reason say which and why. With RST_PITR_APPLY_NET an
 * ineligible range or target is refused (ERR_INVALID, res->refused; a missing
 * GRANT before the load, anything else after it, before anything else is written). On error res says how
 * far it got. */
int rst_pitr_run(Repo *r, const BinlogCatalog *c, const RstPitrPlan *plan, const MdbConn *conn,
                 const RstPitrRunOptions *opt, RstPitrResult *res, Err *err);

/* ---- the whole restore (pitr_protocol.c) ---------------------------------- */

/* What a point-in-time restore of one instance is asked to do: the CLI's
 * `restore db --to/--to-gtid/--before-gtid/--snapshot`, a drill, the daemon. */
typedef struct RstPitrRestoreRequest {
    RstPitrRequest target;           /* instance, target kind and value, snapshot, spool_dir,
                                        accept_archive_end (borrowed strings) */
    RstPitrRunOptions run;           /* threads 0 = 2; run.durability is set by the restore */
    RstPitrDurMode durability;       /* --durability */
    const char *state_dir;           /* rates and the durability state file; NULL = none */
    const MdbConn *conn;           /* the target server (borrowed) */
    bool plan_only;                  /* plan and checks only: nothing is written */
} RstPitrRestoreRequest;

/* Everything a restore decided and did, for printing or a JSON report. */
typedef struct RstPitrRestoreReport {
    bool have_plan;                  /* plan is set (and owned: rst_pitr_restore_report_free) */
    RstPitrPlan plan;
    RstPitrTargetInfo target;        /* set once the target was checked */
    RstPitrDurability durability;    /* set once the durability was decided */
    bool ran;                        /* rst_pitr_run was called: result and verdict say how it went */
    RstPitrResult result;
    const char *verdict;             /* "verified", "verified up to the archive's end (loss accepted)",
                                        "failed", "refused" (static; NULL unless ran) */
    char not_put_back[700];          /* "durability settings NOT put back: ..." when the failure's
                                        message does not say it already ("" = none) */
    char incomplete[700];            /* after a failure past the start of the load: what the target
                                        holds now and how to start again ("" = none) */
} RstPitrRestoreReport;

/* Optional callbacks, each called at most once, in this order, with the
 * report so far (borrowed during the call); any may be NULL. */
typedef struct RstPitrRestoreHooks {
    void *ctx;
    void (*plan_ready)(void *ctx, const RstPitrRestoreReport *rep);       /* before the target is read */
    void (*target_checked)(void *ctx, const RstPitrRestoreReport *rep);   /* target info set */
    void (*durability_decided)(void *ctx, const RstPitrRestoreReport *rep);   /* before anything is written */
    void (*run_starting)(void *ctx, const RstPitrRestoreReport *rep);     /* after a leftover's recovery */
} RstPitrRestoreHooks;

/* The restore protocol: take r's shared lock, load the instance's catalog,
 * plan (with the rates of state_dir), check the target and the range (the
 * range only for plan_only: the run checks it itself), decide the
 * durability; with plan_only stop there (0). Else put back what an
 * interrupted restore left relaxed (a warning says so), run, fold the
 * measured rates into state_dir, set the verdict. A refusal before the run
 * is wrapped "refused (nothing was touched)". On failure out says how far it
 * got (ran, result, not_put_back, incomplete); err the reason. out is
 * always initialised: free it with rst_pitr_restore_report_free. */
int rst_pitr_restore(Repo *r, const RstPitrRestoreRequest *req, const RstPitrRestoreHooks *hooks,
                     RstPitrRestoreReport *out, Err *err);
void rst_pitr_restore_report_free(RstPitrRestoreReport *rep);   /* accepts a zeroed report */

/* The report as the CLI's --json prints it (new reference): the plan only
 * with plan_only ({"plan_only":true,...} on the plan's JSON), else the run's
 * verdict, counts, durability, apply path and comparison. */
json_t *rst_pitr_report_json(const RstPitrRestoreRequest *req, const RstPitrRestoreReport *rep);

/* "auto", "net", "transactions". */
const char *rst_pitr_apply_name(RstPitrApply a);
/* What the apply option means, as the plan says it ("apply: ..."). */
const char *rst_pitr_apply_plan_text(RstPitrApply a);

/* ---- binlog search -------------------------------------------------------- */

enum { RST_SEARCH_INSERT = 1, RST_SEARCH_UPDATE = 2, RST_SEARCH_DELETE = 4, RST_SEARCH_DDL = 8 };

typedef struct RstSearchQuery {
    const char *table;       /* "t" or "db.t"; NULL = any */
    unsigned types;          /* RST_SEARCH_* mask; 0 = any */
    int64_t since, until;    /* 0 = open */
    const char *grep;        /* substring of the statement/annotate text (case-insensitive) */
    size_t limit;            /* 0 = no limit */
} RstSearchQuery;

/* One matching transaction (JSON: gtid, time, time_utc, file, pos, end_pos,
 * types, tables [{name, insert, update, delete}], statements). Borrowed
 * during the call; return non-zero to stop. */
typedef int (*RstSearchFn)(void *ctx, const json_t *tx, Err *err);
/* Takes r's shared lock and reads the instance's catalog: ERR_NOTFOUND when
 * the instance has no archived binlog. out_scanned (may be NULL): the
 * transactions read. */
int rst_pitr_search(Repo *r, const char *instance, const RstSearchQuery *q, RstSearchFn fn, void *ctx,
                    uint64_t *out_scanned, Err *err);

/* ---- verify-chain ------------------------------------------------------------ */

typedef struct RstChainPair {
    char from_hex[ID_HEX_LEN + 1], to_hex[ID_HEX_LEN + 1];
    char from_time[40], to_time[40];
    int rc;                  /* 0 verified, else the ERR_* of the failure */
    char verdict[4096];      /* "verified: 12 tables equal" / the reason */
    uint64_t transactions;
    double seconds;
} RstChainPair;

typedef void (*RstChainFn)(void *ctx, const RstChainPair *pair);
/* For each consecutive pair of the instance's snapshots (from `from` on,
 * or all): load N into a throw-away database on conn, replay to N+1's
 * coordinates, compare with N+1's hashes, drop the database. fn gets each
 * verdict. Takes r's shared lock and reads the instance's catalog; opt's
 * threads 0 = 2. *out_pairs: the pairs tried, set once the catalog was read
 * (left as it was when the lock or the catalog failed: the caller can tell
 * a chain that failed from one that never started). Returns ERR_VERIFY when
 * any pair failed, 0 when all passed. */
int rst_pitr_verify_chain(Repo *r, const char *instance, const char *from, const MdbConn *conn,
                          const RstPitrRunOptions *opt, RstChainFn fn, void *ctx, size_t *out_pairs, Err *err);

#endif
