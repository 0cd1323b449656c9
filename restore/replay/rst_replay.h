/* rst_replay.h: point-in-time replay through the target server's own
 * replication SQL thread. tidemark plays a MariaDB replication *source*
 * (rst_srcserver_*): a loopback listener speaking just enough of the client
 * protocol for a MariaDB 10.x replica to connect and COM_BINLOG_DUMP, fed
 * from an event callback (the archive, or plain binlog files). rst_replay_run
 * points the target at that listener with a named connection, runs it
 * UNTIL the target GTID, watches it, and removes the connection again.
 * See docs/OPERATIONS.md "Point-in-time replay". */
#ifndef TM_RESTORE_RST_REPLAY_H
#define TM_RESTORE_RST_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/common/err.h"
#include "engine/mariadb/mdb.h"

/* Event source: return the next binlog event exactly as it appears in a
 * binlog file (19-byte v4 header, body, and the 4-byte CRC32 when the file's
 * Format_description says so). A new file starts with its
 * Format_description event; a Rotate event ends a file. At the end of the
 * stream return 0 with *ev = NULL and *len = 0. *ev stays valid until the
 * next call. Return an ERR_* code and fill err on failure. */
typedef int (*RstEventNext)(void *ctx, const uint8_t **ev, size_t *len, Err *err);

/* ---- the replication source server ------------------------------------ */

typedef struct RstSrcServer RstSrcServer;

typedef struct RstSrcConfig {
    const char *listen_host;   /* numeric address to bind; NULL = "127.0.0.1" */
    uint16_t listen_port;      /* 0 = any free port (see rst_srcserver_port) */
    const char *user;          /* user the replica must present; NULL = "tidemark_replay" */
    const char *password;      /* required; the replica authenticates with
                                  mysql_native_password. Copied. */
    uint32_t server_id;        /* answered to SHOW VARIABLES LIKE 'SERVER_ID' and put in
                                  artificial events; must differ from the replica's */
    uint32_t rewrite_from_id;  /* if nonzero: events carrying this server_id are sent */
    uint32_t rewrite_to_id;    /* with rewrite_to_id instead (a replica skips its own id) */
    const char *first_log_name;/* name announced for the first file; NULL = "tidemark-bin.000001" */
    bool verify_checksums;     /* check the CRC32 of every event that carries one */
} RstSrcConfig;

typedef struct RstSrcStats {
    uint64_t events_sent;
    uint64_t bytes_sent;
    uint64_t groups_sent;      /* GTID event groups sent (transactions + DDL) */
    uint64_t groups_skipped;   /* groups at or before the replica's connect state */
    uint64_t connections;      /* replica connections accepted (auth ok) */
    bool until_reached;        /* the until GTID group was sent and flagged */
    bool source_done;          /* the event source returned its end */
    char last_gtid[64];        /* last GTID group fully sent, "d-s-n" */
} RstSrcStats;

/* Bind the listener (no thread yet). Takes nothing; cfg strings are copied.
 * On failure nothing is left open. */
int rst_srcserver_open(const RstSrcConfig *cfg, RstEventNext next, void *next_ctx,
                       RstSrcServer **out, Err *err);
/* The bound TCP port. */
uint16_t rst_srcserver_port(const RstSrcServer *s);
/* Serve replica connections on a background thread until rst_srcserver_close.
 * A replica that reconnects continues where the stream is, provided its
 * connect state is the last group fully sent (the stream cannot rewind). */
int rst_srcserver_start(RstSrcServer *s, Err *err);
/* Snapshot of the counters (thread-safe). */
void rst_srcserver_stats(RstSrcServer *s, RstSrcStats *out);
/* The first fatal error the serving thread met (code 0 if none), copied. */
int rst_srcserver_error(RstSrcServer *s, Err *out);
/* Stop the thread, close every socket, free. Accepts NULL. */
void rst_srcserver_close(RstSrcServer *s);

/* ---- plain binlog files as an event source ---------------------------- */

typedef struct RstBinlogFiles RstBinlogFiles;

/* Read the given binlog files in order (checks the magic, streams events
 * with bounded memory: one event buffer, at most max_event bytes). */
int rst_binlog_files_open(const char *const *paths, size_t npaths, RstBinlogFiles **out,
                          Err *err);
/* RstEventNext over the files; ctx is the RstBinlogFiles. */
int rst_binlog_files_next(void *ctx, const uint8_t **ev, size_t *len, Err *err);
void rst_binlog_files_close(RstBinlogFiles *f);

/* ---- driving the target server ---------------------------------------- */

typedef struct RstReplayTarget {
    MdbConn db;                /* the target server (socket/TCP, option file, TLS) */
    const char *connection_name; /* replication connection; NULL = "tidemark_replay" */
    const char *start_gtid;    /* gtid_slave_pos to set before starting (the snapshot's
                                  coordinates), e.g. "0-1-1234"; NULL = keep */
    const char *rewrite_db_from; /* --target-db: replay events of this database */
    const char *rewrite_db_to;   /* into this one (replicate_rewrite_db), both or neither */
    const char *do_db;         /* replicate only the tables of these databases (comma list,
                                  names after the rewrite; replicate_wild_do_table 'db.%', which
                                  judges a statement by the tables it names, DDL included, not
                                  by its default database); NULL = every database */
    const char *first_log_name;/* binlog file name announced for the first file (the archive
                                  segment's original name); NULL = "tidemark-bin.000001" */
    const char *listen_host;   /* where tidemark listens; NULL = 127.0.0.1 */
    const char *advertise_host;/* what the target connects to; NULL = listen host */
    unsigned timeout_s;        /* give up when no progress for this long; 0 = 600 */
    bool progress;             /* progress lines on stderr */
} RstReplayTarget;

typedef struct RstReplayStats {
    uint64_t transactions;     /* GTID groups applied by the target */
    uint64_t bytes;            /* event bytes streamed */
    double seconds;            /* START SLAVE .. until reached */
    char reached_gtid[256];    /* gtid_slave_pos of the target at the end */
} RstReplayStats;

/* Replay events from `next` on the target until until_gtid ("d-s-n", one
 * domain or a comma list) is applied, then remove the replication
 * connection (STOP SLAVE, RESET SLAVE ALL). Fails with ERR_DB naming the
 * target's Last_SQL_Error / Last_IO_Error when the replica's SQL thread stops on
 * an error or its IO thread stops on one (e.g. 1153, an event larger than the
 * target's slave_max_allowed_packet),
 * ERR_NET when the target cannot connect back (the message names the
 * fallback: `tidemark binlog export` + mariadb-binlog), ERR_VERIFY when the
 * position reached is not until_gtid. In every case the named connection is
 * removed before returning. */
int rst_replay_run(const RstReplayTarget *t, RstEventNext next, void *next_ctx,
                   const char *until_gtid, RstReplayStats *out_stats, Err *err);

#endif
